/**
 * Start-up's refusal of weak secrets: a gateway token or secret shorter than 16 bytes, or any secret
 * still a shipped placeholder (deploy/.env.example, deploy/k8s/secret.yaml say `change-me-…`), stops the
 * start naming the variable, never showing its value. The demo starts its gateway itself and is not checked.
 */
import type { GatewayConfig } from '../config/loader';

/** The gateway's own bearer tokens (each a comma-separated list, for rotation). */
export const GATEWAY_TOKEN_VARS = ['OW_INTAKE_TOKEN', 'OW_OPS_TOKEN', 'OW_OPERATOR_TOKEN', 'OW_VIEWER_TOKEN'] as const;
/** The gateway's own shared secrets (one value each). */
export const GATEWAY_SECRET_VARS = ['OW_INTAKE_HMAC_SECRET', 'OW_CALLBACK_SECRET'] as const;

const MIN_SECRET_BYTES = 16;
const PLACEHOLDER_ORIGIN = 'as shipped in deploy/.env.example and deploy/k8s/secret.yaml';

// Words that are never a real secret: what templates, tutorials and quick tries put in.
const PLACEHOLDER_WORDS = new Set(['secret', 'password', 'passw0rd', 'example', 'token', 'test', 'admin', 'default', 'placeholder', 'todo', 'xxx', 'changeit']);

/** A value that is a known placeholder: change-me…, replace-me…, your-…, or a word like `secret`. */
export function isPlaceholder(value: string): boolean {
  const v = value.trim().toLowerCase();
  const squashed = v.replace(/[-_\s]/g, '');
  return squashed.startsWith('changeme') || squashed.startsWith('replaceme') || v.startsWith('your-') || v.startsWith('<') || PLACEHOLDER_WORDS.has(squashed) || v.includes('example');
}

type Env = Readonly<Record<string, string | undefined>>;

function problemOf(name: string, value: string): string | undefined {
  if (isPlaceholder(value)) return `${name} is a placeholder (${PLACEHOLDER_ORIGIN}): set a secret of your own`;
  if (Buffer.byteLength(value) < MIN_SECRET_BYTES) return `${name} is shorter than ${MIN_SECRET_BYTES} bytes: set a longer random secret (openssl rand -hex 24)`;
  return undefined;
}

/**
 * Every weak secret in `env`: the gateway's tokens and secrets (placeholder or short), and the
 * variables the configuration's `${NAME}` references (placeholder only: their length is the legacy
 * system's choice). One problem per variable.
 */
export function weakSecrets(env: Env, config?: GatewayConfig): string[] {
  const problems: string[] = [];
  for (const name of [...GATEWAY_TOKEN_VARS, ...GATEWAY_SECRET_VARS]) {
    const raw = env[name];
    if (!raw) continue;
    const values = (GATEWAY_TOKEN_VARS as readonly string[]).includes(name) ? raw.split(',').map((t) => t.trim()).filter(Boolean) : [raw];
    const problem = values.map((v) => problemOf(name, v)).find(Boolean);
    if (problem) problems.push(problem);
  }
  const callbackSecret = config?.gateway.intake.callbackSecret;
  if (callbackSecret && !env.OW_CALLBACK_SECRET) {
    const problem = problemOf('gateway.yaml intake.callbackSecret', callbackSecret);
    if (problem) problems.push(problem);
  }
  // One line for them all: a fresh copy of the template has dozens.
  const placeholders = (config ? referencedVariables(config) : []).filter((name) => isPlaceholder(env[name] ?? ''));
  if (placeholders.length > 0) problems.push(`${placeholders.length} variable${placeholders.length === 1 ? ' the configuration uses is a placeholder' : 's the configuration uses are placeholders'} (${PLACEHOLDER_ORIGIN}): ${placeholders.join(', ')}`);
  return problems;
}

/** The `${NAME}`s the configuration's system files reference, in order, each once. */
function referencedVariables(config: GatewayConfig): string[] {
  const names = new Set<string>();
  for (const source of config.sources.values()) {
    for (const match of JSON.stringify(source).matchAll(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g)) names.add(match[1]);
  }
  return [...names];
}
