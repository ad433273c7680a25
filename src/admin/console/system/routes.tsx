/**
 * The routes tab (路由): the routing table (routes.yaml) in the configuration editor with its version,
 * read-only below admin; an admin saves it with If-Match as a new version (the gateway checks every
 * target is a system that runs; its errors go to their lines), is told of a version saved
 * meanwhile, and views or rolls back to any version of the history. Unsaved edits stay while other
 * tabs are chosen; coming back reads the history again (and, with nothing unsaved, the latest version).
 */
import { signal } from '@preact/signals';
import { useEffect, useRef } from 'preact/hooks';
import { answer, api, ApiProblem } from '../api';
import { t } from '../language';
import type { paths } from '../openapi';
import { onTabShown } from '../nav';
import { may, onSignOut, signedIn } from '../session';
import { ConfigDocument, loadKit, problemLines, type Kit, type VersionedSource } from './document';
import { ConfirmView, DiffView, ErrorList, HistoryTable, NoticeView } from './parts';

type RoutesVersion = paths['/api/v1/admin/routes']['get']['responses'][200]['content']['application/json'];
type RoutesFile = paths['/api/v1/admin/routes']['put']['requestBody']['content']['application/json'];

const routes = signal<ConfigDocument<RoutesVersion> | undefined>(undefined);
const failure = signal<unknown>(undefined);

/** routes.yaml as the editor shows it: the answer without its version and source. */
function routesText(kit: Kit, shown: { routes: RoutesVersion['routes']; unrouted?: string }): string {
  return kit.toYaml({ routes: shown.routes, ...(shown.unrouted !== undefined ? { unrouted: shown.unrouted } : {}) });
}

function routesSource(kit: Kit): VersionedSource<RoutesVersion> {
  const ifMatch = (value: string) => ({ params: { header: { 'If-Match': value } } });
  return {
    latest: () => answer(api.GET('/api/v1/admin/routes')),
    history: () => answer(api.GET('/api/v1/admin/routes/history')),
    textOf: async (version) => routesText(kit, await answer(api.GET('/api/v1/admin/routes/history/{version}', { params: { path: { version } } }))),
    // The edited YAML as it is: the gateway checks it as it checks routes.yaml.
    save: (document, match) => answer(api.PUT('/api/v1/admin/routes', { ...ifMatch(match), body: document as RoutesFile })),
    rollback: (version, reason, match) => answer(api.POST('/api/v1/admin/routes/rollback', { ...ifMatch(match), body: { version, ...(reason ? { reason } : {}) } })),
    versionOf: (shown) => shown.version,
    textFor: (shown) => routesText(kit, shown),
  };
}

async function loadRoutes(): Promise<void> {
  const shown = routes.peek();
  if (shown?.dirty.peek()) return shown.reloadHistory();
  try {
    const [kit, latest, history] = await Promise.all([loadKit(), answer(api.GET('/api/v1/admin/routes')), answer(api.GET('/api/v1/admin/routes/history'))]);
    if (!signedIn.peek()) return;
    failure.value = undefined;
    const current = routes.peek();
    if (current) current.showLatest(latest, history);
    else routes.value = new ConfigDocument(kit, routesSource(kit), { saved: 'routesSaved', stale: 'routesStale', rolledBack: 'routesRolledBack', rollbackConfirm: 'routesRollbackConfirm' }, () => may('admin'), latest, history);
  } catch (err) {
    if (!(err instanceof ApiProblem && err.auth)) failure.value = err;
  }
}

onTabShown('routes', () => void loadRoutes());
// Signed out, the page is forgotten: the next token (perhaps a viewer's) gets its own.
onSignOut(() => {
  routes.peek()?.destroy();
  routes.value = undefined;
  failure.value = undefined;
});

function RoutesView({ doc }: { doc: ConfigDocument<RoutesVersion> }) {
  const host = useRef<HTMLDivElement>(null);
  const admin = may('admin');
  useEffect(() => {
    doc.mountRunning(host.current!, { label: 'routes.yaml', readOnly: !may('admin') });
    return () => doc.destroy();
  }, [doc]);
  const running = doc.running.value;
  const busy = doc.busy.value;
  const dirty = doc.dirty.value;
  return (
    <>
      <div class="toolbar sp-head">
        <h2>{t('routesTitle')}</h2>
        <span id="rt-version" class="badge info">
          {t('version', { version: running.version })}
        </span>
        <span id="rt-source" class="badge muted">
          {t(running.source === 'file' ? 'sourceFile' : 'sourceApi')}
        </span>
      </div>
      <p class="hint">{t('routesHint')}</p>
      <NoticeView doc={doc} prefix="rt" />
      <ConfirmView doc={doc} prefix="rt" />
      <div class="toolbar">
        <span id="rt-dirty" class={dirty ? 'hint warn-text' : 'hint'}>
          {t(dirty ? 'unsaved' : 'noChanges')}
        </span>
        <div class="spacer" />
        {admin ? (
          <>
            <button type="button" id="rt-save" class="primary sp-act" disabled={busy} aria-label={t('saveLabel')} onClick={() => void doc.save()}>
              {t('save')}
            </button>
            <button type="button" id="rt-revert" class="secondary sp-act" disabled={busy || !dirty} onClick={() => doc.revert()}>
              {t('revert')}
            </button>
          </>
        ) : null}
      </div>
      {admin ? null : (
        <p class="hint" id="rt-read-only">
          {t('routesReadOnly')}
        </p>
      )}
      <div id="rt-editor" class="sp-editor" ref={host} />
      <ErrorList doc={doc} prefix="rt" />
      <h3>{t('diffTitle')}</h3>
      <DiffView doc={doc} prefix="rt" />
      <section class="sp-history" aria-labelledby="rt-history-title">
        <h3 id="rt-history-title">{t('historyTitle')}</h3>
        <HistoryTable doc={doc} prefix="rt" canRollback={admin} />
      </section>
    </>
  );
}

export function RoutesPanel({ hidden }: { hidden: boolean }) {
  const doc = routes.value;
  const err = failure.value;
  return (
    <section id="panel-routes" role="tabpanel" aria-labelledby="tab-routes" class="panel sp-page" hidden={hidden}>
      {err !== undefined ? (
        <div class="message error" role="alert">
          {problemLines(err).map((line) => (
            <div>{line}</div>
          ))}
        </div>
      ) : doc ? (
        <RoutesView doc={doc} />
      ) : (
        <p class="hint">{t('loading')}</p>
      )}
    </section>
  );
}
