/**
 * Shared-data look-ups (查询记录, read-only): who looked up whom, for which case and purpose, with
 * what each source answered; ID numbers masked, newest first. The person filter takes a full ID
 * number, sends it, and never leaves it on the page: the field is emptied, the filter shown masked.
 */
import { signal } from '@preact/signals';
import { answer, api, ApiProblem, type Schemas } from './api';
import { CaseLink } from './case';
import { t, w } from './language';
import { onTabShown } from './nav';
import { onSignOut, token } from './session';
import { Badge, dash, ListTable, PlainBadge, report, type Tone, When } from './ui';

type Lookup = Schemas['LookupListing'];
interface LookupFilter {
  caseId: string;
  person: string;
}

const DOCUMENT_TONE: Readonly<Record<Schemas['DocumentStatus'], Tone>> = { found: 'ok', not_found: 'muted', error: 'bad', timeout: 'warn' };
const NO_FILTER: LookupFilter = { caseId: '', person: '' };

/** The filter in use; the ID number typed in is kept here only. */
const filter = signal<LookupFilter>(NO_FILTER);
const caseField = signal('');
const personField = signal('');
const lookups = signal<readonly Lookup[] | undefined>(undefined);

onTabShown('lookups', () => void loadLookups());
onSignOut(() => {
  filter.value = NO_FILTER;
  caseField.value = '';
  personField.value = '';
  lookups.value = undefined;
});

/** As the gateway masks an ID number: the first 3 and last 2 characters kept. */
function maskId(value: string): string {
  if (value.length <= 5) return '*'.repeat(value.length);
  return value.slice(0, 3) + '*'.repeat(value.length - 5) + value.slice(-2);
}

async function loadLookups(): Promise<void> {
  const asked = filter.peek();
  const asker = token();
  try {
    const query: { caseId?: string; person?: string } = {};
    if (asked.caseId) query.caseId = asked.caseId;
    if (asked.person) query.person = asked.person;
    const page = await answer(api.GET('/api/v1/admin/shared-data/lookups', { params: { query } }));
    // Signed out, or the filter changed meanwhile: this answer is not the one to show.
    if (token() !== asker || asked !== filter.peek()) return;
    lookups.value = page.items;
  } catch (err) {
    if (!(err instanceof ApiProblem && err.auth)) report(t('lookupsFailed'), err);
  }
}

function StatusCell({ l }: { l: Lookup }) {
  if (l.outcome === 'refused') {
    // Entries before `refusal` existed were all refused for a kind the purpose may not use.
    const why = l.refusal && l.refusal !== 'purpose_not_allowed' ? w('ERROR_CODES', l.refusal) : null;
    return (
      <>
        <PlainBadge tone="bad">{t('refused')}</PlainBadge>
        <div class="hint">{why ?? `${t('purposeNotAllowed')}${(l.refused ?? []).join(t('enumerationComma')) || '—'}`}</div>
      </>
    );
  }
  return (
    <>
      {l.statuses.map((s) => (
        <div data-kind={s.kind}>
          <span class="mono">{s.kind}</span> <Badge vocab="DOCUMENT_STATUS" value={s.status} tone={DOCUMENT_TONE[s.status]} /> <span class="hint">{s.source}</span>
          {s.cached ? <span class="hint">{t('cached')}</span> : null}
        </div>
      ))}
    </>
  );
}

export function LookupsPanel({ hidden }: { hidden: boolean }) {
  const shown = lookups.value;
  const none = shown !== undefined && shown.length === 0;
  const { person, caseId } = filter.value;
  return (
    <section id="panel-lookups" role="tabpanel" aria-labelledby="tab-lookups" class="panel" hidden={hidden}>
      <div class="toolbar">
        <h2>{t('sharedDataLookups')}</h2>
        <p class="hint">{t('lookupsHint')}</p>
        <div class="spacer" />
        <button type="button" id="lookups-refresh" class="secondary" onClick={() => void loadLookups()}>
          {t('refresh')}
        </button>
      </div>
      <form
        id="lookups-form"
        class="toolbar filters"
        onSubmit={(event) => {
          event.preventDefault();
          const typed = personField.peek().trim();
          // The full ID number is never left on the page: the field is emptied, the filter shown masked.
          personField.value = '';
          filter.value = { caseId: caseField.peek().trim(), person: typed || filter.peek().person };
          void loadLookups();
        }}
      >
        <label class="inline" for="lookups-case">
          {t('caseId')}
        </label>
        <input id="lookups-case" type="search" spellcheck={false} maxLength={64} placeholder="QZ-20261128-000001" value={caseField.value} onInput={(e) => (caseField.value = e.currentTarget.value)} />
        <label class="inline" for="lookups-person">
          {t('idNumber')}
        </label>
        <input
          id="lookups-person"
          type="search"
          spellcheck={false}
          autocomplete="off"
          maxLength={32}
          placeholder={t('theFullNumber')}
          value={personField.value}
          onInput={(e) => (personField.value = e.currentTarget.value)}
        />
        <button type="submit" class="secondary">
          {t('search')}
        </button>
        <span id="lookups-person-filter" class="hint">
          {person ? t('filteredById', { masked: maskId(person) }) : ''}
        </span>
        <button
          type="button"
          id="lookups-clear"
          class="link"
          hidden={!person && !caseId}
          onClick={() => {
            filter.value = NO_FILTER;
            caseField.value = '';
            personField.value = '';
            void loadLookups();
          }}
        >
          {t('clear')}
        </button>
      </form>
      <ListTable
        id="lookups"
        caption={t('sharedDataLookupsCaption')}
        columns={[{ label: t('at') }, { label: t('lookedUpBy') }, { label: t('case') }, { label: t('purpose') }, { label: t('person') }, { label: t('kinds') }, { label: t('statuses') }, { label: t('ms'), num: true }]}
        none={none}
        empty={t('noLookups')}
      >
        {(shown ?? []).map((l) => (
          <tr data-lookup={l.queryId} data-case={l.caseId} data-outcome={l.outcome}>
            <td class="nowrap">
              <When iso={l.at} />
            </td>
            <td>{dash(l.who)}</td>
            <td class="nowrap">{l.caseId ? <CaseLink caseId={l.caseId} /> : '—'}</td>
            <td class="mono nowrap">{dash(l.purpose)}</td>
            <td class="mono nowrap">{dash(l.person)}</td>
            <td>{l.kinds.join(t('enumerationComma')) || '—'}</td>
            <td>
              <StatusCell l={l} />
            </td>
            <td class="num">{dash(l.ms)}</td>
          </tr>
        ))}
      </ListTable>
    </section>
  );
}
