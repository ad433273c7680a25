/**
 * The console's page: the header (who is signed in, the wall screen, the language), the sign-in form
 * or the app (its tabs and their panels, or a page of the systems board), and the dialogs.
 */
import { signal } from '@preact/signals';
import { AuditPanel } from './audit';
import { BoardPanel } from './board';
import { CasePanel } from './case';
import { CorrectDialog } from './correct';
import { DeadLettersPanel } from './dead-letters';
import { language, setLang, t, w } from './language';
import { Login, resuming } from './login';
import { LookupsPanel } from './lookups';
import { boardPage, selectTab, tab, TABS, type TabName } from './nav';
import { ReportsPanel } from './reports';
import { operatorName, role, signedIn, signOut, type Role } from './session';
import { NewSystemPage } from './system/new-system';
import { SystemPage } from './system/page';
import { RoutesPanel } from './system/routes';
import { deadLetterTotal } from './systems';
import { AskDialog, type Tone } from './ui';
import { unmatchedCount, UnmatchedPanel } from './unmatched';
import type { WordKey } from './words';

const WALL_KEY = 'ow.console.wall';
const ROLE_TONE: Readonly<Record<Role, Tone>> = { viewer: 'muted', operator: 'info', admin: 'warn' };
const TAB_WORDS: Readonly<Record<TabName, WordKey>> = { systems: 'tabSystems', dead: 'tabDead', case: 'tabCase', audit: 'tabAudit', unmatched: 'tabUnmatched', lookups: 'tabLookups', reports: 'tabReports', routes: 'tabRoutes' };

/** Large type for a wall screen, remembered in this browser. */
const wall = signal(false);

function setWall(on: boolean): void {
  wall.value = on;
  document.documentElement.classList.toggle('wall', on);
  try {
    if (on) localStorage.setItem(WALL_KEY, '1');
    else localStorage.removeItem(WALL_KEY);
  } catch {
    // no storage: for this page only
  }
}

/** The wall screen as it was left. */
export function restoreWall(): void {
  try {
    if (localStorage.getItem(WALL_KEY) === '1') setWall(true);
  } catch {
    // no storage: the default
  }
}

function Header() {
  const shownRole = role.value;
  const en = language.value === 'en';
  return (
    <header class="top">
      <div class="brand">
        <h1>
          <span>{t('brand')}</span>
        </h1>
        <p class="sub">{t('brandSub')}</p>
      </div>
      <div class="who" id="who" hidden={!signedIn.value}>
        <span>
          <span>{t('operatorLabel')}</span>
          <strong id="who-name">{signedIn.value ? operatorName() : ''}</strong>
        </span>
        <span>
          <span>{t('roleLabel')}</span>
          <span id="who-role" class={`badge ${shownRole ? ROLE_TONE[shownRole] : 'muted'}`}>
            {shownRole ? w('ROLES', shownRole) : '—'}
          </span>
        </span>
        <button type="button" id="sign-out" class="secondary" onClick={() => signOut(t('signedOut'))}>
          {t('signOut')}
        </button>
      </div>
      <div class="view-switches">
        <button type="button" id="wall-toggle" class="secondary" aria-pressed={wall.value} title={t('wallTitle')} onClick={() => setWall(!wall.value)}>
          {t('wall')}
        </button>
        {/* The toggle names the other language, in that language. */}
        <button type="button" id="lang-toggle" class="secondary" lang={en ? 'zh-CN' : 'en'} title={t('switchLanguage')} onClick={() => setLang(en ? 'zh-CN' : 'en')}>
          {en ? '中文' : 'English'}
        </button>
      </div>
    </header>
  );
}

function Tabs() {
  // A board page (a system's) belongs to the systems tab: that tab is the one highlighted.
  const selected: TabName = boardPage.value ? 'systems' : tab.value;
  const counts: Partial<Record<TabName, string>> = { dead: deadLetterTotal.value ? String(deadLetterTotal.value) : '', unmatched: unmatchedCount.value };
  const onKey = (event: KeyboardEvent): void => {
    const index = TABS.indexOf(tab.peek());
    const next = ({ ArrowRight: index + 1, ArrowLeft: index - 1, Home: 0, End: TABS.length - 1 } as Record<string, number>)[event.key];
    if (next === undefined) return;
    event.preventDefault();
    selectTab(TABS[(next + TABS.length) % TABS.length]!, true);
  };
  return (
    <nav class="tabs" role="tablist" aria-label={t('sections')} onKeyDown={onKey}>
      {TABS.map((name) => (
        <button type="button" role="tab" id={`tab-${name}`} aria-controls={`panel-${name}`} aria-selected={name === selected} tabIndex={name === selected ? 0 : -1} onClick={() => selectTab(name)}>
          <span>{t(TAB_WORDS[name])}</span>
          {name in counts ? (
            <>
              {' '}
              <span id={`${name}-count`} class="count">
                {counts[name]}
              </span>
            </>
          ) : null}
        </button>
      ))}
    </nav>
  );
}

export function App() {
  const shown = signedIn.value;
  const page = shown ? boardPage.value : undefined;
  const hidden = (name: TabName): boolean => Boolean(page) || tab.value !== name;
  return (
    <>
      <a class="skip" href="#main">
        {t('skipToContent')}
      </a>
      <Header />
      <main id="main" tabIndex={-1}>
        <Login hidden={shown || resuming.value} />
        <div id="app" hidden={!shown}>
          <Tabs />
          <BoardPanel hidden={hidden('systems')} />
          <DeadLettersPanel hidden={hidden('dead')} />
          <CasePanel hidden={hidden('case')} />
          <AuditPanel hidden={hidden('audit')} />
          <UnmatchedPanel hidden={hidden('unmatched')} />
          <LookupsPanel hidden={hidden('lookups')} />
          <ReportsPanel hidden={hidden('reports')} />
          <RoutesPanel hidden={hidden('routes')} />
          {/* The pages of the systems board: a system (#system/<id>), adding one (#new-system). */}
          <section id="panel-system" role="tabpanel" aria-labelledby="tab-systems" class="panel sp-page" hidden={page?.kind !== 'system'}>
            {page?.kind === 'system' ? <SystemPage key={page.id} id={page.id} /> : null}
          </section>
          <section id="panel-new-system" role="tabpanel" aria-labelledby="tab-systems" class="panel sp-page" hidden={page?.kind !== 'new-system'}>
            {page?.kind === 'new-system' ? <NewSystemPage /> : null}
          </section>
        </div>
      </main>
      <AskDialog />
      <CorrectDialog />
    </>
  );
}
