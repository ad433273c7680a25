/**
 * A system's JSONata mappings, compiled once per config version: `request.body` builds what is sent
 * from the canonical case; `response.*` reads the system's reply into an acknowledgement.
 */
import jsonata from 'jsonata';
import type { SystemConfig } from '../config/schema';
import type { Case } from '../cases/model';
import { PermanentError, RetryableError, errorMessage } from './errors';

type Expression = ReturnType<typeof jsonata>;

export interface Acknowledgement {
  success: boolean;
  receiptNo?: string;
  /** The system's own words for a refusal. */
  error?: string;
  /** A refusal the system says is worth retrying. */
  retryable: boolean;
}

function scalarText(value: unknown): string | undefined {
  if (value === undefined || value === null || value === '') return undefined;
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return JSON.stringify(value);
}

export class SystemMappings {
  private readonly body: Expression;
  private readonly success: Expression;
  private readonly receiptNo?: Expression;
  private readonly error?: Expression;
  private readonly retryable?: Expression;

  constructor(private readonly system: SystemConfig) {
    this.body = jsonata(system.request.body);
    this.success = jsonata(system.response.success);
    if (system.response.receiptNo) this.receiptNo = jsonata(system.response.receiptNo);
    if (system.response.error) this.error = jsonata(system.response.error);
    if (system.response.retryable) this.retryable = jsonata(system.response.retryable);
  }

  /** The body for this system. A mapping that fails will fail on every attempt: permanent. */
  async requestBody(c: Case): Promise<unknown> {
    try {
      const out: unknown = await this.body.evaluate(c);
      if (out === undefined) throw new Error('the expression produced nothing');
      return out;
    } catch (err) {
      throw new PermanentError(`${this.system.id}: request.body mapping failed: ${errorMessage(err)}`, { cause: err });
    }
  }

  /** Reads the reply. A reply the expressions cannot read is treated as a garbled answer: retried. */
  async acknowledgement(reply: unknown): Promise<Acknowledgement> {
    try {
      const success = (await this.success.evaluate(reply)) === true;
      const receiptNo = scalarText(this.receiptNo ? await this.receiptNo.evaluate(reply) : undefined);
      const error = scalarText(this.error ? await this.error.evaluate(reply) : undefined);
      const retryable = this.retryable ? (await this.retryable.evaluate(reply)) === true : false;
      return { success, receiptNo, error, retryable };
    } catch (err) {
      throw new RetryableError(`${this.system.id}: reply could not be read: ${errorMessage(err)}`, undefined, { cause: err });
    }
  }
}
