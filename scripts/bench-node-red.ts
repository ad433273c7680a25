/**
 * The peer the gateway is measured against: Node-RED 4 doing the same job as a flow, the way a team
 * would build it instead. POST /api/v1/cases (http in) → a change node applying the bench systems'
 * JSONata mapping to the case → an http request to the same stand-in per target → http response with
 * the stand-in's reply. Synchronous and in memory: no queue, no retry, no validation, no seal, no
 * ledger. With fan-out N it is one flow with N requests in a row (the mapped body kept on the
 * message, each request with its own Idempotency-Key `caseId:systemId`, as the gateway sends).
 *
 * Node-RED runs as its own process (`node node-red/red.js`, as it ships), editor and admin API off,
 * credentials unencrypted (there are none), on loopback, from a settings file and flow file written
 * here into a fresh user directory.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { BENCH_MAPPING, children } from './bench-support';

type FlowNode = Record<string, unknown> & { id: string; type: string };

/** The flow file's nodes: intake, mapping, one request per system, the reply; and a /healthz for readiness. */
export function nodeRedFlow(standInUrl: string, systems: string[], mapping = BENCH_MAPPING): FlowNode[] {
  if (systems.length === 0) throw new Error('the Node-RED flow needs at least one target system');
  const z = 'bench';
  const nodes: FlowNode[] = [{ id: z, type: 'tab', label: 'OneWindow bench peer', disabled: false, info: '' }];
  const idempotency = (system: string) => ({ t: 'set', p: 'idem', pt: 'msg', to: `caseId & ":${system}"`, tot: 'jsonata' });
  nodes.push({ id: 'intake', type: 'http in', z, name: 'case', url: '/api/v1/cases', method: 'post', upload: false, swaggerDoc: '', wires: [['map']] });
  nodes.push({
    id: 'map',
    type: 'change',
    z,
    name: 'map',
    // The mapped body is kept in msg.body: each http request replaces msg.payload with its reply.
    rules: [
      { t: 'set', p: 'caseId', pt: 'msg', to: 'payload.caseId', tot: 'msg' },
      { t: 'set', p: 'body', pt: 'msg', to: `payload.(${mapping})`, tot: 'jsonata' },
      { t: 'set', p: 'payload', pt: 'msg', to: 'body', tot: 'msg' },
      idempotency(systems[0]!),
    ],
    wires: [['deliver-0']],
  });
  systems.forEach((system, i) => {
    const next = i + 1 < systems.length ? `next-${i + 1}` : 'reply';
    nodes.push({
      id: `deliver-${i}`,
      type: 'http request',
      z,
      name: system,
      method: 'POST',
      ret: 'obj',
      paytoqs: 'ignore',
      url: `${standInUrl}/node-red/${system}/cases`,
      tls: '',
      persist: true,
      proxy: '',
      insecureHTTPParser: false,
      authType: '',
      senderr: false,
      headers: [{ keyType: 'other', keyValue: 'Idempotency-Key', valueType: 'msg', valueValue: 'idem' }],
      wires: [[next]],
    });
    if (i + 1 < systems.length) {
      nodes.push({
        id: next,
        type: 'change',
        z,
        name: `to ${systems[i + 1]}`,
        rules: [{ t: 'set', p: 'payload', pt: 'msg', to: 'body', tot: 'msg' }, idempotency(systems[i + 1]!)],
        wires: [[`deliver-${i + 1}`]],
      });
    }
  });
  // The last stand-in's reply and status go back to the caller (a failed delivery is not a 2xx).
  nodes.push({ id: 'reply', type: 'http response', z, name: 'reply', statusCode: '', headers: {}, wires: [] });
  nodes.push({ id: 'health', type: 'http in', z, name: 'healthz', url: '/healthz', method: 'get', upload: false, swaggerDoc: '', wires: [['health-ok']] });
  nodes.push({ id: 'health-ok', type: 'change', z, name: 'ok', rules: [{ t: 'set', p: 'payload', pt: 'msg', to: '{"ok":true}', tot: 'json' }], wires: [['health-reply']] });
  nodes.push({ id: 'health-reply', type: 'http response', z, name: '', statusCode: '', headers: {}, wires: [] });
  // Every flow node has a place on the editor's canvas: Node-RED takes a node without x and y for a config node.
  return nodes.map((node, i) => (node.type === 'tab' ? node : { ...node, x: 120 + 180 * i, y: node.id.startsWith('health') ? 160 : 80 }));
}

/**
 * Node-RED in a process of its own, serving `flow` on 127.0.0.1:`port`; its user directory (settings,
 * flow file, the runtime's own files) is `dir`. The process is listed in `children` (killed on the way out).
 */
export function startNodeRed(dir: string, port: number, flow: FlowNode[], log: number | 'ignore' = 'ignore'): ChildProcess {
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'flows.json'), JSON.stringify(flow, null, 1));
  const settings = {
    uiHost: '127.0.0.1',
    uiPort: port,
    httpAdminRoot: false, // no editor, no admin API
    httpNodeRoot: '/',
    disableEditor: true,
    credentialSecret: false,
    flowFile: 'flows.json',
    userDir: dir,
    logging: { console: { level: 'warn', metrics: false, audit: false } },
    diagnostics: { enabled: false, ui: false },
    runtimeState: { enabled: false, ui: false },
    telemetry: { enabled: false, updateNotification: false },
    externalModules: { autoInstall: false, palette: { allowInstall: false }, modules: { allowInstall: false } },
    functionExternalModules: false,
  };
  fs.writeFileSync(path.join(dir, 'settings.js'), `module.exports = ${JSON.stringify(settings, null, 2)};\n`);
  const red = require.resolve('node-red/red.js');
  const child = spawn(process.execPath, [red, '--settings', path.join(dir, 'settings.js'), '--userDir', dir], {
    cwd: dir,
    env: { PATH: process.env.PATH, HOME: dir },
    stdio: ['ignore', log, log],
  });
  children.push(child);
  return child;
}
