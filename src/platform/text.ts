/**
 * What text the gateway takes in and keeps. NUL and the other C0 control characters (tab, LF and CR
 * aside) belong in no case, reason or result, and PostgreSQL cannot store U+0000 at all; an unpaired
 * surrogate (a JSON `"\ud800"`) is not text either, and jsonb refuses it. Either would stop the
 * ledger sweep on the row that holds it, so input carrying one is refused where it enters, and what
 * a legacy system says back is cleaned where it is kept.
 */

// Anything but tab, LF, CR and U+0020 up; with `u`, a lone surrogate is a code point of its own and
// matches, a pair does not. Linear: one character class, nothing to backtrack over.
const NOT_TEXT = /[^\t\n\r\u{20}-\u{D7FF}\u{E000}-\u{10FFFF}]/u;
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
