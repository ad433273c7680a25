/**
 * The small pieces of the SOAP path: UsernameToken checks (text, digest, skew, replay), the
 * charset handling around the soap package, and the fault decision.
 */
import crypto from 'node:crypto';
import iconv from 'iconv-lite';
import { PermanentError, RetryableError } from '../../src/platform/failure';
import { classifySoapError } from '../../adapters/soap/soap.faults';
import { decodeEnvelope, encodeEnvelope, rootElementName, withCharset } from '../../adapters/soap/soap.wire';
import { passwordDigest, UsernameTokenVerifier, type PresentedToken } from '../../adapters/soap/wsse';

const expected = { username: 'qz-push', password: '密码-secret' };

function digestToken(created: string, nonce = crypto.randomBytes(16).toString('base64'), password = expected.password): PresentedToken {
  return { username: 'qz-push', passwordType: 'PasswordDigest', nonce, created, password: passwordDigest(nonce, created, password) };
}

describe('when a UsernameToken is verified', () => {
  const now = Date.parse('2026-11-28T09:30:00Z');
  const verifier = new UsernameTokenVerifier({ now: () => now });

  it('then PasswordText needs the exact username and password', async () => {
    expect(await verifier.verify({ username: 'qz-push', password: '密码-secret', passwordType: 'PasswordText' }, expected)).toBe(true);
    expect(await verifier.verify({ username: 'qz-push', password: '密码-secreT', passwordType: 'PasswordText' }, expected)).toBe(false);
    expect(await verifier.verify({ username: 'qz-pusher', password: '密码-secret', passwordType: 'PasswordText' }, expected)).toBe(false);
  });

  it('then a PasswordDigest is recomputed from nonce, created and password, and used once', async () => {
    const token = digestToken('2026-11-28T09:29:00Z');
    expect(await verifier.verify(token, expected)).toBe(true);
    expect(await verifier.verify(token, expected)).toBe(false); // replayed
    expect(await verifier.verify(digestToken('2026-11-28T09:29:01Z', undefined, 'wrong'), expected)).toBe(false);
    expect(await verifier.verify({ ...digestToken('2026-11-28T09:29:02Z'), nonce: undefined }, expected)).toBe(false);
  });

  it('then a digest created too long ago (or ahead) is refused', async () => {
    expect(await verifier.verify(digestToken('2026-11-28T09:20:00Z'), expected)).toBe(false);
    expect(await verifier.verify(digestToken('2026-11-28T09:40:00Z'), expected)).toBe(false);
    expect(await verifier.verify(digestToken('not a date'), expected)).toBe(false);
  });
});

describe('when SOAP text crosses a charset', () => {
  it('then a request is written in GBK with its declaration and Content-Type saying so', () => {
    const bytes = encodeEnvelope('<?xml version="1.0" encoding="utf-8"?><a>张三 𠀀</a>', 'gbk');
    // 𠀀 is not in GBK: it travels as a character reference.
    expect(iconv.decode(bytes, 'gbk')).toBe('<?xml version="1.0" encoding="GBK"?><a>张三 &#x20000;</a>');
    expect(withCharset('application/soap+xml; charset=utf-8; action="urn:x"', 'gbk')).toBe('application/soap+xml; charset=GBK; action="urn:x"');
    expect(withCharset('text/xml', 'gb18030')).toBe('text/xml; charset=GB18030');
  });

  it('then GBK bytes labelled UTF-8 by a careless server are still read by their declaration', () => {
    const bytes = iconv.encode('<?xml version="1.0" encoding="GBK"?><soap:Envelope><msg>材料不齐全</msg></soap:Envelope>', 'gbk');
    expect(decodeEnvelope(bytes, 'text/xml; charset=utf-8', 'gbk')).toMatchObject({ text: expect.stringContaining('材料不齐全'), charset: 'gbk' });
  });

  it('then the document element is found past declarations, comments and a DOCTYPE', () => {
    expect(rootElementName('<?xml version="1.0"?>\n<!-- x --><soapenv:Envelope/>')).toBe('Envelope');
    expect(rootElementName('<!DOCTYPE html><html></html>')).toBe('html');
    expect(rootElementName('Service Unavailable')).toBeUndefined();
    expect(rootElementName('')).toBeUndefined();
  });
});

describe('when a SOAP call fails', () => {
  const fault = (Fault: Record<string, unknown>) => Object.assign(new Error('fault'), { root: { Envelope: { Body: { Fault } } } });

  it('then the sender\'s faults are permanent and the receiver\'s (or unknown ones) retried', () => {
    expect(classifySoapError('s', fault({ faultcode: 'soapenv:Client.InvalidData', faultstring: 'x' }))).toBeInstanceOf(PermanentError);
    expect(classifySoapError('s', fault({ Code: { Value: 'env:Sender', Subcode: { Value: 'app:Bad' } }, Reason: { Text: { $value: 'x', attributes: { 'xml:lang': 'zh' } } } })).message).toBe(
      's answered with a SOAP fault env:Sender / app:Bad: x',
    );
    expect(classifySoapError('s', fault({ faultcode: 'VersionMismatch', faultstring: 'x' }))).toBeInstanceOf(PermanentError);
    expect(classifySoapError('s', fault({ faultcode: 'soap:Server', faultstring: 'x' }))).toBeInstanceOf(RetryableError);
    expect(classifySoapError('s', fault({ faultcode: 'ns:Busy', faultstring: 'x' }))).toBeInstanceOf(RetryableError);
    expect(classifySoapError('s', new Error('Cannot parse response'))).toBeInstanceOf(RetryableError);
  });
});
