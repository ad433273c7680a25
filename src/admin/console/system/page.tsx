/**
 * A legacy system's page (`#system/<id>`, opened by the link on each system's id on the board): its
 * configuration in the code editor, saved with If-Match as a new version, the gateway's validation
 * errors at their lines, a diff against the running version, the history with view and rollback,
 * reset to the file, pause and resume, and a dry run of a case against the running or the edited
 * configuration. A viewer gets a read-only editor and no buttons it may not use; an operator may
 * edit to dry-run but not save. Unsaved edits left behind come back when the page opens again on
 * the same version (this tab only, forgotten at sign-out).
 */
import { signal } from '@preact/signals';
import { useEffect, useRef, useState } from 'preact/hooks';
import { answer, api, ApiProblem, type Schemas } from '../api';
import { t } from '../language';
import { may, onSignOut, signedIn } from '../session';
import { loadSystems, showSystem, systems } from '../systems';
import { ConfigDocument, loadKit, problemLines, type Kit, type VersionedSource } from './document';
import { takeAdded } from './new-system';
import { BackLink, ConfirmView, DiffView, ErrorList, HistoryTable, NoticeView } from './parts';
import type { WordKey } from '../words';

type SystemVersion = Schemas['SystemVersion'];
type DryRunAnswer = Schemas['DryRunAnswer'];
/** A dry run's answer, or why there is none; `sealed`: whether the configuration run has `seal` on. */
type Dry = { answer: DryRunAnswer; sealed: boolean } | { problem: unknown };

/** Unsaved edits of a page left (by a tab, Back or another system), by system id. */
const drafts = new Map<string, { text: string; version: number }>();
/** Whether the page shown has unsaved edits (a reload or a closed tab asks first). */
let unsaved = (): boolean => false;

onSignOut(() => drafts.clear());
window.addEventListener('beforeunload', (event) => {
  if (unsaved()) event.preventDefault();
});

function systemSource(kit: Kit, id: string): VersionedSource<SystemVersion> {
  const path = { params: { path: { id } } };
  const ifMatch = (value: string) => ({ params: { path: { id }, header: { 'If-Match': value } } });
  return {
    latest: () => answer(api.GET('/api/v1/admin/systems/{id}', path)),
    history: () => answer(api.GET('/api/v1/admin/systems/{id}/history', path)),
    textOf: async (version) => kit.toYaml((await answer(api.GET('/api/v1/admin/systems/{id}/history/{version}', { params: { path: { id, version } } }))).system),
    // The edited YAML as the document it is: the gateway validates it as it validates its files.
    save: (document, match) => answer(api.PUT('/api/v1/admin/systems/{id}', { ...ifMatch(match), body: document as Schemas['SystemFile'] })),
    rollback: (version, reason, match) => answer(api.POST('/api/v1/admin/systems/{id}/rollback', { ...ifMatch(match), body: { version, ...(reason ? { reason } : {}) } })),
    versionOf: (shown) => shown.version,
    textFor: (shown) => kit.toYaml(shown.system),
  };
}

class SystemPageModel {
  readonly doc: ConfigDocument<SystemVersion>;
  readonly dry = signal<Dry | undefined>(undefined);

  constructor(
    readonly kit: Kit,
    readonly id: string,
    running: SystemVersion,
    history: Schemas['VersionInfo'][],
  ) {
    this.doc = new ConfigDocument(kit, systemSource(kit, id), { saved: 'saved', stale: 'stale', rolledBack: 'rolledBack', rollbackConfirm: 'rollbackConfirm' }, () => may('admin'), running, history);
  }

  /** The editor in `host`; the edits left here before, if they were made on the version running now. */
  mount(host: HTMLElement): void {
    const doc = this.doc;
    doc.mountRunning(host, { label: `${this.id} YAML`, readOnly: !may('operator') });
    const draft = drafts.get(this.id);
    drafts.delete(this.id);
    const version = doc.version();
    const addedAt = takeAdded(this.id);
    if (addedAt !== undefined) {
      doc.notice.value = { kind: 'ok', text: () => t('added', { id: this.id, version: addedAt }) };
    } else if (draft && draft.version === version) {
      doc.setText(draft.text);
      doc.notice.value = { kind: 'info', text: () => t('draftRestored', { version }) };
    } else if (draft) {
      // Saved on top of a newer version, the edits would undo someone's change unseen.
      doc.notice.value = { kind: 'info', text: () => t('draftDropped', { old: draft.version, version }) };
    }
    unsaved = () => doc.dirty.peek();
  }

  /** The page is left: unsaved edits are kept for its return (not past a sign-out). */
  leave(): void {
    if (signedIn.peek() && this.doc.dirty.peek()) drafts.set(this.id, { text: this.doc.text.peek(), version: this.doc.version() });
    unsaved = () => false;
    this.doc.destroy();
  }

  askReset(): void {
    const doc = this.doc;
    doc.ask({
      text: () => t('resetConfirm'),
      okLabel: 'reset',
      run: (reason) =>
        doc.busyWith(async () => {
          try {
            const shown = await answer(api.POST('/api/v1/admin/systems/{id}/reset', { params: { path: { id: this.id }, header: { 'If-Match': `"${doc.version()}"` } }, body: reason ? { reason } : {} }));
            await doc.stored(shown, { kind: 'ok', text: () => t('saved', { version: shown.version }) });
          } catch (err) {
            await doc.refused(err);
          }
        }),
    });
  }

  askPause(): void {
    const doc = this.doc;
    const id = this.id;
    const pausing = !systems.peek().find((s) => s.id === id)?.paused;
    doc.ask({
      text: () => t(pausing ? 'pauseLabel' : 'resumeLabel', { id }),
      okLabel: pausing ? 'pause' : 'resume',
      run: (reason) =>
        doc.busyWith(async () => {
          const body = reason ? { reason } : {};
          try {
            showSystem(await answer(pausing ? api.POST('/api/v1/admin/systems/{id}/pause', { params: { path: { id } }, body }) : api.POST('/api/v1/admin/systems/{id}/resume', { params: { path: { id } }, body })));
            doc.notice.value = { kind: 'ok', text: () => t(pausing ? 'pausedDone' : 'resumedDone', { id }) };
          } catch (err) {
            doc.failed(err);
          }
        }),
    });
  }

  async dryRun(form: { caseId: string; proposed: boolean; reply: string }): Promise<void> {
    const doc = this.doc;
    const proposed = form.proposed && doc.dirty.peek();
    const body: Schemas['DryRunBody'] = {};
    if (form.caseId) body.caseId = form.caseId;
    if (form.reply) {
      try {
        body.reply = JSON.parse(form.reply) as unknown;
      } catch {
        this.dry.value = { problem: new ApiProblem(0, 'invalid_request', t('dryReplyInvalid')) };
        return;
      }
    }
    if (proposed) {
      const system = doc.parsed();
      if (system === undefined) return;
      // The edited YAML as it is: the gateway validates it before the dry run.
      body.system = system as Schemas['SystemFile'];
    }
    await doc.busyWith(async () => {
      try {
        const ran = await answer(api.POST('/api/v1/admin/systems/{id}/dry-run', { params: { path: { id: this.id } }, body }));
        const used = body.system ?? doc.running.peek().system;
        this.dry.value = { answer: ran, sealed: used.seal !== false };
        if (proposed) doc.showErrors([]);
      } catch (err) {
        this.dry.value = { problem: err };
        // A proposed configuration the gateway refuses: its errors at their lines, as for a save.
        if (proposed && err instanceof ApiProblem && err.code === 'invalid_config') doc.showErrors(err.details);
      }
    });
  }
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

const CASE_SOURCE: Readonly<Record<DryRunAnswer['caseSource'], WordKey>> = { stored: 'caseStored', given: 'caseGiven', sample: 'caseSample' };

type DryMaterial = NonNullable<DryRunAnswer['materials']>[number];
const HANDOVER: Readonly<Record<DryMaterial['handover'], WordKey>> = { uri: 'matUri', base64: 'matBase64', 'form-data': 'matFormData', mtom: 'matMtom' };
const FETCHED: Readonly<Record<DryMaterial['state'], WordKey>> = { fetched: 'matFetched', not_fetched_yet: 'matNotFetched', by_reference: 'matByReference' };

/** The materials of a dry run: what each is, how it would be handed over, whether it was fetched (sizes and digests, never bytes). */
function DryMaterials({ materials }: { materials: readonly DryMaterial[] }) {
  return (
    <table class="data" id="sp-dry-materials">
      <thead>
        <tr>
          <th scope="col">{t('matKind')}</th>
          <th scope="col">{t('matName')}</th>
          <th scope="col">{t('matSize')}</th>
          <th scope="col">sha256</th>
          <th scope="col">{t('matHandover')}</th>
          <th scope="col">{t('matState')}</th>
        </tr>
      </thead>
      <tbody>
        {materials.map((m) => (
          <tr>
            <td class="mono">{m.kind}</td>
            <td>{m.name}</td>
            <td class="num">{m.size === undefined ? '—' : m.size}</td>
            <td class="mono" title={m.sha256 ?? ''}>
              {m.sha256 ? `${m.sha256.slice(0, 12)}…` : '—'}
            </td>
            <td>{t(HANDOVER[m.handover], { field: m.field ?? '' })}</td>
            <td>{t(FETCHED[m.state])}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function DryResult({ dry }: { dry: Dry }) {
  if ('problem' in dry)
    return (
      <div class="message error">
        {problemLines(dry.problem).map((line) => (
          <div>{line}</div>
        ))}
      </div>
    );
  const a = dry.answer;
  const sealName = Object.keys(a.request.headers).find((name) => name.toLowerCase() === 'x-ow-seal');
  return (
    <>
      <dl class="sp-facts">
        <dt>{t('dryUsing')}</dt>
        <dd>{a.proposed ? t('dryUsingProposed') : t('dryUsingVersion', { version: a.version ?? '' })}</dd>
        <dt>{t('dryCaseLine')}</dt>
        <dd>
          <span class="mono">{a.caseId}</span>
          {` (${t(CASE_SOURCE[a.caseSource])})`}
        </dd>
        <dt>{t('dryRequest')}</dt>
        <dd>
          <span class="mono" id="sp-dry-endpoint">{`${a.request.method} ${a.request.endpoint}`}</span>
        </dd>
      </dl>
      <h4>{t('dryHeaders')}</h4>
      <table class="data sp-headers">
        <tbody>
          {Object.entries(a.request.headers).map(([name, value]) => (
            // The seal is kilobytes of base64: its start here, its JSON below.
            <tr class={name === sealName ? 'sp-seal' : undefined}>
              <th scope="row" class="mono nowrap">
                {name}
              </th>
              <td class="mono wrap">{name === sealName && value.length > 64 ? `${value.slice(0, 64)}…` : value}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <h4>
        {t('dryBody')}{' '}
        <span class="hint" id="sp-dry-charset">
          {t('dryCharset', { charset: a.request.charset, bytes: a.request.byteLength })}
        </span>
      </h4>
      <pre id="sp-dry-body" class="sp-pre">
        {a.request.body}
      </pre>
      {a.materials?.length ? (
        <>
          <h4>{t('dryMaterials')}</h4>
          <DryMaterials materials={a.materials} />
        </>
      ) : null}
      <h4>{t('drySeal')}</h4>
      {sealName ? (
        <>
          <p class="hint" id="sp-dry-seal-preview">
            {t('drySealPreview')}
          </p>
          <pre id="sp-dry-seal" class="sp-pre sp-wrap">
            {sealText(a.request.headers[sealName]!)}
          </pre>
        </>
      ) : (
        <p class="hint" id="sp-dry-seal" data-sealed={String(dry.sealed)}>
          {t(dry.sealed ? 'drySealAtSend' : 'dryNoSeal')}
        </p>
      )}
      {a.reply ? (
        <>
          <h4>{t('dryReplyTitle')}</h4>
          <dl class="sp-facts" id="sp-dry-reply-result">
            <dt>{t('success')}</dt>
            <dd>{t(a.reply.success ? 'yes' : 'no')}</dd>
            {a.reply.receiptNo ? (
              <>
                <dt>{t('receiptNo')}</dt>
                <dd>
                  <span class="mono">{a.reply.receiptNo}</span>
                </dd>
              </>
            ) : null}
            {a.reply.error ? (
              <>
                <dt>{t('error')}</dt>
                <dd>{a.reply.error}</dd>
              </>
            ) : null}
            <dt>{t('retryable')}</dt>
            <dd>{t(a.reply.retryable ? 'yes' : 'no')}</dd>
          </dl>
        </>
      ) : null}
      <p class="hint">{t('notSent')}</p>
    </>
  );
}

function DryRun({ page }: { page: SystemPageModel }) {
  const caseId = useRef<HTMLInputElement>(null);
  const proposed = useRef<HTMLInputElement>(null);
  const reply = useRef<HTMLTextAreaElement>(null);
  const dry = page.dry.value;
  return (
    <section class="card sp-dry" aria-labelledby="sp-dry-title">
      <h3 id="sp-dry-title">{t('dryTitle')}</h3>
      <p class="hint">{t('dryHint')}</p>
      <form
        id="sp-dry-form"
        noValidate
        onSubmit={(event) => {
          event.preventDefault();
          void page.dryRun({ caseId: caseId.current!.value.trim(), proposed: proposed.current!.checked, reply: reply.current!.value.trim() });
        }}
      >
        <div class="field">
          <label for="sp-dry-case">{t('dryCase')}</label>
          <input id="sp-dry-case" ref={caseId} type="search" maxLength={64} spellcheck={false} placeholder="QZ-20261128-000001" />
        </div>
        <label class="inline check">
          <input id="sp-dry-proposed" ref={proposed} type="checkbox" defaultChecked /> <span>{t('dryProposed')}</span>
        </label>
        <div class="field">
          <label for="sp-dry-reply">{t('dryReply')}</label>
          <textarea id="sp-dry-reply" ref={reply} rows={3} spellcheck={false} placeholder={'{"code": "0", "data": {"slbh": "SL-1"}}'} />
        </div>
        <button type="submit" id="sp-dry-run" class="primary sp-act" disabled={page.doc.busy.value}>
          {t('dryRun')}
        </button>
      </form>
      <div id="sp-dry-result" aria-live="polite">
        {dry ? <DryResult dry={dry} /> : null}
      </div>
    </section>
  );
}

function SystemPageView({ page }: { page: SystemPageModel }) {
  const host = useRef<HTMLDivElement>(null);
  useEffect(() => {
    page.mount(host.current!);
    return () => page.leave();
  }, [page]);
  const doc = page.doc;
  const admin = may('admin');
  const operator = may('operator');
  const busy = doc.busy.value;
  const dirty = doc.dirty.value;
  const running = doc.running.value;
  const status = systems.value.find((s) => s.id === page.id);
  const paused = Boolean(status?.paused);
  // Paused first (it sends nothing either way), then the circuit: "running" only while it takes cases.
  const circuit = status?.circuit.state ?? 'closed';
  const [state, tone]: [WordKey, string] = paused ? ['paused', 'warn'] : circuit === 'open' ? ['circuitOpen', 'bad'] : circuit === 'half_open' ? ['circuitHalfOpen', 'warn'] : ['running', 'ok'];
  return (
    <>
      <div class="toolbar sp-head">
        <BackLink />
        <h2>
          <span id="sp-name">{status?.name ?? running.system.name}</span> <span id="sp-id" class="mono">{page.id}</span>
        </h2>
        <span id="sp-version" class="badge info">
          {t('version', { version: running.version })}
        </span>
        <span id="sp-source" class="badge muted" data-source={running.source}>
          {t(running.source === 'file' ? 'sourceFile' : 'sourceApi')}
        </span>
        <span id="sp-paused" class={`badge ${tone}`} data-state={paused ? 'paused' : circuit}>
          {t(state)}
        </span>
        <div class="spacer" />
        {operator ? (
          <button type="button" id="sp-pause" class="secondary sp-act" disabled={busy} aria-label={t(paused ? 'resumeLabel' : 'pauseLabel', { id: page.id })} onClick={() => page.askPause()}>
            {t(paused ? 'resume' : 'pause')}
          </button>
        ) : null}
      </div>
      <NoticeView doc={doc} prefix="sp" />
      <ConfirmView doc={doc} prefix="sp" />
      <div class="sp-grid">
        <div class="sp-main">
          <div class="toolbar">
            <h3>{t('configTitle')}</h3>
            <span id="sp-dirty" class={dirty ? 'hint warn-text' : 'hint'}>
              {t(dirty ? 'unsaved' : 'noChanges')}
            </span>
            <div class="spacer" />
            {admin ? (
              <button type="button" id="sp-save" class="primary sp-act" disabled={busy} aria-label={t('saveLabel')} onClick={() => void doc.save()}>
                {t('save')}
              </button>
            ) : null}
            {operator ? (
              <button type="button" id="sp-revert" class="secondary sp-act" disabled={busy || !dirty} onClick={() => doc.revert()}>
                {t('revert')}
              </button>
            ) : null}
            {admin ? (
              <button type="button" id="sp-reset" class="secondary sp-act" disabled={busy} onClick={() => page.askReset()}>
                {t('reset')}
              </button>
            ) : null}
          </div>
          {admin ? null : <p class="hint">{t(operator ? 'operatorEdit' : 'readOnly')}</p>}
          <div id="sp-editor" class="sp-editor" ref={host} />
          <ErrorList doc={doc} prefix="sp" />
          <h3>{t('diffTitle')}</h3>
          <DiffView doc={doc} prefix="sp" />
          <section class="sp-history" aria-labelledby="sp-history-title">
            <h3 id="sp-history-title">{t('historyTitle')}</h3>
            <HistoryTable doc={doc} prefix="sp" canRollback={admin} />
          </section>
        </div>
        <div class="sp-side">{operator ? <DryRun page={page} /> : null}</div>
      </div>
    </>
  );
}

type Opening = { kind: 'loading' } | { kind: 'failed'; err: unknown } | { kind: 'shown'; page: SystemPageModel };

/** The page of system `id` (keyed by it: another system is another page). */
export function SystemPage({ id }: { id: string }) {
  const [opening, setOpening] = useState<Opening>({ kind: 'loading' });
  useEffect(() => {
    let open = true;
    const path = { params: { path: { id } } };
    Promise.all([loadKit(), answer(api.GET('/api/v1/admin/systems/{id}', path)), answer(api.GET('/api/v1/admin/systems/{id}/history', path)), loadSystems(true)])
      .then(([kit, shown, history]) => {
        if (open) setOpening({ kind: 'shown', page: new SystemPageModel(kit, id, shown, history) });
      })
      .catch((err: unknown) => {
        if (open) setOpening({ kind: 'failed', err });
      });
    return () => {
      open = false;
    };
  }, [id]);
  if (opening.kind === 'loading') return <p class="hint">{t('loading')}</p>;
  if (opening.kind === 'failed')
    return (
      <>
        <BackLink />
        <div class="message error" role="alert">
          {problemLines(opening.err).map((line) => (
            <div>{line}</div>
          ))}
        </div>
      </>
    );
  return <SystemPageView page={opening.page} />;
}

