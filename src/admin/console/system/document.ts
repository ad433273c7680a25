/**
 * A configuration kept in versions (a legacy system's file): edited in the CodeMirror editor, saved
 * with If-Match as a new version, the gateway's validation errors at their lines, the 412 of a
 * version saved meanwhile offered as a reload (keeping the edits or not), a diff against the running
 * version, the history with view and rollback. The page that shows one says where it is read and
 * written (VersionedSource) and in which words; parts.tsx draws it.
 */
import { batch, computed, signal, type Signal } from '@preact/signals';
import type { ComponentChildren } from 'preact';
import { ApiProblem, type ErrorDetail, type Schemas } from '../api';
import { language, t } from '../language';
import { describe } from '../ui';
import { gatewayText, type WordKey } from '../words';
import type * as KitModule from './kit';

export type Kit = typeof KitModule;
export type VersionInfo = Schemas['VersionInfo'];

let kit: Promise<Kit> | undefined;

/** The editor's chunk (system-page.js), loaded once, when a configuration page first opens. */
export function loadKit(): Promise<Kit> {
  return (kit ??= import('./kit'));
}

export interface Notice {
  kind: 'ok' | 'error' | 'info';
  /** A function, so that a change of language says the same thing in the other one. */
  text(): string;
  lines?: ComponentChildren[];
  actions?: Array<{ label: WordKey; run(): void }>;
}

export interface Confirm {
  text(): string;
  okLabel: WordKey;
  run(reason: string): Promise<void>;
}

export type DiffMode = { kind: 'editing' } | { kind: 'saved'; from: number; to: number; before: string; after: string } | { kind: 'version'; version: number; text: string };

/** Where a versioned configuration is read and written; `V` is the API's answer for a version. */
export interface VersionedSource<V> {
  latest(): Promise<V>;
  history(): Promise<VersionInfo[]>;
  /** A version of the history as the editor shows it. */
  textOf(version: number): Promise<string>;
  save(document: unknown, ifMatch: string): Promise<V>;
  rollback(version: number, reason: string, ifMatch: string): Promise<V>;
  versionOf(answer: V): number;
  /** A version as the editor shows it. */
  textFor(answer: V): string;
}

/** The page's words for what happened to its configuration. */
export interface DocumentWords {
  saved: WordKey;
  stale: WordKey;
  rolledBack: WordKey;
  rollbackConfirm: WordKey;
}

/** An error as the lines of a notice: what it means, what the gateway said, each detail. */
export function problemLines(err: unknown): ComponentChildren[] {
  const { lines, details } = describe(err);
  return [...lines.filter(Boolean), ...details];
}

export const translate = (message: string): string => gatewayText(message, language.peek());

/**
 * A configuration in the editor: its text (and the same a moment after the typing stops, which the
 * diff and the errors' lines follow), the gateway's validation errors, a notice, an action asked for,
 * and whether an action runs (the page's buttons wait for it).
 */
export class EditedConfig {
  readonly errors = signal<readonly ErrorDetail[]>([]);
  readonly notice = signal<Notice | undefined>(undefined);
  readonly confirm = signal<Confirm | undefined>(undefined);
  readonly busy = signal(false);
  readonly text = signal('');
  readonly settled = signal('');
  editor: KitModule.ConfigEditor | undefined;
  private timer: number | undefined;

  constructor(readonly kit: Kit) {}

  /** Mounts the editor in `host` with `text`; `onSave` is its Ctrl-S. */
  mount(host: HTMLElement, options: { label: string; readOnly: boolean; text: string; onSave(): void }): void {
    this.editor = this.kit.createEditor(host, { onChange: () => this.edited(), onSave: options.onSave, label: options.label, translate });
    this.editor.setReadOnly(options.readOnly);
    this.setText(options.text);
  }

  destroy(): void {
    window.clearTimeout(this.timer);
    this.editor?.destroy();
    this.editor = undefined;
  }

  /** Replaces the editor's text (a template, a version loaded, saved, rolled back to); the diff follows at once. */
  setText(text: string): void {
    this.editor?.setText(text);
    window.clearTimeout(this.timer);
    batch(() => {
      this.text.value = text;
      this.settled.value = text;
    });
  }

  /** Typed in the editor. */
  protected edited(): void {
    this.text.value = this.editor?.text() ?? '';
    // The diff and the errors' lines follow the typing, a moment behind it.
    window.clearTimeout(this.timer);
    this.timer = window.setTimeout(() => {
      this.settled.value = this.text.peek();
    }, 300);
  }

  /** The gateway's validation errors, at their lines in the editor and listed (none: cleared). */
  showErrors(details: readonly ErrorDetail[]): void {
    this.errors.value = details;
    this.editor?.setGatewayErrors(details);
  }

  /** Runs `work` with the page's buttons disabled; one at a time. */
  async busyWith(work: () => Promise<void>): Promise<void> {
    if (this.busy.peek()) return;
    this.busy.value = true;
    try {
      await work();
    } finally {
      this.busy.value = false;
    }
  }

  ask(confirm: Confirm): void {
    this.confirm.value = confirm;
  }

  failed(err: unknown): void {
    this.notice.value = { kind: 'error', text: () => t('failed'), lines: problemLines(err) };
  }

  /** Validation errors refused it: at their lines, and said as `notDone` (with their count). */
  refusedAsInvalid(err: unknown, notDone: WordKey): boolean {
    if (!(err instanceof ApiProblem && (err.code === 'invalid_config' || err.code === 'invalid_request') && err.details.length)) return false;
    const n = err.details.length;
    batch(() => {
      this.showErrors(err.details);
      this.notice.value = { kind: 'error', text: () => t(notDone, { n }) };
    });
    return true;
  }

  /** The editor's text as a document, or undefined (and said) when it is not YAML. */
  parsed(): unknown {
    const doc = this.kit.parseYaml(this.editor?.text() ?? this.text.peek());
    if (!doc.errors.length) return doc.toJS() as unknown;
    this.notice.value = { kind: 'error', text: () => t('yamlInvalid') };
    return undefined;
  }
}

/**
 * A configuration kept in versions: the running version, what it changed, the history, saved with
 * If-Match, a 412 offered as a reload, rolled back.
 */
export class ConfigDocument<V> extends EditedConfig {
  readonly running: Signal<V>;
  /** The running version as the editor shows it: what "unsaved changes" are measured against. */
  readonly runningText: Signal<string>;
  readonly history: Signal<readonly VersionInfo[]>;
  readonly diff = signal<DiffMode>({ kind: 'editing' });
  readonly dirty = computed(() => this.text.value !== this.runningText.value);

  constructor(
    kit: Kit,
    private readonly source: VersionedSource<V>,
    private readonly words: DocumentWords,
    /** Whether the role may store a version (else the page only reads, or edits to dry-run). */
    private readonly canSave: () => boolean,
    running: V,
    history: readonly VersionInfo[],
  ) {
    super(kit);
    this.running = signal(running);
    this.runningText = signal(source.textFor(running));
    this.history = signal(history);
  }

  /** Mounts the editor in `host` with the running version. */
  mountRunning(host: HTMLElement, options: { label: string; readOnly: boolean }): void {
    this.mount(host, { ...options, text: this.runningText.peek(), onSave: () => void this.save() });
  }

  /** The running version's number (not subscribed: for actions). */
  version(): number {
    return this.source.versionOf(this.running.peek());
  }

  /** The running version's number, for a view (drawn again when it changes). */
  runningVersion(): number {
    return this.source.versionOf(this.running.value);
  }

  protected override edited(): void {
    if (this.diff.peek().kind === 'saved') this.diff.value = { kind: 'editing' };
    super.edited();
  }

  revert(): void {
    batch(() => {
      this.setText(this.runningText.peek());
      this.showErrors([]);
      this.notice.value = undefined;
    });
  }

  /** The latest version read again (nothing unsaved in the editor): the one shown now. */
  showLatest(latest: V, history: readonly VersionInfo[]): void {
    batch(() => {
      this.running.value = latest;
      this.runningText.value = this.source.textFor(latest);
      this.history.value = history;
      this.setText(this.runningText.peek());
      this.diff.value = { kind: 'editing' };
    });
  }

  async reloadHistory(): Promise<void> {
    try {
      this.history.value = await this.source.history();
    } catch {
      // The list stays as it was; what was done says so itself.
    }
  }

  /** A version stored (saved, rolled back to, reset): it is now the running one, shown with what it changed. */
  async stored(answer: V, notice: Notice): Promise<void> {
    const before = this.runningText.peek();
    const from = this.version();
    const after = this.source.textFor(answer);
    batch(() => {
      this.running.value = answer;
      this.runningText.value = after;
      this.showErrors([]);
      this.setText(after);
      this.diff.value = { kind: 'saved', from, to: this.source.versionOf(answer), before, after };
      this.notice.value = notice;
    });
    await this.reloadHistory();
  }

  /** A store refused: validation errors go to their lines, a stale version offers a reload. */
  async refused(err: unknown): Promise<void> {
    if (err instanceof ApiProblem && err.status === 412) {
      // Who was faster, and with which version: the latest version and its history entry.
      let latest: V | undefined;
      try {
        latest = await this.source.latest();
        await this.reloadHistory();
      } catch {
        latest = undefined;
      }
      const version = latest === undefined ? undefined : this.source.versionOf(latest);
      const who = version === undefined ? '' : (this.history.peek().find((v) => v.version === version)?.who ?? '?');
      this.notice.value = {
        kind: 'error',
        text: () => (version === undefined ? t('staleUnknown') : t(this.words.stale, { version, who })),
        actions: [
          { label: 'reloadLatest', run: () => void this.reload(false) },
          { label: 'keepMine', run: () => void this.reload(true) },
        ],
      };
      return;
    }
    if (!this.refusedAsInvalid(err, 'notSaved')) this.failed(err);
  }

  async save(): Promise<void> {
    if (!this.canSave()) return;
    const document = this.parsed();
    if (document === undefined) return;
    await this.busyWith(async () => {
      try {
        const answer = await this.source.save(document, `"${this.version()}"`);
        const version = this.source.versionOf(answer);
        await this.stored(answer, { kind: 'ok', text: () => t(this.words.saved, { version }) });
      } catch (err) {
        await this.refused(err);
      }
    });
  }

  /** After a 412: the latest version becomes the running one; the editor keeps the edits if asked to. */
  async reload(keepEdits: boolean): Promise<void> {
    await this.busyWith(async () => {
      try {
        const latest = await this.source.latest();
        batch(() => {
          this.running.value = latest;
          this.runningText.value = this.source.textFor(latest);
          if (!keepEdits) this.setText(this.runningText.peek());
          this.diff.value = { kind: 'editing' };
          this.notice.value = undefined;
        });
        await this.reloadHistory();
      } catch (err) {
        this.failed(err);
      }
    });
  }

  /** Shows a version of the history against the running one. */
  async viewVersion(version: number, diffHost: string): Promise<void> {
    try {
      const text = await this.source.textOf(version);
      this.diff.value = { kind: 'version', version, text };
      document.getElementById(diffHost)?.scrollIntoView({ block: 'nearest' });
    } catch (err) {
      this.failed(err);
    }
  }

  askRollback(version: number): void {
    this.ask({
      text: () => t(this.words.rollbackConfirm, { version }),
      okLabel: 'rollback',
      run: (reason) =>
        this.busyWith(async () => {
          try {
            const answer = await this.source.rollback(version, reason, `"${this.version()}"`);
            const stored = this.source.versionOf(answer);
            await this.stored(answer, { kind: 'ok', text: () => t(this.words.rolledBack, { from: version, version: stored }) });
          } catch (err) {
            await this.refused(err);
          }
        }),
    });
  }
}
