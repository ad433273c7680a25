/**
 * The SOAP protocol simulator: every `protocol: soap` system at `POST /sim/<systemId>/soap` (its
 * WSDL at `GET /sim/<systemId>/soap?wsdl`), served by a real `soap` package server built from the
 * system's own WSDL, in the system's SOAP version and charset, checking its WS-Security
 * UsernameToken (or HTTP credentials). The core's verdict becomes the operation's output in the
 * system's dialect (dialects.ts), or a fault: `broken` a Server/Receiver fault, `invalid` and
 * `unauthorized` a Client/Sender fault; `down` cuts the connection. Results are pushed with the
 * gateway's `PushResult` operation at `/soap/results`, under the system's inbound UsernameToken.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import express, { type Request } from 'express';
import { compileExpression } from '../../src/platform/expressions';
import type { IncomingHttpHeaders } from 'node:http';
import { speaks, type SystemConfig, type SystemOf } from '../../src/config/schema';
import { GuardedSoapServer } from '../../adapters/soap/soap.server';
import { SoapOperation } from '../../adapters/soap/soap.client';
import { faultEnvelope, faultStatus, soapFault } from '../../adapters/soap/soap.faults';
import { presentedToken, UsernameTokenVerifier } from '../../adapters/soap/wsse';
import { PermanentError } from '../../src/platform/failure';
import { httpAuthorized } from '../auth';
import { flatHeaders, lookupReply, PushError, type ProtocolSimulator, type SimContext, type Verdict } from '../protocol';
import { soapDialectOf, type SoapDialect } from './dialects';
import { checkAttached, checkInline, isMultipart, MaterialCheckError, readMultipart, type ReceivedMaterial, type ReceivedPart } from '../received-materials';

/** How long one push may take before it counts as failed (and is retried). */
const PUSH_TIMEOUT_MS = 10_000;

/** The PushResult arguments besides systemId: all a SOAP system's `result.map` can read. */
export const PUSH_RESULT_FIELDS = ['caseId', 'receiptNo', 'outcome', 'message', 'decidedAt'] as const;

/** Internal header naming the exchange a soap-package request belongs to (never seen on the wire). */
const EXCHANGE_HEADER = 'x-sim-exchange';

/** The largest MTOM package a simulated system reads (its attachments streamed, never held). */
const MTOM_LIMIT = 1024 * 1024 * 1024;

export interface SoapSimulatorOptions {
  /**
   * Where relative `soap.wsdl` paths start: the simulated config folder. By default the context's
   * `configDir` when it has one, else OW_CONFIG_DIR, else ./config (as sim/main.ts and the demo).
   */
  configDir?: string;
}

/** What the route knows about one request that the soap package's handler needs, and back. */
interface Exchange {
  raw: Buffer;
  headers: IncomingHttpHeaders;
  down?: boolean;
  /** The MTOM/XOP parts that came with the envelope (absent: a plain SOAP message). */
  parts?: ReceivedPart[];
}

/**
 * An MTOM/XOP package as the plain SOAP message the soap package reads: the root part's envelope,
 * each `<xop:Include href="cid:…"/>` replaced by its href (the operation then finds each
 * material's part by it), under the Content-Type the root part's `type` names.
 */
function xopRoot(root: ReceivedPart, version: '1.1' | '1.2'): { envelope: Buffer; contentType: string } {
  const type = root.headers['content-type'] ?? '';
  const charset = /charset="?([^";\s]+)"?/i.exec(type)?.[1] ?? 'utf-8';
  const action = /action="([^"]*)"/i.exec(type)?.[1];
  // latin1 keeps every byte as it was: '<' never occurs inside a multibyte GBK/GB18030 character.
  const envelope = Buffer.from(root.bytes!.toString('latin1').replace(/<(?:[\w-]+:)?Include\b[^>]*?\bhref="([^"]+)"[^>]*\/>/g, '$1'), 'latin1');
  const contentType = version === '1.2' ? `application/soap+xml; charset=${charset}${action ? `; action="${action}"` : ''}` : `text/xml; charset=${charset}`;
  return { envelope, contentType };
}

/** The materials in an operation's arguments, checked against the parts (attach) or their base64 (inline). */
function receivedMaterials(system: SystemOf<'soap'>, args: unknown, exchange: Exchange): ReceivedMaterial[] | undefined {
  if (exchange.parts) return checkAttached(system, args, exchange.parts, 'mtom');
  if (system.materials?.mode === 'inline') return checkInline(system, args);
  return undefined;
}

interface Served {
  system: SystemOf<'soap'>;
  dialect: SoapDialect;
  wsdl: string;
  server: GuardedSoapServer;
}

function wsdlPath(system: SystemOf<'soap'>, configDir: string): string {
  const wsdl = system.soap.wsdl;
  if (/^https?:\/\//i.test(wsdl)) throw new Error(`simulator ${system.id}: its WSDL is a URL (${wsdl}); the simulator serves WSDL files only`);
  return path.resolve(configDir, wsdl);
}

/** Whether the credentials the system's config asks for came with the request (HTTP and WS-Security). */
async function authorized(system: SystemConfig, exchange: Exchange, soapHeader: unknown, verifier: UsernameTokenVerifier): Promise<boolean> {
  const http = httpAuthorized(system.auth, (name) => {
    const value = exchange.headers[name];
    return typeof value === 'string' ? value : undefined;
  }, exchange.raw);
  if (system.auth.type !== 'wsse') return http;
  const token = presentedToken(soapHeader);
  return token !== undefined && token.passwordType === system.auth.passwordType && (await verifier.verify(token, system.auth));
}

/** The operation's answer to a verdict: its output, or a thrown fault; undefined when the system is down. */
function reply(system: SystemOf<'soap'>, dialect: SoapDialect, verdict: Verdict): Record<string, unknown> | undefined {
  const version = system.soap.version;
  switch (verdict.kind) {
    case 'accepted':
    case 'duplicate':
      return dialect.accepted(verdict.receiptNo);
    case 'refused':
      return dialect.refused(verdict.message);
    case 'retry_later':
      return dialect.retryLater(verdict.message);
    case 'broken':
      throw soapFault(version, 'receiver', verdict.message);
    case 'unauthorized':
    case 'invalid':
      throw soapFault(version, 'sender', verdict.message);
    case 'down':
      return undefined;
  }
}

async function serve(system: SystemOf<'soap'>, configDir: string, ctx: SimContext, exchanges: Map<string, Exchange>): Promise<Served> {
  const settings = system.soap;
  const wsdl = fs.readFileSync(wsdlPath(system, configDir), 'utf8');
  const dialect = await soapDialectOf(system);
  const verifier = new UsernameTokenVerifier();
  const operation = async (args: unknown, _callback: unknown, soapHeader: unknown, req: { headers: IncomingHttpHeaders }) => {
    const exchange = exchanges.get(String(req.headers[EXCHANGE_HEADER]));
    if (!exchange) throw soapFault(settings.version, 'receiver', 'lost track of the request');
    let materials: ReceivedMaterial[] | undefined;
    let why: string | undefined;
    try {
      materials = receivedMaterials(system, args, exchange);
    } catch (err) {
      if (!(err instanceof MaterialCheckError)) throw err;
      why = err.message;
    }
    const verdict = await ctx.submit({
      systemId: system.id,
      body: why ? undefined : args !== null && typeof args === 'object' ? args : {},
      idempotencyKey: typeof exchange.headers['idempotency-key'] === 'string' ? exchange.headers['idempotency-key'] : undefined,
      authorized: await authorized(system, exchange, soapHeader, verifier),
      headers: flatHeaders(exchange.headers, EXCHANGE_HEADER),
      ...(materials?.length ? { materials } : {}),
    });
    if (why && verdict.kind === 'invalid') throw soapFault(settings.version, 'sender', `${verdict.message}: ${why}`);
    const output = reply(system, dialect, verdict);
    if (output === undefined) exchange.down = true;
    return output ?? {};
  };
  // The look-up operation (shared data), when the system has one: same credentials, same exchange bookkeeping.
  const lookupOperation = async (args: unknown, _callback: unknown, soapHeader: unknown, req: { headers: IncomingHttpHeaders }) => {
    const exchange = exchanges.get(String(req.headers[EXCHANGE_HEADER]));
    if (!exchange || !ctx.lookup) throw soapFault(settings.version, 'receiver', 'lost track of the request');
    const verdict = await ctx.lookup({ systemId: system.id, body: args !== null && typeof args === 'object' ? args : {}, authorized: await authorized(system, exchange, soapHeader, verifier) });
    switch (verdict.kind) {
      case 'found':
      case 'not_found':
        return lookupReply(verdict);
      case 'broken':
        throw soapFault(settings.version, 'receiver', verdict.message);
      case 'unauthorized':
      case 'invalid':
        throw soapFault(settings.version, 'sender', verdict.message);
      case 'down':
        exchange.down = true;
        return {};
    }
  };
  const operations: Record<string, typeof operation> = { [settings.operation]: operation };
  if (system.lookup?.operation) operations[system.lookup.operation] = lookupOperation;
  const server = await GuardedSoapServer.create({
    wsdl,
    version: settings.version,
    charset: system.charset,
    // A GBK system answers in GBK whatever it was sent.
    replyCharset: system.charset,
    services: { [settings.service]: { [settings.port]: operations } },
  });
  return { system, dialect, wsdl, server };
}

async function mapped(source: string, input: unknown): Promise<string> {
  return JSON.stringify(await compileExpression(source).evaluate(input));
}

/**
 * The PushResult arguments for a body the core built from the system's `result.map`. A SOAP system
 * can only send what PushResult carries, every value a string: a map that reads other fields, or
 * reads the strings differently from the body it was built for, is said so instead of pushed.
 */
async function pushArguments(system: SystemConfig, body: Record<string, unknown>): Promise<Record<string, string>> {
  const unknown = Object.keys(body).filter((k) => !(PUSH_RESULT_FIELDS as readonly string[]).includes(k) && k !== 'systemId');
  if (unknown.length) {
    throw new PushError(
      `result.map of ${system.id} reads ${unknown.join(', ')}, which PushResult does not carry; a SOAP system's map reads the PushResult arguments (${PUSH_RESULT_FIELDS.join(', ')})`,
      false,
    );
  }
  const args: Record<string, string> = { systemId: system.id };
  for (const field of PUSH_RESULT_FIELDS) {
    const value = body[field];
    if (value !== undefined && value !== null) args[field] = typeof value === 'string' ? value : String(value);
  }
  // Pushes come only from systems that receive cases, which have a result map.
  const map = system.result?.map ?? '$';
  const intended = await mapped(map, body);
  const read = await mapped(map, args).catch((err: unknown) => `an error (${err instanceof Error ? err.message : String(err)})`);
  if (read !== intended) {
    throw new PushError(`result.map of ${system.id} reads the PushResult arguments, every one a string, as ${read} instead of ${intended}; convert numbers with $number()`, false);
  }
  return args;
}

export function createSoapSimulator(options: SoapSimulatorOptions = {}): ProtocolSimulator {
  /** One PushResult client per gateway and system (each has its own credentials, version and charset). */
  const pushers = new Map<string, SoapOperation>();

  return {
    protocol: 'soap',

    async mount(app, _server, ctx) {
      // SimContext does not carry the config folder (yet): a `configDir` on it is used when it does.
      const configDir = options.configDir ?? (ctx as SimContext & { configDir?: string }).configDir ?? process.env.OW_CONFIG_DIR ?? 'config';
      const exchanges = new Map<string, Exchange>();
      const served = new Map<string, Served>();
      for (const system of ctx.systems) if (speaks(system, 'soap')) served.set(system.id, await serve(system, configDir, ctx, exchanges));
      // MTOM packages are left to stream through the multipart reader.
      const rawBody = express.raw({ type: (req) => !isMultipart(req), limit: '10mb' });

      app.get('/sim/:systemId/soap', (req: Request, res, next) => {
        const entry = served.get(String(req.params.systemId));
        if (!entry || !Object.keys(req.query).some((k) => k.toLowerCase() === 'wsdl')) return next();
        res.type('text/xml; charset=utf-8').send(entry.wsdl);
      });

      app.post('/sim/:systemId/soap', rawBody, async (req: Request, res, next) => {
        const entry = served.get(String(req.params.systemId));
        if (!entry) return next();
        const { system, server } = entry;
        const id = crypto.randomUUID();
        const exchange: Exchange = { raw: Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0), headers: req.headers };
        let headers: IncomingHttpHeaders = req.headers;
        if (isMultipart(req)) {
          let read: Awaited<ReturnType<typeof readMultipart>>;
          try {
            read = await readMultipart(req, MTOM_LIMIT);
            if (!read.root) throw new MaterialCheckError('no root part (the envelope)');
          } catch (err) {
            if (!(err instanceof MaterialCheckError)) throw err;
            await ctx.submit({ systemId: system.id, body: undefined, authorized: true, headers: flatHeaders(req.headers) });
            const version = system.soap.version;
            res.status(faultStatus(version, 'sender')).type(version === '1.2' ? 'application/soap+xml; charset=utf-8' : 'text/xml; charset=utf-8').send(faultEnvelope(version, 'sender', `MTOM: ${err.message}`));
            return;
          }
          const plain = xopRoot(read.root, system.soap.version);
          exchange.raw = plain.envelope;
          exchange.parts = read.parts;
          headers = { ...req.headers, 'content-type': plain.contentType };
        }
        exchanges.set(id, exchange);
        try {
          const answer = await server.handle({ body: exchange.raw, headers: { ...headers, [EXCHANGE_HEADER]: id }, url: req.originalUrl });
          if (answer.refused) {
            // Refused before the operation ran (not SOAP, DOCTYPE, unknown operation): still a
            // submission the system received, and a down system answers nothing at all.
            const verdict = await ctx.submit({ systemId: system.id, body: undefined, authorized: true, headers: flatHeaders(req.headers, EXCHANGE_HEADER) });
            if (verdict.kind === 'down') exchange.down = true;
          }
          if (exchange.down) {
            req.socket.destroy();
            return;
          }
          res.status(answer.status).type(answer.contentType).send(answer.body);
        } finally {
          exchanges.delete(id);
        }
      });
    },

    async push(system, body, gatewayUrl) {
      if (!speaks(system, 'soap')) throw new PushError(`system ${system.id} does not speak soap`, false);
      const password = system.result?.inboundToken;
      if (!password) throw new PushError(`system ${system.id} has no result.inboundToken to push with`, false);
      const base = gatewayUrl.replace(/\/+$/, '');
      const version = system.soap.version;
      const key = `${base} ${system.id}`;
      let pusher = pushers.get(key);
      if (!pusher) {
        pusher = new SoapOperation({
          systemId: `gateway (pushing for ${system.id})`,
          wsdl: `${base}/soap/results?wsdl`,
          endpoint: `${base}/soap/results`,
          service: 'ResultService',
          port: version === '1.2' ? 'ResultSoap12' : 'ResultSoap11',
          operation: 'PushResult',
          version,
          charset: system.charset,
          auth: {
            type: 'wsse',
            username: system.result?.inboundUsername ?? system.id,
            password,
            passwordType: system.auth.type === 'wsse' ? system.auth.passwordType : 'PasswordDigest',
          },
          timeoutMs: PUSH_TIMEOUT_MS,
          concurrency: 2,
          maxReplyBytes: 1024 * 1024,
        });
        pushers.set(key, pusher);
      }
      const args = await pushArguments(system, body);
      try {
        await pusher.call(args);
      } catch (err) {
        // A sender's fault (bad credentials, a result that does not map) will be refused again.
        throw new PushError(err instanceof Error ? err.message : String(err), !(err instanceof PermanentError));
      }
    },
  };
}

/** The SOAP simulator of the registry in sim/server.ts. */
export const soapSimulator: ProtocolSimulator = createSoapSimulator();
