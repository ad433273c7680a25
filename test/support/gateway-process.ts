/**
 * The built gateway (`dist/src/main.js`) as a child process, for tests of whole processes: its
 * output (stdout and stderr) in a log file of its own, readiness by /readyz, stopped by SIGTERM
 * (SIGKILL after a grace).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort } from './redis-server';

export const MAIN = path.resolve(__dirname, '../../dist/src/main.js');

export interface GatewayProcess {
  name: string;
  url: string;
  pid: number;
  child: ChildProcess;
  /** Everything it wrote. */
  log: string;
  exited: Promise<void>;
}

/**
 * Spawns a gateway in `dir` (default: a new temporary folder), its data under `<dir>/<name>-data`.
 * `env` comes on top of PATH, a loopback HOST, a free PORT and LOG_LEVEL warn.
 */
export async function spawnGateway(name: string, env: Record<string, string>, dir = fs.mkdtempSync(path.join(os.tmpdir(), `ow-${name}-`)), options: { detached?: boolean } = {}): Promise<GatewayProcess> {
  if (!fs.existsSync(MAIN)) throw new Error('dist/ is missing: npm test builds it first (npm run build)');
  const port = await freePort();
  const log = path.join(dir, `${name}.log`);
  const fd = fs.openSync(log, 'a');
  const child = spawn(process.execPath, [MAIN], {
    cwd: dir,
    env: { PATH: process.env.PATH, LOG_LEVEL: 'warn', HOST: '127.0.0.1', OW_DATA_DIR: path.join(dir, `${name}-data`), ...env, PORT: String(port) },
    stdio: ['ignore', fd, fd],
    // detached: a process group of its own, as a terminal starts `npm start` (its pid is the group's id).
    detached: options.detached,
  });
  fs.closeSync(fd);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return { name, url: `http://127.0.0.1:${port}`, pid: child.pid!, child, log, exited };
}

/**
 * Waits for /readyz 200; a process that exits fails with its log. A start takes what the code allows
 * it (Redis, the ledger's first start, on whatever the machine is doing), so the wait is long: it only
 * turns a hang into a failure with the log, well inside the hook's own timeout.
 */
export const READY_WAIT_MS = 150_000;

export async function untilReady(p: GatewayProcess, timeoutMs = READY_WAIT_MS): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (p.child.exitCode !== null || p.child.signalCode !== null) throw new Error(`${p.name} exited during start-up:\n${fs.readFileSync(p.log, 'utf8')}`);
    const status = await fetch(`${p.url}/readyz`, { signal: AbortSignal.timeout(1000) }).then(
      (r) => r.status,
      () => 0,
    );
    if (status === 200) return;
    if (Date.now() > deadline) throw new Error(`${p.name} was not ready within ${Math.round(timeoutMs / 1000)} s:\n${fs.readFileSync(p.log, 'utf8')}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

export async function stopGateway(p: GatewayProcess | undefined, graceMs = 10_000): Promise<void> {
  if (!p || p.child.exitCode !== null || p.child.signalCode !== null) return;
  p.child.kill('SIGTERM');
  const timer = setTimeout(() => p.child.kill('SIGKILL'), graceMs);
  await p.exited;
  clearTimeout(timer);
}
