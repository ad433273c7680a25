/**
 * The one JSON body parser of the HTTP interface: express's, plus the shape checks every JSON body
 * gets before anything walks it (hashing, mapping, storing): a nesting limit, since a few KB of
 * `[[[[…` would overflow the stack of a recursive walk, no `__proto__`, `constructor` or
 * `prototype` key, which could reach a prototype wherever the body is merged into an object, and no
 * key or string that is not storable text (a NUL, another C0 control: see text.ts).
 */
import { json, type RequestHandler } from 'express';
import { verifyIntakeSignature, type SignatureCheck } from './access';
import { ApiError } from './errors';
import { reenterRequest } from './http-observe';
import { notTextReason } from './text';

export const MAX_JSON_DEPTH = 64;

const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

/** The first reason `value` is refused, with its path; an iterative walk, safe at any depth. */
export function jsonShapeProblem(value: unknown, maxDepth = MAX_JSON_DEPTH): { path: string; message: string } | undefined {
  const pending: Array<{ value: unknown; depth: number; path: string }> = [{ value, depth: 0, path: '' }];
  while (pending.length > 0) {
    const at = pending.pop()!;
    if (typeof at.value === 'string') {
      const reason = notTextReason(at.value);
      if (reason) return { path: at.path || '(body)', message: reason };
      continue;
    }
    if (at.value === null || typeof at.value !== 'object') continue;
    if (at.depth >= maxDepth) return { path: at.path || '(body)', message: `nested deeper than ${maxDepth} levels` };
    if (Array.isArray(at.value)) {
      at.value.forEach((item, i) => pending.push({ value: item, depth: at.depth + 1, path: `${at.path}[${i}]` }));
      continue;
    }
    for (const [key, item] of Object.entries(at.value)) {
      const path = at.path ? `${at.path}.${key}` : key;
      if (FORBIDDEN_KEYS.has(key)) return { path, message: `the key "${key}" is not allowed` };
      const reason = notTextReason(key);
      if (reason) return { path, message: `a key that ${reason}` };
      pending.push({ value: item, depth: at.depth + 1, path });
    }
  }
  return undefined;
}

const RAW = Symbol('raw body');

/**
 * `express.json` with the limit given, then the intake signature when one is required (it covers
 * the exact bytes), then the shape check: 400 `invalid_json` naming the path.
 */
export function jsonBody(limit: string | number): RequestHandler[] {
  return [
    json({ limit, strict: false, verify: (req, _res, buf) => void ((req as unknown as Record<symbol, Buffer>)[RAW] = buf) }),
    async (req, res, next) => {
      try {
        const check = res.locals.intakeSignature as SignatureCheck | undefined;
        if (check) await verifyIntakeSignature(req, (req as unknown as Record<symbol, Buffer | undefined>)[RAW] ?? Buffer.alloc(0), check);
      } catch (err) {
        return next(err);
      }
      const problem = jsonShapeProblem(req.body);
      next(problem ? new ApiError('invalid_json', `The body is refused at ${problem.path}: ${problem.message}.`, [problem]) : undefined);
    },
    reenterRequest,
  ];
}
