/**
 * The configuration as YAML text and back, and where in that text a key path the gateway names
 * (`response.success`, `retry.backoff.type`, `lookup.kinds[0]`) is written.
 */
import YAML, { isMap, isScalar, isSeq, type Document, type Node } from 'yaml';
import { EXPRESSION_PATHS } from '../../../config/expression-paths';

/** As ops read it: one key per line, JSONata strings unfolded and single-quoted where they can be. */
export function toYaml(system: Record<string, unknown>): string {
  return YAML.stringify(system, { lineWidth: 0, singleQuote: true });
}

export function parseYaml(text: string): Document.Parsed {
  return YAML.parseDocument(text, { prettyErrors: false });
}

/** `a.b[0].c` → ['a', 'b', 0, 'c']; `(body)` and the like → []. */
export function pathSegments(path: string | undefined): Array<string | number> {
  if (!path || path.startsWith('(')) return [];
  const segments: Array<string | number> = [];
  for (const m of path.matchAll(/\[(\d+)\]|([^.[\]]+)/g)) segments.push(m[1] !== undefined ? Number(m[1]) : m[2]!);
  return segments;
}

export interface Located {
  from: number;
  to: number;
  /** Whether the whole path was found (else the nearest key that exists is pointed at). */
  exact: boolean;
}

/**
 * The text range of a key path: from its key to the end of its value's first line, or of the
 * nearest parent that exists (a missing required key is reported at its parent).
 */
export function locate(doc: Document.Parsed, text: string, path: string | undefined): Located {
  const segments = pathSegments(path);
  let node: Node | null | undefined = doc.contents as Node | null;
  let from = 0;
  let to = text.indexOf('\n') < 0 ? text.length : text.indexOf('\n');
  let exact = true;
  for (const segment of segments) {
    if (isMap(node)) {
      const pair = node.items.find((p) => isScalar(p.key) && String(p.key.value) === String(segment));
      if (!pair || !isScalar(pair.key) || !pair.key.range) {
        exact = false;
        break;
      }
      from = pair.key.range[0];
      const value = pair.value as Node | null;
      to = value?.range ? value.range[1] : pair.key.range[1];
      node = value;
    } else if (isSeq(node) && typeof segment === 'number' && node.items[segment]) {
      const item = node.items[segment] as Node;
      if (!item.range) {
        exact = false;
        break;
      }
      [from, to] = item.range;
      node = item;
    } else {
      exact = false;
      break;
    }
  }
  const lineEnd = text.indexOf('\n', from);
  if (lineEnd >= 0 && to > lineEnd) to = lineEnd;
  return { from: Math.min(from, text.length), to: Math.max(Math.min(to, text.length), Math.min(from, text.length)), exact };
}

/** Where the JSONata expressions are written in the text (the string scalars at EXPRESSION_PATHS). */
export function expressionRanges(doc: Document.Parsed): Array<[number, number]> {
  const ranges: Array<[number, number]> = [];
  for (const path of EXPRESSION_PATHS) {
    const node = doc.getIn(path, true);
    if (isScalar(node) && typeof node.value === 'string' && node.range) ranges.push([node.range[0], node.range[1]]);
  }
  return ranges.sort((a, b) => a[0] - b[0]);
}
