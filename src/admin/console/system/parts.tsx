/**
 * The parts of a configuration page (system/document.ts) as the page shows them: its notice, the
 * confirmation of an action with its reason, the gateway's errors at their lines, the diff, and the
 * history of versions. `prefix` names their ids (`sp-notice`, `sp-diff`…).
 */
import { useEffect, useRef } from 'preact/hooks';
import { language, t } from '../language';
import { selectTab } from '../nav';
import { When } from '../ui';
import { gatewayText, summaryWords, whoWords } from '../words';
import type { ConfigDocument, EditedConfig } from './document';

/** Back to the systems board. */
export function BackLink() {
  return (
    <button type="button" class="link sp-back" aria-label={t('backLabel')} onClick={() => selectTab('systems')}>
      {t('back')}
    </button>
  );
}

export function NoticeView({ doc, prefix }: { doc: EditedConfig; prefix: string }) {
  const notice = doc.notice.value;
  return (
    <div id={`${prefix}-notice`} role="status" aria-live="polite">
      {notice ? (
        <div class={`message ${notice.kind}`} data-notice={notice.kind}>
          <strong>{notice.text()}</strong>
          {(notice.lines ?? []).map((line) => (
            <div>{line}</div>
          ))}
          {notice.actions?.length ? (
            <div class="buttons">
              {notice.actions.map((a) => (
                <button type="button" class="secondary" data-action={a.label} onClick={a.run}>
                  {t(a.label)}
                </button>
              ))}
            </div>
          ) : null}
        </div>
      ) : null}
    </div>
  );
}

/** An action asked for (a rollback, a reset, a pause): its reason, then OK or Cancel. */
export function ConfirmView({ doc, prefix }: { doc: EditedConfig; prefix: string }) {
  const confirm = doc.confirm.value;
  const reason = useRef<HTMLTextAreaElement>(null);
  useEffect(() => {
    if (confirm) reason.current?.focus();
  }, [confirm]);
  return (
    <div id={`${prefix}-confirm`}>
      {confirm ? (
        <form
          class="card sp-confirm"
          onSubmit={(event) => {
            event.preventDefault();
            doc.confirm.value = undefined;
            void confirm.run(reason.current?.value.trim() ?? '');
          }}
        >
          <p>
            <strong>{confirm.text()}</strong>
          </p>
          <div class="field">
            <label for={`${prefix}-confirm-reason`}>{t('reasonOptional')}</label>
            <textarea id={`${prefix}-confirm-reason`} ref={reason} rows={2} maxLength={500} />
          </div>
          <div class="buttons">
            <button type="button" class="secondary" onClick={() => (doc.confirm.value = undefined)}>
              {t('cancel')}
            </button>
            <button type="submit" id={`${prefix}-confirm-ok`} class="primary">
              {t(confirm.okLabel)}
            </button>
          </div>
        </form>
      ) : null}
    </div>
  );
}

/** The gateway's validation errors, each with its line in the editor (a click goes there). */
export function ErrorList({ doc, prefix }: { doc: EditedConfig; prefix: string }) {
  const errors = doc.errors.value;
  const lang = language.value;
  const located = errors.length ? doc.kit.gatewayDiagnostics(doc.settled.value, errors, (message) => gatewayText(message, lang)) : [];
  const goTo = (pos: number): void => {
    const view = doc.editor?.view;
    if (!view) return;
    view.dispatch({ selection: { anchor: Math.min(pos, view.state.doc.length) }, scrollIntoView: true });
    view.focus();
  };
  return (
    <div id={`${prefix}-errors`} role="alert">
      {errors.length ? (
        <>
          <h4>{t('errorsTitle')}</h4>
          <ul class="sp-error-list">
            {located.map((d, i) => (
              <li data-path={errors[i]!.path ?? ''}>
                <button type="button" class="link" onClick={() => goTo(d.from)}>
                  {t('errorAt', { line: d.line })}
                </button>{' '}
                {d.message}
              </li>
            ))}
          </ul>
        </>
      ) : null}
    </div>
  );
}

/** The diff: the edits against the running version, what a save changed, or a version of the history against the running one. */
export function DiffView<V>({ doc, prefix }: { doc: ConfigDocument<V>; prefix: string }) {
  const host = useRef<HTMLDivElement>(null);
  const mode = doc.diff.value;
  const running = doc.runningText.value;
  const version = doc.runningVersion();
  let before: string;
  let after: string;
  let title: string;
  if (mode.kind === 'saved') {
    [before, after] = [mode.before, mode.after];
    title = t('diffSaved', { from: mode.from, to: mode.to });
  } else if (mode.kind === 'version') {
    [before, after] = [mode.text, running];
    title = t('diffVersion', { version: mode.version, running: version });
  } else {
    [before, after] = [running, doc.settled.value];
    title = before === after ? t('diffNone') : t('diffEditing', { version });
  }
  const lang = language.value;
  // CodeMirror's merge view, drawn again when what it compares or the language (its own words) changes.
  useEffect(() => {
    if (host.current) doc.kit.showDiff(host.current, before, after);
  }, [before, after, lang]);
  useEffect(
    () => () => {
      if (host.current) doc.kit.showDiff(host.current, '', '');
    },
    [],
  );
  return (
    <>
      <p id={`${prefix}-diff-title`} class="hint">
        {title}
      </p>
      <div id={`${prefix}-diff`} class="sp-diff" data-mode={mode.kind} ref={host} />
    </>
  );
}

/** The history of versions: each can be viewed; an admin may roll back to any but the running one (or a removal). */
export function HistoryTable<V>({ doc, prefix, canRollback }: { doc: ConfigDocument<V>; prefix: string; canRollback: boolean }) {
  const running = doc.runningVersion();
  const lang = language.value;
  const busy = doc.busy.value;
  return (
    <div class="table-wrap">
      <table id={`${prefix}-history`} class="data">
        <thead>
          <tr>
            <th scope="col">{t('hVersion')}</th>
            <th scope="col">{t('hAt')}</th>
            <th scope="col">{t('hWho')}</th>
            <th scope="col">{t('hSource')}</th>
            <th scope="col">{t('hSummary')}</th>
            <th scope="col">{t('hAction')}</th>
          </tr>
        </thead>
        <tbody>
          {doc.history.value.map((v) => {
            const current = v.version === running;
            return (
              <tr data-version={String(v.version)} class={current ? 'sp-running' : undefined}>
                <td class="nowrap">
                  {`v${v.version}`}
                  {current ? (
                    <>
                      {' '}
                      <span class="badge ok">{t('current')}</span>
                    </>
                  ) : null}
                </td>
                <td class="nowrap">
                  <When iso={v.at} />
                </td>
                <td>{whoWords(v.who, lang)}</td>
                <td>{t(v.source === 'file' ? 'file' : 'api')}</td>
                <td class="wrap" title={v.summary}>
                  {summaryWords(v.summary, lang)}
                  {v.reason ? <div class="hint">{v.reason}</div> : null}
                  {v.applyError ? <div class="hint bad-text">{t('applyError', { message: v.applyError })}</div> : null}
                </td>
                <td class="nowrap">
                  {/* The version that removed a system has no content to view or go back to. */}
                  {v.removed ? null : (
                    <button type="button" class="link" aria-label={t('viewLabel', { version: v.version })} onClick={() => void doc.viewVersion(v.version, `${prefix}-diff`)}>
                      {t('view')}
                    </button>
                  )}
                  {canRollback && !current && !v.removed ? (
                    <>
                      {' '}
                      <button type="button" class="secondary sp-act" disabled={busy} aria-label={t('rollbackLabel', { version: v.version })} onClick={() => doc.askRollback(v.version)}>
                        {t('rollback')}
                      </button>
                    </>
                  ) : null}
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}
