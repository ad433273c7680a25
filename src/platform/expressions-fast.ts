/**
 * Most mapping expressions are field renames (`{"sqrxm": applicant.name, "sxbm": itemCode}`), single
 * paths (`data.slbh`) and status checks (`code = "0"`). JSONata evaluates them through its general
 * machinery (sequences, promises, a frame per step), which costs a delivery more than it needs; this
 * module answers exactly those forms directly, with JSONata's own results.
 *
 * Only what is certain is answered here. Whenever JSONata would do something particular — an array
 * on the way (JSONata maps over it and flattens), an array as the result (a sequence), an input that
 * is not a plain object, an equality against an object — the evaluation is handed back (DEFER) and
 * JSONata itself runs. A property test holds the two to the same answers.
 */

/** The answer "not certain here: let JSONata evaluate it". */
export const DEFER: unique symbol = Symbol('defer to JSONata');

export type FastEvaluator = (input: unknown) => unknown;

interface Node {
  type?: unknown;
  value?: unknown;
  [key: string]: unknown;
}

/** Whether a node has nothing but the keys named (JSONata marks stages, predicates, grouping… with more). */
function only(node: Node, keys: string[]): boolean {
  return Object.keys(node).every((k) => keys.includes(k));
}

/** `a.b.c`: names only, no predicate, stage, grouping, index or focus on any step. */
function plainPath(node: Node): string[] | undefined {
  if (node.type !== 'path' || !only(node, ['type', 'steps', 'position']) || !Array.isArray(node.steps)) return undefined;
  const names: string[] = [];
  for (const step of node.steps as Node[]) {
    if (step.type !== 'name' || typeof step.value !== 'string' || !only(step, ['type', 'value', 'position'])) return undefined;
    names.push(step.value);
  }
  return names.length > 0 ? names : undefined;
}

/** A string or number literal. */
function literal(node: Node): { value: string | number } | undefined {
  if ((node.type === 'string' && typeof node.value === 'string') || (node.type === 'number' && typeof node.value === 'number' && Number.isFinite(node.value))) {
    return only(node, ['type', 'value', 'position']) ? { value: node.value } : undefined;
  }
  return undefined;
}

const isPlainObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

/** A path's value on `input` as JSONata's lookup gives it (own properties only), or DEFER at an array. */
function follow(names: string[], input: unknown): unknown {
  if (!isPlainObject(input)) return DEFER;
  let at: unknown = input;
  for (const name of names) {
    if (Array.isArray(at)) return DEFER;
    if (!isPlainObject(at) || !Object.prototype.hasOwnProperty.call(at, name)) return undefined;
    at = at[name];
  }
  return Array.isArray(at) || typeof at === 'function' ? DEFER : at;
}

/** A value of an object's pair (its input already known to be an object): a plain path or a literal. */
function valueOf(node: Node): FastEvaluator | undefined {
  const names = plainPath(node);
  if (names) return (input) => follow(names, input);
  const lit = literal(node);
  return lit ? () => lit.value : undefined;
}

/** `path = "literal"`, `path != 0`: JSONata is false when the path has no value. */
function equality(node: Node): FastEvaluator | undefined {
  if (node.type !== 'binary' || (node.value !== '=' && node.value !== '!=') || !only(node, ['type', 'value', 'position', 'lhs', 'rhs'])) return undefined;
  const names = plainPath(node.lhs as Node);
  const lit = literal(node.rhs as Node);
  if (!names || !lit) return undefined;
  const equal = node.value === '=';
  return (input) => {
    const value = follow(names, input);
    if (value === undefined) return false;
    // JSONata compares objects deeply; such a comparison (and an array on the way) is its to make.
    if (value === DEFER || typeof value === 'object') return DEFER;
    return (value === lit.value) === equal;
  };
}

/** `{"key": value, …}` with literal, distinct keys: JSONata leaves out keys whose value is undefined. */
function objectOf(node: Node): FastEvaluator | undefined {
  if (node.type !== 'unary' || node.value !== '{' || !only(node, ['type', 'value', 'position', 'lhs']) || !Array.isArray(node.lhs)) return undefined;
  const pairs: [string, FastEvaluator][] = [];
  for (const pair of node.lhs as [Node, Node][]) {
    const key = pair[0].type === 'string' && only(pair[0], ['type', 'value', 'position']) ? pair[0].value : undefined;
    const value = valueOf(pair[1]);
    // JSONata refuses duplicate keys (D1009) and its own internal flags as keys (D1013): its errors to give.
    if (typeof key !== 'string' || !value || key === '_jsonata_lambda' || key === '_jsonata_function' || pairs.some(([k]) => k === key)) return undefined;
    pairs.push([key, value]);
  }
  return (input) => {
    if (!isPlainObject(input)) return DEFER;
    // JSONata builds its objects without a prototype.
    const result: Record<string, unknown> = Object.create(null) as Record<string, unknown>;
    for (const [key, value] of pairs) {
      const v = value(input);
      if (v === DEFER) return DEFER;
      if (v !== undefined) result[key] = v;
    }
    return result;
  };
}

/** The direct evaluator of an expression's syntax tree, or undefined when it is not one of the plain forms. */
export function fastEvaluator(ast: unknown): FastEvaluator | undefined {
  if (!isPlainObject(ast)) return undefined;
  const node = ast as Node;
  const names = plainPath(node);
  return objectOf(node) ?? equality(node) ?? (names ? (input) => follow(names, input) : undefined);
}
