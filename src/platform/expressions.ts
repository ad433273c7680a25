/**
 * The one place JSONata expressions are compiled and evaluated. Configuration (files and what ops
 * store through the admin API) is code that runs on input, so every evaluation has a budget
 * (`limits.expressionTimeMs`, `limits.expressionDepth`, and a cap on sequence length) enforced by
 * JSONata's own guardrails at every step, and every regular expression runs on RE2 (linear time, no
 * catastrophic backtracking). An expression over budget fails that one evaluation, never the process.
 *
 * What no guardrail can cut short is a single built-in call that is slow by itself; with RE2 and the
 * sequence cap, none of JSONata's built-ins is worse than linear in its input, which is size-capped.
 */
import jsonata from 'jsonata';
import { RE2JS } from 're2js';
import { DEFER, fastEvaluator } from './expressions-fast';

export interface ExpressionBudget {
  /** Wall-clock milliseconds one evaluation may run. */
  timeMs: number;
  /** Deepest nesting of evaluation steps (recursion included). */
  depth: number;
}

export const DEFAULT_BUDGET: ExpressionBudget = { timeMs: 250, depth: 200 };

/** Longest sequence an expression may build (`[1..n]`, `$map`…), so memory stays bounded too. */
const MAX_SEQUENCE = 100_000;

/** An expression that did not compile, or whose evaluation failed or ran over its budget. */
export class ExpressionError extends Error {
  constructor(
    message: string,
    /** `budget`: over time, depth or size, which would happen again on the same input. */
    readonly kind: 'syntax' | 'budget' | 'failed',
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'ExpressionError';
  }
}

interface JsonataError {
  code?: string;
  message?: string;
  position?: number;
}

const BUDGET_CODES: Record<string, (budget: ExpressionBudget) => string> = {
  D1011: (b) => `ran over its budget: nested deeper than ${b.depth} steps (limits.expressionDepth), e.g. endless recursion`,
  D1012: (b) => `ran over its budget: took longer than ${b.timeMs} ms (limits.expressionTimeMs)`,
  D2015: () => `ran over its budget: built a sequence of more than ${MAX_SEQUENCE} items`,
};

function describe(err: unknown, budget: ExpressionBudget): ExpressionError {
  const e = (err ?? {}) as JsonataError;
  const overBudget = e.code ? BUDGET_CODES[e.code] : undefined;
  if (overBudget) return new ExpressionError(overBudget(budget), 'budget', { cause: err });
  if (err instanceof RangeError) return new ExpressionError(`ran over its budget: ${err.message}`, 'budget', { cause: err });
  const where = typeof e.position === 'number' ? ` (at character ${e.position})` : '';
  return new ExpressionError(`${e.code ? `${e.code}: ` : ''}${e.message ?? String(err)}${where}`, 'failed', { cause: err });
}

/**
 * JSONata's regex engine interface (a RegExp-like class: `lastIndex`, `exec`) on RE2, so a pattern
 * an operator writes cannot backtrack catastrophically on what a legacy system sends.
 */
class LinearRegExp {
  lastIndex = 0;
  private readonly re: RE2JS;

  constructor(pattern: RegExp) {
    const flags = (pattern.flags.includes('i') ? RE2JS.CASE_INSENSITIVE : 0) | (pattern.flags.includes('m') ? RE2JS.MULTILINE : 0);
    this.re = RE2JS.compile(pattern.source, flags);
  }

  exec(text: string): (RegExpExecArray & string[]) | null {
    const matcher = this.re.matcher(text);
    if (this.lastIndex > text.length || !matcher.find(this.lastIndex)) return null;
    const groups: string[] = [];
    for (let g = 0; g <= matcher.groupCount(); g++) groups.push(matcher.group(g) ?? '');
    const match = Object.assign(groups, { index: matcher.start(), input: text }) as unknown as RegExpExecArray;
    const end = matcher.end();
    // An empty match must still move on, as RegExp's global flag does.
    this.lastIndex = end === matcher.start() ? end + 1 : end;
    return match;
  }
}

export interface CompiledExpression {
  readonly source: string;
  /** Evaluates on `input` within the budget; throws ExpressionError. */
  evaluate(input: unknown, bindings?: Record<string, unknown>): Promise<unknown>;
  /** JSONata's syntax tree (the simulators read an expression's field paths and codes from it). */
  ast(): unknown;
}

/** Compiled expressions by budget and source: configuration versions share the same strings. */
const cache = new Map<string, CompiledExpression>();
/** Enough for every expression of 44 systems over many configuration versions. */
const CACHE_LIMIT = 5000;

/** Compiles (once) an expression to run within `budget`; throws ExpressionError for bad syntax. */
export function compileExpression(source: string, budget: ExpressionBudget = DEFAULT_BUDGET): CompiledExpression {
  const key = `${budget.timeMs}/${budget.depth}\u0000${source}`;
  const cached = cache.get(key);
  if (cached) return cached;
  let expression: ReturnType<typeof jsonata>;
  try {
    expression = jsonata(source, { timeout: budget.timeMs, stack: budget.depth, sequence: MAX_SEQUENCE, RegexEngine: LinearRegExp as unknown as RegExpConstructor } as Parameters<typeof jsonata>[1]);
    checkRegexes(expression.ast());
  } catch (err) {
    throw err instanceof ExpressionError ? err : new ExpressionError((err as JsonataError).message ?? String(err), 'syntax', { cause: err });
  }
  // Field renames, single paths and status checks are answered directly, with JSONata's results.
  const fast = fastEvaluator(expression.ast());
  const compiled: CompiledExpression = {
    source,
    async evaluate(input, bindings) {
      if (fast) {
        const value = fast(input);
        if (value !== DEFER) return value;
      }
      try {
        return await expression.evaluate(input, bindings);
      } catch (err) {
        throw describe(err, budget);
      }
    },
    ast: () => expression.ast(),
  };
  if (cache.size >= CACHE_LIMIT) cache.delete(cache.keys().next().value!);
  cache.set(key, compiled);
  return compiled;
}

/** Every regex literal must compile on RE2 (no backreferences or lookaround): said at load, not at use. */
function checkRegexes(node: unknown): void {
  const pending: unknown[] = [node];
  const seen = new Set<unknown>();
  while (pending.length > 0) {
    const at = pending.pop();
    if (seen.has(at)) continue;
    seen.add(at);
    if (at instanceof RegExp) {
      try {
        new LinearRegExp(at);
      } catch (err) {
        throw new ExpressionError(`regular expression /${at.source}/ is not supported (no backreferences or lookaround): ${(err as Error).message}`, 'syntax');
      }
    } else if (at && typeof at === 'object') {
      pending.push(...Object.values(at));
    }
  }
}
