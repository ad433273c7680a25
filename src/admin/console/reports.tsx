/**
 * Reports (报表, viewer and up): the timeliness report of the cases accepted in a period, grouped by
 * item, system, level or channel — a table of its figures, the same as CSV (fetched with the token
 * and offered as a Blob URL, since a plain link could not carry it), and a chart of the on-time rates.
 */
import { signal } from '@preact/signals';
import { answer, api, ApiProblem } from './api';
import { t } from './language';
import { onTabShown } from './nav';
import type { operations } from './openapi';
import { onSignOut, token } from './session';
import { report } from './ui';
import type { WordKey } from './words';

type Timeliness = operations['timelinessReport']['responses'][200]['content']['application/json'];
type Row = Timeliness['rows'][number];
type GroupBy = Timeliness['groupBy'];
interface Period {
  from: string;
  to: string;
  groupBy: GroupBy;
}

const GROUPS: readonly GroupBy[] = ['item', 'system', 'level', 'channel'];
const GROUP_WORDS: Readonly<Record<GroupBy, WordKey>> = { item: 'byItem', system: 'bySystem', level: 'byLevel', channel: 'byChannel' };
const CHANNELS = ['1', '2', '3', '9'] as const;
const DAY_MS = 86_400_000;
/** The report's default period, as the gateway's: the last 30 days. */
const DEFAULT_DAYS = 30;

/** A day in Asia/Shanghai (the gateway counts days there), YYYY-MM-DD. */
const shanghaiDay = new Intl.DateTimeFormat('en-CA', { timeZone: 'Asia/Shanghai', year: 'numeric', month: '2-digit', day: '2-digit' });

function defaultPeriod(): Period {
  const now = Date.now();
  return { from: shanghaiDay.format(new Date(now - DEFAULT_DAYS * DAY_MS)), to: shanghaiDay.format(new Date(now)), groupBy: 'item' };
}

const fields = signal<Period>(defaultPeriod());
const shown = signal<Timeliness | undefined>(undefined);
/** The CSV of the report shown, as a Blob URL (revoked when replaced). */
const csvUrl = signal<string | undefined>(undefined);

function setCsv(url: string | undefined): void {
  if (csvUrl.peek()) URL.revokeObjectURL(csvUrl.peek()!);
  csvUrl.value = url;
}

onTabShown('reports', () => void loadReport());
onSignOut(() => {
  fields.value = defaultPeriod();
  shown.value = undefined;
  setCsv(undefined);
});

async function loadReport(): Promise<void> {
  const asked = fields.peek();
  const asker = token();
  const query = { from: asked.from, to: asked.to, groupBy: asked.groupBy };
  try {
    const [json, csv] = await Promise.all([
      answer(api.GET('/api/v1/reports/timeliness', { params: { query } })),
      answer(api.GET('/api/v1/reports/timeliness', { params: { query: { ...query, format: 'csv' } }, parseAs: 'blob' })),
    ]);
    // Signed out, or another period asked for meanwhile: this answer is not the one to show.
    if (token() !== asker || asked !== fields.peek()) return;
    // The schema allows CSV too (for `Accept: text/csv`); asked for JSON, a string is no answer.
    if (typeof json === 'string') throw new ApiProblem(200, 'bad_answer', 'The gateway answered without JSON.');
    shown.value = json;
    setCsv(URL.createObjectURL(csv as unknown as Blob));
  } catch (err) {
    if (!(err instanceof ApiProblem && err.auth)) report(t('reportFailed'), err);
  }
}

/** A share as a percentage with one decimal ("73.3%"); '—' with nothing to share. */
function percent(part: number, whole: number): string {
  return whole > 0 ? `${(Math.round((part / whole) * 1000) / 10).toFixed(1)}%` : '—';
}

/**
 * An on-time rate of a row: of its completed cases; '—' when none of them had a time limit (the
 * gateway then has no handling days either), so that an item without limits does not read 0%.
 */
const onTimeRate = (row: Row, onTime: number): string => (row.medianWorkingDays === null ? '—' : percent(onTime, row.completed));

const figure = (value: number | null): string => (value === null ? '—' : String(value));

// The chart's geometry, in SVG user units (attributes, not styles: the CSP allows no inline style).
const LABEL_W = 200;
const BAR_W = 400;
const VALUE_W = 60;
const ROW_H = 34;
const BAR_H = 12;
const TOP = 6;

/** Horizontal bars per row: the on-time rate against the promised limit, and under it the legal one's. */
function RateChart({ rows }: { rows: readonly Row[] }) {
  const height = TOP + rows.length * ROW_H;
  const width = LABEL_W + BAR_W + VALUE_W;
  const bar = (row: Row, onTime: number, kind: 'promised' | 'legal', y: number) => {
    const rate = onTimeRate(row, onTime);
    const label = t(kind === 'promised' ? 'onTimePromisedBar' : 'onTimeLegalBar', { key: row.key, rate });
    const share = row.completed > 0 && row.medianWorkingDays !== null ? onTime / row.completed : 0;
    return (
      <g class={`bar ${kind}`} data-rate={rate} aria-label={label} role="img">
        <title>{label}</title>
        <rect class="track" x={LABEL_W} y={y} width={BAR_W} height={BAR_H} />
        <rect class="fill" x={LABEL_W} y={y} width={Math.round(share * BAR_W * 10) / 10} height={BAR_H} />
        <text class="value" x={LABEL_W + BAR_W + 6} y={y + BAR_H - 2}>
          {rate}
        </text>
      </g>
    );
  };
  return (
    <svg id="reports-chart" class="rate-chart" viewBox={`0 0 ${width} ${height}`} width={width} height={height} role="group" aria-label={t('onTimeChart')}>
      {rows.map((row, i) => {
        const y = TOP + i * ROW_H;
        return (
          <g class="chart-row" data-key={row.key}>
            <text class="key" x={LABEL_W - 8} y={y + BAR_H}>
              {row.key}
            </text>
            {bar(row, row.onTimePromised, 'promised', y)}
            {bar(row, row.onTimeLegal, 'legal', y + BAR_H + 2)}
          </g>
        );
      })}
    </svg>
  );
}

export function ReportsPanel({ hidden }: { hidden: boolean }) {
  const answered = shown.value;
  const rows = answered?.rows ?? [];
  const none = answered !== undefined && rows.length === 0;
  const period = fields.value;
  const set = (change: Partial<Period>): void => {
    fields.value = { ...fields.peek(), ...change };
  };
  return (
    <section id="panel-reports" role="tabpanel" aria-labelledby="tab-reports" class="panel" hidden={hidden}>
      <div class="toolbar">
        <h2>{t('timelinessReport')}</h2>
        <p class="hint">{t('timelinessHint')}</p>
        <div class="spacer" />
        <a id="reports-csv" class="button secondary" hidden={!csvUrl.value} href={csvUrl.value} download={`timeliness-${answered?.groupBy ?? period.groupBy}-${period.from}-${period.to}.csv`}>
          {t('downloadCsv')}
        </a>
      </div>
      <form
        id="reports-form"
        class="toolbar filters"
        onSubmit={(event) => {
          event.preventDefault();
          void loadReport();
        }}
      >
        <label class="inline" for="reports-from">
          {t('fromDay')}
        </label>
        <input id="reports-from" type="date" required value={period.from} onInput={(e) => set({ from: e.currentTarget.value })} />
        <label class="inline" for="reports-to">
          {t('toDay')}
        </label>
        <input id="reports-to" type="date" required value={period.to} onInput={(e) => set({ to: e.currentTarget.value })} />
        <label class="inline" for="reports-group">
          {t('groupBy')}
        </label>
        <select id="reports-group" value={period.groupBy} onChange={(e) => set({ groupBy: e.currentTarget.value as GroupBy })}>
          {GROUPS.map((g) => (
            <option value={g}>{t(GROUP_WORDS[g])}</option>
          ))}
        </select>
        <button type="submit" class="secondary">
          {t('showReport')}
        </button>
      </form>
      <div class="table-wrap">
        <table id="reports-table" class="data" hidden={none}>
          <caption class="visually-hidden">{t('timelinessReport')}</caption>
          <thead>
            <tr>
              <th scope="col">{t(GROUP_WORDS[answered?.groupBy ?? period.groupBy])}</th>
              <th scope="col" class="num">{t('casesAccepted')}</th>
              <th scope="col" class="num">{t('completedCases')}</th>
              <th scope="col" class="num">{t('onTimePromised')}</th>
              <th scope="col" class="num">{t('onTimeLegal')}</th>
              <th scope="col" class="num">{t('medianDays')}</th>
              <th scope="col" class="num">{t('p90Days')}</th>
              <th scope="col" class="num">{t('overdueOpen')}</th>
              <th scope="col" class="num">{t('stoppedNeedMore')}</th>
              <th scope="col" class="num">{t('stoppedSpecial')}</th>
              {CHANNELS.map((c) => (
                <th scope="col" class="num" data-channel={c}>
                  {t('channelCode', { code: c })}
                </th>
              ))}
              <th scope="col" class="num">{t('promisedCut')}</th>
            </tr>
          </thead>
          <tbody>
            {rows.map((r) => (
              <tr data-key={r.key}>
                <th scope="row" class="mono nowrap">
                  {r.key}
                </th>
                <td class="num" data-figure="cases">{r.cases}</td>
                <td class="num" data-figure="completed">{r.completed}</td>
                <td class="num" data-figure="onTimePromised" title={`${r.onTimePromised} / ${r.completed}`}>
                  {onTimeRate(r, r.onTimePromised)}
                </td>
                <td class="num" data-figure="onTimeLegal" title={`${r.onTimeLegal} / ${r.completed}`}>
                  {onTimeRate(r, r.onTimeLegal)}
                </td>
                <td class="num" data-figure="medianWorkingDays">{figure(r.medianWorkingDays)}</td>
                <td class="num" data-figure="p90WorkingDays">{figure(r.p90WorkingDays)}</td>
                <td class="num" data-figure="overdueOpen">{r.overdueOpen}</td>
                <td class="num" data-figure="stoppedNeedMore">{r.stoppedNeedMore}</td>
                <td class="num" data-figure="stoppedSpecial">{r.stoppedSpecial}</td>
                {CHANNELS.map((c) => (
                  <td class="num" data-figure={`channel${c}`}>
                    {r.channels[c] ?? 0}
                  </td>
                ))}
                <td class="num" data-figure="promisedCut">{r.promisedCut === null ? '—' : percent(r.promisedCut, 1)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <p id="reports-empty" class="empty" hidden={!none}>
        {t('noCasesInPeriod')}
      </p>
      {rows.length ? (
        <figure class="chart">
          <figcaption>{t('onTimeChart')}</figcaption>
          <RateChart rows={rows} />
          <p class="legend">
            <span class="swatch promised" /> {t('promisedLimit')} <span class="swatch legal" /> {t('legalLimit')}
          </p>
        </figure>
      ) : null}
    </section>
  );
}
