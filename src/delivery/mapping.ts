/**
 * A system's JSONata mappings, compiled once per config version: `request.body` builds what is sent
 * from the canonical case; `response.*` reads the system's reply into an acknowledgement. Every
 * evaluation runs within the configured expression budget (src/platform/expressions.ts).
 */
import { secretsOf, type SystemConfig } from '../config/schema';
import type { Case } from '../cases/model';
import { compileExpression, ExpressionError, type CompiledExpression, type ExpressionBudget } from '../platform/expressions';
import { maskPersonalData } from '../platform/privacy';
import { PermanentError, RetryableError, errorMessage } from '../platform/failure';
import { notTextReason } from '../platform/text';

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

function overBudget(err: unknown): boolean {
  return err instanceof ExpressionError && err.kind === 'budget';
}

export class SystemMappings {
  // Absent for a system that only answers look-ups (it is never routed a case).
  private readonly body?: CompiledExpression;
  private readonly success?: CompiledExpression;
  private readonly receiptNo?: CompiledExpression;
  private readonly error?: CompiledExpression;
  private readonly retryable?: CompiledExpression;

  constructor(
    private readonly system: SystemConfig,
    budget: ExpressionBudget,
  ) {
    const compile = (source: string) => compileExpression(source, budget);
    const { request, response } = system;
    if (request) this.body = compile(request.body);
    if (response) {
      this.success = compile(response.success);
      if (response.receiptNo) this.receiptNo = compile(response.receiptNo);
      if (response.error) this.error = compile(response.error);
      if (response.retryable) this.retryable = compile(response.retryable);
    }
  }

  /** The body for this system. A mapping that fails will fail on every attempt: permanent. */
  async requestBody(c: Case): Promise<unknown> {
    try {
      if (!this.body) throw new Error('the system only answers look-ups and receives no cases');
      const out: unknown = await this.body.evaluate(c);
      if (out === undefined) throw new Error('the expression produced nothing');
      return out;
    } catch (err) {
      throw new PermanentError(`${this.system.id}: request.body mapping failed: ${errorMessage(err)}`, { cause: err });
    }
  }

  /**
   * Reads the reply: a success for its receipt number, a refusal for the system's words and whether
   * to retry. Only what the outcome needs is read, so a refusal expression that cannot read a success
   * reply (or the other way round) does not turn a clear answer into a garbled one. A reply the
   * expressions cannot read is treated as a garbled answer: retried; but an expression over its
   * budget would be over it again on the same reply: permanent.
   */
  async acknowledgement(reply: unknown): Promise<Acknowledgement> {
    if (!this.success) throw new PermanentError(`${this.system.id} only answers look-ups and receives no cases`);
    try {
      if ((await this.success.evaluate(reply)) === true) {
        const receiptNo = scalarText(this.receiptNo ? await this.receiptNo.evaluate(reply) : undefined);
        // A receipt is matched and stored as sent; one the ledger could not keep is a garbled reply.
        const notText = receiptNo === undefined ? undefined : notTextReason(receiptNo);
        if (notText) throw new Error(`the receipt number ${notText}`);
        return { success: true, receiptNo, retryable: false };
      }
      // The system's own words may echo the request: masked where they are taken.
      const said = scalarText(this.error ? await this.error.evaluate(reply) : undefined);
      const error = said === undefined ? undefined : maskPersonalData(said.slice(0, 500), secretsOf(this.system.auth));
      const retryable = this.retryable ? (await this.retryable.evaluate(reply)) === true : false;
      return { success: false, error, retryable };
    } catch (err) {
      const message = `${this.system.id}: reply could not be read: ${errorMessage(err)}`;
      if (overBudget(err)) throw new PermanentError(message, { cause: err });
      throw new RetryableError(message, undefined, { cause: err });
    }
  }
}
