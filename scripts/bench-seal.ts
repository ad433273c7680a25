/**
 * `npm run bench:seal`: seals per second on one core (this process is single-threaded) for SM2-SM3
 * and Ed25519, sign and verify, against a baseline in the same run: an HMAC-SHA256 of the same
 * body, which is what a delivery already costs when it is HMAC-signed. Appends one line to
 * BENCHMARKS.md with the machine.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { SEAL_DEFAULTS, type SealAlgorithm } from '../src/seal/config';
import { Keyring } from '../src/seal/keys';
import { Sealer } from '../src/seal/seal';

const BUDGET_MS = Number(process.env.BENCH_MS ?? 1500);

/** Operations per second of `op`, run for BUDGET_MS after a short warm-up. */
function rate(op: () => void): number {
  const warmUntil = performance.now() + 200;
  while (performance.now() < warmUntil) op();
  let n = 0;
  const start = performance.now();
  let elapsed: number;
  do {
    for (let i = 0; i < 10; i++) op();
    n += 10;
    elapsed = performance.now() - start;
  } while (elapsed < BUDGET_MS);
  return (n * 1000) / elapsed;
}

// A delivery body as a REST system receives it: the case mapped to its field names.
const body = Buffer.from(
  JSON.stringify({
    bizNo: 'QZ-20261201-000001',
    sxbm: '330800-FG-001',
    sxmc: '出具房改核查证明',
    sqrxm: '张三',
    sfzh: '330802199001011234',
    lxdh: '13800000000',
    dz: '衢州市柯城区荷花街道',
    cl: [{ mc: '身份证', uri: 'share://id/330802199001011234', sha256: 'a'.repeat(64) }],
    bd: { fwdz: '衢州市柯城区新华街1号', mj: 86.5, gfsj: '2001-05-01', gflx: '房改房' },
  }),
);

const results: Record<string, number> = {};
const secret = crypto.randomBytes(32);
results.hmac = rate(() => crypto.createHmac('sha256', secret).update(body).digest('hex'));

const dirs: string[] = [];
for (const alg of ['SM2-SM3', 'Ed25519'] as SealAlgorithm[]) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ow-bench-seal-'));
  dirs.push(dir);
  const sealer = new Sealer(new Keyring({ dir, algorithm: alg, writable: true, generate: true }), { ...SEAL_DEFAULTS, algorithm: alg });
  const request = { payloadBytes: body, purpose: '办理出具房改核查证明（330800-FG-001）', caseId: 'QZ-20261201-000001', systemId: 'city-housing-reform' };
  const seal = sealer.seal(request);
  const payloadBase64 = body.toString('base64');
  if (!sealer.verify({ seal, payloadBase64 }).valid) throw new Error(`${alg}: the benchmark's own seal does not verify`);
  results[`${alg} seal`] = rate(() => sealer.seal(request));
  results[`${alg} verify`] = rate(() => sealer.verify({ seal, payloadBase64 }));
}
for (const dir of dirs) fs.rmSync(dir, { recursive: true, force: true });

const cpu = os.cpus()[0]?.model.trim() ?? 'unknown CPU';
const fields = Object.keys(JSON.parse(body.toString()) as object).length;
const fmt = (n: number) => (n >= 1000 ? `${Math.round(n).toLocaleString('en-US')}` : n.toFixed(0));
const us = (n: number) => `${(1e6 / n).toFixed(0)} µs`;
const line =
  `- ${new Date().toISOString().slice(0, 10)} seals, 1 core (nproc ${os.availableParallelism()}, ${cpu}, node ${process.version}), ${body.length}-byte JSON delivery body (${fields} top-level fields), per second: ` +
  `baseline HMAC-SHA256 ${fmt(results.hmac)}; ` +
  `SM2-SM3 seal ${fmt(results['SM2-SM3 seal'])} (${us(results['SM2-SM3 seal'])} added to a delivery), verify ${fmt(results['SM2-SM3 verify'])}; ` +
  `Ed25519 seal ${fmt(results['Ed25519 seal'])} (${us(results['Ed25519 seal'])}), verify ${fmt(results['Ed25519 verify'])}. ` +
  `Seal = JCS + digest + field digests + signature; verify = signature + digest.`;

for (const [name, value] of Object.entries(results)) process.stdout.write(`${name.padEnd(16)} ${fmt(value).padStart(10)}/s  ${us(value).padStart(8)}\n`);
const file = path.resolve('BENCHMARKS.md');
if (!fs.existsSync(file)) fs.writeFileSync(file, '# Benchmarks\n\nOne line per run; newest last.\n\n');
fs.appendFileSync(file, `${line}\n`);
process.stdout.write(`\n${line}\n(appended to ${file})\n`);
