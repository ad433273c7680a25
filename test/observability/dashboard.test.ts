/**
 * deploy/: the Grafana dashboard is well-formed (every panel has a datasource and queries) and every
 * query, like every alert rule, names only metrics the gateway exports.
 */
import fs from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';
import { Registry } from 'prom-client';
import ts from 'typescript';
import { createMetrics, registerBacklogGauges, registerLedgerGauges } from '../../src/platform/metrics';

const root = path.join(__dirname, '..', '..');

async function exported(): Promise<Set<string>> {
  const metrics = createMetrics();
  const backlog = new Registry();
  registerBacklogGauges(backlog, async () => ({ systems: [], callbackBacklog: 0, pollBacklog: 0, clocks: [] }));
  registerLedgerGauges(backlog, { up: () => true, waiting: async () => ({ finished: 0, archived: 0 }), quarantined: async () => 0 });
  const names = new Set<string>();
  for (const m of [...(await metrics.registry.getMetricsAsJSON()), ...(await backlog.getMetricsAsJSON())]) {
    names.add(m.name);
    if (String(m.type) === 'histogram') for (const suffix of ['_bucket', '_sum', '_count']) names.add(m.name + suffix);
  }
  return names;
}

/** Metric names in a PromQL expression: identifiers starting ow_ (the gateway's own). */
function metricsIn(expr: string): string[] {
  return [...expr.matchAll(/\b(ow_[a-z_]+)\b/g)].map((m) => m[1]!);
}

interface Panel {
  type: string;
  title: string;
  datasource?: { type: string; uid: string };
  targets?: Array<{ expr?: string; refId?: string }>;
  gridPos?: { x: number; y: number; w: number; h: number };
}

test('the dashboard loads: panels with datasources and targets, queries on exported metrics', async () => {
  const dashboard = JSON.parse(fs.readFileSync(path.join(root, 'deploy/grafana/onewindow-gateway.json'), 'utf8')) as { uid: string; title: string; schemaVersion: number; panels: Panel[]; templating: { list: Array<{ name: string; query?: string | { query?: string } }> } };
  expect(dashboard.uid).toBeTruthy();
  expect(dashboard.schemaVersion).toBeGreaterThanOrEqual(36);
  const names = await exported();
  const panels = dashboard.panels.filter((p) => p.type !== 'row');
  expect(panels.length).toBeGreaterThanOrEqual(15);
  expect(dashboard.panels.filter((p) => p.type === 'row').map((p) => p.title)).toEqual(expect.arrayContaining(['Overview by level', 'Backlogs', 'Latency', 'Shared data and seals', 'Failing system: $system']));
  for (const panel of panels) {
    expect(panel.datasource?.type).toBe('prometheus');
    expect(panel.gridPos).toBeDefined();
    expect(panel.targets?.length).toBeGreaterThan(0);
    for (const target of panel.targets ?? []) {
      expect(target.refId).toBeTruthy();
      const used = metricsIn(target.expr ?? '');
      expect(used.length).toBeGreaterThan(0);
      for (const name of used) expect({ panel: panel.title, name, exported: names.has(name) }).toEqual({ panel: panel.title, name, exported: true });
    }
  }
  const variables = dashboard.templating.list.map((v) => (typeof v.query === 'string' ? v.query : (v.query?.query ?? '')));
  expect(variables.some((q) => metricsIn(q).length > 0)).toBe(true);
  for (const query of variables) for (const name of metricsIn(query)) expect(names.has(name)).toBe(true);
});

test('every alert rule names exported metrics and the alerts asked for are there', async () => {
  const rules = YAML.parse(fs.readFileSync(path.join(root, 'deploy/prometheus/onewindow-alerts.yml'), 'utf8')) as { groups: Array<{ name: string; rules: Array<{ alert: string; expr: string; labels?: Record<string, string>; annotations?: Record<string, string> }> }> };
  const names = await exported();
  const all = rules.groups.flatMap((g) => g.rules);
  expect(all.map((r) => r.alert)).toEqual(expect.arrayContaining(['OneWindowSystemCircuitOpen', 'OneWindowSystemDown', 'OneWindowDeadLettersRising', 'OneWindowCallbackBacklog', 'OneWindowOldestWaitingCase', 'OneWindowIntake5xx', 'OneWindowLedgerQuarantine', 'OneWindowSystemUnreachable']));
  for (const rule of all) {
    expect(rule.labels?.severity).toMatch(/^(warning|critical)$/);
    expect(rule.annotations?.summary).toBeTruthy();
    const used = metricsIn(rule.expr);
    expect(used.length).toBeGreaterThan(0);
    for (const name of used) expect({ rule: rule.alert, name, exported: names.has(name) }).toEqual({ rule: rule.alert, name, exported: true });
  }
});

test("the dashboard satisfies Grafana's own schema (@grafana/schema's Dashboard, generated from its CUE schema), strictly", () => {
  // Compiled as a literal with `satisfies`: every field's type and every literal (panel types,
  // variable types, units) is checked, and a property Grafana does not know is an error.
  const json = fs.readFileSync(path.join(root, 'deploy/grafana/onewindow-gateway.json'), 'utf8');
  const file = path.join(root, 'test/observability/__dashboard-schema-check.ts');
  const source = `import type { Dashboard } from '@grafana/schema';\nexport const dashboard = ${json.trim()} satisfies Dashboard;\n`;
  const host = ts.createCompilerHost({});
  const read = host.readFile.bind(host);
  host.readFile = (name) => (path.resolve(name) === file ? source : read(name));
  const exists = host.fileExists.bind(host);
  host.fileExists = (name) => path.resolve(name) === file || exists(name);
  const program = ts.createProgram([file], { strict: true, noEmit: true, module: ts.ModuleKind.CommonJS, moduleResolution: ts.ModuleResolutionKind.Node10, target: ts.ScriptTarget.ES2022, skipLibCheck: true, types: [] }, host);
  const problems = ts.getPreEmitDiagnostics(program).map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n'));
  expect(problems).toEqual([]);
  // The check bites: a misspelt panel field is refused.
  const broken = source.replace('"gridPos"', '"gridPosition"');
  host.readFile = (name) => (path.resolve(name) === file ? broken : read(name));
  const again = ts.createProgram([file], program.getCompilerOptions(), host);
  expect(ts.getPreEmitDiagnostics(again).length).toBeGreaterThan(0);
});
