/** Times as ops read them: Beijing time (2026-11-28 09:30:00), spans and distances in words. */
import { t } from './language';

const clock = new Intl.DateTimeFormat('zh-CN', {
  timeZone: 'Asia/Shanghai',
  year: 'numeric',
  month: '2-digit',
  day: '2-digit',
  hour: '2-digit',
  minute: '2-digit',
  second: '2-digit',
  hourCycle: 'h23',
});

/** Beijing time: 2026-11-28 09:30:00; what is not an instant, as it came ('—' for nothing). */
export function beijing(iso: string | undefined): string {
  if (!iso) return '—';
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  const p = Object.fromEntries(clock.formatToParts(date).map((part) => [part.type, part.value]));
  return `${p.year}-${p.month}-${p.day} ${p.hour}:${p.minute}:${p.second}`;
}

/** A span of time in words: "2 小时 5 分" / "2 h 5 min". */
export function duration(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  const d = Math.floor(s / 86400);
  const hours = Math.floor((s % 86400) / 3600);
  const min = Math.floor((s % 3600) / 60);
  const parts: string[] = [];
  if (d) parts.push(t('days', { n: d }));
  if (hours) parts.push(t('hours', { n: hours }));
  if (min && !d) parts.push(t('minutes', { n: min }));
  if (!parts.length) parts.push(t('seconds', { n: s }));
  return parts.join(' ');
}

/** "（3 分钟前）" / " (in 2 min)": how far an instant is from now. */
export function relative(iso: string | undefined): string {
  const ms = Date.parse(iso ?? '') - Date.now();
  if (!Number.isFinite(ms)) return '';
  return ms >= 0 ? t('inFuture', { span: duration(ms) }) : t('inPast', { span: duration(-ms) });
}
