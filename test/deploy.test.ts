/**
 * The deployment files agree with the code: the Dockerfile, docker-compose.yml, deploy/.env.example
 * and every manifest under deploy/k8s, parsed (there is no Docker daemon or cluster here) and checked
 * against what the gateway really reads and serves: its port, every variable the shipped config/
 * needs, the OW_ROLE values, the probe paths (asked of a real gateway of each role), the command,
 * and that every alert rule reads only metrics that a pod Prometheus scrapes exports (asked of the
 * built gateway run in each Deployment's role).
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import YAML from 'yaml';
import { ConfigError, loadConfig } from '../src/config/loader';
import { GATEWAY_ROLES, startGateway, type GatewayRole } from '../src/gateway';
import { parseRedisUrl } from '../src/platform/redis';
import { configItems, configMapYaml, CONFIG_MAP } from '../scripts/k8s-config';
import { INTAKE_TOKEN, OPS_TOKEN, redisUrl, restSystem, uniquePrefix, writeConfig } from './support/harness';
import { spawnGateway, stopGateway, untilReady, type GatewayProcess } from './support/gateway-process';
import { startTestPostgres, type TestPostgres } from './ledger/postgres';

const ROOT = path.resolve(__dirname, '..');
const read = (file: string): string => fs.readFileSync(path.join(ROOT, file), 'utf8');
/** What main.ts refuses to start without, besides what config/ references. */
const GATEWAY_REQUIRED = ['OW_INTAKE_TOKEN', 'OW_OPS_TOKEN'];
/** What a deployment of several processes must set (one Redis, one ledger for all). */
const SHARED = ['REDIS_URL', 'DATABASE_URL'];
/** docker compose's own variables in deploy/.env.example (the ledger's password, the published port). */
const COMPOSE_ONLY = ['POSTGRES_PASSWORD', 'OW_PUBLISH'];

/** The variables the shipped config/ references, as the loader reports them when unset. */
function configVariables(): string[] {
  try {
    loadConfig(path.join(ROOT, 'config'), {});
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    return [...new Set(err.issues.map((i) => /environment variable (\w+) is not set/.exec(i.message)?.[1]).filter((v): v is string => Boolean(v)))].sort();
  }
  throw new Error('config/ loaded without any variable: this test would check nothing');
}

/** KEY=value lines of an env file (comments and blank lines skipped). */
function envFile(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const m = /^([A-Z][A-Z0-9_]*)=(.*)$/.exec(line.trim());
    if (m) out[m[1]!] = m[2]!;
  }
  return out;
}

// --- Dockerfile ----------------------------------------------------------------------------------

interface Instruction {
  op: string;
  args: string;
}

function dockerfile(): Instruction[][] {
  const lines = read('Dockerfile')
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'));
  const stages: Instruction[][] = [];
  for (const line of lines) {
    const [op, ...rest] = line.split(/\s+/);
    const instruction = { op: op!.toUpperCase(), args: rest.join(' ') };
    if (instruction.op === 'FROM') stages.push([]);
    stages[stages.length - 1]!.push(instruction);
  }
  return stages;
}

describe('Dockerfile', () => {
  const stages = dockerfile();
  const final = stages[stages.length - 1]!;
  const get = (op: string) => final.filter((i) => i.op === op);
  const env = Object.fromEntries(get('ENV').flatMap((i) => [...i.args.matchAll(/(\w+)=(\S+)/g)].map((m) => [m[1]!, m[2]!])));

  it('builds and runs on a supported Node LTS, while package.json still admits the Node this machine runs', () => {
    for (const stage of stages) {
      const major = Number(/^node:(\d+)-/.exec(stage[0]!.args)?.[1]);
      // Even majors are the LTS lines; 20 reached end of life in April 2026.
      expect({ image: stage[0]!.args, lts: major % 2 === 0 && major >= 22 }).toEqual({ image: stage[0]!.args, lts: true });
    }
    const engines = (JSON.parse(read('package.json')) as { engines: { node: string } }).engines.node;
    expect(Number(/>=\s*(\d+)/.exec(engines)?.[1])).toBeLessThanOrEqual(Number(process.versions.node.split('.')[0]));
  });

  it('runs node dist/src/main.js itself behind tini, as a non-root user', () => {
    expect(JSON.parse(get('ENTRYPOINT')[0]!.args)).toEqual(['/usr/bin/tini', '--']);
    expect(get('RUN').some((i) => /apt-get install .*\btini\b/.test(i.args))).toBe(true);
    const cmd = JSON.parse(get('CMD').pop()!.args) as string[];
    expect(cmd).toEqual(['node', '--max-semi-space-size=32', '--heap-growing-percent=75', 'dist/src/main.js']);
    // What tsc makes of src/main.ts (outDir dist, rootDir .), and what `npm start` runs.
    expect(fs.existsSync(path.join(ROOT, 'src/main.ts'))).toBe(true);
    expect((JSON.parse(read('package.json')) as { scripts: { start: string } }).scripts.start).toBe(cmd.join(' '));
    expect(get('USER').pop()!.args).toBe('node');
  });

  it("listens where the code and the config say, and checks /readyz", () => {
    const defaultPort = loadConfig(path.join(ROOT, 'config'), Object.fromEntries(configVariables().map((v) => [v, 'x']))).gateway.server.port;
    expect(env.PORT).toBe(String(defaultPort));
    expect(get('EXPOSE')[0]!.args).toBe(env.PORT);
    expect(get('HEALTHCHECK')[0]!.args).toContain("/readyz'");
    expect(env.OW_CONFIG_DIR).toBe('/app/config');
    expect(env.OW_DATA_DIR).toBe('/app/data');
  });
});

// --- docker-compose.yml and deploy/.env.example ---------------------------------------------------

interface ComposeService {
  image?: string;
  build?: string;
  command?: string[];
  environment?: Record<string, string>;
  env_file?: string[];
  volumes?: string[];
  ports?: string[];
  deploy?: { replicas?: number };
  depends_on?: Record<string, { condition: string }>;
}

describe('docker-compose.yml', () => {
  const compose = YAML.parse(read('docker-compose.yml'), { merge: true }) as { services: Record<string, ComposeService>; volumes: Record<string, unknown> };
  const gateways = Object.entries(compose.services).filter(([, s]) => s.environment?.OW_ROLE !== undefined);
  const example = envFile(read('deploy/.env.example'));

  it('runs one api and two workers of the image, roles the gateway knows', () => {
    expect(gateways.map(([, s]) => s.environment!.OW_ROLE).every((r) => (GATEWAY_ROLES as readonly string[]).includes(r))).toBe(true);
    const count = (role: GatewayRole) => gateways.filter(([, s]) => s.environment!.OW_ROLE === role).reduce((n, [, s]) => n + (s.deploy?.replicas ?? 1), 0);
    expect({ api: count('api'), worker: count('worker') }).toEqual({ api: 1, worker: 2 });
    for (const [, s] of gateways) expect(s.build).toBe('.');
  });

  it('gives every gateway process every variable it and the shipped config/ need', () => {
    const needed = [...configVariables(), ...GATEWAY_REQUIRED, ...SHARED];
    for (const [name, s] of gateways) {
      // The list form every Compose v2 reads ({path, required} needs 2.24): the template, then yours.
      expect(s.env_file).toEqual(['deploy/.env.example', 'deploy/.env']);
      const provided = { ...example, ...s.environment };
      expect({ name, missing: needed.filter((v) => !provided[v]) }).toEqual({ name, missing: [] });
    }
    // The placeholders make a configuration that loads: nothing missing, nothing invalid (start-up then refuses them).
    expect(() => loadConfig(path.join(ROOT, 'config'), example)).not.toThrow();
    // deploy/.env (the operator's values) comes after and wins, and is never committed.
    expect(fs.readFileSync(path.join(ROOT, '.gitignore'), 'utf8')).toMatch(/^\.env$/m);
  });

  it('shares one Redis (append-only) and one PostgreSQL ledger, mounts the config and a data volume', () => {
    const redis = compose.services.redis!;
    expect(redis.command!.join(' ')).toContain('--appendonly yes');
    expect(redis.command!.join(' ')).toContain('--maxmemory-policy noeviction');
    const postgres = compose.services.postgres!;
    expect(postgres.image).toMatch(/^postgres:/);
    for (const [, s] of gateways) {
      expect(new URL(s.environment!.REDIS_URL!).hostname).toBe('redis');
      const db = new URL(s.environment!.DATABASE_URL!.replace(/\$\{POSTGRES_PASSWORD[^}]*\}/, 'pw'));
      expect({ host: db.hostname, user: db.username, db: db.pathname.slice(1) }).toEqual({ host: 'postgres', user: postgres.environment!.POSTGRES_USER, db: postgres.environment!.POSTGRES_DB });
      expect(s.environment!.DATABASE_URL).toContain(`:${postgres.environment!.POSTGRES_PASSWORD}@`);
      expect(s.volumes).toContain('./config:/app/config:ro');
      expect(s.volumes!.some((v) => v.endsWith(':/app/data') && compose.volumes[v.split(':')[0]!] !== undefined)).toBe(true);
      expect(s.depends_on?.redis?.condition).toBe('service_healthy');
    }
  });

  // What compose substitutes itself, from the shell or --env-file deploy/.env: never from env_file.
  const substituted = [...read('docker-compose.yml').replace(/^\s*#.*$/gm, '').matchAll(/\$\{(\w+)(:?[-?])?([^}]*)\}/g)].map((m) => ({ name: m[1]!, op: m[2] ?? '', rest: m[3]! }));

  it('documents in deploy/.env.example every ${VAR} compose substitutes, and requires the password instead of defaulting it', () => {
    expect(substituted.map((v) => v.name)).toEqual(expect.arrayContaining(['POSTGRES_PASSWORD', 'OW_PUBLISH']));
    const documented = new Set([...read('deploy/.env.example').matchAll(/^#?\s*([A-Z][A-Z0-9_]*)=/gm)].map((m) => m[1]!));
    expect(substituted.map((v) => v.name).filter((v) => !documented.has(v))).toEqual([]);
    for (const v of substituted.filter((x) => x.name === 'POSTGRES_PASSWORD')) expect({ op: v.op, says: v.rest }).toEqual({ op: ':?', says: expect.stringContaining('--env-file deploy/.env') });
    // Empty in the template: a copied template still stops compose until a password is set.
    expect(example.POSTGRES_PASSWORD).toBe('');
    expect(read('docs/operations.md')).toContain('docker compose --env-file deploy/.env up --build');
  });

  it('tags the image it builds as deploy/k8s runs it: onewindow-gateway:<package.json version>', () => {
    const version = (JSON.parse(read('package.json')) as { version: string }).version;
    const k8sImages = fs
      .readdirSync(path.join(ROOT, 'deploy/k8s'))
      .filter((f) => f.endsWith('.yaml'))
      .flatMap((f) => [...read(`deploy/k8s/${f}`).matchAll(/^\s*image:\s*(\S+)/gm)].map((m) => m[1]!));
    expect(k8sImages.length).toBeGreaterThan(0);
    for (const image of [...gateways.map(([, s]) => s.image), ...k8sImages]) expect(image).toBe(`onewindow-gateway:${version}`);
    expect(read('docs/operations.md')).toContain(`docker build -t onewindow-gateway:${version} .`);
  });

  it('publishes the api on the port the image listens on, and no worker', () => {
    for (const [, s] of gateways) {
      if (s.environment!.OW_ROLE === 'api') expect(s.ports!.map((p) => p.split(':').pop())).toEqual(['8080']);
      else expect(s.ports).toBeUndefined();
    }
  });
});

// --- deploy/k8s -----------------------------------------------------------------------------------

interface Probe {
  httpGet: { path: string; port: string | number };
}
interface Container {
  env?: Array<{ name: string; value?: string }>;
  envFrom?: Array<{ secretRef?: { name: string } }>;
  ports?: Array<{ name?: string; containerPort: number }>;
  livenessProbe?: Probe;
  readinessProbe?: Probe;
  startupProbe?: Probe;
  volumeMounts?: Array<{ name: string; mountPath: string }>;
}
interface Manifest {
  kind: string;
  metadata: { name: string };
  spec?: Record<string, unknown>;
  data?: Record<string, string>;
  stringData?: Record<string, string>;
  resources?: string[];
}
interface PodTemplate {
  metadata: { labels: Record<string, string>; annotations?: Record<string, string> };
  spec: { containers: Container[]; volumes: Array<{ name: string; projected?: { sources: Array<{ configMap: { name: string; items: Array<{ key: string; path: string }> } }> }; secret?: { secretName: string } }> };
}

describe('deploy/k8s', () => {
  const dir = path.join(ROOT, 'deploy/k8s');
  const files = fs.readdirSync(dir).filter((f) => f.endsWith('.yaml'));
  const manifests: Manifest[] = files.filter((f) => f !== 'kustomization.yaml').flatMap((f) => YAML.parseAllDocuments(fs.readFileSync(path.join(dir, f), 'utf8')).map((d) => d.toJS() as Manifest));
  const of = (kind: string) => manifests.filter((m) => m.kind === kind);
  const deployments = of('Deployment');
  const template = (d: Manifest) => d.spec!.template as PodTemplate;
  const roleOf = (d: Manifest) => template(d).spec.containers[0]!.env!.find((e) => e.name === 'OW_ROLE')?.value;
  const matches = (selector: Record<string, string>, labels: Record<string, string>) => Object.entries(selector).every(([k, v]) => labels[k] === v);

  it('lists every manifest in the kustomization', () => {
    const kustomization = YAML.parse(fs.readFileSync(path.join(dir, 'kustomization.yaml'), 'utf8')) as { resources: string[] };
    expect([...kustomization.resources].sort()).toEqual(files.filter((f) => f !== 'kustomization.yaml').sort());
  });

  it('has an api and a worker Deployment with roles the gateway knows', () => {
    expect(deployments.map(roleOf).sort()).toEqual(['api', 'worker']);
    expect(deployments.every((d) => (GATEWAY_ROLES as readonly string[]).includes(roleOf(d)!))).toBe(true);
  });

  it('gives each pod the port, the variables and the volumes the code expects', () => {
    const secrets = new Map(of('Secret').map((s) => [s.metadata.name, s.stringData ?? {}]));
    const example = envFile(read('deploy/.env.example'));
    for (const d of deployments) {
      const pod = template(d);
      const c = pod.spec.containers[0]!;
      const env = Object.fromEntries((c.env ?? []).map((e) => [e.name, e.value ?? '']));
      expect(c.ports).toEqual([{ name: 'http', containerPort: Number(env.PORT) }]);
      expect(env.PORT).toBe('8080');
      const fromSecrets = Object.assign({}, ...(c.envFrom ?? []).map((f) => secrets.get(f.secretRef!.name) ?? {})) as Record<string, string>;
      const provided = { ...fromSecrets, ...env };
      const needed = [...configVariables(), ...GATEWAY_REQUIRED, ...SHARED];
      expect({ deployment: d.metadata.name, missing: needed.filter((v) => !provided[v]) }).toEqual({ deployment: d.metadata.name, missing: [] });
      // The Secret holds what .env.example holds: one list for both deployments.
      expect(Object.keys(example).filter((k) => k !== 'LOG_LEVEL' && !COMPOSE_ONLY.includes(k) && !(k in fromSecrets))).toEqual([]);
      for (const m of c.volumeMounts ?? []) expect(pod.spec.volumes.map((v) => v.name)).toContain(m.name);
      expect(c.volumeMounts!.find((m) => m.name === 'config')!.mountPath).toBe(env.OW_CONFIG_DIR);
      expect(c.volumeMounts!.find((m) => m.mountPath === env.OW_SEAL_KEYS_DIR)).toBeDefined();
    }
  });

  it('mounts config/ from the ConfigMap, every file at its path, and that folder loads with the Secret', () => {
    expect(fs.readFileSync(path.join(dir, 'configmap.yaml'), 'utf8')).toBe(configMapYaml(path.join(ROOT, 'config')));
    const configMap = of('ConfigMap').find((m) => m.metadata.name === CONFIG_MAP)!;
    const expected = configItems(path.join(ROOT, 'config')).map(({ key, path: p }) => ({ key, path: p }));
    for (const d of deployments) {
      const volume = template(d).spec.volumes.find((v) => v.name === 'config')!;
      expect(volume.projected!.sources).toEqual([{ configMap: { name: CONFIG_MAP, items: expected } }]);
    }
    // What a pod sees at /app/config, rebuilt here, with the Secret's values as its environment.
    const mounted = fs.mkdtempSync(path.join(os.tmpdir(), 'ow-k8s-config-'));
    for (const { key, path: p } of expected) {
      fs.mkdirSync(path.dirname(path.join(mounted, p)), { recursive: true });
      fs.writeFileSync(path.join(mounted, p), configMap.data![key]!);
    }
    const secret = of('Secret').find((s) => s.metadata.name === 'onewindow-env')!.stringData!;
    expect(loadConfig(mounted, secret).systems.size).toBe(loadConfig(path.join(ROOT, 'config'), secret).systems.size);
  });

  it('points the Service, the disruption budgets and the autoscaler at the right pods', () => {
    const api = deployments.find((d) => roleOf(d) === 'api')!;
    const worker = deployments.find((d) => roleOf(d) === 'worker')!;
    const [service] = of('Service');
    const spec = service!.spec as { selector: Record<string, string>; ports: Array<{ targetPort: string }> };
    // Only the api serves intake: a Service that also selected workers would answer 404 half the time.
    expect(matches(spec.selector, template(api).metadata.labels)).toBe(true);
    expect(matches(spec.selector, template(worker).metadata.labels)).toBe(false);
    expect(spec.ports.map((p) => p.targetPort)).toEqual(['http']);
    const budgets = of('PodDisruptionBudget').map((p) => (p.spec as { selector: { matchLabels: Record<string, string> } }).selector.matchLabels);
    for (const d of [api, worker]) expect(budgets.filter((b) => matches(b, template(d).metadata.labels))).toHaveLength(1);
    const [hpa] = of('HorizontalPodAutoscaler');
    expect((hpa!.spec as { scaleTargetRef: { kind: string; name: string } }).scaleTargetRef).toEqual({ apiVersion: 'apps/v1', kind: 'Deployment', name: worker.metadata.name });
  });

  describe('probes', () => {
    const probes = new Map<GatewayRole, Set<string>>();
    for (const d of deployments) {
      const c = template(d).spec.containers[0]!;
      expect(c.livenessProbe!.httpGet.path).toBe('/healthz');
      expect(c.readinessProbe!.httpGet.path).toBe('/readyz');
      const paths = [c.livenessProbe, c.readinessProbe, c.startupProbe].filter((p): p is Probe => p !== undefined);
      for (const p of paths) expect(c.ports!.map((x) => x.name)).toContain(p.httpGet.port);
      probes.set(roleOf(d) as GatewayRole, new Set(paths.map((p) => p.httpGet.path)));
    }
    // The image's HEALTHCHECK runs in every role.
    for (const role of GATEWAY_ROLES) probes.set(role, new Set([...(probes.get(role) ?? []), '/readyz']));

    it.each([...probes].map(([role, paths]) => [role, [...paths]] as const))('answers 200 on the probe paths of the %s pods, asked of a real gateway of that role', async (role, paths) => {
      const configDir = writeConfig([restSystem('city-a', 'http://127.0.0.1:1/cases')], { routes: [{ itemCode: '*', targets: ['city-a'] }] });
      const gateway = await startGateway({ config: loadConfig(configDir, {}), redisUrl: redisUrl(), role, tokens: { intake: [INTAKE_TOKEN], ops: [OPS_TOKEN] }, log: pino({ level: 'silent' }), port: 0, host: '127.0.0.1', keyPrefix: uniquePrefix(), dataDir: fs.mkdtempSync(path.join(os.tmpdir(), 'ow-probe-')) });
      try {
        for (const p of paths) expect({ p, status: (await fetch(`${gateway.url}${p}`)).status }).toEqual({ p, status: 200 });
        expect((await fetch(`${gateway.url}/nope`)).status).toBe(404);
      } finally {
        await gateway.stop();
      }
    });
  });
});

// --- alert rules on the deployed topology ---------------------------------------------------------

interface AlertRule {
  alert: string;
  expr: string;
}

/** Every alert rule under deploy/ (any YAML file holding Prometheus rule groups). */
function alertRules(): Array<AlertRule & { file: string }> {
  const files = (dir: string): string[] => fs.readdirSync(path.join(ROOT, dir), { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? files(path.join(dir, e.name)) : /\.ya?ml$/.test(e.name) ? [path.join(dir, e.name)] : []));
  return files('deploy').flatMap((file) =>
    YAML.parseAllDocuments(read(file)).flatMap((d) => {
      const doc = d.toJS() as { groups?: Array<{ rules?: Array<Partial<AlertRule>> }> } | null;
      return (doc?.groups ?? []).flatMap((g) => (g.rules ?? []).filter((r): r is AlertRule => Boolean(r.alert && r.expr)).map((r) => ({ ...r, file })));
    }),
  );
}

/** The gateway's metric names a PromQL expression reads, with where each occurs. */
function metricsIn(expr: string): Array<{ name: string; at: number }> {
  return [...expr.matchAll(/\b(ow_[a-z_]+)\b/g)].map((m) => ({ name: m[1]!, at: m.index }));
}

const AGGREGATIONS = new Set(['sum', 'max', 'min', 'avg', 'count', 'group', 'stddev', 'stdvar', 'topk', 'bottomk', 'quantile', 'count_values']);

/** The aggregation operator closest around position `at` of `expr` (`max by (x) (delta(m[5m]))`: max). */
function aggregationAround(expr: string, at: number): string | undefined {
  let depth = 0;
  for (let i = at - 1; i >= 0; i--) {
    if (expr[i] === ')') depth++;
    else if (expr[i] === '(' && depth > 0) depth--;
    else if (expr[i] === '(') {
      // An enclosing parenthesis: what precedes it is a function, an aggregation (its `by (…)` clause skipped) or nothing.
      let before = expr.slice(0, i).trimEnd();
      if (before.endsWith(')')) before = before.slice(0, before.lastIndexOf('(')).trimEnd();
      const words = /(\w+)\s+(by|without)$/.exec(before) ?? /(\w+)$/.exec(before);
      if (words && AGGREGATIONS.has(words[1]!)) return words[1];
    }
  }
  return undefined;
}

/** Metric families a /metrics answer declares (`# TYPE`), a histogram's series names included. */
async function declared(url: string): Promise<Map<string, string>> {
  const res = await fetch(`${url}/metrics`);
  expect(res.status).toBe(200);
  const out = new Map<string, string>();
  for (const [, name, type] of (await res.text()).matchAll(/^# TYPE (\S+) (\S+)$/gm)) {
    out.set(name!, type!);
    if (type === 'histogram') for (const suffix of ['_bucket', '_sum', '_count']) out.set(name! + suffix, type);
  }
  return out;
}

describe('the alert rules on the topology deploy/k8s deploys', () => {
  const deployments = fs
    .readdirSync(path.join(ROOT, 'deploy/k8s'))
    .filter((f) => f.endsWith('.yaml'))
    .flatMap((f) => YAML.parseAllDocuments(read(`deploy/k8s/${f}`)).map((d) => d.toJS() as Manifest))
    .filter((m) => m.kind === 'Deployment');
  const pods = deployments.map((d) => {
    const pod = d.spec!.template as PodTemplate;
    const c = pod.spec.containers[0]!;
    const env = Object.fromEntries((c.env ?? []).map((e) => [e.name, e.value ?? '']));
    const a = pod.metadata.annotations ?? {};
    // Prometheus's kubernetes_sd "prometheus.io/*" convention: scraped when asked to, at that port and path.
    const scraped = a['prometheus.io/scrape'] === 'true' && a['prometheus.io/port'] === env.PORT && (a['prometheus.io/path'] ?? '/metrics') === '/metrics';
    return { name: d.metadata.name, env, scraped };
  });
  const rules = alertRules();
  let pg: TestPostgres | undefined;
  const gateways: GatewayProcess[] = [];
  /** What each Deployment's pod exports, asked of the built gateway run with that pod's environment. */
  const exported = new Map<string, Map<string, string>>();

  beforeAll(async () => {
    pg = await startTestPostgres();
    const configDir = writeConfig([restSystem('city-a', 'http://127.0.0.1:1/cases')], { routes: [{ itemCode: '*', targets: ['city-a'] }] });
    const shared = { OW_CONFIG_DIR: configDir, REDIS_URL: `${redisUrl()}/12`, DATABASE_URL: await pg.database(), OW_INTAKE_TOKEN: INTAKE_TOKEN, OW_OPS_TOKEN: OPS_TOKEN };
    // One at a time: the first applies the ledger's migrations.
    for (const pod of pods) {
      const gateway = await spawnGateway(pod.name, { ...shared, OW_ROLE: pod.env.OW_ROLE! });
      gateways.push(gateway);
      await untilReady(gateway, 30_000);
      exported.set(pod.name, await declared(gateway.url));
    }
  }, 90_000);

  afterAll(async () => {
    await Promise.all(gateways.map((g) => stopGateway(g)));
    await pg?.destroy();
  });

  it('has rules to check, and pods Prometheus scrapes', () => {
    expect(rules.length).toBeGreaterThanOrEqual(8);
    expect(pods.map((p) => p.env.OW_ROLE).sort()).toEqual(['api', 'worker']);
  });

  it('can fire every rule: each metric it reads is exported by a process whose pods are scraped', () => {
    const fromScraped = new Set(pods.filter((p) => p.scraped).flatMap((p) => [...exported.get(p.name)!.keys()]));
    const unseen = rules.flatMap((r) => metricsIn(r.expr).filter((m) => !fromScraped.has(m.name)).map((m) => `${r.alert}: ${m.name}`));
    expect(unseen).toEqual([]);
  });

  it('never sums a gauge over instances: every process exporting it reads the same Redis or ledger', () => {
    const types = new Map(pods.flatMap((p) => [...exported.get(p.name)!]));
    const summed = rules.flatMap((r) =>
      metricsIn(r.expr)
        .filter((m) => types.get(m.name) === 'gauge' && !['max', 'min'].includes(aggregationAround(r.expr, m.at) ?? ''))
        .map((m) => `${r.alert}: ${m.name} under ${aggregationAround(r.expr, m.at) ?? 'no aggregation'}`),
    );
    expect(summed).toEqual([]);
    // The check reads aggregations as written.
    const around = (expr: string) => aggregationAround(expr, metricsIn(expr)[0]!.at);
    expect(around('sum by (systemId) (delta(ow_dead_letters[30m])) > 0')).toBe('sum');
    expect(around('max(ow_backlog_up) == 0')).toBe('max');
    expect(around('x and on (systemId) (max by (systemId) (ow_window_open) == 1)')).toBe('max');
    expect(around('rate(ow_dead_letters[5m]) > 0')).toBeUndefined();
  });
});

describe('npm start and npm run ow build first when dist/ is older than the sources', () => {
  const run = (cwd: string) => execFileSync(path.join(ROOT, 'scripts/ensure-build'), { cwd, stdio: 'pipe' });
  /** A package whose build counts its runs and stamps dist/.built, as the real one does. */
  function project(): string {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ow-ensure-build-'));
    fs.mkdirSync(path.join(dir, 'src'));
    fs.writeFileSync(path.join(dir, 'src/main.ts'), 'export {};\n');
    fs.writeFileSync(path.join(dir, 'src/main.test.ts'), 'export {};\n');
    const build = "node -e \"require('fs').appendFileSync('builds','x')\" && mkdir -p dist && touch dist/.built";
    fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name: 'p', version: '0.0.0', scripts: { build } }));
    return dir;
  }
  const builds = (dir: string) => (fs.existsSync(path.join(dir, 'builds')) ? fs.readFileSync(path.join(dir, 'builds'), 'utf8').length : 0);
  const age = (file: string, seconds: number) => fs.utimesSync(file, seconds, seconds);

  it('runs the build as the prestep of start and ow, and the build stamps dist/.built last', () => {
    const scripts = (JSON.parse(read('package.json')) as { scripts: Record<string, string> }).scripts;
    expect({ prestart: scripts.prestart, preow: scripts.preow }).toEqual({ prestart: 'scripts/ensure-build', preow: 'scripts/ensure-build' });
    expect(scripts.build).toMatch(/&& touch dist\/\.built$/);
  });

  it('builds when dist/ is missing, or a source is newer than the stamp, and not otherwise', () => {
    const dir = project();
    run(dir);
    expect(builds(dir)).toBe(1);
    // Times set explicitly (no wall clock): the source older than the stamp, then newer (a pull).
    age(path.join(dir, 'src/main.ts'), 1_000_000);
    age(path.join(dir, 'package.json'), 1_000_000);
    age(path.join(dir, 'dist/.built'), 2_000_000);
    run(dir);
    expect(builds(dir)).toBe(1);
    age(path.join(dir, 'src/main.test.ts'), 3_000_000); // a test is not part of dist/
    run(dir);
    expect(builds(dir)).toBe(1);
    // Nor is what the build itself writes into src/: the console's bundle and its API types.
    fs.mkdirSync(path.join(dir, 'src/admin/console/bundle'), { recursive: true });
    for (const built of ['src/admin/console/bundle/console.js', 'src/admin/console/openapi.d.ts']) {
      fs.writeFileSync(path.join(dir, built), '');
      age(path.join(dir, built), 3_000_000);
    }
    run(dir);
    expect(builds(dir)).toBe(1);
    age(path.join(dir, 'src/main.ts'), 3_000_000);
    run(dir);
    expect(builds(dir)).toBe(2);
  });
});

describe('REDIS_URL in the deployment files', () => {
  // Every REDIS_URL a deployment file sets or offers as an alternative (in a comment), as written.
  const files = ['docker-compose.yml', 'deploy/.env.example', 'deploy/k8s/secret.yaml'];
  const offered = files.flatMap((file) => [...read(file).matchAll(/\brediss?(?:-sentinel|-cluster)?:\/\/[^\s"'`)]+/g)].map((m) => ({ file, url: m[0] })));

  it('offers one Redis, Sentinel and Cluster, each in a form the gateway reads', () => {
    expect(new Set(offered.map((o) => parseRedisUrl(o.url).kind))).toEqual(new Set(['standalone', 'sentinel', 'cluster']));
    for (const o of offered) expect(() => parseRedisUrl(o.url)).not.toThrow();
  });
});
