/**
 * `npm run bench:lookup`: a 4-source shared-data query (SOAP/GBK, XML/GBK, XML/GB18030, REST) at 50
 * concurrent queries through the gateway, against the floor: the slowest source's own latency,
 * measured in the same run (a one-kind query to it alone) at the same concurrency. The gateway and the
 * simulators each run in a process of their own, the simulators with a fixed latency per source, the cache is off, Redis is REDIS_URL or an
 * embedded redis-server. Prints one line for BENCHMARKS.md.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { launchEmbeddedRedis } from '../src/platform/redis';
import { startLookupWorld, type World } from '../sim/shared-data-world';
import { SAMPLE_PEOPLE } from '../sim/samples';

const CONCURRENCY = 50;
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 10);
const INTAKE = 'bench-intake-token';
/** Each source's own latency in the simulators: what legacy systems typically take. */
const LATENCY: Record<string, number> = { 'prov-public-security': 120, 'city-civil-affairs': 80, 'city-real-estate-registration': 200, 'city-human-resources': 60 };
const KINDS: Record<string, string> = { 'prov-public-security': 'household', 'city-civil-affairs': 'marriage', 'city-real-estate-registration': 'realestate', 'city-human-resources': 'social-insurance' };

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

async function timed<T>(run: () => Promise<T>): Promise<{ ms: number; value: T }> {
  const started = performance.now();
  const value = await run();
  return { ms: performance.now() - started, value };
}

/** Runs `one` CONCURRENCY at a time, ROUNDS times; the latencies, sorted. */
async function load(one: (i: number) => Promise<unknown>): Promise<number[]> {
  const all: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    const round = await Promise.all(Array.from({ length: CONCURRENCY }, (_, i) => timed(() => one(r * CONCURRENCY + i))));
    all.push(...round.map((t) => t.ms));
  }
  return all.sort((a, b) => a - b);
}

async function main(): Promise<void> {
  const redis = process.env.REDIS_URL ? undefined : await launchEmbeddedRedis(fs.mkdtempSync(path.join(os.tmpdir(), 'ow-bench-redis-')));
  const redisUrl = process.env.REDIS_URL ?? redis!.url;
  const person = SAMPLE_PEOPLE[0]!;
  let world: World | undefined;
  try {
    world = await startLookupWorld({
      redisUrl,
      keyPrefix: `bench${Date.now()}`,
      intakeToken: INTAKE,
      opsToken: 'bench-ops-admin-token',
      separateProcess: true,
      patchSystem: (system) => {
        const lookup = system.lookup as Record<string, unknown> | undefined;
        if (lookup) lookup.rateLimit = { max: 1_000_000, perMs: 1000 };
      },
      sharedData: {
        documents: Object.fromEntries(Object.entries(KINDS).map(([source, kind]) => [kind, { name: kind, sources: [source], cacheTtl: '0s' }])),
        purposes: [{ itemCode: '330800-FG-*', name: '房改核查', documents: Object.values(KINDS) }],
      },
    });
    const w = world;
    for (const [systemId, latencyMs] of Object.entries(LATENCY)) await w.setFaults(systemId, { latencyMs });
    // A look-up is for a case the gateway holds: every query of the run asks for this one.
    const caseId = await w.submitCase('330800-FG-001', `QZ-BENCH-${Date.now()}`);

    const ask = async (i: number) => {
      const res = await fetch(`${w.url}/api/v1/shared-data/query`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${INTAKE}` },
        body: JSON.stringify({ caseId, purpose: '330800-FG-001', idNumber: person.idNumber, name: person.name, documents: Object.values(KINDS) }),
      });
      const body = (await res.json()) as { documents?: Array<{ status: string }> };
      if (!res.ok || body.documents?.some((d) => d.status !== 'found')) throw new Error(`query ${i}: HTTP ${res.status} ${JSON.stringify(body).slice(0, 300)}`);
    };
    await load(ask); // warm-up: WSDLs loaded, sockets open, code optimised
    const gateway = await load(ask);

    // The floor: each source alone (a one-kind query), at the same concurrency, in the same run.
    const floors: Record<string, number[]> = {};
    for (const [systemId, kind] of Object.entries(KINDS)) {
      floors[systemId] = await load(async () => {
        const res = await fetch(`${w.url}/api/v1/shared-data/query`, {
          method: 'POST',
          headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${INTAKE}` },
          body: JSON.stringify({ caseId, purpose: '330800-FG-001', idNumber: person.idNumber, documents: [kind] }),
        });
        await res.json();
      });
    }
    const slowest = Object.entries(floors).sort((a, b) => percentile(b[1], 50) - percentile(a[1], 50))[0]!;
    const cpu = os.cpus()[0]?.model.replace(/\s+/g, ' ').trim() ?? 'unknown CPU';
    const line =
      `${new Date().toISOString().slice(0, 10)} shared-data look-up, nproc ${os.cpus().length} (${cpu}), node ${process.version}, gateway and simulators each in its own process ` +
      `(latency ${Object.entries(LATENCY).map(([id, ms]) => `${id} ${ms} ms`).join(', ')}), cache off, ${CONCURRENCY} concurrent × ${ROUNDS} rounds: ` +
      `4-source query p50 ${percentile(gateway, 50).toFixed(0)} ms, p99 ${percentile(gateway, 99).toFixed(0)} ms; ` +
      `floor (slowest source ${slowest[0]} asked alone, same concurrency) p50 ${percentile(slowest[1], 50).toFixed(0)} ms, p99 ${percentile(slowest[1], 99).toFixed(0)} ms.`;
    console.log(line);
  } finally {
    await world?.stop();
    await redis?.stop();
  }
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : String(err));
  process.exit(1);
});
