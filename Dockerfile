# OneWindow Gateway: build with the dev toolchain, run with production dependencies only, as non-root.
# Node 24 is the current LTS (Node 20 reached end of life in April 2026); the code also runs on
# Node 20, which package.json's engines still admits and CI uses.
FROM node:24-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci
COPY tsconfig.json tsconfig.build.json tsconfig.console.json ./
COPY src ./src
COPY adapters ./adapters
COPY sim ./sim
COPY scripts ./scripts
# The console's API client is typed from the published interface at build (scripts/bundle-console.ts).
COPY docs/openapi.yaml ./docs/openapi.yaml
RUN npm run build && npm prune --omit=dev

FROM node:24-bookworm-slim
# tini is PID 1: it forwards SIGTERM to node (which then drains its deliveries) and reaps zombies;
# node started directly, never through npm, which would not pass the signal on.
RUN apt-get update && apt-get install -y --no-install-recommends tini && rm -rf /var/lib/apt/lists/*
ENV NODE_ENV=production PORT=8080 HOST=0.0.0.0 OW_CONFIG_DIR=/app/config OW_DATA_DIR=/app/data
WORKDIR /app
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
# The ops console's static files are served from the source folder, with the app's bundle that the
# build stage wrote there (src/admin/console/bundle/, scripts/bundle-console.ts).
COPY --from=build /app/src/admin/console ./src/admin/console
COPY package.json ./
# The shipped configuration as a default; deployments mount their own over /app/config
# (docker-compose.yml: ./config; Kubernetes: the ConfigMap of deploy/k8s).
COPY config ./config
# Generated seal keys (and an embedded ledger, when DATABASE_URL is unset) live here: a volume.
RUN mkdir -p /app/data && chown node:node /app/data
USER node
EXPOSE 8080
HEALTHCHECK --interval=15s --timeout=3s --start-period=30s CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||8080)+'/readyz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
ENTRYPOINT ["/usr/bin/tini", "--"]
# REDIS_URL must point at a Redis with append-only persistence (see docker-compose.yml).
# As `npm start`: a 32 MB young generation, because nearly everything a delivery allocates dies young
# and V8's default (16 MB) collects it twice as often; the old generation grows by 75 % between full
# collections instead of up to 4x, which keeps the peak under a burst near 400 MB at no CPU measured
# (BENCHMARKS.md).
CMD ["node", "--max-semi-space-size=32", "--heap-growing-percent=75", "dist/src/main.js"]
