/** HTTP matters shared by the adapters that speak over HTTP (rest, xml, soap). */
import crypto from 'node:crypto';
import type { Readable } from 'node:stream';
import { EnvHttpProxyAgent, errors as undiciErrors, type Dispatcher } from 'undici';
import { egressRefusal } from '../src/config/egress';
import { secretsOf, type Auth, type Egress, type HealthProbe, type SystemConfig } from '../src/config/schema';
import { PermanentError, RetryableError, errorMessage } from '../src/platform/failure';
import { legacyExcerpt } from '../src/platform/privacy';
import { sign } from '../src/platform/signing';
import { traceHeaders } from '../src/platform/tracing';

/** One HTTP request as an adapter frames it; `body` is the exact bytes, or a stream with its Content-Length in `headers`. */
export interface HttpRequest {
  method: string;
  url: string;
  headers: Record<string, string>;
  body?: Buffer | Readable;
  /** The caller's own limit (a look-up's deadline); the system's `timeoutMs` applies as well. */
  signal?: AbortSignal;
  /** The request id the exchange is about, sent as X-Request-Id. */
  requestId?: string;
}

/** Whatever the system answered, any status: the adapter decides what it means. Header names are lower case. */
export interface HttpReply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

export interface HttpClient {
  /** Resolves with the whole reply; rejects only with a RetryableError (see `transportError`). */
  request(request: HttpRequest): Promise<HttpReply>;
  /** Ends the system's connections. */
  close(): Promise<void>;
}

/** Why a request was cut off by us rather than failed on the wire; `transportError` words them. */
class TimedOut extends Error {}
class ReplyTooLong extends Error {
  constructor(readonly limit: number) {
    super();
  }
}

/**
 * One keep-alive pool per configured system, at most `concurrency` connections, so a slow system
 * cannot starve another's sockets. A request gets `timeoutMs` for the whole exchange, is not
 * redirected, and its reply arrives as bytes (the adapter decodes them in the system's charset), at
 * most `maxReplyBytes` of them: a longer reply is cut off, not buffered. HTTP_PROXY, HTTPS_PROXY and
 * NO_PROXY are honoured as they were at start.
 */
export function httpClient(system: Pick<SystemConfig, 'id' | 'timeoutMs' | 'concurrency'>, maxReplyBytes: number): HttpClient {
  const { id, timeoutMs } = system;
  // undici's own timers measure idleness, not the whole exchange: they are only a backstop here.
  const dispatcher = outboundAgent({ connections: system.concurrency, headersTimeout: timeoutMs, bodyTimeout: timeoutMs, connect: { timeout: timeoutMs } });
  return {
    async request({ method, url, headers, body, signal, requestId }) {
      const cutOff = new AbortController();
      // undici does not always heed the signal (a proxy that hangs up on CONNECT leaves the request
      // pending for good), so the cut-off settles the exchange by itself.
      const cut = new Promise<never>((_resolve, reject) => cutOff.signal.addEventListener('abort', () => reject(cutOff.signal.reason as Error), { once: true }));
      cut.catch(() => undefined);
      const timer = setTimeout(() => cutOff.abort(new TimedOut()), timeoutMs);
      const callerAborted = () => cutOff.abort(signal?.reason);
      if (signal?.aborted) callerAborted();
      else signal?.addEventListener('abort', callerAborted, { once: true });
      try {
        const target = new URL(url);
        const sending = dispatcher.request({
          origin: target.origin,
          path: target.pathname + target.search,
          method: method as Dispatcher.HttpMethod,
          headers: wireHeaders(target, headers, requestId),
          body,
          signal: cutOff.signal,
        });
        sending.catch(() => undefined);
        const reply = await Promise.race([sending, cut]);
        const announced = Number(reply.headers['content-length']);
        if (announced > maxReplyBytes) {
          reply.body.destroy();
          throw new ReplyTooLong(maxReplyBytes);
        }
        const chunks: Buffer[] = [];
        let length = 0;
        for await (const chunk of reply.body) {
          length += (chunk as Buffer).length;
          if (length > maxReplyBytes) {
            reply.body.destroy();
            throw new ReplyTooLong(maxReplyBytes);
          }
          chunks.push(chunk as Buffer);
        }
        return { status: reply.statusCode, headers: reply.headers, body: chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, length) };
      } catch (err) {
        throw transportError(id, timeoutMs, cutOff.signal.reason instanceof TimedOut ? cutOff.signal.reason : err);
      } finally {
        clearTimeout(timer);
        signal?.removeEventListener('abort', callerAborted);
      }
    },
    async close() {
      await dispatcher.destroy();
    },
  };
}

/**
 * A keep-alive pool for what the gateway sends out, deliveries and material fetches alike: HTTP_PROXY,
 * HTTPS_PROXY and NO_PROXY are honoured as they were at start. A plain-HTTP target is asked for
 * through the proxy (absolute URL, as curl does), not tunnelled with CONNECT, which proxies commonly
 * allow to port 443 only.
 */
export function outboundAgent(options: EnvHttpProxyAgent.Options = {}): EnvHttpProxyAgent {
  return new EnvHttpProxyAgent({ ...options, proxyTunnel: false });
}

/**
 * The headers as sent. Every request of every HTTP protocol carries the trace (W3C traceparent, when
 * tracing is on) and the request id of the case it is about, so a legacy system's own logs can be
 * joined to ours. Credentials written into the URL (`https://user:password@host/…`) are sent as basic
 * authentication, in place of any other Authorization.
 */
function wireHeaders(target: URL, headers: Record<string, string>, requestId: string | undefined): Record<string, string> {
  const sent = { ...headers, ...correlationHeaders(requestId) };
  if (!target.username && !target.password) return sent;
  for (const name of Object.keys(sent)) if (/^authorization$/i.test(name)) delete sent[name];
  const decoded = (part: string) => {
    try {
      return decodeURIComponent(part);
    } catch {
      return part;
    }
  };
  sent.Authorization = 'Basic ' + Buffer.from(`${decoded(target.username)}:${decoded(target.password)}`).toString('base64');
  return sent;
}

/** `traceparent`/`tracestate` of the active span and the request's X-Request-Id (both ASCII by construction). */
export function correlationHeaders(requestId: string | undefined): Record<string, string> {
  return { ...traceHeaders(), ...(requestId ? { 'X-Request-Id': requestId } : {}) };
}

/**
 * The headers that authenticate a request; wsse lives inside the SOAP envelope instead. An hmac
 * signature covers `body`, the exact bytes sent.
 */
export function authHeaders(auth: Auth, body: Buffer): Record<string, string> {
  switch (auth.type) {
    case 'bearer':
      return { Authorization: `Bearer ${auth.token}` };
    case 'basic':
      return { Authorization: 'Basic ' + Buffer.from(`${auth.username}:${auth.password}`).toString('base64') };
    case 'hmac': {
      const timestamp = Math.floor(Date.now() / 1000);
      return { 'X-OW-Timestamp': String(timestamp), 'X-OW-Nonce': crypto.randomUUID(), 'X-OW-Signature': sign(auth.secret, timestamp, body) };
    }
    default:
      return {};
  }
}

/** Headers as a dry run shows them: the credential and the signature replaced, the scheme kept. */
export function redactedHeaders(headers: Record<string, string>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(headers).map(([name, value]) => {
      if (/^authorization$/i.test(name)) return [name, `${value.split(' ')[0]} [redacted]`];
      if (/^x-ow-signature$/i.test(name)) return [name, '[redacted]'];
      return [name, value];
    }),
  );
}

/** `X-OW-Seal` over the exact bytes sent, when the delivery is sealed. */
export function sealHeaders(seal: ((payload: Buffer) => string) | undefined, payload: Buffer): Record<string, string> {
  return seal ? { 'X-OW-Seal': seal(payload) } : {};
}

/** Retry-After as seconds or an HTTP date, in milliseconds. */
export function parseRetryAfter(value: unknown, now = Date.now()): number | undefined {
  if (typeof value !== 'string' || value.trim() === '') return undefined;
  if (/^\d+$/.test(value.trim())) return Number(value.trim()) * 1000;
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

/**
 * The HTTP status decision: 5xx, 408 and 429 are the system's trouble and are retried; any other
 * 4xx says the request itself is wrong and will be refused again. `said` is what the system
 * answered, excerpted and masked here, so an echoed ID number or credential goes no further.
 */
export function classifyHttpStatus(system: Pick<SystemConfig, 'id' | 'auth'>, status: number, retryAfter: unknown, said: string): void {
  if (status >= 200 && status < 300) return;
  const excerpt = legacyExcerpt(said, { max: 200, secrets: secretsOf(system.auth) });
  throw httpStatusError(`${system.id} answered HTTP ${status}${excerpt ? `: ${excerpt}` : ''}`, status, retryAfter);
}

/** The error an HTTP status means, worded as `what`: the one place the status rule is written. */
export function httpStatusError(what: string, status: number, retryAfter: unknown): RetryableError | PermanentError {
  if (status === 429) return new RetryableError(what, parseRetryAfter(retryAfter), { throttled: true });
  if (status >= 500 || status === 408 || status < 400) return new RetryableError(what, parseRetryAfter(retryAfter));
  return new PermanentError(what);
}

/** A request that got no (whole) HTTP answer: refused, reset, timed out, or a reply too long to read. */
export function transportError(systemId: string, timeoutMs: number, err: unknown): RetryableError {
  if (err instanceof RetryableError) return err;
  if (err instanceof TimedOut || err instanceof undiciErrors.HeadersTimeoutError || err instanceof undiciErrors.BodyTimeoutError || err instanceof undiciErrors.ConnectTimeoutError) {
    return new RetryableError(`${systemId} did not answer within ${timeoutMs} ms`, undefined, { cause: err });
  }
  if (err instanceof ReplyTooLong) {
    return new RetryableError(`${systemId} answered with more than ${err.limit} bytes (limits.maxReplyBytes); the reply was not read`, undefined, { cause: err });
  }
  return new RetryableError(`${systemId} could not be reached (${failureCode(err)})`, undefined, { cause: err });
}

/** The network error's code (ECONNREFUSED, ENOTFOUND, …), else its first line. */
export function failureCode(err: unknown): string {
  // undici reports a connection the system closed mid-exchange as its own socket error: a reset, as Node says.
  if (err instanceof undiciErrors.SocketError) return 'ECONNRESET';
  if (err instanceof Error && err.name === 'AbortError') return 'aborted';
  const code = (err as { code?: unknown } | undefined)?.code;
  return typeof code === 'string' ? code : errorMessage(err).split('\n')[0]!;
}

/**
 * Where a system's health probe goes: a path on the endpoint's origin, the endpoint itself, or for
 * `wsdl` the WSDL when it is served over HTTP(S) (else the endpoint with `?wsdl`, as SOAP stacks serve it).
 */
export function probeUrl(system: SystemConfig & { health: HealthProbe }): string {
  const endpoint = new URL(system.endpoint);
  if (system.health.path) return new URL(system.health.path, endpoint.origin).toString();
  if (system.health.probe !== 'wsdl') return system.endpoint;
  if (system.protocol === 'soap' && /^https?:\/\//i.test(system.soap.wsdl)) return system.soap.wsdl;
  return `${endpoint.origin}${endpoint.pathname}?wsdl`;
}

/**
 * One health probe: resolves when the system answered below 500, throws its reason otherwise. Never
 * goes where egress refuses; the system's credentials are sent only to its endpoint's own origin.
 */
export async function probeSystem(system: SystemConfig & { health: HealthProbe }, egress: Egress | undefined): Promise<void> {
  const url = probeUrl(system);
  const refusal = egressRefusal(url, egress);
  if (refusal) throw new PermanentError(`${system.id}'s probe was not sent: ${refusal}`);
  const ownOrigin = new URL(url).origin === new URL(system.endpoint).origin;
  const client = httpClient({ id: system.id, timeoutMs: system.health.timeoutMs, concurrency: 1 }, 64 * 1024);
  try {
    const reply = await client.request({ url, method: system.health.probe === 'head' ? 'HEAD' : 'GET', headers: ownOrigin ? authHeaders(system.auth, Buffer.alloc(0)) : {} });
    if (reply.status >= 500) throw httpStatusError(`${system.id} answered HTTP ${reply.status}`, reply.status, undefined);
  } finally {
    await client.close();
  }
}
