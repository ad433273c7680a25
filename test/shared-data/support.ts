/** Shared bits of the shared-data tests: a look-up world on the run's Redis, the case a look-up is for, and the query call. */
import { startLookupWorld, type World, type WorldOptions } from '../../sim/shared-data-world';
import { INTAKE_TOKEN, OPS_TOKEN, redisUrl, uniquePrefix } from '../support/harness';

export const OPERATOR = '窗口 王五';

/** Every look-up source may answer as often as a test asks (the shipped 20/s would refuse the load tests). */
export function generousRateLimit(system: Record<string, unknown>): void {
  const lookup = system.lookup as Record<string, unknown> | undefined;
  if (lookup) lookup.rateLimit = { max: 100_000, perMs: 1000 };
}

export function world(options: Partial<WorldOptions> = {}): Promise<World> {
  return startLookupWorld({ redisUrl: redisUrl(), keyPrefix: uniquePrefix(), intakeToken: INTAKE_TOKEN, opsToken: OPS_TOKEN, patchSystem: generousRateLimit, ...options });
}

/** A submitted case of this item (look-ups are made for a case the gateway holds): its caseId. */
export function submittedCase(w: World, itemCode: string, caseId?: string): Promise<string> {
  return w.submitCase(itemCode, caseId);
}

export interface Answer {
  status: number;
  /** Wall-clock time from sending to the whole answer read. */
  ms: number;
  /** The gateway's own time from the request's arrival (Server-Timing). */
  serverMs?: number;
  body: any;
}

export async function query(w: World, body: unknown, token = INTAKE_TOKEN): Promise<Answer> {
  const started = performance.now();
  const res = await fetch(`${w.url}/api/v1/shared-data/query`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${token}`, 'X-OW-Operator': encodeURIComponent(OPERATOR) },
    body: JSON.stringify(body),
  });
  const parsed: unknown = await res.json();
  const timing = /total;dur=(\d+)/.exec(res.headers.get('server-timing') ?? '');
  return { status: res.status, ms: performance.now() - started, body: parsed, ...(timing ? { serverMs: Number(timing[1]) } : {}) };
}

export async function lookups(w: World, params: Record<string, string> = {}): Promise<{ status: number; body: any }> {
  const res = await fetch(`${w.url}/api/v1/admin/shared-data/lookups?${new URLSearchParams(params)}`, { headers: { Authorization: `Bearer ${OPS_TOKEN}` } });
  return { status: res.status, body: await res.json() };
}

/** How many look-ups each simulated source was asked so far. */
export function asked(w: World): Record<string, number> {
  return Object.fromEntries(['nat-population', 'prov-public-security', 'city-civil-affairs', 'city-real-estate-registration', 'city-human-resources'].map((id) => [id, w.sims!.lookups(id).count]));
}

export const ZHANG_SAN = { idNumber: '330802199001011234', name: '张三' };
export const LI_SI = { idNumber: '330802198505052345', name: '李四' };
export const WANG = { idNumber: '330803199203153456', name: '王𬇕' };
export const ZHAO_LIU = { idNumber: '330822197812124567', name: '赵六' };
