/** Small helpers shared by the test files. */
import { createServer as createHttpServer } from 'node:http';
import { createServer, type AddressInfo } from 'node:net';
import { expect } from 'vitest';
import { AuthError } from '../../src/core/errors.js';
import { errorResponse } from '../../src/core/http/error-response.js';
import type { ApiValidator } from '../../src/core/validator.js';

/**
 * Awaits a promise that must reject with an AuthError, and returns that error (with the response headers when it
 * came through {@link withResponses}).
 */
export async function rejection(promise: Promise<unknown>): Promise<RefusedError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(AuthError);
  return error as RefusedError;
}

/** A TCP port on 127.0.0.1 that nothing listens on (it was free a moment ago). */
export async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** A loopback server that must never be contacted (redirect targets, `jku`/`x5u` URLs): it counts requests. */
export interface CountingServer {
  url: string;
  readonly requests: number;
  close(): Promise<void>;
}

/** Starts a {@link CountingServer} answering every request with `body()` as JSON. */
export async function startCountingServer(body: () => unknown): Promise<CountingServer> {
  let requests = 0;
  const server = createHttpServer((_req, res) => {
    requests++;
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body()));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    get requests() {
      return requests;
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

const P256_ORDER = BigInt('0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551');

/** The same ES256 JWS with its signature (r, s) replaced by (r, n - s): equally valid ECDSA, different bytes. */
export function highS(jws: string): string {
  const [h, p, sig] = jws.split('.') as [string, string, string];
  const raw = Buffer.from(sig, 'base64url');
  const s = BigInt(`0x${raw.subarray(32).toString('hex')}`);
  const flipped = Buffer.from((P256_ORDER - s).toString(16).padStart(64, '0'), 'hex');
  return `${h}.${p}.${Buffer.concat([raw.subarray(0, 32), flipped]).toString('base64url')}`;
}

/** An AuthError with the headers the adapters would send for it (computed by `errorResponse`). */
export type RefusedError = AuthError & { headers: Record<string, string> };

/**
 * A validator whose refusals carry their response headers, as an adapter computes them (`errorResponse` with the
 * validator's facts for `url`): lets core tests assert challenges without an HTTP layer. `authorize` returns a
 * promise here, so that `rejection()` works for it too.
 */
export function withResponses(validator: ApiValidator, url: string): Omit<ApiValidator, 'authorize'> & { authorize(...args: Parameters<ApiValidator['authorize']>): Promise<void> } {
  const decorate = (error: unknown): unknown => {
    if (!(error instanceof AuthError)) return error;
    const { headers } = errorResponse(error, validator.responseFacts(url));
    return Object.assign(Object.create(Object.getPrototypeOf(error) as object) as AuthError, error, { headers, message: error.message });
  };
  return new Proxy(validator, {
    get(target, property, receiver) {
      const value = Reflect.get(target, property, receiver) as unknown;
      if (typeof value !== 'function' || !['verifyRequest', 'authorize', 'verifyAccessToken'].includes(property as string)) return value;
      return async (...args: unknown[]) => {
        try {
          return await (value as (...a: unknown[]) => unknown).apply(target, args);
        } catch (error) {
          throw decorate(error);
        }
      };
    },
  }) as never;
}

/** Something that listens like an Express app (`app.listen(port, host)` returns a Node server). */
interface Listenable {
  listen(port: number, host: string): import('node:http').Server;
}

/**
 * Apps on free loopback ports for one test file: `listen(app)` resolves the app's base URL once it listens, and
 * `close()` (in `afterAll`) stops every one of them, dropping kept-alive connections.
 */
export function appServers(): { listen(app: Listenable): Promise<string>; close(): Promise<void> } {
  const servers: import('node:http').Server[] = [];
  return {
    async listen(app) {
      const server = app.listen(0, '127.0.0.1');
      servers.push(server);
      await new Promise((resolve) => server.once('listening', resolve));
      return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    },
    async close() {
      for (const server of servers.splice(0)) {
        server.closeAllConnections();
        await new Promise((resolve) => server.close(resolve));
      }
    },
  };
}
