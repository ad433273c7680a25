/**
 * Where the console is: the tab chosen (a tab `tab-x` shows the panel `panel-x`), or a page of the
 * systems board in their place, named by the address (`#system/<id>`, `#new-system`) so that a link
 * can open it and Back leave it. Choosing a tab shows its panel and has it load (each view says how,
 * onTabShown).
 */
import { batch, signal } from '@preact/signals';
import { onSignOut, signedIn } from './session';

export const TABS = ['systems', 'dead', 'case', 'audit', 'unmatched', 'lookups', 'reports', 'routes'] as const;
export type TabName = (typeof TABS)[number];

/** A page that belongs to the systems board, shown instead of the panels (the board's tab highlighted). */
export type BoardPage = { kind: 'system'; id: string } | { kind: 'new-system' };

export const NEW_SYSTEM_HASH = '#new-system';

export const tab = signal<TabName>('systems');
export const boardPage = signal<BoardPage | undefined>(pageOf(location.hash));

function pageOf(hash: string): BoardPage | undefined {
  if (hash === NEW_SYSTEM_HASH) return { kind: 'new-system' };
  const system = /^#system\/([^/?#]+)$/.exec(hash);
  if (system) {
    try {
      return { kind: 'system', id: decodeURIComponent(system[1]!) };
    } catch {
      return undefined; // not a system id
    }
  }
  return undefined;
}

export const systemHash = (id: string): string => `#system/${encodeURIComponent(id)}`;

const loaders = new Map<TabName, () => void>();

/** `load` runs each time the tab is chosen (a click on the tab shown reads it again too). */
export function onTabShown(name: TabName, load: () => void): void {
  loaders.set(name, load);
}

/** Leaves a board page (if one is shown) without choosing a tab; the address forgets it. */
function leavePage(): void {
  boardPage.value = undefined;
  if (pageOf(location.hash)) history.replaceState(null, '', location.pathname + location.search);
}

export function selectTab(name: TabName, focusTab = false): void {
  batch(() => {
    leavePage();
    tab.value = name;
  });
  if (focusTab) document.getElementById(`tab-${name}`)?.focus();
  loaders.get(name)?.();
}

/** Opens a board page: by its address, so Back goes back to the board. */
export function openPage(hash: string): void {
  location.hash = hash;
}

window.addEventListener('hashchange', () => {
  const next = pageOf(location.hash);
  if (next) boardPage.value = next;
  else if (boardPage.value) selectTab('systems');
});

// Signed out, a page shown is left; a deep link typed before signing in is kept for after.
onSignOut(() => {
  if (signedIn.peek() && boardPage.value) leavePage();
});
