/**
 * A case looked up (办件查询, GET /cases/{caseId}): its status, and each delivery as a card with its
 * status, why it waits and until when, its receipt, its last error while it matters, its result as
 * labelled fields, and its timeline; a dead delivery can be replayed from here.
 */
import { signal } from '@preact/signals';
import type { ComponentChildren } from 'preact';
import { answer, api, ApiProblem, type Schemas } from './api';
import { t, w } from './language';
import { selectTab } from './nav';
import { replayOne } from './replay';
import { may, onSignOut, token } from './session';
import { systemName } from './systems';
import { relative } from './time';
import { ActionButton, Badge, dash, describe, GatewayText, When, type Tone } from './ui';

type CaseView = Schemas['CaseView'];
type Delivery = Schemas['DeliveryView'];
type Step = Delivery['history'][number];
type Result = Partial<Schemas['Result']>;

const DELIVERY_TONE: Readonly<Record<Delivery['status'], Tone>> = { queued: 'info', delivering: 'info', delivered: 'ok', completed: 'ok', rejected: 'bad', dead: 'bad' };
const CASE_TONE: Readonly<Record<CaseView['status'], Tone>> = { in_progress: 'info', completed: 'ok', failed: 'bad', partially_failed: 'warn' };

type Shown = { kind: 'none' } | { kind: 'asking' } | { kind: 'noId' } | { kind: 'missing'; caseId: string } | { kind: 'failed'; err: unknown } | { kind: 'case'; data: CaseView };

const caseId = signal('');
const shown = signal<Shown>({ kind: 'none' });

onSignOut(() => {
  caseId.value = '';
  shown.value = { kind: 'none' };
});

async function lookUp(): Promise<void> {
  const id = caseId.peek().trim();
  if (!id) {
    shown.value = { kind: 'noId' };
    document.getElementById('case-id')?.focus();
    return;
  }
  shown.value = { kind: 'asking' };
  const asker = token();
  try {
    const data = await answer(api.GET('/api/v1/cases/{caseId}', { params: { path: { caseId: id } } }));
    // Signed out (or in with another token) meanwhile: this case is not for the next one to see.
    if (token() !== asker) return;
    shown.value = { kind: 'case', data };
  } catch (err) {
    if (err instanceof ApiProblem && err.auth) return;
    shown.value = err instanceof ApiProblem && err.code === 'unknown_case' ? { kind: 'missing', caseId: id } : { kind: 'failed', err };
  }
}

/** Shows the case on its tab (from a dead letter, a look-up). */
export function openCase(id: string): void {
  caseId.value = id;
  selectTab('case');
  void lookUp();
}

export function CaseLink({ caseId: id }: { caseId: string }) {
  return (
    <button type="button" class="link" title={t('openTheCase')} onClick={() => openCase(id)}>
      {id}
    </button>
  );
}

/** A document of a result, by whatever names it: its name or title, its kind and number, its link. */
function documentText(doc: unknown): string {
  if (!doc || typeof doc !== 'object') return String(doc);
  const fields = doc as Record<string, unknown>;
  const named = ['name', 'title', 'fileName', 'kind', 'type', 'number', 'no', 'url'].map((k) => fields[k]).filter((v) => typeof v === 'string' || typeof v === 'number');
  return named.length ? named.join(' · ') : JSON.stringify(doc);
}

/** A result as labelled fields: the outcome in words, the system's message, when it was decided, its documents. */
function ResultFields({ r }: { r: Result | undefined }) {
  if (!r || typeof r !== 'object') return <>—</>;
  const field = (name: string, label: string, value: ComponentChildren) => (
    <>
      <dt>{label}</dt>
      <dd data-field={name}>{value}</dd>
    </>
  );
  return (
    <dl class="result-fields">
      {field('outcome', t('outcome'), r.outcome ? w('OUTCOME', r.outcome) : '—')}
      {r.message
        ? field(
            'message',
            t('resultMessage'),
            <q class="own" title={t('systemsOwnWords')}>
              {r.message}
            </q>,
          )
        : null}
      {r.receiptNo ? field('receipt', t('receipt'), <span class="mono">{r.receiptNo}</span>) : null}
      {r.decidedAt ? field('decided-at', t('decidedAt'), <When iso={r.decidedAt} />) : null}
      {Array.isArray(r.documents) && r.documents.length
        ? field(
            'documents',
            t('documents'),
            <ul class="documents">
              {r.documents.map((doc) => (
                <li>{documentText(doc)}</li>
              ))}
            </ul>,
          )
        : null}
    </dl>
  );
}

/** A timeline step's detail: a result step as its fields (its detail ends in the result as JSON), anything else as the gateway wrote it. */
function StepDetail({ step }: { step: Step }) {
  const detail = step.detail ?? '';
  if (step.event === 'result') {
    const at = detail.indexOf(' {');
    try {
      if (at >= 0) return <ResultFields r={JSON.parse(detail.slice(at + 1)) as Result} />;
    } catch {
      // not the result's JSON: shown as written
    }
  }
  return <GatewayText message={detail} />;
}

/** Why a queued delivery waits and until when, in a sentence. */
function Waiting({ d }: { d: Delivery }) {
  const reason = <strong>{w('WAITING', d.waitingFor)}</strong>;
  let rest: ComponentChildren = null;
  if (d.waitingFor === 'paused') rest = t('waitsForResume');
  else if (d.nextAttemptAt)
    rest = (
      <>
        {t('nextAttemptAt')}
        <When iso={d.nextAttemptAt} />
        {relative(d.nextAttemptAt)}
      </>
    );
  return (
    <p class="waiting" data-waiting={d.waitingFor}>
      <span class="label">{t('whyItWaits')}</span>
      {reason}
      {rest}
    </p>
  );
}

function DeliveryCard({ caseId: id, d }: { caseId: string; d: Delivery }) {
  const letter = { id: `${d.systemId}.${id}`, caseId: id, systemId: d.systemId };
  // Once delivered or decided, an earlier error is history (the timeline keeps it), not the state.
  const settled = d.status === 'delivered' || d.status === 'completed';
  return (
    <article class="delivery" data-delivery={d.systemId}>
      <h3>
        <span class="mono">{d.systemId}</span>
        <span class="hint">{systemName(d.systemId)}</span>
        <Badge vocab="DELIVERY_STATUS" value={d.status} tone={DELIVERY_TONE[d.status]} />
        {d.status === 'dead' && may('operator') ? <ActionButton action="replay" target={letter.id} label={t('replay')} tone="secondary" onClick={(b) => void replayOne(letter, b, lookUp)} /> : null}
      </h3>
      {d.waitingFor ? <Waiting d={d} /> : null}
      <dl>
        <dt>{t('attemptCount')}</dt>
        <dd>{d.attempts}</dd>
        <dt>{t('receipt')}</dt>
        <dd class="mono">{dash(d.receiptNo)}</dd>
        {settled ? null : (
          <>
            <dt>{t('lastError')}</dt>
            <dd data-field="last-error">
              <GatewayText message={d.lastError} />
            </dd>
          </>
        )}
        <dt>{t('result')}</dt>
        <dd>
          <ResultFields r={d.result} />
        </dd>
      </dl>
      <h4>{t('timeline')}</h4>
      {/* Oldest first, as the history is kept. */}
      <ol class="timeline" aria-label={`${t('deliveryTimeline')} ${d.systemId}`}>
        {d.history.map((step) => (
          <li class={`step ev-${step.event}`} data-event={step.event}>
            <span class="at">
              <When iso={step.at} />
            </span>
            <span class="ev">{w('EVENTS', step.event)}</span>
            {step.detail ? (
              <span class="detail">
                <StepDetail step={step} />
              </span>
            ) : null}
          </li>
        ))}
      </ol>
    </article>
  );
}

function CaseShown({ c }: { c: CaseView }) {
  return (
    <>
      <h3 class="visually-hidden">{`${t('caseWord')} ${c.caseId}`}</h3>
      <dl class="case-head">
        <div>
          <dt>{t('caseId')}</dt>
          <dd class="mono">{c.caseId}</dd>
        </div>
        <div>
          <dt>{t('itemCode')}</dt>
          <dd class="mono">{dash(c.itemCode)}</dd>
        </div>
        <div>
          <dt>{t('status')}</dt>
          <dd>
            <Badge vocab="CASE_STATUS" value={c.status} tone={CASE_TONE[c.status]} />
          </dd>
        </div>
        <div>
          <dt>{t('acceptedAt')}</dt>
          <dd>
            <When iso={c.acceptedAt} />
          </dd>
        </div>
      </dl>
      <div class="deliveries">
        {c.deliveries.map((d) => (
          <DeliveryCard caseId={c.caseId} d={d} />
        ))}
      </div>
    </>
  );
}

function Outcome() {
  const now = shown.value;
  switch (now.kind) {
    case 'none':
      return null;
    case 'asking':
      return <p class="hint">{t('lookingUp')}</p>;
    case 'noId':
      return <p class="error-text">{t('enterCaseId')}</p>;
    case 'missing':
      return <p class="empty">{t('noSuchCase', { caseId: now.caseId })}</p>;
    case 'failed': {
      const { lines, details } = describe(now.err);
      return (
        <div class="message error" role="alert">
          <strong>{t('lookupFailed')}</strong>
          {lines.filter(Boolean).map((line) => (
            <div>{line}</div>
          ))}
          {details.map((d) => (
            <div>{d}</div>
          ))}
        </div>
      );
    }
    case 'case':
      return <CaseShown c={now.data} />;
  }
}

export function CasePanel({ hidden }: { hidden: boolean }) {
  return (
    <section id="panel-case" role="tabpanel" aria-labelledby="tab-case" class="panel" hidden={hidden}>
      <div class="toolbar">
        <h2>{t('caseLookup')}</h2>
      </div>
      <form
        id="case-form"
        class="toolbar filters"
        onSubmit={(event) => {
          event.preventDefault();
          void lookUp();
        }}
      >
        <label class="inline" for="case-id">
          {t('caseId')}
        </label>
        <input id="case-id" type="search" spellcheck={false} maxLength={64} required placeholder="QZ-20261128-000001" class="wide" value={caseId.value} onInput={(e) => (caseId.value = e.currentTarget.value)} />
        <button type="submit" class="primary">
          {t('lookUp')}
        </button>
      </form>
      <div id="case-result" aria-live="polite">
        <Outcome />
      </div>
    </section>
  );
}
