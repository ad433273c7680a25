/**
 * What the bundle's pages share (the system page, adding a system, the routes): roles, errors in
 * plain words, the panels they live in, the gateway's validation errors listed under an editor,
 * and a history of versions as a table.
 */
import { ApiProblem, signedInToken, type ErrorDetail, type Role, type VersionInfo } from './api';
import { h, fill, when, type Child } from './dom';
import { gatewayDiagnostics, type ConfigEditor } from './editor';
import { codeWords, gatewayWords, summaryWords, t, whoWords, type WordKey } from './words';

const ROLE_ORDER: readonly Role[] = ['viewer', 'operator', 'admin'];

/** Where adding a system is opened (the board's "add a system" button). */
export const NEW_SYSTEM_HASH = '#new-system';

export const $ = (id: string): HTMLElement | null => document.getElementById(id);

/** Whether `role` may do what `needed` may. */
export function may(role: Role | undefined, needed: Role): boolean {
  return role !== undefined && ROLE_ORDER.indexOf(role) >= ROLE_ORDER.indexOf(needed);
}

/** An error as lines: the code in plain words, the gateway's message, each detail. */
export function describe(err: unknown): string[] {
  if (!(err instanceof ApiProblem)) return [err instanceof Error ? err.message : String(err)];
  const head = `${codeWords(err.code)}${err.status ? ` (HTTP ${err.status}, ${err.code})` : ''}`;
  return [head, err.message, ...err.details.map((d) => (d.path ? `${d.path}: ${gatewayWords(d.message)}` : gatewayWords(d.message)))].filter(Boolean);
}

/** Whether the console shows its app (signed in). */
export function appShown(): boolean {
  const app = $('app');
  return Boolean(app && !app.hidden && signedInToken());
}

/**
 * Shows one of the pages that belong to the systems board (a system, adding one) in place of every
 * other panel: the board's tab is the one highlighted, whichever tab it was opened from.
 */
export function showBoardPage(panelId: string): void {
  for (const other of document.querySelectorAll<HTMLElement>('#app [role="tabpanel"]')) other.hidden = true;
  for (const tab of document.querySelectorAll<HTMLElement>('#app [role="tab"]')) {
    const board = tab.id === 'tab-systems';
    tab.setAttribute('aria-selected', String(board));
    tab.tabIndex = board ? 0 : -1;
  }
  const el = $(panelId);
  if (el) el.hidden = false;
}

/** Whether a panel other than `panelId` is shown (another tab was chosen). */
export function otherPanelShown(panelId: string): boolean {
  return [...document.querySelectorAll<HTMLElement>('#app [role="tabpanel"]')].some((p) => p.id !== panelId && !p.hidden);
}

/** A system just added, for its page to say so when it opens. */
let added: { id: string; version: number } | undefined;

export function noteAdded(id: string, version: number): void {
  added = { id, version };
}

export function takeAdded(id: string): number | undefined {
  const version = added?.id === id ? added.version : undefined;
  added = undefined;
  return version;
}

/** The gateway's validation errors, each with its line in the editor (a click goes there). */
export function errorList(editor: ConfigEditor, errors: readonly ErrorDetail[]): Child {
  if (!errors.length) return null;
  const located = gatewayDiagnostics(editor.text(), errors);
  const goTo = (pos: number): void => {
    const view = editor.view;
    view.dispatch({ selection: { anchor: Math.min(pos, view.state.doc.length) }, scrollIntoView: true });
    view.focus();
  };
  return [
    h('h4', {}, t('errorsTitle')),
    h(
      'ul',
      { class: 'sp-error-list' },
      located.map((d, i) => h('li', { 'data-path': errors[i]!.path ?? '' }, h('button', { type: 'button', class: 'link', onclick: () => goTo(d.from) }, t('errorAt', { line: d.line })), ' ', d.message)),
    ),
  ];
}

/** A history of versions in a table: each can be viewed, and an admin may roll back to any but the running one. */
export function fillHistory(table: HTMLTableElement, history: readonly VersionInfo[], running: number, actions: { view(version: number): void; rollback?(version: number): void }): void {
  fill(table.tHead!, h('tr', {}, (['hVersion', 'hAt', 'hWho', 'hSource', 'hSummary', 'hAction'] as WordKey[]).map((k) => h('th', { scope: 'col' }, t(k)))));
  fill(
    table.tBodies[0]!,
    history.map((v) => {
      const current = v.version === running;
      return h(
        'tr',
        { 'data-version': String(v.version), class: current ? 'sp-running' : undefined },
        h('td', { class: 'nowrap' }, `v${v.version}`, current ? [' ', h('span', { class: 'badge ok' }, t('current'))] : null),
        h('td', { class: 'nowrap' }, when(v.at)),
        h('td', {}, whoWords(v.who)),
        h('td', {}, t(v.source === 'file' ? 'file' : 'api')),
        h('td', { class: 'wrap', title: v.summary }, summaryWords(v.summary), v.reason ? h('div', { class: 'hint' }, v.reason) : null, v.applyError ? h('div', { class: 'hint bad-text' }, t('applyError', { message: v.applyError })) : null),
        h(
          'td',
          { class: 'nowrap' },
          v.removed ? null : h('button', { type: 'button', class: 'link', 'aria-label': t('viewLabel', { version: v.version }), onclick: () => actions.view(v.version) }, t('view')),
          actions.rollback && !current && !v.removed ? [' ', h('button', { type: 'button', class: 'secondary sp-act', 'aria-label': t('rollbackLabel', { version: v.version }), onclick: () => actions.rollback!(v.version) }, t('rollback'))] : null,
        ),
      );
    }),
  );
}
