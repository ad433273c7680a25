/**
 * RFC 8785 (JCS) canonical JSON and the per-leaf digests that let a verifier say which field of a
 * document changed.
 */
import canonicalize from 'canonicalize';

/** JCS text of a JSON value; refuses what JSON cannot carry rather than sealing something else. */
export function jcs(value: unknown): string {
  const text = canonicalize(value);
  if (text === undefined) throw new TypeError('the value has no JSON form');
  return text;
}

export function jcsBytes(value: unknown): Buffer {
  return Buffer.from(jcs(value), 'utf8');
}

/** RFC 6901 escaping of one reference token. */
function escapeToken(token: string): string {
  return token.replace(/~/g, '~0').replace(/\//g, '~1');
}

/**
 * Every leaf of a JSON document with its JSON Pointer. Leaves are primitives and empty
 * containers (so emptying an object is a change too); the root of a primitive document is "".
 * Stops once more than `max` leaves are found and answers undefined: the caller then seals
 * without field digests instead of building a huge seal.
 */
export function leaves(document: unknown, max = Number.POSITIVE_INFINITY): Map<string, unknown> | undefined {
  const out = new Map<string, unknown>();
  // An explicit stack: a deeply nested hostile document must not overflow the call stack.
  const stack: Array<[string, unknown]> = [['', document]];
  while (stack.length > 0) {
    const [pointer, value] = stack.pop() as [string, unknown];
    if (Array.isArray(value) && value.length > 0) {
      for (let i = value.length - 1; i >= 0; i--) stack.push([`${pointer}/${i}`, value[i]]);
    } else if (value !== null && typeof value === 'object' && !Array.isArray(value) && Object.keys(value).length > 0) {
      const keys = Object.keys(value);
      for (let i = keys.length - 1; i >= 0; i--) stack.push([`${pointer}/${escapeToken(keys[i])}`, (value as Record<string, unknown>)[keys[i]]]);
    } else {
      out.set(pointer, value);
      if (out.size > max) return undefined;
    }
  }
  return out;
}

/** Longest JSON Pointer a seal names; a document nested deeper is sealed without field digests. */
export const MAX_POINTER_LENGTH = 1024;

/** Hex digest of JCS(value) for each leaf, by pointer. */
export function fieldDigests(document: unknown, digest: (bytes: Uint8Array) => string, max?: number): Record<string, string> | undefined {
  const found = leaves(document, max);
  if (!found) return undefined;
  const out: Record<string, string> = {};
  for (const [pointer, value] of found) {
    if (pointer.length > MAX_POINTER_LENGTH) return undefined;
    out[pointer] = digest(jcsBytes(value));
  }
  return out;
}

/** Pointers whose digest differs, or that exist on one side only; sorted, so answers are stable. */
export function changedFields(sealed: Readonly<Record<string, string>>, actual: Readonly<Record<string, string>>): string[] {
  const changed = new Set<string>();
  for (const [pointer, digest] of Object.entries(sealed)) if (actual[pointer] !== digest) changed.add(pointer);
  for (const pointer of Object.keys(actual)) if (!(pointer in sealed)) changed.add(pointer);
  return [...changed].sort();
}

/** The document in a payload, when the bytes are strict UTF-8 JSON; undefined otherwise. */
export function parseJsonPayload(bytes: Uint8Array): { document: unknown } | undefined {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    return undefined;
  }
  try {
    return { document: JSON.parse(text) as unknown };
  } catch {
    return undefined;
  }
}

/** True when no container in the value is nested deeper than `limit` (JCS itself recurses). */
export function withinDepth(value: unknown, limit: number): boolean {
  const stack: Array<[unknown, number]> = [[value, 0]];
  while (stack.length > 0) {
    const [item, depth] = stack.pop() as [unknown, number];
    if (item === null || typeof item !== 'object') continue;
    if (depth >= limit) return false;
    for (const child of Object.values(item)) stack.push([child, depth + 1]);
  }
  return true;
}
