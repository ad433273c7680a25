/**
 * The configuration editor: CodeMirror 6 with YAML highlighting, the JSONata expressions inside the
 * YAML highlighted as JSONata, YAML syntax errors and the gateway's validation errors as inline
 * diagnostics, and a read-only side-by-side diff (@codemirror/merge).
 *
 * Both are mounted in a shadow root: there CodeMirror styles itself with constructed style sheets
 * (adoptedStyleSheets), which the page's CSP (style-src 'self', no 'unsafe-inline') allows; mounted
 * in the document it would insert <style> elements, which the CSP refuses. The shadow root links
 * system-page.css (same origin) for the JSONata colours and the frame.
 *
 * It is the console's second chunk (system-page.js, through kit.ts), loaded only when a configuration
 * page opens: it imports nothing of the console but types, so the two share no code.
 */
import { basicSetup } from 'codemirror';
import { yaml } from '@codemirror/lang-yaml';
import { forceLinting, linter, lintGutter, type Diagnostic } from '@codemirror/lint';
import { MergeView } from '@codemirror/merge';
import { Compartment, EditorState, StateEffect, type Extension, type Range } from '@codemirror/state';
import { Decoration, EditorView, ViewPlugin, keymap, type DecorationSet, type ViewUpdate } from '@codemirror/view';
import type { ErrorDetail } from '../api';
import { expressionRanges, locate, parseYaml } from './yaml-text';

/** Puts a message of the gateway in the page's language (the console's word table, which this chunk does not load itself). */
export type Translate = (message: string) => string;

// ── JSONata inside the YAML strings ────────────────────────────────────────────────────────────────

/** JSONata's tokens, as far as colour goes: strings, numbers, $variables and $functions(), keywords, operators, `names`. */
const JSONATA_TOKEN = /("(?:[^"\\]|\\.)*"?)|(-?\b\d+(?:\.\d+)?(?:[eE][+-]?\d+)?\b)|(\$[A-Za-z_]\w*(?=\s*\())|(\$[A-Za-z_]\w*|\$)|\b(and|or|in|true|false|null|function)\b|(:=|!=|<=|>=|\.\.|[=<>?:&~+\-*/%])|(`[^`]*`)/g;
const TOKEN_CLASSES = ['', 'cm-jsonata-string', 'cm-jsonata-number', 'cm-jsonata-function', 'cm-jsonata-variable', 'cm-jsonata-keyword', 'cm-jsonata-operator', 'cm-jsonata-name'];
const marks = new Map(TOKEN_CLASSES.map((c) => [c, Decoration.mark({ class: c })]));
const expressionMark = Decoration.mark({ class: 'cm-jsonata' });

function jsonataDecorations(state: EditorState): DecorationSet {
  const text = state.doc.toString();
  const doc = parseYaml(text);
  const ranges: Array<Range<Decoration>> = [];
  for (const [from, to] of expressionRanges(doc)) {
    ranges.push(expressionMark.range(from, to));
    // Inside a YAML single-quoted scalar the JSONata's own double-quoted strings are coloured as such.
    const source = text.slice(from, to);
    const inner = source.startsWith("'") || source.startsWith('"') ? 1 : 0;
    for (const m of source.slice(inner, source.length - inner).matchAll(JSONATA_TOKEN)) {
      const kind = m.slice(1).findIndex((group) => group !== undefined) + 1;
      const start = from + inner + (m.index ?? 0);
      if (kind > 0 && m[0].length > 0) ranges.push(marks.get(TOKEN_CLASSES[kind]!)!.range(start, start + m[0].length));
    }
  }
  return Decoration.set(ranges, true);
}

const jsonataHighlight = ViewPlugin.fromClass(
  class {
    decorations: DecorationSet;
    constructor(view: EditorView) {
      this.decorations = jsonataDecorations(view.state);
    }
    update(update: ViewUpdate): void {
      if (update.docChanged) this.decorations = jsonataDecorations(update.state);
    }
  },
  { decorations: (plugin) => plugin.decorations },
);

// ── diagnostics ───────────────────────────────────────────────────────────────────────────────────

/** Where each of the gateway's errors is in the text now (located by key path, so they follow edits). */
export function gatewayDiagnostics(text: string, details: readonly ErrorDetail[], translate: Translate): Array<Diagnostic & { line: number }> {
  const doc = parseYaml(text);
  return details.map((d) => {
    const at = locate(doc, text, d.path);
    const line = text.slice(0, at.from).split('\n').length;
    return { from: at.from, to: at.to, line, severity: 'error' as const, source: 'gateway', message: d.path ? `${d.path}: ${translate(d.message)}` : translate(d.message) };
  });
}

/** Says the gateway's errors changed: the linter runs again though the text did not. */
const gatewayErrorsChanged = StateEffect.define<null>();

function yamlDiagnostics(text: string): Diagnostic[] {
  return parseYaml(text).errors.map((e) => {
    const from = Math.min(e.pos[0], text.length);
    return { from, to: Math.max(from, Math.min(e.pos[1], text.length)), severity: 'error', source: 'YAML', message: e.message };
  });
}

// ── mounting under the CSP ──────────────────────────────────────────────────────────────────────────

/** The shadow root of `host` (made once) and the element inside it that CodeMirror is mounted in. */
function shadowMount(host: HTMLElement, className: string): { root: ShadowRoot; parent: HTMLElement } {
  if (host.shadowRoot) return { root: host.shadowRoot, parent: host.shadowRoot.lastElementChild as HTMLElement };
  const root = host.attachShadow({ mode: 'open' });
  const link = document.createElement('link');
  link.rel = 'stylesheet';
  link.href = '/console/system-page.css';
  const parent = document.createElement('div');
  parent.className = className;
  root.append(link, parent);
  return { root, parent };
}

// ── the editor ────────────────────────────────────────────────────────────────────────────────────

export interface ConfigEditor {
  view: EditorView;
  text(): string;
  /** Replaces the whole text (a version loaded, saved or rolled back to). */
  setText(text: string): void;
  setReadOnly(readOnly: boolean): void;
  /** The gateway's errors of the last save or dry run, shown inline until the next one. */
  setGatewayErrors(details: readonly ErrorDetail[]): void;
  hasYamlErrors(): boolean;
  destroy(): void;
}

export function createEditor(host: HTMLElement, options: { onChange(): void; onSave(): void; label: string; translate: Translate }): ConfigEditor {
  let gatewayErrors: readonly ErrorDetail[] = [];
  const editable = new Compartment();
  const { root, parent } = shadowMount(host, 'sp-editor-inner');
  const view = new EditorView({
    parent,
    root,
    state: EditorState.create({
      doc: '',
      extensions: [
        basicSetup,
        yaml(),
        jsonataHighlight,
        // JSONata expressions are long single lines: wrapped, they stay readable without scrolling sideways.
        EditorView.lineWrapping,
        lintGutter(),
        linter((v) => {
          const text = v.state.doc.toString();
          return [...yamlDiagnostics(text), ...gatewayDiagnostics(text, gatewayErrors, options.translate)];
        }, { delay: 300, needsRefresh: (u) => u.transactions.some((tr) => tr.effects.some((e) => e.is(gatewayErrorsChanged))) }),
        keymap.of([{ key: 'Mod-s', preventDefault: true, run: () => (options.onSave(), true) }]),
        EditorView.updateListener.of((u) => {
          if (u.docChanged) options.onChange();
        }),
        EditorView.contentAttributes.of({ 'aria-label': options.label }),
        editable.of(readOnlyExtension(false)),
      ],
    }),
  });
  return {
    view,
    text: () => view.state.doc.toString(),
    setText(text) {
      view.dispatch({ changes: { from: 0, to: view.state.doc.length, insert: text } });
    },
    setReadOnly(readOnly) {
      view.dispatch({ effects: editable.reconfigure(readOnlyExtension(readOnly)) });
    },
    setGatewayErrors(details) {
      gatewayErrors = details;
      view.dispatch({ effects: gatewayErrorsChanged.of(null) });
      forceLinting(view);
    },
    hasYamlErrors: () => yamlDiagnostics(view.state.doc.toString()).length > 0,
    destroy: () => view.destroy(),
  };
}

function readOnlyExtension(readOnly: boolean): Extension {
  return [EditorState.readOnly.of(readOnly), EditorView.editable.of(!readOnly)];
}

// ── the diff ──────────────────────────────────────────────────────────────────────────────────────

/** CodeMirror's own words in the diff, in the page's language (the diff is drawn again when it changes). */
const diffPhrases = (): Extension => (document.documentElement.lang === 'en' ? [] : EditorState.phrases.of({ '$ unchanged lines': '$ 行未改动' }));

const diffSide = (doc: string): { doc: string; extensions: Extension } => ({
  doc,
  extensions: [basicSetup, yaml(), jsonataHighlight, EditorView.lineWrapping, EditorState.readOnly.of(true), EditorView.editable.of(false), diffPhrases()],
});

/** The diff shown in each host. */
const shownDiffs = new WeakMap<HTMLElement, MergeView>();

/** Shows `before` (left) against `after` (right) in `host`, unchanged stretches folded; replaces the diff shown there. */
export function showDiff(host: HTMLElement, before: string, after: string): void {
  shownDiffs.get(host)?.destroy();
  shownDiffs.delete(host);
  const { root, parent } = shadowMount(host, 'sp-diff-inner');
  parent.replaceChildren();
  host.hidden = before === after;
  if (before === after) return;
  shownDiffs.set(host, new MergeView({ parent, root, a: diffSide(before), b: diffSide(after), gutter: true, highlightChanges: true, collapseUnchanged: { margin: 2, minSize: 4 } }));
}
