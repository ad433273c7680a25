/**
 * The ops console's system page (`#system/<id>`): one legacy system's configuration in a code
 * editor, saved with If-Match as a new version, the gateway's validation errors at their lines, a
 * diff against the running version, the history with view and rollback, reset to the file, pause
 * and resume, and a dry run of a case against the running or the edited configuration.
 *
 * It lives in `<section id="panel-system">` of the console page and asks the gateway the token's
 * role itself (GET /admin/whoami): a viewer gets a read-only editor and no buttons it may not use,
 * an operator may edit to dry-run but not save. The console opens it through the link on each
 * system's id (`#system/<id>`) or `window.owSystemPage.open(id)`.
 */
import { ApiProblem, api, type DryRunAnswer, type ErrorDetail, type Role, type SystemStatus, type SystemVersion, type VersionInfo } from './api';
import { $, appShown, describe, errorList, fillHistory, may, NEW_SYSTEM_HASH, otherPanelShown, showBoardPage, takeAdded } from './common';
import { h, fill, type Child } from './dom';
import { createEditor, showDiff, type ConfigEditor } from './editor';
import { t, type WordKey } from './words';
import { parseYaml, toYaml } from './yaml-text';
// The bundle's other pages: adding a system, and the routes.
import './new-system';
import './routes-page';

const HASH = /^#system\/([^/?#]+)$/;

interface Notice {
  kind: 'ok' | 'error' | 'info';
  /** Functions, so that a change of language says the same thing in the other one. */
  text: () => string;
  lines?: string[];
  actions?: Array<{ label: WordKey; run: () => void }>;
}

interface Confirm {
  text: () => string;
  okLabel: WordKey;
  run: (reason: string) => Promise<void>;
}

type DiffMode = { kind: 'editing' } | { kind: 'saved'; from: number; to: number; before: string; after: string } | { kind: 'version'; version: number; text: string };

interface SystemPage {
  id: string;
  role: Role;
  status?: SystemStatus;
  running: SystemVersion;
  /** The running version as the editor shows it: what "unsaved changes" are measured against. */
  runningText: string;
  history: VersionInfo[];
  errors: ErrorDetail[];
  notice?: Notice;
  confirm?: Confirm;
  /** `sealed`: whether the configuration dry-run has `seal` on (the seal itself is made only when sending). */
  dry?: { answer?: DryRunAnswer; problem?: ApiProblem; sealed?: boolean };
  diff: DiffMode;
  editor: ConfigEditor;
  busy: boolean;
}

let page: SystemPage | undefined;
/** Bumped by every open and close: an answer for an earlier one is dropped. */
let generation = 0;
/** A deep link seen before sign-in, opened once the console shows its app. */
let pendingId: string | undefined;
let diffTimer: number | undefined;

const panel = (): HTMLElement | null => $('panel-system');
const enc = encodeURIComponent;

// ── showing and hiding the page ───────────────────────────────────────────────────────────────────


/** Opens the page of a system; the deep link `#system/<id>` says which, so Back goes back to the board. */
async function open(id: string): Promise<void> {
  const el = panel();
  if (!el) return;
  if (!appShown()) {
    pendingId = id;
    return;
  }
  pendingId = undefined;
  const mine = ++generation;
  teardown();
  showBoardPage('panel-system');
  fill(el, h('p', { class: 'hint' }, t('loading')));
  try {
    const [who, shown, history, systems] = await Promise.all([
      api<{ role: Role }>('GET', '/admin/whoami'),
      api<SystemVersion>('GET', `/admin/systems/${enc(id)}`),
      api<VersionInfo[]>('GET', `/admin/systems/${enc(id)}/history`),
      api<SystemStatus[]>('GET', '/admin/systems'),
    ]);
    if (mine !== generation) return;
    const editorHost = h('div', { id: 'sp-editor', class: 'sp-editor' });
    const editor = createEditor(editorHost, { onChange: edited, onSave: () => void save(), label: `${id} YAML` });
    const runningText = toYaml(shown.data.system);
    page = {
      id,
      role: who.data.role,
      status: systems.data.find((s) => s.id === id),
      running: shown.data,
      runningText,
      history: history.data,
      errors: [],
      diff: { kind: 'editing' },
      editor,
      busy: false,
    };
    build(el, editorHost);
    editor.setText(runningText);
    editor.setReadOnly(!may(page.role, 'operator'));
    const draft = drafts.get(id);
    drafts.delete(id);
    const addedAt = takeAdded(id);
    if (addedAt !== undefined) {
      page.notice = { kind: 'ok', text: () => t('added', { id, version: addedAt }) };
    } else if (draft && draft.version === shown.data.version) {
      editor.setText(draft.text);
      page.notice = { kind: 'info', text: () => t('draftRestored', { version: draft.version }) };
    } else if (draft) {
      // Saved on top of a newer version, the edits would undo someone's change unseen.
      page.notice = { kind: 'info', text: () => t('draftDropped', { old: draft.version, version: shown.data.version }) };
    }
    render();
  } catch (err) {
    if (mine !== generation) return;
    fill(el, backLink(), h('div', { class: 'message error', role: 'alert' }, describe(err).map((line) => h('div', {}, line))));
  }
}

/**
 * Unsaved edits of a page left by a tab, Back or another system, by system id: kept in this tab's
 * memory only, given back when the page opens again on the same version, forgotten at sign-out.
 */
const drafts = new Map<string, { text: string; version: number }>();

function teardown(): void {
  if (page && dirty()) drafts.set(page.id, { text: page.editor.text(), version: page.running.version });
  window.clearTimeout(diffTimer);
  page?.editor.destroy();
  page = undefined;
  const diff = $('sp-diff');
  if (diff) showDiff(diff, '', '');
}

/** Leaves the page; back to the systems board unless another tab was chosen. */
function close(toBoard = true): void {
  generation++;
  teardown();
  const el = panel();
  if (el) {
    el.hidden = true;
    el.replaceChildren();
  }
  if (HASH.test(location.hash)) history.replaceState(null, '', location.pathname + location.search);
  if (toBoard && appShown()) $('tab-systems')?.click();
}

function fromHash(): void {
  const match = HASH.exec(location.hash);
  if (match) {
    const id = decodeURIComponent(match[1]!);
    if (page?.id !== id || panel()?.hidden) void open(id);
  } else if (page) close(location.hash !== NEW_SYSTEM_HASH);
}

function backLink(): HTMLElement {
  return h('button', { type: 'button', class: 'link sp-back', 'data-t': 'back', 'aria-label': t('backLabel'), onclick: () => close() }, t('back'));
}

// ── the page's parts ──────────────────────────────────────────────────────────────────────────────

/** The parts that stay (the editor above all); render() fills them in the current language. */
function build(el: HTMLElement, editorHost: HTMLElement): void {
  const p = page!;
  const admin = may(p.role, 'admin');
  const operator = may(p.role, 'operator');
  const action = (id: string, key: WordKey, cls: string, run: () => void): HTMLElement | null => h('button', { type: 'button', id, class: `${cls} sp-act`, 'data-t': key, onclick: run });
  fill(
    el,
    h(
      'div',
      { class: 'toolbar sp-head' },
      backLink(),
      h('h2', {}, h('span', { id: 'sp-name' }), ' ', h('span', { id: 'sp-id', class: 'mono' })),
      h('span', { id: 'sp-version', class: 'badge info' }),
      h('span', { id: 'sp-source', class: 'badge muted' }),
      h('span', { id: 'sp-paused', class: 'badge' }),
      h('div', { class: 'spacer' }),
      operator ? h('button', { type: 'button', id: 'sp-pause', class: 'secondary sp-act', onclick: () => askPause() }) : null,
    ),
    h('div', { id: 'sp-notice', role: 'status', 'aria-live': 'polite' }),
    h('div', { id: 'sp-confirm' }),
    h(
      'div',
      { class: 'sp-grid' },
      h(
        'div',
        { class: 'sp-main' },
        h(
          'div',
          { class: 'toolbar' },
          h('h3', { 'data-t': 'configTitle' }),
          h('span', { id: 'sp-dirty', class: 'hint' }),
          h('div', { class: 'spacer' }),
          admin ? action('sp-save', 'save', 'primary', () => void save()) : null,
          operator ? action('sp-revert', 'revert', 'secondary', revert) : null,
          admin ? action('sp-reset', 'reset', 'secondary', askReset) : null,
        ),
        admin ? null : h('p', { class: 'hint', 'data-t': operator ? 'operatorEdit' : 'readOnly' }),
        editorHost,
        h('div', { id: 'sp-errors', role: 'alert' }),
        h('h3', { 'data-t': 'diffTitle' }),
        h('p', { id: 'sp-diff-title', class: 'hint' }),
        h('div', { id: 'sp-diff', class: 'sp-diff' }),
        h(
          'section',
          { class: 'sp-history', 'aria-labelledby': 'sp-history-title' },
          h('h3', { id: 'sp-history-title', 'data-t': 'historyTitle' }),
          h('div', { class: 'table-wrap' }, h('table', { id: 'sp-history', class: 'data' }, h('thead'), h('tbody'))),
        ),
      ),
      h(
        'div',
        { class: 'sp-side' },
        operator
          ? h(
              'section',
              { class: 'card sp-dry', 'aria-labelledby': 'sp-dry-title' },
              h('h3', { id: 'sp-dry-title', 'data-t': 'dryTitle' }),
              h('p', { class: 'hint', 'data-t': 'dryHint' }),
              h(
                'form',
                { id: 'sp-dry-form', novalidate: true, onsubmit: (e: Event) => void dryRun(e) },
                h('div', { class: 'field' }, h('label', { for: 'sp-dry-case', 'data-t': 'dryCase' }), h('input', { id: 'sp-dry-case', type: 'search', maxlength: '64', spellcheck: 'false', placeholder: 'QZ-20261128-000001' })),
                h('label', { class: 'inline check' }, h('input', { id: 'sp-dry-proposed', type: 'checkbox', checked: true }), ' ', h('span', { 'data-t': 'dryProposed' })),
                h('div', { class: 'field' }, h('label', { for: 'sp-dry-reply', 'data-t': 'dryReply' }), h('textarea', { id: 'sp-dry-reply', rows: '3', spellcheck: 'false', placeholder: '{"code": "0", "data": {"slbh": "SL-1"}}' })),
                h('button', { type: 'submit', id: 'sp-dry-run', class: 'primary sp-act', 'data-t': 'dryRun' }),
              ),
              h('div', { id: 'sp-dry-result', 'aria-live': 'polite' }),
            )
          : null,
      ),
    ),
  );
}

/** Everything shown, from the state, in the page's language (also on `ow:lang`). */
function render(): void {
  const p = page;
  const el = panel();
  if (!p || !el) return;
  for (const node of el.querySelectorAll<HTMLElement>('[data-t]')) node.textContent = t(node.dataset.t as WordKey);
  $('sp-name')!.textContent = p.status?.name ?? String(p.running.system.name ?? '');
  $('sp-id')!.textContent = p.id;
  $('sp-version')!.textContent = t('version', { version: p.running.version });
  $('sp-source')!.textContent = t(p.running.source === 'file' ? 'sourceFile' : 'sourceApi');
  $('sp-source')!.dataset.source = p.running.source;
  const paused = Boolean(p.status?.paused);
  // Paused first (it sends nothing either way), then the circuit: "running" only while it takes cases.
  const circuit = p.status?.circuit?.state ?? 'closed';
  const [state, tone]: [WordKey, string] = paused ? ['paused', 'warn'] : circuit === 'open' ? ['circuitOpen', 'bad'] : circuit === 'half_open' ? ['circuitHalfOpen', 'warn'] : ['running', 'ok'];
  const pausedBadge = $('sp-paused')!;
  pausedBadge.textContent = t(state);
  pausedBadge.className = `badge ${tone}`;
  pausedBadge.dataset.state = paused ? 'paused' : circuit;
  const pause = $('sp-pause');
  if (pause) {
    pause.textContent = t(paused ? 'resume' : 'pause');
    pause.setAttribute('aria-label', t(paused ? 'resumeLabel' : 'pauseLabel', { id: p.id }));
  }
  $('sp-save')?.setAttribute('aria-label', t('saveLabel'));
  for (const button of el.querySelectorAll<HTMLButtonElement>('.sp-act')) button.disabled = p.busy;
  renderDirty();
  renderNotice();
  renderConfirm();
  renderErrors();
  renderDiff();
  renderHistory();
  renderDry();
}

function dirty(): boolean {
  return Boolean(page && page.editor.text() !== page.runningText);
}

function renderDirty(): void {
  const node = $('sp-dirty');
  if (!node || !page) return;
  const changed = dirty();
  node.textContent = t(changed ? 'unsaved' : 'noChanges');
  node.classList.toggle('warn-text', changed);
  const revert = $('sp-revert') as HTMLButtonElement | null;
  if (revert) revert.disabled = page.busy || !changed;
}

function renderNotice(): void {
  const node = $('sp-notice');
  const notice = page?.notice;
  if (!node) return;
  if (!notice) {
    node.replaceChildren();
    return;
  }
  fill(
    node,
    h(
      'div',
      { class: `message ${notice.kind}`, 'data-notice': notice.kind },
      h('strong', {}, notice.text()),
      (notice.lines ?? []).map((line) => h('div', {}, line)),
      notice.actions?.length ? h('div', { class: 'buttons' }, notice.actions.map((a) => h('button', { type: 'button', class: 'secondary', 'data-action': a.label, onclick: a.run }, t(a.label)))) : null,
    ),
  );
}

function renderConfirm(): void {
  const node = $('sp-confirm');
  const confirm = page?.confirm;
  if (!node) return;
  if (!confirm) {
    node.replaceChildren();
    return;
  }
  const reason = h('textarea', { id: 'sp-confirm-reason', rows: '2', maxlength: '500' });
  const ok = h('button', { type: 'submit', id: 'sp-confirm-ok', class: 'primary' }, t(confirm.okLabel));
  fill(
    node,
    h(
      'form',
      {
        class: 'card sp-confirm',
        onsubmit: (e: Event) => {
          e.preventDefault();
          const run = confirm.run;
          page!.confirm = undefined;
          renderConfirm();
          void run(reason.value.trim());
        },
      },
      h('p', {}, h('strong', {}, confirm.text())),
      h('div', { class: 'field' }, h('label', { for: 'sp-confirm-reason' }, t('reasonLabel')), reason),
      h('div', { class: 'buttons' }, h('button', { type: 'button', class: 'secondary', onclick: () => ((page!.confirm = undefined), renderConfirm()) }, t('cancel')), ok),
    ),
  );
  reason.focus();
}

function renderErrors(): void {
  const node = $('sp-errors');
  if (!node || !page) return;
  fill(node, errorList(page.editor, page.errors));
}

function renderDiff(): void {
  const node = $('sp-diff');
  const title = $('sp-diff-title');
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

function renderHistory(): void {
  const table = $('sp-history') as HTMLTableElement | null;
  const p = page;
  if (!table || !p) return;
  fillHistory(table, p.history, p.running.version, { view: (version) => void viewVersion(version), rollback: may(p.role, 'admin') ? askRollback : undefined });
}

/** An `X-OW-Seal` as ops read it: the seal's JSON (base64url in the header), else the header as it came. */
function sealText(header: string): string {
  try {
    const json = atob(header.replace(/-/g, '+').replace(/_/g, '/'));
    const bytes = Uint8Array.from(json, (c) => c.charCodeAt(0));
    return JSON.stringify(JSON.parse(new TextDecoder().decode(bytes)), null, 2);
  } catch {
    return header;
  }
}

function renderDry(): void {
  const node = $('sp-dry-result');
  const dry = page?.dry;
  if (!node) return;
  if (!dry) {
    node.replaceChildren();
    return;
  }
  if (dry.problem) {
    fill(node, h('div', { class: 'message error' }, describe(dry.problem).map((line) => h('div', {}, line))));
    return;
  }
  const a = dry.answer!;
  const sealName = Object.keys(a.request.headers).find((name) => name.toLowerCase() === 'x-ow-seal');
  const sources: Record<DryRunAnswer['caseSource'], WordKey> = { stored: 'caseStored', given: 'caseGiven', sample: 'caseSample' };
  const row = (label: WordKey, ...value: Child[]): Child[] => [h('dt', {}, t(label)), h('dd', {}, ...value)];
  fill(
    node,
    h(
      'dl',
      { class: 'sp-facts' },
      row('dryUsing', a.proposed ? t('dryUsingProposed') : t('dryUsingVersion', { version: a.version ?? '' })),
      row('dryCaseLine', h('span', { class: 'mono' }, a.caseId), ` (${t(sources[a.caseSource])})`),
      row('dryRequest', h('span', { class: 'mono', id: 'sp-dry-endpoint' }, `${a.request.method} ${a.request.endpoint}`)),
    ),
    h('h4', {}, t('dryHeaders')),
    h(
      'table',
      { class: 'data sp-headers' },
      h(
        'tbody',
        {},
        Object.entries(a.request.headers).map(([name, value]) =>
          // The seal is kilobytes of base64: its start here, its JSON below.
          h('tr', { class: name === sealName ? 'sp-seal' : undefined }, h('th', { scope: 'row', class: 'mono nowrap' }, name), h('td', { class: 'mono wrap' }, name === sealName && value.length > 64 ? `${value.slice(0, 64)}…` : value)),
        ),
      ),
    ),
    h('h4', {}, t('dryBody'), ' ', h('span', { class: 'hint', id: 'sp-dry-charset' }, t('dryCharset', { charset: a.request.charset, bytes: a.request.byteLength }))),
    h('pre', { id: 'sp-dry-body', class: 'sp-pre' }, a.request.body),
    h('h4', {}, t('drySeal')),
    sealName
      ? [h('p', { class: 'hint', id: 'sp-dry-seal-preview' }, t('drySealPreview')), h('pre', { id: 'sp-dry-seal', class: 'sp-pre sp-wrap' }, sealText(a.request.headers[sealName]!))]
      : h('p', { class: 'hint', id: 'sp-dry-seal', 'data-sealed': String(dry.sealed) }, t(dry.sealed ? 'drySealAtSend' : 'dryNoSeal')),
    a.reply
      ? [
          h('h4', {}, t('dryReplyTitle')),
          h(
            'dl',
            { class: 'sp-facts', id: 'sp-dry-reply-result' },
            row('success', t(a.reply.success ? 'yes' : 'no')),
            a.reply.receiptNo ? row('receiptNo', h('span', { class: 'mono' }, a.reply.receiptNo)) : null,
            a.reply.error ? row('error', a.reply.error) : null,
            row('retryable', t(a.reply.retryable ? 'yes' : 'no')),
          ),
        ]
      : null,
    h('p', { class: 'hint' }, t('notSent')),
  );
}

// ── editing ───────────────────────────────────────────────────────────────────────────────────────

function edited(): void {
  if (!page) return;
  if (page.diff.kind === 'saved') page.diff = { kind: 'editing' };
  renderDirty();
  // The diff follows the typing, a moment behind it.
  window.clearTimeout(diffTimer);
  diffTimer = window.setTimeout(() => {
    if (page?.diff.kind === 'editing') renderDiff();
    renderErrors();
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

/** A version stored (saved, rolled back to, reset): it is now the running one, shown with what it changed. */
async function stored(answer: SystemVersion, notice: Notice): Promise<void> {
  const p = page!;
  const before = p.runningText;
  const from = p.running.version;
  p.running = answer;
  p.runningText = toYaml(answer.system);
  p.errors = [];
  p.editor.setGatewayErrors([]);
  p.editor.setText(p.runningText);
  p.diff = { kind: 'saved', from, to: answer.version, before, after: p.runningText };
  p.notice = notice;
  await reloadHistory();
}

async function reloadHistory(): Promise<void> {
  const p = page!;
  try {
    p.history = (await api<VersionInfo[]>('GET', `/admin/systems/${enc(p.id)}/history`)).data;
  } catch {
    // The list stays as it was; the save itself succeeded and says so.
  }
}

/** An answer refused: validation errors go to their lines, a stale version offers a reload. */
async function refused(err: unknown): Promise<void> {
  const p = page!;
  if (err instanceof ApiProblem && err.status === 412) {
    // Who was faster, and with which version: the latest version and its history entry.
    let latest: SystemVersion | undefined;
    try {
      latest = (await api<SystemVersion>('GET', `/admin/systems/${enc(p.id)}`)).data;
      await reloadHistory();
    } catch {
      latest = undefined;
    }
    const who = latest ? (p.history.find((v) => v.version === latest!.version)?.who ?? '?') : '';
    p.notice = {
      kind: 'error',
      text: () => (latest ? t('stale', { version: latest.version, who }) : t('staleUnknown')),
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
    render();
    return;
  }
  await busy(async () => {
    try {
      const { data } = await api<SystemVersion>('PUT', `/admin/systems/${enc(p.id)}`, doc.toJS(), { 'If-Match': `"${p.running.version}"` });
      await stored(data, { kind: 'ok', text: () => t('saved', { version: data.version }) });
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
      const { data } = await api<SystemVersion>('GET', `/admin/systems/${enc(p.id)}`);
      p.running = data;
      p.runningText = toYaml(data.system);
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
    const { data } = await api<VersionInfo & { system: Record<string, unknown> }>('GET', `/admin/systems/${enc(p.id)}/history/${version}`);
    p.diff = { kind: 'version', version, text: toYaml(data.system) };
    renderDiff();
    $('sp-diff')?.scrollIntoView({ block: 'nearest' });
  } catch (err) {
    p.notice = { kind: 'error', text: () => t('failed'), lines: describe(err) };
    renderNotice();
  }
}

function ask(confirm: Confirm): void {
  if (!page) return;
  page.confirm = confirm;
  renderConfirm();
}

function askRollback(version: number): void {
  ask({
    text: () => t('rollbackConfirm', { version }),
    okLabel: 'rollback',
    run: (reason) =>
      busy(async () => {
        const p = page!;
        try {
          const { data } = await api<SystemVersion>('POST', `/admin/systems/${enc(p.id)}/rollback`, { version, ...(reason ? { reason } : {}) }, { 'If-Match': `"${p.running.version}"` });
          await stored(data, { kind: 'ok', text: () => t('rolledBack', { from: version, version: data.version }) });
        } catch (err) {
          await refused(err);
        }
      }),
  });
}

function askReset(): void {
  ask({
    text: () => t('resetConfirm'),
    okLabel: 'reset',
    run: (reason) =>
      busy(async () => {
        const p = page!;
        try {
          const { data } = await api<SystemVersion>('POST', `/admin/systems/${enc(p.id)}/reset`, reason ? { reason } : {}, { 'If-Match': `"${p.running.version}"` });
          await stored(data, { kind: 'ok', text: () => t('saved', { version: data.version }) });
        } catch (err) {
          await refused(err);
        }
      }),
  });
}

function askPause(): void {
  const p = page;
  if (!p) return;
  const pausing = !p.status?.paused;
  ask({
    text: () => t(pausing ? 'pauseLabel' : 'resumeLabel', { id: p.id }),
    okLabel: pausing ? 'pause' : 'resume',
    run: (reason) =>
      busy(async () => {
        try {
          const { data } = await api<SystemStatus>('POST', `/admin/systems/${enc(p.id)}/${pausing ? 'pause' : 'resume'}`, reason ? { reason } : {});
          p.status = data;
          p.notice = { kind: 'ok', text: () => t(pausing ? 'paused_done' : 'resumed_done', { id: p.id }) };
        } catch (err) {
          p.notice = { kind: 'error', text: () => t('failed'), lines: describe(err) };
        }
      }),
  });
}

async function dryRun(event: Event): Promise<void> {
  event.preventDefault();
  const p = page;
  if (!p) return;
  const caseId = ($('sp-dry-case') as HTMLInputElement).value.trim();
  const proposed = ($('sp-dry-proposed') as HTMLInputElement).checked && dirty();
  const replyText = ($('sp-dry-reply') as HTMLTextAreaElement).value.trim();
  const body: Record<string, unknown> = {};
  if (caseId) body.caseId = caseId;
  if (replyText) {
    try {
      body.reply = JSON.parse(replyText);
    } catch {
      p.dry = { problem: new ApiProblem(0, 'invalid_request', t('dryReplyInvalid')) };
      renderDry();
      return;
    }
  }
  if (proposed) {
    const doc = parseYaml(p.editor.text());
    if (doc.errors.length) {
      p.notice = { kind: 'error', text: () => t('yamlInvalid') };
      renderNotice();
      return;
    }
    body.system = doc.toJS();
  }
  await busy(async () => {
    try {
      const { data } = await api<DryRunAnswer>('POST', `/admin/systems/${enc(p.id)}/dry-run`, body);
      const used = (body.system ?? p.running.system) as Record<string, unknown>;
      p.dry = { answer: data, sealed: used.seal !== false };
      if (proposed) {
        p.errors = [];
        p.editor.setGatewayErrors([]);
      }
    } catch (err) {
      p.dry = { problem: err instanceof ApiProblem ? err : new ApiProblem(0, 'internal', String(err)) };
      // A proposed configuration the gateway refuses: its errors at their lines, as for a save.
      if (proposed && err instanceof ApiProblem && err.code === 'invalid_config') {
        p.errors = err.details;
        p.editor.setGatewayErrors(err.details);
      }
    }
  });
}

// ── wiring ────────────────────────────────────────────────────────────────────────────────────────

function start(): void {
  // Unsaved edits are not lost to a reload or a closed tab without the browser asking first.
  window.addEventListener('beforeunload', (event) => {
    if (dirty()) event.preventDefault();
  });
  // The page's own styles, from this origin (style-src 'self'); index.html names only the script.
  if (!document.querySelector('link[href="/console/system-page.css"]')) document.head.append(h('link', { rel: 'stylesheet', href: '/console/system-page.css' }));
  window.addEventListener('hashchange', fromHash);
  document.addEventListener('ow:lang', () => render());
  const app = $('app');
  if (app) {
    // The console shows and hides its panels and its app; this page follows: another tab chosen
    // closes it, signing out forgets it, and signing in opens a deep link seen before.
    new MutationObserver(() => {
      if (!appShown()) {
        if (page || !panel()?.hidden) close(false);
        drafts.clear();
        return;
      }
      if (pendingId) void open(pendingId);
      else if (!panel()?.hidden && otherPanelShown('panel-system')) close(false);
    }).observe(app, { attributes: true, attributeFilter: ['hidden'], subtree: true });
  }
  fromHash();
}

declare global {
  interface Window {
    owSystemPage?: { open(systemId: string): void; close(): void };
  }
}

window.owSystemPage = {
  open: (systemId) => {
    location.hash = `#system/${enc(systemId)}`;
  },
  close: () => close(),
};

if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start);
else start();
