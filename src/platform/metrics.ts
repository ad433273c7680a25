/**
 * Prometheus metrics, one registry per gateway instance so tests can run several side by side.
 *
 * Label values are bounded by construction: system ids (the configuration), route patterns (the
 * code), outcomes and states (closed lists here). Never a case id, a receipt number or a URL.
 * Counters count what this process did; the backlog gauges (read from Redis, shared by every
 * process) are registered only where `backlog` is asked for, so that a sum over processes is right.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** accept → delivered / completed: seconds to days (a result may take a working week). */
const CASE_BUCKETS = [1, 5, 30, 60, 300, 900, 3600, 4 * 3600, 24 * 3600, 3 * 24 * 3600, 7 * 24 * 3600, 20 * 24 * 3600];

export function createMetrics() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const registers = [registry];
  return {
    registry,
    cases: new Counter({ name: 'ow_cases_total', help: 'Cases received, by answer', labelNames: ['answer'], registers }),
    deliveries: new Counter({
      name: 'ow_delivery_attempts_total',
      help: 'Delivery attempts by system and outcome (delivered, retry, throttled, rejected, dead)',
      labelNames: ['systemId', 'outcome'],
      registers,
    }),
    deliveryDuration: new Histogram({
      name: 'ow_delivery_seconds',
      help: 'Time a legacy system took to answer a delivery (the adapter call), by outcome: answered (2xx), failed (an error status, a timeout, no connection)',
      labelNames: ['systemId', 'outcome'],
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers,
    }),
    acceptToDelivered: new Histogram({
      name: 'ow_accept_to_delivered_seconds',
      help: 'From the case accepted to its delivery acknowledged by the legacy system',
      labelNames: ['systemId'],
      buckets: CASE_BUCKETS,
      registers,
    }),
    acceptToCompleted: new Histogram({
      name: 'ow_accept_to_completed_seconds',
      help: 'From the case accepted to its result received from the legacy system',
      labelNames: ['systemId'],
      buckets: CASE_BUCKETS,
      registers,
    }),
    results: new Counter({
      name: 'ow_results_total',
      help: 'Results received from legacy systems, by source (push, poll) and outcome (recorded, duplicate, unmatched, refused)',
      labelNames: ['systemId', 'source', 'outcome'],
      registers,
    }),
    callbacks: new Counter({
      name: 'ow_callbacks_total',
      help: 'Callback POSTs to the intake platform, by the system of the event, event and outcome (delivered, refused, failed)',
      labelNames: ['systemId', 'event', 'outcome'],
      registers,
    }),
    httpRequests: new Counter({
      name: 'ow_http_requests_total',
      help: 'HTTP requests answered, by method, route pattern and status',
      labelNames: ['method', 'route', 'status'],
      registers,
    }),
    httpDuration: new Histogram({
      name: 'ow_http_request_seconds',
      help: 'Time to answer an HTTP request, by method and route pattern',
      labelNames: ['method', 'route'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers,
    }),
    sharedDataQueries: new Counter({
      name: 'ow_shared_data_queries_total',
      help: 'Shared-data queries, by outcome: answered; refused (no such case, the purpose is not its item, or the item may not use a kind asked for); invalid (not a query); failed (e.g. Redis did not answer)',
      labelNames: ['outcome'],
      registers,
    }),
    sharedDataLookups: new Counter({
      name: 'ow_shared_data_lookups_total',
      help: 'What each look-up source said about each kind asked of it (found, not_found, error, timeout), or cached: answered from the cache, the source not asked',
      labelNames: ['systemId', 'kind', 'status'],
      registers,
    }),
    sharedDataLookupDuration: new Histogram({
      name: 'ow_shared_data_lookup_seconds',
      help: 'Time a look-up source took to answer (or to be cut off), by status; cache hits are not observed',
      labelNames: ['systemId', 'status'],
      buckets: [0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 3, 5, 10],
      registers,
    }),
    materialFetches: new Counter({
      name: 'ow_material_fetches_total',
      help: 'Fetches of case materials from a material store, by store and outcome: fetched (whole and as the case said), failed (unreachable, an error status, broken off), altered (not the sha256 or size the case gave)',
      labelNames: ['storeId', 'outcome'],
      registers,
    }),
    materialFetchedBytes: new Counter({
      name: 'ow_material_fetched_bytes_total',
      help: 'Bytes of case materials fetched whole from a material store, by store',
      labelNames: ['storeId'],
      registers,
    }),
    seals: new Counter({
      name: 'ow_seal_operations_total',
      help: 'Seal operations, by operation (sign, verify), algorithm and outcome (ok, invalid, error)',
      labelNames: ['operation', 'alg', 'outcome'],
      registers,
    }),
  };
}

export type Metrics = ReturnType<typeof createMetrics>;

/** One system's backlog as read from Redis. */
export interface SystemBacklog {
  systemId: string;
  level: string;
  protocol: string;
  waiting: number;
  active: number;
  delayed: number;
  failed: number;
  /** Enqueue time (ms) of the oldest job waiting to be sent, when any is. */
  oldestWaitingAt?: number;
  paused: boolean;
  circuit: 'closed' | 'open' | 'half_open';
  windowOpen: boolean;
  unmatched: number;
  /** 1 when the last health probe got an answer, 0 when not; unset without a probe (or before its first). */
  probeUp?: number;
}

export interface BacklogSnapshot {
  systems: SystemBacklog[];
  /** Drain jobs of case outboxes not yet through (waiting, delayed or running). */
  callbackBacklog: number;
  /** Acknowledged deliveries of polling systems whose result is still being polled for. */
  pollBacklog: number;
}

const CIRCUIT_STATES = ['closed', 'open', 'half_open'] as const;
const QUEUE_STATES = ['waiting', 'active', 'delayed', 'failed'] as const;

/**
 * Registers the backlog gauges on `registry`. `read` costs O(systems) Redis commands; it is called at
 * most once per `cacheMs` (concurrent scrapes share one read), so a busy Prometheus or a dashboard
 * full of panels never multiplies the load. A failed read keeps the last values and says so in
 * `ow_backlog_up`.
 */
export function registerBacklogGauges(registry: Registry, read: () => Promise<BacklogSnapshot | null>, options: { cacheMs?: number; now?: () => number; timeoutMs?: number } = {}): { refresh(): Promise<void> } {
  const cacheMs = options.cacheMs ?? 5000;
  const now = options.now ?? Date.now;
  const timeoutMs = options.timeoutMs ?? 2000;
  // snapshot null: another process exports the backlog, this one leaves the gauges empty.
  let last: { at: number; snapshot: BacklogSnapshot | null } | undefined;
  let up = 0;
  let inFlight: Promise<void> | undefined;

  const refresh = (): Promise<void> => {
    if (last && now() - last.at < cacheMs) return Promise.resolve();
    if (inFlight) return inFlight;
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error('backlog read timed out')), timeoutMs)));
    inFlight = Promise.race([read(), late])
      .then(
        (snapshot) => {
          last = { at: now(), snapshot };
          up = 1;
        },
        () => {
          up = 0;
        },
      )
      .finally(() => {
        clearTimeout(timer);
        inFlight = undefined;
      });
    return inFlight;
  };

  const registers = [registry];
  const perSystem = (name: string, help: string, value: (s: SystemBacklog) => number | undefined) =>
    new Gauge({
      name,
      help,
      labelNames: ['systemId'],
      registers,
      async collect() {
        await refresh();
        this.reset();
        for (const s of last?.snapshot?.systems ?? []) {
          const v = value(s);
          if (v !== undefined) this.set({ systemId: s.systemId }, v);
        }
      },
    });

  new Gauge({
    name: 'ow_queue_jobs',
    help: 'Delivery jobs per system queue, by state (waiting, active, delayed, failed)',
    labelNames: ['systemId', 'state'],
    registers,
    async collect() {
      await refresh();
      this.reset();
      for (const s of last?.snapshot?.systems ?? []) for (const state of QUEUE_STATES) this.set({ systemId: s.systemId, state }, s[state]);
    },
  });
  perSystem('ow_queue_oldest_waiting_seconds', 'Age of the oldest delivery waiting to be sent (0 when none waits)', (s) => (s.oldestWaitingAt ? Math.max(0, (now() - s.oldestWaitingAt) / 1000) : 0));
  perSystem('ow_system_paused', '1 when ops paused the system', (s) => Number(s.paused));
  perSystem('ow_window_open', '1 when the system is inside its maintenance window (or has none)', (s) => Number(s.windowOpen));
  perSystem('ow_dead_letters', 'Dead letters of the system (failed jobs awaiting replay or discard)', (s) => s.failed);
  perSystem('ow_system_probe_up', "1 when the system's last health probe got an answer, 0 when it did not (only systems with a probe)", (s) => s.probeUp);
  perSystem('ow_unmatched_results', 'Results of the system parked because no delivery matched them', (s) => s.unmatched);
  new Gauge({
    name: 'ow_circuit_state',
    help: "The system's circuit breaker: 1 for its current state, 0 for the others",
    labelNames: ['systemId', 'state'],
    registers,
    async collect() {
      await refresh();
      this.reset();
      for (const s of last?.snapshot?.systems ?? []) for (const state of CIRCUIT_STATES) this.set({ systemId: s.systemId, state }, Number(s.circuit === state));
    },
  });
  new Gauge({
    name: 'ow_system_info',
    help: 'Always 1: a configured legacy system, with its level and protocol (join on systemId to group by level)',
    labelNames: ['systemId', 'level', 'protocol'],
    registers,
    async collect() {
      await refresh();
      this.reset();
      for (const s of last?.snapshot?.systems ?? []) this.set({ systemId: s.systemId, level: s.level, protocol: s.protocol }, 1);
    },
  });
  new Gauge({
    name: 'ow_callback_backlog',
    help: 'Case outboxes with callbacks not yet acknowledged by the intake platform (drain jobs waiting, delayed or running)',
    registers,
    async collect() {
      await refresh();
      this.reset();
      if (last?.snapshot) this.set(last.snapshot.callbackBacklog);
    },
  });
  new Gauge({
    name: 'ow_poll_backlog',
    help: 'Delivered cases whose result is still being polled for',
    registers,
    async collect() {
      await refresh();
      this.reset();
      if (last?.snapshot) this.set(last.snapshot.pollBacklog);
    },
  });
  new Gauge({
    name: 'ow_backlog_up',
    help: '1 when the last read of the backlog gauges from Redis succeeded',
    registers,
    async collect() {
      await refresh();
      this.set(up);
    },
  });
  return { refresh };
}

/** What the ledger gauges read at scrape time (the sweep's view of the ledger and of Redis). */
export interface LedgerGaugeSource {
  up(): boolean;
  waiting(): Promise<{ finished: number; archived: number }>;
  quarantined(): Promise<number>;
}

/** The ledger's gauges, registered where the sweep runs (workers). */
export function registerLedgerGauges(registry: Registry, source: LedgerGaugeSource): void {
  const registers = [registry];
  new Gauge({ name: 'ow_ledger_up', help: '1 while the case ledger answers', registers, collect() { this.set(source.up() ? 1 : 0); } });
  new Gauge({
    name: 'ow_ledger_waiting_cases',
    help: 'Cases in Redis waiting to be written to the ledger (finished) or removed after retention.hot (archived)',
    labelNames: ['stage'],
    registers,
    async collect() {
      const { finished, archived } = await source.waiting().catch(() => ({ finished: 0, archived: 0 }));
      this.set({ stage: 'finished' }, finished);
      this.set({ stage: 'archived' }, archived);
    },
  });
  new Gauge({
    name: 'ow_ledger_quarantined',
    help: 'Cases and audit entries the ledger refused, set aside for ops (GET /api/v1/admin/ledger/quarantine)',
    registers,
    async collect() {
      this.set(await source.quarantined().catch(() => 0));
    },
  });
}
