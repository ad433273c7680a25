/**
 * Redis: a connection to REDIS_URL (standalone, Sentinel or Cluster), or, without one, an embedded
 * redis-server child with append-only persistence under $OW_DATA_DIR/redis that stops with the gateway.
 */
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { Cluster, Redis, type RedisOptions } from 'ioredis';

export type RedisClient = Redis | Cluster;

/**
 * How a connection behaves while Redis is away. `intake` fails at once so the HTTP layer can answer
 * 503 instead of hanging; `worker` waits and carries on when Redis is back (BullMQ requires
 * `maxRetriesPerRequest: null` for its blocking connections).
 */
export type ConnectionRole = 'intake' | 'worker';

function roleOptions(role: ConnectionRole): RedisOptions {
  return role === 'intake'
    ? { enableOfflineQueue: false, maxRetriesPerRequest: 1, connectTimeout: 2000, retryStrategy: (n) => Math.min(n * 200, 2000) }
    : { enableOfflineQueue: true, maxRetriesPerRequest: null, retryStrategy: (n) => Math.min(n * 200, 2000) };
}

/**
 * Auto-pipelining (both roles): commands issued in the same tick go out in one write, one syscall
 * and round trip for many concurrent requests (a socket write per command was the gateway's
 * largest CPU cost). A blocking command never joins a batch: BullMQ's workers block on duplicates
 * of these clients, which inherit the options.
 */
export const AUTO_PIPELINING = {
  enableAutoPipelining: true,
  autoPipeliningIgnoredCommands: ['bzpopmin', 'bzpopmax', 'blpop', 'brpop', 'brpoplpush', 'blmove', 'bzmpop', 'blmpop', 'xread', 'xreadgroup', 'wait', 'monitor', 'subscribe', 'psubscribe'],
} satisfies RedisOptions;

/**
 * `redis://` and `rediss://` are standalone; `redis-sentinel://host:port,host:port/masterName`
 * and `redis-cluster://host:port,host:port` name Sentinel and Cluster deployments.
 * `onError` is attached before the client can fail, so no error is ever "unhandled" (ioredis would
 * print a stack trace for each reconnect attempt); commands still reject as usual.
 */
export function createRedis(url: string, role: ConnectionRole, onError: (err: Error) => void = () => undefined): RedisClient {
  const client = connect(url, role);
  client.on('error', onError);
  return client;
}

function connect(url: string, role: ConnectionRole): RedisClient {
  const options = { ...roleOptions(role), ...AUTO_PIPELINING };
  const parsed = new URL(url);
  const nodes = () =>
    parsed.host.split(',').map((hp) => {
      const [host, port] = hp.split(':');
      return { host: host ?? '127.0.0.1', port: Number(port ?? 6379) };
    });
  const auth = { username: decodeURIComponent(parsed.username) || undefined, password: decodeURIComponent(parsed.password) || undefined };
  if (parsed.protocol === 'redis-sentinel:') {
    // URL parsing does not accept several hosts, so read them from the raw string.
    const hosts = url.slice('redis-sentinel://'.length).split('/')[0]!.split('@').pop()!;
    return new Redis({
      ...options,
      ...auth,
      sentinels: hosts.split(',').map((hp) => ({ host: hp.split(':')[0]!, port: Number(hp.split(':')[1] ?? 26379) })),
      name: url.split('/').pop() || 'mymaster',
    });
  }
  if (parsed.protocol === 'redis-cluster:') {
    return new Cluster(nodes(), { redisOptions: { ...auth }, enableOfflineQueue: options.enableOfflineQueue, clusterRetryStrategy: options.retryStrategy });
  }
  return new Redis(url, options);
}

/**
 * Whether an error means "Redis is not reachable right now" (refused, reset, closed, offline), which
 * the HTTP layer answers 503 `unavailable` rather than 500.
 */
export function isRedisUnavailable(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  const code = (err as { code?: string }).code;
  return (
    err.name === 'MaxRetriesPerRequestError' ||
    ['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'ENOTCONN'].includes(code ?? '') ||
    /Connection is closed|Stream isn't writeable|enableOfflineQueue|Command timed out|connect ECONNREFUSED|read ECONNRESET|write ECONNRESET|write EPIPE/.test(err.message)
  );
}

export interface EmbeddedRedis {
  url: string;
  /** SIGTERM (it flushes its append-only file), SIGKILL if it has not gone within `graceMs`. */
  stop(graceMs?: number): Promise<void>;
  /** SIGKILL at once, synchronously: for a process that must exit now. */
  kill(): void;
}

/** Thrown with a one-line, actionable message when there is no redis-server to launch. */
export class RedisMissingError extends Error {
  constructor() {
    super('redis-server is not installed: run "apt-get install -y redis-server" (or scripts/ensure-redis as root), or set REDIS_URL to a Redis you run');
    this.name = 'RedisMissingError';
  }
}

/** A port nothing listens on right now (the OS picks it). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** redis-server as found on PATH (Debian's package puts it in /usr/bin). */
function redisServerBinary(): string | undefined {
  const probe = spawnSync('redis-server', ['--version'], { stdio: 'ignore' });
  // Only "not found" means missing: a probe killed by the signal that stops us is no verdict.
  return (probe.error as NodeJS.ErrnoException | undefined)?.code === 'ENOENT' ? undefined : 'redis-server';
}

/**
 * Starts redis-server on a free loopback port, append-only on, and waits until it answers.
 * An aborted `signal` kills the half-started server, so a shutdown during start-up leaves no orphan.
 */
export async function launchEmbeddedRedis(dataDir: string, signal?: AbortSignal): Promise<EmbeddedRedis> {
  const binary = redisServerBinary();
  if (!binary) throw new RedisMissingError();
  fs.mkdirSync(dataDir, { recursive: true });
  const port = await freePort();
  const child = spawn(
    binary,
    ['--port', String(port), '--bind', '127.0.0.1', '--dir', path.resolve(dataDir), '--appendonly', 'yes', '--appendfsync', 'everysec', '--save', '', '--daemonize', 'no'],
    { stdio: ['ignore', 'ignore', 'inherit'] },
  );
  // exitCode stays null when the child died of a signal (e.g. the terminal's SIGINT reached it too).
  const exited = () => child.exitCode !== null || child.signalCode !== null;
  const gone = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const kill = () => {
    if (!exited()) child.kill('SIGKILL');
  };
  signal?.addEventListener('abort', kill, { once: true });
  const url = `redis://127.0.0.1:${port}`;
  const probe = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
  probe.on('error', () => {}); // refused until the server is up: expected while waiting
  const deadline = Date.now() + 15_000;
  try {
    for (;;) {
      if (signal?.aborted) throw new Error('start-up aborted');
      if (exited()) throw new Error(`embedded redis-server exited (${child.exitCode ?? child.signalCode})`);
      try {
        await probe.connect();
        await probe.ping();
        break;
      } catch {
        probe.disconnect();
        if (Date.now() > deadline) throw new Error('embedded redis-server did not start within 15 s');
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  } catch (err) {
    kill();
    throw err;
  } finally {
    probe.disconnect();
    signal?.removeEventListener('abort', kill);
  }
  return {
    url,
    kill,
    async stop(graceMs = 5000) {
      if (exited()) return;
      child.kill('SIGTERM');
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([gone, new Promise<void>((resolve) => (timer = setTimeout(resolve, graceMs)))]);
      clearTimeout(timer);
      kill();
      await gone;
    },
  };
}
