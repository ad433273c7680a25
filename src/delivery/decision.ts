/**
 * What a failed attempt means for a delivery. The one decision: anything not known to be
 * permanent is retried, so a surprise never loses a case.
 */
import { PermanentError } from '../platform/failure';

export function isRetryable(err: unknown): boolean {
  return !(err instanceof PermanentError);
}
