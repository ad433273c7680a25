/**
 * `npm run seal -- <command>`: the seal room offline, on the keys folder.
 *
 *   verify <file>   the file holds {seal, payload} or {seal, payloadBase64}; prints the
 *                   verification as JSON; exit 0 valid, 1 invalid, 2 bad input
 *   rotate          a new active key, every other retired (they still verify what they sealed
 *                   before); --alg must be the configured seal.algorithm
 *   keys            the keys, as GET /api/v1/seal/keys answers them
 *
 * Only gateway.yaml's `seal:` section is read, so the CLI works without the systems' secrets.
 */
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import YAML from 'yaml';
import { expandEnv, type ConfigIssue } from '../config/loader';
import { SEAL_ALGORITHMS, sealSchema, type SealAlgorithm, type SealConfig } from './config';
import { keysLocation } from './index';
import { Keyring, KeyringError } from './keys';
import { verifyRequestSchema } from './verify';
import { Sealer } from './seal';

export interface CliIo {
  out: (text: string) => void;
  err: (text: string) => void;
  env: Readonly<Record<string, string | undefined>>;
  now?: () => Date;
}

const USAGE = `usage: npm run seal -- <command> [options]
  verify <file>   check {seal, payload} or {seal, payloadBase64} from a JSON file (exit 0 valid, 1 invalid, 2 bad input)
  rotate          make a new active key and retire the others  [--alg SM2-SM3|Ed25519: must be seal.algorithm]
  keys            list the keys
options:
  --keys-dir DIR  the keys folder (default: OW_SEAL_KEYS_DIR, seal.keysDir, else $OW_DATA_DIR/seal)
  --now ISO       verify as at this time (default: now)`;

class BadInput extends Error {}

function readSealConfig(env: CliIo['env']): { config: SealConfig; configDir: string } {
  const configDir = path.resolve(env.OW_CONFIG_DIR ?? './config');
  const file = path.join(configDir, 'gateway.yaml');
  if (!fs.existsSync(file)) return { config: sealSchema.parse({}), configDir };
  const doc = YAML.parseDocument(fs.readFileSync(file, 'utf8'));
  if (doc.errors.length > 0) throw new BadInput(`gateway.yaml: ${doc.errors[0].message.split('\n')[0]}`);
  const raw = (doc.toJS() as { seal?: unknown } | null)?.seal ?? {};
  const issues: ConfigIssue[] = [];
  const expanded = expandEnv(raw, env, 'gateway.yaml', issues, ['seal']);
  if (issues.length > 0) throw new BadInput(issues.map((i) => `gateway.yaml at ${i.path}: ${i.message}`).join('\n'));
  const parsed = sealSchema.safeParse(expanded);
  if (!parsed.success) throw new BadInput(parsed.error.issues.map((i) => `gateway.yaml at seal.${i.path.join('.')}: ${i.message}`).join('\n'));
  return { config: parsed.data, configDir };
}

export function runCli(argv: readonly string[], io: CliIo): number {
  try {
    return run(argv, io);
  } catch (err) {
    if (err instanceof BadInput || err instanceof KeyringError) {
      io.err(`seal: ${err.message}\n`);
      return 2;
    }
    // Anything else is a bug; still one line, never a stack (a key file's path may be in it, a key never).
    io.err(`seal: unexpected error: ${(err as Error).message}\n`);
    return 2;
  }
}

function run(argv: readonly string[], io: CliIo): number {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      allowPositionals: true,
      options: { 'keys-dir': { type: 'string' }, alg: { type: 'string' }, now: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
    });
  } catch (err) {
    throw new BadInput(`${(err as Error).message}\n${USAGE}`);
  }
  const [command, ...rest] = parsed.positionals;
  if (parsed.values.help || !command) {
    io.out(`${USAGE}\n`);
    return parsed.values.help ? 0 : 2;
  }
  const { config, configDir } = readSealConfig(io.env);
  const located = keysLocation({ config, configDir, env: io.env });
  const dir = parsed.values['keys-dir'] ? path.resolve(parsed.values['keys-dir']) : located.dir;
  const now = io.now ?? (() => new Date());

  if (command === 'keys') {
    if (!fs.existsSync(dir)) throw new BadInput(`no seal keys yet in ${dir} (the gateway makes one at start, or run: npm run seal -- rotate)`);
    const keyring = new Keyring({ dir, algorithm: config.algorithm, writable: false, generate: false });
    io.out(`${JSON.stringify({ dir, keys: keyring.list() }, null, 2)}\n`);
    return 0;
  }

  if (command === 'rotate') {
    if (located.provided && !parsed.values['keys-dir']) throw new BadInput(`the keys in ${dir} are provided by the operator (OW_SEAL_KEYS_DIR or seal.keysDir); add a key file there, or pass --keys-dir to write into it`);
    const alg = parsed.values.alg ?? config.algorithm;
    if (!SEAL_ALGORITHMS.includes(alg as SealAlgorithm)) throw new BadInput(`--alg must be one of ${SEAL_ALGORITHMS.join(', ')}`);
    // The configured algorithm, not --alg: the keyring refuses a key the gateways would replace at once.
    const keyring = new Keyring({ dir, algorithm: config.algorithm, writable: true, generate: false, now });
    const made = keyring.rotate(alg as SealAlgorithm);
    const retired = keyring.list().filter((k) => k.status === 'retired').map((k) => k.keyId);
    io.out(`${JSON.stringify({ dir, active: { keyId: made.keyId, alg: made.alg, createdAt: made.createdAt }, retired }, null, 2)}\n`);
    io.err(`seal: ${made.keyId} (${made.alg}) is the active key; running gateways pick it up within 5 s\n`);
    return 0;
  }

  if (command === 'verify') {
    if (rest.length !== 1) throw new BadInput(`verify needs one file\n${USAGE}`);
    let body: unknown;
    try {
      body = JSON.parse(fs.readFileSync(rest[0], 'utf8')) as unknown;
    } catch (err) {
      throw new BadInput(`${rest[0]}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : `not JSON (${(err as Error).message})`}`);
    }
    const request = verifyRequestSchema.safeParse(body);
    if (!request.success) throw new BadInput(`${rest[0]}: ${request.error.issues.map((i) => `${i.path.join('.') || '(file)'}: ${i.message}`).join('; ')}`);
    const at = parsed.values.now ? new Date(parsed.values.now) : now();
    if (Number.isNaN(at.getTime())) throw new BadInput('--now must be an ISO date-time');
    if (!fs.existsSync(dir)) throw new BadInput(`no seal keys in ${dir}`);
    const keyring = new Keyring({ dir, algorithm: config.algorithm, writable: false, generate: false });
    const result = new Sealer(keyring, config).verify({ ...request.data, now: at });
    io.out(`${JSON.stringify(result, null, 2)}\n`);
    return result.valid ? 0 : 1;
  }

  throw new BadInput(`unknown command ${command}\n${USAGE}`);
}

if (require.main === module) {
  process.exitCode = runCli(process.argv.slice(2), {
    out: (text) => process.stdout.write(text),
    err: (text) => process.stderr.write(text),
    env: process.env,
  });
}
