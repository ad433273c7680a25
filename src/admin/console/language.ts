/**
 * The page's language: `<html lang>` is 'zh-CN' (the default) or 'en', a change is announced with an
 * `ow:lang` event on `document`, and the choice is remembered in localStorage ('ow.console.lang'),
 * never anything else. Everything the console shows reads the language through `t()` and `w()`, so
 * a change draws the page again in the other one (whoever set `<html lang>` and said `ow:lang`).
 */
import { effect, signal } from '@preact/signals';
import { say, word, type Lang, type Vocab, type WordKey } from './words';

const LANG_KEY = 'ow.console.lang';
const LANGS: readonly Lang[] = ['zh-CN', 'en'];

const documentLang = (): Lang => (document.documentElement.lang === 'en' ? 'en' : 'zh-CN');

/** The language the page is drawn in; follows `<html lang>` at each `ow:lang`. */
export const language = signal<Lang>(documentLang());

document.addEventListener('ow:lang', () => {
  language.value = documentLang();
});

/** The page's word for `key`, with `{name}` filled in from `vars`. */
export function t(key: WordKey, vars?: Readonly<Record<string, string | number>>): string {
  return say(key, language.value, vars);
}

/** A vocabulary word (a level, a state, an audit action…); an unknown key as it came. */
export function w(vocab: Vocab, key: string | undefined): string {
  return word(vocab, key, language.value);
}

/** Sets the language (remembered unless told not to) and announces it once, if it changed. */
export function setLang(next: Lang, remember = true): void {
  const chosen = LANGS.includes(next) ? next : 'zh-CN';
  const changed = document.documentElement.lang !== chosen;
  document.documentElement.lang = chosen;
  if (remember) {
    try {
      localStorage.setItem(LANG_KEY, chosen);
    } catch {
      // storage refused (private mode): the choice lasts for this page only
    }
  }
  if (changed) document.dispatchEvent(new Event('ow:lang'));
}

/** The remembered language, else Chinese. */
export function initialLang(): Lang {
  try {
    const stored = localStorage.getItem(LANG_KEY);
    if (stored === 'zh-CN' || stored === 'en') return stored;
  } catch {
    // no storage: the default
  }
  return 'zh-CN';
}

// The window's title follows the language.
effect(() => {
  document.title = t('pageTitle');
});
