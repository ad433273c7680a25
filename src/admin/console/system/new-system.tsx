/**
 * Adding a legacy system (`#new-system`, the board's "add a system", admin only): a template per
 * protocol in the configuration editor, then a PUT of the id written in the YAML with
 * `If-None-Match: *`, so a system that exists is never replaced. The gateway validates it as a file
 * at start-up; its errors go to their lines. Once added, the system's own page opens and says so.
 */
import { signal } from '@preact/signals';
import { useEffect, useRef, useState } from 'preact/hooks';
import { answer, api, ApiProblem, type Schemas } from '../api';
import { t } from '../language';
import { openPage, systemHash } from '../nav';
import { may } from '../session';
import { EditedConfig, loadKit, problemLines, type Kit } from './document';
import { BackLink, ErrorList, NoticeView } from './parts';
import { TEMPLATES, type TemplateProtocol } from './templates';

const PROTOCOLS = Object.keys(TEMPLATES) as TemplateProtocol[];

/** A system just added, for its page to say so when it opens. */
let added: { id: string; version: number } | undefined;

/** The version `id` was added at, if it was just added here (said once). */
export function takeAdded(id: string): number | undefined {
  const version = added?.id === id ? added.version : undefined;
  added = undefined;
  return version;
}

class NewSystem extends EditedConfig {
  readonly protocol = signal<TemplateProtocol>('rest');

  constructor(kit: Kit) {
    super(kit);
  }

  /** Another protocol's template in the editor (what was typed is replaced: a template is a start). */
  pick(protocol: TemplateProtocol): void {
    this.protocol.value = protocol;
    this.showErrors([]);
    this.notice.value = undefined;
    this.setText(TEMPLATES[protocol]);
  }

  async create(): Promise<void> {
    if (this.busy.peek() || !may('admin')) return;
    const system = this.parsed();
    if (system === undefined) return;
    const id = system && typeof system === 'object' && 'id' in system && typeof system.id === 'string' ? system.id.trim() : '';
    if (!id) {
      this.notice.value = { kind: 'error', text: () => t('newNoId') };
      return;
    }
    await this.busyWith(async () => {
      try {
        // Only added: a system of that id is never replaced (412). Its shape is the gateway's to judge.
        const put = { params: { path: { id }, header: { 'If-None-Match': '*' as const } }, body: system as Schemas['SystemFile'] };
        const shown = await answer(api.PUT('/api/v1/admin/systems/{id}', put));
        added = { id: shown.id, version: shown.version };
        // The system's own page takes over (this one closes on the change of address).
        openPage(systemHash(shown.id));
      } catch (err) {
        if (err instanceof ApiProblem && err.status === 412) this.notice.value = { kind: 'error', text: () => t('newExists', { id }), actions: [{ label: 'openExisting', run: () => openPage(systemHash(id)) }] };
        else if (!this.refusedAsInvalid(err, 'notAdded')) this.failed(err);
      }
    });
  }
}

function NewSystemView({ page }: { page: NewSystem }) {
  const host = useRef<HTMLDivElement>(null);
  useEffect(() => {
    page.mount(host.current!, { label: t('newTitle'), readOnly: false, text: TEMPLATES[page.protocol.peek()], onSave: () => void page.create() });
    return () => page.destroy();
  }, [page]);
  return (
    <>
      <div class="toolbar sp-head">
        <BackLink />
        <h2>{t('newTitle')}</h2>
      </div>
      <p class="hint">{t('newHint')}</p>
      <NoticeView doc={page} prefix="ns" />
      <div class="toolbar">
        <label class="inline" for="ns-protocol">
          {t('newProtocol')}
        </label>
        <select id="ns-protocol" value={page.protocol.value} onChange={(e) => page.pick(e.currentTarget.value as TemplateProtocol)}>
          {PROTOCOLS.map((protocol) => (
            <option value={protocol}>{protocol.toUpperCase()}</option>
          ))}
        </select>
        <div class="spacer" />
        <button type="button" id="ns-create" class="primary sp-act" disabled={page.busy.value} aria-label={t('newCreateLabel')} onClick={() => void page.create()}>
          {t('newCreate')}
        </button>
      </div>
      <p class="hint">{t('newTemplateNote')}</p>
      <div id="ns-editor" class="sp-editor" ref={host} />
      <ErrorList doc={page} prefix="ns" />
    </>
  );
}

function NewSystemEditor() {
  const [page, setPage] = useState<NewSystem | { failed: unknown } | undefined>(undefined);
  useEffect(() => {
    let open = true;
    loadKit().then(
      (kit) => open && setPage(new NewSystem(kit)),
      (err: unknown) => open && setPage({ failed: err }),
    );
    return () => {
      open = false;
    };
  }, []);
  if (!page) return <p class="hint">{t('loading')}</p>;
  if (!(page instanceof NewSystem))
    return (
      <>
        <BackLink />
        <div class="message error" role="alert">
          {problemLines(page.failed).map((line) => (
            <div>{line}</div>
          ))}
        </div>
      </>
    );
  return <NewSystemView page={page} />;
}

/** The page: an admin's; anyone else is told so. */
export function NewSystemPage() {
  if (may('admin')) return <NewSystemEditor />;
  return (
    <>
      <BackLink />
      <p class="message error" role="alert" id="ns-admin-only">
        {t('newAdminOnly')}
      </p>
    </>
  );
}
