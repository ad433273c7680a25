/** Replaying one dead letter: from the dead-letter list and from a case's dead delivery. */
import { answer, api } from './api';
import { t } from './language';
import { act, ok, withReason } from './ui';

export interface Letter {
  id: string;
  caseId: string;
  systemId: string;
}

/** Queued again with fresh attempts and the same Idempotency-Key, after the reason is asked; then `reload`. */
export function replayOne(letter: Letter, button: HTMLButtonElement, reload: () => Promise<void> | void): Promise<void> {
  const route = `${letter.caseId} → ${letter.systemId}`;
  return act({
    button,
    ask: { title: `${t('replayDeadLetter')} ${route}`, text: t('replayExplained'), required: false, okLabel: t('replay') },
    failed: t('replayFailed'),
    call: (reason) => answer(api.POST('/api/v1/admin/dead-letters/{id}/replay', { params: { path: { id: letter.id } }, body: withReason(reason, {}) })),
    done: () => ok(t('replayed'), route),
    reload,
  });
}
