/**
 * Reads OW_CONFIG_DIR: gateway.yaml, routes.yaml and systems/*.yaml.
 * Nothing is half-loaded: every problem in every file is collected and reported together,
 * each with its file and key path, so an operator fixes them all in one pass.
 */
import fs from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';
import type { z } from 'zod';
import { keyPath } from '../platform/errors';
import { EXPRESSION_PATHS } from './expression-paths';
import { compileExpression, ExpressionError, type ExpressionBudget } from '../platform/expressions';
import { egressRefusal, fileRefusal, invalidEgressEntries } from './egress';
import { SAMPLE_CASE } from './sample-case';
import {
  gatewaySchema,
  routesSchema,
  sharedDataSchema,
  type SharedDataFile,
  systemFileSchema,
  type GatewayFile,
  type RoutesFile,
  type SystemConfig,
  type SystemFile,
} from './schema';
import { calendarFiles, calendarYearSchema, itemsFileSchema, timeLimitConfig, type TimeLimitConfig } from '../timelimits/config';
import type { CalendarYear } from '../timelimits/calendar';

export { keyPath };

export interface ConfigIssue {
  file: string;
  path: string;
  message: string;
}

export class ConfigError extends Error {
  constructor(readonly issues: ConfigIssue[]) {
    super(`invalid configuration (${issues.length} error${issues.length === 1 ? '' : 's'}):\n` + formatIssues(issues).join('\n'));
    this.name = 'ConfigError';
  }
}

export function formatIssue(issue: ConfigIssue): string {
  return `  ${issue.file}${issue.path ? ` at ${issue.path}` : ''}: ${issue.message}`;
}

const MISSING_VARIABLE = /^environment variable ([A-Za-z_][A-Za-z0-9_]*) is not set$/;

/** One line per issue, except that a missing variable is one line however many files use it. */
export function formatIssues(issues: readonly ConfigIssue[]): string[] {
  const places = new Map<string, string[]>();
  const lines: string[] = [];
  for (const issue of issues) {
    const name = MISSING_VARIABLE.exec(issue.message)?.[1];
    if (!name) {
      lines.push(formatIssue(issue));
      continue;
    }
    if (!places.has(name)) {
      places.set(name, []);
      lines.push(name); // replaced below, keeping the order of first use
    }
    places.get(name)!.push(`${issue.file}${issue.path ? ` at ${issue.path}` : ''}`);
  }
  return lines.map((line) => {
    const where = places.get(line);
    return where ? `  environment variable ${line} is not set (used by ${where.join(', ')})` : line;
  });
}

export interface GatewayConfig {
  dir: string;
  gateway: GatewayFile;
  routes: RoutesFile;
  /** config/shared-data.yaml; empty (no kinds, no purposes) when the file is absent. */
  sharedData: SharedDataFile;
  systems: ReadonlyMap<string, SystemConfig>;
  /** Each system file as written (before `${ENV}` expansion), for showing and editing it. */
  sources: ReadonlyMap<string, Record<string, unknown>>;
  /** routes.yaml as written (before `${ENV}` expansion), for showing and editing it. */
  routesSource: Record<string, unknown>;
  /** config/items.yaml (each item's time limits) and config/calendar/<year>.yaml; both may be absent. */
  timeLimits: TimeLimitConfig;
}

type Env = Readonly<Record<string, string | undefined>>;

/** Replaces `${NAME}` in every string value; an unset variable is an issue naming file, key and variable. */
export function expandEnv(value: unknown, env: Env, file: string, issues: ConfigIssue[], at: PropertyKey[] = []): unknown {
  if (typeof value === 'string') {
    return value.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g, (_, name: string) => {
      const found = env[name];
      if (found === undefined) {
        issues.push({ file, path: keyPath(at), message: `environment variable ${name} is not set` });
        return `\${${name}}`;
      }
      return found;
    });
  }
  if (Array.isArray(value)) return value.map((v, i) => expandEnv(v, env, file, issues, [...at, i]));
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, expandEnv(v, env, file, issues, [...at, k])]));
  }
  return value;
}

function readYaml(dir: string, file: string, issues: ConfigIssue[], required: boolean): unknown {
  const full = path.join(dir, file);
  if (!fs.existsSync(full)) {
    if (required) issues.push({ file, path: '', message: 'file is missing' });
    return undefined;
  }
  const doc = YAML.parseDocument(fs.readFileSync(full, 'utf8'), { uniqueKeys: true });
  if (doc.errors.length > 0) {
    for (const e of doc.errors) issues.push({ file, path: e.linePos ? `line ${e.linePos[0].line}` : '', message: e.message.split('\n')[0] });
    return undefined;
  }
  return doc.toJS() ?? {};
}

function validate<S extends z.ZodType>(schema: S, raw: unknown, file: string, issues: ConfigIssue[]): z.infer<S> | undefined {
  const parsed = schema.safeParse(raw);
  if (parsed.success) return parsed.data;
  for (const i of parsed.error.issues) issues.push({ file, path: keyPath(i.path), message: i.message });
  return undefined;
}

/** The JSONata expressions of a system file, by key path; each must compile. */
export function systemExpressions(system: SystemFile): Array<[string, string]> {
  return rawExpressions(system as unknown as Record<string, unknown>);
}

/** What a `lookup.request` is test-run on: the shape every look-up gets. */
export const SAMPLE_LOOKUP_INPUT = { idNumber: '330802199001011234', name: '张三', purpose: '330800-FG-001', caseId: 'QZ-20261128-000001', kind: 'sample' } as const;

/** The expressions found at their places in a (possibly invalid) system file, by key path. */
function rawExpressions(raw: Record<string, unknown>): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  for (const at of EXPRESSION_PATHS) {
    const value = at.reduce<unknown>((v, k) => (v && typeof v === 'object' ? (v as Record<string, unknown>)[k] : undefined), raw);
    if (typeof value === 'string' && value !== '') out.push([at.join('.'), value]);
  }
  return out;
}

/** Compiles every expression of a system file, even one that fails its schema, so one run lists all. */
function checkExpressions(raw: unknown, file: string, budget: ExpressionBudget, issues: ConfigIssue[]): void {
  if (!raw || typeof raw !== 'object') return;
  for (const [at, source] of rawExpressions(raw as Record<string, unknown>)) {
    try {
      compileExpression(source, budget);
    } catch (e) {
      issues.push({ file, path: at, message: `invalid JSONata: ${(e as Error).message}` });
    }
  }
}

/** The budget every expression of this configuration runs within. */
export function expressionBudget(gateway: GatewayFile): ExpressionBudget {
  return { timeMs: gateway.limits.expressionTimeMs, depth: gateway.limits.expressionDepth };
}

/** What each expression is test-run on: the sample case, an empty reply, a poll context. */
function trialInput(path: string): unknown {
  if (path === 'request.body') return SAMPLE_CASE;
  if (path === 'result.poll.body') return { caseId: SAMPLE_CASE.caseId, systemId: 'sample', receiptNo: 'SL-SAMPLE-1' };
  if (path === 'lookup.request') return SAMPLE_LOOKUP_INPUT;
  return {};
}

/**
 * Runs each expression of a system once on sample input under the configured budget: one that runs
 * over budget or fails there would fail deliveries (or loop a worker), so it is refused up front.
 */
export async function trialRun(system: SystemConfig, file: string, gateway: GatewayFile): Promise<ConfigIssue[]> {
  const issues: ConfigIssue[] = [];
  const budget = expressionBudget(gateway);
  for (const [at, source] of systemExpressions(system)) {
    // A time budget is wall-clock: one over-budget run on a starved CPU (a busy node at start-up)
    // is tried once more before the expression is refused; recursion and size fail the same way twice.
    const failure = (await trial(source, budget, at)) && (await trial(source, budget, at));
    if (failure) issues.push({ file, path: at, message: `fails when test-run on a sample case: ${failure}` });
  }
  return issues;
}

/** One test run: undefined when it passed, else what went wrong. */
async function trial(source: string, budget: ExpressionBudget, at: string): Promise<string | undefined> {
  try {
    await compileExpression(source, budget).evaluate(trialInput(at));
    return undefined;
  } catch (err) {
    return err instanceof ExpressionError ? err.message : String(err);
  }
}

/**
 * Test-runs every system's expressions, one after another (run side by side, each evaluation's
 * wall-clock budget would include the others' turns); throws ConfigError listing every failure.
 */
export async function trialRunAll(config: GatewayConfig): Promise<void> {
  const issues: ConfigIssue[] = [];
  for (const system of config.systems.values()) issues.push(...(await trialRun(system, `systems/${system.id}.yaml`, config.gateway)));
  if (issues.length > 0) throw new ConfigError(issues);
}

/** A WSDL named with a scheme is a URL (checked against egress.allow); without one, a file. */
const hasScheme = (location: string): boolean => /^[a-z][a-z0-9+.-]*:/i.test(location);

/** Every URL a system makes the gateway call, by key path. */
function systemUrls(system: SystemFile): Array<[string, string]> {
  const out: Array<[string, string]> = [['endpoint', system.endpoint]];
  if (system.result?.poll) out.push(['result.poll.endpoint', system.result.poll.endpoint]);
  if (system.lookup?.endpoint) out.push(['lookup.endpoint', system.lookup.endpoint]);
  if (system.protocol === 'soap' && hasScheme(system.soap.wsdl)) out.push(['soap.wsdl', system.soap.wsdl]);
  return out;
}

/** Fills the keys a system left out from gateway.yaml's `defaults`. */
export function withDefaults(system: SystemFile, gateway: GatewayFile): SystemConfig {
  const d = gateway.defaults;
  return {
    ...system,
    timeoutMs: system.timeoutMs ?? d.timeoutMs,
    concurrency: system.concurrency ?? d.concurrency,
    rateLimit: system.rateLimit ?? d.rateLimit,
    retry: system.retry ?? d.retry,
    circuitBreaker: system.circuitBreaker ?? d.circuitBreaker,
  };
}

/**
 * Validates one system file's content; used by the loader and by the admin API's PUT. `configDir`
 * is the folder a WSDL file must lie in.
 */
export function parseSystem(raw: unknown, file: string, env: Env, gateway: GatewayFile, configDir: string, issues: ConfigIssue[]): SystemConfig | undefined {
  const expanded = expandEnv(raw, env, file, issues);
  const before = issues.length;
  checkExpressions(expanded, file, expressionBudget(gateway), issues);
  const system = validate(systemFileSchema, expanded, file, issues);
  if (!system) return undefined;
  for (const [at, url] of systemUrls(system)) {
    const refusal = egressRefusal(url, gateway.egress);
    if (refusal) issues.push({ file, path: at, message: `endpoint refused: ${refusal}` });
  }
  // Checked before anything reads it, so no answer tells whether a file elsewhere exists.
  const wsdlFile = system.protocol === 'soap' && !hasScheme(system.soap.wsdl) ? fileRefusal(system.soap.wsdl, configDir) : undefined;
  if (wsdlFile) issues.push({ file, path: 'soap.wsdl', message: wsdlFile });
  return issues.length > before ? undefined : withDefaults(system, gateway);
}

/**
 * What is wrong with a routing table: a target or `unrouted` that names no system, or a system that
 * only answers look-ups. `systemIds` are the systems that exist (a broken file's included, so it is
 * reported once, at its file); `systems` those that loaded.
 */
export function routeIssues(routes: RoutesFile, systemIds: ReadonlySet<string>, systems: ReadonlyMap<string, SystemConfig>, file = 'routes.yaml'): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  const lookupOnly = (id: string) => systems.get(id)?.request === undefined && systems.has(id);
  routes.routes.forEach((route, i) =>
    route.targets.forEach((target, j) => {
      if (!systemIds.has(target)) issues.push({ file, path: `routes[${i}].targets[${j}]`, message: `unknown system "${target}"` });
      else if (lookupOnly(target)) issues.push({ file, path: `routes[${i}].targets[${j}]`, message: `system "${target}" only answers look-ups; it receives no cases` });
    }),
  );
  if (routes.unrouted !== 'reject' && !systemIds.has(routes.unrouted)) {
    issues.push({ file, path: 'unrouted', message: `must be "reject" or a system id; unknown system "${routes.unrouted}"` });
  } else if (routes.unrouted !== 'reject' && lookupOnly(routes.unrouted)) {
    issues.push({ file, path: 'unrouted', message: `system "${routes.unrouted}" only answers look-ups; it receives no cases` });
  }
  return issues;
}

/** A routing table as written (`${ENV}` unexpanded): expanded and checked against its schema; undefined with issues when it fails. */
export function parseRoutes(raw: unknown, file: string, env: Env, issues: ConfigIssue[]): RoutesFile | undefined {
  return validate(routesSchema, expandEnv(raw, env, file, issues), file, issues);
}

export interface LoadOptions {
  /**
   * Systems that run without a file in this folder (created through the admin API): routes and
   * shared-data sources may name them. A file of the same id wins.
   */
  also?: ReadonlyMap<string, SystemConfig>;
}

export function loadConfig(dir: string, env: Env = process.env, options: LoadOptions = {}): GatewayConfig {
  const issues: ConfigIssue[] = [];
  if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory()) {
    throw new ConfigError([{ file: dir, path: '', message: 'configuration folder not found (set OW_CONFIG_DIR)' }]);
  }

  const gatewayRaw = expandEnv(readYaml(dir, 'gateway.yaml', issues, false) ?? {}, env, 'gateway.yaml', issues);
  const gateway = validate(gatewaySchema, gatewayRaw, 'gateway.yaml', issues) ?? gatewaySchema.parse({});
  // Environment variables win over the file.
  if (env.PORT !== undefined) gateway.server.port = Number(env.PORT);
  if (env.REDIS_URL) gateway.redis.url = env.REDIS_URL;
  if (env.OW_CALLBACK_URL) gateway.intake.callbackUrl = env.OW_CALLBACK_URL;
  if (env.OW_CALLBACK_SECRET) gateway.intake.callbackSecret = env.OW_CALLBACK_SECRET;
  if (!Number.isInteger(gateway.server.port) || gateway.server.port < 0 || gateway.server.port > 65535) {
    issues.push({ file: 'environment', path: 'PORT', message: 'must be a port number' });
  }
  if (gateway.egress) {
    for (const entry of invalidEgressEntries(gateway.egress)) {
      issues.push({ file: 'gateway.yaml', path: 'egress.allow', message: `"${entry}" is not an address, CIDR range or host name (optionally with :port)` });
    }
  }
  for (const [id, store] of Object.entries(gateway.materials.stores)) {
    const at = `materials.stores.${id}.baseUrl`;
    const refusal = egressRefusal(store.baseUrl, gateway.egress);
    if (refusal) issues.push({ file: 'gateway.yaml', path: at, message: `store refused: ${refusal}` });
    const base = new URL(store.baseUrl);
    if (base.username || base.password) issues.push({ file: 'gateway.yaml', path: at, message: 'no user name or password in the URL: use auth instead' });
    if (base.search || base.hash) issues.push({ file: 'gateway.yaml', path: at, message: 'a base URL without query or fragment' });
  }
  if (gateway.intake.callbackUrl && !gateway.intake.callbackSecret) {
    issues.push({ file: 'gateway.yaml', path: 'intake.callbackSecret', message: 'required when a callback URL is set (or set OW_CALLBACK_SECRET)' });
  }

  const systems = new Map<string, SystemConfig>();
  const sources = new Map<string, Record<string, unknown>>();
  // Routes are checked against the files present, so a broken system file is reported once, not again per route.
  const systemIds = new Set<string>();
  const systemsDir = path.join(dir, 'systems');
  const files = fs.existsSync(systemsDir) ? fs.readdirSync(systemsDir).filter((f) => /\.ya?ml$/.test(f)).sort() : [];
  if (files.length === 0) issues.push({ file: 'systems/', path: '', message: 'no system files' });
  for (const name of files) {
    const file = `systems/${name}`;
    systemIds.add(name.replace(/\.ya?ml$/, ''));
    const raw = readYaml(dir, file, issues, true);
    if (raw === undefined) continue;
    const system = parseSystem(raw, file, env, gateway, dir, issues);
    if (!system) continue;
    const expectedId = name.replace(/\.ya?ml$/, '');
    if (system.id !== expectedId) {
      issues.push({ file, path: 'id', message: `must equal the file name (${expectedId})` });
      continue;
    }
    systems.set(system.id, system);
    sources.set(system.id, raw as Record<string, unknown>);
  }

  const routesSource = readYaml(dir, 'routes.yaml', issues, true);
  const routes = routesSource === undefined ? undefined : parseRoutes(routesSource, 'routes.yaml', env, issues);
  // Systems without a file here (created through the API) may be named too; checked against what runs.
  const running = new Map([...(options.also ?? [])].filter(([id]) => !systemIds.has(id)));
  const knownIds = new Set([...systemIds, ...running.keys()]);
  const knownSystems = new Map([...running, ...systems]);
  if (routes) issues.push(...routeIssues(routes, knownIds, knownSystems));

  const sharedData = loadSharedData(dir, env, knownIds, knownSystems, issues);
  const timeLimits = loadTimeLimits(dir, env, issues);

  if (issues.length > 0 || !routes) throw new ConfigError(issues);
  return { dir: path.resolve(dir), gateway, routes, sharedData, systems, sources, routesSource: routesSource as Record<string, unknown>, timeLimits };
}

const ITEMS_FILE = 'items.yaml';

/**
 * config/items.yaml and config/calendar/<year>.yaml. Without items.yaml no item has a time limit;
 * a year without its calendar file is counted with weekends only (start-up warns of it).
 */
function loadTimeLimits(dir: string, env: Env, issues: ConfigIssue[]): TimeLimitConfig {
  const raw = readYaml(dir, ITEMS_FILE, issues, false);
  const items = (raw === undefined ? undefined : validate(itemsFileSchema, expandEnv(raw, env, ITEMS_FILE, issues), ITEMS_FILE, issues)) ?? { items: [] };
  const years = new Map<number, CalendarYear>();
  for (const { file, year } of calendarFiles(dir)) {
    if (year === undefined) {
      issues.push({ file, path: '', message: 'a calendar file is named after its year, e.g. calendar/2026.yaml' });
      continue;
    }
    const content = readYaml(dir, file, issues, true);
    const parsed = content === undefined ? undefined : validate(calendarYearSchema(year), content, file, issues);
    if (parsed) years.set(year, parsed);
  }
  return timeLimitConfig(items, years);
}

const SHARED_DATA_FILE = 'shared-data.yaml';

/**
 * config/shared-data.yaml, checked against the systems: every source exists and lists the kind in
 * its `lookup.kinds`, every purpose names known kinds. Absent: no shared data, every query 403s.
 */
function loadSharedData(dir: string, env: Env, systemIds: ReadonlySet<string>, systems: ReadonlyMap<string, SystemConfig>, issues: ConfigIssue[]): SharedDataFile {
  const empty: SharedDataFile = { documents: {}, purposes: [] };
  const raw = readYaml(dir, SHARED_DATA_FILE, issues, false);
  if (raw === undefined) return empty;
  const file = SHARED_DATA_FILE;
  const shared = validate(sharedDataSchema, expandEnv(raw, env, file, issues), file, issues);
  if (!shared) return empty;
  for (const [kind, document] of Object.entries(shared.documents)) {
    document.sources.forEach((source, i) => {
      const at = `documents.${kind}.sources[${i}]`;
      if (!systemIds.has(source)) return issues.push({ file, path: at, message: `unknown system "${source}"` });
      const system = systems.get(source);
      // A system file that failed its own checks is reported there, not again here.
      if (system && !system.lookup?.kinds.includes(kind)) issues.push({ file, path: at, message: `system "${source}" does not list "${kind}" in its lookup.kinds` });
    });
  }
  shared.purposes.forEach((purpose, i) =>
    purpose.documents.forEach((kind, j) => {
      if (!shared.documents[kind]) issues.push({ file, path: `purposes[${i}].documents[${j}]`, message: `unknown document kind "${kind}"` });
    }),
  );
  return shared;
}
