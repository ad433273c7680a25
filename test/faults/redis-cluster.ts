/**
 * A real three-master Redis Cluster on loopback for the fault suite: three redis-server processes
 * with cluster mode, append-only files and their own folders, joined by `redis-cli --cluster create`.
 * A master can be stopped and started again on its port, its nodes.conf and its append-only file,
 * as a restarted cluster node would be.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import { freePort } from '../../src/platform/redis';

export interface ClusterNode {
  port: number;
  dir: string;
  readonly pid: number;
  stop(): Promise<void>;
  start(): Promise<void>;
}

export interface TestCluster {
  /** The REDIS_URL form the gateway reads: redis-cluster://127.0.0.1:p1,127.0.0.1:p2,127.0.0.1:p3 */
  url: string;
  nodes: ClusterNode[];
  /** The node that serves a key's slot now. */
  nodeOf(key: string): Promise<ClusterNode>;
  /** Until every node reports cluster_state:ok and knows three masters. */
  healthy(timeoutMs?: number): Promise<void>;
  stop(): Promise<void>;
  start(): Promise<void>;
  /** Always the first node's port (for a TestRedis-shaped report). */
  port: number;
  dir: string;
  readonly pid: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function ask(port: number, ...args: string[]): Promise<string | undefined> {
  const client = new Redis({ port, host: '127.0.0.1', lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, connectTimeout: 1000 });
  client.on('error', () => undefined);
  try {
    await client.connect();
    return String(await client.call(args[0]!, ...args.slice(1)));
  } catch {
    return undefined;
  } finally {
    client.disconnect();
  }
}

function node(port: number, busPort: number, dir: string, nodeTimeoutMs: number): ClusterNode {
  let child: ChildProcess | undefined;
  const self: ClusterNode = {
    port,
    dir,
    get pid() {
      return child?.pid ?? 0;
    },
    async start() {
      child = spawn(
        'redis-server',
        ['--port', String(port), '--cluster-port', String(busPort), '--bind', '127.0.0.1', '--dir', dir, '--cluster-enabled', 'yes', '--cluster-config-file', 'nodes.conf',
          '--cluster-node-timeout', String(nodeTimeoutMs), '--appendonly', 'yes', '--appendfsync', 'everysec', '--save', '', '--daemonize', 'no'],
        { stdio: 'ignore' },
      );
      const deadline = Date.now() + 15_000;
      while ((await ask(port, 'PING')) !== 'PONG') {
        if (child.exitCode !== null) throw new Error(`cluster node on ${port} exited (${child.exitCode})`);
        if (Date.now() > deadline) throw new Error(`cluster node on ${port} did not start`);
        await sleep(50);
      }
    },
    async stop() {
      const c = child;
      if (!c || c.exitCode !== null || c.signalCode !== null) return;
      // SIGTERM: the node writes its append-only file and nodes.conf, as a clean restart would.
      await new Promise<void>((resolve) => {
        c.once('exit', () => resolve());
        c.kill('SIGTERM');
      });
    },
  };
  return self;
}

/** Two free ports, the second for the cluster bus. */
async function portPair(): Promise<[number, number]> {
  return [await freePort(), await freePort()];
}

export async function startTestCluster(options: { nodeTimeoutMs?: number } = {}): Promise<TestCluster> {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'ow-cluster-'));
  const nodes: ClusterNode[] = [];
  for (let i = 0; i < 3; i++) {
    const [port, bus] = await portPair();
    const dir = path.join(root, `node-${i + 1}`);
    fs.mkdirSync(dir);
    nodes.push(node(port, bus, dir, options.nodeTimeoutMs ?? 3000));
  }
  const stopAll = () => Promise.all(nodes.map((n) => n.stop())).then(() => undefined);
  try {
    await Promise.all(nodes.map((n) => n.start()));
    const created = spawnSync('redis-cli', ['--cluster', 'create', ...nodes.map((n) => `127.0.0.1:${n.port}`), '--cluster-replicas', '0', '--cluster-yes'], { encoding: 'utf8', timeout: 60_000 });
    if (created.status !== 0) throw new Error(`redis-cli --cluster create failed: ${created.stdout}${created.stderr}`);
  } catch (err) {
    await stopAll();
    throw err;
  }
  const healthy = async (timeoutMs = 30_000) => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const infos = await Promise.all(nodes.map((n) => ask(n.port, 'CLUSTER', 'INFO')));
      if (infos.every((i) => i?.includes('cluster_state:ok') && i.includes('cluster_size:3'))) return;
      if (Date.now() > deadline) throw new Error(`the cluster did not become healthy: ${infos.map((i) => i?.split('\r\n')[0]).join(' | ')}`);
      await sleep(100);
    }
  };
  await healthy().catch(async (err) => {
    await stopAll();
    throw err;
  });
  return {
    url: `redis-cluster://${nodes.map((n) => `127.0.0.1:${n.port}`).join(',')}`,
    nodes,
    port: nodes[0]!.port,
    dir: root,
    get pid() {
      return nodes[0]!.pid;
    },
    healthy,
    async nodeOf(key: string) {
      const slot = Number(await ask(nodes[0]!.port, 'CLUSTER', 'KEYSLOT', key));
      const client = new Redis({ port: nodes[0]!.port, host: '127.0.0.1', maxRetriesPerRequest: 1 });
      try {
        const ranges = (await client.call('CLUSTER', 'SLOTS')) as Array<[number, number, [string, number]]>;
        const owner = ranges.find(([from, to]) => slot >= from && slot <= to)![2][1];
        return nodes.find((n) => n.port === owner)!;
      } finally {
        client.disconnect();
      }
    },
    stop: stopAll,
    async start() {
      await Promise.all(nodes.map((n) => n.start()));
      await healthy();
    },
  };
}
