/**
 * Adding a legacy system from the console (`#new-system`, the board's "add a system" button, admin
 * only): a template per protocol in the configuration editor, then PUT of the id written in the YAML
 * with `If-None-Match: *`, so a system that exists is never replaced. The gateway validates it as a
 * file at start-up; its errors go to their lines. Once added, the system's own page opens.
 */
import { ApiProblem, api, type ErrorDetail, type Role, type SystemVersion } from './api';
import { $, appShown, describe, errorList, may, NEW_SYSTEM_HASH, noteAdded, otherPanelShown, showBoardPage } from './common';
import { h, fill } from './dom';
import { createEditor, type ConfigEditor } from './editor';
import { TEMPLATES, type TemplateProtocol } from './templates';
import { t, type WordKey } from './words';
import { parseYaml } from './yaml-text';

const PANEL = 'panel-new-system';

interface NewSystemPage {
  role: Role;
  protocol: TemplateProtocol;
  editor?: ConfigEditor;
  errors: ErrorDetail[];
  notice?: { kind: 'ok' | 'error'; text: () => string; lines?: string[]; open?: string };
  busy: boolean;
}

let page: NewSystemPage | undefined;
let generation = 0;
let pending = false;

const panel = (): HTMLElement | null => $(PANEL);

async function open(): Promise<void> {
  const el = panel();
  if (!el) return;
  if (!appShown()) {
    pending = true;
    return;
  }
  pending = false;
  const mine = ++generation;
  teardown();
  showBoardPage(PANEL);
  fill(el, h('p', { class: 'hint' }, t('loading')));
  let role: Role;
  try {
    role = (await api<{ role: Role }>('GET', '/admin/whoami')).data.role;
  } catch (err) {
    if (mine === generation) fill(el, backLink(), h('div', { class: 'message error', role: 'alert' }, describe(err).map((line) => h('div', {}, line))));
    return;
  }
  if (mine !== generation) return;
  page = { role, protocol: 'rest', errors: [], busy: false };
  if (!may(role, 'admin')) {
    fill(el, backLink(), h('p', { class: 'message error', role: 'alert', id: 'ns-admin-only' }, t('newAdminOnly')));
    return;
  }
  const editorHost = h('div', { id: 'ns-editor', class: 'sp-editor' });
  const select = h(
    'select',
    { id: 'ns-protocol', onchange: (e: Event) => pick((e.target as HTMLSelectElement).value as TemplateProtocol) },
    (Object.keys(TEMPLATES) as TemplateProtocol[]).map((p) => h('option', { value: p }, p.toUpperCase())),
  );
  fill(
    el,
    h('div', { class: 'toolbar sp-head' }, backLink(), h('h2', { 'data-t': 'newTitle' })),
    h('p', { class: 'hint', 'data-t': 'newHint' }),
    h('div', { id: 'ns-notice', role: 'status', 'aria-live': 'polite' }),
    h(
      'div',
      { class: 'toolbar' },
      h('label', { class: 'inline', for: 'ns-protocol', 'data-t': 'newProtocol' }),
      select,
      h('div', { class: 'spacer' }),
      h('button', { type: 'button', id: 'ns-create', class: 'primary sp-act', 'data-t': 'newCreate', onclick: () => void create() }),
    ),
    h('p', { class: 'hint', 'data-t': 'newTemplateNote' }),
    editorHost,
    h('div', { id: 'ns-errors', role: 'alert' }),
  );
  page.editor = createEditor(editorHost, { onChange: () => undefined, onSave: () => void create(), label: t('newTitle') });
  page.editor.setText(TEMPLATES.rest);
  render();
}

function backLink(): HTMLElement {
  return h('button', { type: 'button', class: 'link sp-back', 'data-t': 'back', 'aria-label': t('backLabel'), onclick: () => close() }, t('back'));
}

/** Another protocol's template in the editor (what was typed is replaced: a template is a start). */
function pick(protocol: TemplateProtocol): void {
  if (!page?.editor) return;
  page.protocol = protocol;
  page.errors = [];
  page.notice = undefined;
  page.editor.setGatewayErrors([]);
  page.editor.setText(TEMPLATES[protocol]);
  render();
}

function render(): void {
  const el = panel();
  const p = page;
  if (!el || !p) return;
  for (const node of el.querySelectorAll<HTMLElement>('[data-t]')) node.textContent = t(node.dataset.t as WordKey);
  $('ns-create')?.setAttribute('aria-label', t('newCreateLabel'));
  for (const button of el.querySelectorAll<HTMLButtonElement>('.sp-act')) button.disabled = p.busy;
  const notice = $('ns-notice');
  if (notice) {
    fill(
      notice,
      p.notice
        ? h(
            'div',
            { class: `message ${p.notice.kind}`, 'data-notice': p.notice.kind },
            h('strong', {}, p.notice.text()),
            (p.notice.lines ?? []).map((line) => h('div', {}, line)),
            p.notice.open ? h('div', { class: 'buttons' }, h('button', { type: 'button', class: 'secondary', 'data-action': 'openExisting', onclick: () => (location.hash = `#system/${encodeURIComponent(p.notice!.open!)}`) }, t('openExisting'))) : null,
          )
        : null,
    );
  }
  const errors = $('ns-errors');
  if (errors && p.editor) fill(errors, errorList(p.editor, p.errors));
}

async function create(): Promise<void> {
  const p = page;
  if (!p?.editor || p.busy || !may(p.role, 'admin')) return;
  const doc = parseYaml(p.editor.text());
  if (doc.errors.length) {
    p.notice = { kind: 'error', text: () => t('yamlInvalid') };
    return render();
  }
  const system = doc.toJS() as Record<string, unknown> | null;
  const id = system && typeof system.id === 'string' ? system.id.trim() : '';
  if (!id) {
    p.notice = { kind: 'error', text: () => t('newNoId') };
    return render();
  }
  p.busy = true;
  render();
  try {
    const { data } = await api<SystemVersion>('PUT', `/admin/systems/${encodeURIComponent(id)}`, system, { 'If-None-Match': '*' });
    noteAdded(data.id, data.version);
    // The system's own page takes over (this page closes on the change of address).
    location.hash = `#system/${encodeURIComponent(data.id)}`;
    return;
  } catch (err) {
    if (page !== p) return;
    if (err instanceof ApiProblem && err.status === 412) {
      p.notice = { kind: 'error', text: () => t('newExists', { id }), open: id };
    } else if (err instanceof ApiProblem && err.code === 'invalid_config' && err.details.length) {
      p.errors = err.details;
      p.editor.setGatewayErrors(err.details);
      const n = err.details.length;
      p.notice = { kind: 'error', text: () => t('notAdded', { n }) };
    } else {
      p.notice = { kind: 'error', text: () => t('failed'), lines: describe(err) };
    }
  } finally {
    if (page === p) {
      p.busy = false;
      render();
    }
  }
}

function teardown(): void {
  page?.editor?.destroy();
  page = undefined;
}

/** Leaves the page; back to the systems board unless another page or tab takes over. */
function close(toBoard = true): void {
  generation++;
  teardown();
  const el = panel();
  if (el) {
    el.hidden = true;
    el.replaceChildren();
  }
  if (location.hash === NEW_SYSTEM_HASH) history.replaceState(null, '', location.pathname + location.search);
  if (toBoard && appShown()) $('tab-systems')?.click();
}

function fromHash(): void {
  if (location.hash === NEW_SYSTEM_HASH) {
    if (!page || panel()?.hidden) void open();
  } else if (page || !panel()?.hidden) close(false);
}

function start(): void {
  window.addEventListener('hashchange', fromHash);
  document.addEventListener('ow:lang', () => render());
  const app = $('app');
  if (app) {
    new MutationObserver(() => {
      if (!appShown()) {
        if (page || !panel()?.hidden) close(false);
        return;
      }
      if (pending) void open();
      else if (!panel()?.hidden && otherPanelShown(PANEL)) close(false);
    }).observe(app, { attributes: true, attributeFilter: ['hidden'], subtree: true });
  }
  fromHash();
}

if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start);
else start();
