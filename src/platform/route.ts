/**
 * One statement declares an HTTP operation and serves it:
 *
 *   route(router, { method: 'get', path: '/api/v1/x/{id}', operationId, tags, summary, security, responses }, handler);
 *
 * The declaration is a zod-to-openapi RouteConfig (its path in OpenAPI form, `{id}`); the handlers
 * are mounted at the same path in express form (`:id`), and the declaration is kept with the router.
 * scripts/openapi.ts builds the app and generates docs/openapi.yaml from these declarations, so the
 * document is written where each route is, and names no path the code does not serve.
 */
import type { IRouter, Request, RequestHandler } from 'express';
import type { z } from 'zod';

/** A JSON Schema written out, for what no zod schema describes (a path segment, an XML text). */
export type Schema = { [keyword: string]: unknown };
/** Bodies by media type: the zod schema the handler validates with (or answers in), or a JSON Schema. */
export type Content = Record<string, { schema: z.ZodType | Schema; example?: unknown }>;

export interface Parameter {
  name: string;
  in: 'path' | 'query' | 'header';
  required: boolean;
  description?: string;
  allowEmptyValue?: boolean;
  schema: Schema;
}

export interface Response {
  description: string;
  content?: Content;
}

/** An operation as OpenAPI 3.1 says it (a zod-to-openapi RouteConfig once its zod schemas are named). */
export interface Operation {
  method: 'get' | 'put' | 'post' | 'delete';
  path: string;
  operationId: string;
  tags: string[];
  summary: string;
  description?: string;
  /** Said on every operation, `[]` for a public one: an operation that forgot it would read as public. */
  security: Record<string, string[]>[];
  /**
   * The query as the handler parses it: each field a query parameter, described by its `.describe()`,
   * so the document states exactly what the handler accepts (an empty `cursor`, a `limit` of 0 …).
   */
  query?: z.ZodObject;
  /** Path and header parameters (and a query parameter no zod schema reads). */
  parameters?: Parameter[];
  requestBody?: { required: boolean; description?: string; content: Content };
  responses: Record<string, Response>;
}

/** A route to declare: an operation, and paths it is also served at that are no part of the interface. */
export type Declared = Operation & {
  /** Express paths served by the same handlers without being documented (e.g. `/console/index.html`). */
  alsoAt?: string[];
};

const declarations = new WeakMap<IRouter, Operation[]>();

/** The operations declared on this router (or mounted into it with `mount`), in declaration order. */
export function operationsOf(router: IRouter): Operation[] {
  let list = declarations.get(router);
  if (!list) declarations.set(router, (list = []));
  return list;
}

/** `/a/{id}` (OpenAPI) → `/a/:id` (express). */
export function expressPath(path: string): string {
  return path.replace(/\{(\w+)\}/g, ':$1');
}

/** Declares the operation and mounts its handlers at its path: one statement, so neither can drift. */
export function route(router: IRouter, declared: Declared, ...handlers: RequestHandler[]): void {
  const { alsoAt, ...operation } = declared;
  const path = expressPath(operation.path);
  router[operation.method](alsoAt ? [path, ...alsoAt] : path, ...handlers);
  operationsOf(router).push(operation);
}

/** `app.use(router)`, carrying the router's declarations into the app's. */
export function mount(app: IRouter, router: IRouter): void {
  app.use(router);
  operationsOf(app).push(...operationsOf(router));
}

/**
 * Whether a report is answered as CSV: `format=csv` says so, another `format` says not, and without
 * one the Accept header chooses between CSV and the route's own `otherType`.
 */
export function answersCsv(req: Request, format: string | undefined, otherType: string): boolean {
  return format === 'csv' || (format === undefined && req.accepts([otherType, 'text/csv']) === 'text/csv');
}
