/**
 * The console's new-system templates (src/admin/console/system/templates.ts): each one is a valid
 * system as it stands, checked as a start-up checks a file under the shipped config/ (its egress
 * rules included) with its expressions test-run; each speaks its protocol, points at 127.0.0.1 and
 * carries no secret; and each has the keys the shipped systems of its protocol have.
 */
import path from 'node:path';
import YAML from 'yaml';
import { loadConfig, parseSystem, trialRun, type ConfigIssue } from '../../src/config/loader';
import { demoEnv } from '../../sim/samples';
import { TEMPLATES, type TemplateProtocol } from '../../src/admin/console/system/templates';

const CONFIG = path.resolve(__dirname, '../../config');
const shipped = loadConfig(CONFIG, demoEnv());

describe.each(Object.keys(TEMPLATES) as TemplateProtocol[])('the %s template for a new system', (protocol) => {
  const raw = YAML.parse(TEMPLATES[protocol]) as Record<string, unknown>;

  it('is a valid system as a start-up checks a file, its expressions test-run on the sample case', async () => {
    const issues: ConfigIssue[] = [];
    const system = parseSystem(raw, `systems/${String(raw.id)}.yaml`, {}, shipped.gateway, shipped.dir, issues);
    expect(issues).toEqual([]);
    expect(await trialRun(system!, 'template', shipped.gateway)).toEqual([]);
  });

  it('speaks its protocol, points at a placeholder on 127.0.0.1, and carries no secret', () => {
    expect(raw.protocol).toBe(protocol);
    expect(new URL(String(raw.endpoint)).hostname).toBe('127.0.0.1');
    expect(raw.auth).toEqual({ type: 'none' });
    expect((raw.result as Record<string, unknown>).inboundToken).toBeUndefined();
    expect(shipped.systems.has(String(raw.id))).toBe(false);
  });

  it('has the keys the shipped systems of its protocol have', () => {
    const sameProtocol = [...shipped.sources.values()].filter((s) => s.protocol === protocol && s.request);
    expect(sameProtocol.length).toBeGreaterThan(0);
    const keysOf = (s: Record<string, unknown>) => ['request', 'response', 'result'].flatMap((k) => Object.keys((s[k] as object) ?? {}).map((sub) => `${k}.${sub}`));
    const shippedKeys = new Set(sameProtocol.flatMap(keysOf));
    for (const key of keysOf(raw)) expect({ key, shipped: shippedKeys.has(key) }).toEqual({ key, shipped: true });
    if (protocol !== 'rest') expect(Object.keys(raw)).toContain(protocol);
  });
});

