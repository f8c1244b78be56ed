/**
 * The hapi adapter answers exactly as the Express one (docs/decisions.md D22): one request table sent to an Express
 * app and to a hapi server built from the same options, comparing status, JSON body, WWW-Authenticate and the
 * other headers a client relies on. Then what only hapi needs: the strategy's per-route requirement, optional mode,
 * getAuth on a hapi request, trusted proxies by option, 5xx logging.
 */
import type { Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import express from 'express';
import Hapi from '@hapi/hapi';
import Boom from '@hapi/boom';
import * as dpop from 'dpop';
import { calculateJwkThumbprint, exportJWK } from 'jose';
import { createAuth0Api as createExpressApi, errorHandler, getAuth as getExpressAuth, getOptionalAuth as getExpressOptionalAuth, jsonClientErrors, notFoundHandler } from '../../src/express/index.js';
import { createAuth0Api, getAuth, getOptionalAuth, type HapiApiOptions } from '../../src/hapi/index.js';
import { AuthError, type ApiOptions } from '../../src/core/index.js';
import type { TrustProxySetting } from '../../src/core/http/trust-proxy.js';
import { TestIssuer } from '../support/test-issuer.js';
import { parseChallenges } from '../support/challenges.js';
import { send, sendRaw, type Reply } from '../support/http.js';

const AUDIENCE = 'https://api.example.com';

interface Pair {
  express: string;
  hapi: string;
  close(): Promise<void>;
}

let issuer: TestIssuer;

function options(extra: Partial<ApiOptions> = {}): ApiOptions {
  return {
    domain: issuer.origin,
    audience: AUDIENCE,
    scopes: { 'read:x': 'Read x', 'write:x': 'Write x' },
    policies: { member: { organization: { param: 'organization' } } },
    ...extra,
  };
}

/** The same routes on Express (requireAuth) and hapi (the `auth0` strategy), from the same options. */
async function startPair(apiOptions: ApiOptions, trustProxy?: TrustProxySetting): Promise<Pair> {
  const auth0e = createExpressApi(apiOptions);
  const app = express();
  if (trustProxy !== undefined) app.set('trust proxy', trustProxy);
  app.use(express.json(), express.urlencoded({ extended: false }));
  auth0e.install(app);
  app.get('/private', auth0e.requireAuth(), (req, res) => {
    res.json({ sub: getExpressAuth(req).claims.sub, scheme: getExpressAuth(req).scheme });
  });
  app.get('/scoped', auth0e.requireAuth({ scopes: 'write:x' }), (_req, res) => res.json({ ok: true }));
  app.get('/optional', auth0e.requireAuth({ optional: true }), (req, res) => res.json({ sub: getExpressOptionalAuth(req)?.claims.sub ?? null }));
  app.get('/orgs/:organization/items', auth0e.requireAuth({ policy: 'member' }), (_req, res) => res.json({ ok: true }));
  // requireAuth refuses an unknown policy at start-up; authorize() refuses it on every request, anonymous or not.
  app.get('/typo', (req, res, next) => {
    auth0e.authorize(req, { policy: 'membr', optional: true }).then(() => res.json({ ok: true }), next);
  });
  app.post('/echo', (req, res) => res.json({ keys: Object.keys(req.body as object) }));
  app.post('/private', auth0e.requireAuth(), (_req, res) => res.json({ ok: true }));
  app.post('/optional', auth0e.requireAuth({ optional: true }), (req, res) => res.json({ sub: getExpressOptionalAuth(req)?.claims.sub ?? null }));
  app.get('/thrown', () => {
    throw new AuthError('insufficient_scope', 'scope.insufficient', 'Administrators only', { scheme: 'bearer', requiredScopes: ['admin'] });
  });
  app.get('/legacy', (_req, _res, next) => {
    next(Object.assign(new Error('nope'), { status: 401, headers: { 'WWW-Authenticate': 'Basic realm="legacy"', 'Set-Cookie': 'session=evil' } }));
  });
  app.get('/crash', () => {
    throw new Error('db password=hunter2');
  });
  app.use(notFoundHandler());
  app.use(errorHandler({ onError: () => {} }));
  const expressServer: HttpServer = app.listen(0, '127.0.0.1');
  jsonClientErrors(expressServer);
  await new Promise((resolve) => expressServer.once('listening', resolve));

  const hapiOptions: HapiApiOptions = { ...apiOptions, onError: () => {}, ...(trustProxy === undefined ? {} : { trustProxy }) };
  const auth0h = createAuth0Api(hapiOptions);
  const server = Hapi.server({ host: '127.0.0.1', port: 0, debug: false });
  await server.register(auth0h.plugin);
  server.route({ method: 'GET', path: '/private', options: { auth: 'auth0' }, handler: (request) => ({ sub: getAuth(request).claims.sub, scheme: getAuth(request).scheme }) });
  server.route({ method: 'GET', path: '/scoped', options: { auth: 'auth0', plugins: { 'auth0-tsoa-api': { scopes: 'write:x' } } }, handler: () => ({ ok: true }) });
  server.route({ method: 'GET', path: '/optional', options: { auth: { strategy: 'auth0', mode: 'optional' } }, handler: (request) => ({ sub: getOptionalAuth(request)?.claims.sub ?? null }) });
  server.route({ method: 'GET', path: '/orgs/{organization}/items', options: { auth: 'auth0', plugins: { 'auth0-tsoa-api': { policy: 'member' } } }, handler: () => ({ ok: true }) });
  server.route({ method: 'GET', path: '/typo', options: { auth: { strategy: 'auth0', mode: 'optional' }, plugins: { 'auth0-tsoa-api': { policy: 'membr' } } }, handler: () => ({ ok: true }) });
  server.route({ method: 'POST', path: '/echo', handler: (request) => ({ keys: Object.keys(request.payload as object) }) });
  server.route({ method: 'POST', path: '/private', options: { auth: 'auth0' }, handler: () => ({ ok: true }) });
  server.route({ method: 'POST', path: '/optional', options: { auth: { strategy: 'auth0', mode: 'optional' } }, handler: (request) => ({ sub: getOptionalAuth(request)?.claims.sub ?? null }) });
  server.route({
    method: 'GET',
    path: '/thrown',
    handler: () => {
      throw new AuthError('insufficient_scope', 'scope.insufficient', 'Administrators only', { scheme: 'bearer', requiredScopes: ['admin'] });
    },
  });
  server.route({
    method: 'GET',
    path: '/legacy',
    handler: () => {
      const error = Boom.unauthorized('nope');
      error.output.headers = { 'WWW-Authenticate': 'Basic realm="legacy"', 'Set-Cookie': 'session=evil' };
      throw error;
    },
  });
  server.route({
    method: 'GET',
    path: '/crash',
    handler: () => {
      throw new Error('db password=hunter2');
    },
  });
  await server.start();
  return {
    express: `http://127.0.0.1:${(expressServer.address() as AddressInfo).port}`,
    hapi: server.info.uri,
    async close() {
      expressServer.closeAllConnections();
      await new Promise((resolve) => expressServer.close(resolve));
      await server.stop();
    },
  };
}

/**
 * What must be equal on both: status, JSON body, and the headers clients act on. Cache-Control only where the library
 * and Vary only where the library sets them (the RFC 9728 route): elsewhere they are each framework's defaults (hapi:
 * `no-cache`, `accept-encoding`).
 */
function comparable(reply: Reply, path: string) {
  const h = reply.headers;
  return {
    status: reply.status,
    body: reply.body,
    'content-type': h['content-type'],
    'www-authenticate': h['www-authenticate'],
    'dpop-nonce': h['dpop-nonce'],
    'retry-after': h['retry-after'],
    'set-cookie': h['set-cookie'],
    'cache-control': path.startsWith('/.well-known/') ? h['cache-control'] : undefined,
    vary: path.startsWith('/.well-known/') ? h.vary : undefined,
  };
}

/** The answer of each server, with its own origin written as ORIGIN so that both compare. */
async function both(pair: Pair, path: string, init: Parameters<typeof send>[2] | ((base: string) => Promise<Parameters<typeof send>[2]>) = {}, seen?: (reply: Reply, base: string) => void) {
  const one = async (base: string) => {
    const reply = await send(base, path, typeof init === 'function' ? await init(base) : init);
    seen?.(reply, base);
    const values = comparable(reply, path);
    if (values['dpop-nonce'] !== undefined) values['dpop-nonce'] = 'NONCE'; // each API has its own nonce secret
    return JSON.parse(JSON.stringify(values).replaceAll(base, 'ORIGIN').replaceAll(new URL(base).host, 'HOST'));
  };
  const [e, h] = await Promise.all([one(pair.express), one(pair.hapi)]);
  expect(h).toEqual(e);
  return h as ReturnType<typeof comparable>;
}

let pair: Pair;
let keys: dpop.KeyPair;
let jkt: string;

beforeAll(async () => {
  issuer = await TestIssuer.start();
  pair = await startPair(options());
  keys = await dpop.generateKeyPair('ES256');
  jkt = await calculateJwkThumbprint(await exportJWK(keys.publicKey));
});

afterAll(async () => {
  await pair?.close();
  await issuer?.close();
});

describe('the same answers as Express', () => {
  it('no credentials: 401 unauthorized, Bearer and DPoP challenges with resource_metadata, no error=', async () => {
    const reply = await both(pair, '/private');
    expect(reply.status).toBe(401);
    expect(reply.body).toEqual({ error: 'unauthorized', error_description: 'Authentication required' });
    const challenges = parseChallenges(reply['www-authenticate'] as string);
    expect(challenges.map((c) => c.scheme)).toEqual(['Bearer', 'DPoP']);
    expect(challenges[0]!.params.error).toBeUndefined();
    expect(challenges[0]!.params.resource_metadata).toBe('ORIGIN/.well-known/oauth-protected-resource');
  });

  it('malformed Authorization: 400 invalid_request', async () => {
    const reply = await both(pair, '/private', { headers: { authorization: 'Bearer a b c' } });
    expect(reply.status).toBe(400);
    expect((reply.body as { error: string }).error).toBe('invalid_request');
  });

  it('invalid token: 401 invalid_token', async () => {
    const reply = await both(pair, '/private', { headers: { authorization: 'Bearer eyJhbGciOiJSUzI1NiJ9.e30.sig' } });
    expect(reply.status).toBe(401);
    expect(parseChallenges(reply['www-authenticate'] as string)[0]!.params.error).toBe('invalid_token');
  });

  it('missing scope: 403 insufficient_scope with scope=', async () => {
    const token = await issuer.token(AUDIENCE, { scope: 'read:x' });
    const reply = await both(pair, '/scoped', { headers: { authorization: `Bearer ${token}` } });
    expect(reply.status).toBe(403);
    expect(parseChallenges(reply['www-authenticate'] as string)[0]!.params).toMatchObject({ error: 'insufficient_scope', scope: 'write:x' });
  });

  it('valid Bearer: 200 with the claims', async () => {
    const token = await issuer.token(AUDIENCE, { scope: 'read:x write:x' });
    expect(await both(pair, '/private', { headers: { authorization: `Bearer ${token}` } })).toMatchObject({ status: 200, body: { sub: 'auth0|user-1', scheme: 'bearer' } });
    expect((await both(pair, '/scoped', { headers: { authorization: `Bearer ${token}` } })).status).toBe(200);
  });

  it('a valid DPoP proof: 200; the same proof again: 401 (replay)', async () => {
    const token = await issuer.token(AUDIENCE, { cnf: { jkt } });
    const proofs = new Map<string, string>();
    const init = async (base: string) => {
      proofs.set(base, await dpop.generateProof(keys, `${base}/private`, 'GET', undefined, token));
      return { headers: { authorization: `DPoP ${token}`, dpop: proofs.get(base)! } };
    };
    expect(await both(pair, '/private', init)).toMatchObject({ status: 200, body: { scheme: 'dpop' } });
    const replay = await both(pair, '/private', async (base) => ({ headers: { authorization: `DPoP ${token}`, dpop: proofs.get(base)! } }));
    expect(replay.status).toBe(401);
    expect(parseChallenges(replay['www-authenticate'] as string).find((c) => c.scheme === 'DPoP')!.params.error).toBe('invalid_dpop_proof');
  });

  it('DPoP nonces (RFC 9449 §9): 401 use_dpop_nonce with DPoP-Nonce, then 200 with it', async () => {
    const nonced = await startPair(options({ dpop: { nonce: true } }));
    try {
      const token = await issuer.token(AUDIENCE, { cnf: { jkt } });
      const nonces = new Map<string, string>();
      const first = await both(
        nonced,
        '/private',
        async (base) => ({ headers: { authorization: `DPoP ${token}`, dpop: await dpop.generateProof(keys, `${base}/private`, 'GET', undefined, token) } }),
        (reply, base) => {
          nonces.set(base, reply.headers['dpop-nonce'] as string);
        },
      );
      expect(first.status).toBe(401);
      expect(first['dpop-nonce']).toBe('NONCE');
      expect(parseChallenges(first['www-authenticate'] as string).find((c) => c.scheme === 'DPoP')!.params.error).toBe('use_dpop_nonce');
      const second = await both(nonced, '/private', async (base) => ({ headers: { authorization: `DPoP ${token}`, dpop: await dpop.generateProof(keys, `${base}/private`, 'GET', nonces.get(base), token) } }));
      expect(second).toMatchObject({ status: 200, body: { scheme: 'dpop' } });
    } finally {
      await nonced.close();
    }
  });

  it('optional route: anonymous served, a token read, a bad token refused', async () => {
    expect(await both(pair, '/optional')).toMatchObject({ status: 200, body: { sub: null } });
    const token = await issuer.token(AUDIENCE);
    expect(await both(pair, '/optional', { headers: { authorization: `Bearer ${token}` } })).toMatchObject({ status: 200, body: { sub: 'auth0|user-1' } });
    expect((await both(pair, '/optional', { headers: { authorization: 'Bearer nope' } })).status).toBe(401);
    expect((await both(pair, '/optional?access_token=x')).status).toBe(401);
    expect((await both(pair, '/optional?acc%65ss_token=x')).status).toBe(401); // the parsed (decoded) query is checked
  });

  it('a misspelt policy on an optional route: 500, anonymous or not (never served without its policy)', async () => {
    expect(await both(pair, '/typo')).toMatchObject({ status: 500, body: { error: 'server_error', error_description: 'Internal server error' } });
    const token = await issuer.token(AUDIENCE);
    expect((await both(pair, '/typo', { headers: { authorization: `Bearer ${token}` } })).status).toBe(500);
  });

  it('a policy with the path parameter as its organization', async () => {
    const token = await issuer.token(AUDIENCE, { org_id: 'org_a' });
    const auth = { headers: { authorization: `Bearer ${token}` } };
    expect((await both(pair, '/orgs/org_a/items', auth)).status).toBe(200);
    const other = await both(pair, '/orgs/org_b/items', auth);
    expect(other.status).toBe(403);
    expect((other.body as { error: string }).error).toBe('insufficient_scope');
  });

  it('RFC 9728 document: same document, private cache and Vary without publicUrl (D19)', async () => {
    const reply = await both(pair, '/.well-known/oauth-protected-resource');
    expect(reply.status).toBe(200);
    expect(reply.body).toMatchObject({ resource: 'ORIGIN', scopes_supported: ['read:x', 'write:x'] });
    expect(reply['cache-control']).toBe('private, max-age=300');
    expect(reply.vary).toBe('Host, X-Forwarded-Host, X-Forwarded-Proto, X-Forwarded-Prefix');
  });

  it('RFC 9728 document with publicUrl: public cache, no Vary', async () => {
    const fixed = await startPair(options({ publicUrl: 'https://api.example.com' }));
    try {
      const reply = await both(fixed, '/.well-known/oauth-protected-resource');
      expect(reply).toMatchObject({ status: 200, 'cache-control': 'public, max-age=300', body: { resource: 'https://api.example.com' } });
      expect(reply.vary).toBeUndefined();
    } finally {
      await fixed.close();
    }
  });

  it('404, 413 over 100 kB, 400 bad JSON, body token with a header token: the same JSON bodies', async () => {
    expect(await both(pair, '/nowhere')).toMatchObject({ status: 404, body: { error: 'not_found', error_description: 'Not found' } });
    const json = { 'content-type': 'application/json' };
    const fits = JSON.stringify({ a: 'x'.repeat(102_400 - 10) });
    expect((await both(pair, '/echo', { method: 'POST', headers: json, body: fits })).status).toBe(200);
    const tooBig = JSON.stringify({ a: 'x'.repeat(102_400) });
    expect(await both(pair, '/echo', { method: 'POST', headers: json, body: tooBig })).toMatchObject({ status: 413, body: { error: 'payload_too_large' } });
    expect(await both(pair, '/echo', { method: 'POST', headers: json, body: '{"a":' })).toMatchObject({ status: 400, body: { error: 'invalid_request', error_description: 'The request is malformed' } });
  });

  it('an access_token in the body: 400 next to a header token, 401 alone (even on an optional route)', async () => {
    const token = await issuer.token(AUDIENCE);
    const json = { 'content-type': 'application/json' };
    const twice = await both(pair, '/private', { method: 'POST', headers: { ...json, authorization: `Bearer ${token}` }, body: '{"access_token":"x"}' });
    expect(twice).toMatchObject({ status: 400, body: { error: 'invalid_request' } });
    const form = { 'content-type': 'application/x-www-form-urlencoded' };
    expect((await both(pair, '/optional', { method: 'POST', headers: form, body: `access_token=${token}` })).status).toBe(401);
    expect(await both(pair, '/optional', { method: 'POST', headers: json, body: '{}' })).toMatchObject({ status: 200, body: { sub: null } });
  });

  it('an AuthError thrown by a handler: its status and default challenge; another 401 keeps its challenge, not its cookie', async () => {
    const thrown = await both(pair, '/thrown');
    expect(thrown).toMatchObject({ status: 403, body: { error: 'insufficient_scope', error_description: 'Administrators only' } });
    expect(parseChallenges(thrown['www-authenticate'] as string)[0]!.params.scope).toBe('admin');
    const legacy = await both(pair, '/legacy');
    expect(legacy).toMatchObject({ status: 401, body: { error: 'unauthorized' }, 'www-authenticate': 'Basic realm="legacy"' });
    expect(legacy['set-cookie']).toBeUndefined();
  });

  it('oversized headers: 431 in JSON, before any route', async () => {
    const head = `GET /private HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: ${'a'.repeat(20_000)}`;
    const [e, h] = await Promise.all([sendRaw(pair.express, head), sendRaw(pair.hapi, head)]);
    expect(h).toEqual(e);
    expect(h).toEqual({ status: 431, body: { error: 'request_header_fields_too_large', error_description: 'The request headers are too large' } });
  });

  it('a 5xx: server_error without the message', async () => {
    const reply = await both(pair, '/crash');
    expect(reply).toMatchObject({ status: 500, body: { error: 'server_error', error_description: 'Internal server error' } });
  });

  it('ambiguous framing: two Host lines, an absolute-form target → 400 invalid_request on both', async () => {
    for (const head of ['GET /private HTTP/1.1\r\nHost: a.example\r\nHost: b.example', 'GET http://other.example/private HTTP/1.1\r\nHost: 127.0.0.1']) {
      const [e, h] = await Promise.all([sendRaw(pair.express, head), sendRaw(pair.hapi, head)]);
      expect(h).toEqual(e);
      expect(h).toMatchObject({ status: 400, body: { error: 'invalid_request' } });
    }
  });
});

describe('trusted proxies: the trustProxy option means what Express’s trust proxy means', () => {
  const forwarded = { 'x-forwarded-proto': 'https', 'x-forwarded-host': 'public.example' };
  const resourceOf = async (p: Pair) => (await both(p, '/.well-known/oauth-protected-resource', { headers: forwarded })).body as { resource: string };

  it('untrusted by default: X-Forwarded-* ignored', async () => {
    expect((await resourceOf(pair)).resource).toBe('ORIGIN');
  });

  it.each([['loopback'], [true], [1], [['127.0.0.1/8']]] as Array<[TrustProxySetting]>)('trusted with %j: X-Forwarded-Proto and -Host honoured', async (setting) => {
    const trusted = await startPair(options(), setting);
    try {
      expect((await resourceOf(trusted)).resource).toBe('https://public.example');
      const challenge = parseChallenges((await both(trusted, '/private', { headers: forwarded }))['www-authenticate'] as string)[0]!;
      expect(challenge.params.resource_metadata).toBe('https://public.example/.well-known/oauth-protected-resource');
    } finally {
      await trusted.close();
    }
  });

  it('a proxy list that does not name the peer: ignored', async () => {
    const other = await startPair(options(), '10.0.0.0/8');
    try {
      expect((await resourceOf(other)).resource).toBe('ORIGIN');
    } finally {
      await other.close();
    }
  });

  it('a bad trustProxy fails at start-up, naming the option', () => {
    expect(() => createAuth0Api({ ...options(), trustProxy: 'not-an-ip' })).toThrow(/"trustProxy"/);
  });
});

describe('what only hapi has: strategies with requirements, the body limit option', () => {
  let server: Hapi.Server;
  let base: string;

  beforeAll(async () => {
    const auth0 = createAuth0Api({ ...options(), bodyLimit: 1000 });
    server = Hapi.server({ host: '127.0.0.1', port: 0, debug: false });
    // A route registered before the plugin gets the body limit too.
    server.route({ method: 'POST', path: '/early', handler: () => ({ ok: true }) });
    await server.register(auth0.plugin);
    server.auth.strategy('writer', 'auth0-tsoa-api', { scopes: 'write:x' });
    server.route({ method: 'GET', path: '/write', options: { auth: 'writer' }, handler: (request) => ({ sub: request.auth.credentials.sub, same: getAuth(request).claims === request.auth.credentials }) });
    server.route({ method: 'POST', path: '/roomy', options: { payload: { maxBytes: 5000 } }, handler: () => ({ ok: true }) });
    await server.start();
    base = server.info.uri;
  });

  afterAll(async () => {
    await server?.stop();
  });

  it("a strategy's scopes apply to its routes; the claims are hapi's credentials and getAuth's", async () => {
    const reader = await issuer.token(AUDIENCE, { scope: 'read:x' });
    const refused = await send(base, '/write', { headers: { authorization: `Bearer ${reader}` } });
    expect(refused.status).toBe(403);
    expect(parseChallenges(refused.headers['www-authenticate'] as string)[0]!.params.scope).toBe('write:x');
    const writer = await issuer.token(AUDIENCE, { scope: 'write:x' });
    expect(await send(base, '/write', { headers: { authorization: `Bearer ${writer}` } })).toMatchObject({ status: 200, body: { sub: 'auth0|user-1', same: true } });
  });

  it('an app that made client errors JSON itself before the plugin keeps one JSON answer (hapi’s empty 400 removed)', async () => {
    const own = Hapi.server({ host: '127.0.0.1', port: 0, debug: false });
    jsonClientErrors(own.listener);
    await own.register(createAuth0Api(options()).plugin);
    await own.start();
    try {
      expect(own.listener.listenerCount('clientError')).toBe(1);
      const head = `GET /private HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: ${'a'.repeat(20_000)}`;
      expect(await sendRaw(own.info.uri, head)).toEqual({ status: 431, body: { error: 'request_header_fields_too_large', error_description: 'The request headers are too large' } });
    } finally {
      await own.stop();
    }
  });

  it('an unknown policy in a strategy fails when the strategy is made', () => {
    expect(() => server.auth.strategy('typo', 'auth0-tsoa-api', { policy: 'membr' })).toThrow(/membr/);
  });

  it('bodyLimit applies to routes with hapi’s default limit, before or after the plugin; a route’s own maxBytes stays', async () => {
    const body = JSON.stringify({ a: 'x'.repeat(2000) });
    const json = { 'content-type': 'application/json' };
    expect(await send(base, '/early', { method: 'POST', headers: json, body })).toMatchObject({ status: 413, body: { error: 'payload_too_large' } });
    expect((await send(base, '/roomy', { method: 'POST', headers: json, body })).status).toBe(200);
  });
});
