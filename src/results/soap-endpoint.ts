/**
 * Results pushed over SOAP: `POST /soap/results`, its WSDL at `GET /soap/results?wsdl`.
 * The SOAP itself (envelopes, WS-Security, faults, the input filter) lives in adapters/soap; here a
 * system's credentials come from its config, and what it pushes takes the one path every result
 * takes, ResultReceiver.receive. Anything refused is answered with a SOAP Fault and changes nothing.
 */
import { credentialRefused } from '../platform/access';
import { originOf, reenterRequest, requestLog } from '../platform/http-observe';
import { Router, raw, type ErrorRequestHandler, type Request } from 'express';
import { PushResultEndpoint, pushResultWsdl, type PushCall } from '../../adapters/soap/push-result';
import { faultEnvelope, faultStatus } from '../../adapters/soap/soap.faults';
import { MEDIA_TYPE, versionOfContentType } from '../../adapters/soap/soap.wire';
import { ApiError } from '../platform/errors';
import type { Logger } from '../platform/logger';
import type { RedisClient } from '../platform/redis';
import type { SeenNonces } from '../../adapters/soap/wsse';
import type { ResultReceiver } from './receiver';
import { errors, NONE, SOAP_CONTENT, XML_CONTENT } from '../api-docs';
import { route } from '../platform/route';

export interface SoapResultDeps {
  results: ResultReceiver;
  bodyLimit: string | number;
  log: Logger;
  /** Accepted WS-Security nonces, remembered for every api process: see `noncesInRedis`. */
  nonces: SeenNonces;
}

/**
 * WS-Security nonces kept in Redis (SET NX with an expiry) under the gateway's prefix, so a digest
 * accepted by one api process is refused as a replay by every other.
 */
export function noncesInRedis(redis: RedisClient, prefix: string): SeenNonces {
  return { firstUse: async (key, ttlMs) => (await redis.set(`${prefix}:wsse-nonce:${key}`, '1', 'PX', ttlMs, 'NX')) === 'OK' };
}

export const SOAP_RESULTS_PATH = '/soap/results';

/**
 * How a refusal reads to the pushing system; the receiver's unknown_case already parked the result.
 * The gateway's own refusals (unmatched_full: the result was NOT kept) are receiver faults that say why.
 */
function faultOf(err: unknown): { party: 'sender' | 'receiver'; message: string } {
  if (err instanceof ApiError && err.status < 500) {
    const details = err.details?.length ? ` (${err.details.map((d) => `${d.path}: ${d.message}`).join('; ')})` : '';
    return { party: 'sender', message: `${err.code}: ${err.message}${details}` };
  }
  if (err instanceof ApiError && err.code === 'unmatched_full') return { party: 'receiver', message: `${err.code}: ${err.message}` };
  return { party: 'receiver', message: 'The gateway could not record the result right now; push it again later.' };
}

function selfUrl(req: Request): string {
  return `${req.protocol}://${req.get('host') ?? 'localhost'}${SOAP_RESULTS_PATH}`;
}

/** The SOAP results endpoint, ready to mount on the app: `app.use(soapResultRoutes({...}))`. */
export function soapResultRoutes(deps: SoapResultDeps): Router {
  const { results, log } = deps;
  // Built once, on first use: the soap package parses the WSDL asynchronously.
  let endpoint: Promise<PushResultEndpoint> | undefined;
  const ready = (): Promise<PushResultEndpoint> =>
    (endpoint ??= PushResultEndpoint.create({
      credentials(systemId) {
        const system = results.knownSystem(systemId);
        const password = system?.result?.inboundToken;
        return system && password ? { username: system.result?.inboundUsername ?? system.id, password } : undefined;
      },
      receive: (systemId, args, push) => results.receive(systemId, args, push),
      faultOf: (err, push) => {
        const fault = faultOf(err);
        // unmatched_full was logged by the receiver: it is a cap doing its job, not a failure.
        if (fault.party === 'receiver' && !(err instanceof ApiError && err.code === 'unmatched_full')) (push.log ?? log).error({ err: (err as Error)?.message }, 'SOAP PushResult could not be recorded');
        return fault;
      },
      log,
      nonces: deps.nonces,
    }).catch((err: unknown) => {
      endpoint = undefined;
      throw err;
    }));

  // Warmed at once so that the first push does not wait for the WSDL; a failure is retried on use.
  ready().catch(() => undefined);

  const router = Router();
  route(
    router,
    {
      method: 'get',
      path: SOAP_RESULTS_PATH,
      operationId: 'getResultsWsdl',
      tags: ['results'],
      summary: 'The WSDL of the SOAP result endpoint',
      description: 'See docs/soap.md.',
      security: NONE,
      parameters: [{ name: 'wsdl', in: 'query', required: true, allowEmptyValue: true, description: 'Present, with no value: `GET /soap/results?wsdl`; without it the answer is 404.', schema: { type: 'string' } }],
      responses: {
        '200': { description: 'The WSDL (document/literal, SOAP 1.1 and 1.2 bindings), its address the URL it was fetched from.', content: XML_CONTENT },
        ...errors(['not_found']),
      },
    },
    (req, res, next) => {
    if (!Object.keys(req.query).some((k) => k.toLowerCase() === 'wsdl')) return next();
    res.type('text/xml; charset=utf-8').send(pushResultWsdl(selfUrl(req)));
  });

  route(
    router,
    {
      method: 'post',
      path: SOAP_RESULTS_PATH,
      operationId: 'pushResultSoap',
      tags: ['results'],
      summary: 'A legacy system pushes a result (SOAP PushResult)',
      description:
        'A SOAP 1.1 (`text/xml`) or SOAP 1.2 (`application/soap+xml`) envelope carrying `PushResult(systemId, caseId?, receiptNo?, outcome, message?, decidedAt?)`, ' +
        'authenticated by a WS-Security UsernameToken in its header: the username and password (`result.inboundToken`) configured for the system named in `systemId`. ' +
        "The arguments go to the system's `result.map`; correlation is that of every push (`ambiguous_receipt`, `receipt_mismatch`: a sender Fault). The envelopes, the WSDL and the faults are documented in docs/soap.md.",
      security: NONE,
      requestBody: { required: true, content: SOAP_CONTENT },
      responses: {
        '200': { description: 'A `PushResultResponse` (`accepted`, `caseId`, `duplicate`), in the SOAP version of the request.', content: SOAP_CONTENT },
        '400': { description: 'A SOAP 1.2 Fault: the sender is at fault and should not push the same again.', content: SOAP_CONTENT },
        '413': { description: 'A SOAP Fault: the body is larger than the configured limit.', content: SOAP_CONTENT },
        '500': {
          description: "A SOAP 1.1 Fault (either party's), or a SOAP 1.2 Fault on the gateway's side (push again later); `unmatched_full: …` when the result matched no delivery and was NOT kept.",
          content: SOAP_CONTENT,
        },
      },
    },
    raw({ type: () => true, limit: deps.bodyLimit }),
    reenterRequest,
    async (req, res) => {
    const endpoint = await ready();
    const push: PushCall = originOf(req, log);
    const answer = await endpoint.handle({ body: Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0), headers: req.headers, url: req.originalUrl }, push);
    if (answer.refused) push.log!.warn({ reason: answer.refused }, 'SOAP PushResult refused before parsing');
    // A refused UsernameToken counts against the address, as any failed authentication; an address
    // held back already gets 429 (as a Fault), whatever it presented.
    const refusal = push.refusedFor === undefined ? undefined : await credentialRefused(res, `no valid UsernameToken for ${push.refusedFor.slice(0, 64)}`, new ApiError('unauthorized'));
    if (refusal?.code === 'too_many_requests') throw refusal;
    res.status(answer.status).type(answer.contentType).send(answer.body);
  });

  // Even what never reached SOAP (too large, unreadable stream) is answered as a SOAP Fault.
  const asFault: ErrorRequestHandler = (err, req, res, _next) => {
    const version = versionOfContentType(req.get('content-type'));
    const status = (err as { status?: unknown })?.status;
    const sender = typeof status === 'number' && status >= 400 && status < 500;
    if (!sender) requestLog(req, log).error({ err: (err as Error)?.message }, 'SOAP results endpoint failed');
    const message = sender ? `The request was refused: ${(err as Error).message}` : 'The gateway could not process the request; push it again later.';
    res
      .status(sender ? status : faultStatus(version, 'receiver'))
      .type(`${MEDIA_TYPE[version]}; charset=UTF-8`)
      .send(faultEnvelope(version, sender ? 'sender' : 'receiver', message));
  };
  router.use(SOAP_RESULTS_PATH, asFault);
  return router;
}
