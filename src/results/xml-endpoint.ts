/**
 * Results pushed as plain XML: `POST /xml/results/:systemId`. The XML itself (the
 * charset, the hardened reader, the acknowledgement) lives in adapters/xml/xml.push.ts; here the
 * system's credential is checked and what it pushed takes the one path every result takes,
 * ResultReceiver.receive. Every answer, refusals included, is an XML acknowledgement, in the
 * system's charset once the caller has proved to be it. A refused body changes nothing.
 */
import { originOf, reenterRequest, requestLog } from '../platform/http-observe';
import { Router, raw, type ErrorRequestHandler, type Response } from 'express';
import { ackReply, readPushedXml, XmlPushRefused, type XmlAck } from '../../adapters/xml/xml.push';
import type { Charset } from '../platform/charset';
import { ApiError, requestError } from '../platform/errors';
import type { Logger } from '../platform/logger';
import type { ResultReceiver } from './receiver';
import { systemCredential } from './routes';
import { errors, pathParam, SYSTEM, XML_CONTENT, XML_REQUEST } from '../api-docs';
import { expressPath, route } from '../platform/route';

export interface XmlResultRoutesDeps {
  results: ResultReceiver;
  bodyLimit: string | number;
  log: Logger;
}

function sendAck(res: Response, status: number, ack: XmlAck, charset?: Charset): void {
  const reply = ackReply(ack, charset);
  res.status(status).type(reply.contentType).send(reply.body);
}

export function xmlResultRoutes(deps: XmlResultRoutesDeps): Router {
  const router = Router();
  const path = '/xml/results/{systemId}';

  route(
    router,
    {
      method: 'post',
      path,
      operationId: 'pushResultXml',
      tags: ['results'],
      summary: 'A legacy system pushes a result (XML over HTTP)',
      description:
        "An XML document in the system's charset (from the Content-Type, else the XML declaration, else the system's `charset`): " +
        "the document, its root element included (`Result.ywh`), goes to the system's `result.map`. Every answer is an XML `<Ack>` in the system's charset " +
        '(`<code>0</code>` when recorded, else the error code), documented in docs/xml.md.',
      security: SYSTEM,
      parameters: [pathParam('systemId', 'A legacy system id.')],
      requestBody: { required: true, content: XML_REQUEST },
      responses: {
        '200': { description: 'Recorded: `<Ack><code>0</code><msg>成功</msg><caseId>…</caseId><duplicate>false</duplicate></Ack>`.', content: XML_CONTENT },
        ...errors(['invalid_xml', 'invalid_result', 'invalid_request', 'unauthorized', 'unknown_case', 'unknown_system', 'ambiguous_receipt', 'receipt_mismatch', 'payload_too_large', 'internal', 'unmatched_full'], XML_CONTENT),
      },
    },
    systemCredential(deps.results),
    // Raw bytes whatever the Content-Type: GBK senders label their bodies in every possible way.
    raw({ type: () => true, limit: deps.bodyLimit }), reenterRequest,
    async (req, res) => {
      const system = deps.results.system(String(req.params.systemId));
      const bytes = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
      let document;
      try {
        document = readPushedXml(bytes, req.get('content-type'), system.charset);
      } catch (err) {
        if (!(err instanceof XmlPushRefused)) throw err;
        requestLog(req, deps.log).warn({ systemId: system.id, reason: err.reason, err: err.message }, 'XML result refused');
        throw new ApiError('invalid_xml', err.message);
      }
      const outcome = await deps.results.receive(system.id, document, originOf(req));
      sendAck(res, 200, { code: '0', msg: '成功', caseId: outcome.caseId, duplicate: outcome.duplicate ? 'true' : 'false' }, system.charset);
    },
  );

  // Every refusal of this route is an XML ack too, in the system's charset when the system is known.
  const onError: ErrorRequestHandler = (err, req, res, next) => {
    if (res.headersSent) return next(err);
    let answer = err instanceof ApiError ? err : requestError(err);
    if (!answer) {
      requestLog(req, deps.log).error({ err: (err as Error)?.message, stack: (err as Error)?.stack, path: req.path }, 'unexpected error');
      answer = new ApiError('internal');
    }
    const ack: XmlAck = { code: answer.code, msg: answer.message, details: answer.details };
    // Only a caller who proved to be the system learns its charset (and so that it exists).
    const known = answer.code !== 'unauthorized' ? deps.results.knownSystem(String(req.params.systemId)) : undefined;
    sendAck(res, answer.status, ack, known?.charset);
  };
  router.use(expressPath(path), onError);

  return router;
}
