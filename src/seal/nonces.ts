/**
 * SM2 signing nonces made ahead, on a worker thread.
 *
 * Nine tenths of an SM2 signature's CPU is one scalar multiplication, k·G, that does not depend on
 * the key or the message (sm-crypto-v2's `getPoint`; its `pointPool` option takes such points for
 * exactly this). Made on another thread, it leaves the event loop, which then spends about a
 * tenth of the time per seal, and the second core does the rest. Each point is handed out once
 * and forgotten; the signer makes its own when the pool is empty (start-up, or a burst that
 * outruns the thread), so a seal never waits.
 */
import { Worker } from 'node:worker_threads';

export interface SigningPoint {
  k: bigint;
  x1: bigint;
}

/** n, the order of the SM2 base point (GB/T 32918.5). */
export const SM2_N = BigInt('0xFFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFF7203DF6B21C6052B53BBF40939D54123');

/** Refill below LOW, up to HIGH; each batch is one message from the thread. */
const LOW = 256;
const HIGH = 1024;
const BATCH = 128;
/** A thread not asked for this long is stopped (a process that sealed once keeps no thread); the next seal starts it again. */
const IDLE_MS = 30_000;

// An eval'd worker, so that it runs the same under ts-jest and from dist; the library's path is
// resolved here, where it is known. k·G uses a table of G's multiples 10 bits wide instead of the
// library's 8 (about a fifth less work a point, for some 3 MB more), and each batch is brought to
// affine coordinates with one field inversion instead of one a point. k is uniform in [1, n − 1]:
// 320 random bits reduced mod n − 1 (a bias below 2⁻⁶⁴, as @noble/curves makes private keys).
const WORKER_SOURCE = `
const { parentPort } = require('node:worker_threads');
const crypto = require('node:crypto');
const { sm2 } = require(${JSON.stringify(require.resolve('sm-crypto-v2'))});
const N = ${SM2_N}n;
const G = sm2.precomputePublicKey(sm2.getPublicKeyFromPrivateKey('0'.repeat(63) + '1'), 10);
parentPort.on('message', (count) => {
  const ks = [];
  const points = [];
  for (let i = 0; i < count; i++) {
    const k = BigInt('0x' + crypto.randomBytes(40).toString('hex')) % (N - 1n) + 1n;
    ks.push(k);
    points.push(G.multiply(k));
  }
  const affine = G.constructor.normalizeZ(points);
  parentPort.postMessage(ks.map((k, i) => ({ k, x1: affine[i].x })));
});`;

class NoncePool {
  private readonly points: SigningPoint[] = [];
  private worker?: Worker;
  private asked = 0;
  /** Set when the thread could not start or died: signers make their own points from then on. */
  private failed = false;
  private idle?: NodeJS.Timeout;

  /** Points ready now. */
  get available(): number {
    return this.points.length;
  }

  /** One point, or none (the signer then makes one itself). */
  take(): SigningPoint | undefined {
    const point = this.points.pop();
    this.refill();
    this.idle?.refresh();
    return point;
  }

  private refill(): void {
    if (this.failed || this.points.length + this.asked * BATCH >= LOW) return;
    const worker = this.start();
    while (worker && this.points.length + this.asked * BATCH < HIGH) {
      this.asked++;
      worker.postMessage(BATCH);
    }
  }

  private start(): Worker | undefined {
    if (this.worker) return this.worker;
    try {
      const worker = new Worker(WORKER_SOURCE, { eval: true, name: 'sm2-nonces' });
      worker.on('message', (points: SigningPoint[]) => {
        this.asked--;
        this.points.push(...points);
      });
      let stopping = false;
      worker.on('error', () => (this.failed = true));
      worker.on('exit', () => {
        if (!stopping) this.failed = true;
        this.worker = undefined;
        this.asked = 0;
        clearTimeout(this.idle);
        this.idle = undefined;
      });
      worker.unref(); // never what keeps a process alive
      this.idle = setTimeout(() => {
        stopping = true;
        void worker.terminate();
      }, IDLE_MS).unref();
      this.worker = worker;
      return worker;
    } catch {
      this.failed = true;
      return undefined;
    }
  }
}

/** One per process: the points do not depend on the key, so every SM2 signer shares them. */
export const sm2Nonces = new NoncePool();
