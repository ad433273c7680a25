/**
 * Safe configuration changes (issue 13): versions with who/when/summary, ETag and If-Match, the GET
 * answer taken back as PUT body, history, rollback, reset to the file, export as files that load and
 * deliver the same, a version one process cannot apply (it keeps its previous one, and says so), and
 * a start-up warning about stored versions that differ from the files.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import YAML from 'yaml';
import type { RunningGateway } from '../../src/gateway';
import { loadConfig } from '../../src/config/loader';
import {
  admin, adminWithHeaders, capturingLogger, caseView, eventually, legacyServer, replyJson, restSystem, sampleCase, startTestGateway, submit, uniquePrefix, writeConfig, type LegacyServer,
} from '../support/harness';

const ID = 'city-housing-reform';
const routes = { routes: [{ itemCode: '*', targets: [ID] }] };

describe('when ops change a system configuration at 3 a.m.', () => {
  let legacy: LegacyServer;
  let a: RunningGateway;
  let b: RunningGateway;
  let dirA: string;
  const bLog = capturingLogger();
  const keyPrefix = uniquePrefix();
  const others: RunningGateway[] = [];
  /** Processes started later on A's and B's Redis keys: they deliver too. */
  const peers: RunningGateway[] = [];

  beforeAll(async () => {
    legacy = await legacyServer((req, n, res) => {
      if (req.headers.authorization !== 'Bearer s3cret') return replyJson(res, 401, { code: '401', msg: 'bad token' });
      replyJson(res, 200, { code: '0', msg: '成功', data: { slbh: `SL${n}` } });
    });
    const port = new URL(legacy.url).port;
    const system = restSystem(ID, `${legacy.url}/cases`, { auth: { type: 'bearer', token: 's3cret' } });
    // The same system file; B may only call the legacy server's own port, A any port of 127.0.0.1.
    dirA = writeConfig([system], routes, { egress: { allow: ['127.0.0.1'] } });
    const dirB = writeConfig([system], routes, { egress: { allow: [`127.0.0.1:${port}`] } });
    a = await startTestGateway(dirA, { keyPrefix });
    b = await startTestGateway(dirB, { keyPrefix, log: bLog.log });
  });
  afterAll(async () => {
    for (const g of [a, b, ...others]) await g.stop();
    await legacy.close();
  });

  it('then GET has an ETag, the GET answer is a valid PUT body, and a stale If-Match is 412 and changes nothing; the other process follows within 5 s', async () => {
    const shown = await adminWithHeaders(a, 'GET', `/systems/${ID}`);
    expect(shown.headers.get('etag')).toBe('"1"');
    expect(shown.body).toMatchObject({ id: ID, version: 1, source: 'file', system: { auth: { token: '[redacted]' } } });

    const edited = { ...shown.body, system: { ...shown.body.system, request: { body: '{"ywh": caseId, "xm": applicant.name}' } } };
    const put = await adminWithHeaders(a, 'PUT', `/systems/${ID}`, edited, { 'If-Match': '"1"' });
    expect(put.status).toBe(200);
    expect(put.headers.get('etag')).toBe('"2"');
    expect(put.body).toMatchObject({ version: 2, source: 'api', system: { auth: { token: '[redacted]' } } });

    const stale = await admin(a, 'PUT', `/systems/${ID}`, { ...edited.system, timeoutMs: 999 }, { 'If-Match': '"1"' });
    expect(stale.status).toBe(412);
    expect(stale.body.error.code).toBe('version_mismatch');
    expect((await admin(a, 'GET', `/systems/${ID}`)).body).toMatchObject({ version: 2, system: { timeoutMs: 2000 } });

    const started = Date.now();
    await eventually(async () => expect((await adminWithHeaders(b, 'GET', `/systems/${ID}`)).headers.get('etag')).toBe('"2"'), 5000);
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it('then the history says who changed what and when, newest first; a rollback and a reset are new versions', async () => {
    const history = (await admin(a, 'GET', `/systems/${ID}/history`)).body;
    expect(history).toEqual([
      expect.objectContaining({ version: 2, source: 'api', who: expect.stringContaining('值班员 李四'), summary: 'changed request', at: expect.any(String) }),
      expect.objectContaining({ version: 1, source: 'file', summary: 'the configuration file' }),
    ]);
    const v1 = (await admin(a, 'GET', `/systems/${ID}/history/1`)).body;
    expect(v1).toMatchObject({ id: ID, version: 1, system: { auth: { token: '[redacted]' }, request: { body: expect.stringContaining('bizNo') } } });
    expect(JSON.stringify(v1)).not.toContain('s3cret');
    expect((await admin(a, 'GET', `/systems/${ID}/history/9`)).status).toBe(404);

    expect((await admin(a, 'POST', `/systems/${ID}/rollback`, { version: 1 }, { 'If-Match': '"1"' })).status).toBe(412);
    expect((await admin(a, 'POST', `/systems/${ID}/rollback`, {})).status).toBe(400);
    const rolled = await admin(a, 'POST', `/systems/${ID}/rollback`, { version: 1, reason: '新映射出错' }, { 'If-Match': '"2"' });
    expect(rolled.status).toBe(200);
    expect(rolled.body).toMatchObject({ version: 3, system: { request: { body: expect.stringContaining('bizNo') } } });
    expect((await admin(a, 'GET', `/systems/${ID}/history`)).body[0]).toMatchObject({ version: 3, summary: 'rollback to version 1: changed request', reason: '新映射出错' });

    // Deliveries use the rolled-back mapping, with the secret the file had.
    const c = sampleCase();
    await submit(a, c);
    await eventually(async () => expect((await caseView(a, c.caseId as string)).body.deliveries[0].status).toBe('delivered'));
    expect(legacy.received.some((r) => (r.json as { bizNo?: string }).bizNo === c.caseId)).toBe(true);

    await admin(a, 'PUT', `/systems/${ID}`, { ...rolled.body.system, timeoutMs: 3000 });
    const reset = await admin(a, 'POST', `/systems/${ID}/reset`, { reason: '回到文件' });
    expect(reset.status).toBe(200);
    expect(reset.body).toMatchObject({ version: 5, source: 'file', system: { timeoutMs: 2000 } });
    expect((await admin(a, 'GET', `/systems/${ID}/history`)).body[0]).toMatchObject({ version: 5, source: 'file', summary: 'reset to the file: changed timeoutMs' });
    const actions = (await admin(a, 'GET', '/audit?limit=3')).body.items.map((e: { action: string }) => e.action);
    expect(actions).toEqual(['system.reset', 'system.configure', 'system.rollback']);
  });

  it('then a version one process cannot apply is reported, and that process keeps its previous one', async () => {
    const version = (await admin(a, 'GET', `/systems/${ID}`)).body.version;
    const before = await eventually(async () => {
      const shown = (await admin(b, 'GET', `/systems/${ID}`)).body;
      expect(shown.version).toBe(version);
      return shown;
    }, 5000);
    // Allowed by A's egress rules, refused by B's: valid where it was stored, not there.
    // (A new host gets its secret written out: a kept one goes only where it went before.)
    const put = await admin(a, 'PUT', `/systems/${ID}`, { ...before.system, endpoint: 'http://127.0.0.1:9/cases', auth: { type: 'bearer', token: 's3cret' } });
    expect(put.status).toBe(200);
    const failed = put.body.version;

    const listed = await eventually(async () => {
      const system = (await admin(a, 'GET', '/systems')).body.find((s: { id: string }) => s.id === ID);
      expect(system.applyErrors).toEqual([expect.objectContaining({ version: failed, message: expect.stringContaining('endpoint refused') })]);
      return system;
    }, 5000);
    expect(listed.problems).toContain('apply_error');
    expect((await admin(a, 'GET', `/systems/${ID}/history`)).body[0]).toMatchObject({ version: failed, applyError: expect.stringContaining('endpoint refused') });
    const kept = (await admin(b, 'GET', `/systems/${ID}`)).body;
    expect(kept).toMatchObject({ version: before.version, system: { endpoint: before.system.endpoint } });
    expect(bLog.lines.filter((l) => l.includes('does not apply here'))).toHaveLength(1);

    // The next version B can use clears the report.
    await admin(a, 'POST', `/systems/${ID}/reset`);
    await eventually(async () => {
      expect((await admin(b, 'GET', `/systems/${ID}`)).body.version).toBe(failed + 1);
      expect((await admin(a, 'GET', '/systems')).body.find((s: { id: string }) => s.id === ID).applyErrors).toBeUndefined();
    }, 5000);
  });

  it('then the export is files ready to commit: secrets as ${VAR} references, loading as a config that delivers the same', async () => {
    const current = (await admin(a, 'GET', `/systems/${ID}`)).body;
    await admin(a, 'PUT', `/systems/${ID}`, { ...current.system, request: { body: '{"ywh": caseId, "xm": applicant.name}' } });
    const exported = await admin(a, 'GET', '/config/export');
    expect(exported.status).toBe(200);
    expect((await admin(a, 'GET', '/audit?limit=1')).body.items[0]).toMatchObject({ action: 'config.export', target: 'config', detail: '3 files' });
    const files = exported.body.files as Record<string, string>;
    expect(Object.keys(files).sort()).toEqual(['gateway.yaml', 'routes.yaml', `systems/${ID}.yaml`]);
    expect(JSON.stringify(files)).not.toContain('s3cret');
    expect(files[`systems/${ID}.yaml`]).toContain('token: ${CITY_HOUSING_REFORM_AUTH_TOKEN} # set CITY_HOUSING_REFORM_AUTH_TOKEN');

    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ow-export-'));
    for (const [name, text] of Object.entries(files)) {
      fs.mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
      fs.writeFileSync(path.join(dir, name), text);
    }
    const env = { CITY_HOUSING_REFORM_AUTH_TOKEN: 's3cret' };
    expect(() => loadConfig(dir, {})).toThrow(/CITY_HOUSING_REFORM_AUTH_TOKEN is not set/);
    expect(loadConfig(dir, env).sources.get(ID)).toMatchObject({ request: { body: '{"ywh": caseId, "xm": applicant.name}' } });

    const fromExport = await startTestGateway(dir, { env });
    others.push(fromExport);
    const c = sampleCase();
    await submit(fromExport, c);
    await eventually(async () => expect((await caseView(fromExport, c.caseId as string)).body.deliveries[0].status).toBe('delivered'));
    expect(legacy.received.find((r) => (r.json as { ywh?: string }).ywh === c.caseId)?.json).toEqual({ ywh: c.caseId, xm: '张三' });
  });

  it('then a process started later warns, naming the system, that the stored version wins over its file until reset', async () => {
    const captured = capturingLogger();
    const late = await startTestGateway(dirA, { keyPrefix, log: captured.log });
    others.push(late);
    peers.push(late);
    const warning = captured.lines.map((l) => JSON.parse(l) as { msg: string; systems?: string[] }).find((l) => l.msg.includes('differs from the file'));
    expect(warning?.systems).toEqual([ID]);
    expect(warning?.msg).toContain('reset');
  });

  it('then a reset reads the file as it is on disk now: an edit becomes the version in use, a broken edit is refused naming file and key, and changes nothing', async () => {
    const file = path.join(dirA, 'systems', `${ID}.yaml`);
    const original = fs.readFileSync(file, 'utf8');
    const onDisk = YAML.parse(original) as Record<string, unknown>;
    // A file may name a variable of the process environment (a version stored through the API may not).
    process.env.OW_TEST_RESET_TOKEN = 's3cret';
    fs.writeFileSync(file, YAML.stringify({ ...onDisk, timeoutMs: 2500, request: { body: '{"edited": caseId}' }, auth: { type: 'bearer', token: '${OW_TEST_RESET_TOKEN}' } }));
    const reset = await admin(a, 'POST', `/systems/${ID}/reset`, { reason: '文件已改' });
    expect(reset.status).toBe(200);
    expect(reset.body).toMatchObject({ source: 'file', system: { timeoutMs: 2500, request: { body: '{"edited": caseId}' } } });
    expect((await admin(a, 'GET', `/systems/${ID}/history`)).body[0]).toMatchObject({ version: reset.body.version, source: 'file', summary: expect.stringMatching(/^reset to the file: changed .*timeoutMs/) });
    // Every process delivering for this system follows (any of them may take the next delivery).
    for (const g of [b, ...peers]) await eventually(async () => expect((await admin(g, 'GET', `/systems/${ID}`)).body.version).toBe(reset.body.version), 5000);
    const c = sampleCase();
    await submit(a, c);
    await eventually(async () => expect((await caseView(a, c.caseId as string)).body.deliveries[0].status).toBe('delivered'));
    expect(legacy.received.find((r) => (r.json as { edited?: string }).edited === c.caseId)?.json).toEqual({ edited: c.caseId });

    // Broken on disk: a key the schema refuses and a variable the process does not have, listed as a start-up lists them.
    fs.writeFileSync(file, YAML.stringify({ ...onDisk, timeoutMs: 'fast', auth: { type: 'bearer', token: '${OW_TEST_NEVER_SET}' } }));
    const refused = await admin(a, 'POST', `/systems/${ID}/reset`);
    expect(refused.status).toBe(400);
    expect(refused.body.error.code).toBe('invalid_config');
    expect(refused.body.error.details).toEqual(
      expect.arrayContaining([
        { path: `systems/${ID}.yaml at auth.token`, message: 'environment variable OW_TEST_NEVER_SET is not set' },
        expect.objectContaining({ path: `systems/${ID}.yaml at timeoutMs` }),
      ]),
    );
    expect((await admin(a, 'GET', `/systems/${ID}`)).body).toMatchObject({ version: reset.body.version, source: 'file', system: { timeoutMs: 2500 } });
    expect((await admin(a, 'GET', `/systems/${ID}/history`)).body[0].version).toBe(reset.body.version);
    // A file that no longer parses is refused with its line, as at start-up.
    fs.writeFileSync(file, `${original}\ntimeoutMs: [unclosed\n`);
    const unparsable = await admin(a, 'POST', `/systems/${ID}/reset`);
    expect(unparsable.status).toBe(400);
    expect(unparsable.body.error.details[0].path).toMatch(new RegExp(`^systems/${ID}\\.yaml at line \\d+$`));
    expect((await admin(a, 'GET', `/systems/${ID}`)).body.version).toBe(reset.body.version);
    fs.writeFileSync(file, original);
    delete process.env.OW_TEST_RESET_TOKEN;
  });
});
