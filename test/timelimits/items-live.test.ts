/**
 * The item catalogue edited while the gateway runs, versioned like the routing table: GET with its
 * version (ETag), PUT with If-Match (admin only, validated as at start-up, audited), its history, a
 * rollback; a reload reads items.yaml and the calendar files again. Two gateways on one Redis: what
 * one is told, the other uses within 5 s (case views computed by the new limits and calendar).
 */
import fs from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';
import type { RunningGateway } from '../../src/gateway';
import { admin, adminWithHeaders, caseView, OPERATOR_TOKEN, sampleCase, startTestGateway, submit, uniquePrefix, VIEWER_TOKEN, eventually } from '../support/harness';
import { BY_HAND, clockWorld, ITEMS, TestClock, type ClockWorld } from './support';

const FOLLOW_MS = 5000;
const asViewer = { Authorization: `Bearer ${VIEWER_TOKEN}` };
const asOperator = { Authorization: `Bearer ${OPERATOR_TOKEN}` };

describe('the item catalogue through the admin API', () => {
  let world: ClockWorld;
  let a: RunningGateway;
  let b: RunningGateway;
  const clock = new TestClock(new Date('2026-12-07T10:00:00+08:00'));
  let caseId: string;

  beforeAll(async () => {
    world = await clockWorld();
    const keyPrefix = uniquePrefix();
    a = await startTestGateway(world.dir, { keyPrefix, now: clock.now, options: { timeLimitTickMs: BY_HAND } });
    b = await startTestGateway(world.dir, { keyPrefix, now: clock.now, options: { timeLimitTickMs: BY_HAND } });
    const c = sampleCase({ itemCode: '330800-FG-010' });
    caseId = c.caseId as string;
    expect((await submit(a, c)).status).toBe(202);
  });
  afterAll(async () => {
    await a?.stop();
    await b?.stop();
    await world.close();
  });

  const timeLimitAt = async (gateway: RunningGateway) => (await caseView(gateway, caseId)).body.timeLimit as { promisedDueAt: string; legalDueAt: string; weekendsOnly?: number[] };

  it('shows items.yaml as written with its version, to a viewer too', async () => {
    const shown = await adminWithHeaders(a, 'GET', '/items', undefined, asViewer);
    expect(shown.status).toBe(200);
    expect(shown.headers.get('etag')).toBe('"1"');
    expect(shown.body).toEqual({ version: 1, source: 'file', items: ITEMS.items });
    expect((await timeLimitAt(b)).promisedDueAt).toBe('2026-12-14T23:59:59.999+08:00'); // 5 working days
  });

  it('refuses a change without If-Match, from an operator, on a stale version, or that does not validate, and nothing changes', async () => {
    const shorter = { items: [{ ...ITEMS.items[0], promisedDays: 3 }, ITEMS.items[1]] };
    expect((await admin(a, 'PUT', '/items', shorter)).status).toBe(428);
    expect((await admin(a, 'PUT', '/items', shorter, { ...asOperator, 'If-Match': '"1"' })).status).toBe(403);
    expect((await admin(a, 'PUT', '/items', shorter, { 'If-Match': '"7"' })).status).toBe(412);
    const invalid = await admin(a, 'PUT', '/items', { items: [{ itemCode: '330800-FG-*', type: 2, legalDays: 5, promisedDays: 8, warnDays: 9 }, { itemCode: 'X', type: 3 }] }, { 'If-Match': '"1"' });
    expect(invalid.status).toBe(400);
    expect(invalid.body.error.code).toBe('invalid_config');
    expect(invalid.body.error.details.map((d: { path: string }) => d.path).sort()).toEqual(['items[0].promisedDays', 'items[0].warnDays', 'items[1].type']);
    // An environment reference the file did not have would read the process's environment.
    const reference = await admin(a, 'PUT', '/items', { items: [{ ...ITEMS.items[0], name: '${HOME}' }] }, { 'If-Match': '"1"' });
    expect([reference.status, reference.body.error.details[0].path]).toEqual([400, 'items[0].name']);
    expect((await admin(a, 'GET', '/items')).body.version).toBe(1);
    expect((await admin(a, 'GET', '/items/history')).body).toHaveLength(1);
  });

  it('stores a valid change as version 2, audited; the other process computes clocks by it within 5 s; a rollback is version 3', async () => {
    const shown = (await admin(a, 'GET', '/items')).body;
    const shorter = { ...shown, items: [{ ...ITEMS.items[0], promisedDays: 3 }, ITEMS.items[1]] };
    const stored = await adminWithHeaders(a, 'PUT', '/items', shorter, { 'If-Match': '"1"' });
    expect(stored.status).toBe(200);
    expect(stored.headers.get('etag')).toBe('"2"');
    expect(stored.body).toEqual({ version: 2, source: 'api', items: shorter.items });
    expect((await admin(a, 'GET', '/audit?limit=1')).body.items[0]).toMatchObject({ action: 'items.configure', target: 'items', detail: 'version 2' });
    expect((await timeLimitAt(a)).promisedDueAt).toBe('2026-12-10T23:59:59.999+08:00');
    // The export writes the catalogue in use, ready to commit.
    expect(YAML.parse((await admin(a, 'GET', '/config/export')).body.files['items.yaml'])).toEqual({ items: shorter.items });
    await eventually(async () => {
      expect((await admin(b, 'GET', '/items')).body.version).toBe(2);
      expect((await timeLimitAt(b)).promisedDueAt).toBe('2026-12-10T23:59:59.999+08:00');
    }, FOLLOW_MS);

    const history = (await admin(b, 'GET', '/items/history')).body as Array<{ version: number; source: string; summary: string }>;
    expect(history.map((v) => [v.version, v.source, v.summary])).toEqual([
      [2, 'api', 'changed items'],
      [1, 'file', 'the configuration file'],
    ]);
    expect((await admin(b, 'GET', '/items/history/1')).body).toMatchObject({ version: 1, items: ITEMS.items });
    expect((await admin(b, 'GET', '/items/history/9')).status).toBe(404);

    expect((await admin(b, 'POST', '/items/rollback', { version: 1, reason: '承诺时限未获批准' }, { 'If-Match': '"1"' })).status).toBe(412);
    const rolled = await admin(b, 'POST', '/items/rollback', { version: 1, reason: '承诺时限未获批准' }, { 'If-Match': '"2"' });
    expect(rolled.body).toEqual({ version: 3, source: 'file', items: ITEMS.items });
    expect((await admin(b, 'GET', '/audit?limit=1')).body.items[0]).toMatchObject({ action: 'items.rollback', target: 'items', reason: '承诺时限未获批准' });
    await eventually(async () => expect((await timeLimitAt(a)).promisedDueAt).toBe('2026-12-14T23:59:59.999+08:00'), FOLLOW_MS);
  });

  it('when items.yaml and the calendar change on disk, then a reload makes each a new version, which both processes use', async () => {
    // Without a 2027 calendar, Fri Jan 1 counts: the legal limit (20 working days) ends Mon Jan 4.
    expect(await timeLimitAt(b)).toMatchObject({ legalDueAt: '2027-01-04T23:59:59.999+08:00', weekendsOnly: [2027] });
    const unchanged = (await admin(a, 'POST', '/config/reload')).body;
    expect([unchanged.items, unchanged.calendar]).toEqual([{ changed: false, version: 3 }, { changed: false, version: 1 }]);

    fs.writeFileSync(path.join(world.dir, 'items.yaml'), YAML.stringify({ items: [{ ...ITEMS.items[0], legalDays: 15 }, ITEMS.items[1]] }));
    fs.writeFileSync(path.join(world.dir, 'calendar', '2027.yaml'), YAML.stringify({ holidays: ['2027-01-01'], workdays: [] })); // this test's own, not the State Council's
    const reloaded = await admin(a, 'POST', '/config/reload', { reason: '2027 年日历' });
    expect(reloaded.status).toBe(200);
    expect([reloaded.body.items, reloaded.body.calendar]).toEqual([{ changed: true, version: 4 }, { changed: true, version: 2 }]);
    expect((await admin(a, 'GET', '/audit?limit=1')).body.items[0]).toMatchObject({ action: 'config.reload', detail: 'items version 4; calendar version 2' });
    // 15 working days from Mon Dec 7: Dec 8…28 → Mon Dec 28; the 2027 calendar is in use (no weekendsOnly).
    for (const gateway of [a, b]) {
      await eventually(async () => {
        const limit = await timeLimitAt(gateway);
        expect(limit).toMatchObject({ legalDueAt: '2026-12-28T23:59:59.999+08:00' });
        expect(limit.weekendsOnly).toBeUndefined();
      }, FOLLOW_MS);
    }
    expect((await admin(b, 'GET', '/items/history')).body[0]).toMatchObject({ version: 4, source: 'file', summary: 'reloaded from the file: changed items' });

    // A calendar file that does not validate refuses the whole reload, naming it; nothing changes.
    fs.writeFileSync(path.join(world.dir, 'calendar', '2027.yaml'), YAML.stringify({ holidays: ['2026-12-31'] }));
    const refused = await admin(a, 'POST', '/config/reload');
    expect(refused.status).toBe(400);
    expect(refused.body.error.details.map((d: { path: string }) => d.path)).toEqual([expect.stringMatching(/^calendar\/2027\.yaml/)]);
    expect((await timeLimitAt(a)).weekendsOnly).toBeUndefined();
  });
});
