/**
 * Redis MONITOR over a plain socket: every command the server runs, as its arguments. ioredis's own
 * monitor() mistakes a command line that arrives in the same read as MONITOR's "+OK" for a reply
 * ("Command queue state error"), which a busy shared test Redis makes likely.
 */
import { once } from 'node:events';
import net from 'node:net';

export async function monitorRedis(url: string, onCommand: (args: string[]) => void): Promise<{ stop(): void }> {
  const { hostname, port } = new URL(url);
  const socket = net.connect(Number(port || 6379), hostname);
  await once(socket, 'connect');
  socket.setEncoding('utf8');
  let buffered = '';
  let monitoring!: () => void;
  const started = new Promise<void>((resolve) => (monitoring = resolve));
  socket.on('data', (chunk: string) => {
    buffered += chunk;
    for (let end = buffered.indexOf('\r\n'); end >= 0; end = buffered.indexOf('\r\n')) {
      const line = buffered.slice(0, end);
      buffered = buffered.slice(end + 2);
      if (line === '+OK') monitoring();
      // +<time> [<db> <client>] "cmd" "arg" …
      const at = line.indexOf('] ');
      if (line.startsWith('+') && at > 0) onCommand([...line.slice(at + 2).matchAll(/"((?:[^"\\]|\\.)*)"/g)].map((m) => m[1]!));
    }
  });
  socket.on('error', () => undefined); // the test ends it; nothing to report
  socket.write('MONITOR\r\n');
  await started;
  return { stop: () => socket.destroy() };
}
