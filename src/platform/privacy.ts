/**
 * The masking policy for personal data and secrets in free text: what a legacy system says back
 * (error pages, faults, refusals that echo the request) is masked where its excerpt is made, so a
 * full ID number, phone number, bank card number or credential never reaches `lastError`, the
 * history, a log line or a callback. Every pattern here is linear: it sees attacker-sized input.
 */

/** Keeps the first 3 and last 2 characters of an ID or phone number, e.g. 330*************34. */
export function mask(value: string): string {
  if (value.length <= 5) return '*'.repeat(value.length);
  return value.slice(0, 3) + '*'.repeat(value.length - 5) + value.slice(-2);
}

/** `grouped`: the lengths of the groups it was written in (a bank card number counts only in groups of four, as cards print it: a date range is not one). */
function isPersonalNumber(run: string, grouped?: readonly number[]): boolean {
  // The shortest is a mobile number: most runs (amounts, counts, dates) are decided here.
  if (run.length < 11) return false;
  const digits = run.replace(/[Xx]$/, '');
  const checkLetter = digits.length !== run.length;
  // Resident ID numbers: 18 characters (the last may be X), or the old 15-digit form.
  if (digits.length === 17 && checkLetter) return true;
  if (checkLetter) return false;
  if (digits.length === 18) return true;
  // The old 15-digit form (retired in 2013) only as one run: joined, it would take case ids for one.
  if (digits.length === 15) return !grouped;
  // Mobile numbers, with or without the country code.
  if (digits.length === 11 && /^1[3-9]/.test(digits)) return true;
  if (digits.length === 13 && /^861[3-9]/.test(digits)) return true;
  // Bank card numbers.
  if (grouped && grouped.slice(0, -1).some((length) => length !== 4)) return false;
  return digits.length >= 16 && digits.length <= 19;
}

const isDigit = (c: string | undefined): boolean => c !== undefined && c >= '0' && c <= '9';
const isCheckLetter = (c: string | undefined): boolean => c === 'X' || c === 'x';
const isWordChar = (c: string | undefined): boolean => c !== undefined && /[A-Za-z0-9]/.test(c);
/** What people write between groups of a number: spaces and dashes, of any width. */
const GROUP_SEPARATORS = new Set([' ', '-', '\u00a0', '\u3000', '\u2010', '\u2011', '\u2012', '\u2013', '\u2014', '\u2212', '\uff0d']);
/** At most this many separator characters between two groups ("138 - 0000 - 0000"). */
const MAX_SEPARATOR = 3;

/**
 * Masks ID, phone and bank card numbers, and each of `secrets`, wherever they appear in `text`.
 * A number is a maximal run of digits (an ID number may end in X), or runs joined by spaces or
 * dashes ("3308 0219 9001 0112 34", "138-0000-0000") when the joined digits are such a number and
 * the whole stands alone (not inside a word: a UUID or a time stamp is not joined). Each run and
 * group is judged by its length, so a run inside a longer number (a time stamp, a receipt) is left
 * alone; one pass, each character looked at a bounded number of times.
 */
export function maskPersonalData(text: string, secrets: readonly string[] = []): string {
  let out = '';
  let copied = 0;
  let i = 0;
  const nextDigit = /\d/g;
  for (;;) {
    nextDigit.lastIndex = i;
    const found = nextDigit.exec(text);
    if (!found) break;
    i = found.index;
    // The runs of one group: digits, an optional check letter that ends the group, separators between.
    const runs: Array<[number, number]> = [];
    let at = i;
    for (;;) {
      let end = at;
      while (isDigit(text[end])) end++;
      const lettered = isCheckLetter(text[end]);
      if (lettered) end++;
      runs.push([at, end]);
      let next = end;
      while (!lettered && next - end < MAX_SEPARATOR && GROUP_SEPARATORS.has(text[next]!)) next++;
      if (next === end || !isDigit(text[next])) break;
      at = next;
    }
    const start = runs[0]![0];
    const end = runs[runs.length - 1]![1];
    const joined = runs.map(([from, to]) => text.slice(from, to)).join('');
    if (runs.length > 1 && !isWordChar(text[start - 1]) && !isWordChar(text[end]) && isPersonalNumber(joined, runs.map(([from, to]) => to - from))) {
      out += text.slice(copied, start) + mask(joined);
      copied = end;
    } else {
      for (const [from, to] of runs) {
        const run = text.slice(from, to);
        if (!isPersonalNumber(run)) continue;
        out += text.slice(copied, from) + mask(run);
        copied = to;
      }
    }
    i = end;
  }
  out += text.slice(copied);
  for (const secret of secrets) if (secret.length >= 4) out = out.split(secret).join('[redacted]');
  return out;
}

/**
 * A request path as the request log and the audit trail keep it: decoded (so "%20" is a space),
 * then masked. Control characters stay encoded: a stored NUL would stop the ledger's sweep.
 */
export function maskPath(path: string): string {
  let decoded = path;
  try {
    decoded = Array.from(decodeURIComponent(path), (c) => (c < ' ' || c === '\u007f' ? encodeURIComponent(c) : c)).join('');
  } catch {
    // Not percent-encoding after all: masked as it came.
  }
  return maskPersonalData(decoded);
}

/** A phone or ID number may arrive as a JSON number: it is shown masked, as text; any other number as it is. */
export function maskNumber(value: number): number | string {
  // Below 10 digits nothing is personal (the common case: counts, durations, statuses).
  if (!Number.isInteger(value) || Math.abs(value) < 1e10) return value;
  const digits = value.toFixed(0);
  const masked = maskPersonalData(digits);
  return masked === digits ? value : masked;
}

/** A copy of a JSON value (our own answers: bounded depth) with every string masked. */
export function maskDeep<T>(value: T): T {
  if (typeof value === 'string') return maskPersonalData(value) as T;
  if (typeof value === 'number') return maskNumber(value) as T;
  if (Array.isArray(value)) return value.map((v: unknown) => maskDeep(v)) as T;
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, maskDeep(v)])) as T;
  return value;
}

/** How much of a reply an excerpt looks at: enough for any error page's message, never megabytes. */
const EXCERPT_WINDOW = 8 * 1024;

/**
 * A short, single-line, tag-free, masked excerpt of what a legacy system sent, for an error
 * message. Script and style blocks are dropped; one linear scan, on the first 8 KB only.
 */
export function legacyExcerpt(text: string, options: { max?: number; secrets?: readonly string[] } = {}): string {
  const max = options.max ?? 160;
  const head = text.slice(0, EXCERPT_WINDOW);
  const lower = head.toLowerCase();
  const parts: string[] = [];
  let i = 0;
  while (i < head.length) {
    const lt = head.indexOf('<', i);
    if (lt < 0) {
      parts.push(head.slice(i));
      break;
    }
    parts.push(head.slice(i, lt), ' ');
    const skipped = /^<(script|style)\b/i.exec(head.slice(lt, lt + 8))?.[1];
    const end = skipped ? lower.indexOf(`</${skipped.toLowerCase()}`, lt) : head.indexOf('>', lt);
    if (end < 0) break;
    i = head.indexOf('>', end) + 1 || head.length;
  }
  const plain = maskPersonalData(parts.join('').replace(/\s+/g, ' ').trim(), options.secrets);
  return plain.length > max ? `${plain.slice(0, max)}…` : plain;
}

/** Query parameters whose value is a credential. */
const SECRET_PARAM = /token|secret|password|passwd|pwd|key|sign|auth/i;

/** Characters of a URL scheme, read backwards from its `://`. */
const SCHEME_CHAR = /[a-z0-9+.-]/i;
/** Where a URL in free text ends. */
const URL_END = /[\s"'<>`]/;

/** One URL written out with the password of its userinfo and its credential-like query values as `***`, nothing else changed. */
function redactUrlText(url: string): string {
  const hostFrom = url.indexOf('://') + 3;
  const slash = url.indexOf('/', hostFrom);
  // As in redactUrl: the userinfo is what comes before the last @ of the authority.
  const at = url.lastIndexOf('@', slash < 0 ? url.length : slash);
  const colon = at >= hostFrom ? url.indexOf(':', hostFrom) : -1;
  const masked = colon >= 0 && colon < at;
  const head = masked ? `${url.slice(0, colon + 1)}***` : '';
  const rest = masked ? url.slice(at) : url;
  const query = rest.indexOf('?');
  if (query < 0) return head + rest;
  const hash = rest.indexOf('#', query);
  const end = hash < 0 ? rest.length : hash;
  const params = rest
    .slice(query + 1, end)
    .split('&')
    .map((param) => {
      const eq = param.indexOf('=');
      return eq > 0 && SECRET_PARAM.test(param.slice(0, eq)) ? `${param.slice(0, eq)}=***` : param;
    });
  return `${head}${rest.slice(0, query + 1)}${params.join('&')}${rest.slice(end)}`;
}

/**
 * Free text (an error message) with every URL in it redacted as `redactUrl` shows one: a fetch that
 * failed names its URL, and a URL may carry a password or a token. One pass: each character is
 * looked at a bounded number of times, whatever the text.
 */
export function redactUrlsIn(text: string): string {
  let at = text.indexOf('://');
  if (at < 0) return text;
  let out = '';
  let copied = 0;
  while (at >= 0) {
    let start = at;
    while (start > copied && SCHEME_CHAR.test(text[start - 1]!)) start--;
    let end = at + 3;
    while (end < text.length && !URL_END.test(text[end]!)) end++;
    if (start < at) {
      out += text.slice(copied, start) + redactUrlText(text.slice(start, end));
      copied = end;
    }
    at = text.indexOf('://', end);
  }
  return out + text.slice(copied);
}

/**
 * A URL as it may be shown: a password in it and credential-like query parameters become `***`.
 * The password step is textual, so it also covers what `URL` cannot parse (`redis-sentinel://a,b/m`).
 */
export function redactUrl(url: string): string {
  const shown = url.replace(/^([a-z][a-z0-9+.-]*:\/\/)([^:@/]*):[^@/]*@/i, '$1$2:***@');
  let parsed: URL;
  try {
    parsed = new URL(shown.replace(/\{(caseId|receiptNo)\}/g, '__$1__'));
  } catch {
    return shown;
  }
  const secret = [...parsed.searchParams.keys()].filter((name) => SECRET_PARAM.test(name));
  if (secret.length === 0) return shown;
  for (const name of secret) parsed.searchParams.set(name, '***');
  return parsed.toString().replace(/__(caseId|receiptNo)__/g, '{$1}');
}
