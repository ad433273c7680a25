/**
 * The one HTTP client the adapters send through, against real local HTTP peers: what it sends, what
 * it hands back, and how an exchange that got no whole answer is worded.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import { httpClient, type HttpClient } from './http';
import { RetryableError } from '../src/platform/failure';

interface Seen {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

/** A peer that records each request and answers as `answer` says. */
async function peer(answer: (seen: Seen, res: http.ServerResponse) => void): Promise<{ url: string; seen: Seen[]; close(): Promise<void> }> {
  const seen: Seen[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const request = { method: req.method!, url: req.url!, headers: req.headers, body: Buffer.concat(chunks) };
      seen.push(request);
      answer(request, res);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    seen,
    close: async () => {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

/** The RetryableError's message a request ends in; fails the test when it resolves. */
async function failure(promise: Promise<unknown>): Promise<string> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(RetryableError);
  return (err as Error).message;
}

describe('when an adapter sends through its system’s HTTP client', () => {
  let legacy: Awaited<ReturnType<typeof peer>>;
  let client: HttpClient;

  beforeAll(async () => {
    legacy = await peer((seen, res) => {
      if (seen.url === '/moved') {
        res.writeHead(302, { Location: '/elsewhere' }).end('moved');
      } else if (seen.url === '/silent') {
        // never answers
      } else if (seen.url === '/trickle') {
        res.writeHead(200).write('a first part, then nothing');
      } else if (seen.url === '/long') {
        res.writeHead(200);
        res.write(Buffer.alloc(600, 'x'));
        setTimeout(() => res.end(Buffer.alloc(600, 'y')), 20);
      } else if (seen.url === '/announced-long') {
        res.writeHead(200, { 'Content-Length': '5000' }).write('x');
      } else if (seen.url === '/hang-up') {
        res.socket?.destroy();
      } else {
        res.writeHead(seen.url.startsWith('/refused') ? 422 : 200, { 'Content-Type': 'text/plain', 'Retry-After': '7' }).end(`got ${seen.body.length} bytes`);
      }
    });
    client = httpClient({ id: 'city-a', timeoutMs: 500, concurrency: 2 }, 1000);
  });

  afterAll(async () => {
    await client.close();
    await legacy.close();
  });

  it('then the bytes, the headers and the query arrive as given, and any status comes back with its body and headers', async () => {
    const reply = await client.request({ method: 'POST', url: `${legacy.url}/refused?q=1`, headers: { 'Content-Type': 'application/json', 'X-OW-Seal': 'seal' }, body: Buffer.from('{"a":1}') });
    expect(reply).toMatchObject({ status: 422, body: Buffer.from('got 7 bytes') });
    expect(reply.headers['retry-after']).toBe('7');
    const seen = legacy.seen.at(-1)!;
    expect(seen).toMatchObject({ method: 'POST', url: '/refused?q=1', body: Buffer.from('{"a":1}') });
    expect(seen.headers).toMatchObject({ 'content-type': 'application/json', 'x-ow-seal': 'seal' });
  });

  it('then a stream is sent with the Content-Length it was given', async () => {
    const reply = await client.request({ method: 'POST', url: `${legacy.url}/parts`, headers: { 'Content-Length': '6' }, body: Readable.from([Buffer.from('abc'), Buffer.from('def')]) });
    expect(reply.body.toString()).toBe('got 6 bytes');
    expect(legacy.seen.at(-1)!.headers['content-length']).toBe('6');
  });

  it('then credentials in the URL go as basic authentication, in place of the configured Authorization', async () => {
    const url = legacy.url.replace('http://', 'http://qz:p%40ss@');
    await client.request({ method: 'GET', url: `${url}/cases`, headers: { authorization: 'Bearer configured' } });
    expect(legacy.seen.at(-1)!.headers.authorization).toBe(`Basic ${Buffer.from('qz:p@ss').toString('base64')}`);
  });

  it('then a redirect is handed back, not followed', async () => {
    const before = legacy.seen.length;
    const reply = await client.request({ method: 'GET', url: `${legacy.url}/moved`, headers: {} });
    expect(reply.status).toBe(302);
    expect(legacy.seen.length).toBe(before + 1);
  });

  it('then a system that does not answer, or stops halfway, did not answer within timeoutMs', async () => {
    expect(await failure(client.request({ method: 'GET', url: `${legacy.url}/silent`, headers: {} }))).toBe('city-a did not answer within 500 ms');
    expect(await failure(client.request({ method: 'GET', url: `${legacy.url}/trickle`, headers: {} }))).toBe('city-a did not answer within 500 ms');
  });

  it('then a reply longer than maxReplyBytes is cut off, announced or not', async () => {
    const tooLong = 'city-a answered with more than 1000 bytes (limits.maxReplyBytes); the reply was not read';
    expect(await failure(client.request({ method: 'GET', url: `${legacy.url}/long`, headers: {} }))).toBe(tooLong);
    expect(await failure(client.request({ method: 'GET', url: `${legacy.url}/announced-long`, headers: {} }))).toBe(tooLong);
  });

  it('then a connection closed unanswered or refused could not be reached, and the pool still serves', async () => {
    expect(await failure(client.request({ method: 'GET', url: `${legacy.url}/hang-up`, headers: {} }))).toBe('city-a could not be reached (ECONNRESET)');
    const closed = await peer(() => undefined);
    const nobody = closed.url;
    await closed.close();
    expect(await failure(client.request({ method: 'GET', url: `${nobody}/cases`, headers: {} }))).toBe('city-a could not be reached (ECONNREFUSED)');
    expect((await client.request({ method: 'GET', url: `${legacy.url}/after`, headers: {} })).status).toBe(200);
  });
});

describe('when HTTP_PROXY and NO_PROXY are set', () => {
  const saved = { HTTP_PROXY: process.env.HTTP_PROXY, NO_PROXY: process.env.NO_PROXY, http_proxy: process.env.http_proxy, no_proxy: process.env.no_proxy };

  afterAll(() => {
    for (const [name, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  });

  it('then a plain-HTTP system is asked for through the proxy by its full URL, and a NO_PROXY host directly', async () => {
    const proxy = await peer((seen, res) => res.end(`proxied ${seen.url}`));
    const direct = await peer((_seen, res) => res.end('direct'));
    delete process.env.http_proxy;
    delete process.env.no_proxy;
    process.env.HTTP_PROXY = proxy.url;
    process.env.NO_PROXY = '127.0.0.1';
    const client = httpClient({ id: 'city-a', timeoutMs: 2000, concurrency: 1 }, 1000);
    try {
      const viaProxy = await client.request({ method: 'GET', url: 'http://legacy.example:8080/cases?id=1', headers: {} });
      expect(viaProxy.body.toString()).toBe('proxied http://legacy.example:8080/cases?id=1');
      expect(proxy.seen).toEqual([expect.objectContaining({ method: 'GET', url: 'http://legacy.example:8080/cases?id=1' })]);
      expect((await client.request({ method: 'GET', url: `${direct.url}/cases`, headers: {} })).body.toString()).toBe('direct');
      expect(proxy.seen).toHaveLength(1);
    } finally {
      await client.close();
      await proxy.close();
      await direct.close();
    }
  });
});
