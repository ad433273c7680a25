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

// Maximal runs of digits (an ID number may end in X); each run is judged by its length, so
// nothing backtracks and a run inside a longer number (a timestamp, a receipt) is left alone.
const DIGIT_RUN = /\d+[Xx]?/g;

function isPersonalNumber(run: string): boolean {
  const digits = run.replace(/[Xx]$/, '');
  const checkLetter = digits.length !== run.length;
  // Resident ID numbers: 18 characters (the last may be X), or the old 15-digit form.
  if (digits.length === 17 && checkLetter) return true;
  if (checkLetter) return false;
  if (digits.length === 18 || digits.length === 15) return true;
  // Mobile numbers, with or without the country code.
  if (digits.length === 11 && /^1[3-9]/.test(digits)) return true;
  if (digits.length === 13 && /^861[3-9]/.test(digits)) return true;
  // Bank card numbers.
  return digits.length >= 16 && digits.length <= 19;
}

/** Masks ID, phone and bank card numbers, and each of `secrets`, wherever they appear in `text`. */
export function maskPersonalData(text: string, secrets: readonly string[] = []): string {
  let out = text.replace(DIGIT_RUN, (run) => (isPersonalNumber(run) ? mask(run) : run));
  for (const secret of secrets) if (secret.length >= 4) out = out.split(secret).join('[redacted]');
  return out;
}

/** A copy of a JSON value (our own answers: bounded depth) with every string masked. */
export function maskDeep<T>(value: T): T {
  if (typeof value === 'string') return maskPersonalData(value) as T;
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
