/**
 * The documentation holds together: every relative link and anchor in README.md and docs/*.md leads
 * to a file and a heading that exist (headings are anchored as GitHub anchors them), the README stays
 * the short front door it is meant to be, the runbook has an entry for every alert rule in deploy/,
 * and the documents cite nothing the repository does not hold.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import YAML from 'yaml';

const ROOT = path.resolve(__dirname, '..');
/** The README is the front door: what it is, how to run it, a case, summaries with links. */
const README_MAX_LINES = 350;

/** Source, configuration and deployment files, where a comment must not cite an outside document either. */
const SOURCES = ['src', 'adapters', 'sim', 'scripts', 'test', 'config', 'deploy', '.ci']
  .flatMap((dir) => fs.readdirSync(path.join(ROOT, dir), { recursive: true, encoding: 'utf8' }).map((f) => `${dir}/${f}`))
  .concat(['Dockerfile', 'docker-compose.yml', 'package.json', 'BENCHMARKS.md'])
  .filter((f) => /(\.(ts|js|mjs|cjs|lua|sql|yaml|yml|json|html|css|md)|Dockerfile|\/run)$/.test(f) && !f.endsWith('docs.test.ts') && fs.statSync(path.join(ROOT, f)).isFile());

/**
 * Where `file` cites a document the repository does not hold: the outside contract, the folder beside
 * the repository, or a bare section number. A section of a standard or a law is named with it
 * (RFC 8785 §3.2, GB/T 32918.2 §6.1, 网络安全法 §21).
 */
function outsideCitations(file: string): string[] {
  const text = fs.readFileSync(path.join(ROOT, file), 'utf8');
  return [...text.matchAll(/CONTRACT|\.\.\/shared(?![\w-])|§ ?\d+/g)]
    .filter((m) => !(m[0].startsWith('§') && /(RFC \d+|GB\/T [\d.]+|法|法典) ?$/.test(text.slice(Math.max(0, m.index - 24), m.index))))
    .map((m) => `${file}: …${text.slice(Math.max(0, m.index - 30), m.index + m[0].length)}`);
}

const DOCUMENTS = ['README.md', ...fs.readdirSync(path.join(ROOT, 'docs')).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`)];

/** The text outside fenced code blocks and inline code, where a link is a link. */
function prose(markdown: string): string {
  return markdown.replace(/^(```|~~~)[^\n]*\n[\s\S]*?^\1[^\n]*$/gm, '').replace(/`[^`\n]*`/g, '');
}

/**
 * The anchor GitHub gives a heading: its text as rendered (link targets and markup gone), lower-case,
 * every character but letters, digits, marks, `_`, `-` and spaces dropped, spaces as `-`; a repeated
 * anchor gets `-1`, `-2`….
 */
export function headingAnchors(markdown: string): Set<string> {
  const anchors = new Set<string>();
  const seen = new Map<string, number>();
  const withoutCode = markdown.replace(/^(```|~~~)[^\n]*\n[\s\S]*?^\1[^\n]*$/gm, '');
  for (const match of withoutCode.matchAll(/^#{1,6}[ \t]+(.+?)[ \t#]*$/gm)) {
    const text = match[1]!.replace(/!?\[([^\]]*)\]\([^)]*\)/g, '$1');
    const base = text.toLowerCase().replace(/[^\p{L}\p{M}\p{N}_\- ]/gu, '').replace(/ /g, '-');
    const count = seen.get(base) ?? 0;
    seen.set(base, count + 1);
    anchors.add(count === 0 ? base : `${base}-${count}`);
  }
  return anchors;
}

export interface BrokenLink {
  file: string;
  target: string;
  problem: string;
}

/** Every relative link of `file` (a path under `root`) that leads nowhere: a missing file or heading. */
export function brokenLinks(root: string, file: string): BrokenLink[] {
  const markdown = fs.readFileSync(path.join(root, file), 'utf8');
  const broken: BrokenLink[] = [];
  for (const match of prose(markdown).matchAll(/!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)) {
    const target = match[1]!;
    if (/^[a-z][a-z0-9+.-]*:/i.test(target)) continue; // https:, mailto:: not the repository's to check
    const [pathPart, anchor] = target.split('#', 2) as [string, string | undefined];
    const linked = pathPart === '' ? file : path.posix.normalize(path.posix.join(path.posix.dirname(file), decodeURIComponent(pathPart)));
    const absolute = path.join(root, linked);
    if (linked.startsWith('..') || !fs.existsSync(absolute)) {
      broken.push({ file, target, problem: `${linked} does not exist` });
      continue;
    }
    if (anchor === undefined || anchor === '') continue;
    if (!linked.endsWith('.md')) {
      broken.push({ file, target, problem: `an anchor into ${linked}, which has no headings` });
      continue;
    }
    if (!headingAnchors(fs.readFileSync(absolute, 'utf8')).has(decodeURIComponent(anchor))) {
      broken.push({ file, target, problem: `${linked} has no heading #${anchor}` });
    }
  }
  return broken;
}

describe('the documentation', () => {
  it('finds the README and the docs it checks', () => {
    expect(DOCUMENTS).toEqual(expect.arrayContaining(['README.md', 'docs/configuration.md', 'docs/api.md', 'docs/operations.md', 'docs/security.md', 'docs/design.md']));
  });

  it('has no relative link or anchor that leads nowhere', () => {
    expect(DOCUMENTS.flatMap((file) => brokenLinks(ROOT, file))).toEqual([]);
  });

  it(`keeps the README under ${README_MAX_LINES} lines`, () => {
    const lines = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8').split('\n').length;
    expect(lines).toBeLessThan(README_MAX_LINES);
  });

  it('gives every alert rule in deploy/ a runbook entry: what it means and what to do first', () => {
    const rules = YAML.parse(fs.readFileSync(path.join(ROOT, 'deploy/prometheus/onewindow-alerts.yml'), 'utf8')) as { groups: Array<{ rules: Array<{ alert?: string }> }> };
    const alerts = rules.groups.flatMap((g) => g.rules.map((r) => r.alert)).filter((a): a is string => Boolean(a));
    expect(alerts.length).toBeGreaterThan(0);
    const runbook = fs.readFileSync(path.join(ROOT, 'docs/operations.md'), 'utf8');
    const sections = new Map(runbook.split(/^### /m).slice(1).map((s) => [s.slice(0, s.indexOf('\n')).trim(), s]));
    const missing = alerts.filter((alert) => !/\*\*Means\*\*[\s\S]*\*\*First\*\*/.test(sections.get(alert) ?? ''));
    expect(missing).toEqual([]);
  });

  it('cites nothing the repository does not hold: no outside contract, no bare section numbers, in docs or code', () => {
    expect(DOCUMENTS.flatMap((file) => outsideCitations(file))).toEqual([]);
    expect(SOURCES.length).toBeGreaterThan(100);
    expect(SOURCES.flatMap((file) => outsideCitations(file))).toEqual([]);
  });
});

describe('the link check itself', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ow-docs-'));
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('anchors headings as GitHub does', () => {
    const anchors = headingAnchors(['# `gateway.yaml`', '## Intake signatures (`OW_INTAKE_HMAC_SECRET`)', '### Results pushed as XML: `POST /xml/results/:systemId`', '## Two commands', '## Two commands', '## 数据跑路 (shared data)', '```', '# not a heading', '```'].join('\n'));
    expect([...anchors]).toEqual(['gatewayyaml', 'intake-signatures-ow_intake_hmac_secret', 'results-pushed-as-xml-post-xmlresultssystemid', 'two-commands', 'two-commands-1', '数据跑路-shared-data']);
  });

  it('reports a missing file, a missing heading and an anchor into a file without headings, and passes what exists', () => {
    fs.mkdirSync(path.join(dir, 'docs'), { recursive: true });
    fs.writeFileSync(path.join(dir, 'docs/a.md'), '# A\n\n## Known place\n');
    fs.writeFileSync(path.join(dir, 'docs/b.yaml'), 'x: 1\n');
    fs.writeFileSync(
      path.join(dir, 'README.md'),
      [
        '[fine](docs/a.md#known-place) [fine too](#top) [outside](https://example.org/x#y) ![picture](docs/b.yaml)',
        '[gone](docs/missing.md) [no heading](docs/a.md#unknown-place) [yaml anchor](docs/b.yaml#x)',
        '`[in code](docs/nowhere.md)`',
        '```',
        '[in a block](docs/nowhere.md)',
        '```',
        '# Top',
      ].join('\n'),
    );
    expect(brokenLinks(dir, 'README.md').map((b) => b.target)).toEqual(['docs/missing.md', 'docs/a.md#unknown-place', 'docs/b.yaml#x']);
  });
});
