/**
 * Who is signed in: the ops token and the operator's name, kept in this tab's sessionStorage only
 * (gone when the tab closes, never in the URL or localStorage), and the token's role as the gateway
 * said it (GET /admin/whoami). The console builds no control the role may not use; the API checks
 * every call anyway. Signing out (or the API refusing the token) forgets what every view was shown.
 */
import { batch, signal } from '@preact/signals';
import type { components } from './openapi';

const TOKEN_KEY = 'ow.console.token';
const NAME_KEY = 'ow.console.operator';

export type Role = components['schemas']['Whoami']['role'];

/** Ops roles, least first: each may do what the ones before it may. */
const ROLE_ORDER: readonly Role[] = ['viewer', 'operator', 'admin'];

export const isRole = (value: unknown): value is Role => ROLE_ORDER.includes(value as Role);

/** The token's role; undefined when signed out. */
export const role = signal<Role | undefined>(undefined);
/** Whether the app is shown (else the sign-in form). */
export const signedIn = signal(false);
/** What the sign-in form says: why it is shown, or how signing in goes. */
export const loginMessage = signal('');
/** Counts the sign-outs: the form, shown again, forgets the token typed before. */
export const signOuts = signal(0);

export const token = (): string | null => sessionStorage.getItem(TOKEN_KEY);
export const operatorName = (): string => sessionStorage.getItem(NAME_KEY) ?? '';

export function remember(newToken: string, name: string): void {
  sessionStorage.setItem(TOKEN_KEY, newToken);
  sessionStorage.setItem(NAME_KEY, name);
}

export function forgetToken(): void {
  sessionStorage.removeItem(TOKEN_KEY);
}

/** Whether the signed-in role may do what `needed` may (read in a view, it draws again when the role changes). */
export function may(needed: Role): boolean {
  const current = role.value;
  return current !== undefined && ROLE_ORDER.indexOf(current) >= ROLE_ORDER.indexOf(needed);
}

const forgetters: Array<() => void> = [];

/** `forget` runs at every sign-out: what the last token was shown is dropped, so the next one never sees it. */
export function onSignOut(forget: () => void): void {
  forgetters.push(forget);
}

/** Back to the sign-in form, saying `why`; the token is forgotten, and everything it was shown. */
export function signOut(why: string): void {
  forgetToken();
  batch(() => {
    // Before the app is hidden: a forgetter may ask whether it was shown (signedIn.peek()).
    for (const forget of forgetters) forget();
    role.value = undefined;
    signedIn.value = false;
    loginMessage.value = why;
    signOuts.value++;
  });
}
