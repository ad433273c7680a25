import crypto from 'node:crypto';

/**
 * `sha256=<hex HMAC-SHA256(secret, timestamp + "." + body)>`, as callbacks are signed. The
 * body may be the exact bytes sent, which for a GBK or GB18030 system are not the text's UTF-8.
 */
export function sign(secret: string, timestamp: number, body: string | Buffer): string {
  return 'sha256=' + crypto.createHmac('sha256', secret).update(`${timestamp}.`).update(body).digest('hex');
}

/**
 * `sha256=<hex HMAC-SHA256(secret, timestamp + "." + nonce + "." + METHOD + "." + path-with-query + "." + body)>`,
 * as the intake platform signs its requests: the method and the path are signed too, so a signature
 * made for one request is worth nothing on another route.
 */
export function signIntakeRequest(secret: string, request: { timestamp: string; nonce: string; method: string; pathWithQuery: string; body: string | Buffer }): string {
  const { timestamp, nonce, method, pathWithQuery, body } = request;
  return 'sha256=' + crypto.createHmac('sha256', secret).update(`${timestamp}.${nonce}.${method.toUpperCase()}.${pathWithQuery}.`).update(body).digest('hex');
}

/** Compares secrets in constant time so a caller cannot learn a token byte by byte. */
export function safeEqual(a: string, b: string): boolean {
  const ha = crypto.createHash('sha256').update(a).digest();
  const hb = crypto.createHash('sha256').update(b).digest();
  return crypto.timingSafeEqual(ha, hb) && a.length === b.length;
}
