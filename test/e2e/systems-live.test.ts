/**
 * The 45th system, added without a restart (issue 24): an admin PUT of a new id adds the system,
 * validated as a file at start-up; a reload of OW_CONFIG_DIR adds new files and versions changed
 * ones; the routing table is versioned and edited through the API like a system; a system is
 * removed only when nothing holds it. Two gateways on one Redis: whatever one is told, the other
 * follows within 5 s.
 */
import fs from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';
import type { RunningGateway } from '../../src/gateway';
import {
  admin, adminWithHeaders, caseView, eventually, legacyServer, OPERATOR_TOKEN, replyJson, restSystem, sampleCase, startTestGateway, submit, uniquePrefix, VIEWER_TOKEN, writeConfig, type LegacyServer,
} from '../support/harness';

const asViewer = { Authorization: `Bearer ${VIEWER_TOKEN}` };
const asOperator = { Authorization: `Bearer ${OPERATOR_TOKEN}` };
const FOLLOW_MS = 5000;

describe('when ops add, change and remove systems and routes while the gateway runs', () => {
  let legacy: LegacyServer;
  let a: RunningGateway;
  let b: RunningGateway;
  let dir: string;
  const keyPrefix = uniquePrefix();

  /** The legacy system at `/<name>` accepts; at `/down` it fails. */
  const endpoint = (name: string) => `${legacy.url}/${name}`;

  async function delivered(gateway: RunningGateway, body: Record<string, unknown>): Promise<Record<string, any>> {
    const accepted = await submit(gateway, body);
    expect(accepted.status).toBe(202);
    return eventually(async () => {
      const view = (await caseView(gateway, body.caseId as string)).body;
      expect(view.deliveries.map((d: { status: string }) => d.status)).toEqual(view.deliveries.map(() => 'delivered'));
      return view;
    });
  }

  beforeAll(async () => {
    legacy = await legacyServer((req, n, res) => {
      if (req.url.startsWith('/down')) return replyJson(res, 500, { code: '1', msg: '系统维护' });
      replyJson(res, 200, { code: '0', msg: '成功', data: { slbh: `SL${n}` } });
    });
    dir = writeConfig([restSystem('city-a', `${legacy.url}/a`), restSystem('city-b', `${legacy.url}/b`)], {
      routes: [
        { itemCode: 'A-*', targets: ['city-a'] },
        { itemCode: 'B-*', targets: ['city-b'] },
      ],
    });
    a = await startTestGateway(dir, { keyPrefix });
    b = await startTestGateway(dir, { keyPrefix });
  });
  afterAll(async () => {
    await a?.stop();
    await b?.stop();
    await legacy?.close();
  });

  it('then an admin PUT of a new id adds the system: validated as a file at start-up, 201 with version 1, in its history and the audit trail, delivered to by the other process within 5 s', async () => {
    const system = restSystem('city-new', endpoint('new'), { name: '衢州市新系统' });
    for (const [who, headers] of [['viewer', asViewer], ['operator', asOperator]] as const) {
      expect({ who, status: (await admin(a, 'PUT', '/systems/city-new', system, headers)).status }).toEqual({ who, status: 403 });
    }
    // Every problem at once, as a start-up lists them, and nothing is added.
    const broken = await admin(a, 'PUT', '/systems/city-new', { ...system, timeoutMs: 'soon', request: { body: '{"a": ' }, endpoint: 'not a url' });
    expect(broken.status).toBe(400);
    expect(broken.body.error.code).toBe('invalid_config');
    expect(broken.body.error.details.map((d: { path: string }) => d.path).sort()).toEqual(['endpoint', 'request.body', 'timeoutMs']);
    // A variable of the process environment is the files' to name, not an API caller's.
    const reading = await admin(a, 'PUT', '/systems/city-new', { ...system, auth: { type: 'bearer', token: '${OW_OPS_TOKEN}' } });
    expect(reading.body.error.details).toContainEqual({ path: 'auth.token', message: '${…} environment references are read from configuration files only; send the value itself' });
    // The id keeps the rule of file names.
    const badId = await admin(a, 'PUT', '/systems/City_New', { ...system, id: 'City_New' });
    expect(badId.status).toBe(400);
    expect(badId.body.error.details).toEqual([{ path: 'id', message: 'lower-case letters, digits and dashes' }]);
    expect((await admin(a, 'GET', '/systems/city-new')).status).toBe(404);

    const put = await adminWithHeaders(a, 'PUT', '/systems/city-new', system, { 'If-None-Match': '*' });
    expect(put.status).toBe(201);
    expect(put.headers.get('etag')).toBe('"1"');
    expect(put.body).toMatchObject({ id: 'city-new', version: 1, source: 'api', system: { name: '衢州市新系统' } });
    expect((await admin(a, 'GET', '/systems/city-new/history')).body).toEqual([expect.objectContaining({ version: 1, source: 'api', summary: 'created', who: expect.stringContaining('值班员 李四') })]);
    expect((await admin(a, 'GET', '/audit?limit=1')).body.items[0]).toMatchObject({ action: 'system.create', target: 'city-new', detail: 'version 1' });
    // Create-only: a second add of the same id replaces nothing.
    const again = await admin(a, 'PUT', '/systems/city-new', { ...system, timeoutMs: 999 }, { 'If-None-Match': '*' });
    expect([again.status, again.body.error.code]).toEqual([412, 'version_mismatch']);

    await eventually(async () => {
      const listed = (await admin(b, 'GET', '/systems')).body.find((s: { id: string }) => s.id === 'city-new');
      expect(listed).toMatchObject({ version: 1, source: 'api', paused: false });
    }, FOLLOW_MS);
    const view = await delivered(b, sampleCase({ itemCode: 'A-1', targets: ['city-new'] }));
    expect(view.deliveries[0]).toMatchObject({ systemId: 'city-new', status: 'delivered' });
    expect(legacy.received.some((r) => r.url === '/new' && (r.json as { bizNo?: string }).bizNo === view.caseId)).toBe(true);
  });

  it('then the routing table is versioned like a system: ETag, If-Match required, validated against the systems, history and rollback, and both processes route by it within 5 s', async () => {
    const shown = await adminWithHeaders(a, 'GET', '/routes', undefined, asViewer);
    expect(shown.status).toBe(200);
    expect(shown.headers.get('etag')).toBe('"1"');
    expect(shown.body).toMatchObject({ version: 1, source: 'file', routes: [{ itemCode: 'A-*', targets: ['city-a'] }, { itemCode: 'B-*', targets: ['city-b'] }] });

    const edited = { ...shown.body, routes: [...shown.body.routes, { itemCode: 'NEW-*', targets: ['city-new'] }] };
    const unguarded = await admin(a, 'PUT', '/routes', edited);
    expect([unguarded.status, unguarded.body.error.code]).toEqual([428, 'precondition_required']);
    expect((await admin(a, 'PUT', '/routes', edited, { ...asOperator, 'If-Match': '"1"' })).status).toBe(403);
    const unknown = await admin(a, 'PUT', '/routes', { routes: [...edited.routes, { itemCode: 'X-*', targets: ['city-nowhere'] }] }, { 'If-Match': '"1"' });
    expect(unknown.status).toBe(400);
    expect(unknown.body.error.details).toEqual([{ path: 'routes[3].targets[0]', message: 'unknown system "city-nowhere"' }]);
    expect((await admin(a, 'GET', '/routes')).body.version).toBe(1);

    const put = await adminWithHeaders(a, 'PUT', '/routes', edited, { 'If-Match': '"1"' });
    expect(put.status).toBe(200);
    expect(put.headers.get('etag')).toBe('"2"');
    expect(put.body).toMatchObject({ version: 2, source: 'api' });
    const stale = await admin(a, 'PUT', '/routes', shown.body, { 'If-Match': '"1"' });
    expect([stale.status, stale.body.error.code]).toEqual([412, 'version_mismatch']);

    await eventually(async () => expect((await admin(b, 'GET', '/routes')).body.version).toBe(2), FOLLOW_MS);
    const routed = await delivered(b, sampleCase({ itemCode: 'NEW-1' }));
    expect(routed.deliveries.map((d: { systemId: string }) => d.systemId)).toEqual(['city-new']);

    expect((await admin(a, 'GET', '/routes/history', undefined, asViewer)).body).toEqual([
      expect.objectContaining({ version: 2, source: 'api', summary: 'changed routes', who: expect.stringContaining('值班员 李四') }),
      expect.objectContaining({ version: 1, source: 'file', summary: 'the configuration file' }),
    ]);
    expect((await admin(a, 'GET', '/routes/history/1')).body).toMatchObject({ version: 1, routes: shown.body.routes });
    expect((await admin(a, 'GET', '/routes/history/9')).status).toBe(404);

    expect((await admin(a, 'POST', '/routes/rollback', { version: 1 })).status).toBe(428);
    const rolled = await adminWithHeaders(a, 'POST', '/routes/rollback', { version: 1, reason: '新路由有误' }, { 'If-Match': '"2"' });
    expect(rolled.status).toBe(200);
    expect(rolled.body).toMatchObject({ version: 3, source: 'file', routes: shown.body.routes });
    await eventually(async () => expect((await submit(b, sampleCase({ itemCode: 'NEW-2' }))).status).toBe(422), FOLLOW_MS);
    const actions = (await admin(a, 'GET', '/audit?limit=2')).body.items.map((e: { action: string; target: string }) => `${e.action} ${e.target}`);
    expect(actions).toEqual(['routes.rollback routes', 'routes.configure routes']);
    // Back to routing NEW-* for what follows.
    expect((await admin(a, 'PUT', '/routes', edited, { 'If-Match': '"3"' })).body.version).toBe(4);
  });

  it('then a reload reads OW_CONFIG_DIR now: a broken folder changes nothing and lists every problem; new files add systems, changed ones become versions, the rest is left alone', async () => {
    // city-b runs a version stored through the API: its unchanged file must not undo it.
    const b2 = await admin(a, 'PUT', '/systems/city-b', { ...restSystem('city-b', endpoint('b')), timeoutMs: 3000 });
    expect(b2.body).toMatchObject({ version: 2, source: 'api' });
    const file = (id: string) => path.join(dir, 'systems', `${id}.yaml`);
    fs.writeFileSync(file('city-file'), YAML.stringify(restSystem('city-file', endpoint('file'), { name: '衢州市文件系统' })));
    fs.writeFileSync(file('city-a'), YAML.stringify({ ...restSystem('city-a', endpoint('a')), timeoutMs: 2500 }));
    const routesFile = YAML.parse(fs.readFileSync(path.join(dir, 'routes.yaml'), 'utf8')) as { routes: unknown[] };
    fs.writeFileSync(path.join(dir, 'routes.yaml'), YAML.stringify({ routes: [...routesFile.routes, { itemCode: 'FILE-*', targets: ['city-file'] }, { itemCode: 'NEW-*', targets: ['city-new'] }] }));

    fs.writeFileSync(file('city-broken'), YAML.stringify({ ...restSystem('city-broken', 'not a url'), retry: { attempts: 0 } }));
    const refused = await admin(a, 'POST', '/config/reload', { reason: '新增系统' });
    expect(refused.status).toBe(400);
    expect(refused.body.error).toMatchObject({ code: 'invalid_config', message: expect.stringContaining('nothing was changed') });
    expect(refused.body.error.details.map((d: { path: string }) => d.path)).toEqual(expect.arrayContaining(['systems/city-broken.yaml at endpoint', 'systems/city-broken.yaml at retry.attempts']));
    expect((await admin(a, 'GET', '/systems/city-file')).status).toBe(404);
    expect((await admin(a, 'GET', '/systems/city-a')).body.version).toBe(1);
    fs.rmSync(file('city-broken'));

    expect((await admin(a, 'POST', '/config/reload', {}, asOperator)).status).toBe(403);
    const reloaded = await admin(a, 'POST', '/config/reload', { reason: '新增系统' });
    expect(reloaded.status).toBe(200);
    expect(reloaded.body).toEqual({
      added: ['city-file'],
      changed: ['city-a'],
      unchanged: ['city-b'],
      missingOnDisk: ['city-new'],
      routes: { changed: true, version: 5 },
      versions: { 'city-file': 1, 'city-a': 2 },
    });
    expect((await admin(a, 'GET', '/systems/city-file/history')).body).toEqual([expect.objectContaining({ version: 1, source: 'file', summary: 'created from the file', reason: '新增系统' })]);
    expect((await admin(a, 'GET', '/systems/city-a/history')).body[0]).toMatchObject({ version: 2, source: 'file', summary: 'reloaded from the file: changed timeoutMs' });
    expect((await admin(a, 'GET', '/systems/city-b')).body).toMatchObject({ version: 2, source: 'api', system: { timeoutMs: 3000 } });
    expect((await admin(a, 'GET', '/audit?limit=1')).body.items[0]).toMatchObject({
      action: 'config.reload',
      reason: '新增系统',
      detail: 'added city-file; changed city-a; routes version 5; without a file: city-new',
    });

    await eventually(async () => {
      expect((await admin(b, 'GET', '/systems/city-file')).body).toMatchObject({ version: 1, source: 'file' });
      expect((await admin(b, 'GET', '/systems/city-a')).body.version).toBe(2);
      expect((await admin(b, 'GET', '/routes')).body.version).toBe(5);
    }, FOLLOW_MS);
    const view = await delivered(b, sampleCase({ itemCode: 'FILE-1' }));
    expect(view.deliveries.map((d: { systemId: string }) => d.systemId)).toEqual(['city-file']);

    // Read again with nothing changed on disk: nothing is stored.
    const idle = await admin(a, 'POST', '/config/reload');
    expect(idle.body).toMatchObject({ added: [], changed: [], unchanged: ['city-a', 'city-b', 'city-file'], routes: { changed: false, version: 5 } });
    expect((await admin(a, 'GET', '/audit?limit=1')).body.items[0]).toMatchObject({ action: 'config.reload', detail: 'without a file: city-new' });
  });

  it('then a removal is refused with the counts while deliveries are in flight or dead, or the configuration names the system; else every process drops it, and its history keeps the removal', async () => {
    const doomed = restSystem('city-doomed', endpoint('down'), { retry: { attempts: 1, backoff: { type: 'fixed', delayMs: 10 } } });
    expect((await admin(a, 'PUT', '/systems/city-doomed', doomed)).status).toBe(201);
    const dead = sampleCase({ itemCode: 'A-9', targets: ['city-doomed'] });
    expect((await submit(a, dead)).status).toBe(202);
    await eventually(async () => expect((await caseView(a, dead.caseId as string)).body.deliveries[0].status).toBe('dead'));
    expect((await admin(a, 'POST', '/systems/city-doomed/pause')).status).toBe(200);
    const waiting = sampleCase({ itemCode: 'A-9', targets: ['city-doomed'] });
    expect((await submit(a, waiting)).status).toBe(202);

    expect((await admin(a, 'DELETE', '/systems/city-doomed', undefined, asOperator)).status).toBe(403);
    const busy = await admin(a, 'DELETE', '/systems/city-doomed', { reason: '系统下线' });
    expect(busy.status).toBe(409);
    expect(busy.body.error).toEqual({
      code: 'system_busy',
      message: 'System city-doomed cannot be removed: 1 deliveries in flight, 1 dead letters. Nothing was changed.',
      details: [
        { path: 'inFlight', message: '1 deliveries waiting, delayed or active' },
        { path: 'deadLetters', message: '1 dead letters' },
      ],
    });
    // A route naming a system holds it, as does its file in the folder.
    const named = await admin(a, 'DELETE', '/systems/city-new');
    expect([named.status, named.body.error.details]).toEqual([
      409,
      [
        { path: 'inFlight', message: '0 deliveries waiting, delayed or active' },
        { path: 'deadLetters', message: '0 dead letters' },
        { path: 'routes.yaml at routes[3].targets[0]', message: 'names system "city-new"' },
      ],
    ]);
    const filed = await admin(a, 'DELETE', '/systems/city-b');
    expect(filed.body.error.details).toContainEqual({ path: 'systems/city-b.yaml', message: 'the file is still in the configuration folder: remove it first (a reload would add the system again)' });
    expect((await admin(a, 'GET', '/systems/city-doomed')).body.version).toBe(1);

    // Dealt with: the waiting delivery dies too once resumed, and both dead letters are discarded.
    await admin(a, 'POST', '/systems/city-doomed/resume');
    await eventually(async () => expect((await caseView(a, waiting.caseId as string)).body.deliveries[0].status).toBe('dead'));
    for (const c of [dead, waiting]) expect((await admin(a, 'DELETE', `/dead-letters/city-doomed.${c.caseId as string}`, { reason: '系统下线' })).status).toBe(200);

    const removed = await admin(a, 'DELETE', '/systems/city-doomed', { reason: '系统下线' });
    expect(removed.status).toBe(200);
    expect(removed.body).toEqual({ id: 'city-doomed', version: 2, removed: true });
    expect((await admin(a, 'GET', '/audit?limit=1')).body.items[0]).toMatchObject({ action: 'system.remove', target: 'city-doomed', reason: '系统下线', detail: 'version 2' });
    await eventually(async () => {
      expect((await admin(b, 'GET', '/systems/city-doomed')).status).toBe(404);
      expect((await admin(b, 'GET', '/systems')).body.map((s: { id: string }) => s.id)).not.toContain('city-doomed');
    }, FOLLOW_MS);
    const refusedCase = await submit(b, sampleCase({ itemCode: 'A-9', targets: ['city-doomed'] }));
    expect(refusedCase.body.error.details).toEqual([{ path: 'targets[0]', message: 'unknown system "city-doomed"' }]);
    expect((await admin(b, 'GET', '/systems/city-doomed/history')).body).toEqual([
      expect.objectContaining({ version: 2, summary: 'removed', removed: true, reason: '系统下线' }),
      expect.objectContaining({ version: 1, summary: 'created' }),
    ]);
    expect((await admin(b, 'GET', '/systems/city-doomed/history/2')).status).toBe(404);

    // Added again later, its history goes on.
    const back = await admin(a, 'PUT', '/systems/city-doomed', doomed);
    expect([back.status, back.body.version]).toEqual([201, 3]);
    await eventually(async () => expect((await admin(b, 'GET', '/systems/city-doomed')).body.version).toBe(3), FOLLOW_MS);
  });

  it('then a system that came from a file goes the same way: its route and file taken out and reloaded, it is listed without a file, then removed', async () => {
    const routesPath = path.join(dir, 'routes.yaml');
    const onDisk = YAML.parse(fs.readFileSync(routesPath, 'utf8')) as { routes: Array<{ itemCode: string }> };
    fs.writeFileSync(routesPath, YAML.stringify({ routes: onDisk.routes.filter((r) => r.itemCode !== 'FILE-*') }));
    fs.rmSync(path.join(dir, 'systems', 'city-file.yaml'));
    const reloaded = await admin(a, 'POST', '/config/reload');
    expect(reloaded.body).toMatchObject({ added: [], changed: [], missingOnDisk: ['city-doomed', 'city-file', 'city-new'], routes: { changed: true } });
    const removed = await admin(a, 'DELETE', '/systems/city-file', undefined, { 'If-Match': '"1"' });
    expect(removed.body).toEqual({ id: 'city-file', version: 2, removed: true });
    await eventually(async () => expect((await admin(b, 'GET', '/systems/city-file')).status).toBe(404), FOLLOW_MS);
    expect((await admin(a, 'POST', '/config/reload')).body).toMatchObject({ added: [], missingOnDisk: ['city-doomed', 'city-new'] });
  });
});
