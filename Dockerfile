# OneWindow Gateway: build with the dev toolchain, run with production dependencies only, as non-root.
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY adapters ./adapters
COPY sim ./sim
COPY scripts ./scripts
RUN npm run build && npm prune --omit=dev

FROM node:20-bookworm-slim
ENV NODE_ENV=production PORT=8080 OW_CONFIG_DIR=/app/config
WORKDIR /app
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
# The ops console's static files are served from the source folder (no build step).
COPY src/admin/console ./src/admin/console
COPY package.json ./
COPY config ./config
USER node
EXPOSE 8080
HEALTHCHECK --interval=15s --timeout=3s CMD node -e "fetch('http://127.0.0.1:'+process.env.PORT+'/readyz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"
# REDIS_URL must point at a Redis with append-only persistence (see docker-compose.yml).
CMD ["npm", "start"]
