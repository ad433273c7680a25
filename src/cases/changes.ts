/**
 * The one signal that a delivery moved to a status the intake platform hears about (delivered,
 * completed, rejected, dead): the case store says it after the change (and its event) are written;
 * the gateway listens once, to drain the case's outbox and re-match parked results.
 */
import type { DeliveryStatus } from './model';

export interface CaseChange {
  caseId: string;
  systemId: string;
  status: DeliveryStatus;
  receiptNo?: string;
  /** The request id of the case (or of what changed it), for the callback's X-Request-Id. */
  requestId?: string;
}

type Listener = (change: CaseChange) => void;

export class CaseChanges {
  private readonly listeners: Listener[] = [];

  on(listener: Listener): void {
    this.listeners.push(listener);
  }

  /** Tells every listener; a listener's failure is its own (each handles and logs what it starts). */
  emit(change: CaseChange): void {
    for (const listener of this.listeners) listener(change);
  }
}
