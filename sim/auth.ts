/**
 * The credentials a simulated system checks on an HTTP request (REST, and XML over HTTP), as its
 * config file asks the gateway to send them. WS-Security lives inside SOAP envelopes: the SOAP
 * simulator checks it itself.
 */
import crypto from 'node:crypto';
import type { Auth } from '../src/config/schema';

/** How old a signed request may be: room for a slow retry, none for a replay days later. */
export const HMAC_TOLERANCE_S = 300;

/**
 * Whether the request carries the system's credentials. `header` reads a request header by its
 * lower-case name; `raw` is the exact body received (signed requests are signed over it).
 */
export function httpAuthorized(auth: Auth, header: (name: string) => string | undefined, raw: Buffer): boolean {
  const authorization = header('authorization');
  switch (auth.type) {
    case 'none':
      return true;
    case 'bearer':
      return authorization !== undefined && /^Bearer\s+/i.test(authorization) && authorization.replace(/^Bearer\s+/i, '') === auth.token;
    case 'basic':
      return authorization === `Basic ${Buffer.from(`${auth.username}:${auth.password}`).toString('base64')}`;
    case 'hmac': {
      // Signed the way the gateway signs its callbacks, over the exact bytes sent:
      // X-OW-Signature: sha256=<hex HMAC-SHA256(secret, X-OW-Timestamp + "." + body)>.
      const timestamp = header('x-ow-timestamp') ?? '';
      const signature = header('x-ow-signature') ?? '';
      if (!/^\d+$/.test(timestamp) || Math.abs(Date.now() / 1000 - Number(timestamp)) > HMAC_TOLERANCE_S) return false;
      const expected = 'sha256=' + crypto.createHmac('sha256', auth.secret).update(`${timestamp}.`).update(raw).digest('hex');
      return signature === expected;
    }
    case 'wsse':
      // WS-Security is inside the SOAP envelope, which plain HTTP does not read.
      return true;
  }
}
