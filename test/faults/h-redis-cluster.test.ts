/**
 * Fault (h): the gateway on a real three-master Redis Cluster (REDIS_URL=redis-cluster://…), one
 * master stopped and started again (its nodes.conf and append-only file) mid-load. Cases are
 * delivered, retried (one system answers 20 % HTTP 500), results pushed home and recorded, callbacks
 * sent; nothing accepted is lost. Then the start-up outbox sweep is shown to reach every master.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import pino from 'pino';
import { CallbackDispatcher } from '../../src/callbacks/dispatcher';
import { CaseStore } from '../../src/cases/store';
import type { GatewayConfig } from '../../src/config/loader';
import { queueName } from '../../src/delivery/queues';
import { createRedis, type RedisClient } from '../../src/platform/redis';
import { FaultRig, sleep } from './support';

const CASES = 300;
const FLAKY = 'prov-beta';

interface Received {
  event: string;
  caseId: string;
  systemId: string;
}

describe('fault (h): when the gateway runs on a three-master Redis Cluster and one master restarts', () => {
  let rig: FaultRig | undefined;
  let receiver: http.Server | undefined;
  const received: Received[] = [];
  let refusedOnce = false;
  afterAll(async () => {
    await rig?.close();
    await new Promise((resolve) => (receiver ? receiver.close(resolve) : resolve(undefined)));
  });

  it('then deliveries, retries, results and callbacks all happen there, and nothing accepted is lost', async () => {
    // The intake platform's callback endpoint: refuses the very first callback (so it is retried), then takes all.
    receiver = http.createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        if (!refusedOnce) {
          refusedOnce = true;
          res.writeHead(503).end();
          return;
        }
        const e = JSON.parse(body) as Received;
        received.push({ event: e.event, caseId: e.caseId, systemId: e.systemId });
        res.writeHead(200).end();
      });
    });
    await new Promise<void>((resolve) => receiver!.listen(0, '127.0.0.1', resolve));
    const callbackUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/callbacks`;

    rig = await FaultRig.start({
      name: 'h-cluster',
      title: '(h) Redis Cluster, 3 masters, one restarted mid-load',
      cluster: true,
      gatewayEnv: { OW_CALLBACK_URL: callbackUrl, OW_CALLBACK_SECRET: 'fault-suite-callback-secret' },
    });
    const r = rig;
    const cluster = r.cluster!;
    r.sims.setFaults(FLAKY, { failureRate: 0.2 });
    r.note(`cluster ${cluster.url}; failureRate 0.2 on ${FLAKY}`);

    let accepted = 0;
    const submitting = r.submit(r.cases(CASES), { onAccepted: (n) => (accepted = n) });
    await r.until('100 cases accepted and deliveries under way', () => accepted >= 100 && r.simAccepted() >= 40);
    // The master that holds the flaky system's queue: its jobs, retries and locks are all there.
    const victim = await cluster.nodeOf(`ow:bull:${queueName(FLAKY)}:wait`);
    await victim.stop();
    r.note(`master on port ${victim.port} stopped (SIGTERM) at ${accepted} accepted, ${r.simAccepted()} taken by the systems`);
    await sleep(1500);
    await victim.start();
    await cluster.healthy();
    r.note(`master on port ${victim.port} started again on its nodes.conf and append-only file; cluster ok (${accepted} accepted so far)`);

    const { report } = await r.finish(submitting, CASES);
    expect(report.total.dead).toBe(0);
    // Retries: the flaky system failed some attempts, and they were made again.
    const flaky = report.rows.find((row) => row.systemId === FLAKY)!;
    expect(flaky.simFailed).toBeGreaterThan(0);
    expect(flaky.attempts).toBeGreaterThan(flaky.deliveries);
    // Results pushed by the systems were recorded on the cluster.
    expect(report.total.completed).toBeGreaterThan(0);

    // Every completed delivery's callback reached the intake platform (the first one after a refusal).
    const completed = report.deliveries.filter((d) => d.status === 'completed');
    const heard = () => new Set(received.filter((e) => e.event === 'delivery.completed').map((e) => `${e.caseId}/${e.systemId}`));
    await r.until('a delivery.completed callback for every completed delivery', () => completed.every((d) => heard().has(`${d.caseId}/${d.systemId}`)), 60_000);
    expect(refusedOnce).toBe(true);
    expect(completed.filter((d) => !heard().has(`${d.caseId}/${d.systemId}`))).toEqual([]);
  });

  it('then the callback outbox sweep finds outboxes on every master', async () => {
    const cluster = rig!.cluster!;
    const redis: RedisClient = createRedis(cluster.url, 'worker');
    const prefix = 'h-sweep';
    const store = new CaseStore(redis, { prefix, events: true });
    // One forgotten outbox (an event, no drain job) per master.
    const byMaster = new Map<number, string>();
    for (let i = 0; byMaster.size < 3 && i < 1000; i++) {
      const caseId = `SWEEP-${i}`;
      const owner = await cluster.nodeOf(store.outboxKey(caseId));
      if (!byMaster.has(owner.port)) byMaster.set(owner.port, caseId);
    }
    expect(byMaster.size).toBe(3);
    for (const caseId of byMaster.values()) await redis.rpush(store.outboxKey(caseId), JSON.stringify({ eventId: caseId, event: 'delivery.completed', caseId, systemId: 'x' }));

    const config = { gateway: { intake: { callbackUrl: 'http://127.0.0.1:9/never', callbackSecret: 's' } } } as unknown as GatewayConfig;
    const dispatcher = new CallbackDispatcher({ config: () => config, store, redis, connection: redis, prefix: `${prefix}:bull`, log: pino({ level: 'silent' }) });
    try {
      expect(await dispatcher.sweep()).toBe(3);
    } finally {
      await dispatcher.close();
      redis.disconnect();
    }
  });
});
