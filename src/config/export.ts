/**
 * The running configuration as files ready to commit to OW_CONFIG_DIR
 * (`GET /api/v1/admin/config/export`). Secrets leave only as `${VAR}` references: the file's own
 * reference where it had one, else a placeholder named after the system and key, commented with
 * what to set, so the value an admin typed into the API is never written into a repository.
 */
import fs from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';
import { redactUrl } from '../platform/privacy';
import { SECRET_PATHS } from './live';

const REFERENCE = /^\$\{[A-Za-z_][A-Za-z0-9_]*\}$/;
/** Keys that hold a secret wherever they are (gateway.yaml has no fixed list like a system's). */
const SECRET_KEY = /(secret|password|passwd|token|apikey|api_key|privatekey)$/i;

/** `city-housing-reform` + `auth.token` → `CITY_HOUSING_REFORM_AUTH_TOKEN`. */
export function placeholderName(owner: string, at: readonly (string | number)[]): string {
  return [owner, ...at.map(String)]
    .join('_')
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .replace(/[^A-Za-z0-9]+/g, '_')
    .toUpperCase();
}

interface Placeholder {
  at: Array<string | number>;
  name: string;
}

/** Replaces every secret value (not already a reference) with a placeholder reference; lists them. */
function withPlaceholders(value: unknown, owner: string, isSecret: (at: readonly (string | number)[]) => boolean, at: Array<string | number> = [], out: Placeholder[] = []): unknown {
  if (typeof value === 'string') {
    const secret = isSecret(at) || redactUrl(value) !== value;
    if (!secret || REFERENCE.test(value) || value === '') return value;
    const name = placeholderName(owner, at);
    out.push({ at, name });
    return `\${${name}}`;
  }
  if (Array.isArray(value)) return value.map((v, i) => withPlaceholders(v, owner, isSecret, [...at, i], out));
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, withPlaceholders(v, owner, isSecret, [...at, k], out)]));
  return value;
}

/** One file's YAML, each placeholder commented with the variable to set. */
function yamlFile(content: unknown, placeholders: Placeholder[]): string {
  const doc = new YAML.Document(content);
  for (const p of placeholders) {
    const node = doc.getIn(p.at, true);
    if (YAML.isScalar(node)) node.comment = ` set ${p.name} in the environment: this secret is not exported`;
  }
  return doc.toString({ lineWidth: 0 });
}

function systemSecret(at: readonly (string | number)[]): boolean {
  return SECRET_PATHS.some((p) => p.join('.') === at.join('.')) || SECRET_KEY.test(String(at.at(-1) ?? ''));
}

/** A configuration file as written (before `${VAR}` expansion), or undefined when absent. */
function readRaw(dir: string, file: string): unknown {
  const full = path.join(dir, file);
  return fs.existsSync(full) ? (YAML.parse(fs.readFileSync(full, 'utf8')) ?? {}) : undefined;
}

/** The running systems and routing table (`routes`, as in use), with gateway.yaml from the folder. */
export function exportConfig(dir: string, systems: ReadonlyMap<string, Record<string, unknown>>, routes?: Record<string, unknown>): Record<string, string> {
  const files: Record<string, string> = {};
  for (const [id, raw] of [...systems].sort(([a], [b]) => a.localeCompare(b))) {
    const placeholders: Placeholder[] = [];
    const content = withPlaceholders(raw, id, systemSecret, [], placeholders);
    files[`systems/${id}.yaml`] = yamlFile(content, placeholders);
  }
  for (const file of ['routes.yaml', 'gateway.yaml']) {
    const raw = file === 'routes.yaml' && routes ? routes : readRaw(dir, file);
    if (raw === undefined) continue;
    const placeholders: Placeholder[] = [];
    const content = withPlaceholders(raw, 'OW', (at) => SECRET_KEY.test(String(at.at(-1) ?? '')), [], placeholders);
    files[file] = yamlFile(content, placeholders);
  }
  return files;
}
