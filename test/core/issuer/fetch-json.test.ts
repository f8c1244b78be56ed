/**
 * Fetching a JSON object from the identity provider (src/core/issuer/fetch-json.ts), against a real HTTP server on
 * 127.0.0.1: success, and each failure as a ProviderFetchError with its loggable reason — timeout (headers or body
 * too slow), network, redirect (never followed), non-2xx status, too_large (declared or streamed), not_json, invalid.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ProviderFetchError, type ProviderFetchFailure } from '../../../src/core/errors.js';
import { fetchJson } from '../../../src/core/issuer/fetch-json.js';

type Handler = (req: IncomingMessage, res: ServerResponse) => void;
const routes = new Map<string, Handler>();
const hits: string[] = [];
const seenAccept: Array<string | undefined> = [];
let server: Server;
let base: string;

beforeAll(async () => {
  server = createServer((req, res) => {
    hits.push(req.url!);
    seenAccept.push(req.headers.accept);
    const handler = routes.get(req.url!);
    if (handler) handler(req, res);
    else res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

const json =
  (status: number, body: string, headers: Record<string, string> = {}): Handler =>
  (_req, res) => {
    res.writeHead(status, { 'content-type': 'application/json', ...headers }).end(body);
  };

const options = { fetch: globalThis.fetch, timeout: 500, maxBytes: 1024 };

async function failure(path: string, opts: Partial<typeof options> = {}): Promise<ProviderFetchError> {
  const url = path.startsWith('http') ? path : `${base}${path}`;
  const error = await fetchJson(url, { ...options, ...opts }).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ProviderFetchError);
  expect((error as ProviderFetchError).url).toBe(url);
  return error as ProviderFetchError;
}

async function reason(path: string, opts: Partial<typeof options> = {}): Promise<ProviderFetchFailure> {
  return (await failure(path, opts)).reason;
}

describe('fetchJson', () => {
  it('returns the JSON object, asking for application/json', async () => {
    routes.set('/ok', json(200, '{"issuer":"https://tenant.example/","keys":[1,2]}'));
    seenAccept.length = 0;
    await expect(fetchJson(`${base}/ok`, options)).resolves.toEqual({ issuer: 'https://tenant.example/', keys: [1, 2] });
    expect(seenAccept).toEqual(['application/json']);
  });

  it('accepts a body of exactly maxBytes', async () => {
    const body = `{"a":"${'x'.repeat(1024 - 8)}"}`;
    expect(Buffer.byteLength(body)).toBe(1024);
    routes.set('/exact', json(200, body));
    await expect(fetchJson(`${base}/exact`, options)).resolves.toEqual({ a: 'x'.repeat(1016) });
  });

  it('times out when the server does not answer', async () => {
    routes.set('/silent', () => {
      /* never answers */
    });
    const started = Date.now();
    const error = await failure('/silent', { timeout: 150 });
    expect(error.reason).toBe('timeout');
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it('times out when the body stalls after the headers', async () => {
    routes.set('/stall', (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('{"a":');
    });
    expect(await reason('/stall', { timeout: 200 })).toBe('timeout');
  });

  it('reports a network failure when nothing listens', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    expect(await reason(`http://127.0.0.1:${port}/jwks`)).toBe('network');
  });

  it.each([301, 302, 303, 307, 308])('refuses a %i redirect without following it', async (status) => {
    routes.set(`/redirect-${status}`, (_req, res) => res.writeHead(status, { location: `${base}/target` }).end());
    routes.set('/target', json(200, '{"followed":true}'));
    hits.length = 0;
    const error = await failure(`/redirect-${status}`);
    expect(error.reason).toBe('redirect');
    expect(error.message).toBe(`redirect ${status}`);
    expect(hits).not.toContain('/target');
  });

  it.each([404, 500, 503])('refuses HTTP %i', async (status) => {
    routes.set(`/status-${status}`, json(status, '{"error":"x"}'));
    const error = await failure(`/status-${status}`);
    expect(error.reason).toBe('status');
    expect(error.message).toBe(`HTTP ${status}`);
  });

  it('refuses a declared Content-Length over the cap', async () => {
    const body = `{"a":"${'x'.repeat(2000)}"}`;
    routes.set('/declared', json(200, body, { 'content-length': String(Buffer.byteLength(body)) }));
    const error = await failure('/declared');
    expect(error.reason).toBe('too_large');
    expect(error.message).toBe(`content-length ${Buffer.byteLength(body)}`);
  });

  it('refuses a chunked body that grows over the cap (no Content-Length)', async () => {
    routes.set('/chunked', (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('{"a":"');
      const timer = setInterval(() => {
        if (res.destroyed || !res.write('x'.repeat(256))) clearInterval(timer);
      }, 5);
      res.on('close', () => clearInterval(timer));
    });
    const error = await failure('/chunked', { timeout: 5000 });
    expect(error.reason).toBe('too_large');
    expect(error.message).toBe('more than 1024 bytes');
  });

  it.each([
    ['/html', '<html>login</html>'],
    ['/truncated', '{"a":'],
    ['/empty', ''],
  ])('refuses a body that is not JSON (%s)', async (path, body) => {
    routes.set(path, json(200, body));
    expect(await reason(path)).toBe('not_json');
  });

  it.each([
    ['/array', '[1,2]'],
    ['/null', 'null'],
    ['/string', '"keys"'],
    ['/number', '42'],
  ])('refuses JSON that is not an object (%s)', async (path, body) => {
    routes.set(path, json(200, body));
    expect(await reason(path)).toBe('invalid');
  });
});
