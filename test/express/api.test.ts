/**
 * The Express adapter on plain Express 5 routes: `requireAuth({ scopes })`, typed claims through `getAuth<C>(req)`,
 * one verification per request, and the JSON error handler for auth and non-auth errors.
 */
import { request as httpRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, expectTypeOf, it, vi } from 'vitest';
import express from 'express';
import { createAuth0Api, errorHandler, getAuth, notFoundHandler, type Auth0Api } from '../../src/express/index.js';
import { AuthError, type AccessTokenClaims } from '../../src/core/index.js';
import { TestIssuer } from '../support/test-issuer.js';
import { parseChallenges } from '../support/challenges.js';

const AUDIENCE = 'https://api.example.com';
const SAFE_TEXT = /^[\x20\x21\x23-\x5b\x5d-\x7e]*$/;

/** Custom claims, as a user would declare them. */
interface OrgClaims extends AccessTokenClaims {
  org_id: string;
}

let issuer: TestIssuer;
let auth0: Auth0Api;
let server: Server;
let base: string;
const serverErrors: unknown[] = [];

function buildApp(): express.Express {
  const app = express();
  app.use(express.json());
  auth0.install(app);

  app.get('/me', auth0.requireAuth(), (req, res) => {
    const { claims, scheme } = getAuth<OrgClaims>(req);
    expectTypeOf(claims.org_id).toEqualTypeOf<string>();
    expectTypeOf(claims.sub).toEqualTypeOf<string>();
    res.json({ sub: claims.sub, org: claims.org_id, scheme, sameAsReqAuth: req.auth?.claims === claims });
  });
  app.get('/read', auth0.requireAuth({ scopes: 'read:x' }), (_req, res) => {
    res.json({ ok: true });
  });
  app.post('/write', auth0.requireAuth({ scopes: ['read:x', 'write:x'] }), (_req, res) => {
    res.json({ ok: true });
  });
  app.get('/stacked', auth0.requireAuth(), auth0.requireAuth({ scopes: 'read:x' }), (_req, res) => {
    res.json({ ok: true });
  });
  // A second API configuration on the same request (e.g. a router of another audience): getAuth(req) still answers.
  const other = createAuth0Api({ domain: issuer.origin, audience: AUDIENCE });
  app.get('/two-apis', auth0.requireAuth(), other.requireAuth(), (req, res) => {
    res.json({ sub: getAuth(req).claims.sub, same: getAuth(req) === req.auth });
  });
  app.get('/forgot-protection', (req, res) => {
    res.json({ sub: getAuth(req).claims.sub });
  });
  app.get('/admin', auth0.requireAuth(), (req, res) => {
    // Application-level authorization: the handler throws the library's error itself.
    if (!getAuth(req).claims.permissions?.includes('admin')) {
      throw new AuthError('insufficient_scope', 'scope.insufficient', 'Administrators only', { scheme: 'bearer', requiredScopes: ['admin'] });
    }
    res.json({ admin: true });
  });
  app.get('/boom', async () => {
    throw new Error('connect ECONNREFUSED 10.0.0.7:5432 password=hunter2');
  });
  app.get('/thrown-string', () => {
    throw 'plain string'; // eslint-disable-line @typescript-eslint/only-throw-error -- proves a non-Error throw is handled
  });
  app.get('/http-error', (_req, _res, next) => {
    next(Object.assign(new Error('nope'), { status: 401, headers: { 'WWW-Authenticate': 'Basic realm="legacy"', 'Set-Cookie': 'session=evil' } }));
  });
  app.get('/validation', (_req, _res, next) => {
    // The shape of tsoa's ValidateError: field names may echo client-chosen property names.
    next(Object.assign(new Error('Validation'), { status: 400, fields: { [`body.${'"x"\r\n'.repeat(100)}`]: { message: 'excess' } } }));
  });

  app.use(notFoundHandler());
  app.use(errorHandler({ onError: (error) => serverErrors.push(error) }));
  return app;
}

beforeAll(async () => {
  issuer = await TestIssuer.start();
  auth0 = createAuth0Api({ domain: issuer.origin, audience: AUDIENCE, scopes: { 'read:x': 'Read x', 'write:x': 'Write x' } });
  server = buildApp().listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  server?.closeAllConnections();
  await new Promise((resolve) => server?.close(resolve));
  await issuer?.close();
});

async function call(path: string, init: RequestInit = {}) {
  const response = await fetch(`${base}${path}`, init);
  return { status: response.status, headers: response.headers, body: (await response.json()) as Record<string, unknown> };
}
const withToken = async (claims: Record<string, unknown> = {}, init: RequestInit = {}) => ({
  ...init,
  headers: { authorization: `Bearer ${await issuer.token(AUDIENCE, claims)}` },
});

function expectErrorBody(body: unknown, code: string): void {
  expect(body).toEqual({ error: code, error_description: expect.any(String) });
  expect((body as { error_description: string }).error_description).toMatch(SAFE_TEXT);
}

describe('requireAuth', () => {
  it('lets a valid token through; getAuth<C> gives the typed claims, also on req.auth', async () => {
    const reply = await call('/me', await withToken({ org_id: 'org_42' }));
    expect(reply).toMatchObject({ status: 200, body: { sub: 'auth0|user-1', org: 'org_42', scheme: 'bearer', sameAsReqAuth: true } });
  });

  it.each([
    ['no token', '/me', {}, 401, 'unauthorized'],
    ['Bearer a b', '/me', { headers: { authorization: 'Bearer a b' } }, 400, 'invalid_request'],
    ['an invalid token', '/me', { headers: { authorization: 'Bearer a.b.c' } }, 401, 'invalid_token'],
  ])('%s → %i %s with the challenge', async (_what, path, init, status, code) => {
    const reply = await call(path, init);
    expect(reply.status).toBe(status);
    expectErrorBody(reply.body, code);
    const challenges = parseChallenges(reply.headers.get('www-authenticate'));
    expect(challenges.map((c) => c.scheme)).toEqual(['Bearer', 'DPoP']);
    expect(challenges[0]!.params.resource_metadata).toBe(`${base}/.well-known/oauth-protected-resource`);
    expect(challenges[0]!.params.error).toBe(code === 'unauthorized' ? undefined : code);
  });

  it.each([
    ['GET', '/read', 'openid', 'read:x'],
    ['POST', '/write', 'read:x', 'read:x write:x'],
  ])('%s %s without its scopes → 403 insufficient_scope, scope="%s"', async (method, path, scope, required) => {
    const reply = await call(path, await withToken({ scope }, { method }));
    expect(reply.status).toBe(403);
    expectErrorBody(reply.body, 'insufficient_scope');
    expect(parseChallenges(reply.headers.get('www-authenticate'))[0]).toMatchObject({
      scheme: 'Bearer',
      params: { error: 'insufficient_scope', scope: required },
    });
  });

  it.each([
    ['GET', '/read', 'read:x'],
    ['POST', '/write', 'write:x read:x'],
  ])('%s %s with its scopes → 200', async (method, path, scope) => {
    expect(await call(path, await withToken({ scope }, { method }))).toMatchObject({ status: 200, body: { ok: true } });
  });

  it('verifies a request once, however many requireAuth guards it passes', async () => {
    const spy = vi.spyOn(auth0.validator, 'verifyRequest'); // calls through to the real validator
    try {
      expect((await call('/stacked', await withToken({ scope: 'read:x' }))).status).toBe(200);
      expect(spy).toHaveBeenCalledTimes(1);
    } finally {
      spy.mockRestore();
    }
  });

  it('two API configurations on one request: each verifies it, getAuth(req) gives the last one’s result (req.auth)', async () => {
    expect(await call('/two-apis', await withToken())).toMatchObject({ status: 200, body: { sub: 'auth0|user-1', same: true } });
  });

  it('serves the RFC 9728 document installed by install(app)', async () => {
    const reply = await call('/.well-known/oauth-protected-resource');
    expect(reply.status).toBe(200);
    expect(reply.body).toMatchObject({ resource: base, authorization_servers: [issuer.issuer], scopes_supported: ['read:x', 'write:x'], bearer_methods_supported: ['header'] });
  });

  it('accepts a container-style Host name with an underscore (my_api:8080)', async () => {
    const token = await issuer.token(AUDIENCE);
    const { port } = new URL(base);
    const status = await new Promise<number | undefined>((resolve, reject) => {
      const req = httpRequest({ host: '127.0.0.1', port, path: '/me', headers: { host: 'my_api:8080', authorization: `Bearer ${token}` } }, (res) => {
        res.resume();
        resolve(res.statusCode);
      });
      req.on('error', reject);
      req.end();
    });
    expect(status).toBe(200);
  });

  it('judges every Host afresh: one found valid before does not make a look-alike valid', async () => {
    const token = await issuer.token(AUDIENCE);
    const { port } = new URL(base);
    const statusWithHost = (host: string) =>
      new Promise<number | undefined>((resolve, reject) => {
        const req = httpRequest({ host: '127.0.0.1', port, path: '/me', headers: { host, authorization: `Bearer ${token}` } }, (res) => {
          res.resume();
          resolve(res.statusCode);
        });
        req.on('error', reject);
        req.end();
      });
    // The last valid Host is remembered (the pattern costs ≈ 1 µs): only that exact string may skip the check.
    expect(await statusWithHost('api.example.com:8080')).toBe(200);
    expect(await statusWithHost('api.example.com:80800')).toBe(400);
    expect(await statusWithHost('api.example.com:8080/x')).toBe(400);
    expect(await statusWithHost('api.example.com:8080')).toBe(200);
    expect(await statusWithHost('api.example.com:0')).toBe(400);
  });

  it('getAuth on a route nobody protected fails closed, and a 401 then still carries a challenge', async () => {
    const reply = await call('/forgot-protection', await withToken());
    expect(reply.status).not.toBe(200);
    expect(reply.body).toEqual({ error: expect.any(String), error_description: expect.any(String) });
    if (reply.status === 401) expect(reply.headers.get('www-authenticate')).not.toBeNull(); // RFC 9110 §15.5.2
  });
});

describe('errorHandler and notFoundHandler', () => {
  it('gives an AuthError thrown by application code a challenge of its own: the defaults, no API looked up', async () => {
    const reply = await call('/admin', await withToken({ permissions: ['read:x'] }));
    expect(reply).toMatchObject({ status: 403, body: { error: 'insufficient_scope', error_description: 'Administrators only' } });
    // No validator refused this request, so nothing decided its facts: Bearer and DPoP (ES256), no resource_metadata.
    expect(parseChallenges(reply.headers.get('www-authenticate'))).toEqual([
      { scheme: 'Bearer', params: { error: 'insufficient_scope', error_description: 'Administrators only', scope: 'admin' } },
      { scheme: 'DPoP', params: { algs: 'ES256' } },
    ]);
  });

  it('404 in the JSON shape', async () => {
    const reply = await call('/nowhere');
    expect(reply.status).toBe(404);
    expectErrorBody(reply.body, 'not_found');
  });

  it('400 for malformed JSON', async () => {
    const reply = await call('/write', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"a":' });
    expect(reply.status).toBe(400);
    expectErrorBody(reply.body, 'invalid_request');
  });

  it('500 without leaking the message, reported to onError', async () => {
    serverErrors.length = 0;
    const reply = await call('/boom');
    expect(reply).toMatchObject({ status: 500, body: { error: 'server_error', error_description: 'Internal server error' } });
    expect(JSON.stringify(reply.body)).not.toMatch(/hunter2|ECONNREFUSED|10\.0\.0\.7/);
    expect(serverErrors).toHaveLength(1);
    expect((serverErrors[0] as Error).message).toMatch(/hunter2/);
  });

  it('500 for a thrown non-Error value', async () => {
    const reply = await call('/thrown-string');
    expect(reply).toMatchObject({ status: 500, body: { error: 'server_error' } });
  });

  it('keeps the WWW-Authenticate of another 4xx error, and only such headers', async () => {
    const reply = await call('/http-error');
    expect(reply.status).toBe(401);
    expectErrorBody(reply.body, 'unauthorized');
    expect(reply.headers.get('www-authenticate')).toBe('Basic realm="legacy"');
    expect(reply.headers.get('set-cookie')).toBeNull();
  });

  it('cleans and shortens validation details that echo client input', async () => {
    const reply = await call('/validation');
    expect(reply.status).toBe(400);
    const { fields, ...body } = reply.body as { fields: Record<string, { message: string }>; error_description: string };
    expectErrorBody(body, 'invalid_request');
    expect(body.error_description.length).toBeLessThanOrEqual(200);
    // The field details are kept, cleaned the same way: no quotes, no control characters.
    const names = Object.keys(fields);
    expect(names).toHaveLength(1);
    expect(names[0]).toMatch(/^body\./);
    expect(names[0]).toMatch(SAFE_TEXT);
    expect(names[0]!.length).toBeLessThanOrEqual(100);
    expect(Object.values(fields)).toEqual([{ message: 'excess' }]);
  });
});
