/**
 * What a start-up reads from the environment and the configuration folder, and every problem with
 * it, in one list: shared by `npm start` (which refuses to start on any) and `ow check-config`.
 */
import path from 'node:path';
import { ConfigError, loadConfig, type GatewayConfig } from './config/loader';
import { GATEWAY_ROLES, type GatewayRole } from './gateway';
import { tokensFromEnv, type Tokens } from './platform/auth';
import { parseRedisUrl, RedisUrlError } from './platform/redis';
import { weakSecrets } from './platform/secrets';

type Env = Readonly<Record<string, string | undefined>>;

export interface StartupSettings {
  config?: GatewayConfig;
  configDir: string;
  role: GatewayRole;
  host: string;
  dataDir: string;
  shutdownGraceMs: number;
  startupTimeoutMs: number;
  tokens: Tokens;
  /** Everything to fix before the gateway can start; empty when it can. */
  problems: string[];
}

/** A whole number of milliseconds from the environment, or a problem naming the variable. */
function millis(env: Env, name: string, fallback: number, problems: string[]): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (Number.isInteger(value) && value >= 0) return value;
  problems.push(`${name} must be a number of milliseconds, not "${raw}"`);
  return fallback;
}

/** OW_ROLE: what this process does (default all), or a problem listing the roles there are. */
function roleOf(env: Env, problems: string[]): GatewayRole {
  const raw = env.OW_ROLE;
  if (raw === undefined || raw === '') return 'all';
  if ((GATEWAY_ROLES as readonly string[]).includes(raw)) return raw as GatewayRole;
  problems.push(`OW_ROLE must be one of ${GATEWAY_ROLES.join(', ')}, not "${raw}"`);
  return 'all';
}

export function readStartup(env: Env, configDir = env.OW_CONFIG_DIR ?? './config'): StartupSettings {
  const problems: string[] = [];
  const shutdownGraceMs = millis(env, 'OW_SHUTDOWN_GRACE_MS', 10_000, problems);
  const startupTimeoutMs = millis(env, 'OW_STARTUP_TIMEOUT_MS', 15_000, problems);
  const role = roleOf(env, problems);
  let config: GatewayConfig | undefined;
  try {
    config = loadConfig(configDir, env);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    problems.push(`${err.message}\n  (configuration folder: ${path.resolve(configDir)})`);
  }
  // Reported with the configuration's problems, so one run lists everything to fix.
  const tokens = tokensFromEnv(env);
  const missing = [tokens.intake.length === 0 && 'OW_INTAKE_TOKEN', tokens.ops.length === 0 && 'OW_OPS_TOKEN'].filter(Boolean);
  if (missing.length > 0) problems.push(`${missing.join(' and ')} must be set (bearer tokens of the intake platform and of ops staff)`);
  problems.push(...weakSecrets(env, config));
  // An embedded redis-server is private to its process: api and worker processes would never meet.
  if (role !== 'all' && config && !config.gateway.redis.url) problems.push(`OW_ROLE=${role} needs REDIS_URL: api and worker processes must share one Redis`);
  if (config?.gateway.redis.url) {
    try {
      parseRedisUrl(config.gateway.redis.url);
    } catch (err) {
      if (!(err instanceof RedisUrlError)) throw err;
      problems.push(err.message);
    }
  }
  return {
    config,
    configDir,
    role,
    host: env.HOST || '0.0.0.0',
    dataDir: path.resolve(env.OW_DATA_DIR || 'data'),
    shutdownGraceMs,
    startupTimeoutMs,
    tokens,
    problems,
  };
}
