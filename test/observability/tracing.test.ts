/**
 * With tracing on (an in-memory exporter), one case is one connected trace: the intake request →
 * the BullMQ job → the adapter call (the legacy system receives a W3C traceparent) → the result the
 * system pushes with that traceparent → both callbacks.
 */
import { InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-node';
import { legacyServer, replyJson, restSystem, sampleCase, startTestGateway, submit, eventually, writeConfig, type LegacyServer } from '../support/harness';
import type { RunningGateway } from '../../src/gateway';
import { startTracing, stopTracing } from '../../src/platform/tracing';

const exporter = new InMemorySpanExporter();
let legacy: LegacyServer, intake: LegacyServer, gateway: RunningGateway;

beforeAll(async () => {
  expect(startTracing({ processors: [new SimpleSpanProcessor(exporter)] })).toBe(true);
  legacy = await legacyServer((req, _n, res) => {
    replyJson(res, 200, { code: '0', data: { slbh: 'T-1' } });
    // The system decides at once and pushes its result home, continuing the trace it was sent.
    const caseId = (req.json as { bizNo: string }).bizNo;
    setTimeout(() => void fetch(`${gateway.url}/api/v1/results/t-sys`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Authorization: 'Bearer tok-t', traceparent: String(req.headers.traceparent) },
      body: JSON.stringify({ ywh: caseId, jg: '1' }),
    }), 50);
  });
  intake = await legacyServer((_req, _n, res) => replyJson(res, 200, {}));
  const dir = writeConfig(
    [restSystem('t-sys', legacy.url, { result: { mode: 'push', map: '{"caseId": ywh, "outcome": jg = "1" ? "approved" : "rejected"}', inboundToken: 'tok-t' } })],
    { routes: [{ itemCode: '*', targets: ['t-sys'] }], unrouted: 'reject' },
    { intake: { callbackUrl: `${intake.url}/cb`, callbackSecret: 'cb-secret' } },
  );
  gateway = await startTestGateway(dir);
});

afterAll(async () => {
  await gateway?.stop();
  await legacy?.close();
  await intake?.close();
  await stopTracing();
});

test('one case, one trace from intake to callback; the legacy system receives a traceparent', async () => {
  const c = sampleCase();
  expect((await submit(gateway, c)).status).toBe(202);
  await eventually(async () => expect(intake.received.length).toBe(2), 15_000);

  const spans = exporter.getFinishedSpans();
  const intakeSpan = spans.find((s) => s.name === 'POST /api/v1/cases');
  expect(intakeSpan).toBeDefined();
  const traceId = intakeSpan!.spanContext().traceId;

  // W3C trace context: version 00, this trace, a span id, flags.
  const traceparent = String(legacy.received[0]!.headers.traceparent);
  expect(traceparent).toMatch(new RegExp(`^00-${traceId}-[0-9a-f]{16}-0[01]$`));
  for (const callback of intake.received) expect(String(callback.headers.traceparent)).toContain(traceId);

  await eventually(async () => {
    const inTrace = exporter.getFinishedSpans().filter((s) => s.spanContext().traceId === traceId).map((s) => s.name);
    expect(inTrace).toEqual(expect.arrayContaining([
      'POST /api/v1/cases',
      'deliver t-sys',
      'POST /api/v1/results/:systemId',
      'result t-sys',
      'callback delivery.delivered',
      'callback delivery.completed',
    ]));
    // The queued job: BullMQ's producer and consumer spans of the system's queue.
    expect(inTrace.filter((n) => n.includes('delivery-t-sys')).length).toBeGreaterThanOrEqual(2);
  });
  // Connected: every span of the trace but its root has its parent in the trace (a parent, such as a
  // job's consumer span, ends after its child, so it is waited for).
  await eventually(async () => {
    const inTrace = exporter.getFinishedSpans().filter((s) => s.spanContext().traceId === traceId);
    const ids = new Set(inTrace.map((s) => s.spanContext().spanId));
    const orphans = inTrace.filter((s) => s !== intakeSpan && !ids.has(s.parentSpanContext?.spanId ?? ''));
    expect(orphans.map((s) => s.name)).toEqual([]);
  });
});
