/**
 * Signing in: the ops token and the operator's name (for the audit trail), kept in this tab only;
 * the token's role asked (GET /admin/whoami) before anything is shown. A reload with a token in the
 * tab asks the role again; signing out forgets the token and everything it was shown.
 */
import { batch, signal } from '@preact/signals';
import { useEffect, useRef } from 'preact/hooks';
import { answer, api, ApiProblem } from './api';
import { t, w } from './language';
import { boardPage, selectTab } from './nav';
import { forgetToken, isRole, loginMessage, operatorName, remember, role, signedIn, signOut, signOuts, token } from './session';
import { showSystems } from './systems';
import { describe, ok } from './ui';
import { loadUnmatched } from './unmatched';

/** A token in the tab is being checked (a reload): neither the form nor the app is shown yet. */
export const resuming = signal(false);

async function whoami(): Promise<void> {
  const me = await answer(api.GET('/api/v1/admin/whoami'));
  if (!isRole(me.role)) throw new ApiProblem(200, 'bad_answer', 'The gateway did not say the role of this token.');
  role.value = me.role;
}

/** The app shown: the board, or the page a deep link named. */
function showApp(): void {
  batch(() => {
    signedIn.value = true;
    loginMessage.value = '';
  });
  if (!boardPage.peek()) selectTab('systems');
  void loadUnmatched(true);
}

const failure = (err: unknown): string => describe(err).lines.filter(Boolean).join(' — ');

async function signIn(newToken: string, name: string): Promise<void> {
  remember(newToken, name);
  loginMessage.value = t('checking');
  try {
    await whoami();
    showSystems(await answer(api.GET('/api/v1/admin/systems')));
    showApp();
    document.getElementById('main')?.focus();
    ok(t('signedIn'), t('welcome', { name, role: w('ROLES', role.peek()) }));
  } catch (err) {
    if (err instanceof ApiProblem && err.auth) return; // the form already says why
    forgetToken();
    role.value = undefined;
    loginMessage.value = failure(err);
  }
}

/** A reload with a token in this tab: its role is asked again before anything is shown. */
export async function resume(): Promise<void> {
  if (!token()) return;
  resuming.value = true;
  try {
    await whoami();
    showApp();
  } catch (err) {
    if (!(err instanceof ApiProblem && err.auth)) signOut(failure(err));
  } finally {
    resuming.value = false;
  }
}

export function Login({ hidden }: { hidden: boolean }) {
  const tokenField = useRef<HTMLInputElement>(null);
  const nameField = useRef<HTMLInputElement>(null);
  // Shown again (signed out, refused): the token typed before is gone, the name kept.
  useEffect(() => {
    if (hidden) return;
    tokenField.current!.value = '';
    nameField.current!.value = operatorName() || nameField.current!.value;
    tokenField.current!.focus();
  }, [hidden, signOuts.value]);
  const submit = (event: Event): void => {
    event.preventDefault();
    const typed = tokenField.current!.value.trim();
    const name = nameField.current!.value.trim();
    if (!typed || !name) {
      loginMessage.value = typed ? t('enterName') : t('enterToken');
      (typed ? nameField : tokenField).current!.focus();
      return;
    }
    void signIn(typed, name);
  };
  return (
    <section id="login" class="login card" aria-labelledby="login-title" hidden={hidden}>
      <h2 id="login-title">{t('signIn')}</h2>
      <p>{t('signInExplained')}</p>
      <form id="login-form" noValidate onSubmit={submit}>
        <div class="field">
          <label for="login-token">{t('opsToken')}</label>
          <input id="login-token" ref={tokenField} name="token" type="password" autocomplete="off" spellcheck={false} required />
        </div>
        <div class="field">
          <label for="login-name">
            <span>{t('yourName')}</span> <span class="hint">{t('forTheAuditTrail')}</span>
          </label>
          <input id="login-name" ref={nameField} name="name" type="text" autocomplete="name" maxLength={64} required placeholder={t('nameExample')} />
        </div>
        <p id="login-error" class="error-text" role="alert">
          {loginMessage.value}
        </p>
        <button type="submit" class="primary">
          {t('enter')}
        </button>
      </form>
    </section>
  );
}
