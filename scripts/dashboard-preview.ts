/**
 * `npm run dashboard:preview` → docs/dashboard.png: the Grafana dashboard fed by a demo run, drawn
 * without Grafana (it cannot be installed here: npm and Debian packages only).
 *
 * A real Prometheus (Debian's, on loopback, a free port) scrapes a real `npm run demo` every 2 s and
 * evaluates deploy/prometheus/onewindow-alerts.yml. Once the demo's cases have settled, every panel
 * of deploy/grafana/onewindow-gateway.json is queried from Prometheus's query_range API as Grafana
 * would (its `$system` variable from its own query), drawn with uPlot in a local HTML page (the
 * library inlined from node_modules, nothing fetched), and Debian's Chromium screenshots it.
 *
 * Not part of npm test: it takes minutes, and proves a picture, not a behaviour (the dashboard test
 * checks that every query names an exported metric).
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { freePort } from '../src/platform/redis';

const ROOT = [path.resolve(__dirname, '..'), path.resolve(__dirname, '..', '..')].find((dir) => fs.existsSync(path.join(dir, 'deploy', 'grafana')))!;
const DASHBOARD = path.join(ROOT, 'deploy/grafana/onewindow-gateway.json');
const ALERTS = path.join(ROOT, 'deploy/prometheus/onewindow-alerts.yml');
const OUT = path.join(ROOT, 'docs/dashboard.png');
const SCRAPE_S = 2;
/** Scrapes kept after the demo's cases settled, so the last gauges and rates are in. */
const AFTER_MS = 30_000;
const CHROMIUM = ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p) => fs.existsSync(p));

interface Target {
  expr: string;
  legendFormat?: string;
  refId: string;
}
interface Panel {
  id: number;
  type: string;
  title: string;
  gridPos: { x: number; y: number; w: number; h: number };
  targets?: Target[];
  fieldConfig?: { defaults?: { unit?: string } };
  repeat?: string;
}
interface Series {
  name: string;
  points: Array<[number, number]>;
}
/** What the page draws for one panel. */
interface Drawn {
  type: string;
  title: string;
  gridPos: Panel['gridPos'];
  unit?: string;
  series: Series[];
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Waits until `child` prints `line` (or fails when it exits first or `ms` pass). */
function waitForLine(child: ChildProcess, name: string, line: string, ms: number): Promise<void> {
  return new Promise((resolve, reject) => {
    let seen = '';
    const timer = setTimeout(() => reject(new Error(`${name}: no "${line}" within ${ms / 1000} s`)), ms);
    child.stdout!.on('data', (chunk: Buffer) => {
      seen = (seen + chunk.toString('utf8')).slice(-4096);
      process.stdout.write(chunk);
      if (seen.includes(line)) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${name} exited (${code}) before "${line}"`));
    });
  });
}

async function stop(child: ChildProcess | undefined): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 25_000);
  await exited;
  clearTimeout(timer);
}

async function promQuery(base: string, api: 'query' | 'query_range', params: Record<string, string>): Promise<Array<{ metric: Record<string, string>; value?: [number, string]; values?: Array<[number, string]> }>> {
  const res = await fetch(`${base}/api/v1/${api}?${new URLSearchParams(params)}`);
  const body = (await res.json()) as { status: string; error?: string; data?: { result: Array<{ metric: Record<string, string>; value?: [number, string]; values?: Array<[number, string]> }> } };
  if (body.status !== 'success') throw new Error(`Prometheus ${api} ${params.query}: ${body.error ?? res.status}`);
  return body.data!.result;
}

/** A series' name as Grafana writes it: the legend format's {{label}}s filled in, else its labels. */
function legend(format: string | undefined, metric: Record<string, string>, expr: string): string {
  if (format && format !== '__auto') return format.replace(/\{\{\s*(\w+)\s*\}\}/g, (_, key: string) => metric[key] ?? '');
  const labels = Object.entries(metric).filter(([k]) => k !== '__name__');
  return labels.length > 0 ? labels.map(([k, v]) => `${k}="${v}"`).join(', ') : expr.length > 60 ? `${expr.slice(0, 57)}…` : expr;
}

async function main(): Promise<void> {
  if (!CHROMIUM) throw new Error('no Chromium at /usr/bin/chromium: run scripts/ensure-chromium');
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'ow-dashboard-'));
  const gatewayPort = await freePort();
  const promPort = await freePort();
  const prom = `http://127.0.0.1:${promPort}`;

  // The alert rules load only if promtool accepts them: the preview doubles as their check.
  process.stdout.write(execFileSync('promtool', ['check', 'rules', ALERTS], { encoding: 'utf8' }));
  fs.writeFileSync(
    path.join(work, 'prometheus.yml'),
    [
      'global:',
      `  scrape_interval: ${SCRAPE_S}s`,
      `  evaluation_interval: ${SCRAPE_S}s`,
      'rule_files:',
      `  - ${JSON.stringify(ALERTS)}`,
      'scrape_configs:',
      '  - job_name: onewindow-gateway',
      '    static_configs:',
      `      - targets: ["127.0.0.1:${gatewayPort}"]`,
      '',
    ].join('\n'),
  );
  let prometheus: ChildProcess | undefined;
  let demo: ChildProcess | undefined;
  try {
    prometheus = spawn('prometheus', [`--config.file=${path.join(work, 'prometheus.yml')}`, `--storage.tsdb.path=${path.join(work, 'tsdb')}`, `--web.listen-address=127.0.0.1:${promPort}`, '--log.level=warn'], { stdio: ['ignore', 'inherit', 'inherit'] });
    for (let i = 0; ; i++) {
      if (prometheus.exitCode !== null) throw new Error('prometheus exited at start-up');
      if ((await fetch(`${prom}/-/ready`).then((r) => r.status, () => 0)) === 200) break;
      if (i > 150) throw new Error('prometheus was not ready within 30 s');
      await sleep(200);
    }

    const started = Date.now() / 1000;
    demo = spawn(process.execPath, [path.join(ROOT, 'dist/scripts/demo.js')], {
      cwd: ROOT,
      env: { ...process.env, PORT: String(gatewayPort), HOST: '127.0.0.1', OW_DATA_DIR: path.join(work, 'demo') },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    await waitForLine(demo, 'demo', 'Press Ctrl-C to stop.', 5 * 60_000);
    process.stdout.write(`\nDemo run done; ${AFTER_MS / 1000} s more of scrapes…\n`);
    await sleep(AFTER_MS);
    const end = Date.now() / 1000;

    const dashboard = JSON.parse(fs.readFileSync(DASHBOARD, 'utf8')) as { title: string; panels: Panel[]; templating: { list: Array<{ name: string; query?: { query?: string } }> } };
    // $system as Grafana's variable query finds it; the picture shows the first failing system's row.
    const variable = dashboard.templating.list.find((v) => v.name === 'system')?.query?.query ?? '';
    const inner = /^query_result\((.*)\)$/.exec(variable)?.[1] ?? variable;
    const failing = (await promQuery(prom, 'query', { query: inner, time: String(end) })).sort((a, b) => Number(b.value![1]) - Number(a.value![1]));
    const system = failing[0]?.metric.systemId ?? '';
    const step = String(Math.max(SCRAPE_S, Math.round((end - started) / 240)));
    const drawn: Drawn[] = [];
    for (const panel of dashboard.panels) {
      const title = panel.title.replaceAll('$system', system || '(no failing system)');
      if (panel.type === 'row') {
        drawn.push({ type: 'row', title, gridPos: panel.gridPos, series: [] });
        continue;
      }
      const series: Series[] = [];
      for (const target of panel.targets ?? []) {
        const expr = target.expr.replaceAll('$system', system);
        for (const r of await promQuery(prom, 'query_range', { query: expr, start: String(started - 10), end: String(end), step })) {
          series.push({ name: legend(target.legendFormat, r.metric, expr), points: (r.values ?? []).map(([t, v]) => [t, Number(v)]) });
        }
      }
      drawn.push({ type: panel.type, title, gridPos: panel.gridPos, unit: panel.fieldConfig?.defaults?.unit, series });
    }
    const alerts = (await (await fetch(`${prom}/api/v1/alerts`)).json()) as { data: { alerts: Array<{ labels: Record<string, string>; state: string }> } };
    const firing = alerts.data.alerts.map((a) => `${a.labels.alertname}${a.labels.systemId ? ` (${a.labels.systemId})` : ''}: ${a.state}`);
    const version = (await (await fetch(`${prom}/api/v1/status/buildinfo`)).json()) as { data: { version: string } };

    const caption = `Rendered by scripts/dashboard-preview.ts from ${path.relative(ROOT, DASHBOARD)}: every panel's query run on Prometheus ${version.data.version} (query_range, step ${step} s), which scraped one \`npm run demo\` every ${SCRAPE_S} s from ${new Date(started * 1000).toISOString().slice(11, 19)} to ${new Date(end * 1000).toISOString().slice(11, 19)} UTC; drawn with uPlot, not Grafana.`;
    const html = page(dashboard.title, caption, drawn, firing);
    fs.writeFileSync(path.join(work, 'dashboard.html'), html);

    const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox', '--disable-gpu', '--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1'] });
    try {
      const tab = await browser.newPage({ viewport: { width: 1600, height: 900 }, deviceScaleFactor: 1 });
      await tab.setContent(html, { waitUntil: 'load' });
      // A string: the page's globals are not this file's.
      await tab.waitForFunction('window.drawn === true', undefined, { timeout: 30_000 });
      fs.mkdirSync(path.dirname(OUT), { recursive: true });
      await tab.screenshot({ path: OUT, fullPage: true });
    } finally {
      await browser.close();
    }
    process.stdout.write(`\n${caption}\nAlerts: ${firing.join('; ') || 'none'}\nWrote ${path.relative(ROOT, OUT)} (page: ${path.join(work, 'dashboard.html')})\n`);
  } finally {
    await stop(demo);
    await stop(prometheus);
  }
}

/** The HTML page: a 24-column grid like Grafana's, one uPlot chart or stat per panel. */
function page(title: string, caption: string, panels: Drawn[], alerts: string[]): string {
  const uplotJs = fs.readFileSync(require.resolve('uplot/dist/uPlot.iife.min.js'), 'utf8');
  const uplotCss = fs.readFileSync(require.resolve('uplot/dist/uPlot.min.css'), 'utf8');
  const data = JSON.stringify(panels).replace(/</g, '\\u003c');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${title}</title>
<style>${uplotCss}
body { margin: 0; background: #111217; color: #ccccdc; font: 13px/1.4 "Inter", "Helvetica Neue", Arial, "WenQuanYi Micro Hei", sans-serif; }
header { padding: 12px 16px 4px; } header h1 { font-size: 18px; margin: 0 0 4px; color: #fff; font-weight: 500; }
header p { margin: 0; color: #8e8e9e; font-size: 12px; }
#grid { display: grid; grid-template-columns: repeat(24, 1fr); grid-auto-rows: 30px; gap: 8px; padding: 8px 16px 16px; }
.panel { background: #181b1f; border: 1px solid #2c3235; border-radius: 2px; padding: 6px 8px; overflow: hidden; display: flex; flex-direction: column; }
.panel h2 { font-size: 13px; margin: 0 0 4px; font-weight: 500; color: #d8d9da; white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
.row { background: none; border: none; padding: 4px 0 0; } .row h2 { font-size: 15px; color: #fff; }
.chart { flex: 1; min-height: 0; } .stat { flex: 1; display: flex; align-items: center; justify-content: center; font-size: 42px; font-weight: 500; color: #73bf69; }
.stat.bad { color: #f2495c; } .empty { flex: 1; display: flex; align-items: center; justify-content: center; color: #6e6e7e; }
.uplot { font-family: inherit; } .u-legend { font-size: 11px; color: #ccccdc; } .u-legend .u-marker { width: 10px; height: 3px; }
.u-legend th { font-weight: 400; }
</style></head><body>
<header><h1>${title}</h1><p>${caption.replace(/`([^`]+)`/g, '<code>$1</code>')}</p><p>Alerts from deploy/prometheus/onewindow-alerts.yml at the end: ${alerts.length ? alerts.join('; ') : 'none pending or firing'}.</p></header>
<div id="grid"></div>
<script>${uplotJs}</script>
<script>
const panels = ${data};
const palette = ['#73bf69', '#f2cc0c', '#5794f2', '#ff9830', '#f2495c', '#b877d9', '#8ab8ff', '#96d98d', '#ffb357', '#ca95e5', '#fade2a', '#ff7383'];
const fmt = (unit, v) => {
  if (v == null || Number.isNaN(v)) return '–';
  if (Number.isInteger(v) && unit !== 's') return unit === 'percentunit' ? (v * 100) + '%' : String(v);
  if (unit === 'percentunit') return (v * 100).toFixed(v < 0.1 ? 2 : 1) + '%';
  if (unit === 's') return v >= 3600 ? (v / 3600).toFixed(1) + ' h' : v >= 60 ? (v / 60).toFixed(1) + ' min' : v >= 1 ? v.toFixed(2) + ' s' : (v * 1000).toFixed(0) + ' ms';
  return Math.abs(v) >= 100 ? v.toFixed(0) : Math.abs(v) >= 1 ? v.toFixed(2) : v.toPrecision(2);
};
const grid = document.getElementById('grid');
for (const p of panels) {
  const box = document.createElement('div');
  box.className = 'panel' + (p.type === 'row' ? ' row' : '');
  box.style.gridColumn = (p.gridPos.x + 1) + ' / span ' + p.gridPos.w;
  box.style.gridRow = (p.gridPos.y + 1) + ' / span ' + p.gridPos.h;
  const h = document.createElement('h2');
  h.textContent = p.title;
  box.appendChild(h);
  grid.appendChild(box);
  if (p.type === 'row') continue;
  if (p.series.length === 0) {
    const e = document.createElement('div'); e.className = 'empty'; e.textContent = 'No data'; box.appendChild(e); continue;
  }
  if (p.type === 'stat') {
    const last = p.series.reduce((sum, s) => sum + (s.points.length ? s.points[s.points.length - 1][1] : 0), 0);
    const e = document.createElement('div');
    e.className = 'stat' + (last > 0 && !/up|read from/i.test(p.title) ? ' bad' : '');
    e.textContent = fmt(p.unit, last);
    box.appendChild(e);
    continue;
  }
  // One x axis for all series: the union of their timestamps.
  const xs = [...new Set(p.series.flatMap((s) => s.points.map((pt) => pt[0])))].sort((a, b) => a - b);
  const index = new Map(xs.map((x, i) => [x, i]));
  const ys = p.series.map((s) => { const y = new Array(xs.length).fill(null); for (const [t, v] of s.points) y[index.get(t)] = v; return y; });
  const chart = document.createElement('div'); chart.className = 'chart'; box.appendChild(chart);
  const width = chart.clientWidth, height = Math.max(60, chart.clientHeight - 14 * Math.ceil(p.series.length / 3) - 20);
  const axis = { stroke: '#8e8e9e', grid: { stroke: '#2c3235', width: 1 }, ticks: { stroke: '#2c3235' }, font: '11px sans-serif' };
  new uPlot({
    width, height,
    legend: { live: false },
    cursor: { show: false },
    scales: { x: { time: true } },
    axes: [axis, { ...axis, size: 56, values: (u, vals) => vals.map((v) => fmt(p.unit, v)) }],
    series: [{}, ...p.series.map((s, i) => ({ label: s.name, stroke: palette[i % palette.length], width: 1.5, spanGaps: false, paths: p.type === 'state-timeline' ? uPlot.paths.stepped({ align: 1 }) : undefined, value: (u, v) => fmt(p.unit, v) }))],
  }, [xs, ...ys], chart);
}
window.drawn = true;
</script></body></html>`;
}

main().catch((err: Error) => {
  process.stderr.write(`dashboard-preview: ${err.stack ?? err.message}\n`);
  process.exit(1);
});
