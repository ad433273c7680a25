/**
 * The way out of a process that starts things (redis-server, HTTP servers, workers): whatever the
 * reason (a signal, a start-up problem, a failed listen) it stops what has been started so far,
 * newest first, and exits, never later than a hard deadline. main.ts and the demo use it.
 */

export interface Started {
  /** `step` is told what it is doing now, so that a stop that hangs can be named. */
  stop(step?: (doing: string) => void): Promise<void>;
  /** Synchronous last resort when the deadline passes (e.g. SIGKILL a child process). */
  kill?(): void;
}

export class Lifecycle {
  private readonly started: Array<{ thing: Started; name?: string }> = [];
  private readonly aborter = new AbortController();
  private leaving = false;
  /** What stopping is at, for the deadline's line. */
  private doing?: string;

  constructor(
    /** Prefix of every line printed to stderr, e.g. `onewindow-gateway`. */
    private readonly program: string,
    /** How long stopping may take before the process exits anyway. */
    private readonly deadlineMs: number,
  ) {}

  /** Aborted once the process is on its way out, so a start-up step in progress can give up. */
  get signal(): AbortSignal {
    return this.aborter.signal;
  }

  /** Registers something that now runs and must be stopped on the way out; `name` (e.g. `the gateway`) is for the deadline's line. */
  add(thing: Started, name?: string): void {
    this.started.push({ thing, name });
  }

  /** SIGTERM and SIGINT stop cleanly (exit code 0); a second one exits at once. */
  exitOnSignals(onSignal: (signal: NodeJS.Signals) => void = () => undefined): void {
    const handle = (signal: NodeJS.Signals) => {
      if (this.leaving) return this.now(1);
      onSignal(signal);
      void this.exit(0);
    };
    process.on('SIGTERM', handle);
    process.on('SIGINT', handle);
  }

  /**
   * Prints each problem as one line (`program: problem`), stops what has been started and exits
   * with `code`. Once on the way out, later calls change nothing (a step that fails because it was
   * aborted has nothing to add).
   */
  async exit(code: number, problems: string | string[] = []): Promise<never> {
    if (this.leaving) return new Promise<never>(() => undefined);
    this.leaving = true;
    for (const problem of typeof problems === 'string' ? [problems] : problems) process.stderr.write(`${this.program}: ${problem}\n`);
    this.aborter.abort();
    const deadline = setTimeout(() => {
      const at = this.doing ? `, still ${this.doing}` : '';
      process.stderr.write(`${this.program}: did not stop within ${Math.round(this.deadlineMs / 1000)} s${at}; exiting anyway\n`);
      this.now(code || 1);
    }, this.deadlineMs);
    for (const { thing, name } of [...this.started].reverse()) {
      this.doing = name && `stopping ${name}`;
      await thing.stop((doing) => (this.doing = name ? `stopping ${name}: ${doing}` : doing)).catch((err: Error) => process.stderr.write(`${this.program}: while stopping: ${err.message}\n`));
    }
    clearTimeout(deadline);
    process.exit(code);
  }

  private now(code: number): never {
    for (const { thing } of this.started) thing.kill?.();
    process.exit(code);
  }
}
