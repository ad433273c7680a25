/** The audit trail (审计记录): who did what to which target, why, newest first, a page at a time. */
import { signal } from '@preact/signals';
import { answer, api, type Schemas } from './api';
import { t, w } from './language';
import { onTabShown } from './nav';
import { onSignOut } from './session';
import { dash, GatewayText, ListTable, pageQuery, Pager, report, When } from './ui';

const entries = signal<ReadonlyArray<Schemas['AuditEntry']> | undefined>(undefined);
const pager = new Pager(() => void loadAudit());

onTabShown('audit', () => void loadAudit());
onSignOut(() => {
  entries.value = undefined;
  pager.clear();
});

async function loadAudit(): Promise<void> {
  try {
    const page = await answer(api.GET('/api/v1/admin/audit', { params: { query: pageQuery({}, pager.cursor()) } }));
    entries.value = page.items;
    pager.shown(page.next, page.items.length);
  } catch (err) {
    report(t('auditFailed'), err);
  }
}

export function AuditPanel({ hidden }: { hidden: boolean }) {
  const shown = entries.value;
  const none = shown !== undefined && shown.length === 0;
  return (
    <section id="panel-audit" role="tabpanel" aria-labelledby="tab-audit" class="panel" hidden={hidden}>
      <div class="toolbar">
        <h2>{t('auditTrail')}</h2>
        <p class="hint">{t('newestFirst')}</p>
        <div class="spacer" />
        <button type="button" id="audit-refresh" class="secondary" onClick={() => void loadAudit()}>
          {t('refresh')}
        </button>
      </div>
      <ListTable
        id="audit"
        caption={t('auditTrail')}
        columns={[{ label: t('at') }, { label: t('who') }, { label: t('action') }, { label: t('target') }, { label: t('reason') }, { label: t('detail') }]}
        none={none}
        empty={t('nothingAudited')}
        pager={pager}
      >
        {(shown ?? []).map((a) => (
          <tr data-action={a.action}>
            <td class="nowrap">
              <When iso={a.at} />
            </td>
            <td>{dash(a.who)}</td>
            <td class="nowrap" title={a.action}>
              {w('ACTIONS', a.action)}
            </td>
            <td class="mono">{dash(a.target)}</td>
            <td class="wrap">{dash(a.reason)}</td>
            <td class="wrap">
              <GatewayText message={a.detail} />
            </td>
          </tr>
        ))}
      </ListTable>
    </section>
  );
}
