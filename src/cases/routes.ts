/** The intake platform's HTTP interface: submit a case, ask what became of it. */
import { Router } from 'express';
import { CASE_EXAMPLE, errors, INTAKE, OPS, pathParam, ref, answer } from '../api-docs';
import { route } from '../platform/route';
import { callerOf } from '../platform/access';
import { seesFullData } from '../platform/auth';
import { ApiError } from '../platform/errors';
import { maskDeep } from '../platform/privacy';
import { jsonBody } from '../platform/json-body';
import { requestIdOf, requestLog } from '../platform/http-observe';
import type { Logger } from '../platform/logger';
import type { Metrics } from '../platform/metrics';
import { acceptedSchema, caseIdSchema, caseSchema, caseViewSchema, type CaseView } from './model';
import { acceptCase, type ArchiveCheck, type IntakeDeps } from './intake';
import type { Waiting } from '../delivery/waiting';
import { caseClock } from '../timelimits/case-clock';
import type { ClockEntry } from '../timelimits/clock';

export interface CaseRoutesDeps extends IntakeDeps {
  /** Answers for cases that have left Redis (the ledger); unset: Redis alone. */
  archive?: ArchiveCheck & { readCase(caseId: string): Promise<CaseView | undefined>; readClock(caseId: string): Promise<ClockEntry[]> };
  /** Why a queued delivery waits and until when; unset: not said. */
  waiting?: (caseId: string, systemId: string) => Promise<Waiting>;
  bodyLimit: string | number;
  log: Logger;
  metrics: Metrics;
}

export function caseRoutes(deps: CaseRoutesDeps): Router {
  const router = Router();

  route(
    router,
    {
      method: 'post',
      path: '/api/v1/cases',
      operationId: 'submitCase',
      tags: ['intake'],
      summary: 'Submit a case',
      description:
        'Answers 202 once the case is durably queued for each target system, 200 with the same answer for an identical resubmission. ' +
        'Changed content under the same caseId is taken (202) only while the case waits for the applicant to complete it (a need_more result): its clock restarts and the deliveries that asked for more are sent again; otherwise it is a `case_conflict`. ' +
        '`invalid_case` lists every problem in `details`.',
      security: INTAKE,
      requestBody: { required: true, content: { 'application/json': { schema: caseSchema, example: CASE_EXAMPLE } } },
      responses: {
        '202': answer('Accepted and durably queued; also a resubmission with changed content of a case waiting for the applicant (need_more), which restarts its clock and is sent again.', acceptedSchema),
        '200': answer('An identical resubmission of an accepted case: the same answer.', acceptedSchema),
        ...errors(['invalid_case', 'invalid_json', 'unauthorized', 'forbidden', 'case_conflict', 'payload_too_large']),
        ...errors(['unsupported_media_type', 'no_route', 'internal', 'unavailable']),
      },
    },
    (req, _res, next) => next(req.is('application/json') ? undefined : new ApiError('unsupported_media_type')),
    ...jsonBody(deps.bodyLimit),
    async (req, res) => {
      const log = requestLog(req, deps.log);
      let result;
      try {
        result = await acceptCase(req.body, deps, requestIdOf(req));
      } catch (err) {
        if (err instanceof ApiError) {
          deps.metrics.cases.inc({ answer: err.code });
          throw err;
        }
        // Anything else here is Redis being away or slow: never answer 202 for what is not stored.
        log.error({ err: (err as Error).message }, 'case could not be queued durably');
        deps.metrics.cases.inc({ answer: 'unavailable' });
        throw new ApiError('unavailable');
      }
      deps.metrics.cases.inc({ answer: result.created || result.resubmitted ? 'accepted' : 'resubmitted' });
      log.info({ caseId: result.answer.caseId, targets: result.answer.deliveries.map((d) => d.systemId), created: result.created }, 'case accepted');
      res.status(result.created || result.resubmitted ? 202 : 200).json(result.answer);
    },
  );

  route(
    router,
    {
      method: 'get',
      path: '/api/v1/cases/{caseId}',
      operationId: 'getCase',
      tags: ['intake'],
      summary: 'What became of a case',
      security: [...INTAKE, ...OPS],
      parameters: [pathParam('caseId', 'The caseId the case was submitted with.', ref('CaseId'))],
      responses: {
        '200': answer('The case and each of its deliveries.', caseViewSchema),
        ...errors(['unauthorized', 'forbidden', 'unknown_case', 'internal']),
      },
    },
    async (req, res) => {
    const caseId = String(req.params.caseId);
    if (!caseIdSchema.safeParse(caseId).success) throw new ApiError('unknown_case');
    // Redis first: the ledger is written before Redis lets a case go, so one of them has it.
    const view = (await deps.store.view(caseId)) ?? (await readArchived(deps, (archive) => archive.readCase(caseId)));
    if (!view) throw new ApiError('unknown_case');
    if (deps.waiting && !view.archived) {
      const explain = deps.waiting;
      view.deliveries = await Promise.all(view.deliveries.map(async (d) => (d.status === 'queued' ? { ...d, ...(await explain(caseId, d.systemId)) } : d)));
    }
    // The clock, from the same place the case came from (its entries are archived with it).
    const entries = view.archived ? await readArchived(deps, (archive) => archive.readClock(caseId)) : await deps.store.clock(caseId);
    const clock = caseClock({ ...view, clock: entries ?? [] }, deps.config().timeLimits, deps.now?.() ?? new Date());
    if (clock) view.timeLimit = clock.view;
    // Full data for the intake platform and admins; ops in other roles see ID and phone numbers masked.
    res.json(seesFullData(callerOf(res)?.role) ? view : maskDeep(view));
  });

  return router;
}

async function readArchived<T>(deps: CaseRoutesDeps, read: (archive: NonNullable<CaseRoutesDeps['archive']>) => Promise<T>): Promise<T | undefined> {
  if (!deps.archive) return undefined;
  try {
    return await read(deps.archive);
  } catch {
    throw new ApiError('unavailable', 'The case is not in Redis and the case ledger does not answer right now; try again shortly.');
  }
}
