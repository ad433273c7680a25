/**
 * Each shipped system pushes with its own inbound token (issue 9): one system's token is refused on
 * every other system's result endpoint, REST, XML and SOAP alike, and changes nothing.
 */
import path from 'node:path';
import * as soap from 'soap';
import { loadConfig, type GatewayConfig } from '../../src/config/loader';
import type { SystemConfig } from '../../src/config/schema';
import type { RunningGateway } from '../../src/gateway';
import { demoEnv, demoResultToken } from '../../sim/samples';
import { pushResult, startTestGateway, uniquePrefix } from '../support/harness';
import { storedState } from '../xml/support';

const CONFIG_DIR = path.join(__dirname, '..', '..', 'config');
const ENV = demoEnv();

describe('when a shipped system presents its inbound token on another system’s endpoint', () => {
  let config: GatewayConfig;
  let gateway: RunningGateway;
  let prefix: string;
  const pushing = (protocol: SystemConfig['protocol']) => [...config.systems.values()].filter((s) => s.protocol === protocol && s.result!.mode === 'push').map((s) => s.id);

  beforeAll(async () => {
    config = loadConfig(CONFIG_DIR, ENV);
    prefix = uniquePrefix();
    gateway = await startTestGateway(CONFIG_DIR, { env: ENV as Record<string, string>, keyPrefix: prefix });
  });
  afterAll(async () => {
    await gateway?.stop();
  });

  it('then REST /api/v1/results/:systemId answers 401 to it, and only the system’s own token gets past the check', async () => {
    const [a, b] = pushing('rest');
    const before = await storedState(prefix);
    const refused = await pushResult(gateway, b!, { anything: 1 }, demoResultToken(a!));
    expect(refused).toEqual({ status: 401, body: { error: { code: 'unauthorized', message: 'A valid bearer token of the pushing system is required.' } } });
    expect(await storedState(prefix)).toEqual(before);
    // The same body with b's own token passes the credential check (and is then refused for its content).
    expect((await pushResult(gateway, b!, { anything: 1 }, demoResultToken(b!))).status).toBe(400);
  });

  it('then XML /xml/results/:systemId answers a 401 ack to it', async () => {
    const [x, y] = pushing('xml');
    const push = (systemId: string, token: string) =>
      fetch(`${gateway.url}/xml/results/${systemId}`, { method: 'POST', headers: { 'content-type': 'text/xml; charset=UTF-8', authorization: `Bearer ${token}` }, body: '<Result><x>1</x></Result>' });
    const before = await storedState(prefix);
    const refused = await push(y!, demoResultToken(x!));
    expect(refused.status).toBe(401);
    expect(await refused.text()).toContain('<code>unauthorized</code>');
    expect(await storedState(prefix)).toEqual(before);
    expect((await push(y!, demoResultToken(y!))).status).not.toBe(401);
  });

  it('then SOAP PushResult refuses its UsernameToken for another systemId', async () => {
    const [s, t] = pushing('soap');
    const client = await soap.createClientAsync(`${gateway.url}/soap/results?wsdl`, { disableCache: true });
    const push = (username: string, password: string, systemId: string) => {
      client.setSecurity(new soap.WSSecurity(username, password, { passwordType: 'PasswordText' }));
      return new Promise<string>((resolve) => {
        (client as any).ResultService.ResultSoap11.PushResult({ systemId, caseId: 'QZ-NO-SUCH-CASE', outcome: '1' }, (err: any) =>
          resolve(err ? String(err?.root?.Envelope?.Body?.Fault?.faultstring) : 'accepted'),
        );
      });
    };
    const userOf = (id: string) => config.systems.get(id)!.result!.inboundUsername ?? id;
    expect(await push(userOf(s!), demoResultToken(s!), t!)).toMatch(/^(Authentication failed|A WS-Security UsernameToken)/);
    expect(await push(userOf(t!), demoResultToken(s!), t!)).toMatch(/^Authentication failed for /);
    expect(await push(userOf(t!), demoResultToken(t!), t!)).not.toMatch(/Authentication failed|UsernameToken/);
  });
});
