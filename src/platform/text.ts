/**
 * What text the gateway takes in and keeps. NUL and the other C0 control characters (tab, LF and CR
 * aside) belong in no case, reason or result, and PostgreSQL cannot store U+0000 at all; an unpaired
 * surrogate (a JSON `"\ud800"`) is not text either, and jsonb refuses it. Either would stop the
 * ledger sweep on the row that holds it, so input carrying one is refused where it enters, and what
 * a legacy system says back is cleaned where it is kept.
 */

// Linear: one character class, no repetition to backtrack over.
const NOT_TEXT = /[\u0000-\u0008\u000B\u000C\u000E-\u001F]|\p{Cs}/u;
const NOT_TEXT_ALL = new RegExp(NOT_TEXT.source, 'gu');

/** Why `text` is not storable text (the first offending character, named), or undefined when it is. */
export function notTextReason(text: string): string | undefined {
  const found = NOT_TEXT.exec(text)?.[0];
  if (found === undefined) return undefined;
  const code = `U+${found.charCodeAt(0).toString(16).toUpperCase().padStart(4, '0')}`;
  return found.charCodeAt(0) < 0x20 ? `contains the control character ${code}` : `contains an unpaired surrogate (${code})`;
}

/** `text` with every character that is not storable text replaced by U+FFFD: for what legacy systems say. */
export function storableText(text: string): string {
  return NOT_TEXT.test(text) ? text.replace(NOT_TEXT_ALL, '\uFFFD') : text;
}
