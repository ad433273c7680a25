/**
 * Builds the body a simulated system sends (or answers a poll with) for a decided case FROM THE
 * SYSTEM'S OWN RESULT MAP, so that the simulators and the configuration can never disagree.
 *
 * The map is an object constructor, e.g.
 *
 *   { "caseId": ywh, "receiptNo": slbh,
 *     "outcome": $lookup({"1": "approved", "0": "rejected"}, jg), "decidedAt": wcsj }
 *
 * Walking its JSONata syntax tree, every key whose value reads fields of the body is solved for:
 * caseId, receiptNo and message get the canonical value at the fields they read; the outcome tries
 * the literals of its own expression (codes such as "1", "PASS", 3) until the whole map yields the
 * wanted outcome; decidedAt tries an ISO date-time, then epoch milliseconds. The result is then
 * checked by evaluating the map on the built body, as the gateway will: a body that would not map
 * to the intended result is never returned.
 */
import { compileExpression, type CompiledExpression } from '../src/platform/expressions';

export type ResultOutcome = 'approved' | 'rejected' | 'need_more' | 'info';

export const OUTCOMES: readonly ResultOutcome[] = ['approved', 'rejected', 'need_more', 'info'];

/** The result a simulated system decided, in canonical terms. */
export interface IntendedResult {
  caseId?: string;
  receiptNo?: string;
  outcome: ResultOutcome;
  message?: string;
  decidedAt?: Date;
}

export interface SynthesisOptions {
  /** The body to build on (e.g. a poll reply's envelope); it is copied, never changed. */
  seed?: Record<string, unknown>;
  /**
   * The gateway already knows the case and receipt (polling): the map need not name them, but
   * when it does they must be right. Without it the map must yield the caseId or the receiptNo.
   */
  idsKnown?: boolean;
  /** Every value the body carries is a string (SOAP arguments, XML text), as the gateway will read it. */
  stringsOnly?: boolean;
}

export type Synthesis = { ok: true; body: Record<string, unknown>; mapped: Record<string, unknown> } | { ok: false; reason: string };

/** The shape of jsonata's syntax tree nodes, as far as this module reads them. */
interface AstNode {
  type: string;
  value?: unknown;
  steps?: AstNode[];
  lhs?: unknown;
  stages?: unknown[];
  predicate?: unknown[];
  group?: unknown;
  focus?: unknown;
  index?: unknown;
  tuple?: unknown;
  keepArray?: boolean;
  [key: string]: unknown;
}

type FieldPath = string[];
type Candidate = string | number;

const isNode = (v: unknown): v is AstNode => typeof v === 'object' && v !== null && !Array.isArray(v) && typeof (v as AstNode).type === 'string';

/** The field path a node reads when it is a plain path (`ywh`, `head.qqlsh`), else undefined. */
function plainPath(node: AstNode): FieldPath | undefined {
  if (node.type !== 'path' || !node.steps || node.keepArray) return undefined;
  const names: string[] = [];
  for (const [i, step] of node.steps.entries()) {
    if (step.stages?.length || step.predicate?.length || step.group || step.focus || step.index || step.tuple) return undefined;
    // A leading `$` (the context) adds nothing: `$.ywh` reads ywh.
    if (i === 0 && step.type === 'variable' && step.value === '' && node.steps.length > 1) continue;
    if (step.type !== 'name' || typeof step.value !== 'string') return undefined;
    names.push(step.value);
  }
  return names.length ? names : undefined;
}

/** Every field path read anywhere in an expression (paths with filters contribute their plain prefix). */
function fieldsRead(node: unknown, into: FieldPath[] = []): FieldPath[] {
  if (Array.isArray(node)) {
    for (const n of node) fieldsRead(n, into);
    return into;
  }
  if (!isNode(node)) return into;
  if (node.type === 'path') {
    const whole = plainPath(node);
    if (whole) {
      if (!into.some((p) => p.join('.') === whole.join('.'))) into.push(whole);
      return into;
    }
  }
  for (const [key, child] of Object.entries(node)) {
    if (key === 'position' || key === 'type' || key === 'value') continue;
    if (typeof child === 'object' && child !== null) fieldsRead(child, into);
  }
  return into;
}

/** Every string and number literal in an expression, in order of appearance (object keys included). */
function literals(node: unknown, into: Candidate[] = []): Candidate[] {
  if (Array.isArray(node)) {
    for (const n of node) literals(n, into);
    return into;
  }
  if (!isNode(node)) return into;
  if ((node.type === 'string' && typeof node.value === 'string') || (node.type === 'number' && typeof node.value === 'number')) {
    if (!into.some((c) => c === node.value)) into.push(node.value as Candidate);
  }
  for (const [key, child] of Object.entries(node)) {
    if (key === 'position' || key === 'type' || key === 'value') continue;
    if (typeof child === 'object' && child !== null) literals(child, into);
  }
  return into;
}

/** The values worth trying for a field that decides the outcome: the expression's own codes first. */
function outcomeCandidates(node: AstNode): Candidate[] {
  const own = literals(node);
  const codes = own.filter((c) => !(typeof c === 'string' && (OUTCOMES as readonly string[]).includes(c)));
  const words = own.filter((c) => typeof c === 'string' && (OUTCOMES as readonly string[]).includes(c));
  const digits: Candidate[] = [...Array.from({ length: 10 }, (_, i) => i), ...Array.from({ length: 10 }, (_, i) => String(i))];
  const all: Candidate[] = [];
  for (const c of [...codes, ...digits, ...words, '']) if (!all.some((a) => a === c)) all.push(c);
  return all;
}

/** The instant in Beijing time, as the legacy systems write it: 2026-11-28T09:30:00+08:00. */
function beijingIso(d: Date): string {
  return new Date(d.getTime() + 8 * 3600_000).toISOString().slice(0, 19) + '+08:00';
}

function setPath(target: Record<string, unknown>, path: FieldPath, value: unknown): void {
  let at = target;
  for (const name of path.slice(0, -1)) {
    const next = at[name];
    if (typeof next !== 'object' || next === null || Array.isArray(next)) at[name] = {};
    at = at[name] as Record<string, unknown>;
  }
  at[path[path.length - 1]!] = value;
}

function deletePath(target: Record<string, unknown>, path: FieldPath): void {
  let at: unknown = target;
  for (const name of path.slice(0, -1)) {
    if (typeof at !== 'object' || at === null) return;
    at = (at as Record<string, unknown>)[name];
  }
  if (typeof at === 'object' && at !== null) delete (at as Record<string, unknown>)[path[path.length - 1]!];
}

/** Within a second: maps that format dates drop the milliseconds. */
const sameInstant = (value: unknown, d: Date): boolean => typeof value === 'string' && Math.abs(Date.parse(value) - d.getTime()) < 1000;

const sameId = (value: unknown, id: string): boolean => (typeof value === 'string' || typeof value === 'number') && String(value) === id;

interface Pair {
  key: string;
  value: AstNode;
}

/** Where the map's object constructor is: `{…}`, `(…{…})`, or `data.{…}` (reads under `data`). */
function objectConstructor(ast: AstNode): { prefix: FieldPath; pairs: Pair[] } | undefined {
  let node = ast;
  let prefix: FieldPath = [];
  while (node.type === 'block' && Array.isArray(node.expressions) && node.expressions.length === 1 && isNode(node.expressions[0])) {
    node = node.expressions[0];
  }
  if (node.type === 'path' && node.steps && node.steps.length >= 2) {
    const last = node.steps[node.steps.length - 1]!;
    const head = plainPath({ ...node, steps: node.steps.slice(0, -1) });
    if (head && last.type === 'unary' && last.value === '{') {
      prefix = head;
      node = last;
    }
  }
  if (node.type !== 'unary' || node.value !== '{' || !Array.isArray(node.lhs)) return undefined;
  const pairs: Pair[] = [];
  for (const pair of node.lhs as unknown[]) {
    if (!Array.isArray(pair) || pair.length !== 2 || !isNode(pair[0]) || !isNode(pair[1])) continue;
    if (pair[0].type !== 'string' || typeof pair[0].value !== 'string') continue;
    pairs.push({ key: pair[0].value, value: pair[1] });
  }
  return { prefix, pairs };
}

/** The keys solved for, in this order: ids and message first, so the outcome search sees a full body. */
const SOLVED = ['caseId', 'receiptNo', 'message', 'outcome', 'decidedAt'] as const;
type Solved = (typeof SOLVED)[number];

/** How many bodies one key's search may evaluate (several fields deciding one outcome multiply). */
const MAX_TRIES = 2000;

/** One result map, analysed once and used for every body built for it. */
export class ResultBodyBuilder {
  private readonly expression: CompiledExpression;
  private readonly shape: { prefix: FieldPath; pairs: Pair[] } | undefined;

  /** Throws on a map that is not JSONata at all (the config loader has checked that already). */
  constructor(readonly source: string) {
    this.expression = compileExpression(source);
    this.shape = objectConstructor(this.expression.ast() as AstNode);
  }

  private async evaluate(body: Record<string, unknown>): Promise<Record<string, unknown> | undefined> {
    try {
      const out: unknown = await this.expression.evaluate(body);
      return typeof out === 'object' && out !== null && !Array.isArray(out) ? (out as Record<string, unknown>) : undefined;
    } catch {
      return undefined;
    }
  }

  private candidates(key: Solved, value: AstNode, intended: IntendedResult): Candidate[] {
    switch (key) {
      case 'caseId':
        return intended.caseId === undefined ? [] : [intended.caseId];
      case 'receiptNo':
        return intended.receiptNo === undefined ? [] : [intended.receiptNo];
      case 'message':
        return intended.message === undefined ? [] : [intended.message];
      case 'decidedAt': {
        const d = intended.decidedAt;
        return d === undefined ? [] : [beijingIso(d), d.toISOString(), d.getTime(), String(d.getTime())];
      }
      case 'outcome':
        return outcomeCandidates(value);
    }
  }

  private fits(key: Solved, mapped: Record<string, unknown>, intended: IntendedResult): boolean {
    const v = mapped[key];
    switch (key) {
      case 'caseId':
      case 'receiptNo':
        return sameId(v, intended[key]!);
      case 'message':
        return v === intended.message;
      case 'decidedAt':
        return sameInstant(v, intended.decidedAt!);
      case 'outcome':
        return v === intended.outcome;
    }
  }

  /** Why a mapped result is not the intended one, or undefined when it is. */
  check(mapped: Record<string, unknown> | undefined, intended: IntendedResult, idsKnown = false): string | undefined {
    if (!mapped) return 'result.map does not yield an object for the built body';
    if (mapped.outcome !== intended.outcome) return `result.map yields outcome ${JSON.stringify(mapped.outcome)} instead of "${intended.outcome}"`;
    let named = false;
    for (const id of ['caseId', 'receiptNo'] as const) {
      if (mapped[id] === undefined) continue;
      if (intended[id] === undefined || !sameId(mapped[id], intended[id])) return `result.map yields ${id} ${JSON.stringify(mapped[id])} instead of ${JSON.stringify(intended[id])}`;
      named = true;
    }
    if (!named && !idsKnown) return 'result.map yields neither the caseId nor the receiptNo';
    if (mapped.message !== undefined && typeof mapped.message !== 'string') return 'result.map yields a message that is not a string';
    if (mapped.decidedAt !== undefined && typeof mapped.decidedAt !== 'string') return 'result.map yields a decidedAt that is not a string';
    return undefined;
  }

  /** The body that makes the map yield `intended`, checked; or why none could be built. */
  async build(intended: IntendedResult, options: SynthesisOptions = {}): Promise<Synthesis> {
    if (!this.shape) return { ok: false, reason: 'result.map is not an object constructor {"caseId": …, "outcome": …}' };
    const body = structuredClone(options.seed ?? {});
    const { prefix, pairs } = this.shape;
    for (const key of SOLVED) {
      const pair = pairs.find((p) => p.key === key);
      if (!pair) continue;
      const fields = fieldsRead(pair.value).map((f) => [...prefix, ...f]);
      const candidates = options.stringsOnly ? [...new Set(this.candidates(key, pair.value, intended).map(String))] : this.candidates(key, pair.value, intended);
      if (!fields.length || !candidates.length) continue;
      let found = false;
      let tries = 0;
      // Every combination of candidates over the fields the key reads (usually one field).
      const choice = fields.map(() => 0);
      search: for (;;) {
        fields.forEach((f, i) => setPath(body, f, candidates[choice[i]!]));
        const mapped = await this.evaluate(body);
        if (mapped && this.fits(key, mapped, intended)) {
          found = true;
          break;
        }
        if (++tries >= MAX_TRIES) break;
        for (let i = 0; ; i++) {
          if (i === choice.length) break search;
          if (++choice[i]! < candidates.length) break;
          choice[i] = 0;
        }
      }
      if (!found) for (const f of fields) deletePath(body, f);
    }
    const reason = this.check(await this.evaluate(body), intended, options.idsKnown);
    return reason ? { ok: false, reason } : { ok: true, body, mapped: (await this.evaluate(body))! };
  }
}

/** Builds a body for one result map (compiling it each time: tests and one-offs). */
export function synthesizeResultBody(map: string, intended: IntendedResult, options: SynthesisOptions = {}): Promise<Synthesis> {
  return new ResultBodyBuilder(map).build(intended, options);
}
