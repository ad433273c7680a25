/** The ops interface: systems, pause/resume, dead letters, audit. Bearer OW_OPS_TOKEN. */
import { Router, type Request, type Response } from 'express';
import { z } from 'zod';
import { answer, body, errors, IF_MATCH, IF_MATCH_REQUIRED, IF_NONE_MATCH, OPERATOR, OPS, OPS_ERRORS, pathParam } from '../api-docs';
import {
  auditPageSchema,
  auditQuerySchema,
  configExportSchema,
  deadLetterCaseSchema,
  deadLetterPageSchema,
  discardAnswerSchema,
  dryRunAnswerSchema,
  historyVersionSchema,
  itemsHistoryVersionSchema,
  itemsPutBodySchema,
  itemsVersionSchema,
  reloadAnswerSchema,
  replayAnswerSchema,
  routesHistoryVersionSchema,
  routesPutBodySchema,
  routesVersionSchema,
  systemRemovedSchema,
  replayManyAnswerSchema,
  systemPutBodySchema,
  systemStatusSchema,
  systemVersionSchema,
  versionInfoSchema,
  whoamiSchema,
  deadLetterQuerySchema,
  discardBodySchema,
  dryRunBodySchema,
  reasonBodySchema,
  replayBodySchema,
  replayManyBodySchema,
  rollbackBodySchema,
  type DeadLetterCase,
  type DiscardAnswer,
  type ReplayAnswer,
  type ReplayManyAnswer,
  type WhoamiAnswer,
} from '../api-schemas';
import { requestIdOf } from '../platform/http-observe';
import { callerOf } from '../platform/access';
import { bearerToken, fingerprint } from '../platform/auth';
import { ApiError, parseRequest } from '../platform/errors';
import { jsonBody } from '../platform/json-body';
import { route } from '../platform/route';
import { notTextReason } from '../platform/text';
import type { Operations, Operator } from './operations';

export interface AdminRoutesDeps {
  operations: Operations;
}

const UTF8 = new TextDecoder('utf-8', { fatal: true });

/**
 * The operator's name as sent: percent-encoded UTF-8 (what browsers and curl users are told to
 * send), or raw: UTF-8 bytes, which Node hands over as Latin-1 characters, or plain ASCII (a `%`
 * that starts no escape, `100% sure`, is taken as written). Anything else would be stored as
 * mojibake, so it is refused.
 */
function operatorName(header: string): string {
  let name: string;
  try {
    if (/[^ -~\t]/.test(header)) name = UTF8.decode(Buffer.from(header, 'latin1'));
    else if (/%(?![0-9A-Fa-f]{2})/.test(header)) name = header;
    else name = decodeURIComponent(header);
  } catch {
    throw new ApiError('invalid_request', 'X-OW-Operator must be UTF-8, raw or percent-encoded (e.g. %E5%80%BC%E7%8F%AD%E5%91%98).', [{ path: 'X-OW-Operator', message: 'not UTF-8' }]);
  }
  // Percent-encoding can carry what the header itself cannot (%00): refused like any body's.
  const reason = notTextReason(name);
  if (reason) throw new ApiError('invalid_request', `X-OW-Operator ${reason}.`, [{ path: 'X-OW-Operator', message: reason }]);
  return name;
}

/**
 * Who is acting: the name ops give in X-OW-Operator, and which token they used (a fingerprint,
 * never the token).
 */
export function operatorOf(req: Request): Operator {
  const name = operatorName(req.get('x-ow-operator') ?? 'ops').replace(/[^\p{L}\p{N} ._@-]/gu, '').slice(0, 64) || 'ops';
  const role = req.res ? callerOf(req.res)?.role : undefined;
  return { who: `${name} (token ${fingerprint(bearerToken(req.get('authorization')) ?? '')})`, role };
}

/**
 * What only an admin may do (change configuration, export it, correct a case). Most
 * such routes are admin-only in the permission table already; this also covers an admin-only part
 * of an operator's route (a dead letter's corrected case).
 */
export function requireAdmin(req: Request): Operator {
  const by = operatorOf(req);
  if (by.role !== 'admin') throw new ApiError('forbidden', `Only an admin may do this (this token has role ${by.role ?? 'none'}).`);
  return by;
}

/** `If-Match: "3"` (also `W/"3"` or a bare 3) as a version; undefined when not sent. */
export function ifMatchVersion(req: Request): number | undefined {
  const header = req.get('if-match');
  if (header === undefined || header.trim() === '*') return undefined;
  const match = /^\s*(?:W\/)?"?(\d{1,9})"?\s*$/.exec(header);
  if (!match) throw new ApiError('invalid_request', 'If-Match must be a version as the ETag gave it, e.g. "3".', [{ path: 'If-Match', message: 'not a version' }]);
  return Number(match[1]);
}

/** If-Match where a change must name the version it was made from (the routing table: one document everyone edits). */
export function requiredIfMatch(req: Request): number {
  const version = ifMatchVersion(req);
  if (version === undefined) throw new ApiError('precondition_required', 'Send If-Match with the version you changed, as the ETag of the GET gave it, e.g. "3".', [{ path: 'If-Match', message: 'required' }]);
  return version;
}

/** `If-None-Match: *`: only create, never replace. Nothing else is meant by it here. */
function createOnly(req: Request): boolean {
  const header = req.get('if-none-match');
  if (header === undefined) return false;
  if (header.trim() === '*') return true;
  throw new ApiError('invalid_request', 'If-None-Match may only be * (create the system, never replace one).', [{ path: 'If-None-Match', message: 'not *' }]);
}

function etag(res: Response, version: number): void {
  res.set('ETag', `"${version}"`);
}

function parse<S extends z.ZodType>(schema: S, body: unknown): z.infer<S> {
  return parseRequest(schema, body ?? {});
}

function param(req: Request, name: string): string {
  return String(req.params[name]);
}

export function adminRoutes(deps: AdminRoutesDeps): Router {
  const router = Router();
  const { operations } = deps;
  const id = pathParam('id', 'A legacy system id.');
  const deadLetterId = pathParam('id', 'A dead letter id: `<systemId>.<caseId>`.');
  const unmatchedId = pathParam('id', 'An unmatched result id: `<systemId>.<uuid>`.');
  router.use('/api/v1/admin', ...jsonBody('64kb'));

  // Any ops role may ask (the permission table lets only ops tokens reach GET /api/v1/admin/*).
  route(
    router,
    {
      method: 'get',
      path: '/api/v1/admin/whoami',
      operationId: 'whoami',
      tags: ['admin'],
      summary: 'The role of the ops token used',
      description: 'Any ops role may ask; the console asks after sign-in and shows only what the role may do. The API checks every call whatever the console shows.',
      security: OPS,
      responses: { '200': answer("The token's role.", whoamiSchema), ...errors(OPS_ERRORS) },
    },
    (_req, res) => {
    const role = callerOf(res)?.role;
    if (role !== 'viewer' && role !== 'operator' && role !== 'admin') throw new ApiError('forbidden');
    res.json({ role } satisfies WhoamiAnswer);
  });

  route(
    router,
    {
      method: 'get',
      path: '/api/v1/admin/systems',
      operationId: 'listSystems',
      tags: ['admin'],
      summary: 'Every legacy system with its state, queue and health, problem systems first',
      description:
        'Problem systems first, in this order: open circuit, paused, maintenance window closed with deliveries waiting, failing, dead letters, a version some process could not apply (`problems`); ' +
        'then the rest, in configuration order. A few Redis commands per system, never per case.',
      security: OPS,
      responses: { '200': answer('Every configured system.', systemStatusSchema.array()), ...errors(OPS_ERRORS) },
    },
    async (_req, res) => {
    res.json(await operations.systems());
  });
  route(
    router,
    {
      method: 'get',
      path: '/api/v1/admin/systems/{id}',
      operationId: 'getSystem',
      tags: ['admin'],
      summary: "A system's configuration",
      description: 'The answer carries `ETag: "<version>"`; sent back as it is (with `If-Match`), it is a valid PUT body.',
      security: OPS,
      parameters: [id],
      responses: {
        '200': answer('The system file in use, secrets shown as `[redacted]`, with its version and source.', systemVersionSchema),
        ...errors(['unknown_system', ...OPS_ERRORS]),
      },
    },
    (req, res) => {
    const shown = operations.showSystem(param(req, 'id'));
    etag(res, shown.version);
    res.json(shown);
  });
  route(
    router,
    {
      method: 'put',
      path: '/api/v1/admin/systems/{id}',
      operationId: 'putSystem',
      tags: ['admin'],
      summary: "Replace a system's configuration, or add a system (admin, audited)",
      description:
        'The system file, or the GET answer as it is (its `system` is used). Validated as the gateway validates its files at start-up, then stored in Redis as a new version; ' +
        'every gateway process uses it within 5 s, and it survives restarts. A stored version wins over the file until `reset`. ' +
        'With `If-Match: "<version>"`, refused with 412 `version_mismatch` when that is no longer the current version. ' +
        'An id that no system has (never, or removed) adds the system: 201, its first version (`source: api`) in its history, its worker started in every process within 5 s; ' +
        'the id keeps the rule of file names (lower-case letters, digits and dashes) and `${VAR}` references are refused (they belong to files). ' +
        'With `If-None-Match: *` it only adds: a system of that id is left alone (412 `version_mismatch`).',
      security: OPS,
      parameters: [id, OPERATOR, IF_MATCH, IF_NONE_MATCH],
      requestBody: body(systemPutBodySchema, true),
      responses: {
        '200': answer('Stored as a new version (`ETag` names it).', systemVersionSchema),
        '201': answer('The system was added: its first version (`ETag` names it).', systemVersionSchema),
        ...errors(['invalid_config', 'invalid_json', 'invalid_request', 'version_conflict', 'version_mismatch', 'payload_too_large', ...OPS_ERRORS]),
      },
    },
    async (req, res) => {
    const by = requireAdmin(req);
    const { created, ...stored } = await operations.putSystem(param(req, 'id'), req.body, by, ifMatchVersion(req), createOnly(req));
    etag(res, stored.version);
    res.status(created ? 201 : 200).json(stored);
  });
  route(
    router,
    {
      method: 'delete',
      path: '/api/v1/admin/systems/{id}',
      operationId: 'removeSystem',
      tags: ['admin'],
      summary: 'Remove a system (admin, audited)',
      description:
        'Refused with 409 `system_busy`, nothing changed, while the system has deliveries waiting, delayed or active, or dead letters (`details` give both counts, `inFlight` and `deadLetters`), ' +
        'while a route (`routes.yaml at routes[i].targets[j]`, `unrouted`) or a shared-data source names it (change the routes first: PUT /api/v1/admin/routes), ' +
        'or while its file is in OW_CONFIG_DIR (a reload would add it again: remove the file first). ' +
        'Else a version records the removal in its history, every gateway process stops its worker within 5 s, and PUT of the same id adds it again later. ' +
        'Deliveries already delivered and waiting for a pushed result are not counted: a result the system pushes after the removal is refused as `unknown_system`.',
      security: OPS,
      parameters: [id, OPERATOR, IF_MATCH],
      requestBody: body(reasonBodySchema, false),
      responses: {
        '200': answer('Removed.', systemRemovedSchema),
        ...errors(['system_busy', 'invalid_json', 'invalid_request', 'unknown_system', 'version_conflict', 'version_mismatch', ...OPS_ERRORS]),
      },
    },
    async (req, res) => {
    const by = requireAdmin(req);
    const { reason } = parse(reasonBodySchema, req.body);
    res.json(await operations.removeSystem(param(req, 'id'), by, ifMatchVersion(req), reason));
  });
  route(
    router,
    {
      method: 'get',
      path: '/api/v1/admin/systems/{id}/history',
      operationId: 'systemHistory',
      tags: ['admin'],
      summary: "A system's configuration versions, newest first",
      description:
        'Version 1 is the file each process started from (or, for a system added later, its first stored version). `applyError` says which process could not use a version (and kept its previous one). ' +
        'A removed system keeps its history: the removal is its latest version (`removed: true`).',
      security: OPS,
      parameters: [id],
      responses: { '200': answer('Newest first.', versionInfoSchema.array()), ...errors(['unknown_system', ...OPS_ERRORS]) },
    },
    async (req, res) => {
    res.json(await operations.history(param(req, 'id')));
  });
  route(
    router,
    {
      method: 'get',
      path: '/api/v1/admin/systems/{id}/history/{version}',
      operationId: 'systemVersion',
      tags: ['admin'],
      summary: 'One configuration version with its content',
      security: OPS,
      parameters: [id, pathParam('version', 'A version number.', { type: 'integer', minimum: 1 })],
      responses: { '200': answer('The version, secrets shown as `[redacted]`.', historyVersionSchema), ...errors(['not_found', 'unknown_system', ...OPS_ERRORS]) },
    },
    async (req, res) => {
    const version = /^\d{1,9}$/.test(param(req, 'version')) ? Number(param(req, 'version')) : 0;
    res.json(await operations.historyVersion(param(req, 'id'), version));
  });
  route(
    router,
    {
      method: 'post',
      path: '/api/v1/admin/systems/{id}/rollback',
      operationId: 'rollbackSystem',
      tags: ['admin'],
      summary: "Store an earlier version's content as a new version (admin, audited)",
      security: OPS,
      parameters: [id, OPERATOR, IF_MATCH],
      requestBody: body(rollbackBodySchema, true),
      responses: {
        '200': answer('Stored as a new version.', systemVersionSchema),
        ...errors(['invalid_config', 'invalid_json', 'invalid_request', 'not_found', 'version_conflict', 'version_mismatch', 'unknown_system', ...OPS_ERRORS]),
      },
    },
    async (req, res) => {
    const by = requireAdmin(req);
    const { version, reason } = parse(rollbackBodySchema, req.body);
    const stored = await operations.rollback(param(req, 'id'), version, by, ifMatchVersion(req), reason);
    etag(res, stored.version);
    res.json(stored);
  });
  route(
    router,
    {
      method: 'post',
      path: '/api/v1/admin/systems/{id}/reset',
      operationId: 'resetSystem',
      tags: ['admin'],
      summary: 'Go back to the file in OW_CONFIG_DIR (admin, audited)',
      description:
        'Reads the file as it is on disk now and stores it as a new version, `source: file`: after editing a file, reset makes it the one in use. ' +
        'The configuration folder is checked as at start-up; a problem anywhere in it refuses the reset (`invalid_config`, each problem\'s file and key in `details`) and nothing changes.',
      security: OPS,
      parameters: [id, OPERATOR, IF_MATCH],
      requestBody: body(reasonBodySchema, false),
      responses: {
        '200': answer('Stored as a new version.', systemVersionSchema),
        ...errors(['invalid_config', 'invalid_json', 'invalid_request', 'version_conflict', 'version_mismatch', 'unknown_system', ...OPS_ERRORS]),
      },
    },
    async (req, res) => {
    const by = requireAdmin(req);
    const { reason } = parse(reasonBodySchema, req.body);
    const stored = await operations.reset(param(req, 'id'), by, ifMatchVersion(req), reason);
    etag(res, stored.version);
    res.json(stored);
  });
  route(
    router,
    {
      method: 'post',
      path: '/api/v1/admin/systems/{id}/dry-run',
      operationId: 'dryRunSystem',
      tags: ['admin'],
      summary: 'What would be sent for a case, with the current or a proposed configuration; nothing is sent',
      description:
        'The adapter frames the request exactly as for a delivery (JSON, XML in the system charset, the SOAP envelope) and sends nothing; ' +
        'a WSDL given as a URL is read. A proposed `system` is validated as PUT validates it and is not stored. ' +
        'Below admin the case is masked before it is mapped. The `X-OW-Seal` shown is an unsigned preview that never verifies. Every dry run is audited.',
      security: OPS,
      parameters: [id],
      requestBody: body(dryRunBodySchema, false),
      responses: {
        '200': answer('The request that would be sent, and what `response.*` made of the sample reply.', dryRunAnswerSchema),
        ...errors(['invalid_config', 'invalid_json', 'invalid_request', 'unknown_case', 'unknown_system', 'payload_too_large', ...OPS_ERRORS]),
      },
    },
    async (req, res) => {
    const body = parse(dryRunBodySchema, req.body);
    if (body.caseId && body.case) throw new ApiError('invalid_request', 'Give caseId or case, not both.', [{ path: 'case', message: 'caseId is given too' }]);
    res.json(await operations.dryRun(param(req, 'id'), body, operatorOf(req)));
  });
  route(
    router,
    {
      method: 'post',
      path: '/api/v1/admin/systems/{id}/pause',
      operationId: 'pauseSystem',
      tags: ['admin'],
      summary: 'Pause a system (audited)',
      description: 'A paused system keeps queueing deliveries and sends nothing, in every gateway process.',
      security: OPS,
      parameters: [id, OPERATOR],
      requestBody: body(reasonBodySchema, false),
      responses: { '200': answer('Paused.', systemStatusSchema), ...errors(['invalid_request', 'invalid_json', 'unknown_system', ...OPS_ERRORS]) },
    },
    async (req, res) => {
    const { reason } = parse(reasonBodySchema, req.body);
    res.json(await operations.setPaused(param(req, 'id'), true, operatorOf(req), reason));
  });
  route(
    router,
    {
      method: 'post',
      path: '/api/v1/admin/systems/{id}/resume',
      operationId: 'resumeSystem',
      tags: ['admin'],
      summary: 'Resume a paused system (audited)',
      security: OPS,
      parameters: [id, OPERATOR],
      requestBody: body(reasonBodySchema, false),
      responses: { '200': answer('Resumed.', systemStatusSchema), ...errors(['invalid_request', 'invalid_json', 'unknown_system', ...OPS_ERRORS]) },
    },
    async (req, res) => {
    const { reason } = parse(reasonBodySchema, req.body);
    res.json(await operations.setPaused(param(req, 'id'), false, operatorOf(req), reason));
  });
  route(
    router,
    {
      method: 'post',
      path: '/api/v1/admin/config/reload',
      operationId: 'reloadConfig',
      tags: ['admin'],
      summary: 'Read OW_CONFIG_DIR again: new system files add systems, changed ones become new versions (admin, audited)',
      description:
        'The folder is checked as at start-up (every file, every expression test-run): any problem refuses the reload with 400 `invalid_config`, every problem in `details` (`<file> at <key>`), and nothing changes. ' +
        'A file of a system that does not run adds it; a file changed since it was last read (start-up, reset, reload) becomes a new version (`source: file`); a file as it was last read is left alone, ' +
        'so a version stored through the API stays in use (reset goes back to the file); a system without a file is listed in `missingOnDisk`, not removed. ' +
        'routes.yaml likewise becomes a new routes version when it changed, items.yaml a new item catalogue version and the calendar files a new calendar version. Every gateway process starts the new systems\' workers within 5 s. gateway.yaml and shared-data.yaml are checked, not applied: they take a restart.',
      security: OPS,
      parameters: [OPERATOR],
      requestBody: body(reasonBodySchema, false),
      responses: {
        '200': answer('What the reload did.', reloadAnswerSchema),
        ...errors(['invalid_config', 'invalid_json', 'invalid_request', 'version_conflict', ...OPS_ERRORS]),
      },
    },
    async (req, res) => {
    const by = requireAdmin(req);
    const { reason } = parse(reasonBodySchema, req.body);
    res.json(await operations.reload(by, reason));
  });

  route(
    router,
    {
      method: 'get',
      path: '/api/v1/admin/routes',
      operationId: 'getRoutes',
      tags: ['admin'],
      summary: 'The routing table in use (itemCode → systems), with its version',
      description: 'routes.yaml as written, as JSON. The answer carries `ETag: "<version>"`; sent back as it is (with `If-Match`), it is a valid PUT body.',
      security: OPS,
      responses: { '200': answer('The routing table and its version.', routesVersionSchema), ...errors(OPS_ERRORS) },
    },
    (_req, res) => {
    const shown = operations.showRoutes();
    etag(res, shown.version);
    res.json(shown);
  });
  route(
    router,
    {
      method: 'put',
      path: '/api/v1/admin/routes',
      operationId: 'putRoutes',
      tags: ['admin'],
      summary: 'Replace the routing table (admin, audited)',
      description:
        'routes.yaml as JSON, or the GET answer as it is. `If-Match: "<version>"` is required (428 `precondition_required` without it; 412 `version_mismatch` when stale): ' +
        'the table is one document, and a change made on an old version would drop the routes added since. Validated as at start-up: every target and `unrouted` must be a system ' +
        'that runs and receives cases. Stored in Redis as a new version; every gateway process routes by it within 5 s, and it survives restarts.',
      security: OPS,
      parameters: [OPERATOR, IF_MATCH_REQUIRED],
      requestBody: body(routesPutBodySchema, true),
      responses: {
        '200': answer('Stored as a new version (`ETag` names it).', routesVersionSchema),
        ...errors(['invalid_config', 'invalid_json', 'invalid_request', 'version_conflict', 'version_mismatch', 'precondition_required', 'payload_too_large', ...OPS_ERRORS]),
      },
    },
    async (req, res) => {
    const by = requireAdmin(req);
    const stored = await operations.putRoutes(req.body, by, requiredIfMatch(req));
    etag(res, stored.version);
    res.json(stored);
  });
  route(
    router,
    {
      method: 'get',
      path: '/api/v1/admin/routes/history',
      operationId: 'routesHistory',
      tags: ['admin'],
      summary: "The routing table's versions, newest first",
      description: 'Version 1 is routes.yaml as each process started from it. `applyError` says which process could not use a version (and kept its previous one).',
      security: OPS,
      responses: { '200': answer('Newest first.', versionInfoSchema.array()), ...errors(OPS_ERRORS) },
    },
    async (_req, res) => {
    res.json(await operations.routesHistory());
  });
  route(
    router,
    {
      method: 'get',
      path: '/api/v1/admin/routes/history/{version}',
      operationId: 'routesVersion',
      tags: ['admin'],
      summary: 'One version of the routing table with its content',
      security: OPS,
      parameters: [pathParam('version', 'A version number.', { type: 'integer', minimum: 1 })],
      responses: { '200': answer('The version.', routesHistoryVersionSchema), ...errors(['not_found', ...OPS_ERRORS]) },
    },
    async (req, res) => {
    const version = /^\d{1,9}$/.test(param(req, 'version')) ? Number(param(req, 'version')) : 0;
    res.json(await operations.routesVersion(version));
  });
  route(
    router,
    {
      method: 'post',
      path: '/api/v1/admin/routes/rollback',
      operationId: 'rollbackRoutes',
      tags: ['admin'],
      summary: "Store an earlier routing table's content as a new version (admin, audited)",
      description: 'Validated as a PUT is (a version naming a system removed since is refused). `If-Match` is required, as for PUT.',
      security: OPS,
      parameters: [OPERATOR, IF_MATCH_REQUIRED],
      requestBody: body(rollbackBodySchema, true),
      responses: {
        '200': answer('Stored as a new version.', routesVersionSchema),
        ...errors(['invalid_config', 'invalid_json', 'invalid_request', 'not_found', 'version_conflict', 'version_mismatch', 'precondition_required', ...OPS_ERRORS]),
      },
    },
    async (req, res) => {
    const by = requireAdmin(req);
    const { version, reason } = parse(rollbackBodySchema, req.body);
    const stored = await operations.rollbackRoutes(version, by, requiredIfMatch(req), reason);
    etag(res, stored.version);
    res.json(stored);
  });
  route(
    router,
    {
      method: 'get',
      path: '/api/v1/admin/items',
      operationId: 'getItems',
      tags: ['admin'],
      summary: 'The item catalogue in use (itemCode → 办件类型 and time limits), with its version',
      description: 'items.yaml as written, as JSON. The answer carries `ETag: "<version>"`; sent back as it is (with `If-Match`), it is a valid PUT body.',
      security: OPS,
      responses: { '200': answer('The item catalogue and its version.', itemsVersionSchema), ...errors(OPS_ERRORS) },
    },
    (_req, res) => {
    const shown = operations.showItems();
    etag(res, shown.version);
    res.json(shown);
  });
  route(
    router,
    {
      method: 'put',
      path: '/api/v1/admin/items',
      operationId: 'putItems',
      tags: ['admin'],
      summary: 'Replace the item catalogue (admin, audited)',
      description:
        'items.yaml as JSON, or the GET answer as it is. `If-Match: "<version>"` is required (428 `precondition_required` without it; 412 `version_mismatch` when stale): ' +
        'the catalogue is one document. Validated as at start-up (a 承诺件 needs legalDays or promisedDays, promisedDays within legalDays, warnDays below the limit it warns of…: 400 `invalid_config` with every problem). ' +
        'Stored in Redis as a new version; every gateway process uses it within 5 s (new cases, case views, warnings and reports alike), and it survives restarts.',
      security: OPS,
      parameters: [OPERATOR, IF_MATCH_REQUIRED],
      requestBody: body(itemsPutBodySchema, true),
      responses: {
        '200': answer('Stored as a new version (`ETag` names it).', itemsVersionSchema),
        ...errors(['invalid_config', 'invalid_json', 'invalid_request', 'version_conflict', 'version_mismatch', 'precondition_required', 'payload_too_large', ...OPS_ERRORS]),
      },
    },
    async (req, res) => {
    const by = requireAdmin(req);
    const stored = await operations.putItems(req.body, by, requiredIfMatch(req));
    etag(res, stored.version);
    res.json(stored);
  });
  route(
    router,
    {
      method: 'get',
      path: '/api/v1/admin/items/history',
      operationId: 'itemsHistory',
      tags: ['admin'],
      summary: "The item catalogue's versions, newest first",
      description: 'Version 1 is items.yaml as each process started from it. `applyError` says which process could not use a version (and kept its previous one).',
      security: OPS,
      responses: { '200': answer('Newest first.', versionInfoSchema.array()), ...errors(OPS_ERRORS) },
    },
    async (_req, res) => {
    res.json(await operations.itemsHistory());
  });
  route(
    router,
    {
      method: 'get',
      path: '/api/v1/admin/items/history/{version}',
      operationId: 'itemsVersion',
      tags: ['admin'],
      summary: 'One version of the item catalogue with its content',
      security: OPS,
      parameters: [pathParam('version', 'A version number.', { type: 'integer', minimum: 1 })],
      responses: { '200': answer('The version.', itemsHistoryVersionSchema), ...errors(['not_found', ...OPS_ERRORS]) },
    },
    async (req, res) => {
    const version = /^\d{1,9}$/.test(param(req, 'version')) ? Number(param(req, 'version')) : 0;
    res.json(await operations.itemsVersion(version));
  });
  route(
    router,
    {
      method: 'post',
      path: '/api/v1/admin/items/rollback',
      operationId: 'rollbackItems',
      tags: ['admin'],
      summary: "Store an earlier item catalogue's content as a new version (admin, audited)",
      description: 'Validated as a PUT is. `If-Match` is required, as for PUT.',
      security: OPS,
      parameters: [OPERATOR, IF_MATCH_REQUIRED],
      requestBody: body(rollbackBodySchema, true),
      responses: {
        '200': answer('Stored as a new version.', itemsVersionSchema),
        ...errors(['invalid_config', 'invalid_json', 'invalid_request', 'not_found', 'version_conflict', 'version_mismatch', 'precondition_required', ...OPS_ERRORS]),
      },
    },
    async (req, res) => {
    const by = requireAdmin(req);
    const { version, reason } = parse(rollbackBodySchema, req.body);
    const stored = await operations.rollbackItems(version, by, requiredIfMatch(req), reason);
    etag(res, stored.version);
    res.json(stored);
  });
  route(
    router,
    {
      method: 'get',
      path: '/api/v1/admin/config/export',
      operationId: 'exportConfig',
      tags: ['admin'],
      summary: 'The running configuration as files ready to commit (admin)',
      description:
        'Every system as it runs (stored versions included), routes.yaml, gateway.yaml and items.yaml (the item catalogue in use, when there is one). Secrets leave only as `${VAR}` references: ' +
        "the file's own where it had one, else a placeholder (`${<SYSTEM>_<KEY>}`) with a comment naming the variable to set.",
      security: OPS,
      responses: { '200': answer('File name → YAML text.', configExportSchema), ...errors(OPS_ERRORS) },
    },
    async (req, res) => {
    const by = requireAdmin(req);
    const exported = operations.exportConfig();
    // The whole running configuration leaves the gateway (secrets only as references): who took it is kept.
    await operations.audit({ who: by.who, role: by.role, action: 'config.export', target: 'config', detail: `${Object.keys(exported.files).length} files` });
    res.json(exported);
  });

  route(
    router,
    {
      method: 'get',
      path: '/api/v1/admin/dead-letters',
      operationId: 'listDeadLetters',
      tags: ['admin'],
      summary: 'Deliveries whose attempts ran out',
      security: OPS,
      query: deadLetterQuerySchema,
      responses: { '200': answer('A page of dead letters, oldest first.', deadLetterPageSchema), ...errors(['invalid_request', ...OPS_ERRORS]) },
    },
    async (req, res) => {
    res.json(await operations.deadLetters(parse(deadLetterQuerySchema, req.query)));
  });
  route(
    router,
    {
      method: 'post',
      path: '/api/v1/admin/dead-letters/replay',
      operationId: 'replayDeadLetters',
      tags: ['admin'],
      summary: 'Re-queue every matching dead letter (audited)',
      description: 'A filter (`systemId`, `error`) or `all: true` is required: an empty body is refused. `dryRun: true` only counts them.',
      security: OPS,
      parameters: [OPERATOR],
      requestBody: body(replayManyBodySchema, true),
      responses: { '200': answer('Queued again (or counted).', replayManyAnswerSchema), ...errors(['invalid_request', 'invalid_json', 'unknown_system', ...OPS_ERRORS]) },
    },
    async (req, res) => {
    const { reason, dryRun, all, ...filter } = parse(replayManyBodySchema, req.body);
    // An empty body once replayed every dead letter of every system: that now has to be asked for.
    if (!filter.systemId && !filter.error && !all) {
      throw new ApiError('invalid_request', 'Say which dead letters to replay: systemId, error, or all: true for every one.', [{ path: '(body)', message: 'a filter (systemId, error) or all: true is required' }]);
    }
    const done = await operations.replayMany(filter, operatorOf(req), { reason, dryRun, requestId: requestIdOf(req) });
    res.json({ count: done.count, dryRun: dryRun === true, ...(done.replayed ? { replayed: done.replayed } : {}) } satisfies ReplayManyAnswer);
  });
  // The full case (ID numbers and all) is an admin's to see, as is correcting it.
  route(
    router,
    {
      method: 'get',
      path: '/api/v1/admin/dead-letters/{id}/case',
      operationId: 'getDeadLetterCase',
      tags: ['admin'],
      summary: "A dead letter's case as stored, in full (admin only), to correct it before a replay",
      security: OPS,
      parameters: [deadLetterId],
      responses: { '200': answer('The case as stored.', deadLetterCaseSchema), ...errors(['not_found', 'unknown_system', ...OPS_ERRORS]) },
    },
    async (req, res) => {
      requireAdmin(req);
      res.json((await operations.deadLetterCase(param(req, 'id'))) satisfies DeadLetterCase);
    },
  );
  route(
    router,
    {
      method: 'post',
      path: '/api/v1/admin/dead-letters/{id}/replay',
      operationId: 'replayDeadLetter',
      tags: ['admin'],
      summary: 'Re-queue a dead letter, optionally with its case corrected (audited)',
      description:
        'Queued again with fresh attempts and the same `Idempotency-Key`. With `case` (admin only), the stored case is replaced first: ' +
        'validated as intake validates, the same caseId, audited with the paths it changed (never their values).',
      security: OPS,
      parameters: [deadLetterId, OPERATOR],
      requestBody: body(replayBodySchema, false),
      responses: { '200': answer('Queued again.', replayAnswerSchema), ...errors(['invalid_request', 'invalid_case', 'invalid_json', 'not_found', 'unknown_system', ...OPS_ERRORS]) },
    },
    async (req, res) => {
    const { reason, case: corrected } = parse(replayBodySchema, req.body);
    const by = corrected ? requireAdmin(req) : operatorOf(req);
    const done = await operations.replay(param(req, 'id'), by, { reason, corrected, requestId: requestIdOf(req) });
    res.json({ id: param(req, 'id'), replayed: true, ...done } satisfies ReplayAnswer);
  });
  route(
    router,
    {
      method: 'delete',
      path: '/api/v1/admin/dead-letters/{id}',
      operationId: 'discardDeadLetter',
      tags: ['admin'],
      summary: 'Discard a dead letter with a reason (audited)',
      description: 'The delivery stays `dead`, with the reason in its history.',
      security: OPS,
      parameters: [deadLetterId, OPERATOR],
      requestBody: body(discardBodySchema, true),
      responses: { '200': answer('Discarded.', discardAnswerSchema), ...errors(['invalid_request', 'invalid_json', 'not_found', 'unknown_system', ...OPS_ERRORS]) },
    },
    async (req, res) => {
    const { reason } = parse(discardBodySchema, req.body);
    await operations.discard(param(req, 'id'), operatorOf(req), reason);
    res.json({ id: param(req, 'id'), discarded: true } satisfies DiscardAnswer);
  });
  route(
    router,
    {
      method: 'delete',
      path: '/api/v1/admin/unmatched-results/{id}',
      operationId: 'discardUnmatchedResult',
      tags: ['admin'],
      summary: 'Discard an unmatched result with a reason (audited)',
      security: OPS,
      parameters: [unmatchedId, OPERATOR],
      requestBody: body(discardBodySchema, true),
      responses: { '200': answer('Discarded.', discardAnswerSchema), ...errors(['invalid_request', 'invalid_json', 'not_found', ...OPS_ERRORS]) },
    },
    async (req, res) => {
    const { reason } = parse(discardBodySchema, req.body);
    await operations.discardUnmatched(param(req, 'id'), operatorOf(req), reason);
    res.json({ id: param(req, 'id'), discarded: true } satisfies DiscardAnswer);
  });

  route(
    router,
    {
      method: 'get',
      path: '/api/v1/admin/audit',
      operationId: 'auditTrail',
      tags: ['admin'],
      summary: 'Ops actions, newest first, filtered and paged',
      description:
        'With the case ledger (the default), every action for `retention.ledger` and at least 180 days (网络安全法 §21): drained from Redis to the ledger by the sweep, the tail not drained yet read from Redis, so an action is listed at once. ' +
        'Without a ledger (OW_LEDGER=off) the trail keeps about the latest 10,000 actions. 503 `unavailable` while the ledger does not answer.',
      security: OPS,
      query: auditQuerySchema,
      responses: { '200': answer('A page, newest first.', auditPageSchema), ...errors(['invalid_request', 'unavailable', ...OPS_ERRORS]) },
    },
    async (req, res) => {
    res.json(await operations.auditTrail(parse(auditQuerySchema, req.query)));
  });
  return router;
}
