/**
 * Results pushed as plain XML (CONTRACT §6): `POST /xml/results/:systemId`.
 *
 * The body is read raw and decoded as the adapter decodes replies (Content-Type charset, else the
 * XML declaration, else the system's charset), read by the one hardened XML reader, and the
 * document, root element included, goes to the system's `result.map`, all values strings. Every answer
 * is an XML acknowledgement in the system's charset:
 *
 *   200 <Ack><code>0</code><msg>成功</msg><caseId>…</caseId><duplicate>false</duplicate></Ack>
 *   4xx <Ack><code>invalid_xml</code><msg>…</msg>[<details><detail><path/><message/></detail>…</details>]</Ack>
 *   5xx the same, e.g. 507 <Ack><code>unmatched_full</code>…: the result was not kept
 *
 * Nothing is stored unless the body was read and mapped; a refused body changes nothing.
 */
import { reenterRequest } from '../platform/http-observe';
import { Router, raw, type ErrorRequestHandler, type Response } from 'express';
import type { SystemConfig } from '../config/schema';
import { bearerToken } from '../platform/auth';
import { CharsetError, charsetLabel, decodeBody } from '../platform/charset';
import { ApiError, requestError, type ErrorDetail } from '../platform/errors';
import type { Logger } from '../platform/logger';
import { XmlRejectedError, encodeXmlDocument, readXml, xmlSafeText, type XmlObject } from '../platform/xml';
import type { ResultReceiver } from './receiver';

export interface XmlResultRoutesDeps {
  results: ResultReceiver;
  bodyLimit: string | number;
  log: Logger;
}

export interface XmlAck {
  /** "0" when the result was recorded; otherwise the error code of CONTRACT §6 (e.g. `invalid_xml`). */
  code: string;
  msg: string;
  caseId?: string;
  duplicate?: 'true' | 'false';
  details?: { detail: ErrorDetail[] };
}

/** The acknowledgement document in `charset` (UTF-8 when the system is unknown). */
export function ackBytes(ack: XmlAck, charset: SystemConfig['charset'] = 'utf-8'): Buffer {
  return encodeXmlDocument('Ack', ack, charset);
}

function sendAck(res: Response, status: number, ack: XmlAck, charset: SystemConfig['charset'] = 'utf-8'): void {
  res.status(status).type(`text/xml; charset=${charsetLabel(charset)}`).send(ackBytes(ack, charset));
}

export function xmlResultRoutes(deps: XmlResultRoutesDeps): Router {
  const router = Router();
  const path = '/xml/results/:systemId';

  router.post(
    path,
    (req, _res, next) => {
      next(deps.results.authenticates(String(req.params.systemId), bearerToken(req.get('authorization'))) ? undefined : new ApiError('unauthorized', 'A valid bearer token of the pushing system is required.'));
    },
    // Raw bytes whatever the Content-Type: GBK senders label their bodies in every possible way.
    raw({ type: () => true, limit: deps.bodyLimit }), reenterRequest,
    async (req, res) => {
      const system = deps.results.system(String(req.params.systemId));
      const bytes = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
      let document: XmlObject;
      try {
        document = readXml(decodeBody(bytes, req.get('content-type'), system.charset).text);
      } catch (err) {
        if (err instanceof CharsetError || err instanceof XmlRejectedError) {
          deps.log.warn({ systemId: system.id, reason: err instanceof XmlRejectedError ? err.reason : 'charset', err: err.message }, 'XML result refused');
          throw new ApiError('invalid_xml', `The body is not acceptable XML: ${err.message}`);
        }
        throw err;
      }
      const outcome = await deps.results.receive(system.id, document);
      sendAck(res, 200, { code: '0', msg: '成功', caseId: outcome.caseId, duplicate: outcome.duplicate ? 'true' : 'false' }, system.charset);
    },
  );

  // Every refusal of this route is an XML ack too, in the system's charset when the system is known.
  const onError: ErrorRequestHandler = (err, req, res, next) => {
    if (res.headersSent) return next(err);
    let answer = err instanceof ApiError ? err : requestError(err);
    if (!answer) {
      deps.log.error({ err: (err as Error)?.message, stack: (err as Error)?.stack, path: req.path }, 'unexpected error');
      answer = new ApiError('internal');
    }
    // A message may quote the refused body (a UTF-16 one read as UTF-8 is full of NULs).
    const ack: XmlAck = { code: answer.code, msg: xmlSafeText(answer.message) };
    if (answer.details?.length) ack.details = { detail: answer.details.map((d) => ({ path: xmlSafeText(d.path), message: xmlSafeText(d.message) })) };
    // Only a caller who proved to be the system learns its charset (and so that it exists).
    const known = answer.code !== 'unauthorized' ? deps.results.knownSystem(String(req.params.systemId)) : undefined;
    sendAck(res, answer.status, ack, known?.charset);
  };
  router.use(path, onError);

  return router;
}
