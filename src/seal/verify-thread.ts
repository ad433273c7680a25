/**
 * The verify endpoint's work, off the event loop. Anyone may send a 2 MB body of a hundred thousand
 * fields: parsing, walking, canonicalising and digesting it holds a core for a while, and on the
 * event loop that would stall every other request, probes included. So the endpoint only reads the
 * bytes and hands them to one thread, with the public keys and the seal configuration; the thread
 * answers with the verification (verify.ts). Requests queue there, one at a time, and the loop
 * stays free. If the thread cannot run, the work is done here rather than refused.
 */
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import type { SealConfig } from './config';
import type { SealKeyInfo } from './keys';
import type { Sealer } from './seal';
import { publicKeys, verifyBody, type VerifyOutcome } from './verify';

interface Ask {
  id: number;
  body: Uint8Array;
  nowMs: number;
  keys: SealKeyInfo[];
  config: SealConfig;
}

type Reply = { id: number; outcome: VerifyOutcome } | { id: number; failed: string };

const ROLE = 'seal-verify';
/** A thread not asked for this long is stopped; the next verification starts it again. */
const IDLE_MS = 30_000;

// The thread runs this very module: compiled, from dist; under ts-jest, from its TypeScript, which
// the thread compiles with esbuild (a build dependency the tests have) as it requires each file.
const BOOTSTRAP = `
const { workerData } = require('node:worker_threads');
if (workerData.esbuild) {
  const fs = require('node:fs');
  const { transformSync } = require(workerData.esbuild);
  require.extensions['.ts'] = (module, file) =>
    module._compile(transformSync(fs.readFileSync(file, 'utf8'), { loader: 'ts', format: 'cjs', sourcefile: file, target: 'node20' }).code, file);
}
require(workerData.module);`;

export class VerifyThread {
  private worker?: Worker;
  private idle?: NodeJS.Timeout;
  private failed = false;
  private nextId = 0;
  private readonly pending = new Map<number, (reply: Reply) => void>();

  constructor(private readonly sealer: Sealer) {}

  /** The verification of a verify body, or why it is refused; the keys and clock are the sealer's. */
  async verify(body: Uint8Array): Promise<VerifyOutcome> {
    const ask: Omit<Ask, 'id'> = { body, nowMs: this.sealer.clock().getTime(), keys: this.sealer.keys.list(), config: this.sealer.config };
    const worker = this.start();
    const reply = worker ? await this.ask(worker, ask) : answer({ id: 0, ...ask });
    if ('failed' in reply) throw new Error(`seal verification failed: ${reply.failed}`);
    return reply.outcome;
  }

  private ask(worker: Worker, ask: Omit<Ask, 'id'>): Promise<Reply> {
    const id = this.nextId++;
    return new Promise<Reply>((resolve) => {
      this.pending.set(id, resolve);
      worker.postMessage({ id, ...ask } satisfies Ask);
    });
  }

  /** Stops the thread (it is unref'd: it never keeps a process alive by itself). */
  async close(): Promise<void> {
    clearTimeout(this.idle);
    await this.worker?.terminate();
  }

  private start(): Worker | undefined {
    if (this.failed) return undefined;
    if (this.worker) {
      this.idle?.refresh();
      return this.worker;
    }
    try {
      const typescript = __filename.endsWith('.ts');
      const worker = new Worker(BOOTSTRAP, { eval: true, name: ROLE, workerData: { role: ROLE, module: __filename, ...(typescript ? { esbuild: require.resolve('esbuild') } : {}) } });
      worker.on('message', (reply: Reply) => {
        this.pending.get(reply.id)?.(reply);
        this.pending.delete(reply.id);
      });
      let stopping = false;
      const gone = (why: string) => {
        if (!stopping) this.failed = true;
        this.worker = undefined;
        clearTimeout(this.idle);
        for (const [id, resolve] of this.pending) resolve({ id, failed: why });
        this.pending.clear();
      };
      worker.on('error', (err) => gone(err.message));
      worker.on('exit', () => gone('the verification thread stopped'));
      worker.unref();
      this.idle = setTimeout(() => {
        stopping = this.pending.size === 0;
        if (stopping) void worker.terminate();
        else this.idle?.refresh();
      }, IDLE_MS).unref();
      this.worker = worker;
      return worker;
    } catch {
      this.failed = true;
      return undefined;
    }
  }
}

/** Keys are made once per key list, not per request: the list changes only when keys rotate. */
let cachedKeys: { list: string; keys: ReturnType<typeof publicKeys> } | undefined;

function answer(ask: Ask): Reply {
  try {
    const list = JSON.stringify(ask.keys);
    if (cachedKeys?.list !== list) cachedKeys = { list, keys: publicKeys(ask.keys) };
    return { id: ask.id, outcome: verifyBody(cachedKeys.keys, ask.config, ask.body, new Date(ask.nowMs)) };
  } catch (err) {
    return { id: ask.id, failed: err instanceof Error ? err.message : String(err) };
  }
}

if (!isMainThread && (workerData as { role?: string } | null)?.role === ROLE) {
  parentPort?.on('message', (ask: Ask) => parentPort?.postMessage(answer(ask)));
}
