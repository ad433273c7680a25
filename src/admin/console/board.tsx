/**
 * The systems board (业务系统): every legacy system with its state, health and queue, problem systems
 * first; header counters that filter to the systems they count; pause and resume (operator and
 * admin); each system's id opens its page (#system/<id>), its dead letters link to them; an admin
 * adds a system (#new-system). What ops
 * need at 3 a.m.: since when a system fails, what it said, when it last worked, who waits how long.
 */
import { signal } from '@preact/signals';
import { answer, api } from './api';
import { showDeadLettersOf } from './dead-letters';
import { t, w } from './language';
import { NEW_SYSTEM_HASH, onTabShown, openPage, systemHash } from './nav';
import { may, onSignOut } from './session';
import { autoRefresh, deadLetterTotal, loadSystems, problemRank, PROBLEM_ORDER, refreshed, showSystem, systems, type SystemStatus } from './systems';
import { beijing, duration, relative } from './time';
import { act, ActionButton, Badge, busy, GatewayText, ok, PlainBadge, When, withReason, type Tone } from './ui';

type Problem = SystemStatus['problems'][number];

const CIRCUIT_TONE: Readonly<Record<string, Tone>> = { closed: 'ok', open: 'bad', half_open: 'warn' };

const filterText = signal('');
const filterLevel = signal('');
/** A header counter chosen: only the systems with that problem are shown (a second click shows all). */
const problemFilter = signal<Problem | ''>('');

onTabShown('systems', () => void loadSystems());
onSignOut(() => {
  problemFilter.value = '';
});

function shownByFilter(s: SystemStatus): boolean {
  const text = filterText.value.trim().toLowerCase();
  const level = filterLevel.value;
  return (!level || s.level === level) && (!problemFilter.value || s.problems.includes(problemFilter.value)) && (!text || s.id.toLowerCase().includes(text) || s.name.toLowerCase().includes(text));
}

/** The state cell: running or paused, the circuit, and when it probes next. */
function StateCell({ s }: { s: SystemStatus }) {
  const c = s.circuit;
  // A paused system sends nothing, so it probes nothing; a probe time already past says nothing either.
  const probing = !s.paused && c.openUntil && Date.parse(c.openUntil) > Date.now();
  return (
    <>
      {s.paused ? <PlainBadge tone="warn">{t('paused')}</PlainBadge> : <PlainBadge tone="ok">{t('running')}</PlainBadge>} <Badge vocab="CIRCUIT" value={c.state} tone={CIRCUIT_TONE[c.state]} />
      {c.failures ? <div class="hint">{t('failuresInARow', { n: c.failures })}</div> : null}
      {probing ? (
        <div class="hint" data-field="next-probe">
          {t('nextProbe')}
          <When iso={c.openUntil} />
        </div>
      ) : null}
      {s.paused && c.state !== 'closed' ? <div class="hint">{t('noProbeWhilePaused')}</div> : null}
    </>
  );
}

function HealthCell({ s }: { s: SystemStatus }) {
  const since = s.probe?.unreachableSince ?? s.probe?.checkedAt;
  const lines = [
    s.problems.length ? (
      <div class="problems">
        {s.problems.map((p) => (
          <>
            <Badge vocab="PROBLEMS" value={p} tone={p === 'dead_letters' || p === 'window_closed' ? 'warn' : 'bad'} />{' '}
          </>
        ))}
      </div>
    ) : null,
    !s.window.open ? (
      <div class="hint">
        {t('outsideWindowOpens')}
        <When iso={s.window.opensAt} />
      </div>
    ) : null,
    // The health probe's view: unreachable since its first failed probe, with what it met.
    s.probe && !s.probe.ok ? (
      <div class="hint bad-text" data-field="unreachable-since">
        {t('unreachableSince')}
        <When iso={since} />
        {relative(since)}
        {s.probe.error ? (
          <div class="hint wrap">
            <GatewayText message={s.probe.error} />
          </div>
        ) : null}
      </div>
    ) : null,
    s.failingSince ? (
      <div class="hint bad-text" data-field="failing-since">
        {t('failingSince')}
        <When iso={s.failingSince} />
        {relative(s.failingSince)}
      </div>
    ) : null,
    s.lastError ? (
      <div class="hint wrap" data-field="last-error">
        {t('lastErrorColon')}
        <GatewayText message={s.lastError} />
      </div>
    ) : null,
    s.lastSuccessAt ? (
      <div class="hint" data-field="last-success">
        {t('lastSuccess')}
        <When iso={s.lastSuccessAt} />
        {relative(s.lastSuccessAt)}
      </div>
    ) : s.failingSince ? (
      <div class="hint" data-field="last-success">
        {t('lastSuccessNever')}
      </div>
    ) : null,
    s.oldestWaitingAt ? (
      <div class="hint" data-field="oldest-waiting">
        {t('oldestWaiting', { span: duration(Date.now() - Date.parse(s.oldestWaitingAt)) })}
      </div>
    ) : null,
    s.applyErrors?.length ? <div class="hint bad-text">{t('notAppliedOn', { version: s.applyErrors[0]!.version, n: s.applyErrors.length })}</div> : null,
  ].filter(Boolean);
  return lines.length ? <>{lines}</> : <span class="hint">{t('noProblem')}</span>;
}

const numberClass = (value: number): string => `num${value ? '' : ' zero'}`;

function SystemRow({ s }: { s: SystemStatus }) {
  const classes = [s.paused ? 'paused' : '', problemRank(s) < PROBLEM_ORDER.length ? 'problem' : ''].filter(Boolean).join(' ');
  return (
    <tr data-system={s.id} class={classes || undefined} hidden={!shownByFilter(s)}>
      <td>
        <span class={`level-${s.level}`}>{w('LEVELS', s.level)}</span>
      </td>
      <td>
        <div class="mono nowrap">
          <a href={systemHash(s.id)} data-open-system={s.id}>
            {s.id}
          </a>
        </div>
        <div class="name">{s.name}</div>
      </td>
      <td>{s.protocol.toUpperCase()}</td>
      <td>
        <StateCell s={s} />
      </td>
      <td class="health">
        <HealthCell s={s} />
      </td>
      <td class={numberClass(s.queue.waiting)}>{s.queue.waiting}</td>
      <td class={numberClass(s.queue.active)}>{s.queue.active}</td>
      <td class={numberClass(s.queue.delayed)}>{s.queue.delayed}</td>
      <td class={numberClass(s.deadLetters)}>
        {/* Its dead letters: the number links to them, filtered to this system. */}
        {s.deadLetters ? (
          <button type="button" class="link" data-dead-for={s.id} title={t('showItsDeadLetters')} onClick={() => showDeadLettersOf(s.id)}>
            {s.deadLetters}
          </button>
        ) : (
          '0'
        )}
      </td>
      {/* Pausing and resuming: operator and admin only; a viewer's row has no action cell at all. */}
      {may('operator') ? (
        <td class="nowrap">
          <ActionButton
            action={s.paused ? 'resume' : 'pause'}
            target={s.id}
            label={s.paused ? t('resume') : t('pause')}
            tone={s.paused ? 'primary' : 'secondary'}
            onClick={(button) => void togglePause(s.id, button)}
          />
        </td>
      ) : null}
    </tr>
  );
}

async function togglePause(id: string, button: HTMLButtonElement): Promise<void> {
  const s = systems.peek().find((x) => x.id === id);
  if (!s) return;
  const pausing = !s.paused;
  const named = t('systemNamed', { name: s.name, id: s.id });
  await act({
    button,
    ask: {
      title: `${pausing ? t('pause') : t('resume')} ${named}`,
      text: pausing ? t('pauseExplained') : t('resumeExplained'),
      required: false,
      okLabel: pausing ? t('pause') : t('resume'),
      danger: pausing,
    },
    failed: pausing ? t('pauseFailed') : t('resumeFailed'),
    call: (reason) =>
      answer(pausing ? api.POST('/api/v1/admin/systems/{id}/pause', { params: { path: { id } }, body: withReason(reason, {}) }) : api.POST('/api/v1/admin/systems/{id}/resume', { params: { path: { id } }, body: withReason(reason, {}) })),
    done: (status) => {
      showSystem(status);
      ok(pausing ? t('pausedTitle') : t('resumedTitle'), named);
    },
  });
}

/** The header counters, each a link to the systems it counts (a second click shows them all). */
function Summary() {
  const list = systems.value;
  const having = (problem: Problem): number => list.filter((s) => s.problems.includes(problem)).length;
  const counter = (problem: Problem, count: number) => {
    const active = problemFilter.value === problem;
    return (
      <button
        type="button"
        class={`link counter${active ? ' active' : ''}${count ? ' nonzero' : ''}`}
        data-problem={problem}
        aria-pressed={active}
        onClick={() => {
          problemFilter.value = active ? '' : problem;
        }}
      >
        {`${w('PROBLEMS', problem)} `}
        <strong>{count}</strong>
      </button>
    );
  };
  const waiting = list.reduce((n, s) => n + s.queue.waiting, 0);
  return (
    <div id="systems-summary" class="summary" aria-live="off">
      {refreshed.value.at !== undefined || list.length ? (
        <>
          <span>
            {t('systemsCountBefore')}
            <strong>{list.length}</strong>
            {t('systemsCountAfter')}
          </span>
          {counter('circuit_open', having('circuit_open'))}
          {counter('unreachable', having('unreachable'))}
          {counter('paused', having('paused'))}
          {counter('window_closed', having('window_closed'))}
          {counter('failing', having('failing'))}
          {counter('dead_letters', deadLetterTotal.value)}
          <span>
            {t('waitingCount')}
            <strong>{waiting}</strong>
          </span>
          {problemFilter.value ? <span class="hint">{t('showingOnly', { problem: w('PROBLEMS', problemFilter.value) })}</span> : null}
        </>
      ) : null}
    </div>
  );
}

function Updated() {
  const { at, failed } = refreshed.value;
  return (
    <p class="updated" id="systems-updated">
      {failed ?? (at ? t('updatedAt', { at: beijing(at) }) : '')}
    </p>
  );
}

export function BoardPanel({ hidden }: { hidden: boolean }) {
  const operator = may('operator');
  return (
    <section id="panel-systems" role="tabpanel" aria-labelledby="tab-systems" class="panel" hidden={hidden}>
      <div class="toolbar">
        <h2>{t('legacySystems')}</h2>
        <Summary />
        <div class="spacer" />
        <Updated />
      </div>
      <div class="toolbar filters">
        <label class="inline" for="systems-filter">
          {t('filter')}
        </label>
        <input id="systems-filter" type="search" placeholder={t('idOrName')} spellcheck={false} class="wide" value={filterText.value} onInput={(e) => (filterText.value = e.currentTarget.value)} />
        <label class="inline" for="systems-level">
          {t('level')}
        </label>
        <select id="systems-level" value={filterLevel.value} onChange={(e) => (filterLevel.value = e.currentTarget.value)}>
          <option value="">{t('all')}</option>
          {(['national', 'provincial', 'city'] as const).map((level) => (
            <option value={level}>{w('LEVELS', level)}</option>
          ))}
        </select>
        <div class="spacer" />
        <label class="inline check">
          <input id="systems-auto" type="checkbox" checked={autoRefresh.value} onChange={(e) => (autoRefresh.value = e.currentTarget.checked)} /> <span>{t('autoRefresh')}</span>
        </label>
        <button type="button" id="systems-refresh" class="secondary" onClick={(e) => void busy(e.currentTarget, t('refreshFailedTitle'), () => loadSystems())}>
          {t('refresh')}
        </button>
        {/* Adding a system is a page of the board (#new-system): a template per protocol in the editor. */}
        {may('admin') ? (
          <button type="button" id="systems-add" class="primary" data-needs="admin" onClick={() => openPage(NEW_SYSTEM_HASH)}>
            {t('addSystem')}
          </button>
        ) : null}
      </div>
      <div class="table-wrap">
        <table id="systems-table" class="data">
          <caption class="visually-hidden">{t('systemsCaption')}</caption>
          <thead>
            <tr>
              <th scope="col">{t('level')}</th>
              <th scope="col">{t('system')}</th>
              <th scope="col">{t('protocol')}</th>
              <th scope="col">{t('state')}</th>
              <th scope="col">{t('health')}</th>
              <th scope="col" class="num">
                {t('waiting')}
              </th>
              <th scope="col" class="num">
                {t('active')}
              </th>
              <th scope="col" class="num">
                {t('retrying')}
              </th>
              <th scope="col" class="num">
                {t('deadLetters')}
              </th>
              {operator ? (
                <th scope="col" data-needs="operator">
                  {t('action')}
                </th>
              ) : null}
            </tr>
          </thead>
          <tbody>
            {systems.value.map((s) => (
              <SystemRow key={s.id} s={s} />
            ))}
          </tbody>
        </table>
      </div>
    </section>
  );
}
