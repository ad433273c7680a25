import crypto from 'node:crypto';

/** `sha256=<hex HMAC-SHA256(secret, timestamp + "." + body)>`, as CONTRACT §6 signs callbacks. */
export function sign(secret: string, timestamp: number, body: string): string {
  return 'sha256=' + crypto.createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex');
}

/** Compares secrets in constant time so a caller cannot learn a token byte by byte. */
export function safeEqual(a: string, b: string): boolean {
  const ha = crypto.createHash('sha256').update(a).digest();
  const hb = crypto.createHash('sha256').update(b).digest();
  return crypto.timingSafeEqual(ha, hb) && a.length === b.length;
}
