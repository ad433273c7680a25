/**
 * OpenTelemetry traces, off by default: on when OTEL_EXPORTER_OTLP_ENDPOINT or
 * OTEL_TRACES_EXPORTER is set. The OTLP exporter reads the other standard OTEL_* variables itself
 * (headers, timeout, per-signal endpoint). Code everywhere else uses @opentelemetry/api only, which
 * is a no-op until a provider is registered, so tracing costs nothing when it is off.
 *
 * One case is one trace: the intake request's span → BullMQ's producer/consumer spans (the context
 * rides in the job, bullmq-otel) → the adapter call (W3C traceparent to the legacy system) → the
 * callback's drain job and POST. A result pushed with a traceparent joins the same trace.
 */
import { context, propagation, SpanKind, SpanStatusCode, trace, type Attributes, type Span, type Tracer } from '@opentelemetry/api';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BatchSpanProcessor, ConsoleSpanExporter, NodeTracerProvider, type SpanExporter, type SpanProcessor } from '@opentelemetry/sdk-trace-node';
import { BullMQOtel } from 'bullmq-otel';
import type { Telemetry } from 'bullmq';

export const TRACER_NAME = 'onewindow-gateway';

let provider: NodeTracerProvider | undefined;

/** Whether tracing is on in this process (a provider was registered by startTracing or a test). */
export function tracingEnabled(): boolean {
  return provider !== undefined;
}

/** The exporter the standard variables ask for, or undefined when tracing stays off. */
export function exporterFromEnv(env: Readonly<Record<string, string | undefined>>): SpanExporter | undefined {
  if (env.OTEL_SDK_DISABLED === 'true') return undefined;
  const kinds = (env.OTEL_TRACES_EXPORTER ?? '').split(',').map((k) => k.trim()).filter(Boolean);
  if (kinds.includes('none')) return undefined;
  if (kinds.length === 0 && !env.OTEL_EXPORTER_OTLP_ENDPOINT && !env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) return undefined;
  if (kinds.includes('console')) return new ConsoleSpanExporter();
  // `otlp` (the default): http/protobuf's JSON sibling, to OTEL_EXPORTER_OTLP_(TRACES_)ENDPOINT.
  return new OTLPTraceExporter();
}

/**
 * Registers the global tracer provider (AsyncLocalStorage context, W3C trace context propagator).
 * `processors` replace the exporter from the environment (tests pass an in-memory one).
 */
export function startTracing(options: { env?: Readonly<Record<string, string | undefined>>; processors?: SpanProcessor[] } = {}): boolean {
  if (provider) return true;
  const env = options.env ?? process.env;
  let processors = options.processors;
  if (!processors) {
    const exporter = exporterFromEnv(env);
    if (!exporter) return false;
    processors = [new BatchSpanProcessor(exporter)];
  }
  provider = new NodeTracerProvider({
    resource: resourceFromAttributes({ 'service.name': env.OTEL_SERVICE_NAME ?? TRACER_NAME }),
    spanProcessors: processors,
  });
  provider.register();
  return true;
}

/** Flushes and unregisters (shutdown, tests). */
export async function stopTracing(): Promise<void> {
  const p = provider;
  provider = undefined;
  if (!p) return;
  await p.shutdown();
  trace.disable();
  context.disable();
  propagation.disable();
}

export function tracer(): Tracer {
  return trace.getTracer(TRACER_NAME);
}

/** BullMQ's telemetry option when tracing is on: queues write the context into jobs, workers resume it. */
export function bullTelemetry(): Telemetry | undefined {
  return tracingEnabled() ? (new BullMQOtel({ tracerName: TRACER_NAME }) as unknown as Telemetry) : undefined;
}

/**
 * Runs `fn` inside a new span (child of the active one); a throw marks the span as an error with the
 * error's message, which callers keep free of personal data (it is the same text as the logs').
 */
export async function inSpan<T>(name: string, kind: SpanKind, attributes: Attributes, fn: (span: Span) => Promise<T>): Promise<T> {
  return tracer().startActiveSpan(name, { kind, attributes }, async (span) => {
    try {
      return await fn(span);
    } catch (err) {
      span.setStatus({ code: SpanStatusCode.ERROR, message: err instanceof Error ? err.message : String(err) });
      throw err;
    } finally {
      span.end();
    }
  });
}

/** The W3C trace context headers of the active span (empty when tracing is off). */
export function traceHeaders(): Record<string, string> {
  const headers: Record<string, string> = {};
  propagation.inject(context.active(), headers);
  return headers;
}

export { SpanKind };
