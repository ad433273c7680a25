/**
 * docs/openapi.yaml as a contract tests hold answers to: its operations, a JSON Schema validator
 * (ajv, draft 2020-12) for any schema in it by JSON pointer, and fast-check arbitraries generating
 * values from the subset of JSON Schema the document uses.
 */
import fs from 'node:fs';
import path from 'node:path';
import Ajv2020, { type ValidateFunction } from 'ajv/dist/2020';
import fc from 'fast-check';
import YAML from 'yaml';

export type Schema = { [keyword: string]: unknown };

export interface Parameter {
  name: string;
  in: 'path' | 'query' | 'header';
  required: boolean;
  schema: Schema;
}

export interface DocumentedResponse {
  description: string;
  content?: Record<string, { schema: Schema }>;
}

export interface DocumentedOperation {
  method: string;
  path: string;
  operationId: string;
  security: Record<string, string[]>[];
  parameters?: Parameter[];
  requestBody?: { required: boolean; content: Record<string, { schema: Schema }> };
  responses: Record<string, DocumentedResponse>;
}

export interface OpenApiContract {
  operations: DocumentedOperation[];
  /** The schema at this pointer of the document (`#/components/schemas/Case`), resolving `$ref`s. */
  schemaAt(pointer: string): Schema;
  /** Why `value` does not fit the schema at `pointer`, or undefined when it does. */
  invalid(pointer: string, value: unknown): string | undefined;
}

const DOC_ID = 'https://onewindow.invalid/openapi.json';

/** `a/b~c` as one JSON pointer segment. */
export const pointerSegment = (s: string): string => s.replace(/~/g, '~0').replace(/\//g, '~1');

/** RFC 3339 date-time, as the gateway writes and reads instants. */
const DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/i;

export function openApiContract(file = path.resolve(__dirname, '../../docs/openapi.yaml')): OpenApiContract {
  const doc = YAML.parse(fs.readFileSync(file, 'utf8')) as { paths: Record<string, Record<string, Omit<DocumentedOperation, 'method' | 'path'>>> };
  const ajv = new Ajv2020({ strict: false, allErrors: false, validateFormats: true });
  ajv.addFormat('date-time', (s: string) => DATE_TIME.test(s) && !Number.isNaN(Date.parse(s)));
  ajv.addFormat('date', (s: string) => /^\d{4}-\d{2}-\d{2}$/.test(s) && new Date(`${s}T00:00:00Z`).toISOString().startsWith(s));
  ajv.addFormat('uri', (s: string) => URL.canParse(s));
  ajv.addSchema({ ...doc, $id: DOC_ID });
  const compiled = new Map<string, ValidateFunction>();
  const operations = Object.entries(doc.paths).flatMap(([p, item]) => Object.entries(item).map(([method, op]) => ({ ...op, method: method.toUpperCase(), path: p })));

  function schemaAt(pointer: string): Schema {
    let at: unknown = doc;
    for (const segment of pointer.replace(/^#\//, '').split('/')) {
      at = (at as Record<string, unknown>)[segment.replace(/~1/g, '/').replace(/~0/g, '~')];
      if (at === undefined) throw new Error(`openapi: nothing at ${pointer}`);
    }
    const ref = (at as Schema).$ref;
    return typeof ref === 'string' ? schemaAt(ref) : (at as Schema);
  }

  return {
    operations,
    schemaAt,
    invalid(pointer, value) {
      let validate = compiled.get(pointer);
      if (!validate) compiled.set(pointer, (validate = ajv.compile({ $ref: `${DOC_ID}${pointer}` })));
      if (validate(value)) return undefined;
      return ajv.errorsText(validate.errors, { dataVar: 'answer' });
    },
  };
}

export interface ArbitraryOptions {
  /** Values for a string property or parameter by its name (known case ids, system ids …), used half the time. */
  known?: (name: string) => string[] | undefined;
}

/**
 * Values of the schema at `pointer`: valid ones as the schema describes them, built on fast-check.
 * The keywords docs/openapi.yaml uses are handled; any other fails loudly rather than being ignored.
 */
export function arbitraryOf(contract: OpenApiContract, schema: Schema, options: ArbitraryOptions = {}, name = '', depth = 0): fc.Arbitrary<unknown> {
  if (typeof schema.$ref === 'string') return arbitraryOf(contract, contract.schemaAt(schema.$ref), options, name, depth);
  if ('const' in schema) return fc.constant(schema.const);
  if (Array.isArray(schema.enum)) return fc.constantFrom(...(schema.enum as unknown[]));
  const alternatives = (schema.oneOf ?? schema.anyOf) as Schema[] | undefined;
  if (alternatives) return fc.oneof(...alternatives.map((s) => arbitraryOf(contract, { ...s }, options, name, depth)));
  const type = Array.isArray(schema.type) ? (schema.type as string[]) : schema.type === undefined ? undefined : [schema.type as string];
  if (type && type.length > 1) return fc.oneof(...type.map((t) => arbitraryOf(contract, { ...schema, type: t }, options, name, depth)));
  switch (type?.[0]) {
    case undefined:
      return fc.jsonValue({ maxDepth: 2 });
    case 'null':
      return fc.constant(null);
    case 'boolean':
      return fc.boolean();
    case 'integer':
    case 'number': {
      const min = typeof schema.exclusiveMinimum === 'number' ? schema.exclusiveMinimum + 1 : (schema.minimum as number | undefined);
      const max = typeof schema.exclusiveMaximum === 'number' ? schema.exclusiveMaximum - 1 : (schema.maximum as number | undefined);
      return fc.integer({ min: min ?? -1000, max: max ?? Math.max(1000, (min ?? 0) + 1000) });
    }
    case 'string':
      return stringOf(schema, options, name);
    case 'array': {
      const items = arbitraryOf(contract, (schema.items as Schema) ?? {}, options, name, depth + 1);
      const minLength = (schema.minItems as number | undefined) ?? 0;
      const maxLength = Math.min((schema.maxItems as number | undefined) ?? minLength + 3, minLength + (depth > 3 ? 0 : 3));
      return schema.uniqueItems ? fc.uniqueArray(items, { minLength, maxLength, selector: (v) => JSON.stringify(v) }) : fc.array(items, { minLength, maxLength });
    }
    case 'object': {
      const properties = (schema.properties ?? {}) as Record<string, Schema>;
      const required = (schema.required ?? []) as string[];
      const model = Object.fromEntries(Object.entries(properties).map(([key, s]) => [key, arbitraryOf(contract, s, options, key, depth + 1)]));
      const known = fc.record(model, { requiredKeys: required.filter((key) => key in model) });
      const extra = schema.additionalProperties;
      if (extra === false || extra === undefined || depth > 3) return known;
      const keys = schema.propertyNames ? (arbitraryOf(contract, schema.propertyNames as Schema, options, name, depth + 1) as fc.Arbitrary<string>) : fc.string({ minLength: 1, maxLength: 12 });
      const values = extra === true ? fc.jsonValue({ maxDepth: 1 }) : arbitraryOf(contract, extra as Schema, options, name, depth + 1);
      return fc.tuple(known, fc.dictionary(keys, values, { maxKeys: 3 })).map(([k, d]) => ({ ...d, ...k }));
    }
    default:
      throw new Error(`openapi-contract: no arbitrary for type ${String(type?.[0])}`);
  }
}

function stringOf(schema: Schema, options: ArbitraryOptions, name: string): fc.Arbitrary<string> {
  const minLength = (schema.minLength as number | undefined) ?? 0;
  const maxLength = (schema.maxLength as number | undefined) ?? Math.max(minLength, 24);
  let base: fc.Arbitrary<string>;
  if (schema.format === 'date-time') base = fc.date({ min: new Date('2020-01-01T00:00:00Z'), max: new Date('2030-01-01T00:00:00Z'), noInvalidDate: true }).map((d) => d.toISOString());
  else if (schema.format === 'date') base = fc.date({ min: new Date('2020-01-01T00:00:00Z'), max: new Date('2030-01-01T00:00:00Z'), noInvalidDate: true }).map((d) => d.toISOString().slice(0, 10));
  else if (schema.format === 'uri') base = fc.constantFrom('http://127.0.0.1:9/x', 'https://127.0.0.1:9/y', 'share://id/330802199001011234');
  else if (typeof schema.pattern === 'string') {
    // The pattern says the length unless minLength or maxLength say more.
    const fits = (s: string) => s.length >= minLength && (schema.maxLength === undefined || s.length <= maxLength);
    base = fc.stringMatching(new RegExp(schema.pattern as string)).filter(fits);
  }
  else base = fc.string({ minLength, maxLength: Math.min(maxLength, minLength + 24), unit: fc.constantFrom(...'aZ09 -_.:/%&=?#<>"\'\\中文张三衢州\n'.split('')) as fc.Arbitrary<string> });
  const known = options.known?.(name)?.filter((s) => s.length >= minLength && s.length <= maxLength);
  return known && known.length > 0 ? fc.oneof(base, fc.constantFrom(...known)) : base;
}
