/** Seal rotations reach the audit trail; public verifications do not (they are counted in metrics). */
import type { RunningGateway } from '../../src/gateway';
import { admin, eventually, restSystem, startTestGateway, writeConfig } from '../support/harness';
import { tempDir } from './helpers';

describe('when a seal key rotates', () => {
  let gateway: RunningGateway;

  beforeAll(async () => {
    const dir = writeConfig([restSystem('city-a', 'http://127.0.0.1:1/x')], { routes: [{ itemCode: '*', targets: ['city-a'] }] });
    gateway = await startTestGateway(dir, { dataDir: tempDir('seal-audit') });
  });
  afterAll(() => gateway.stop());

  it('then the rotation is an audit entry naming the new key', async () => {
    const rotated = gateway.seals.keys.rotate();
    await eventually(async () => {
      const items = (await admin(gateway, 'GET', '/audit')).body.items as Array<Record<string, string>>;
      expect(items.some((e) => e.action === 'seal.rotate' && e.target === rotated.keyId)).toBe(true);
    });
  });
});
