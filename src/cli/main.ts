/**
 * `npm run -s ow -- <command>`: the ops command line. `check-config` runs a start-up's checks and
 * starts nothing; every other command is a call to a running gateway's API (OW_URL, OW_TOKEN), so it
 * does what the console does, with the same permissions and the same audit trail.
 */
import os from 'node:os';
import { parseArgs } from 'node:util';
import { ConfigError, trialRunAll } from '../config/loader';
import { applyEnvFile } from '../platform/env-file';
import { gatewayVersion } from '../platform/version';
import { readStartup } from '../startup';
import type { DeadLetterPage, ReplayAnswer, SystemStatus } from '../api-schemas';
import type { ReloadOutcome } from '../config/live';
import type { CaseView } from '../cases/model';

export interface CliIo {
  out: (text: string) => void;
  err: (text: string) => void;
  env: Record<string, string | undefined>;
}

/** Exit codes: all is well, a problem found or refused by the gateway, a wrong command line, no gateway. */
export const EXIT = { ok: 0, problem: 1, usage: 2, unreachable: 3 } as const;

const USAGE = `usage: npm run -s ow -- <command> [options]
  check-config [dir]        check a configuration folder (default OW_CONFIG_DIR, else ./config) and the
                            environment as a start-up would; lists every problem, starts nothing (exit 0 or 1)
  systems                   every system: paused, circuit, queue, dead letters, last error
  pause <id> [--reason R]   pause a system (it keeps queueing, sends nothing)
  resume <id> [--reason R]  resume a paused system
  dead-letters [--system ID]  deliveries whose attempts ran out
  replay <deadLetterId> [--reason R]  queue a dead letter again (<systemId>.<caseId>)
  case <caseId>             a case's status and each delivery
  reload [--reason R]       read the gateway's OW_CONFIG_DIR again, checked as at start-up (a problem: each
                            listed, nothing changed): a new systems/<id>.yaml adds that system, a changed
                            file becomes a new version, a changed routes.yaml new routes; every process
                            follows within 5 s. Files as last read are left alone; systems without a file
                            are listed, not removed (admin token)
options:
  --json                    the gateway's answer as it is (JSON), for scripts
  --help, --version
environment: OW_URL (default http://127.0.0.1:8080), OW_TOKEN (an ops token), OW_OPERATOR (your name
  in the audit trail; default your login), OW_ENV_FILE (a NAME=value file read first; set variables win)
exit codes: 0 done, 1 a problem (or the gateway refused), 2 a wrong command line, 3 gateway unreachable`;

class CliError extends Error {
  constructor(
    message: string,
    readonly code: number,
  ) {
    super(message);
  }
}

export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  try {
    return await run(argv, io);
  } catch (err) {
    if (err instanceof CliError) {
      io.err(`ow: ${err.message}\n`);
      return err.code;
    }
    throw err;
  }
}

async function run(argv: readonly string[], io: CliIo): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      allowPositionals: true,
      options: { help: { type: 'boolean', short: 'h' }, version: { type: 'boolean' }, json: { type: 'boolean' }, reason: { type: 'string' }, system: { type: 'string' } },
    });
  } catch (err) {
    throw new CliError(`${(err as Error).message}\n${USAGE}`, EXIT.usage);
  }
  const { values, positionals } = parsed;
  if (values.help || values.version) {
    io.out(`${values.help ? USAGE : gatewayVersion()}\n`);
    return EXIT.ok;
  }
  const [command, ...args] = positionals;
  if (!command) throw new CliError(`a command is needed\n${USAGE}`, EXIT.usage);
  const envFileProblem = applyEnvFile(io.env);
  if (command === 'check-config') return checkConfig(args[0], io, envFileProblem);
  if (envFileProblem) throw new CliError(envFileProblem, EXIT.usage);
  const one = (what: string): string => {
    if (args.length !== 1) throw new CliError(`${command} takes one ${what}\n${USAGE}`, EXIT.usage);
    return args[0];
  };
  const api = new Api(io.env);
  const show = (answer: unknown, human: () => string): number => {
    io.out(values.json ? `${JSON.stringify(answer, null, 2)}\n` : human());
    return EXIT.ok;
  };
  const reasonBody = values.reason ? { reason: values.reason } : {};
  switch (command) {
    case 'systems': {
      const systems = await api.call<SystemStatus[]>('GET', '/api/v1/admin/systems');
      return show(systems, () => systemsTable(systems));
    }
    case 'pause':
    case 'resume': {
      const id = one('system id');
      const system = await api.call<SystemStatus>('POST', `/api/v1/admin/systems/${encodeURIComponent(id)}/${command}`, reasonBody);
      return show(system, () => `${system.id}: ${system.paused ? 'paused' : 'running'} (circuit ${system.circuit.state}, ${system.queue.waiting + system.queue.delayed} waiting)\n`);
    }
    case 'dead-letters': {
      if (args.length > 0) throw new CliError(`dead-letters takes no argument (--system ID)\n${USAGE}`, EXIT.usage);
      const query = new URLSearchParams({ limit: '500', ...(values.system ? { systemId: values.system } : {}) });
      const page = await api.call<DeadLetterPage>('GET', `/api/v1/admin/dead-letters?${query}`);
      return show(page, () => deadLettersTable(page));
    }
    case 'replay': {
      const id = one('dead letter id (<systemId>.<caseId>)');
      const answer = await api.call<ReplayAnswer>('POST', `/api/v1/admin/dead-letters/${encodeURIComponent(id)}/replay`, reasonBody);
      return show(answer, () => `${answer.id}: queued again\n`);
    }
    case 'case': {
      const caseId = one('case id');
      const view = await api.call<CaseView>('GET', `/api/v1/cases/${encodeURIComponent(caseId)}`);
      return show(view, () => caseText(view));
    }
    case 'reload': {
      if (args.length > 0) throw new CliError(`reload takes no argument (--reason R)\n${USAGE}`, EXIT.usage);
      const outcome = await api.call<ReloadOutcome>('POST', '/api/v1/admin/config/reload', reasonBody);
      return show(outcome, () => reloadText(outcome));
    }
    default:
      throw new CliError(`unknown command "${command}"\n${USAGE}`, EXIT.usage);
  }
}

/** A start-up's checks and the systems' trial runs, every problem listed; nothing is started. */
async function checkConfig(dir: string | undefined, io: CliIo, envFileProblem: string | undefined): Promise<number> {
  const settings = readStartup(io.env, dir);
  const problems = envFileProblem ? [envFileProblem, ...settings.problems] : [...settings.problems];
  if (settings.config) {
    try {
      await trialRunAll(settings.config);
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      problems.push(err.message);
    }
  }
  if (problems.length > 0) {
    io.err(`${problems.map((p) => `ow: ${p}`).join('\n')}\n`);
    return EXIT.problem;
  }
  const config = settings.config!;
  io.out(`configuration ${config.dir} and environment OK: ${config.systems.size} systems, ${config.routes.routes.length} routes\n`);
  return EXIT.ok;
}

/** The gateway's API with the ops token; its refusals and its absence as one-line CliErrors. */
class Api {
  private readonly base: string;
  private readonly token: string | undefined;
  private readonly operator: string;

  constructor(env: CliIo['env']) {
    this.base = (env.OW_URL || 'http://127.0.0.1:8080').replace(/\/+$/, '');
    this.token = env.OW_TOKEN || undefined;
    this.operator = env.OW_OPERATOR || safeLogin();
  }

  async call<T>(method: 'GET' | 'POST', path: string, body?: object): Promise<T> {
    if (!this.token) throw new CliError('OW_TOKEN must be set (an ops token of the gateway)', EXIT.usage);
    let res: Response;
    try {
      res = await fetch(`${this.base}${path}`, {
        method,
        headers: { Authorization: `Bearer ${this.token}`, 'X-OW-Operator': encodeURIComponent(this.operator), ...(body ? { 'Content-Type': 'application/json' } : {}) },
        body: body ? JSON.stringify(body) : undefined,
        signal: AbortSignal.timeout(30_000),
      });
    } catch (err) {
      const cause = (err as { cause?: { code?: string } }).cause?.code ?? (err as Error).message;
      throw new CliError(`cannot reach the gateway at ${this.base} (${cause}); set OW_URL`, EXIT.unreachable);
    }
    const text = await res.text();
    let answer: unknown;
    try {
      answer = JSON.parse(text);
    } catch {
      throw new CliError(`${res.status} from ${this.base}${path}: not the gateway's JSON (is OW_URL the gateway?)`, EXIT.problem);
    }
    if (!res.ok) throw new CliError(refusal(res.status, answer), EXIT.problem);
    return answer as T;
  }
}

function safeLogin(): string {
  try {
    return os.userInfo().username;
  } catch {
    return 'ops';
  }
}

/** `401 unauthorized: …`, then each of the error's details on a line of its own (a reload may list dozens). */
function refusal(status: number, answer: unknown): string {
  const error = (answer as { error?: { code?: string; message?: string; details?: Array<{ path?: string; message?: string }> } }).error;
  const details = (error?.details ?? []).map((d) => `\n  ${d.path ? `${d.path}: ` : ''}${d.message ?? ''}`).join('');
  const hint = status === 401 ? ' (check OW_TOKEN)' : '';
  return `${status} ${error?.code ?? 'error'}: ${error?.message ?? 'no message'}${hint}${details}`;
}

/** Columns padded to their widest cell (by code points, so Chinese text stays aligned enough). */
function table(header: readonly string[], rows: readonly string[][]): string {
  const width = header.map((h, i) => Math.max(h.length, ...rows.map((r) => [...r[i]].length)));
  const line = (cells: readonly string[]) => cells.map((c, i) => (i === cells.length - 1 ? c : c + ' '.repeat(width[i] - [...c].length))).join('  ').trimEnd();
  return [line(header), ...rows.map(line)].join('\n') + '\n';
}

const oneLine = (text: string | undefined, max = 60): string => {
  const flat = (text ?? '').replace(/\s+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
};

function systemsTable(systems: readonly SystemStatus[]): string {
  return table(
    ['ID', 'PAUSED', 'CIRCUIT', 'WAITING', 'ACTIVE', 'DELAYED', 'DEAD', 'LAST ERROR'],
    systems.map((s) => [s.id, s.paused ? 'yes' : 'no', s.circuit.state, String(s.queue.waiting), String(s.queue.active), String(s.queue.delayed), String(s.deadLetters), oneLine(s.lastError)]),
  );
}

function deadLettersTable(page: DeadLetterPage): string {
  if (page.items.length === 0) return 'no dead letters\n';
  const more = page.next ? `(more than ${page.items.length}: --json and the API's cursor page on)\n` : '';
  return table(['ID', 'FAILED AT', 'ATTEMPTS', 'LAST ERROR'], page.items.map((d) => [d.id, d.failedAt, String(d.attempts), oneLine(d.lastError)])) + more;
}

function reloadText(r: ReloadOutcome): string {
  const each = (ids: readonly string[]) => ids.map((id) => `${id} (version ${r.versions[id]})`).join(', ');
  const lines = [
    `added:      ${r.added.length ? each(r.added) : 'none'}`,
    `changed:    ${r.changed.length ? each(r.changed) : 'none'}`,
    `unchanged:  ${r.unchanged.length} system${r.unchanged.length === 1 ? '' : 's'}`,
    `routes:     ${r.routes.changed ? `changed (version ${r.routes.version})` : `unchanged (version ${r.routes.version})`}`,
  ];
  if (r.missingOnDisk.length) lines.push(`no file:    ${r.missingOnDisk.join(', ')} (still running; DELETE /api/v1/admin/systems/<id> removes one)`);
  return `${lines.join('\n')}\n`;
}

function caseText(view: CaseView): string {
  const head = `${view.caseId}  ${view.itemCode}  ${view.status}  accepted ${view.acceptedAt}${view.archived ? '  (archived)' : ''}\n`;
  const rows = view.deliveries.map((d) => [
    d.systemId,
    d.status,
    String(d.attempts),
    d.receiptNo ?? '',
    d.waitingFor ? `waiting: ${d.waitingFor}${d.nextAttemptAt ? ` until ${d.nextAttemptAt}` : ''}` : oneLine(d.status === 'completed' ? d.result?.outcome : d.lastError),
  ]);
  return head + table(['SYSTEM', 'STATUS', 'ATTEMPTS', 'RECEIPT', 'NOTE'], rows);
}

if (require.main === module) {
  runCli(process.argv.slice(2), { out: (t) => process.stdout.write(t), err: (t) => process.stderr.write(t), env: process.env }).then(
    (code) => {
      process.exitCode = code;
    },
    (err: Error) => {
      process.stderr.write(`ow: ${err.message}\n`);
      process.exitCode = 1;
    },
  );
}
