import fc from 'fast-check';
import jsonata from 'jsonata';
import { DEFER, fastEvaluator } from './expressions-fast';

/** Names that trip naive lookups (inherited members, a name that needs backquotes) beside plain ones. */
const NAMES = ['a', 'b', 'c', 'constructor', '__proto__', 'toString', 'first name'];
const name = fc.constantFrom(...NAMES);
const path = fc.array(name, { minLength: 1, maxLength: 3 }).map((names) => names.map((n) => `\`${n}\``).join('.'));
const literal = fc.constantFrom('"0"', '"ok"', '0', '1', '2.5', '""');
const key = fc.constantFrom('"bizNo"', '"sqrxm"', '"__proto__"', '"a"', '"x y"');

/** The plain forms: a path, `path = literal`, `{"key": path or literal, …}` (keys may repeat: JSONata's error, not ours). */
const expression = fc.oneof(
  path,
  fc.tuple(path, fc.constantFrom('=', '!='), literal).map(([p, op, l]) => `${p} ${op} ${l}`),
  fc.array(fc.tuple(key, fc.oneof(path, literal)), { minLength: 1, maxLength: 4 }).map((pairs) => `{${pairs.map(([k, v]) => `${k}: ${v}`).join(', ')}}`),
);

/** JSON as a caller sends it (parsed, so `__proto__` is an own key), nested objects and arrays included. */
const { json } = fc.letrec((tie) => ({
  json: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.constantFrom(null, true, false, 0, 1, '0', 'ok', ''),
    fc.array(tie('json'), { maxLength: 3 }),
    fc.dictionary(name, tie('json'), { maxKeys: 4 }),
  ),
}));
/** Mostly a case-like object (what mappings run on), now and then anything at all. */
const input = fc.oneof({ weight: 4, arbitrary: fc.dictionary(name, json, { maxKeys: 5 }) }, { weight: 1, arbitrary: json }).map((value) => JSON.parse(JSON.stringify(value) ?? 'null') as unknown);

async function byJsonata(source: string, data: unknown): Promise<{ value?: unknown; error?: string }> {
  try {
    return { value: await jsonata(source).evaluate(data) };
  } catch (err) {
    return { error: (err as { code?: string }).code ?? String(err) };
  }
}

describe('the fast path of plain expressions', () => {
  it('when a field rename, a path or a status check is evaluated directly, then the answer is exactly JSONata’s, or it is handed back', async () => {
    let answered = 0;
    let runs = 0;
    await fc.assert(
      fc.asyncProperty(expression, input, async (source, data) => {
        runs++;
        const fast = fastEvaluator(jsonata(source).ast());
        const expected = await byJsonata(source, data);
        if (!fast) {
          // Only an object with a repeated key is left to JSONata at compile time.
          expect(source.startsWith('{')).toBe(true);
          return;
        }
        const value = fast(data);
        if (value === DEFER) return;
        answered++;
        expect(expected.error).toBeUndefined();
        // Prototypes included: JSONata builds objects without one.
        expect(value).toStrictEqual(expected.value);
      }),
      { numRuns: 3000 },
    );
    // The property holds for answers actually given: most of them are.
    expect(answered).toBeGreaterThan(runs / 2);
  });

  it('when a mapping renames fields of a case, then it is answered directly and leaves out what the case lacks', () => {
    const mapping = fastEvaluator(jsonata('{"bizNo": caseId, "sqrxm": applicant.name, "lxdh": applicant.phone, "source": "onewindow"}').ast());
    expect(mapping).toBeDefined();
    expect({ ...(mapping!({ caseId: 'c-1', applicant: { name: '张三' } }) as object) }).toEqual({ bizNo: 'c-1', sqrxm: '张三', source: 'onewindow' });
    expect(fastEvaluator(jsonata('code = "0"').ast())!({ code: '0' })).toBe(true);
    expect(fastEvaluator(jsonata('code = "0"').ast())!({})).toBe(false);
  });

  it('when an expression is anything else, then it is left to JSONata whole', () => {
    for (const source of ['a[0]', 'a.(b)', '$.a', '$uppercase(a)', 'a{"k": b}', 'a & b', '"literal"', 'a = b', 'a > 1', '{"k": a[0]}', '{"k": $now()}', 'a.b = {"x": 1}']) {
      expect([source, fastEvaluator(jsonata(source).ast())]).toEqual([source, undefined]);
    }
  });

  it('when the data has an array on the way or as the value, then JSONata answers (it maps and flattens)', () => {
    const rename = fastEvaluator(jsonata('{"k": a.b}').ast())!;
    expect(rename({ a: [{ b: 1 }, { b: 2 }] })).toBe(DEFER);
    expect(rename({ a: { b: [1] } })).toBe(DEFER);
    expect(rename([{ a: { b: 1 } }])).toBe(DEFER);
  });
});
