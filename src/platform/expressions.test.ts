import { compileExpression, ExpressionError } from './expressions';

const budget = { timeMs: 100, depth: 50 };
// For what is not about time: a busy machine must not turn a first regex compile into "over budget".
const roomy = { timeMs: 60_000, depth: 50 };

async function failure(source: string, input: unknown = {}): Promise<ExpressionError> {
  const err = await compileExpression(source, budget)
    .evaluate(input)
    .then(() => undefined, (e: unknown) => e);
  if (!(err instanceof ExpressionError)) throw new Error(`expected an ExpressionError from ${source}, got ${String(err)}`);
  return err;
}

describe('when a configured expression runs on input', () => {
  it('then endless recursion stops at the depth budget, with a clear message', async () => {
    const err = await failure('($f := function($n){ $f($n+1) + 1 }; $f(0))');
    expect(err.kind).toBe('budget');
    expect(err.message).toContain('nested deeper than 50 steps (limits.expressionDepth)');
  });

  it('then an endless tail call stops at the time budget', async () => {
    const started = Date.now();
    const err = await failure('($f := function($n){ $f($n+1) }; $f(0))');
    expect(err.kind).toBe('budget');
    expect(err.message).toContain('took longer than 100 ms (limits.expressionTimeMs)');
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it('then a huge sequence is refused instead of filling memory', async () => {
    const err = await failure('[1..1000000].($ * 2)');
    expect(err.message).toMatch(/sequence|budget/);
  });

  it('then a backtracking regex runs in linear time on RE2', async () => {
    const started = Date.now();
    const out = await compileExpression('$contains(s, /(a+)+$/)', roomy).evaluate({ s: 'a'.repeat(50_000) + 'b' });
    expect(out).toBe(false);
    expect(Date.now() - started).toBeLessThan(5000); // the native engine takes longer than the universe
  });

  it('then regexes still match, replace and split as JSONata documents', async () => {
    // JSONata's sequences are arrays with extra properties: compared as plain JSON.
    const e = async (src: string) => JSON.parse(JSON.stringify(await compileExpression(src, roomy).evaluate({ s: '衢州 12 衢州 345' })));
    expect(await e('$match(s, /衢州 (\\d+)/).groups[0]')).toEqual(['12', '345']);
    expect(await e('$replace(s, /\\d+/, "#")')).toBe('衢州 # 衢州 #');
    expect(await e('$split(s, / /)')).toEqual(['衢州', '12', '衢州', '345']);
    expect(await e('$contains(s, /衢州/i)')).toBe(true);
  });

  it('then a regex RE2 cannot run (a backreference) is a syntax error at compile time', () => {
    expect(() => compileExpression('$match(s, /(a)\\1/)', budget)).toThrow(/not supported/);
  });

  it('then the same source and budget are compiled once', () => {
    expect(compileExpression('caseId', budget)).toBe(compileExpression('caseId', budget));
    expect(compileExpression('caseId', budget)).not.toBe(compileExpression('caseId', { timeMs: 99, depth: 50 }));
  });
});
