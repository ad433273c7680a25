/** Seal rotations and verifications reach the audit trail (CONTRACT §6, issue: trust). */
import type { RunningGateway } from '../../src/gateway';
import { admin, eventually, restSystem, startTestGateway, writeConfig } from '../support/harness';
import { marriageRecord, tempDir } from './helpers';

describe('when a seal key rotates and seals are verified', () => {
  let gateway: RunningGateway;

  beforeAll(async () => {
    const dir = writeConfig([restSystem('city-a', 'http://127.0.0.1:1/x')], { routes: [{ itemCode: '*', targets: ['city-a'] }] });
    gateway = await startTestGateway(dir, { dataDir: tempDir('seal-audit') });
  });
  afterAll(() => gateway.stop());

  it('then each is an audit entry, the rotation naming the new key', async () => {
    const seal = gateway.seals.seal({ document: marriageRecord(), purpose: '办理测试（X）', caseId: 'QZ-1', systemId: 'city-a' });
    const verify = (payload: unknown) => fetch(`${gateway.url}/api/v1/seal/verify`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ seal, payload }) });
    expect((await verify(marriageRecord())).status).toBe(200);
    expect((await verify({ ...marriageRecord(), spouseName: '改' })).status).toBe(200);
    const rotated = gateway.seals.keys.rotate();
    const entries = await eventually(async () => {
      const items = (await admin(gateway, 'GET', '/audit')).body.items as Array<Record<string, string>>;
      expect(items.filter((e) => e.action === 'seal.verify')).toHaveLength(2);
      expect(items.some((e) => e.action === 'seal.rotate' && e.target === rotated.keyId)).toBe(true);
      return items;
    });
    expect(entries.filter((e) => e.action === 'seal.verify').map((e) => e.detail).sort()).toEqual([expect.stringMatching(/^payload_changed/), 'valid']);
  });
});
