/**
 * Simulators of the legacy business systems: one express server plays every configured system,
 * so the demo and the tests need no real back end.
 *
 * A protocol-neutral core (core.ts) keeps each system's state whatever it speaks: knobs, counters,
 * receipts, the redeliveries it drops by `Idempotency-Key` as the gateway expects a real system to,
 * and the decisions it later pushes home or keeps for polls. Each protocol simulator in PROTOCOLS
 * (protocol.ts) only translates its wire format; a system whose protocol has none gets no routes.
 *
 *   POST /sim/<systemId>/cases                  a REST system (rest.ts); other protocols their own
 *   GET  /sim/<systemId>/results/<receiptNo>    a REST system that is polled for results
 *   PUT  /sim/_control/<systemId>   body: Partial<Faults>   → the system's knobs after the change
 *   GET  /sim/_control/<systemId>                           → the system's knobs
 *   GET  /sim/_stats                                        → every system's counters
 *   GET  /sim/_results/<systemId>                           → the cases it accepted and their decisions
 *   GET  /sim/materials/<path>                  the intake platform's material store (materials.ts)
 *
 * A marker in the submitted body gives tests a deterministic answer whatever the knobs say:
 * "SIM-REJECT" is refused for good, "SIM-RETRY" refused as "busy, try again later";
 * "SIM-OUTCOME-REJECTED" and "SIM-OUTCOME-NEED-MORE" are accepted and then decided so.
 */
import http from 'node:http';
import express, { type NextFunction, type Request, type Response } from 'express';
import { loadConfig } from '../src/config/loader';
import { listen } from '../src/platform/listen';
import { SimCore, SimError, type Faults, type FaultsPatch, type SimLookup, type SimRequest, type SimResult, type SystemStats } from './core';
import type { ProtocolSimulator } from './protocol';
import { restSimulator } from './rest';
import { soapSimulator } from './soap/soap.simulator';
import { xmlSimulator } from './xml/xml.simulator';
import { materialStoreSimulator, type MaterialStoreSimulator } from './materials';

export { DEFAULT_FAULTS, faultsSchema, SimError, type SimLookup, type Faults, type FaultsPatch, type OutcomeMix, type SimRequest, type SimResult, type SystemStats } from './core';

/** The protocol simulators mounted by startSimulators: one per protocol at most. */
const PROTOCOLS: ProtocolSimulator[] = [restSimulator, soapSimulator, xmlSimulator];

export interface SimOptions {
  configDir: string;
  /** 9100 by default: the port the shipped system files point at (OW_SIM_PORT in sim/main.ts and the demo). 0 picks a free one. */
  port?: number;
  host?: string;
  /** For `${NAME}` references in the config (auth secrets); process.env by default. */
  env?: Record<string, string | undefined>;
  /**
   * The gateway's base URL (e.g. http://127.0.0.1:8080): where push systems send their results.
   * Without it nothing is pushed (results are still decided, and polls answered) until
   * `setGatewayUrl` is called.
   */
  gatewayUrl?: string;
  /** Knobs every system starts with, e.g. `{decisionDelayMs: 2000}`; validated like a PUT. */
  defaults?: FaultsPatch;
  /** Where the simulators report results they could not build or push; console.warn by default. */
  log?: (line: string) => void;
  /** The protocol simulators to mount instead of the built-in registry (tests). */
  protocols?: ProtocolSimulator[];
}

export interface Simulators {
  url: string;
  port: number;
  stats(): Record<string, SystemStats>;
  /** Changes a system's knobs (any protocol); throws a plain Error naming what is wrong. */
  setFaults(systemId: string, faults: FaultsPatch): void;
  /** A system's knobs. */
  faults(systemId: string): Faults;
  /** The latest requests a system received (at most 1000), oldest first. */
  requests(systemId: string): SimRequest[];
  /** The cases a system accepted (the latest 10000), oldest first, with what it decided. */
  results(systemId: string): SimResult[];
  /** The shared-data look-ups a system was asked: how many in all, and the latest 1000 bodies. */
  lookups(systemId: string): { count: number; latest: SimLookup[] };
  /** Where results are pushed from now on; undefined stops pushing. */
  setGatewayUrl(url: string | undefined): void;
  /** The material store at /sim/materials/ (its files, knobs and fetch counts). */
  materials: MaterialStoreSimulator;
  close(): Promise<void>;
}

function sendError(res: Response, error: SimError): void {
  res.status(error.status).json({ error: { code: error.code, message: error.message, details: error.details } });
}

/** Turns a SimError into the plain Error callers in code get, with the words the HTTP route answers. */
function plain<T>(run: () => T): T {
  try {
    return run();
  } catch (e) {
    if (e instanceof SimError) {
      const details = e.details.map((d) => `${d.path} ${d.message}`).join('; ');
      throw new Error(details ? `${e.message}: ${details}` : e.message, { cause: e });
    }
    throw e;
  }
}

export async function startSimulators(opts: SimOptions): Promise<Simulators> {
  const config = loadConfig(opts.configDir, opts.env ?? process.env);
  const protocols = new Map<string, ProtocolSimulator>();
  for (const p of opts.protocols ?? PROTOCOLS) {
    if (protocols.has(p.protocol)) throw new Error(`two simulators for protocol ${p.protocol}`);
    protocols.set(p.protocol, p);
  }
  const core = plain(() => new SimCore(config, protocols, { gatewayUrl: opts.gatewayUrl, defaults: opts.defaults, log: opts.log }));

  const app = express();
  app.disable('x-powered-by');
  const rawBody = express.raw({ type: () => true, limit: '1mb' });
  const known = (systemId: string): string => {
    if (!core.system(systemId)) throw new SimError(404, 'unknown_system', `no simulated system ${systemId}`);
    return systemId;
  };

  app.get('/sim/_stats', (_req, res) => {
    res.json(core.stats());
  });

  app.get('/sim/_control/:systemId', (req, res) => {
    res.json({ systemId: known(req.params.systemId), faults: core.faults(req.params.systemId) });
  });

  app.put('/sim/_control/:systemId', rawBody, (req, res) => {
    const systemId = known(req.params.systemId);
    let input: unknown;
    try {
      input = JSON.parse((Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0)).toString('utf8'));
    } catch {
      throw new SimError(400, 'invalid_json', 'the body must be JSON, e.g. {"failureRate": 0.5}');
    }
    res.json({ systemId, faults: core.setFaults(systemId, input) });
  });

  app.get('/sim/_results/:systemId', (req, res) => {
    res.json(core.results(known(req.params.systemId)));
  });

  const materials = materialStoreSimulator();
  app.use('/sim/materials/', (req, res) => {
    let path: string;
    try {
      path = decodeURIComponent(req.path.replace(/^\/+/, ''));
    } catch {
      throw new SimError(400, 'bad_request', 'a malformed percent-encoding in the path');
    }
    materials.handle(req, res, path);
  });

  const server = http.createServer(app);
  for (const p of protocols.values()) await p.mount(app, server, core.context(p.protocol));

  app.use((req, res) => {
    // A path of a configured system that no mounted simulator answered: say why.
    const systemId = /^\/sim\/([^/_][^/]*)\//.exec(req.path)?.[1];
    const system = systemId === undefined ? undefined : core.system(systemId);
    if (systemId !== undefined && !system) return sendError(res, new SimError(404, 'unknown_system', `no simulated system ${systemId}`));
    if (system && !protocols.has(system.protocol)) {
      return sendError(res, new SimError(404, 'not_simulated', `system ${system.id} speaks ${system.protocol}, which no simulator serves yet`));
    }
    sendError(res, new SimError(404, 'not_found', `no route ${req.method} ${req.path}`));
  });

  // Express needs all four parameters to see an error handler.
  app.use((err: unknown, _req: Request, res: Response, _next: NextFunction) => {
    if (err instanceof SimError) return sendError(res, err);
    const status = typeof err === 'object' && err !== null && 'status' in err && typeof err.status === 'number' ? err.status : 500;
    sendError(res, new SimError(status, status === 413 ? 'too_large' : status < 500 ? 'bad_request' : 'internal', err instanceof Error ? err.message : String(err)));
  });

  const host = opts.host ?? '127.0.0.1';
  let port: number;
  try {
    port = await listen(server, opts.port ?? 9100, host, { port: 'OW_SIM_PORT' });
  } catch (err) {
    core.close();
    throw err;
  }
  const reachable = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host;
  const url = `http://${reachable.includes(':') ? `[${reachable}]` : reachable}:${port}`;

  return {
    url,
    port,
    stats: () => core.stats(),
    setFaults: (systemId, faults) => {
      plain(() => core.setFaults(systemId, faults));
    },
    faults: (systemId) => plain(() => core.faults(systemId)),
    requests: (systemId) => plain(() => core.requests(systemId)),
    results: (systemId) => plain(() => core.results(systemId)),
    lookups: (systemId) => plain(() => core.lookups(systemId)),
    setGatewayUrl: (gatewayUrl) => core.setGatewayUrl(gatewayUrl),
    materials,
    close: () =>
      new Promise<void>((resolve, reject) => {
        core.close();
        server.close((err) => (err ? reject(err) : resolve()));
        // Keep-alive connections (fetch pools them) would otherwise hold close() open.
        server.closeAllConnections();
      }),
  };
}
