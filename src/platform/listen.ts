/**
 * Listening on a port, with the failure an operator can act on: which port, which address, which
 * variable to set. A failed listen rejects; it never waits for a 'listening' that will not come.
 */
import type { Server } from 'node:net';
import type { AddressInfo } from 'node:net';

export class ListenError extends Error {
  constructor(
    message: string,
    readonly code: string | undefined,
  ) {
    super(message);
    this.name = 'ListenError';
  }
}

/** `variables` name the settings that choose the port and the address, e.g. `{port: 'PORT', host: 'HOST'}`. */
export async function listen(server: Server, port: number, host: string, variables: { port: string; host?: string }): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    const failed = (err: NodeJS.ErrnoException) => reject(new ListenError(describe(err, port, host, variables), err.code));
    server.once('error', failed);
    server.listen(port, host, () => {
      server.off('error', failed);
      resolve();
    });
  });
  return (server.address() as AddressInfo).port;
}

function describe(err: NodeJS.ErrnoException, port: number, host: string, variables: { port: string; host?: string }): string {
  const setHost = variables.host ? `; set ${variables.host}` : '';
  switch (err.code) {
    case 'EADDRINUSE':
      return `port ${port} on ${host} is in use; set ${variables.port}`;
    case 'EACCES':
      return `port ${port} on ${host} needs privileges this process does not have; set ${variables.port} to 1024 or above`;
    case 'EADDRNOTAVAIL':
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return `${host} is not an address of this machine${setHost}`;
    default:
      return `cannot listen on port ${port} of ${host} (${err.code ?? err.message})${setHost}`;
  }
}
