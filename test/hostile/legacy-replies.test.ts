/**
 * What a legacy system sends back is input too: a reply of any size, an error page built to
 * backtrack a regex, and echoes of the request with the applicant's ID and phone number.
 */
import type { RunningGateway } from '../../src/gateway';
import {
  capturingLogger, caseView, eventually, legacyServer, replyJson, restSystem, sampleCase, startTestGateway, submit, writeConfig, type LegacyServer,
} from '../support/harness';

const ID = '330802199001011234';
const PHONE = '13800000000';

describe('when legacy systems answer with hostile replies', () => {
  let legacy: LegacyServer;
  let callbacks: LegacyServer;
  /** How many 1 MB chunks of an endless callback reply were written before the gateway hung up. */
  const callbackReplyChunks: number[] = [];
  let gateway: RunningGateway;
  const captured = capturingLogger();

  beforeAll(async () => {
    legacy = await legacyServer((req, _n, res) => {
      if (req.url.startsWith('/huge')) {
        // 300 MB, written lazily: the gateway must stop reading long before the end.
        res.writeHead(200, { 'Content-Type': 'application/json' });
        let sent = 0;
        const chunk = Buffer.alloc(1024 * 1024, 0x20);
        const more = () => {
          while (sent < 300 && res.write(chunk)) sent++;
          if (sent >= 300) res.end();
        };
        res.on('drain', more);
        res.on('close', () => res.off('drain', more));
        more();
        return;
      }
      // Control characters in a refusal and in a receipt number: the ledger could keep neither.
      if (req.url.startsWith('/nul-refuse')) return replyJson(res, 200, { code: '1', msg: '拒绝\u0000受理\u001b[2J' });
      if (req.url.startsWith('/nul-receipt')) return replyJson(res, 200, { code: '0', msg: '成功', data: { slbh: 'SL\u00001' } });
      if (req.url.startsWith('/script')) {
        res.writeHead(502, { 'Content-Type': 'text/html' });
        res.end('<script'.repeat(40_000));
        return;
      }
      // Echoes the request (and its credentials) in an error page, as a badly configured proxy does.
      const status = req.url.startsWith('/echo-400') ? 400 : 500;
      res.writeHead(status, { 'Content-Type': 'text/html; charset=utf-8' });
      res.end(`<html><body><h1>Error</h1><pre>${req.body} Authorization: ${req.headers.authorization}</pre></body></html>`);
    });
    callbacks = await legacyServer((req, _n, res) => {
      if (!String((req.json as { caseId?: string } | undefined)?.caseId).startsWith('QZ-BIGCB-')) return replyJson(res, 200, { ok: true });
      // 200, then 300 MB written lazily: the gateway must hang up long before the end.
      res.writeHead(200, { 'Content-Type': 'text/plain' });
      let sent = 0;
      const chunk = Buffer.alloc(1024 * 1024, 0x20);
      const more = () => {
        while (sent < 300) {
          sent++;
          if (!res.write(chunk)) return;
        }
        res.end();
      };
      res.on('drain', more);
      res.on('close', () => {
        res.off('drain', more);
        callbackReplyChunks.push(sent);
      });
      more();
    });
    const retry = { attempts: 2, backoff: { type: 'fixed', delayMs: 20 } };
    const dir = writeConfig(
      [
        restSystem('city-huge', `${legacy.url}/huge`, { retry }),
        restSystem('city-script', `${legacy.url}/script`, { retry }),
        restSystem('city-nul-refuse', `${legacy.url}/nul-refuse`, { retry }),
        restSystem('city-nul-receipt', `${legacy.url}/nul-receipt`, { retry }),
        restSystem('city-echo', `${legacy.url}/echo-500`, { retry, auth: { type: 'bearer', token: 'echoed-bearer-secret' } }),
        restSystem('city-echo-refuse', `${legacy.url}/echo-400`, { retry, request: { body: '{"sfzh": applicant.idNumber, "sjhm": applicant.phone}' } }),
      ],
      {
        routes: [
          { itemCode: 'HUGE-*', targets: ['city-huge'] },
          { itemCode: 'SCRIPT-*', targets: ['city-script'] },
          { itemCode: 'NUL-*', targets: ['city-nul-refuse', 'city-nul-receipt'] },
          { itemCode: 'ECHO-*', targets: ['city-echo', 'city-echo-refuse'] },
        ],
      },
      { intake: { callbackUrl: `${callbacks.url}/cb`, callbackSecret: 'cb-secret' }, limits: { maxReplyBytes: '1mb' } },
    );
    gateway = await startTestGateway(dir, { log: captured.log });
  });
  afterAll(async () => {
    await gateway.stop();
    await legacy.close();
    await callbacks.close();
  });

  it('then a 300 MB reply is cut off at limits.maxReplyBytes and retried, and memory stays flat', async () => {
    const before = process.memoryUsage().rss;
    const c = sampleCase({ itemCode: 'HUGE-1' });
    await submit(gateway, c);
    const d = await eventually(async () => {
      const delivery = (await caseView(gateway, c.caseId as string)).body.deliveries[0];
      expect(delivery.status).toBe('dead');
      return delivery;
    }, 20_000);
    expect(d.lastError).toBe('city-huge answered with more than 1048576 bytes (limits.maxReplyBytes); the reply was not read');
    expect(process.memoryUsage().rss - before).toBeLessThan(150 * 1024 * 1024);
  });

  it('then an error page of 273 KB of "<script" is excerpted without stalling anything', async () => {
    const c = sampleCase({ itemCode: 'SCRIPT-1' });
    const started = Date.now();
    await submit(gateway, c);
    const d = await eventually(async () => {
      const delivery = (await caseView(gateway, c.caseId as string)).body.deliveries[0];
      expect(delivery.status).toBe('dead');
      return delivery;
    });
    expect(d.lastError).toMatch(/^city-script answered HTTP 502/);
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  it('then a NUL or another control character in a refusal is kept as U+FFFD, and in a receipt number makes the reply unreadable: none is stored', async () => {
    const c = sampleCase({ itemCode: 'NUL-1' });
    await submit(gateway, c);
    const view = await eventually(async () => {
      const body = (await caseView(gateway, c.caseId as string)).body;
      expect(body.deliveries.map((d: { systemId: string; status: string }) => `${d.systemId} ${d.status}`).sort()).toEqual(['city-nul-receipt dead', 'city-nul-refuse rejected']);
      return body;
    });
    const delivery = (id: string) => view.deliveries.find((d: { systemId: string }) => d.systemId === id);
    expect(delivery('city-nul-refuse').lastError).toContain('拒绝\uFFFD受理\uFFFD[2J');
    expect(delivery('city-nul-receipt').lastError).toContain('the receipt number contains the control character U+0000');
    expect(delivery('city-nul-receipt').receiptNo).toBeUndefined();
    expect(JSON.stringify(view)).not.toMatch(/\\u00[01][0-9a-f]/);
  });

  it('then an echoed ID number, phone number or credential reaches no lastError, history, callback or log line', async () => {
    const c = sampleCase({ itemCode: 'ECHO-1' });
    await submit(gateway, c);
    const view = await eventually(async () => {
      const body = (await caseView(gateway, c.caseId as string)).body;
      expect(body.deliveries.map((d: { status: string }) => d.status).sort()).toEqual(['dead', 'rejected']);
      return body;
    });
    await eventually(async () => expect(callbacks.received.filter((r) => (r.json as { caseId: string }).caseId === c.caseId)).toHaveLength(2));
    const echoed = view.deliveries.find((d: { systemId: string }) => d.systemId === 'city-echo-refuse');
    expect(echoed.lastError).toContain('330*************34'); // the excerpt is there, masked
    const everything = [JSON.stringify(view), ...callbacks.received.map((r) => r.body), ...captured.lines].join('\n');
    expect(everything).not.toContain(ID);
    expect(everything).not.toContain(PHONE);
    expect(everything).not.toContain('echoed-bearer-secret');
  });

  it('then a callback reply of 300 MB is read no further than limits.maxReplyBytes, and the next event still goes out', async () => {
    const c = sampleCase({ caseId: `QZ-BIGCB-${Date.now()}`, itemCode: 'ECHO-2' });
    await submit(gateway, c);
    // Two events for the case: the second is posted only after the first was taken as delivered.
    await eventually(async () => expect(callbacks.received.filter((r) => (r.json as { caseId: string }).caseId === c.caseId)).toHaveLength(2), 20_000);
    await eventually(async () => expect(callbackReplyChunks).toHaveLength(2));
    // 1 MB read, plus what the sockets' buffers held when the gateway hung up (a reply read whole would be 300).
    for (const chunks of callbackReplyChunks) expect(chunks).toBeLessThanOrEqual(16);
  });
});
