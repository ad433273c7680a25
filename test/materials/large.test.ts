/**
 * A 200 MB drawing goes through the gateway (a process of its own, the built dist/) from the
 * material store to a REST system taking it attached, streamed end to end: the gateway's resident
 * memory grows by less than 100 MB while it does, and the bytes that arrive hash to the drawing's
 * sha256. The drawing is generated as it is served and hashed as it arrives; no file of it exists
 * outside the gateway's cache.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import Redis from 'ioredis';
import { generatedSha256, startMaterialStore } from '../../sim/materials';
import { INTAKE_TOKEN, OPS_TOKEN, redisUrl, restSystem, sampleCase, submit, writeConfig } from '../support/harness';
import { spawnGateway, stopGateway, untilReady, type GatewayProcess } from '../support/gateway-process';

const REDIS_DB = 14;
const SIZE = 200 * 1024 * 1024;
const SEED = 'drawing-200mb';

/** Resident memory of a process, in bytes (Linux). */
function rss(pid: number): number {
  const kb = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
  return Number(kb) * 1024;
}

/** A system that takes multipart and hashes the last part (the material) as it streams in, holding none of it. */
async function hashingReceiver(): Promise<{ url: string; got: Promise<{ sha256: string; size: number; head: string }>; close(): Promise<void> }> {
  let settle!: (v: { sha256: string; size: number; head: string }) => void;
  const got = new Promise<{ sha256: string; size: number; head: string }>((resolve) => (settle = resolve));
  const server = http.createServer((req, res) => {
    const boundary = /boundary=([^;]+)/.exec(String(req.headers['content-type']))![1]!;
    const close = Buffer.from(`\r\n--${boundary}--\r\n`);
    const hash = crypto.createHash('sha256');
    let head = Buffer.alloc(0);
    let inMaterial = false;
    let held = Buffer.alloc(0);
    let size = 0;
    const feed = (chunk: Buffer) => {
      const all = Buffer.concat([held, chunk]);
      const keep = Math.min(all.length, close.length);
      hash.update(all.subarray(0, all.length - keep));
      size += all.length - keep;
      held = Buffer.from(all.subarray(all.length - keep));
    };
    req.on('data', (chunk: Buffer) => {
      if (inMaterial) return feed(chunk);
      head = Buffer.concat([head, chunk]);
      // The body part's head, the JSON, then the material part's head: two blank lines in.
      const first = head.indexOf('\r\n\r\n');
      const second = first < 0 ? -1 : head.indexOf('\r\n\r\n', first + 4);
      if (second < 0) return;
      inMaterial = true;
      const rest = head.subarray(second + 4);
      head = head.subarray(0, second);
      feed(Buffer.from(rest));
    });
    req.on('end', () => {
      if (!held.equals(close)) throw new Error('the multipart body did not end with its closing delimiter');
      settle({ sha256: hash.digest('hex'), size, head: head.toString('utf8') });
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify({ code: '0', data: { slbh: 'SL-BIG-1' } }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    got,
    close: () => new Promise((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}

describe('when a 200 MB material is delivered attached', () => {
  let store: Awaited<ReturnType<typeof startMaterialStore>>;
  let receiver: Awaited<ReturnType<typeof hashingReceiver>>;
  let gateway: GatewayProcess | undefined;
  let dir: string;

  beforeAll(async () => {
    const flush = new Redis(`${redisUrl()}/${REDIS_DB}`);
    await flush.flushdb();
    flush.disconnect();
    store = await startMaterialStore();
    store.store.put('big/drawing.dwg', { size: SIZE, seed: SEED, mime: 'application/acad' });
    receiver = await hashingReceiver();
    dir = writeConfig(
      [restSystem('city-big', `${receiver.url}/cases`, { timeoutMs: 300_000, materials: { mode: 'attach' } })],
      { routes: [{ itemCode: '*', targets: ['city-big'] }] },
      { materials: { stores: { intake: { baseUrl: `${store.url}/` } } } },
    );
    gateway = await spawnGateway('large', { OW_CONFIG_DIR: dir, REDIS_URL: `${redisUrl()}/${REDIS_DB}`, OW_INTAKE_TOKEN: INTAKE_TOKEN, OW_OPS_TOKEN: OPS_TOKEN, OW_LEDGER: 'off', OW_SHUTDOWN_GRACE_MS: '1000' }, dir);
    await untilReady(gateway);
  }, 200_000);
  afterAll(async () => {
    await stopGateway(gateway);
    await receiver?.close();
    await store?.close();
  });

  it('then it arrives whole and unchanged, and the gateway\'s memory grows by less than 100 MB', async () => {
    const expected = await generatedSha256(SIZE, SEED);
    const baseline = rss(gateway!.pid);
    let peak = baseline;
    const sampler = setInterval(() => (peak = Math.max(peak, rss(gateway!.pid))), 25);
    try {
      const c = sampleCase({ materials: [{ name: '竣工测绘总图', kind: 'DRAWING', uri: 'store://intake/big/drawing.dwg', sha256: expected, size: SIZE }] });
      expect((await submit(gateway!, c)).status).toBe(202);
      const got = await receiver.got;
      expect(got).toMatchObject({ sha256: expected, size: SIZE });
      expect(got.head).toContain('name="DRAWING"');
      expect(store.store.fetches('big/drawing.dwg')).toBe(1);
    } finally {
      clearInterval(sampler);
    }
    const growth = peak - baseline;
    console.log(`200 MB material: gateway RSS ${Math.round(baseline / 1048576)} MB before, ${Math.round(peak / 1048576)} MB at peak (+${Math.round(growth / 1048576)} MB)`);
    expect(growth).toBeLessThan(100 * 1024 * 1024);
  }, 300_000);
});
