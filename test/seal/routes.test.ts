/** GET /api/v1/seal/keys and POST /api/v1/seal/verify over real HTTP on port 0. */
import type http from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import pino from 'pino';
import { apiErrorHandler } from '../../src/app';
import { sealRoutes } from '../../src/seal/routes';
import { VerifyThread } from '../../src/seal/verify-thread';
import type { Seal } from '../../src/seal/seal';
import { ISSUED, marriageRecord, openSealer } from './helpers';

const DAY = 86_400_000;

describe('seal HTTP routes', () => {
  // The verifier's clock is the only thing not real: seals are issued at ISSUED, checked a day later.
  const now = () => new Date(ISSUED.getTime() + DAY);
  const sealer = openSealer('SM2-SM3', undefined, now);
  const verifier = new VerifyThread(sealer);
  let server: http.Server;
  let url: string;
  let seal: Seal;

  beforeAll(async () => {
    const app = express();
    app.use(sealRoutes({ sealer, verifier, bodyLimit: '64kb' }));
    app.use(apiErrorHandler(pino({ level: 'silent' })));
    server = await new Promise<http.Server>((resolve) => {
      const s = app.listen(0, '127.0.0.1', () => resolve(s));
    });
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    seal = sealer.seal({ document: marriageRecord(), purpose: '办理出具房改核查证明（330800-FG-001）', caseId: 'QZ-1', systemId: 'nat-civil-affairs', now: ISSUED });
  });
  afterAll(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await verifier.close();
  });

  const verify = (body: unknown, contentType = 'application/json') =>
    fetch(`${url}/api/v1/seal/verify`, { method: 'POST', headers: { 'content-type': contentType }, body: typeof body === 'string' ? body : JSON.stringify(body) });

  it('lists the keys, public halves only', async () => {
    const res = await fetch(`${url}/api/v1/seal/keys`);
    expect(res.status).toBe(200);
    const body = (await res.json()) as { keys: Array<Record<string, unknown>> };
    expect(body.keys).toHaveLength(1);
    expect(body.keys[0]).toEqual({
      keyId: seal.keyId,
      alg: 'SM2-SM3',
      publicKeyPem: expect.stringMatching(/^-----BEGIN PUBLIC KEY-----\n/),
      publicKeyHex: expect.stringMatching(/^04[0-9a-f]{128}$/),
      status: 'active',
      createdAt: expect.any(String),
    });
    expect(JSON.stringify(body)).not.toMatch(/PRIVATE/);
  });

  it('verifies a document seal', async () => {
    const res = await verify({ seal, payload: marriageRecord() });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ valid: true, keyId: seal.keyId, alg: 'SM2-SM3', origin: '衢州市一窗受理云平台', purpose: seal.purpose, expiresAt: seal.expiresAt, expired: false, changed: [] });
  });

  it('names the field of a tampered document', async () => {
    const res = await verify({ seal, payload: { ...marriageRecord(), registeredAt: '2015-06-02' } });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ valid: false, expired: false, changed: ['/registeredAt'], reason: expect.stringMatching(/^payload_changed/) });
  });

  it('verifies exact bytes sent as payloadBase64', async () => {
    const body = Buffer.from('<Request><xm>张三</xm></Request>');
    const bodySeal = sealer.seal({ payloadBytes: body, purpose: 'p', caseId: 'QZ-1', systemId: 'prov-x', now: ISSUED });
    expect(await (await verify({ seal: bodySeal, payloadBase64: body.toString('base64') })).json()).toMatchObject({ valid: true });
  });

  it.each([
    ['no payload', () => ({ seal }), '(body)'],
    ['both payloads', () => ({ seal, payload: {}, payloadBase64: '' }), '(body)'],
    ['a seal without signature', () => ({ seal: { ...seal, signature: undefined }, payload: {} }), 'seal.signature'],
    ['a digest that is not hex', () => ({ seal: { ...seal, digest: 'zz' }, payload: {} }), 'seal.digest'],
    ['an unknown seal key', () => ({ seal: { ...seal, extra: 1 }, payload: {} }), 'seal.extra'],
    ['an unknown algorithm', () => ({ seal: { ...seal, alg: 'RSA' }, payload: {} }), 'seal.alg'],
    // Refused by the shared JSON body parser before the seal schema sees it.
    ['a payload nested 5000 deep', () => `{"seal": ${JSON.stringify(seal)}, "payload": ${'['.repeat(5000)}${']'.repeat(5000)}}`, 'payload[0][0][0]', 'invalid_json'],
  ])('answers 400 with details for %s', async (_label, body, path, code = 'invalid_request') => {
    const res = await verify(body());
    expect(res.status).toBe(400);
    const answer = (await res.json()) as { error: { code: string; message: string; details: Array<{ path: string; message: string }> } };
    expect(answer.error.code).toBe(code);
    expect(answer.error.details.map((d) => d.path.slice(0, path.length))).toContain(path);
    expect(JSON.stringify(answer)).not.toMatch(/at .*\.ts:\d+/); // no stack trace
  });

  it('answers 400 invalid_json, 415 and 413 in the contract shape', async () => {
    const broken = await verify('{"seal": ');
    expect(broken.status).toBe(400);
    expect(((await broken.json()) as { error: { code: string } }).error.code).toBe('invalid_json');
    const text = await verify(JSON.stringify({ seal, payload: {} }), 'text/plain');
    expect(text.status).toBe(415);
    const large = await verify({ seal, payload: { big: 'x'.repeat(70_000) } });
    expect(large.status).toBe(413);
    expect(((await large.json()) as { error: { code: string } }).error.code).toBe('payload_too_large');
  });
});
