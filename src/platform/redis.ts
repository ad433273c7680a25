/**
 * Redis: a connection to REDIS_URL (standalone, a local socket, Sentinel or Cluster), or, without
 * one, an embedded redis-server child with append-only persistence under $OW_DATA_DIR/redis that
 * stops with the gateway and is reached through a socket only its user may open.
 */
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
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

/** Where REDIS_URL points: one server (by address or by its Unix socket), a Sentinel-watched master, or a Cluster. */
export type RedisTarget =
  | { kind: 'standalone'; url: string }
  | { kind: 'socket'; path: string; db: number; username?: string; password?: string }
  | { kind: 'sentinel'; sentinels: HostPort[]; masterName: string; db: number; tls: boolean; username?: string; password?: string; sentinelUsername?: string; sentinelPassword?: string }
  | { kind: 'cluster'; nodes: HostPort[]; tls: boolean; username?: string; password?: string };

export interface HostPort {
  host: string;
  port: number;
}

/** A REDIS_URL that names no Redis we can connect to; the message says which forms there are. */
export class RedisUrlError extends Error {
  constructor(detail: string) {
    super(
      `REDIS_URL ${detail}; use redis://[user:password@]host:port[/db], rediss://… (TLS), unix://[user:password@]/path/to/redis.sock[?db=N], ` +
        'redis-sentinel://[user:password@]host:26379,host:26379/masterName[/db] or ' +
        'redis-cluster://[user:password@]host:6379,host:6379 (rediss-sentinel:// and rediss-cluster:// for TLS)',
    );
    this.name = 'RedisUrlError';
  }
}

const FORM = /^(rediss?)(?:-(sentinel|cluster))?:\/\/(?:([^@/]*)@)?([^/?#]+)(\/[^?#]*)?(?:\?([^#]*))?$/i;
const SOCKET_FORM = /^unix:\/\/(?:([^@/]*)@)?(\/[^?#]+)(?:\?db=(\d{1,2}))?$/i;

/** user:password of a URL, decoded. */
function credentials(userinfo: string | undefined): { username?: string; password?: string } {
  const [user, ...rest] = (userinfo ?? '').split(':');
  return {
    ...(user ? { username: decodeURIComponent(user) } : {}),
    ...(rest.length ? { password: decodeURIComponent(rest.join(':')) } : {}),
  };
}

function hostPorts(list: string, defaultPort: number): HostPort[] {
  return list.split(',').map((entry) => {
    // [::1]:6379, host:6379 or host alone
    const m = /^(?:\[([^\]]+)\]|([^:[\]]+))(?::(\d{1,5}))?$/.exec(entry.trim());
    const port = Number(m?.[3] ?? defaultPort);
    if (!m || port < 1 || port > 65535) throw new RedisUrlError(`has a bad host:port "${entry}"`);
    return { host: m[1] ?? m[2]!, port };
  });
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
 * Reads REDIS_URL. `redis://` and `rediss://` are one server (ioredis reads them itself), and
 * `unix:///path/redis.sock` one server on this machine through its socket;
 * `redis-sentinel://h1:26379,h2:26379/mymaster` is the master Sentinel names `mymaster`
 * (`?sentinelPassword=` when the Sentinels have a password of their own); `redis-cluster://h1:6379,h2:6379`
 * is a Cluster found through any of the nodes listed. User and password in the URL are the data
 * nodes' (ACL user or `requirepass`).
 */
export function parseRedisUrl(url: string): RedisTarget {
  const socket = SOCKET_FORM.exec(url.trim());
  if (socket) return { kind: 'socket', path: socket[2]!, db: Number(socket[3] ?? 0), ...credentials(socket[1]) };
  const m = FORM.exec(url.trim());
  if (!m) throw new RedisUrlError(`"${url.replace(/\/\/[^@/]*@/, '//***@')}" is not a Redis URL`);
  const [, scheme, topology, userinfo, hosts, pathPart = '', query = ''] = m;
  const tls = scheme!.toLowerCase() === 'rediss';
  const auth = credentials(userinfo);
  if (!topology) {
    hostPorts(hosts!, 6379);
    if (hosts!.includes(',')) throw new RedisUrlError('lists several hosts: say redis-sentinel:// or redis-cluster://');
    return { kind: 'standalone', url: url.trim() };
  }
  const params = new URLSearchParams(query);
  if (topology.toLowerCase() === 'cluster') {
    if (pathPart.replace(/\//g, '') !== '') throw new RedisUrlError('for a Cluster has a path: a Cluster has only database 0');
    return { kind: 'cluster', nodes: hostPorts(hosts!, 6379), tls, ...auth };
  }
  const [masterName, db = '0', ...extra] = pathPart.split('/').filter(Boolean);
  if (!masterName || extra.length || !/^\d{1,2}$/.test(db)) throw new RedisUrlError('for Sentinel must end in /masterName or /masterName/db');
  const sentinelUsername = params.get('sentinelUsername') ?? undefined;
  const sentinelPassword = params.get('sentinelPassword') ?? undefined;
  return {
    kind: 'sentinel',
    sentinels: hostPorts(hosts!, 26379),
    masterName: decodeURIComponent(masterName),
    db: Number(db),
    tls,
    ...auth,
    ...(sentinelUsername ? { sentinelUsername } : {}),
    ...(sentinelPassword ? { sentinelPassword } : {}),
  };
}

/**
 * One factory for every connection the gateway opens, its own and BullMQ's (a Queue shares the
 * client given; a Worker duplicates it for its blocking connection, which keeps these options).
 * `onError` is attached before the client can fail, so no error is ever "unhandled" (ioredis would
 * print a stack trace for each reconnect attempt); commands still reject as usual.
 */
export function createRedis(url: string, role: ConnectionRole, onError: (err: Error) => void = () => undefined): RedisClient {
  const client = connect(parseRedisUrl(url), role);
  client.on('error', onError);
  return client;
}

function connect(target: RedisTarget, role: ConnectionRole): RedisClient {
  const options = { ...roleOptions(role), ...AUTO_PIPELINING };
  if (target.kind === 'standalone') return new Redis(target.url, options);
  if (target.kind === 'socket') return new Redis({ ...options, path: target.path, db: target.db, username: target.username, password: target.password });
  const { username, password } = target;
  const tls = target.tls ? { tls: {} } : {};
  if (target.kind === 'sentinel') {
    return new Redis({
      ...options,
      ...tls,
      username,
      password,
      db: target.db,
      sentinels: target.sentinels,
      name: target.masterName,
      sentinelUsername: target.sentinelUsername,
      sentinelPassword: target.sentinelPassword,
      // Sentinels are reached without TLS unless the URL says rediss-sentinel://.
      ...(target.tls ? { enableTLSForSentinelMode: true, sentinelTLS: {} } : {}),
      sentinelRetryStrategy: (n: number) => Math.min(n * 200, 2000),
    });
  }
  // A Cluster's per-node options are the role's; the Cluster itself queues (worker) or refuses
  // (intake) while it has no slot map, and follows MOVED/ASK and fail-overs on its own.
  // Never auto-pipelining on a Cluster, whatever the role asks: ioredis 5 picks a script's node from
  // its first argument, the key count, so scripts batched with other commands fail with "All keys in
  // the pipeline should belong to the same slots allocation group" (redis/ioredis#2109). Tried: with
  // it on, the cluster fault test lost hundreds of deliveries.
  const { enableOfflineQueue, retryStrategy, enableAutoPipelining: _off, autoPipeliningIgnoredCommands: _unused, ...perNode } = options;
  return new Cluster(target.nodes, {
    redisOptions: { ...perNode, ...tls, username, password },
    enableOfflineQueue,
    enableAutoPipelining: false,
    clusterRetryStrategy: retryStrategy as (n: number) => number,
    // While a master restarts its slots answer CLUSTERDOWN; keep trying for a few seconds.
    retryDelayOnClusterDown: 300,
    retryDelayOnFailover: 300,
    ...(role === 'worker' ? { maxRedirections: 32 } : {}),
  });
}

/** Whether this client is a Cluster (its keyless commands go to one random node). */
export function isCluster(client: RedisClient): client is Cluster {
  return (client as { isCluster?: boolean }).isCluster === true;
}

/**
 * Every key matching `pattern`, from every master of a Cluster (a SCAN on a Cluster client reaches
 * one node only), or from the one server. Keys may repeat (SCAN's guarantee); callers are idempotent.
 */
export async function* scanKeys(client: RedisClient, pattern: string, count = 500): AsyncGenerator<string[]> {
  const servers = isCluster(client) ? client.nodes('master') : [client];
  for (const server of servers) {
    let cursor = '0';
    do {
      const [next, keys] = await server.scan(cursor, 'MATCH', pattern, 'COUNT', count);
      cursor = next;
      if (keys.length) yield keys;
    } while (cursor !== '0');
  }
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
    /Connection is closed|Stream isn't writeable|enableOfflineQueue|Command timed out|connect ECONNREFUSED|read ECONNRESET|write ECONNRESET|write EPIPE/.test(err.message) ||
    // A Cluster whose master for the slot is away, or that is still learning its slot map.
    /CLUSTERDOWN|Cluster isn't ready|Too many Cluster redirections|Failed to refresh slots cache|None of startup nodes is available|TRYAGAIN|MASTERDOWN|LOADING/.test(err.message)
  );
}

/** How long the embedded redis-server gets to flush and exit before it is killed. */
const EMBEDDED_STOP_GRACE_MS = 5000;

export interface EmbeddedRedis {
  url: string;
  /** SIGTERM (it flushes its append-only file), SIGKILL if it has not gone within 5 s. */
  stop(): Promise<void>;
  /** SIGKILL (to it and its watchdog) at once, synchronously: for a process that must exit now. */
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

/** Longest socket path a Unix socket takes (sun_path is 108 bytes with its terminator). */
const MAX_SOCKET_PATH = 100;

/**
 * Where the embedded redis-server listens: a socket in its data folder, or, when that path is too
 * long for a socket, in a fresh private folder (0700) of the system's temporary one.
 */
function embeddedSocketPath(dataDir: string): string {
  const inData = path.join(path.resolve(dataDir), 'redis.sock');
  return Buffer.byteLength(inData) <= MAX_SOCKET_PATH ? inData : path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'ow-redis-')), 'redis.sock');
}

/** redis-server as found on PATH (Debian's package puts it in /usr/bin). */
function redisServerBinary(): string | undefined {
  const probe = spawnSync('redis-server', ['--version'], { stdio: 'ignore' });
  // Only "not found" means missing: a probe killed by the signal that stops us is no verdict.
  return (probe.error as NodeJS.ErrnoException | undefined)?.code === 'ENOENT' ? undefined : 'redis-server';
}

/**
 * `sh -c WATCHDOG redis-server args…`: runs redis-server and SIGTERMs it when its own stdin (a pipe
 * from the gateway) closes, which happens however the gateway ends, SIGKILL included; it exits with
 * redis-server's status once redis-server is gone.
 */
const WATCHDOG = [
  'exec 3<&0',
  '"$0" "$@" </dev/null 3<&- & r=$!',
  '{ while read -r _ <&3; do :; done; kill $r 2>/dev/null; } & w=$!',
  'wait $r; c=$?',
  'kill $w 2>/dev/null',
  'exit $c',
].join('\n');

/**
 * Starts redis-server, append-only on, and waits until it answers. It listens on no TCP port at all,
 * only on a Unix socket (mode 0700) that no other user of the machine may open: it holds every case,
 * ID numbers included, and has no password. A socket is also cheaper to talk through than loopback TCP
 * (a tenth of the gateway's CPU under load went to TCP writes to Redis).
 * It runs in a process group of its own (under a watchdog, WATCHDOG), so Ctrl-C, which signals the
 * terminal's whole group, reaches only the gateway: the deliveries in flight drain against a Redis
 * still up, and the gateway stops it last. An aborted `signal` kills the half-started server, so a
 * shutdown during start-up leaves no orphan.
 */
export async function launchEmbeddedRedis(dataDir: string, signal?: AbortSignal): Promise<EmbeddedRedis> {
  const binary = redisServerBinary();
  if (!binary) throw new RedisMissingError();
  fs.mkdirSync(dataDir, { recursive: true });
  const socket = embeddedSocketPath(dataDir);
  const child = spawn(
    '/bin/sh',
    ['-c', WATCHDOG, binary, '--port', '0', '--unixsocket', socket, '--unixsocketperm', '700', '--dir', path.resolve(dataDir), '--appendonly', 'yes', '--appendfsync', 'everysec', '--save', '', '--daemonize', 'no'],
    { detached: true, stdio: ['pipe', 'ignore', 'inherit'] },
  );
  child.stdin!.on('error', () => {}); // EPIPE once the watchdog has gone: nothing is ever written
  // The watchdog's exit is redis-server's (exitCode null when the watchdog itself was killed).
  const exited = () => child.exitCode !== null || child.signalCode !== null;
  const gone = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const kill = () => {
    if (exited()) return;
    try {
      process.kill(-child.pid!, 'SIGKILL'); // the group: the watchdog and redis-server alike
    } catch {
      // gone meanwhile
    }
  };
  signal?.addEventListener('abort', kill, { once: true });
  const url = `unix://${socket}`;
  const probe = new Redis({ path: socket, lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
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
    await gone;
    throw err;
  } finally {
    probe.disconnect();
    signal?.removeEventListener('abort', kill);
  }
  return {
    url,
    kill,
    async stop() {
      if (exited()) return;
      child.stdin!.end(); // the watchdog SIGTERMs redis-server and exits once it is gone
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([gone, new Promise<void>((resolve) => (timer = setTimeout(resolve, EMBEDDED_STOP_GRACE_MS)))]);
      clearTimeout(timer);
      kill();
      await gone;
      // A private folder made for the socket goes with it; the data folder stays.
      if (path.dirname(socket) !== path.resolve(dataDir)) fs.rmSync(path.dirname(socket), { recursive: true, force: true });
    },
  };
}

/**
 * BullMQ's lock duration and stalled-job check, from OW_STALLED_INTERVAL_MS (BullMQ's 30 s each when
 * unset). A job handed out to a worker that then died, or whose fetch reply was lost when Redis
 * restarted, sits "active" under a lock nobody renews: it is handed out again within one lock and
 * two check intervals (90 s by default), never lost.
 */
export function jobLockTiming(): { stalledInterval?: number; lockDuration?: number } {
  const ms = Number(process.env.OW_STALLED_INTERVAL_MS);
  return Number.isInteger(ms) && ms > 0 ? { stalledInterval: ms, lockDuration: ms } : {};
}
