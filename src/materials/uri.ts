/**
 * What a material's `uri` may name (材料零提交: the case carries references, never copies): a file of
 * a configured material store, as `store://<id>/<path>` or as a URL under the store's `baseUrl`, or
 * a document a shared-data look-up returned, as `lookup://<queryId>/<kind>`. Everything else —
 * another scheme, another host, an address spelled another way, a user name, a path that climbs out
 * of the store — is refused at intake and never fetched, so the gateway cannot be used to reach
 * what the intake platform could not.
 */
import type { MaterialsSettings } from '../config/schema';

/** A material the gateway may fetch, as intake read it. */
export type MaterialSource =
  | { kind: 'store'; storeId: string; /** Relative to the store's base URL, percent-encoded as sent. */ path: string }
  | { kind: 'lookup'; queryId: string; documentKind: string };

export type MaterialUriReading = { ok: true; source: MaterialSource } | { ok: false; reason: string };

const refuse = (reason: string): MaterialUriReading => ({ ok: false, reason });

/** A path segment once percent-decoded: never `.` or `..`, never a hidden separator or control character. */
function segmentProblem(raw: string): string | undefined {
  let decoded: string;
  try {
    decoded = decodeURIComponent(raw);
  } catch {
    return 'a malformed percent-encoding';
  }
  if (decoded === '') return 'an empty path segment';
  if (decoded === '.' || decoded === '..') return 'a "." or ".." path segment (it would leave its folder)';
  if (/[/\\]/.test(decoded)) return 'an encoded slash or backslash';
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(decoded)) return 'a control character';
  return undefined;
}

/** Reads a store-relative path: segments of URL path characters, none climbing out. */
function storePath(path: string): string | undefined {
  if (!/^[A-Za-z0-9._~!$&'()*+,;=:@%/-]+$/.test(path)) return 'characters a URL path cannot carry unencoded';
  for (const segment of path.split('/')) {
    const problem = segmentProblem(segment);
    if (problem) return problem;
  }
  return undefined;
}

/** The base URL's path as a folder: with a trailing slash. */
function folderOf(baseUrl: string): URL {
  const base = new URL(baseUrl);
  if (!base.pathname.endsWith('/')) base.pathname += '/';
  return base;
}

/** Reads `uri` against the configured stores; a look-up's ownership is checked by the caller (it needs Redis). */
export function readMaterialUri(uri: string, settings: MaterialsSettings): MaterialUriReading {
  const stores = settings.stores;
  const lookup = /^lookup:\/\/([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\/([a-z0-9-]{1,64})$/.exec(uri);
  if (lookup) return { ok: true, source: { kind: 'lookup', queryId: lookup[1]!, documentKind: lookup[2]! } };
  if (uri.startsWith('lookup:')) return refuse('a look-up document is lookup://<queryId>/<kind>, the queryId and kind of a shared-data look-up of this case');

  const store = /^store:\/\/([^/]*)\/(.*)$/.exec(uri);
  if (store) {
    const [, storeId, path] = store as unknown as [string, string, string];
    if (!Object.hasOwn(stores, storeId)) return refuse(`no material store "${storeId}" is configured (materials.stores in gateway.yaml)`);
    const problem = storePath(path);
    if (problem) return refuse(`the path has ${problem}`);
    return { ok: true, source: { kind: 'store', storeId, path } };
  }
  if (uri.startsWith('store:')) return refuse('a store material is store://<storeId>/<path>');

  // A URL is taken only as the very URL of a file under a store's base URL, compared after the
  // WHATWG parser has normalised it (decimal, octal and IPv6-mapped spellings of an address become
  // the address) and checked before it did (no user name, no climbing path, no backslash).
  if (!/^https?:\/\//i.test(uri)) return refuse('only store://, lookup:// and URLs under a configured material store are accepted');
  if (/[\\\s]/.test(uri)) return refuse('a URL with a backslash or white space is not accepted');
  const authority = uri.replace(/^https?:\/\//i, '').split(/[/?#]/)[0] ?? '';
  if (authority.includes('@')) return refuse('a URL with a user name or password is not accepted');
  let url: URL;
  try {
    url = new URL(uri);
  } catch {
    return refuse('not a URL');
  }
  if (url.hash) return refuse('a URL with a fragment is not accepted');
  const rawPath = uri.replace(/^https?:\/\/[^/?#]*/i, '').split(/[?#]/)[0] ?? '';
  for (const [storeId, config] of Object.entries(stores)) {
    const base = folderOf(config.baseUrl);
    // The host as written, too: another spelling of the store's address is not the store.
    if (url.protocol !== base.protocol || url.host !== base.host || authority.toLowerCase() !== base.host) continue;
    if (!url.pathname.startsWith(base.pathname)) continue;
    // The path as sent, so that /store/a/%2e%2e/../x is judged before the parser folds it away.
    const problem = rawPath.startsWith(base.pathname) ? storePath(rawPath.slice(base.pathname.length) || '') : 'a path outside the store';
    if (problem) return refuse(`the path has ${problem}`);
    return { ok: true, source: { kind: 'store', storeId, path: rawPath.slice(base.pathname.length) + url.search } };
  }
  return refuse('the URL is not under the base URL of any configured material store');
}

/** The URL a store material is fetched from. */
export function storeUrl(baseUrl: string, path: string): URL {
  const url = new URL(path, folderOf(baseUrl));
  return url;
}

/** Whether `url` (a redirect's target, say) lies under the store's base URL. */
export function withinStore(baseUrl: string, url: URL): boolean {
  const base = folderOf(baseUrl);
  return url.protocol === base.protocol && url.host === base.host && url.pathname.startsWith(base.pathname) && !url.username && !url.password;
}
