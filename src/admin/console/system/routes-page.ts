/**
 * The routes tab (`#panel-routes`): the routing table (routes.yaml) in the configuration editor with
 * its version, read-only below admin; an admin saves it with If-Match as a new version (the gateway
 * checks every target is a system that runs, its errors go to their lines), sees a newer version
 * saved meanwhile, and views or rolls back to any version in the history.
 */
import { ApiProblem, api, type ErrorDetail, type Role, type RoutesVersion, type VersionInfo } from './api';
import { $, appShown, describe, errorList, fillHistory, may } from './common';
import { h, fill } from './dom';
import { createEditor, showDiff, type ConfigEditor } from './editor';
import { t, type WordKey } from './words';
import { parseYaml, toYaml } from './yaml-text';

const PANEL = 'panel-routes';

interface Notice {
  kind: 'ok' | 'error' | 'info';
  text: () => string;
  lines?: string[];
  actions?: Array<{ label: WordKey; run: () => void }>;
}

type DiffMode = { kind: 'editing' } | { kind: 'saved'; from: number; to: number; before: string; after: string } | { kind: 'version'; version: number; text: string };

interface RoutesPage {
  role: Role;
  running: RoutesVersion;
  runningText: string;
  history: VersionInfo[];
  errors: ErrorDetail[];
  notice?: Notice;
  confirm?: { version: number };
  diff: DiffMode;
  editor: ConfigEditor;
  busy: boolean;
}

let page: RoutesPage | undefined;
let generation = 0;
let diffTimer: number | undefined;

const panel = (): HTMLElement | null => $(PANEL);

/** routes.yaml as the editor shows it: the GET answer without its version and source. */
function routesText(shown: RoutesVersion): string {
  const { version: _version, source: _source, ...file } = shown;
  return toYaml(file);
}

function dirty(): boolean {
  return Boolean(page && page.editor.text() !== page.runningText);
}

/** Loads the routes when the tab is chosen; unsaved edits stay, the rest is read again. */
async function load(): Promise<void> {
  const el = panel();
  if (!el || !appShown()) return;
  const mine = ++generation;
  if (page && dirty()) {
    await reloadHistory();
    return render();
  }
  if (!page) fill(el, h('p', { class: 'hint' }, t('loading')));
  try {
    const [who, shown, history] = await Promise.all([api<{ role: Role }>('GET', '/admin/whoami'), api<RoutesVersion>('GET', '/admin/routes'), api<VersionInfo[]>('GET', '/admin/routes/history')]);
    if (mine !== generation) return;
    if (!page || page.role !== who.data.role) build(el, who.data.role, shown.data, history.data);
    else {
      page.running = shown.data;
      page.runningText = routesText(shown.data);
      page.history = history.data;
      page.editor.setText(page.runningText);
      page.diff = { kind: 'editing' };
    }
    render();
  } catch (err) {
    if (mine !== generation) return;
    teardown();
    fill(el, h('div', { class: 'message error', role: 'alert' }, describe(err).map((line) => h('div', {}, line))));
  }
}

function build(el: HTMLElement, role: Role, running: RoutesVersion, history: VersionInfo[]): void {
  teardown();
  const admin = may(role, 'admin');
  const editorHost = h('div', { id: 'rt-editor', class: 'sp-editor' });
  fill(
    el,
    h('div', { class: 'toolbar sp-head' }, h('h2', { 'data-t': 'routesTitle' }), h('span', { id: 'rt-version', class: 'badge info' }), h('span', { id: 'rt-source', class: 'badge muted' })),
    h('p', { class: 'hint', 'data-t': 'routesHint' }),
    h('div', { id: 'rt-notice', role: 'status', 'aria-live': 'polite' }),
    h('div', { id: 'rt-confirm' }),
    h(
      'div',
      { class: 'toolbar' },
      h('span', { id: 'rt-dirty', class: 'hint' }),
      h('div', { class: 'spacer' }),
      admin ? h('button', { type: 'button', id: 'rt-save', class: 'primary sp-act', 'data-t': 'save', onclick: () => void save() }) : null,
      admin ? h('button', { type: 'button', id: 'rt-revert', class: 'secondary sp-act', 'data-t': 'revert', onclick: revert }) : null,
    ),
    admin ? null : h('p', { class: 'hint', id: 'rt-read-only', 'data-t': 'routesReadOnly' }),
    editorHost,
    h('div', { id: 'rt-errors', role: 'alert' }),
    h('h3', { 'data-t': 'diffTitle' }),
    h('p', { id: 'rt-diff-title', class: 'hint' }),
    h('div', { id: 'rt-diff', class: 'sp-diff' }),
    h(
      'section',
      { class: 'sp-history', 'aria-labelledby': 'rt-history-title' },
      h('h3', { id: 'rt-history-title', 'data-t': 'historyTitle' }),
      h('div', { class: 'table-wrap' }, h('table', { id: 'rt-history', class: 'data' }, h('thead'), h('tbody'))),
    ),
  );
  const editor = createEditor(editorHost, { onChange: edited, onSave: () => void save(), label: 'routes.yaml' });
  page = { role, running, runningText: routesText(running), history, errors: [], diff: { kind: 'editing' }, editor, busy: false };
  editor.setText(page.runningText);
  editor.setReadOnly(!admin);
}

function render(): void {
  const el = panel();
  const p = page;
  if (!el || !p) return;
  for (const node of el.querySelectorAll<HTMLElement>('[data-t]')) node.textContent = t(node.dataset.t as WordKey);
  $('rt-version')!.textContent = t('version', { version: p.running.version });
  $('rt-source')!.textContent = t(p.running.source === 'file' ? 'sourceFile' : 'sourceApi');
  $('rt-save')?.setAttribute('aria-label', t('saveLabel'));
  for (const button of el.querySelectorAll<HTMLButtonElement>('.sp-act')) button.disabled = p.busy;
  renderDirty();
  fill(
    $('rt-notice')!,
    p.notice
      ? h(
          'div',
          { class: `message ${p.notice.kind}`, 'data-notice': p.notice.kind },
          h('strong', {}, p.notice.text()),
          (p.notice.lines ?? []).map((line) => h('div', {}, line)),
          p.notice.actions?.length ? h('div', { class: 'buttons' }, p.notice.actions.map((a) => h('button', { type: 'button', class: 'secondary', 'data-action': a.label, onclick: a.run }, t(a.label)))) : null,
        )
      : null,
  );
  renderConfirm();
  fill($('rt-errors')!, errorList(p.editor, p.errors));
  renderDiff();
  fillHistory($('rt-history') as HTMLTableElement, p.history, p.running.version, { view: (version) => void viewVersion(version), rollback: may(p.role, 'admin') ? (version) => ((p.confirm = { version }), renderConfirm()) : undefined });
}

/** Whether the text differs from the running version, said beside the buttons. */
function renderDirty(): void {
  const p = page;
  const state = $('rt-dirty');
  if (!p || !state) return;
  const changed = dirty();
  state.textContent = t(changed ? 'unsaved' : 'noChanges');
  state.classList.toggle('warn-text', changed);
  const revertButton = $('rt-revert') as HTMLButtonElement | null;
  if (revertButton) revertButton.disabled = p.busy || !changed;
}

function renderConfirm(): void {
  const node = $('rt-confirm');
  const confirm = page?.confirm;
  if (!node) return;
  if (!confirm) {
    node.replaceChildren();
    return;
  }
  // Asked already: the reason being typed stays (a render in between must not build it again).
  if (node.firstElementChild?.getAttribute('data-version') === String(confirm.version)) return;
  const reason = h('textarea', { id: 'rt-confirm-reason', rows: '2', maxlength: '500' });
  fill(
    node,
    h(
      'form',
      {
        class: 'card sp-confirm',
        'data-version': String(confirm.version),
        onsubmit: (e: Event) => {
          e.preventDefault();
          page!.confirm = undefined;
          renderConfirm();
          void rollback(confirm.version, reason.value.trim());
        },
      },
      h('p', {}, h('strong', {}, t('routesRollbackConfirm', { version: confirm.version }))),
      h('div', { class: 'field' }, h('label', { for: 'rt-confirm-reason' }, t('reasonLabel')), reason),
      h('div', { class: 'buttons' }, h('button', { type: 'button', class: 'secondary', onclick: () => ((page!.confirm = undefined), renderConfirm()) }, t('cancel')), h('button', { type: 'submit', id: 'rt-confirm-ok', class: 'primary' }, t('rollback'))),
    ),
  );
  reason.focus();
}

function renderDiff(): void {
  const node = $('rt-diff');
  const title = $('rt-diff-title');
  const p = page;
  if (!node || !title || !p) return;
  const mode = p.diff;
  let before: string;
  let after: string;
  if (mode.kind === 'saved') {
    [before, after] = [mode.before, mode.after];
    title.textContent = t('diffSaved', { from: mode.from, to: mode.to });
  } else if (mode.kind === 'version') {
    [before, after] = [mode.text, p.runningText];
    title.textContent = t('diffVersion', { version: mode.version, running: p.running.version });
  } else {
    [before, after] = [p.runningText, p.editor.text()];
    title.textContent = before === after ? t('diffNone') : t('diffEditing', { version: p.running.version });
  }
  node.dataset.mode = mode.kind;
  showDiff(node, before, after);
}

function edited(): void {
  if (!page) return;
  if (page.diff.kind === 'saved') page.diff = { kind: 'editing' };
  renderDirty();
  // The diff and the errors' lines follow the typing, a moment behind it.
  window.clearTimeout(diffTimer);
  diffTimer = window.setTimeout(() => {
    if (page?.diff.kind === 'editing') renderDiff();
    if (page) fill($('rt-errors')!, errorList(page.editor, page.errors));
  }, 300);
}

function revert(): void {
  if (!page) return;
  page.editor.setText(page.runningText);
  page.errors = [];
  page.editor.setGatewayErrors([]);
  page.notice = undefined;
  render();
}

async function reloadHistory(): Promise<void> {
  const p = page!;
  try {
    p.history = (await api<VersionInfo[]>('GET', '/admin/routes/history')).data;
  } catch {
    // The list stays as it was.
  }
}

async function busy(work: () => Promise<void>): Promise<void> {
  const p = page;
  if (!p || p.busy) return;
  p.busy = true;
  render();
  try {
    await work();
  } finally {
    if (page === p) {
      p.busy = false;
      render();
    }
  }
}

/** A version stored (saved, rolled back to): the running one now, shown with what it changed. */
async function stored(answer: RoutesVersion, notice: Notice): Promise<void> {
  const p = page!;
  const before = p.runningText;
  const from = p.running.version;
  p.running = answer;
  p.runningText = routesText(answer);
  p.errors = [];
  p.editor.setGatewayErrors([]);
  p.editor.setText(p.runningText);
  p.diff = { kind: 'saved', from, to: answer.version, before, after: p.runningText };
  p.notice = notice;
  await reloadHistory();
}

/** A refusal: a newer version offers a reload, validation errors go to their lines. */
async function refused(err: unknown): Promise<void> {
  const p = page!;
  if (err instanceof ApiProblem && err.status === 412) {
    let latest: RoutesVersion | undefined;
    try {
      latest = (await api<RoutesVersion>('GET', '/admin/routes')).data;
      await reloadHistory();
    } catch {
      latest = undefined;
    }
    const who = latest ? (p.history.find((v) => v.version === latest!.version)?.who ?? '?') : '';
    p.notice = {
      kind: 'error',
      text: () => (latest ? t('routesStale', { version: latest.version, who }) : t('staleUnknown')),
      actions: [
        { label: 'reloadLatest', run: () => void reload(false) },
        { label: 'keepMine', run: () => void reload(true) },
      ],
    };
    return;
  }
  if (err instanceof ApiProblem && (err.code === 'invalid_config' || err.code === 'invalid_request') && err.details.length) {
    p.errors = err.details;
    p.editor.setGatewayErrors(err.details);
    const n = err.details.length;
    p.notice = { kind: 'error', text: () => t('notSaved', { n }) };
    return;
  }
  p.notice = { kind: 'error', text: () => t('failed'), lines: describe(err) };
}

async function save(): Promise<void> {
  const p = page;
  if (!p || !may(p.role, 'admin')) return;
  const doc = parseYaml(p.editor.text());
  if (doc.errors.length) {
    p.notice = { kind: 'error', text: () => t('yamlInvalid') };
    return render();
  }
  await busy(async () => {
    try {
      const { data } = await api<RoutesVersion>('PUT', '/admin/routes', doc.toJS(), { 'If-Match': `"${p.running.version}"` });
      await stored(data, { kind: 'ok', text: () => t('routesSaved', { version: data.version }) });
    } catch (err) {
      await refused(err);
    }
  });
}

/** After a 412: the latest version becomes the running one; the editor keeps the edits if asked to. */
async function reload(keepEdits: boolean): Promise<void> {
  const p = page;
  if (!p) return;
  await busy(async () => {
    try {
      const { data } = await api<RoutesVersion>('GET', '/admin/routes');
      p.running = data;
      p.runningText = routesText(data);
      if (!keepEdits) p.editor.setText(p.runningText);
      p.diff = { kind: 'editing' };
      p.notice = undefined;
      await reloadHistory();
    } catch (err) {
      p.notice = { kind: 'error', text: () => t('failed'), lines: describe(err) };
    }
  });
}

async function viewVersion(version: number): Promise<void> {
  const p = page;
  if (!p) return;
  try {
    const { data } = await api<VersionInfo & RoutesVersion>('GET', `/admin/routes/history/${version}`);
    p.diff = { kind: 'version', version, text: toYaml({ routes: data.routes, ...(data.unrouted !== undefined ? { unrouted: data.unrouted } : {}) }) };
    renderDiff();
    $('rt-diff')?.scrollIntoView({ block: 'nearest' });
  } catch (err) {
    p.notice = { kind: 'error', text: () => t('failed'), lines: describe(err) };
    render();
  }
}

function rollback(version: number, reason: string): Promise<void> {
  return busy(async () => {
    const p = page!;
    try {
      const { data } = await api<RoutesVersion>('POST', '/admin/routes/rollback', { version, ...(reason ? { reason } : {}) }, { 'If-Match': `"${p.running.version}"` });
      await stored(data, { kind: 'ok', text: () => t('routesRolledBack', { from: version, version: data.version }) });
    } catch (err) {
      await refused(err);
    }
  });
}

function teardown(): void {
  window.clearTimeout(diffTimer);
  page?.editor.destroy();
  page = undefined;
}

function start(): void {
  document.addEventListener('ow:tab', (event) => {
    if ((event as CustomEvent<{ tab: string }>).detail?.tab === 'routes') void load();
  });
  document.addEventListener('ow:lang', () => render());
  const app = $('app');
  if (app) {
    // Signing out forgets the page: the next token (perhaps a viewer's) builds its own.
    new MutationObserver(() => {
      if (!appShown() && page) {
        generation++;
        teardown();
        panel()?.replaceChildren();
      }
    }).observe(app, { attributes: true, attributeFilter: ['hidden'] });
  }
}

if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start);
else start();
