/**
 * A small world for shared-data look-ups (tests and `npm run bench:lookup`): a copy of the shipped
 * look-up sources (their system files, WSDLs and config/shared-data.yaml) pointed at simulators on
 * a free port, and a gateway on port 0 in front of them. Real HTTP, SOAP and XML all the way.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import YAML from 'yaml';
import { loadConfig } from '../src/config/loader';
import { startGateway, type RunningGateway } from '../src/gateway';
import type { Logger } from '../src/platform/logger';
import { demoEnv, samplePersonCase } from './samples';
import type { FaultsPatch } from './core';
import { startSimulators, type Simulators } from './server';

/** The shipped systems that answer look-ups (config/shared-data.yaml's sources). */
export const LOOKUP_SYSTEMS = ['nat-population', 'prov-public-security', 'city-civil-affairs', 'city-real-estate-registration', 'city-human-resources'] as const;

export interface WorldOptions {
  redisUrl: string;
  keyPrefix: string;
  intakeToken: string;
  opsToken: string;
  /** A read-only ops token too (in-process gateway only). */
  viewerToken?: string;
  /** The shipped config folder (default ./config). */
  shippedDir?: string;
  /** Replaces config/shared-data.yaml (as an object). */
  sharedData?: unknown;
  /** Changes a system file (parsed) before it is written; e.g. a generous lookup.rateLimit. */
  patchSystem?: (system: Record<string, unknown>) => void;
  /** Extra system files (e.g. a look-up-only system). */
  extraSystems?: Array<Record<string, unknown> & { id: string }>;
  /** Replaces routes.yaml (as an object); by default 330800-FG-* goes to city-civil-affairs. */
  routes?: unknown;
  /**
   * The in-process gateway delivers too (role `all`), so that a case can go to its systems, be
   * asked for more and be resubmitted with what a look-up found; by default it only takes cases
   * and look-ups (role `api`).
   */
  deliver?: boolean;
  log?: Logger;
  /**
   * Runs the simulators and the gateway each in a process of its own (dist/sim/main.js and
   * dist/src/main.js, so `npm run build` first), as in production: under load neither takes CPU
   * from the other's event loop (nor from a test runner's).
   */
  separateProcess?: boolean;
}

export interface World {
  /** The gateway's base URL. */
  url: string;
  /** The gateway, when it runs in this process. */
  gateway?: RunningGateway;
  /** The simulators, when they run in this process. */
  sims?: Simulators;
  simUrl: string;
  /** Changes a simulated system's knobs (in either process). */
  setFaults(systemId: string, faults: FaultsPatch): Promise<void>;
  /**
   * Submits a case of this item (to city-civil-affairs, which the world's gateway only queues) and
   * answers its caseId: a look-up is made for a case the gateway holds, its item the purpose.
   */
  submitCase(itemCode: string, caseId?: string): Promise<string>;
  configDir: string;
  stop(): Promise<void>;
}

/** A compiled entry point: beside this file when it runs compiled (the benchmark), else in dist/ (jest). */
function compiled(relative: string): string {
  const here = path.resolve(__dirname, '..', relative);
  const script = fs.existsSync(here) ? here : path.resolve(__dirname, '../dist', relative);
  if (!fs.existsSync(script)) throw new Error(`dist/${relative} is missing: run npm run build first`);
  return script;
}

/** Starts a compiled entry point and waits for the line that says where it listens. */
async function listeningProcess(script: string, env: Record<string, string | undefined>, listening: RegExp): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(process.execPath, [script], { env: { ...process.env, ...env, PORT: '0' }, stdio: ['ignore', 'pipe', 'pipe'] });
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`${script} did not start: ${out}`)), 20_000);
    child.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString('utf8');
      const found = listening.exec(out);
      if (found) {
        clearTimeout(timer);
        resolve(found[1]!.startsWith('http') ? found[1]! : `http://127.0.0.1:${found[1]}`);
      }
    });
    child.stderr!.on('data', (chunk: Buffer) => (out += chunk.toString('utf8')));
    child.once('exit', (code) => reject(new Error(`simulators exited with ${code}: ${out}`)));
  });
  return { child, url };
}

async function submitCaseTo(url: string, intakeToken: string, itemCode: string, caseId = `QZ-SD-${crypto.randomBytes(6).toString('hex')}`): Promise<string> {
  const kase = samplePersonCase({ caseId, itemCode, submittedAt: new Date().toISOString(), targets: ['city-civil-affairs'] });
  const res = await fetch(`${url}/api/v1/cases`, { method: 'POST', headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${intakeToken}` }, body: JSON.stringify(kase) });
  if (res.status !== 202 && res.status !== 200) throw new Error(`case ${caseId} not accepted: HTTP ${res.status} ${await res.text()}`);
  return caseId;
}

async function setFaultsOver(simUrl: string, systemId: string, faults: FaultsPatch): Promise<void> {
  const res = await fetch(`${simUrl}/sim/_control/${systemId}`, { method: 'PUT', body: JSON.stringify(faults) });
  if (!res.ok) throw new Error(`simulator knobs of ${systemId}: HTTP ${res.status} ${await res.text()}`);
}

export async function startLookupWorld(options: WorldOptions): Promise<World> {
  const shipped = options.shippedDir ?? path.resolve('config');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ow-shared-'));
  fs.mkdirSync(path.join(dir, 'systems'));
  fs.cpSync(path.join(shipped, 'wsdl'), path.join(dir, 'wsdl'), { recursive: true });
  const sealGateway = YAML.parse(fs.readFileSync(path.join(shipped, 'gateway.yaml'), 'utf8')) as Record<string, unknown>;
  // Egress is left open: the simulators listen on whatever port was free.
  fs.writeFileSync(path.join(dir, 'gateway.yaml'), YAML.stringify({ seal: sealGateway.seal, limits: sealGateway.limits }));
  const systems: Array<Record<string, unknown> & { id: string }> = [];
  for (const id of LOOKUP_SYSTEMS) {
    const system = YAML.parse(fs.readFileSync(path.join(shipped, 'systems', `${id}.yaml`), 'utf8')) as Record<string, unknown> & { id: string };
    options.patchSystem?.(system);
    systems.push(system);
  }
  systems.push(...(options.extraSystems ?? []));
  const write = (url?: string) => {
    // The shipped material store too (the sample cases name its files), at the simulators' address.
    const materials = url && sealGateway.materials ? JSON.parse(JSON.stringify(sealGateway.materials).replaceAll('http://127.0.0.1:9100', url)) : undefined;
    fs.writeFileSync(path.join(dir, 'gateway.yaml'), YAML.stringify({ seal: sealGateway.seal, limits: sealGateway.limits, ...(materials ? { materials } : {}) }));
    for (const system of systems) {
      const text = YAML.stringify(system);
      fs.writeFileSync(path.join(dir, 'systems', `${system.id}.yaml`), url ? text.replaceAll('http://127.0.0.1:9100', url) : text);
    }
  };
  write();
  fs.writeFileSync(path.join(dir, 'routes.yaml'), YAML.stringify(options.routes ?? { routes: [{ itemCode: '330800-FG-*', targets: ['city-civil-affairs'] }], unrouted: 'reject' }));
  const sharedData = options.sharedData ?? YAML.parse(fs.readFileSync(path.join(shipped, 'shared-data.yaml'), 'utf8'));
  fs.writeFileSync(path.join(dir, 'shared-data.yaml'), YAML.stringify(sharedData));

  const env = demoEnv();
  // The simulators read paths, not hosts, from the files; the gateway then gets their real address.
  const sims = options.separateProcess ? undefined : await startSimulators({ configDir: dir, port: 0, env, log: () => undefined });
  const children: ChildProcess[] = [];
  const simChild = options.separateProcess ? await listeningProcess(compiled('sim/main.js'), { ...env, OW_CONFIG_DIR: dir, OW_SIM_PORT: '0' }, /listening on (http:\/\/[^/\s]+)/) : undefined;
  if (simChild) children.push(simChild.child);
  const simUrl = sims?.url ?? simChild!.url;
  write(simUrl);
  const stopChildren = async () => {
    for (const child of children.reverse()) {
      if (child.exitCode !== null) continue;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    }
  };
  if (options.separateProcess) {
    const gatewayChild = await listeningProcess(
      compiled('sim/world-gateway.js'),
      { ...env, OW_CONFIG_DIR: dir, OW_DATA_DIR: path.join(dir, 'data'), REDIS_URL: options.redisUrl, OW_INTAKE_TOKEN: options.intakeToken, OW_OPS_TOKEN: options.opsToken, OW_KEY_PREFIX: options.keyPrefix },
      /gateway listening on (http:\/\/[^/\s]+)/,
    ).catch(async (err: unknown) => {
      await stopChildren();
      throw err;
    });
    children.push(gatewayChild.child);
    return {
      url: gatewayChild.url,
      simUrl,
      configDir: dir,
      setFaults: (systemId, faults) => setFaultsOver(simUrl, systemId, faults),
      submitCase: (itemCode, caseId) => submitCaseTo(gatewayChild.url, options.intakeToken, itemCode, caseId),
      async stop() {
        await stopChildren();
        fs.rmSync(dir, { recursive: true, force: true });
      },
    };
  }
  const gateway = await startGateway({
    config: loadConfig(dir, env),
    redisUrl: options.redisUrl,
    tokens: { intake: [options.intakeToken], ops: [options.opsToken], ...(options.viewerToken ? { viewer: [options.viewerToken] } : {}) },
    log: options.log ?? pino({ level: 'silent' }),
    port: 0,
    host: '127.0.0.1',
    keyPrefix: options.keyPrefix,
    role: options.deliver ? 'all' : 'api',
    dataDir: path.join(dir, 'data'),
  });
  return {
    url: gateway.url,
    gateway,
    sims,
    simUrl,
    configDir: dir,
    async setFaults(systemId, faults) {
      if (sims) sims.setFaults(systemId, faults);
      else await setFaultsOver(simUrl, systemId, faults);
    },
    submitCase: (itemCode, caseId) => submitCaseTo(gateway.url, options.intakeToken, itemCode, caseId),
    async stop() {
      await gateway.stop();
      await sims?.close();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
