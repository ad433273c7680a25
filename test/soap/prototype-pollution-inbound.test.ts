/**
 * The inbound half of CVE-2026-133243: `POST /soap/results` parses the envelope before any
 * WS-Security check, so a stranger could pollute Object.prototype with a multiRef id spelled with
 * character references (`&#95;_proto__`); intake then answered 500, /metrics threw, and the process
 * died 13–18 s later. Run against the built gateway as a real process, for every spelling.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { eventually, legacyServer, redisUrl, replyJson, restSystem, sampleCase, submit, writeConfig, type LegacyServer } from '../support/harness';
import { freePort } from '../support/redis-server';
import { POLLUTING_IDS } from './support';

const MAIN = path.resolve(__dirname, '../../dist/src/main.js');
const NS = 'http://ycsl.qz.gov.cn/gateway/results/v1';

const envelope = (id: string) =>
  '<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body>' +
  `<PushResult xmlns="${NS}"><systemId id="${id}">x</systemId><outcome>1</outcome></PushResult>` +
  '</soap:Body></soap:Envelope>';

describe('when a stranger posts polluting envelopes to /soap/results of a running gateway', () => {
  let legacy: LegacyServer;

  beforeAll(async () => {
    if (!fs.existsSync(MAIN)) throw new Error('dist/ is missing: npm test builds it first (npm run build)');
    legacy = await legacyServer((_req, n, res) => replyJson(res, 200, { code: '0', msg: '成功', data: { slbh: `SL${n}` } }));
  });
  afterAll(() => legacy.close());

  it('then each is a SOAP Fault, and 20 s later the process, intake and /metrics are all fine', async () => {
    const configDir = writeConfig([restSystem('city-housing-reform', `${legacy.url}/cases`)], { routes: [{ itemCode: '*', targets: ['city-housing-reform'] }] });
    const port = await freePort();
    let stderr = '';
    const child = spawn(process.execPath, [MAIN], {
      cwd: fs.mkdtempSync(path.join(os.tmpdir(), 'ow-pollute-')),
      env: { PATH: process.env.PATH, LOG_LEVEL: 'warn', OW_CONFIG_DIR: configDir, PORT: String(port), HOST: '127.0.0.1', REDIS_URL: redisUrl(), OW_INTAKE_TOKEN: 'test-intake-token', OW_OPS_TOKEN: 'test-ops-admin-token' },
    });
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    let exited = false;
    child.on('exit', () => (exited = true));
    const gateway = { url: `http://127.0.0.1:${port}` };
    try {
      await eventually(async () => expect((await fetch(`${gateway.url}/readyz`)).status).toBe(200), 45_000);
      for (const id of [...POLLUTING_IDS, '__proto__']) {
        for (const contentType of ['text/xml; charset=utf-8', 'application/soap+xml; charset=utf-8']) {
          const res = await fetch(`${gateway.url}/soap/results`, { method: 'POST', headers: { 'Content-Type': contentType }, body: envelope(id) });
          const text = await res.text();
          expect(text).toContain('Fault');
          expect(text).toMatch(/is not allowed/);
        }
      }
      await new Promise((r) => setTimeout(r, 20_000));
      expect(exited).toBe(false);
      expect((await fetch(`${gateway.url}/healthz`)).status).toBe(200);
      expect((await submit(gateway, sampleCase())).status).toBe(202);
      const metrics = await fetch(`${gateway.url}/metrics`);
      expect(metrics.status).toBe(200);
      expect(await metrics.text()).toContain('ow_cases_total');
      expect(stderr).not.toMatch(/Added label|TypeError/);
    } finally {
      child.kill('SIGKILL');
    }
  }, 90_000);
});
