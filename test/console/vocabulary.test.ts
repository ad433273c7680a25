/**
 * The console's words (src/admin/console/words.ts, its one word table): every history event, audit
 * action, error code, waiting reason and problem the API can send has a Chinese and an English
 * label, and the console names nothing the API does not have. Every message the gateway writes
 * (found in its source: the errors the adapters and the worker throw, the history details and audit
 * details it records) matches a translated pattern, so a new message added untranslated fails here.
 * The page's own words each have both languages, with the same {placeholders}, and are all used.
 */
import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { auditActionSchema, PROBLEMS } from '../../src/api-schemas';
import { historyEventSchema } from '../../src/cases/model';
import { ERROR_CATALOGUE } from '../../src/platform/errors';
import { gatewayParts, VOCAB, WORDS, type Lang, type MessagePart } from '../../src/admin/console/words';

const ROOT = path.resolve(__dirname, '../..');
const CONSOLE = path.join(ROOT, 'src/admin/console');

/** The table as the page reads it in `lang` (words.ts takes the language; the browser passes the page's). */
const inLanguage = (lang: Lang) => ({ VOCAB, gatewayParts: (message: string) => gatewayParts(message, lang) });

const zh = inLanguage('zh-CN');
const en = inLanguage('en');
const text = (parts: MessagePart[]) => parts.map((p) => (typeof p === 'string' ? p : 'own' in p ? p.own : 'tech' in p ? p.tech : p.time)).join('');

/** The source files whose messages reach ops (delivery errors, history details, audit details). */
function sourceFiles(): string[] {
  const walk = (dir: string): string[] =>
    fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(path.join(dir, e.name)) : e.name.endsWith('.ts') && !e.name.endsWith('.test.ts') ? [path.join(dir, e.name)] : []));
  return [...walk(path.join(ROOT, 'adapters')), ...walk(path.join(ROOT, 'src/delivery')), ...walk(path.join(ROOT, 'src/results')), ...walk(path.join(ROOT, 'src/materials')), 'src/admin/operations.ts', 'src/platform/access.ts', 'src/seal/seal.ts', 'src/gateway.ts'].map((f) => path.resolve(ROOT, f));
}

/**
 * Reads the string or template literal starting at `start`; each `${…}` (nested templates
 * included) becomes `Q`, so "`${id} answered HTTP ${status}`" reads "Q answered HTTP Q".
 */
function literalAt(source: string, start: number): string | undefined {
  const quote = source[start];
  if (quote === "'") {
    const end = source.indexOf("'", start + 1);
    return source.slice(start + 1, end);
  }
  if (quote !== '`') return undefined;
  let out = '';
  let i = start + 1;
  while (i < source.length && source[i] !== '`') {
    if (source[i] === '$' && source[i + 1] === '{') {
      let depth = 1;
      i += 2;
      while (depth > 0 && i < source.length) {
        if (source[i] === '{') depth++;
        else if (source[i] === '}') depth--;
        else if (source[i] === '`') {
          // a nested template: skip to its end
          i++;
          while (source[i] !== '`') i += source[i] === '\\' ? 2 : 1;
        }
        i++;
      }
      out += 'Q';
      continue;
    }
    out += source[i];
    i++;
  }
  return out;
}

/** Where a message the gateway writes begins. */
const SITES = [
  /new (?:Retryable|Permanent|MaterialStore)Error\(/g,
  /\bsuper\((?=`)/g,
  /httpStatusError\(/g,
  /\bdetail: /g,
  /\bconst (?:what|message) = /g,
  /answer\(false, \[[^\]]*\], /g,
  /onRefused\(caller, req, (?:token \? )?/g,
  /\breason: (?=`)/g,
];

function gatewayMessages(): Array<{ file: string; message: string }> {
  const found: Array<{ file: string; message: string }> = [];
  for (const file of sourceFiles()) {
    const source = fs.readFileSync(file, 'utf8');
    for (const site of SITES) {
      for (const m of source.matchAll(site)) {
        const message = literalAt(source, m.index + m[0].length);
        // `Q` alone is a message passed on (translated where it was made); empty ones say nothing.
        if (message && message !== 'Q' && !/^Q$/.test(message.trim())) found.push({ file: path.relative(ROOT, file), message });
      }
    }
  }
  return found;
}

describe('the console words', () => {
  it('labels exactly the history events of the model', () => {
    expect(Object.keys(zh.VOCAB.EVENTS).sort()).toEqual([...historyEventSchema.options].sort());
  });

  it('labels exactly the audit actions, the problems and the error codes of the API', () => {
    expect(Object.keys(zh.VOCAB.ACTIONS).sort()).toEqual([...auditActionSchema.options].sort());
    expect(Object.keys(zh.VOCAB.PROBLEMS).sort()).toEqual([...PROBLEMS].sort());
    const own = ['network', 'bad_answer']; // the console's, for answers that never came or made no sense
    expect(Object.keys(zh.VOCAB.ERROR_CODES).filter((c) => !own.includes(c)).sort()).toEqual(Object.keys(ERROR_CATALOGUE).sort());
  });

  it('labels every waiting reason a delivery can have', () => {
    const source = fs.readFileSync(path.join(ROOT, 'src/delivery/waiting.ts'), 'utf8');
    const kinds = /export type WaitingFor = ([^;]+);/.exec(source)![1]!.split('|').map((k) => k.trim().replace(/'/g, ''));
    expect(Object.keys(zh.VOCAB.WAITING).sort()).toEqual(kinds.sort());
  });

  it('has a Chinese and an English word for every key', () => {
    for (const [name, vocab] of Object.entries(zh.VOCAB)) {
      for (const [key, pair] of Object.entries(vocab) as Array<[string, readonly string[]]>) {
        expect([name, key, pair.length]).toEqual([name, key, 2]);
        expect(pair[0]).toMatch(/[\u4e00-\u9fff]/); // Chinese first
        expect(pair[1]).toMatch(/^[\x20-\x7e’]+$/); // then English
      }
    }
  });

  it('says each of the page’s own words in both languages, with the same {placeholders}, and uses every one', () => {
    const placeholders = (s: string) => [...s.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();
    const pairs = Object.entries(WORDS) as Array<[string, readonly [string, string]]>;
    expect(pairs.length).toBeGreaterThan(200);
    for (const [key, [chinese, english]] of pairs) {
      expect({ key, chinese: chinese.length > 0, placeholders: placeholders(chinese) }).toEqual({ key, chinese: true, placeholders: placeholders(english) });
    }
    // A word no view says any more is a word to drop (the views name keys as string literals).
    const walk = (dir: string): string[] =>
      fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(path.join(dir, e.name)) : /\.tsx?$/.test(e.name) && e.name !== 'words.ts' && !e.name.endsWith('.d.ts') ? [path.join(dir, e.name)] : []));
    const sources = walk(CONSOLE).map((file) => fs.readFileSync(file, 'utf8')).join('\n');
    expect(pairs.map(([key]) => key).filter((key) => !sources.includes(`'${key}'`))).toEqual([]);
  });

  it('translates every message the gateway writes (found in its source)', () => {
    const messages = gatewayMessages();
    // The scan finds them: if it found few, it would prove nothing.
    expect(messages.length).toBeGreaterThan(40);
    const untranslated = messages.filter(({ message }) => !zh.gatewayParts(message).known).map(({ file, message }) => `${file}: ${message}`);
    expect(untranslated).toEqual([]);
    for (const { message } of messages) {
      // In English the gateway's message is shown as it is.
      expect(text(en.gatewayParts(message).parts)).toBe(message);
    }
  });

  it('translates every validation detail: the loader’s and the API’s own words, and zod’s English', () => {
    const files = [...fs.readdirSync(path.join(ROOT, 'src/config')).filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts')).map((f) => `src/config/${f}`), 'src/platform/json-body.ts', 'src/admin/operations.ts', 'src/timelimits/config.ts'];
    const written: string[] = [];
    for (const file of files) {
      const source = fs.readFileSync(path.join(ROOT, file), 'utf8');
      for (const m of source.matchAll(/\bmessage: (?=[`'])/g)) {
        const message = literalAt(source, m.index + m[0].length);
        if (message && message.trim() !== 'Q' && !/^[A-Z]/.test(message)) written.push(message); // capitalised: API error texts, shown as the original
      }
    }
    expect(written.length).toBeGreaterThan(20);
    // zod's own messages, made by zod itself on wrong input.
    const zodSaid = [
      z.string().safeParse(1),
      z.string().max(3).safeParse('long'),
      z.number().min(1).safeParse(0),
      z.array(z.string()).min(1).safeParse([]),
      z.enum(['rest', 'soap']).safeParse('ftp'),
      z.literal('a').safeParse('b'),
      z.strictObject({ a: z.string() }).safeParse({ a: 'x', b: 1, c: 2 }),
      z.string().regex(/^[a-z]+$/).safeParse('A'),
      z.string().startsWith('http').safeParse('ftp'),
      z.number().multipleOf(5).safeParse(3),
      z.iso.datetime().safeParse('yesterday'),
      z.discriminatedUnion('protocol', [z.object({ protocol: z.literal('rest') }), z.object({ protocol: z.literal('soap') })]).safeParse({ protocol: 'x' }),
      z.union([z.string(), z.number()]).safeParse(true),
      z.record(z.string().regex(/^a/), z.string()).safeParse({ b: 'x' }),
    ].flatMap((r) => (r.success ? [] : r.error.issues.map((i) => i.message)));
    expect(zodSaid.length).toBeGreaterThanOrEqual(14);
    const untranslated = [...written, ...zodSaid].filter((message) => !zh.gatewayParts(message).known);
    expect(untranslated).toEqual([]);
    expect(text(zh.gatewayParts('Too big: expected string to have <=64 characters').parts)).toBe('过大：字符串应不超过 64 个字符');
    expect(text(zh.gatewayParts('fails when test-run on a sample case: ran over its budget: took longer than 250 ms (limits.expressionTimeMs)').parts)).toBe(
      '在样例办件上试运行失败：超出预算：运行超过 250 毫秒（limits.expressionTimeMs）',
    );
  });

  it('puts the gateway’s words into Chinese and keeps the legacy system’s own words as they are', () => {
    const unreachable = zh.gatewayParts('prov-fragile could not be reached (ECONNRESET)');
    expect(unreachable.id).toBe('unreachable');
    expect(text(unreachable.parts)).toBe('prov-fragile 无法连接（ECONNRESET）');

    // In English too, the system's words are marked as the system's.
    expect(en.gatewayParts('city-a answered HTTP 503: 系统维护中').parts).toEqual(['city-a answered HTTP 503: ', { own: '系统维护中' }]);
    const http = zh.gatewayParts('city-a answered HTTP 503: 系统维护中 <html>');
    expect(text(http.parts)).toContain('返回 HTTP 503（服务不可用）');
    expect(http.parts).toContainEqual({ own: '系统维护中 <html>' });

    const fault = zh.gatewayParts('prov-tax answered with a SOAP fault soap:Server: Database unavailable');
    expect(fault.parts).toContainEqual({ own: 'Database unavailable' });
    expect(text(fault.parts)).toContain('返回 SOAP 错误 soap:Server');

    // A reload's audit detail, clause by clause.
    expect(text(zh.gatewayParts('added city-file; changed city-a; routes version 5; without a file: city-new').parts)).toBe('新增 city-file；改动：city-a；路由版本 5；无配置文件（仍在运行）：city-new');
    expect(text(zh.gatewayParts('3 deliveries waiting, delayed or active').parts)).toBe('3 件投递在等待、延迟或处理中');

    const refused = zh.gatewayParts('city-a refused the case: 材料不全');
    expect(refused.parts).toContainEqual({ own: '材料不全' });
    expect(text(zh.gatewayParts('city-a refused for now: refused without a message').parts)).toBe('city-a 暂时拒收（稍后重试）：未说明原因');

    expect(text(zh.gatewayParts('city-a did not answer within 10000 ms').parts)).toBe('city-a 在 10000 毫秒内未应答（超时）');
    // Messages within messages: a dead delivery's reason, a throttled try's hold.
    expect(text(zh.gatewayParts('after 5 attempts: city-a could not be reached (ECONNREFUSED)').parts)).toBe('尝试 5 次后放弃：city-a 无法连接（ECONNREFUSED）');
    expect(text(zh.gatewayParts('city-a answered HTTP 429; holding 2000 ms').parts)).toBe('city-a 返回 HTTP 429（请求过多（限流））；整个队列暂停发送 2000 毫秒');
    const window = zh.gatewayParts('outside the maintenance window; opens at 2026-12-01T00:00:00.000Z');
    expect(window.parts).toContainEqual({ time: '2026-12-01T00:00:00.000Z' });

    // A result's history detail: the outcome in Chinese, the system's message its own, the result as it came.
    const result = zh.gatewayParts('approved: 准予办理 {"caseId":"QZ-1","outcome":"approved"}');
    expect(result.id).toBe('result');
    expect(result.parts).toContainEqual({ own: '准予办理' });
    expect(text(result.parts)).toMatch(/^准予：准予办理 \{/);
    expect(text(zh.gatewayParts('no delivery of case QZ-9 to city-a').parts)).toBe('没有办件 QZ-9 发往 city-a 的投递');

    // Something the gateway never wrote is kept as it came, marked unknown.
    const odd = zh.gatewayParts('something else entirely');
    expect(odd.known).toBe(false);
    expect(odd.parts).toEqual([{ tech: 'something else entirely' }]);
  });
});
