/**
 * The reply dialects of the simulated legacy systems.
 *
 * Chinese government systems answer a submission with HTTP 200 and put the verdict in the body,
 * each family of systems in its own envelope. A system's dialect is not written in its config file
 * (the schema has no key for it): the simulator finds it by running the system's own
 * `response.*` expressions on each dialect's sample replies, so the simulator and the
 * configuration can never quietly disagree.
 */
import { compileExpression } from '../src/platform/expressions';
import type { SystemConfig } from '../src/config/schema';

export type Json = string | number | boolean | null | Json[] | { [key: string]: Json };

export interface Dialect {
  name: 'A' | 'B' | 'C' | 'D';
  /** One line for people: what an accepted reply looks like. */
  example: string;
  /** The case was accepted under this receipt number. */
  accepted(receiptNo: string): Json;
  /** A permanent business refusal (materials missing, not eligible…). */
  refused(message: string): Json;
  /** A refusal the system itself says is worth retrying later (busy, batch running…). */
  retryLater(message: string): Json;
  /** Body sent with an HTTP 500: a crashed back end still answers in its envelope. */
  broken(message: string): Json;
}

/** A: `{"code":"0","msg":"成功","data":{"slbh":"…"}}`, code "1" refused, "9" retry later. */
const codeMsg: Dialect = {
  name: 'A',
  example: '{"code":"0","msg":"成功","data":{"slbh":"…"}}',
  accepted: (receiptNo) => ({ code: '0', msg: '成功', data: { slbh: receiptNo } }),
  refused: (message) => ({ code: '1', msg: message, data: null }),
  retryLater: (message) => ({ code: '9', msg: message, data: null }),
  broken: (message) => ({ code: '500', msg: message, data: null }),
};

/** B: `{"resultCode":"00","resultMsg":"受理成功","result":{"acceptNo":"…"}}`, "01" refused, "99" retry later. */
const resultCode: Dialect = {
  name: 'B',
  example: '{"resultCode":"00","resultMsg":"受理成功","result":{"acceptNo":"…"}}',
  accepted: (receiptNo) => ({ resultCode: '00', resultMsg: '受理成功', result: { acceptNo: receiptNo } }),
  refused: (message) => ({ resultCode: '01', resultMsg: message, result: null }),
  retryLater: (message) => ({ resultCode: '99', resultMsg: message, result: null }),
  broken: (message) => ({ resultCode: '98', resultMsg: message, result: null }),
};

/** C: `{"success":true,"errcode":0,"errmsg":"","ywlsh":"…"}`, errcode 1001 refused, -1 retry later. */
const errcode: Dialect = {
  name: 'C',
  example: '{"success":true,"errcode":0,"errmsg":"","ywlsh":"…"}',
  accepted: (receiptNo) => ({ success: true, errcode: 0, errmsg: '', ywlsh: receiptNo }),
  refused: (message) => ({ success: false, errcode: 1001, errmsg: message }),
  retryLater: (message) => ({ success: false, errcode: -1, errmsg: message }),
  broken: (message) => ({ success: false, errcode: 500, errmsg: message }),
};

/** D: `{"head":{"rtnCode":"000000","rtnMsg":"成功"},"body":{"sblsh":"…"}}`, "100001" refused, "999999" retry later. */
const headBody: Dialect = {
  name: 'D',
  example: '{"head":{"rtnCode":"000000","rtnMsg":"成功"},"body":{"sblsh":"…"}}',
  accepted: (receiptNo) => ({ head: { rtnCode: '000000', rtnMsg: '成功' }, body: { sblsh: receiptNo } }),
  refused: (message) => ({ head: { rtnCode: '100001', rtnMsg: message }, body: {} }),
  retryLater: (message) => ({ head: { rtnCode: '999999', rtnMsg: message }, body: {} }),
  broken: (message) => ({ head: { rtnCode: '500000', rtnMsg: message }, body: {} }),
};

export const DIALECTS: readonly Dialect[] = [codeMsg, resultCode, errcode, headBody];

/** The messages the simulators answer with, as the real systems word them. */
export const MESSAGES = {
  refused: '材料不齐全，请补充后重新提交',
  retryLater: '系统繁忙，请稍后重试',
  broken: '系统内部错误',
  invalidBody: '报文格式错误',
  unauthorized: '身份认证失败',
} as const;

/**
 * The shipped expressions read on the simulators' own sample replies, once at start: nothing here is
 * about time, so a busy machine (a first RE2 compile can take a while) must not fail the match.
 */
const SIM_BUDGET = { timeMs: 10_000, depth: 200 };

async function evaluate(expression: string, input: unknown): Promise<unknown> {
  return compileExpression(expression, SIM_BUDGET).evaluate(input);
}

const SAMPLE_RECEIPT = 'SAMPLE2026000000001';

/** What every protocol's reply dialect can say; `read` turns a reply into what the expressions see. */
export interface ReplyDialect<Reply> {
  name: string;
  example: string;
  accepted(receiptNo: string): Reply;
  refused(message: string): Reply;
  retryLater(message: string): Reply;
}

/**
 * The dialect whose replies the system's `response` expressions read correctly: an accepted reply
 * is a success carrying the receipt number, a refusal is not a success, and (when the system has a
 * `retryable` expression) only the retry-later reply is retryable.
 * Throws when none fits, naming the system, because a simulator answering in a dialect its config
 * cannot read would make every demo delivery fail for a reason nobody would look for.
 */
export async function matchDialect<Reply, D extends ReplyDialect<Reply>>(
  system: SystemConfig,
  dialects: readonly D[],
  read: (dialect: D, reply: Reply) => unknown = (_d, reply) => reply,
  what = 'reply dialects',
): Promise<D> {
  const r = system.response;
  // A look-up-only system receives no cases: any dialect answers its (absent) submissions.
  if (!r) return dialects[0]!;
  for (const dialect of dialects) {
    const ok = read(dialect, dialect.accepted(SAMPLE_RECEIPT));
    const refused = read(dialect, dialect.refused(MESSAGES.refused));
    const later = read(dialect, dialect.retryLater(MESSAGES.retryLater));
    // Exactly `true`, as the gateway reads `success` and `retryable` (src/delivery/mapping.ts).
    if ((await evaluate(r.success, ok)) !== true) continue;
    if (r.receiptNo && (await evaluate(r.receiptNo, ok)) !== SAMPLE_RECEIPT) continue;
    if ((await evaluate(r.success, refused)) === true || (await evaluate(r.success, later)) === true) continue;
    if (r.retryable && ((await evaluate(r.retryable, later)) !== true || (await evaluate(r.retryable, refused)) === true)) continue;
    return dialect;
  }
  throw new Error(
    `system ${system.id}: its response expressions (success: ${r.success}) fit none of the simulator's ${what}: ` +
      dialects.map((d) => `${d.name} ${d.example}`).join(', '),
  );
}

export async function dialectOf(system: SystemConfig): Promise<Dialect> {
  return matchDialect(system, DIALECTS);
}
