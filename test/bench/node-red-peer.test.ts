/**
 * The bench's Node-RED peer does the job the gateway's bench systems do, or its figures mean nothing:
 * every case it is sent reaches each target of the flow, mapped by the same JSONata as the gateway's
 * systems, under the gateway's Idempotency-Key; and a target that answers with an error makes a
 * failed request for the load client (which the bench counts as an error), not a silent 200.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import jsonata from 'jsonata';
import { nodeRedFlow, startNodeRed } from '../../scripts/bench-node-red';
import { BENCH_MAPPING, benchCase, freePort, startStandIn, stopChild, waitReady, type StandIn } from '../../scripts/bench-support';
import type { ChildProcess } from 'node:child_process';

const SYSTEMS = ['bench-1', 'bench-2', 'bench-3'];
let standIn: StandIn;
let nodeRed: ChildProcess;
let url: string;
let dir: string;

beforeAll(async () => {
  standIn = await startStandIn(true);
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ow-node-red-'));
  const port = await freePort();
  nodeRed = startNodeRed(dir, port, nodeRedFlow(standIn.url, SYSTEMS));
  url = `http://127.0.0.1:${port}`;
  await waitReady(url, nodeRed, 'Node-RED', 90_000);
}, 120_000);

afterAll(async () => {
  if (nodeRed) await stopChild(nodeRed, 10_000);
  await standIn?.close();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

const submit = (caseId: string) => fetch(`${url}/api/v1/cases`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: benchCase(caseId) });

test('each case reaches all three targets, mapped as the gateway maps it, and the caller gets the last reply', async () => {
  const caseIds = Array.from({ length: 20 }, (_, i) => `NR-PEER-${i}`);
  const replies = await Promise.all(caseIds.map(async (caseId) => {
    const res = await submit(caseId);
    return { status: res.status, body: (await res.json()) as { code: string } };
  }));
  expect(replies.map((r) => r.status)).toEqual(caseIds.map(() => 200));
  expect(replies.every((r) => r.body.code === '0')).toBe(true);

  const mapping = jsonata(BENCH_MAPPING);
  expect(standIn.arrivals.size).toBe(caseIds.length * SYSTEMS.length);
  for (const caseId of caseIds) {
    const expected = (await mapping.evaluate(JSON.parse(benchCase(caseId)))) as Record<string, string>;
    expect(expected).toEqual({ bizNo: caseId, sqrxm: '张三', sfzh: '330802199001011234', sxbm: '330800-FG-001' });
    for (const system of SYSTEMS) {
      const body = standIn.bodies.get(`${caseId}:${system}`);
      expect(body).toBeDefined();
      expect(JSON.parse(body!)).toEqual(expected);
    }
  }
}, 60_000);

test('a failed delivery is not a 2xx to the caller (the bench counts it as an error)', async () => {
  standIn.status = 500;
  try {
    const res = await submit('NR-PEER-DOWN');
    expect(res.status).toBe(500);
    // Like the flow a team would draw, it checks no reply: every target is asked all the same.
    for (const system of SYSTEMS) expect(standIn.arrivals.has(`NR-PEER-DOWN:${system}`)).toBe(true);
  } finally {
    standIn.status = 200;
  }
}, 60_000);
