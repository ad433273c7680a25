/**
 * Dead letters (死信): deliveries whose attempts ran out, filtered by system or error text, a page at
 * a time. An operator replays or discards one (a reason asked; a discard needs one), or replays many
 * (a scope needed, the count shown before anything is replayed); an admin may correct the case first.
 */
import { signal } from '@preact/signals';
import { answer, api, type Schemas } from './api';
import { CaseLink } from './case';
import { correctOne } from './correct';
import { t } from './language';
import { onTabShown, selectTab } from './nav';
import { replayOne } from './replay';
import { may, onSignOut } from './session';
import { loadSystems, systemName, systems } from './systems';
import { act, ActionButton, busy, GatewayText, ListTable, message, ok, pageQuery, Pager, report, When, withReason } from './ui';

type DeadLetter = Schemas['DeadLetter'];
interface DeadFilter {
  systemId: string;
  error: string;
}

const NO_FILTER: DeadFilter = { systemId: '', error: '' };

/** What the form says now, and the filter of the list shown (the form's, once searched). */
const fields = signal<DeadFilter>(NO_FILTER);
const filter = signal<DeadFilter>(NO_FILTER);
const letters = signal<readonly DeadLetter[] | undefined>(undefined);
/** "every system, no filter", ticked explicitly for a bulk replay without a scope. */
const everySystem = signal(false);
const pager = new Pager(() => void loadDeadLetters());

onTabShown('dead', () => void loadDeadLetters());
onSignOut(() => {
  fields.value = NO_FILTER;
  filter.value = NO_FILTER;
  letters.value = undefined;
  everySystem.value = false;
  pager.clear();
});

async function loadDeadLetters(quiet = false): Promise<void> {
  const asked = filter.peek();
  try {
    const page = await answer(api.GET('/api/v1/admin/dead-letters', { params: { query: pageQuery({ ...asked }, pager.cursor()) } }));
    if (asked !== filter.peek()) return; // the filter changed meanwhile
    letters.value = page.items;
    pager.shown(page.next, page.items.length);
  } catch (err) {
    if (!quiet) report(t('deadLettersFailed'), err);
  }
}

/** The board's link: this system's dead letters. */
export function showDeadLettersOf(systemId: string): void {
  fields.value = { systemId, error: '' };
  filter.value = fields.peek();
  pager.reset();
  selectTab('dead');
}

/** After a change to dead letters: the list, and the board's counts, are read again. */
async function deadLettersChanged(): Promise<void> {
  await Promise.all([loadDeadLetters(), loadSystems(true)]);
}

function discardOne(d: DeadLetter, button: HTMLButtonElement): Promise<void> {
  const route = `${d.caseId} → ${d.systemId}`;
  return act({
    button,
    ask: { title: `${t('discardDeadLetter')} ${route}`, text: t('discardExplained'), required: true, okLabel: t('discard'), danger: true },
    failed: t('discardFailed'),
    call: (reason) => answer(api.DELETE('/api/v1/admin/dead-letters/{id}', { params: { path: { id: d.id } }, body: { reason } })),
    done: () => ok(t('discarded'), route),
    reload: deadLettersChanged,
  });
}

/**
 * Bulk replay: a filter, or "every system" ticked explicitly; the API counts first (dryRun) and the
 * count is shown before anything is replayed.
 */
async function replayMany(button: HTMLButtonElement): Promise<void> {
  const systemId = fields.peek().systemId;
  const error = fields.peek().error.trim();
  if (!systemId && !error && !everySystem.peek()) {
    message('error', t('chooseScope'), [t('chooseScopeExplained')]);
    return;
  }
  const body: Schemas['ReplayManyBody'] = {};
  if (systemId) body.systemId = systemId;
  if (error) body.error = error;
  if (!systemId && !error) body.all = true;
  const counted = await busy(button, t('countFailed'), () => answer(api.POST('/api/v1/admin/dead-letters/replay', { body: { ...body, dryRun: true } })));
  if (!counted) return;
  if (!counted.count) {
    ok(t('nothingMatches'), t('nothingMatchesExplained'));
    return;
  }
  const scope = [body.all ? t('everySystemScope') : '', systemId ? t('scopeSystem', { id: systemId }) : '', error ? t('scopeError', { text: error }) : ''].filter(Boolean);
  const n = counted.count;
  await act({
    button,
    ask: { title: t('replayManyTitle', { n }), text: t('replayManyText', { scope: scope.join(t('listSeparator')), n }), required: false, okLabel: t('replayN', { n }), danger: Boolean(body.all) },
    failed: t('replayManyFailed'),
    call: (reason) => answer(api.POST('/api/v1/admin/dead-letters/replay', { body: withReason(reason, body) })),
    done: (replayed) => ok(t('replayedMany'), t('replayedManyText', { n: replayed.count })),
    reload: deadLettersChanged,
  });
  everySystem.value = false;
}

function DeadLetterRow({ d }: { d: DeadLetter }) {
  return (
    <tr data-dead-letter={d.id}>
      <td class="nowrap">
        <CaseLink caseId={d.caseId} />
      </td>
      <td>
        <div class="mono">{d.systemId}</div>
        <div class="hint">{systemName(d.systemId)}</div>
      </td>
      <td class="num">{d.attempts}</td>
      <td class="wrap">
        <GatewayText message={d.lastError} />
      </td>
      <td class="nowrap">
        <When iso={d.failedAt} />
      </td>
      {may('operator') ? (
        <td class="actions">
          <ActionButton action="replay" target={d.id} label={t('replay')} tone="secondary" onClick={(b) => void replayOne(d, b, deadLettersChanged)} />
          {/* Correcting the case needs full case data and is an admin's. */}
          {may('admin') ? <ActionButton action="correct" target={d.id} label={t('correctAndReplayShort')} tone="secondary" onClick={(b) => void correctOne(d, b, deadLettersChanged)} /> : null}
          <ActionButton action="discard" target={d.id} label={t('discard')} tone="danger" onClick={(b) => void discardOne(d, b)} />
        </td>
      ) : null}
    </tr>
  );
}

export function DeadLettersPanel({ hidden }: { hidden: boolean }) {
  const operator = may('operator');
  const shown = letters.value;
  const none = shown !== undefined && shown.length === 0;
  const chosen = fields.value.systemId;
  return (
    <section id="panel-dead" role="tabpanel" aria-labelledby="tab-dead" class="panel" hidden={hidden}>
      <div class="toolbar">
        <h2>{t('deadLetters')}</h2>
        <p class="hint">{t('deadLettersHint')}</p>
      </div>
      <form
        id="dead-form"
        class="toolbar filters"
        onSubmit={(event) => {
          event.preventDefault();
          filter.value = { systemId: fields.peek().systemId, error: fields.peek().error.trim() };
          pager.reset();
          void loadDeadLetters();
        }}
      >
        <label class="inline" for="dead-system">
          {t('system')}
        </label>
        <select id="dead-system" value={systems.value.some((s) => s.id === chosen) ? chosen : ''} onChange={(e) => (fields.value = { ...fields.peek(), systemId: e.currentTarget.value })}>
          <option value="">{t('all')}</option>
          {systems.value.map((s) => (
            <option value={s.id}>{`${s.id} ${s.name}`}</option>
          ))}
        </select>
        <label class="inline" for="dead-error">
          {t('errorContains')}
        </label>
        <input id="dead-error" type="search" spellcheck={false} placeholder={t('errorContainsExample')} value={fields.value.error} onInput={(e) => (fields.value = { ...fields.peek(), error: e.currentTarget.value })} />
        <button type="submit" class="secondary">
          {t('search')}
        </button>
        <div class="spacer" />
        {operator ? (
          <>
            <label class="inline check" data-needs="operator">
              <input id="dead-all" type="checkbox" checked={everySystem.value} onChange={(e) => (everySystem.value = e.currentTarget.checked)} /> <span>{t('everySystemNoFilter')}</span>
            </label>
            <button type="button" id="dead-replay-many" class="primary" data-needs="operator" onClick={(e) => void replayMany(e.currentTarget)}>
              {t('replayMatching')}
            </button>
          </>
        ) : null}
      </form>
      <ListTable
        id="dead"
        caption={t('deadLettersCaption')}
        columns={[{ label: t('case') }, { label: t('system') }, { label: t('attempts'), num: true }, { label: t('lastError') }, { label: t('failedAt') }, operator && { label: t('action'), operator: true }]}
        none={none}
        empty={t('noDeadLetters')}
        pager={pager}
      >
        {(shown ?? []).map((d) => (
          <DeadLetterRow key={d.id} d={d} />
        ))}
      </ListTable>
    </section>
  );
}
