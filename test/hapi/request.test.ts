/**
 * hapi request → the core's request (src/hapi/request.ts), on a real hapi server over real sockets: whether the
 * parsed body carries `access_token` (bodyCarriesToken), a GET body read as Express and Koa read it (readGetBody),
 * what the core is handed (incomingRequest: the target as sent, before any `setUrl`), and the Host check left to the
 * core (deferHostCheck).
 */
import Hapi, { type Request } from '@hapi/hapi';
import { request as httpRequest } from 'node:http';
import { connect } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { bodyCarriesToken, deferHostCheck, incomingRequest, readGetBody } from '../../src/hapi/request.js';

let server: Hapi.Server | undefined;
afterEach(async () => {
  await server?.stop();
  server = undefined;
});

async function start(setup: (s: Hapi.Server) => void): Promise<number> {
  server = Hapi.server({ port: 0, host: '127.0.0.1' });
  setup(server);
  await server.start();
  return server.info.port as number;
}
/** A real HTTP request (a GET may carry a body here, unlike fetch). */
function send(port: number, method: string, path: string, headers: Record<string, string | number> = {}, body?: string | string[]): Promise<{ status: number; body: unknown }> {
  return new Promise((resolve, reject) => {
    // Node sends a GET's body only with a length or chunked framing declared.
    const framed = typeof body === 'string' && headers['transfer-encoding'] === undefined ? { 'content-length': Buffer.byteLength(body), ...headers } : headers;
    const req = httpRequest({ host: '127.0.0.1', port, method, path, headers: framed }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      res.on('end', () => resolve({ status: res.statusCode!, body: text === '' ? undefined : (JSON.parse(text) as unknown) }));
    });
    req.on('error', reject);
    for (const chunk of typeof body === 'string' ? [body] : (body ?? [])) req.write(chunk);
    req.end();
  });
}
/** Raw bytes (a Host no HTTP client would send), answered with its status line and body. */
function raw(port: number, data: string): Promise<{ statusLine: string; body: string }> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    let answer = '';
    socket.setEncoding('latin1');
    socket.on('data', (chunk: string) => {
      answer += chunk;
      const end = answer.indexOf('\r\n\r\n');
      const length = /content-length: (\d+)/i.exec(answer);
      if (end >= 0 && length && answer.length >= end + 4 + Number(length[1])) socket.end();
    });
    socket.on('close', () => resolve({ statusLine: answer.split('\r\n')[0]!, body: answer.slice(answer.indexOf('\r\n\r\n') + 4) }));
    socket.on('error', reject);
    socket.write(data);
  });
}

describe('bodyCarriesToken', () => {
  it('true when the parsed body has access_token in any spelling a parser produces, false otherwise', async () => {
    const port = await start((s) => s.route({ method: 'POST', path: '/p', handler: (request: Request) => ({ carries: bodyCarriesToken(request) }) }));
    const json = (body: unknown) => send(port, 'POST', '/p', { 'content-type': 'application/json' }, JSON.stringify(body));
    const form = (body: string) => send(port, 'POST', '/p', { 'content-type': 'application/x-www-form-urlencoded' }, body);
    expect((await json({ access_token: 't' })).body).toEqual({ carries: true });
    expect((await json({ 'access_token[]': 't' })).body).toEqual({ carries: true });
    expect((await json({ 'access_token.x': 't' })).body).toEqual({ carries: true });
    expect((await form('a=1&access_token=t')).body).toEqual({ carries: true });
    expect((await form('access_token[x]=t')).body).toEqual({ carries: true });
    expect((await json({ access_tokens: 't', token: 't' })).body).toEqual({ carries: false });
    expect((await json([{ access_token: 't' }])).body).toEqual({ carries: false }); // an array is not a parameter list
    expect((await send(port, 'POST', '/p', { 'content-type': 'text/plain' }, 'access_token=t')).body).toEqual({ carries: false });
    expect((await send(port, 'POST', '/p')).body).toEqual({ carries: false });
  });
});

describe('readGetBody', () => {
  const LIMIT = 64;
  const getRoute = (s: Hapi.Server) =>
    s.route({
      method: 'GET',
      path: '/g',
      handler: async (request: Request) => {
        await readGetBody(request, LIMIT);
        return { payload: request.payload ?? null, carries: bodyCarriesToken(request) };
      },
    });

  it('a JSON or form body on a GET is read and parsed (so a token there is seen)', async () => {
    const port = await start(getRoute);
    expect((await send(port, 'GET', '/g', { 'content-type': 'application/json' }, '{"access_token":"t"}')).body).toEqual({ payload: { access_token: 't' }, carries: true });
    expect((await send(port, 'GET', '/g', { 'content-type': 'application/merge-patch+json; charset=utf-8' }, '{"a":1}')).body).toEqual({ payload: { a: 1 }, carries: false });
    expect((await send(port, 'GET', '/g', { 'content-type': 'Application/X-WWW-Form-Urlencoded' }, 'access_token=t&b=2')).body).toEqual({ payload: { access_token: 't', b: '2' }, carries: true });
    // Chunked, without a Content-Length.
    expect((await send(port, 'GET', '/g', { 'content-type': 'application/json', 'transfer-encoding': 'chunked' }, ['{"access_', 'token":"t"}'])).body).toEqual({ payload: { access_token: 't' }, carries: true });
  });

  it('no body, an empty one, or another media type: left alone', async () => {
    const port = await start(getRoute);
    expect((await send(port, 'GET', '/g')).body).toEqual({ payload: null, carries: false });
    expect((await send(port, 'GET', '/g', { 'content-type': 'application/json' }, '  \n')).body).toEqual({ payload: null, carries: false });
    expect((await send(port, 'GET', '/g', { 'content-type': 'text/plain' }, 'access_token=t')).body).toEqual({ payload: null, carries: false });
  });

  it('over the limit is 413 (by Content-Length, or counted while chunked); malformed JSON is 400', async () => {
    const port = await start(getRoute);
    const big = `{"a":"${'x'.repeat(LIMIT)}"}`;
    expect((await send(port, 'GET', '/g', { 'content-type': 'application/json' }, big)).status).toBe(413);
    expect((await send(port, 'GET', '/g', { 'content-type': 'application/json', 'transfer-encoding': 'chunked' }, [big.slice(0, 40), big.slice(40)])).status).toBe(413);
    // A declared length over the limit is refused at once, without waiting for a body that may never come.
    const declared = raw(port, `GET /g HTTP/1.1\r\nHost: a\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n{"a":`);
    const waited = new Promise<string>((resolve) => setTimeout(() => resolve('still waiting'), 1000).unref());
    expect(await Promise.race([declared.then((answer) => answer.statusLine), waited])).toBe('HTTP/1.1 413 Payload Too Large');
    const malformed = await send(port, 'GET', '/g', { 'content-type': 'application/json' }, '{"a":');
    expect(malformed.status).toBe(400);
    expect(malformed.body).toMatchObject({ message: 'Invalid request payload JSON format' });
  });

  it('a route hapi parses the payload of (POST) is left to hapi', async () => {
    const port = await start((s) =>
      s.route({
        method: 'POST',
        path: '/p',
        handler: async (request: Request) => {
          const before = request.payload;
          await readGetBody(request, LIMIT);
          return { same: request.payload === before };
        },
      }),
    );
    expect((await send(port, 'POST', '/p', { 'content-type': 'application/json' }, `{"a":"${'x'.repeat(LIMIT)}"}`)).body).toEqual({ same: true });
  });
});

describe('incomingRequest', () => {
  it('the request as sent: method, target before setUrl, headers, peer; a token in the query or the parsed body', async () => {
    const port = await start((s) => {
      s.ext('onRequest', (request, h) => {
        if (request.path === '/original') request.setUrl('/rewritten');
        return h.continue;
      });
      s.route({
        method: ['GET', 'POST'],
        path: '/rewritten',
        handler: (request: Request) => {
          const incoming = incomingRequest(request);
          return {
            method: incoming.method,
            target: incoming.target,
            host: incoming.headers.host,
            remoteAddress: incoming.remoteAddress,
            encrypted: incoming.encrypted,
            tokenOutsideHeader: incoming.tokenOutsideHeader,
            raw: incoming.rawHeaders.includes('X-Custom'),
          };
        },
      });
    });
    expect((await send(port, 'GET', '/original?x=1', { 'X-Custom': 'v' })).body).toEqual({
      method: 'GET',
      target: '/original?x=1',
      host: `127.0.0.1:${port}`,
      remoteAddress: '127.0.0.1',
      encrypted: false,
      tokenOutsideHeader: false,
      raw: true,
    });
    expect((await send(port, 'GET', '/original?access_token=t')).body).toMatchObject({ tokenOutsideHeader: true });
    expect((await send(port, 'POST', '/original', { 'content-type': 'application/json' }, '{"access_token":"t"}')).body).toMatchObject({ method: 'POST', tokenOutsideHeader: true });
    expect((await send(port, 'POST', '/original', { 'content-type': 'application/json' }, '{"a":"t"}')).body).toMatchObject({ tokenOutsideHeader: false });
  });
});

describe('deferHostCheck', () => {
  const route = (s: Hapi.Server) => s.route({ method: 'GET', path: '/public', handler: (request: Request) => ({ host: incomingRequest(request).headers.host ?? null, hapiHost: request.info.host }) });
  const get = (port: number, host: string) => raw(port, `GET /public HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`);

  it('without it, hapi answers a Host it does not accept with a bare 400 before any route', async () => {
    const port = await start(route);
    const answer = await get(port, 'bad<host>');
    expect(answer.statusLine).toBe('HTTP/1.1 400 Bad Request');
  });

  it('with it, the route runs and the core reads the Host as sent; hapi saw an empty one; good Hosts are untouched', async () => {
    const port = await start((s) => {
      route(s);
      deferHostCheck(s.listener);
    });
    const bad = await get(port, 'bad<host>');
    expect(bad.statusLine).toBe('HTTP/1.1 200 OK');
    expect(JSON.parse(bad.body)).toEqual({ host: 'bad<host>', hapiHost: '' });
    const good = await get(port, 'api.example.com:8443');
    expect(JSON.parse(good.body)).toEqual({ host: 'api.example.com:8443', hapiHost: 'api.example.com:8443' });
  });

  it("Expect: 100-continue (hapi's checkContinue listener): the same answer as without it; hapi saw an empty Host, the core the one sent", async () => {
    const port = await start((s) => {
      route(s);
      s.route({ method: 'POST', path: '/echo', handler: (request: Request) => ({ host: incomingRequest(request).headers.host ?? null, hapiHost: request.info.host, payload: request.payload }) });
      deferHostCheck(s.listener);
    });
    expect(server!.listener.listenerCount('checkContinue')).toBe(1); // hapi answers it itself: Node does not turn it into 'request'
    const plain = await get(port, 'bad<host>');
    const expecting = await raw(port, `GET /public HTTP/1.1\r\nHost: bad<host>\r\nExpect: 100-continue\r\nConnection: close\r\n\r\n`);
    expect(expecting).toEqual(plain);
    expect(expecting.statusLine).toBe('HTTP/1.1 200 OK');
    expect(JSON.parse(expecting.body)).toEqual({ host: 'bad<host>', hapiHost: '' });
    // With a body: hapi sends 100 Continue when it reads the payload, then answers the route.
    const answer = await new Promise<string>((resolve, reject) => {
      const socket = connect(port, '127.0.0.1');
      let received = '';
      socket.setEncoding('latin1');
      socket.on('data', (chunk: string) => {
        const continued = received.includes('100 Continue');
        received += chunk;
        if (!continued && received.includes('HTTP/1.1 100 Continue\r\n\r\n')) socket.write('{"a":1}');
      });
      socket.on('close', () => resolve(received));
      socket.on('error', reject);
      socket.write('POST /echo HTTP/1.1\r\nHost: bad<host>\r\nExpect: 100-continue\r\nContent-Type: application/json\r\nContent-Length: 7\r\nConnection: close\r\n\r\n');
    });
    expect(answer).toMatch(/^HTTP\/1\.1 100 Continue\r\n\r\nHTTP\/1\.1 200 OK\r\n/);
    expect(JSON.parse(answer.slice(answer.lastIndexOf('\r\n\r\n') + 4))).toEqual({ host: 'bad<host>', hapiHost: '', payload: { a: 1 } });
  });

  it('once per listener: asked again, it wraps nothing twice (request and checkContinue)', async () => {
    await start(route);
    const listener = server!.listener;
    const events = ['request', 'checkContinue'] as const;
    const before = events.map((event) => listener.listeners(event));
    for (const listeners of before) expect(listeners).toHaveLength(1);
    deferHostCheck(listener);
    const wrapped = events.map((event) => listener.listeners(event));
    events.forEach((event, i) => {
      expect(wrapped[i], event).toHaveLength(1);
      expect(wrapped[i]![0], event).not.toBe(before[i]![0]);
    });
    deferHostCheck(listener);
    expect(events.map((event) => listener.listeners(event))).toEqual(wrapped);
  });

  it('a Host hapi accepts, with Expect: 100-continue, is handed on untouched', async () => {
    const port = await start((s) => {
      route(s);
      deferHostCheck(s.listener);
    });
    const good = await raw(port, `GET /public HTTP/1.1\r\nHost: api.example.com:8443\r\nExpect: 100-continue\r\nConnection: close\r\n\r\n`);
    expect(good.statusLine).toBe('HTTP/1.1 200 OK');
    expect(JSON.parse(good.body)).toEqual({ host: 'api.example.com:8443', hapiHost: 'api.example.com:8443' });
  });
});
