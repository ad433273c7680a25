/**
 * CVE-2026-133243: soap 1.13.0 builds multiRef objects in a plain `{}` keyed by their id, so a
 * multiRef `id="__proto__"` writes onto Object.prototype, through soap.listen or a client response.
 * The hardened XML reader is the input filter on both paths; these tests prove the hole is real in
 * the installed package and that a polluting reply never reaches it.
 */
import os from 'node:os';
import path from 'node:path';
import fs from 'node:fs';
import pino from 'pino';
import * as soap from 'soap';
import { createSoapAdapter } from '../../adapters/soap/soap.adapter';
import type { SystemOf } from '../../src/config/schema';
import { RetryableError } from '../../src/platform/failure';
import { CASE_NS, POLLUTING_IDS, caseServiceWsdl, soapPeer, type SoapPeer } from './support';

const polluting = (inside: string) =>
  '<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body>' +
  `<SubmitCaseResponse xmlns="${CASE_NS}"><code>0</code><msg>成功</msg><slbh>SL-1</slbh></SubmitCaseResponse>${inside}` +
  '</soap:Body></soap:Envelope>';

const MULTIREF = '<multiRef id="__proto__"><polluted>yes</polluted></multiRef>';

function prototypeNames(): string[] {
  return Object.getOwnPropertyNames(Object.prototype).sort();
}

function newerThan(version: string, than: string): boolean {
  const [a, b] = [version, than].map((v) => v.split('.').map(Number));
  for (let i = 0; i < 3; i++) if (a![i] !== b![i]) return a![i]! > b![i]!;
  return true;
}

describe('when the soap package meets a multiRef id="__proto__"', () => {
  it('then, unfiltered, the installed soap 1.13.0 does pollute Object.prototype (why the filter exists)', async () => {
    const installed = JSON.parse(fs.readFileSync(require.resolve('soap/package.json'), 'utf8')).version as string;
    // Once soap ≥ 1.14.1 is installed this no longer holds; the filter stays as defence in depth.
    if (newerThan(installed, '1.14.1')) return;
    const wsdl = new soap.WSDL(caseServiceWsdl('1.1'), 'case.wsdl', {});
    await new Promise<void>((resolve, reject) => wsdl.onReady((err: unknown) => (err ? reject(err) : resolve())));
    const before = prototypeNames();
    try {
      try {
        wsdl.xmlToObject(polluting(MULTIREF));
      } catch {
        // It throws afterwards; the damage is done by then.
      }
      expect(prototypeNames()).not.toEqual(before);
      expect(({} as Record<string, any>).obj?.polluted).toBe('yes');
    } finally {
      delete (Object.prototype as Record<string, unknown>).obj;
    }
    expect(prototypeNames()).toEqual(before);
  });
});

describe('when a SOAP system replies with a polluting envelope', () => {
  let peer: SoapPeer;
  const replies = [
    polluting(MULTIREF),
    polluting('<multiRef id="constructor"><prototype>x</prototype></multiRef>'),
    polluting('<slbh href="#__proto__"/>'),
    ...POLLUTING_IDS.map((id) => polluting(`<multiRef id="${id}"><polluted>yes</polluted></multiRef>`)),
    polluting('<slbh href="#&#95;_proto__"/>'),
  ];

  beforeAll(async () => {
    peer = await soapPeer({
      version: '1.1',
      submitCase: () => ({ code: '0', msg: '成功', slbh: 'SL-1' }),
      intercept: (_req, n, res) => {
        res.status(200).type('text/xml; charset=utf-8').send(replies[(n - 1) % replies.length]);
        return true;
      },
    });
  });
  afterAll(() => peer.close());

  it('then the adapter refuses it unread as a retryable error, and no prototype changes', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ow-soap-'));
    fs.mkdirSync(path.join(dir, 'wsdl'));
    fs.writeFileSync(path.join(dir, 'wsdl', 'case.wsdl'), caseServiceWsdl('1.1'));
    const system = {
      id: 'prov-evil',
      protocol: 'soap',
      endpoint: peer.url,
      charset: 'utf-8',
      auth: { type: 'none' },
      timeoutMs: 2000,
      concurrency: 1,
      soap: { wsdl: './wsdl/case.wsdl', service: 'CaseService', port: 'CasePort', operation: 'SubmitCase', version: '1.1' },
    } as unknown as SystemOf<'soap'>;
    const adapter = createSoapAdapter(system, { configDir: dir, maxReplyBytes: 4 * 1024 * 1024 });
    const before = prototypeNames();
    const ctx = { caseId: 'QZ-1', systemId: 'prov-evil', idempotencyKey: 'QZ-1:prov-evil', log: pino({ level: 'silent' }) };
    try {
      for (let i = 0; i < replies.length; i++) {
        const err = await adapter.send({ bizNo: 'QZ-1', sqrxm: '张三', sfzh: '1', sxbm: '1' }, ctx).catch((e: unknown) => e);
        expect(err).toBeInstanceOf(RetryableError);
        expect((err as Error).message).toMatch(/^prov-evil answered with a SOAP reply that was refused unread: XML attribute (id|href)="\s*#?(__proto__|constructor)\s*" is not allowed$/);
      }
    } finally {
      await adapter.close?.();
    }
    expect(prototypeNames()).toEqual(before);
    expect(({} as Record<string, unknown>).obj).toBeUndefined();
    expect(peer.received).toHaveLength(replies.length);
  });
});
