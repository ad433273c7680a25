/**
 * The legacy systems as the gateway lists them (GET /admin/systems), problem systems first: read by
 * the board, and by every view that names a system (dead letters, cases, the system page). Read
 * again every 5 s while the board's auto-refresh is on and the tab is in view.
 */
import { computed, signal } from '@preact/signals';
import { answer, api, ApiProblem, type Schemas } from './api';
import { t } from './language';
import { onSignOut, signedIn } from './session';
import { beijing } from './time';
import { describe, report } from './ui';

export type SystemStatus = Schemas['SystemStatus'];
type Problem = Schemas['Problem'];

const REFRESH_MS = 5000;
const LEVEL_ORDER: Readonly<Record<SystemStatus['level'], number>> = { national: 0, provincial: 1, city: 2 };
// The API's order of urgency: a system with a problem is listed before every system without one.
export const PROBLEM_ORDER: readonly Problem[] = ['circuit_open', 'unreachable', 'paused', 'window_closed', 'failing', 'dead_letters', 'apply_error'];

export const systems = signal<readonly SystemStatus[]>([]);
/** When the list was last read, or why the last background refresh failed. */
export const refreshed = signal<{ at?: string; failed?: string }>({});
/** The board's "auto-refresh every 5 s". */
export const autoRefresh = signal(true);

export const deadLetterTotal = computed(() => systems.value.reduce((n, s) => n + s.deadLetters, 0));

export function problemRank(s: SystemStatus): number {
  const first = s.problems.length ? PROBLEM_ORDER.indexOf(s.problems[0]!) : -1;
  return first < 0 ? PROBLEM_ORDER.length : first;
}

export function systemName(id: string): string {
  return systems.value.find((s) => s.id === id)?.name ?? '';
}

export function showSystems(list: readonly SystemStatus[]): void {
  systems.value = [...list].sort((a, b) => problemRank(a) - problemRank(b) || LEVEL_ORDER[a.level] - LEVEL_ORDER[b.level] || a.id.localeCompare(b.id));
  refreshed.value = { at: new Date().toISOString() };
}

/** One system's status as an action answered it (a pause, a resume). */
export function showSystem(status: SystemStatus): void {
  showSystems(systems.peek().map((s) => (s.id === status.id ? status : s)));
}

let loading = false;

/** Reads the list again; a background refresh (`quiet`) says a failure in place instead of a toast every 5 s. */
export async function loadSystems(quiet = false): Promise<void> {
  if (loading) return;
  loading = true;
  try {
    showSystems(await answer(api.GET('/api/v1/admin/systems')));
  } catch (err) {
    if (quiet && !(err instanceof ApiProblem && err.auth)) {
      const last = refreshed.peek().at;
      const why = describe(err).lines.filter(Boolean).join(' — ');
      refreshed.value = { at: last, failed: last ? t('refreshFailedSince', { why, at: beijing(last) }) : t('refreshFailed', { why }) };
    } else report(t('systemsFailed'), err);
  } finally {
    loading = false;
  }
}

function refreshInBackground(): void {
  if (signedIn.peek() && !document.hidden && autoRefresh.peek()) void loadSystems(true);
}

window.setInterval(refreshInBackground, REFRESH_MS);
document.addEventListener('visibilitychange', refreshInBackground);

onSignOut(() => {
  systems.value = [];
  refreshed.value = {};
});
