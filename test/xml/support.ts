/**
 * Helpers of the XML tests: XML systems for a throwaway config, a legacy server that keeps the raw
 * bytes it received (GBK must be checked as bytes, not as a UTF-8 string), the attack corpus, and
 * the measurements that show a refusal cost nothing: time, heap, and the Redis keys of a gateway.
 */
import { execFileSync } from 'node:child_process';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import v8 from 'node:v8';
import vm from 'node:vm';
import { Redis } from 'ioredis';
import { redisUrl, restSystem, type SystemSpec } from '../support/harness';

/** An XML system in dialect XA (`<Response><code>0</code>…`), pointed at `endpoint`. */
export function xmlSystem(id: string, endpoint: string, overrides: Record<string, unknown> = {}): SystemSpec {
  return restSystem(id, endpoint, {
    protocol: 'xml',
    charset: 'gbk',
    xml: { root: 'Request' },
    request: { body: '{"@version": "1.0", "ywh": caseId, "sqrxm": applicant.name, "sfzh": {"@type": applicant.idType, "#text": applicant.idNumber}, "sxmc": itemName, "dz": applicant.address}' },
    response: { success: 'Response.code = "0"', receiptNo: 'Response.data.slbh', error: 'Response.msg', retryable: 'Response.code = "9"' },
    result: { mode: 'push', map: 'Result.{"caseId": ywh, "receiptNo": slbh, "outcome": jg = "1" ? "approved" : "rejected", "message": yj}', inboundToken: 'xml-push-token' },
    ...overrides,
  });
}

export function reply(res: http.ServerResponse, status: number, contentType: string | undefined, bytes: Buffer): void {
  res.writeHead(status, contentType ? { 'Content-Type': contentType } : {});
  res.end(bytes);
}

function run(command: string, args: string[], input: Buffer): Buffer {
  return execFileSync(command, args, { input, maxBuffer: 64 * 1024 * 1024, stdio: ['pipe', 'pipe', 'pipe'] });
}

/**
 * GBK bytes read by strict decoders other than iconv-lite, as GBK-only legacy systems read them;
 * each throws on bytes outside GBK (GB18030's mappings; Python also refuses CP936's one-byte euro).
 */
export const strictGbk = {
  python: (bytes: Buffer): string => run('python3', ['-c', 'import sys; sys.stdout.buffer.write(sys.stdin.buffer.read().decode("gbk").encode("utf-8"))'], bytes).toString('utf8'),
  glibc: (bytes: Buffer): string => run('iconv', ['-f', 'GBK', '-t', 'UTF-8'], bytes).toString('utf8'),
};

/** `text` as Python's GBK codec writes it, with a hex character reference (`&#x4DAE;`) for what GBK cannot hold. */
export function pythonGbkWithReferences(text: string): Buffer {
  const bytes = run('python3', ['-c', 'import sys; sys.stdout.buffer.write(sys.stdin.buffer.read().decode("utf-8").encode("gbk", "xmlcharrefreplace"))'], Buffer.from(text, 'utf8'));
  // Python writes decimal references; no GBK trail byte is `&`, `#`, a digit or `;`, so this touches only them.
  const hex = bytes.toString('latin1').replace(/&#(\d+);/g, (_, code: string) => `&#x${Number(code).toString(16).toUpperCase()};`);
  return Buffer.from(hex, 'latin1');
}

/** A garbage collection, when one can be had (node --expose-gc, or V8's flag set at run time). */
function collector(): (() => void) | undefined {
  const exposed = (globalThis as { gc?: () => void }).gc;
  if (exposed) return exposed;
  try {
    v8.setFlagsFromString('--expose-gc');
    return vm.runInNewContext('gc') as () => void;
  } catch {
    return undefined;
  }
}

const gc = collector();

/** Heap in use, after a full collection when one is available. */
export function heapUsed(): number {
  gc?.();
  return process.memoryUsage().heapUsed;
}

/**
 * The CPU time `run` took, in ms. The refusals are timed in CPU time rather than on the wall clock:
 * on a shared, loaded test machine the wall clock measures the scheduler, not the refusal.
 */
export async function cpuTime<T>(run: () => T | Promise<T>): Promise<{ value: T; ms: number }> {
  const start = process.cpuUsage();
  const value = await run();
  const used = process.cpuUsage(start);
  return { value, ms: (used.user + used.system) / 1000 };
}

/** How much the heap may grow over a whole corpus run: tight with a GC, generous without. */
export const HEAP_GROWTH_LIMIT = gc ? 8 * 1024 * 1024 : 64 * 1024 * 1024;

/** A local server that counts requests: an external entity pointing at it must never be fetched. */
export async function countingServer(): Promise<{ url: string; hits: () => number; close(): Promise<void> }> {
  let hits = 0;
  const server = http.createServer((_req, res) => {
    hits++;
    res.end('<x>fetched</x>');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    hits: () => hits,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

/**
 * The attack corpus: each entry is a whole document that must be refused before anything is
 * expanded, fetched, built or stored. `root` is the element a pushed result would use.
 */
export function attackCorpus(entityUrl: string, root = 'Result'): Array<{ name: string; xml: string }> {
  const lol = ['<!ENTITY lol "lol">'];
  for (let i = 1; i <= 9; i++) lol.push(`<!ENTITY lol${i} "${(i === 1 ? '&lol;' : `&lol${i - 1};`).repeat(10)}">`);
  const big = 'x'.repeat(50_000);
  return [
    { name: 'external entity (file)', xml: `<?xml version="1.0"?><!DOCTYPE r [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><${root}><ywh>&xxe;</ywh></${root}>` },
    { name: 'external entity (URL)', xml: `<?xml version="1.0"?><!DOCTYPE r [<!ENTITY xxe SYSTEM "${entityUrl}/xxe">]><${root}><ywh>&xxe;</ywh></${root}>` },
    { name: 'external DTD', xml: `<?xml version="1.0"?><!DOCTYPE r SYSTEM "${entityUrl}/evil.dtd"><${root}><ywh>1</ywh></${root}>` },
    { name: 'parameter entity', xml: `<?xml version="1.0"?><!DOCTYPE r [<!ENTITY % p SYSTEM "${entityUrl}/p">%p;]><${root}/>` },
    { name: 'billion laughs', xml: `<?xml version="1.0"?><!DOCTYPE lolz [${lol.join('')}]><${root}><ywh>&lol9;</ywh></${root}>` },
    { name: 'quadratic blowup', xml: `<?xml version="1.0"?><!DOCTYPE r [<!ENTITY a "${big}">]><${root}><ywh>${'&a;'.repeat(20_000)}</ywh></${root}>` },
    { name: 'lower-case doctype', xml: `<!doctype r [<!entity a "b">]><${root}><ywh>&a;</ywh></${root}>` },
    { name: '10 000-deep nesting', xml: `<${root}>${'<a>'.repeat(10_000)}x${'</a>'.repeat(10_000)}</${root}>` },
    { name: '1 MB attribute', xml: `<${root} a="${'x'.repeat(1024 * 1024)}"><ywh>1</ywh></${root}>` },
    { name: '100 KB attribute', xml: `<${root} a="${'x'.repeat(100 * 1024)}"><ywh>1</ywh></${root}>` },
    { name: '1 MB attribute name', xml: `<${root} ${'a'.repeat(1000 * 1000)}="1"><ywh>1</ywh></${root}>` },
    { name: 'too many elements', xml: `<${root}>${'<a/>'.repeat(30_000)}</${root}>` },
    { name: 'too many attributes', xml: `<${root} ${Array.from({ length: 200 }, (_, i) => `a${i}="1"`).join(' ')}><ywh>1</ywh></${root}>` },
    { name: '__proto__ element', xml: `<${root}><ywh>QZ-1</ywh><__proto__><polluted>yes</polluted></__proto__></${root}>` },
    { name: 'constructor element', xml: `<${root}><constructor><prototype><polluted>yes</polluted></prototype></constructor></${root}>` },
    { name: 'prefixed __proto__ element', xml: `<${root} xmlns:x="urn:x"><x:__proto__><polluted>yes</polluted></x:__proto__></${root}>` },
    { name: '__proto__ attribute', xml: `<${root} __proto__="yes"><ywh>1</ywh></${root}>` },
    { name: 'multiRef id __proto__', xml: `<${root}><ywh id="__proto__">1</ywh></${root}>` },
  ];
}

/**
 * What a gateway keeps in Redis under its prefix (BullMQ's own keys, the rate limiters' counters and the
 * replay guards' nonces aside): every key with its content, so that "nothing stored" can be compared exactly.
 */
export async function storedState(prefix: string): Promise<Record<string, unknown>> {
  const redis = new Redis(redisUrl(), { lazyConnect: true, maxRetriesPerRequest: 1 });
  await redis.connect();
  try {
    // Limits, nonces and the audit trail are the bookkeeping of a refusal (a refused credential is
    // counted and audited), not stored state.
    const bookkeeping = ['bull', 'rl', 'nonce', 'wsse-nonce', 'auth-audited', 'audit'].map((part) => `${prefix}:${part}:`);
    const keys = (await redis.keys(`${prefix}:*`)).filter((k) => !bookkeeping.some((start) => k.startsWith(start))).sort();
    const state: Record<string, unknown> = {};
    for (const key of keys) {
      const type = await redis.type(key);
      if (type === 'hash') state[key] = await redis.hgetall(key);
      else if (type === 'list') state[key] = await redis.lrange(key, 0, -1);
      else if (type === 'string') state[key] = await redis.get(key);
      else if (type === 'set') state[key] = (await redis.smembers(key)).sort();
      else if (type === 'zset') state[key] = await redis.zrange(key, 0, -1, 'WITHSCORES');
      else state[key] = type;
    }
    return state;
  } finally {
    redis.disconnect();
  }
}
