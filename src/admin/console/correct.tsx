/**
 * An admin corrects a dead letter's case before replaying it (#correct): the stored case edited as
 * JSON, what changes shown path by path as it is typed, and the replay sent with the corrected case.
 * The API validates it as intake does and audits the changed paths; a refusal is said in the dialog
 * and changes nothing.
 */
import { signal } from '@preact/signals';
import type { ComponentChildren } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { answer, api, ApiProblem, type Schemas } from './api';
import { t } from './language';
import type { Letter } from './replay';
import { onSignOut } from './session';
import { busy, describe, ok, Problem, withReason } from './ui';

type StoredCase = Schemas['DeadLetterCase']['case'];
interface Change {
  path: string;
  before: unknown;
  after: unknown;
}

const correcting = signal<{ letter: Letter; original: StoredCase; reload(): Promise<void> } | undefined>(undefined);

onSignOut(() => {
  correcting.value = undefined;
});

/** Loads the stored case of `letter` (full data: an admin's screen) and opens the dialog on it. */
export async function correctOne(letter: Letter, button: HTMLButtonElement, reload: () => Promise<void>): Promise<void> {
  const loaded = await busy(button, t('caseLoadFailed'), () => answer(api.GET('/api/v1/admin/dead-letters/{id}/case', { params: { path: { id: letter.id } } })));
  if (loaded) correcting.value = { letter, original: loaded.case, reload };
}

/** Where two JSON values differ, with both values. */
function diffPaths(before: unknown, after: unknown, at = ''): Change[] {
  if (JSON.stringify(before) === JSON.stringify(after)) return [];
  if (!before || !after || typeof before !== 'object' || typeof after !== 'object' || Array.isArray(before) !== Array.isArray(after)) return [{ path: at || '(case)', before, after }];
  const b = before as Record<string, unknown>;
  const a = after as Record<string, unknown>;
  if (Array.isArray(before) && Array.isArray(after)) return [...Array(Math.max(before.length, after.length)).keys()].flatMap((i) => diffPaths(before[i], after[i], `${at}[${i}]`));
  return [...new Set([...Object.keys(b), ...Object.keys(a)])].sort().flatMap((k) => diffPaths(b[k], a[k], at ? `${at}.${k}` : k));
}

const shown = (value: unknown): string => (value === undefined ? t('none') : JSON.stringify(value));

type Edit = { ok: true; edited: unknown; changes: Change[] } | { ok: false; why: string };

function parse(original: StoredCase, text: string): Edit {
  try {
    const edited: unknown = JSON.parse(text);
    return { ok: true, edited, changes: diffPaths(original, edited) };
  } catch (err) {
    return { ok: false, why: err instanceof Error ? err.message : String(err) };
  }
}

function Changes({ edit }: { edit: Edit }) {
  if (!edit.ok)
    return (
      <p class="error-text">
        {t('notValidJson')}
        {edit.why}
      </p>
    );
  if (!edit.changes.length) return <p class="hint">{t('noChangeYet')}</p>;
  return (
    <ul>
      {edit.changes.map((c) => (
        <li data-path={c.path}>
          <span class="mono">{c.path}</span>：<del>{shown(c.before)}</del> → <ins>{shown(c.after)}</ins>
        </li>
      ))}
    </ul>
  );
}

/** The dialog (#correct), once in the page. */
export function CorrectDialog() {
  const dialog = useRef<HTMLDialogElement>(null);
  const area = useRef<HTMLTextAreaElement>(null);
  const reason = useRef<HTMLInputElement>(null);
  const [text, setText] = useState('');
  const [refusal, setRefusal] = useState<ComponentChildren>(null);
  const [sending, setSending] = useState(false);
  const current = correcting.value;

  useEffect(() => {
    const el = dialog.current!;
    if (current && !el.open) {
      setText(JSON.stringify(current.original, null, 2));
      setRefusal(null);
      reason.current!.value = '';
      el.showModal();
      area.current!.focus();
    } else if (!current && el.open) el.close();
  }, [current]);

  const edit = current ? parse(current.original, text) : undefined;
  const finish = (): void => {
    correcting.value = undefined;
  };
  const submit = async (event: Event): Promise<void> => {
    event.preventDefault();
    if (!current || !edit?.ok) return;
    if (!edit.changes.length) {
      setRefusal(t('nothingChanged'));
      return;
    }
    const { letter } = current;
    setSending(true);
    try {
      // The API validates the edited case as intake does: its shape is the gateway's to judge.
      const body = withReason(reason.current!.value.trim(), { case: edit.edited as StoredCase });
      const replayed = await answer(api.POST('/api/v1/admin/dead-letters/{id}/replay', { params: { path: { id: letter.id } }, body }));
      finish();
      ok(t('correctedAndReplayed'), `${letter.caseId} → ${letter.systemId}：${(replayed.changed ?? []).join(', ')}`);
      await current.reload();
    } catch (err) {
      if (err instanceof ApiProblem && err.auth) return finish();
      // Refused by the API (e.g. not a valid case): said in the dialog, nothing was changed.
      const { lines, details } = describe(err);
      setRefusal(<Problem title={t('correctionRefused')} lines={lines} details={details} />);
    } finally {
      setSending(false);
    }
  };
  return (
    <dialog id="correct" class="wide-dialog" aria-labelledby="correct-title" ref={dialog} onClose={finish}>
      <form id="correct-form" method="dialog" noValidate onSubmit={(e) => void submit(e)}>
        <h2 id="correct-title">{current ? `${t('correctAndReplay')} ${current.letter.caseId} → ${current.letter.systemId}` : ''}</h2>
        <p class="hint">{t('correctHint')}</p>
        <div class="field">
          <label for="correct-case">{t('caseJson')}</label>
          <textarea
            id="correct-case"
            ref={area}
            rows={14}
            spellcheck={false}
            class="mono"
            value={text}
            onInput={(e) => {
              // An edit makes the last refusal stale.
              setText(e.currentTarget.value);
              setRefusal(null);
            }}
          />
        </div>
        <div class="field">
          <label for="correct-reason">{t('reasonOptional')}</label>
          <input id="correct-reason" ref={reason} type="text" maxLength={500} />
        </div>
        <h3 class="sub-head">{t('changes')}</h3>
        <div id="correct-diff" class="diff" aria-live="polite">
          {edit ? <Changes edit={edit} /> : null}
        </div>
        <div id="correct-error" class="error-text" role="alert">
          {refusal}
        </div>
        <div class="buttons">
          <button type="button" id="correct-cancel" class="secondary" onClick={finish}>
            {t('cancel')}
          </button>
          <button type="submit" id="correct-ok" class="primary" disabled={sending}>
            {t('correctAndReplayButton')}
          </button>
        </div>
      </form>
    </dialog>
  );
}
