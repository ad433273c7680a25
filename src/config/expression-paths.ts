/**
 * The places a JSONata expression sits in a system file (src/config/schema.ts). Free of imports, so
 * the console's browser bundle (the system page's editor highlights them) shares this one list.
 */
export const EXPRESSION_PATHS: ReadonlyArray<ReadonlyArray<string>> = [
  ['request', 'body'],
  ['response', 'success'],
  ['response', 'receiptNo'],
  ['response', 'error'],
  ['response', 'retryable'],
  ['result', 'map'],
  ['result', 'poll', 'until'],
  ['result', 'poll', 'body'],
  ['result', 'poll', 'map'],
  ['lookup', 'request'],
  ['lookup', 'response', 'found'],
  ['lookup', 'response', 'data'],
  ['lookup', 'response', 'notFound'],
  ['lookup', 'response', 'error'],
];
