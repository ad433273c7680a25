/**
 * Unmatched results (未匹配结果): results a system pushed that no case was found for, kept for ops. An
 * operator rematches one (once its delivery exists) or discards it with a reason.
 */
import { signal } from '@preact/signals';
import { answer, api, type Schemas } from './api';
import { t, w } from './language';
import { onTabShown } from './nav';
import { may, onSignOut } from './session';
import { act, ActionButton, busy, dash, GatewayText, ListTable, message, ok, pageQuery, Pager, report, When } from './ui';

type Unmatched = Schemas['UnmatchedResult'];

const results = signal<readonly Unmatched[] | undefined>(undefined);
/** The tab's count: the first page's, with "+" when there are more pages. */
export const unmatchedCount = signal('');
const pager = new Pager(() => void loadUnmatched());

onTabShown('unmatched', () => void loadUnmatched());
onSignOut(() => {
  results.value = undefined;
  unmatchedCount.value = '';
  pager.clear();
});

export async function loadUnmatched(quiet = false): Promise<void> {
  try {
    const page = await answer(api.GET('/api/v1/admin/unmatched-results', { params: { query: pageQuery({}, pager.cursor()) } }));
    if (!pager.cursor()) unmatchedCount.value = page.items.length ? `${page.items.length}${page.next ? '+' : ''}` : '';
    results.value = page.items;
    pager.shown(page.next, page.items.length);
  } catch (err) {
    if (!quiet) report(t('unmatchedFailed'), err);
  }
}

async function rematchOne(u: Unmatched, button: HTMLButtonElement): Promise<void> {
  await busy(button, t('rematchFailed'), async () => {
    // 409: still nothing to match it to, said in the answer's body.
    const said = await answer(api.POST('/api/v1/admin/unmatched-results/{id}/rematch', { params: { path: { id: u.id } } }), [409]);
    if ('matched' in said && said.matched) ok(t('matched'), t('matchedText', { id: u.systemId }));
    else message('error', t('stillUnmatched'), [t('stillUnmatchedText')]);
    await loadUnmatched();
  });
}

function discardUnmatched(u: Unmatched, button: HTMLButtonElement): Promise<void> {
  return act({
    button,
    ask: { title: `${t('discardUnmatched')} ${u.id}`, text: t('discardUnmatchedExplained'), required: true, okLabel: t('discard'), danger: true },
    failed: t('discardFailed'),
    call: (reason) => answer(api.DELETE('/api/v1/admin/unmatched-results/{id}', { params: { path: { id: u.id } }, body: { reason } })),
    done: () => ok(t('discarded'), u.id),
    reload: () => loadUnmatched(),
  });
}

function UnmatchedRow({ u }: { u: Unmatched }) {
  const r = u.result;
  return (
    <tr data-unmatched={u.id}>
      <td class="nowrap">
        <When iso={u.receivedAt} />
      </td>
      <td class="mono nowrap">{dash(u.systemId)}</td>
      <td class="mono nowrap">
        {dash(r.caseId)}
        {r.receiptNo ? <div class="hint">{`${t('receiptWord')} ${r.receiptNo}`}</div> : null}
      </td>
      <td>
        {r.outcome ? w('OUTCOME', r.outcome) : '—'}
        {r.message ? (
          <div class="hint">
            <q class="own">{r.message}</q>
          </div>
        ) : null}
      </td>
      <td class="wrap">
        <GatewayText message={u.reason} />
      </td>
      <td>
        <details>
          <summary>{t('show')}</summary>
          <pre>{JSON.stringify(u.pushed, null, 2)}</pre>
        </details>
      </td>
      {may('operator') ? (
        <td class="actions">
          <ActionButton action="rematch" target={u.id} label={t('rematch')} tone="secondary" onClick={(b) => void rematchOne(u, b)} />
          <ActionButton action="discard-unmatched" target={u.id} label={t('discard')} tone="danger" onClick={(b) => void discardUnmatched(u, b)} />
        </td>
      ) : null}
    </tr>
  );
}

export function UnmatchedPanel({ hidden }: { hidden: boolean }) {
  const shown = results.value;
  const none = shown !== undefined && shown.length === 0;
  return (
    <section id="panel-unmatched" role="tabpanel" aria-labelledby="tab-unmatched" class="panel" hidden={hidden}>
      <div class="toolbar">
        <h2>{t('unmatchedResults')}</h2>
        <p class="hint">{t('unmatchedHint')}</p>
        <div class="spacer" />
        <button type="button" id="unmatched-refresh" class="secondary" onClick={() => void loadUnmatched()}>
          {t('refresh')}
        </button>
      </div>
      <ListTable
        id="unmatched"
        caption={t('unmatchedResults')}
        columns={[{ label: t('received') }, { label: t('system') }, { label: t('case') }, { label: t('outcome') }, { label: t('reason') }, { label: t('pushed') }, may('operator') && { label: t('action'), operator: true }]}
        none={none}
        empty={t('nothingUnmatched')}
        pager={pager}
      >
        {(shown ?? []).map((u) => (
          <UnmatchedRow key={u.id} u={u} />
        ))}
      </ListTable>
    </section>
  );
}
