/**
 * What every view of the console shares: badges, times, the gateway's messages in the page's
 * language, action buttons, toasts, the reason dialog of every audited action, errors in plain
 * words, and cursor paging. Data reaches the page only as text (Preact writes text nodes), never as HTML.
 */
import { signal } from '@preact/signals';
import { render, type ComponentChildren } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { ApiProblem } from './api';
import { language, t, w } from './language';
import { beijing } from './time';
import { gatewayParts, type Vocab } from './words';

export type Tone = 'ok' | 'warn' | 'bad' | 'info' | 'muted';

export const dash = (value: string | number | undefined | null): string => (value === undefined || value === null || value === '' ? '—' : String(value));

/** A vocabulary word as a badge: `<Badge vocab="CIRCUIT" value="open" tone="bad" />`. */
export function Badge({ vocab, value, tone }: { vocab: Vocab; value: string; tone?: Tone | undefined }) {
  return (
    <span class={`badge ${tone ?? 'muted'}`} data-key={value}>
      {w(vocab, value)}
    </span>
  );
}

export function PlainBadge({ tone, children }: { tone: Tone; children: ComponentChildren }) {
  return <span class={`badge ${tone}`}>{children}</span>;
}

/** An instant in Beijing time, the zone said in English (where the reader may be elsewhere); the ISO instant on hover. */
export function When({ iso }: { iso: string | undefined }) {
  const shown = beijing(iso);
  const zoned = shown !== '—' && shown !== iso && language.value === 'en' ? `${shown} UTC+8` : shown;
  return (
    <time datetime={iso} title={iso || undefined}>
      {zoned}
    </time>
  );
}

/**
 * A message the gateway wrote, in the page's language: translated from its pattern; what the legacy
 * system said itself kept word for word and marked as the system's.
 */
export function GatewayText({ message }: { message: string | undefined }) {
  const { parts, known } = gatewayParts(message, language.value);
  if (!parts.length) return <>—</>;
  return (
    <span class="gw" data-known={String(known)} title={message}>
      {parts.map((part) =>
        typeof part === 'string' ? (
          part
        ) : 'own' in part ? (
          <q class="own" title={t('systemsOwnWords')}>
            {part.own}
          </q>
        ) : 'tech' in part ? (
          <span class="tech">{part.tech}</span>
        ) : (
          <When iso={part.time} />
        ),
      )}
    </span>
  );
}

/** A button that says what it does, to whom: `data-action` and `data-target` for tests and styles. */
export function ActionButton(props: { action: string; target: string; label: string; tone: string; onClick(button: HTMLButtonElement): void }) {
  return (
    <button type="button" class={props.tone} data-action={props.action} data-target={props.target} aria-label={`${props.label} ${props.target}`} onClick={(e) => props.onClick(e.currentTarget)}>
      {props.label}
    </button>
  );
}

// ---------------------------------------------------------------- errors in plain words

/** An API error in plain words: what it means, what the gateway said, and each detail. */
export function describe(err: unknown): { lines: string[]; details: ComponentChildren[] } {
  if (!(err instanceof ApiProblem)) return { lines: [err instanceof Error ? err.message : String(err)], details: [] };
  const meaning = w('ERROR_CODES', err.code) || t('unknownError');
  const head = err.status ? `${meaning}${t('statusAndCode', { status: `HTTP ${err.status}`, code: err.code })}` : meaning;
  const details = err.details.map((d) =>
    d.path ? (
      <>
        {`${d.path}: `}
        <GatewayText message={d.message} />
      </>
    ) : (
      <GatewayText message={d.message} />
    ),
  );
  // The gateway's own text of an API error is English: in Chinese it follows as the original.
  return { lines: [head, err.message ? t('gatewaySaid', { message: err.message }) : ''], details };
}

// ---------------------------------------------------------------- toasts

const MAX_TOASTS = 3;

/** A toast leaves: its own root (each toast has one, so that nothing else is disturbed by its going). */
function drop(el: Element): void {
  render(null, el);
  el.remove();
}

/** What went wrong, as the gateway said it: a title, its lines, and the details listed. */
export function Problem({ title, lines, details }: { title: ComponentChildren; lines: readonly string[]; details: readonly ComponentChildren[] }) {
  return (
    <>
      <strong>{title}</strong>
      {lines.filter(Boolean).map((line) => (
        <div>{line}</div>
      ))}
      {details.length ? (
        <ul>
          {details.map((d) => (
            <li>{d}</li>
          ))}
        </ul>
      ) : null}
    </>
  );
}

/**
 * One region (#messages), a few toasts at most: the same message again replaces the one shown, a
 * success leaves after 5 s, an error stays until closed (the oldest success goes first when full).
 */
export function message(kind: 'ok' | 'error', title: string, lines: readonly string[] = [], details: readonly ComponentChildren[] = []): void {
  const box = document.getElementById('messages');
  if (!box) return;
  const key = [kind, title, ...lines].join('\n');
  for (const old of box.querySelectorAll<HTMLElement>('.message')) if (old.dataset.key === key) drop(old);
  const el = document.createElement('div');
  el.className = `message ${kind}`;
  el.setAttribute('role', kind === 'error' ? 'alert' : 'status');
  el.dataset.key = key;
  render(
    <>
      <button type="button" class="close" aria-label={t('close')} onClick={() => drop(el)}>
        ×
      </button>
      <Problem title={title} lines={lines} details={details} />
    </>,
    el,
  );
  box.append(el);
  while (box.children.length > MAX_TOASTS) drop(box.querySelector('.message.ok') ?? box.firstElementChild!);
  if (kind !== 'error') window.setTimeout(() => drop(el), 5000);
}

export const ok = (title: string, line: string): void => message('ok', title, [line]);

/** An error said as a toast under `title`; a refused token is not (the sign-in form says why). */
export function report(title: string, err: unknown): void {
  if (err instanceof ApiProblem && err.auth) return;
  const { lines, details } = describe(err);
  message('error', title, lines, details);
}

// ---------------------------------------------------------------- the reason dialog

export interface Ask {
  title: string;
  text?: string;
  required: boolean;
  okLabel?: string;
  danger?: boolean;
}

const asking = signal<(Ask & { resolve(reason: string | null): void }) | undefined>(undefined);

/** Asks for a reason; resolves to the text ('' when optional and left empty), or null if cancelled. */
export function askReason(ask: Ask): Promise<string | null> {
  return new Promise((resolve) => {
    asking.value?.resolve(null);
    asking.value = { ...ask, resolve };
  });
}

/** The dialog askReason() shows (#ask), once in the page. */
export function AskDialog() {
  const dialog = useRef<HTMLDialogElement>(null);
  const reason = useRef<HTMLTextAreaElement>(null);
  const before = useRef<Element | null>(null);
  const [error, setError] = useState('');
  const current = asking.value;

  useEffect(() => {
    const el = dialog.current!;
    if (current && !el.open) {
      before.current = document.activeElement;
      reason.current!.value = '';
      setError('');
      el.showModal();
      reason.current!.focus();
    } else if (!current && el.open) el.close();
  }, [current]);

  const finish = (value: string | null): void => {
    const done = asking.value;
    asking.value = undefined;
    dialog.current?.close();
    const back = before.current;
    if (back instanceof HTMLElement && back.isConnected) back.focus();
    done?.resolve(value);
  };
  const submit = (event: Event): void => {
    event.preventDefault();
    const value = reason.current!.value.trim();
    if (current?.required && !value) {
      setError(t('reasonNeeded'));
      reason.current!.focus();
      return;
    }
    finish(value);
  };
  const required = Boolean(current?.required);
  return (
    <dialog
      id="ask"
      ref={dialog}
      aria-labelledby="ask-title"
      aria-describedby="ask-text"
      onCancel={(event) => {
        event.preventDefault();
        finish(null);
      }}
    >
      <form id="ask-form" method="dialog" noValidate onSubmit={submit}>
        <h2 id="ask-title">{current?.title}</h2>
        <p id="ask-text">{current?.text ?? ''}</p>
        <div class="field">
          <label for="ask-reason" id="ask-label">
            {required ? t('reasonRequired') : t('reasonOptional')}
          </label>
          <textarea id="ask-reason" ref={reason} rows={3} maxLength={500} required={required} aria-required={required ? 'true' : 'false'} placeholder={required ? t('reasonRequiredExample') : t('reasonOptionalExample')} />
        </div>
        <p id="ask-error" class="error-text" role="alert">
          {error}
        </p>
        <div class="buttons">
          <button type="button" id="ask-cancel" class="secondary" onClick={() => finish(null)}>
            {t('cancel')}
          </button>
          <button type="submit" id="ask-ok" class={current?.danger ? 'danger' : 'primary'}>
            {current?.okLabel ?? t('ok')}
          </button>
        </div>
      </form>
    </dialog>
  );
}

// ---------------------------------------------------------------- actions

/** Runs an action with its button disabled, reporting any error under `title`. */
export async function busy<T>(button: HTMLButtonElement | undefined, title: string, action: () => Promise<T>): Promise<T | undefined> {
  if (button) button.disabled = true;
  try {
    return await action();
  } catch (err) {
    report(title, err);
    return undefined;
  } finally {
    if (button?.isConnected) button.disabled = false;
  }
}

/**
 * The one path of every audited action: ask the reason, call the API, say it is done, reload.
 * Pause/resume, replay, discard (dead letter or unmatched result) and bulk replay all go here.
 */
export async function act<T>(options: { button?: HTMLButtonElement; ask: Ask; failed: string; call(reason: string): Promise<T>; done?(answer: T): void; reload?(): Promise<void> | void }): Promise<void> {
  const reason = await askReason(options.ask);
  if (reason === null) return;
  await busy(options.button, options.failed, async () => {
    const answer = await options.call(reason);
    options.done?.(answer);
    await options.reload?.();
  });
}

/** An action's body with its reason, when one was given. */
export const withReason = <B extends object>(reason: string, body: B): B & { reason?: string } => (reason ? { ...body, reason } : body);

// ---------------------------------------------------------------- paging

/** The page shown: its number, how many it has, whether there is one after. */
interface ShownPage {
  page: number;
  count: number;
  more: boolean;
}

/**
 * Cursor paging as the API gives it (`next`): the cursors of the pages before are kept, so ops can
 * go back as well as on. `load()` fetches the page at `cursor()` and then calls `shown()`; what the
 * pager says changes only then, with the rows it speaks of.
 */
export class Pager {
  /** Cursors of the pages before the one asked for ('' = the first). */
  private before: string[] = [];
  private at = '';
  private next: string | undefined;
  readonly page = signal<ShownPage | undefined>(undefined);

  constructor(private readonly load: () => void) {}

  cursor(): string {
    return this.at;
  }

  /** Back to the first page (what is shown stays until the next page is). */
  reset(): void {
    this.before = [];
    this.at = '';
    this.next = undefined;
  }

  /** Nothing shown: signed out. */
  clear(): void {
    this.reset();
    this.page.value = undefined;
  }

  /** Called with a page's `next` once it is shown. */
  shown(next: string | undefined, count: number): void {
    this.next = next;
    this.page.value = { page: this.before.length + 1, count, more: Boolean(next) };
  }

  first(): void {
    this.reset();
    this.load();
  }

  previous(): void {
    this.at = this.before.pop() ?? '';
    this.load();
  }

  following(): void {
    if (!this.next) return;
    this.before.push(this.at);
    this.at = this.next;
    this.load();
  }
}

/** A column heading: its words; whether it holds numbers, or only an operator's actions. */
export interface Column {
  label: string;
  num?: boolean;
  operator?: boolean;
}

/**
 * A tab's list as every tab shows one: the table `<id>-table` (hidden while empty), the line said
 * instead (`<id>-empty`), and the pager (`<id>-pager`) when it pages. A column given as `false` is left out.
 */
export function ListTable(props: { id: string; caption: string; columns: ReadonlyArray<Column | false>; none: boolean; empty: ComponentChildren; pager?: Pager; children: ComponentChildren }) {
  const { id, caption, columns, none, empty, pager, children } = props;
  return (
    <>
      <div class="table-wrap">
        <table id={`${id}-table`} class="data" hidden={none}>
          <caption class="visually-hidden">{caption}</caption>
          <thead>
            <tr>
              {columns.map((c) =>
                c ? (
                  <th scope="col" class={c.num ? 'num' : undefined} data-needs={c.operator ? 'operator' : undefined}>
                    {c.label}
                  </th>
                ) : null,
              )}
            </tr>
          </thead>
          <tbody>{children}</tbody>
        </table>
      </div>
      <p id={`${id}-empty`} class="empty" hidden={!none}>
        {empty}
      </p>
      {pager ? <PagerView id={`${id}-pager`} pager={pager} /> : null}
    </>
  );
}

export function PagerView({ id, pager }: { id: string; pager: Pager }) {
  const shown = pager.page.value;
  return (
    <div id={id} class="pager">
      {shown ? (
        <>
          <button type="button" class="secondary" data-page="first" disabled={shown.page === 1} onClick={() => pager.first()}>
            {t('firstPage')}
          </button>
          <button type="button" class="secondary" data-page="prev" disabled={shown.page === 1} onClick={() => pager.previous()}>
            {t('previousPage')}
          </button>
          <span class="hint">{t(shown.more ? 'pageOfMore' : 'pageOf', { page: shown.page, count: shown.count })}</span>
          <button type="button" class="secondary" data-page="next" disabled={!shown.more} onClick={() => pager.following()}>
            {t('nextPage')}
          </button>
        </>
      ) : null}
    </div>
  );
}

/** The query of a page: the filter's fields that are set, the cursor and the page size. */
export function pageQuery<F extends object>(filter: F, cursor: string): F & { cursor?: string; limit: number } {
  const set = Object.fromEntries(Object.entries(filter).filter(([, value]) => value !== '' && value !== undefined)) as F;
  return { ...set, ...(cursor ? { cursor } : {}), limit: PAGE_SIZE };
}

const PAGE_SIZE = 50;
