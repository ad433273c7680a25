/**
 * Fault (h, Sentinel): the gateway on REDIS_URL=redis-sentinel://…/mymaster — a master, its replica
 * and a Sentinel on loopback. Cases are delivered; the master is stopped, the Sentinel promotes the
 * replica, the gateway follows it on its own, cases accepted before are still there and new ones are
 * delivered.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import type { RunningGateway } from '../../src/gateway';
import { freePort } from '../../src/platform/redis';
import { eventually, INTAKE_TOKEN, legacyServer, replyJson, restSystem, sampleCase, startTestGateway, submit, writeConfig, type LegacyServer } from '../support/harness';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Server {
  port: number;
  child: ChildProcess;
  stop(): Promise<void>;
}

async function answers(port: number, ...command: string[]): Promise<unknown> {
  const client = new Redis({ port, host: '127.0.0.1', lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
  client.on('error', () => undefined);
  try {
    await client.connect();
    return await client.call(command[0]!, ...command.slice(1));
  } catch {
    return undefined;
  } finally {
    client.disconnect();
  }
}

async function server(args: string[], port: number): Promise<Server> {
  const child = spawn('redis-server', args, { stdio: 'ignore' });
  const deadline = Date.now() + 15_000;
  while ((await answers(port, 'PING')) !== 'PONG') {
    if (child.exitCode !== null) throw new Error(`redis-server ${args.join(' ')} exited (${child.exitCode})`);
    if (Date.now() > deadline) throw new Error(`redis-server on ${port} did not start`);
    await sleep(50);
  }
  return {
    port,
    child,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}

describe('fault (h, Sentinel): when the gateway runs through a Sentinel and the master fails over', () => {
  const servers: Server[] = [];
  let gateway: RunningGateway | undefined;
  let legacy: LegacyServer | undefined;
  afterAll(async () => {
    await gateway?.stop();
    await legacy?.close();
    for (const s of servers) await s.stop();
  });

  it('then it follows the promoted replica: cases from before are kept and new ones are delivered', async () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'ow-sentinel-'));
    const [masterPort, replicaPort, sentinelPort] = [await freePort(), await freePort(), await freePort()];
    const dataArgs = (port: number, name: string) => {
      fs.mkdirSync(path.join(root, name));
      return ['--port', String(port), '--bind', '127.0.0.1', '--dir', path.join(root, name), '--appendonly', 'yes', '--save', '', '--repl-diskless-sync-delay', '0', '--daemonize', 'no'];
    };
    const master = await server(dataArgs(masterPort, 'master'), masterPort);
    servers.push(master);
    servers.push(await server([...dataArgs(replicaPort, 'replica'), '--replicaof', '127.0.0.1', String(masterPort)], replicaPort));
    // In sync before anything is written: a Sentinel would as soon promote a replica that never
    // synced, and every case would go with the old master (docs/operations.md: what Sentinel needs).
    await eventually(async () => expect(String(await answers(replicaPort, 'INFO', 'replication'))).toContain('master_link_status:up'), 30_000);
    // A Sentinel rewrites its file: it must be its own and writable.
    const conf = path.join(root, 'sentinel.conf');
    fs.writeFileSync(conf, [`port ${sentinelPort}`, 'bind 127.0.0.1', `dir ${root}`, `sentinel monitor mymaster 127.0.0.1 ${masterPort} 1`, 'sentinel down-after-milliseconds mymaster 1000', 'sentinel failover-timeout mymaster 5000', ''].join('\n'));
    servers.push(await server([conf, '--sentinel'], sentinelPort));
    // The Sentinel must know the replica before the master goes, or it has no one to promote.
    await eventually(async () => {
      const replicas = (await answers(sentinelPort, 'SENTINEL', 'REPLICAS', 'mymaster')) as string[][] | undefined;
      const flags = replicas?.[0]?.[replicas[0].indexOf('flags') + 1];
      expect(flags).toBe('slave');
    }, 30_000);

    let n = 0;
    legacy = await legacyServer((req, _n, res) => replyJson(res, 200, { code: '0', data: { slbh: `R-${++n}` } }));
    const dir = writeConfig([restSystem('city-a', `${legacy.url}/cases`)], { routes: [{ itemCode: '*', targets: ['city-a'] }] });
    gateway = await startTestGateway(dir, { redisUrl: `redis-sentinel://127.0.0.1:${sentinelPort}/mymaster` });
    const g = gateway;

    const status = async (caseId: string) => {
      const res = await fetch(`${g.url}/api/v1/cases/${caseId}`, { headers: { Authorization: `Bearer ${INTAKE_TOKEN}` } });
      return res.status === 200 ? ((await res.json()) as { deliveries: Array<{ status: string }> }).deliveries[0]?.status : `HTTP ${res.status}`;
    };
    // Sent until accepted, as the intake platform does while the gateway answers 503.
    const accept = async (c: Record<string, unknown>) =>
      eventually(async () => {
        expect([200, 202]).toContain((await submit(g, c)).status);
      }, 60_000);
    const delivered = async (ids: string[]) =>
      eventually(async () => {
        for (const id of ids) expect({ id, status: await status(id) }).toEqual({ id, status: 'delivered' });
      }, 60_000);

    const before = Array.from({ length: 10 }, () => sampleCase());
    for (const c of before) await accept(c);
    await delivered(before.map((c) => c.caseId as string));

    await master.stop();
    await eventually(async () => {
      const addr = (await answers(sentinelPort, 'SENTINEL', 'GET-MASTER-ADDR-BY-NAME', 'mymaster')) as string[] | undefined;
      expect(addr?.[1]).toBe(String(replicaPort));
    }, 60_000);

    const after = Array.from({ length: 10 }, () => sampleCase());
    for (const c of after) await accept(c);
    await delivered([...before, ...after].map((c) => c.caseId as string));
    // Each case reached the system once: the fail-over sent nothing twice.
    const keys = legacy.received.map((r) => r.headers['idempotency-key']);
    expect(new Set(keys).size).toBe(keys.length);
    expect(keys).toHaveLength(20);
  });
});
