/**
 * Runs the legacy-system simulators on their own:
 *   OW_SIM_PORT (default 9100, where the shipped system files point: another port needs a config
 *   whose endpoints point there) and OW_CONFIG_DIR (default ./config);
 *   SIM_GATEWAY_URL (e.g. http://127.0.0.1:8080): where push systems send their decided results
 *   (unset: nothing is pushed; polled systems answer either way).
 * The config's `${NAME}` references must be set, as for the gateway, since the simulators check
 * the same credentials the gateway sends and push with the same inbound tokens.
 */
import { ConfigError } from '../src/config/loader';
import { startSimulators, type Simulators } from './server';

async function main(): Promise<void> {
  const port = Number(process.env.OW_SIM_PORT || 9100);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    console.error(`simulators: OW_SIM_PORT must be a port number, not "${process.env.OW_SIM_PORT}"`);
    process.exit(1);
  }
  const configDir = process.env.OW_CONFIG_DIR ?? './config';

  let sims: Simulators;
  try {
    sims = await startSimulators({ configDir, port, gatewayUrl: process.env.SIM_GATEWAY_URL || undefined });
  } catch (e) {
    // A bad config or a busy port is an operator's problem to fix: say what, not where in the code.
    console.error(e instanceof ConfigError ? `simulators: ${e.message}` : `simulators: ${(e as Error).message}`);
    process.exit(1);
  }

  console.log(`simulators of ${Object.keys(sims.stats()).length} systems listening on ${sims.url}/sim/<systemId>/cases`);
  console.log(`  knobs: PUT ${sims.url}/sim/_control/<systemId> {"failureRate":0.2,"rejectRate":0,"latencyMs":0,"down":false,"decisionDelayMs":500,"outcomeMix":{"rejected":0.1,"need_more":0.1}}`);
  console.log(`  counters: GET ${sims.url}/sim/_stats   decisions: GET ${sims.url}/sim/_results/<systemId>`);
  console.log(process.env.SIM_GATEWAY_URL ? `  results pushed to ${process.env.SIM_GATEWAY_URL}` : '  results not pushed (set SIM_GATEWAY_URL to push them)');

  const stop = (): void => {
    sims.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

void main();
