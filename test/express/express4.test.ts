/**
 * Express 4 smoke test (the peer range is ^4.21 || ^5): the Express adapter and the tsoa-generated
 * `RegisterRoutes` (build/generated/routes.ts) mounted on a real Express 4.21 app answer 200 with a valid token,
 * the documented 400/401/403 shapes (docs/errors.md) otherwise, and nothing crashes (no unhandled rejection).
 */
import { createRequire } from 'node:module';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type express5 from 'express';
import { RegisterRoutes } from '../../build/generated/routes.js';
import { createAuth0Api, errorHandler, getAuth, jsonClientErrors, notFoundHandler } from '../../src/express/index.js';
import { SCOPES } from '../../src/demo/scopes.js';
import { TestIssuer } from '../support/test-issuer.js';
import { parseChallenges } from '../support/challenges.js';

// `express4` is express@4.21.2 installed under an alias. It ships no types; the calls below exist in both majors,
// so Express 5's types describe them (the version check below proves which one runs).
const require = createRequire(import.meta.url);
const express4 = require('express4') as typeof express5;
const express4Version = (require('express4/package.json') as { version: string }).version;

const AUDIENCE = 'https://api.example.com';
let issuer: TestIssuer;
let server: Server;
let base: string;
const unhandled: unknown[] = [];
const onUnhandled = (reason: unknown) => unhandled.push(reason);

beforeAll(async () => {
  process.on('unhandledRejection', onUnhandled);
  issuer = await TestIssuer.start();
  const app = express4();
  app.use(express4.json());
  app.use(express4.urlencoded({ extended: false }));
  const auth0 = createAuth0Api({ domain: issuer.origin, audience: AUDIENCE, scopes: SCOPES }).install(app);
  app.get('/plain', auth0.requireAuth({ scopes: ['read:messages'] }), (req, res) => {
    res.json({ sub: getAuth(req).claims.sub });
  });
  RegisterRoutes(app);
  app.use(notFoundHandler());
  app.use(errorHandler());
  server = app.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  jsonClientErrors(server);
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  process.off('unhandledRejection', onUnhandled);
  server?.closeAllConnections();
  await new Promise((resolve) => server?.close(resolve));
  await issuer?.close();
});

async function call(path: string, init: RequestInit = {}) {
  const response = await fetch(`${base}${path}`, init);
  return { status: response.status, headers: response.headers, body: (await response.json()) as unknown };
}
const auth = async (claims: Record<string, unknown> = {}) => ({ authorization: `Bearer ${await issuer.token(AUDIENCE, claims)}` });

it('runs on Express 4', () => {
  expect(express4Version).toMatch(/^4\./);
});

describe('200 with a valid token (generated routes and requireAuth)', () => {
  it.each([
    ['GET', '/api/public', {}, { message: expect.any(String) }],
    ['GET', '/api/private', {}, { user: 'auth0|user-1' }],
    ['GET', '/api/profile', { scope: undefined }, { sub: 'auth0|user-1', scope: null }],
    ['GET', '/api/messages', { scope: 'read:messages' }, { messages: expect.any(Array) }],
    ['POST', '/api/data', { scope: 'read:data write:data' }, { created: true }],
    ['GET', '/plain', { scope: 'read:messages' }, { sub: 'auth0|user-1' }],
  ])('%s %s', async (method, path, claims, expected) => {
    const headers = path === '/api/public' ? {} : await auth(claims);
    const body = method === 'POST' ? JSON.stringify({ a: 1 }) : undefined;
    const reply = await call(path, { method, headers: { ...headers, ...(body ? { 'content-type': 'application/json' } : {}) }, ...(body ? { body } : {}) });
    expect(reply.status).toBe(200);
    expect(reply.body).toEqual(expected);
  });
});

describe('error shapes', () => {
  it.each([
    ['no token', '/api/private', {}, 401, 'unauthorized'],
    ['Basic x', '/api/private', { authorization: 'Basic x' }, 401, 'unauthorized'],
    ['Bearer a b', '/api/private', { authorization: 'Bearer a b' }, 400, 'invalid_request'],
    ['an invalid token', '/api/private', { authorization: 'Bearer a.b.c' }, 401, 'invalid_token'],
    ['no token on a requireAuth route', '/plain', {}, 401, 'unauthorized'],
  ])('%s → %i %s', async (_what, path, headers, status, code) => {
    const reply = await call(path, { headers });
    expect(reply.status).toBe(status);
    expect(reply.body).toEqual({ error: code, error_description: expect.any(String) });
    const challenges = parseChallenges(reply.headers.get('www-authenticate'));
    expect(challenges.map((c) => c.scheme)).toEqual(['Bearer', 'DPoP']);
    expect(challenges[0]!.params.error).toBe(code === 'unauthorized' ? undefined : code);
    for (const c of challenges) expect(c.params.resource_metadata).toBe(`${base}/.well-known/oauth-protected-resource`);
  });

  it('a token only in the query (qs parser) → 401; also in the header → 400', async () => {
    const headers = await auth();
    const token = headers.authorization.slice('Bearer '.length);
    expect((await call(`/api/private?access_token=${token}`)).status).toBe(401);
    const both = await call(`/api/private?access_token=${token}`, { headers });
    expect(both.status).toBe(400);
    expect(both.body).toEqual({ error: 'invalid_request', error_description: expect.any(String) });
  });

  it.each([
    ['GET', '/api/messages', 'openid', 'read:messages'],
    ['POST', '/api/data', 'read:data', 'read:data write:data'],
    ['GET', '/plain', 'openid', 'read:messages'],
  ])('%s %s without its scopes → 403 scope="%s"', async (method, path, scope, required) => {
    const reply = await call(path, { method, headers: await auth({ scope }) });
    expect(reply.status).toBe(403);
    expect(reply.body).toEqual({ error: 'insufficient_scope', error_description: expect.any(String) });
    expect(parseChallenges(reply.headers.get('www-authenticate'))[0]).toMatchObject({ scheme: 'Bearer', params: { error: 'insufficient_scope', scope: required } });
  });

  it('404 and malformed JSON use the JSON shape', async () => {
    expect(await call('/api/nope')).toMatchObject({ status: 404, body: { error: 'not_found' } });
    const bad = await call('/api/data', { method: 'POST', headers: { ...(await auth({ scope: 'read:data write:data' })), 'content-type': 'application/json' }, body: '{' });
    expect(bad).toMatchObject({ status: 400, body: { error: 'invalid_request' } });
  });
});

describe('nothing crashes', () => {
  it('serves after every error above, with no unhandled rejection', async () => {
    await Promise.all(Array.from({ length: 20 }, (_, i) => call('/api/private', { headers: { authorization: i % 2 ? 'Bearer a.b.c' : 'Bearer' } })));
    expect((await call('/api/private', { headers: await auth() })).status).toBe(200);
    await new Promise((resolve) => setImmediate(resolve));
    expect(unhandled).toEqual([]);
  });
});
