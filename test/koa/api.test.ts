/**
 * The Koa adapter on plain Koa 3 routes (@koa/router): `requireAuth({ scopes, policy, optional })`, typed claims on
 * `ctx.state.auth` and through `getAuth(ctx.request)`, the RFC 9728 route, framing checks and the JSON error
 * middleware — each answer compared with the Express adapter's for the same request (status, body, challenge,
 * DPoP-Nonce, Retry-After, Cache-Control, Vary).
 */
import { request as httpRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, expectTypeOf, it } from 'vitest';
import Koa from 'koa';
import Router from '@koa/router';
import { bodyParser } from '@koa/bodyparser';
import express from 'express';
import { createKoaAuth0Api, errorHandler as koaErrors, getAuth, getOptionalAuth, type KoaAuth0Api } from '../../src/koa/index.js';
import { createAuth0Api, errorHandler, notFoundHandler, type Auth0Api } from '../../src/express/index.js';
import type { AccessTokenClaims } from '../../src/core/index.js';
import { TestIssuer } from '../support/test-issuer.js';

const AUDIENCE = 'https://api.example.com';

interface OrgClaims extends AccessTokenClaims {
  org_id: string;
}

let issuer: TestIssuer;
let koaApi: KoaAuth0Api;
let expressApi: Auth0Api;
const servers: Server[] = [];
let koaBase: string;
let expressBase: string;

const options = () => ({
  domain: issuer.origin,
  audience: AUDIENCE,
  scopes: { 'read:x': 'Read x', 'write:x': 'Write x' },
  policies: { admin: { scopes: ['read:x'], claims: [] }, tenant: { organization: { param: 'org' } } },
});

function koaApp(): Koa {
  const app = new Koa();
  app.use(koaErrors({ onError: () => {} }));
  app.use(bodyParser({ jsonLimit: '100kb', parsedMethods: ['GET', 'POST'] }));
  koaApi.install(app);
  const router = new Router();
  router.get('/me', koaApi.requireAuth(), (ctx) => {
    const { claims, scheme } = getAuth<OrgClaims>(ctx.request);
    expectTypeOf(claims.org_id).toEqualTypeOf<string>();
    ctx.body = { sub: claims.sub, org: claims.org_id ?? null, scheme, same: ctx.state.auth?.claims === claims && getAuth(ctx) === getAuth(ctx.request) };
  });
  router.get('/read', koaApi.requireAuth({ scopes: 'read:x' }), (ctx) => {
    ctx.body = { ok: true };
  });
  router.get('/admin', koaApi.requireAuth({ policy: 'admin' }), (ctx) => {
    ctx.body = { ok: true };
  });
  router.get('/orgs/:org', koaApi.requireAuth({ policy: 'tenant' }), (ctx) => {
    ctx.body = { ok: true };
  });
  router.get('/feed', koaApi.requireAuth({ optional: true }), (ctx) => {
    ctx.body = { user: getOptionalAuth(ctx.request)?.claims.sub ?? null };
  });
  router.post('/echo', koaApi.requireAuth(), (ctx) => {
    ctx.body = { ok: true };
  });
  router.get('/boom', () => {
    throw new Error('secret internals');
  });
  app.use(router.routes());
  return app;
}

function expressApp(): express.Express {
  const app = express();
  app.use(express.json());
  expressApi.install(app);
  app.get('/me', expressApi.requireAuth(), (req, res) => {
    const { claims, scheme } = getAuth<OrgClaims>(req);
    res.json({ sub: claims.sub, org: claims.org_id ?? null, scheme, same: true });
  });
  app.get('/read', expressApi.requireAuth({ scopes: 'read:x' }), (_req, res) => res.json({ ok: true }));
  app.get('/admin', expressApi.requireAuth({ policy: 'admin' }), (_req, res) => res.json({ ok: true }));
  app.get('/orgs/:org', expressApi.requireAuth({ policy: 'tenant' }), (_req, res) => res.json({ ok: true }));
  app.get('/feed', expressApi.requireAuth({ optional: true }), (req, res) => res.json({ user: getOptionalAuth(req)?.claims.sub ?? null }));
  app.post('/echo', expressApi.requireAuth(), (_req, res) => res.json({ ok: true }));
  app.get('/boom', () => {
    throw new Error('secret internals');
  });
  app.use(notFoundHandler());
  app.use(errorHandler({ onError: () => {} }));
  return app;
}

async function listen(handler: Parameters<typeof import('node:http').createServer>[1]): Promise<string> {
  const { createServer } = await import('node:http');
  const server = createServer(handler).listen(0, '127.0.0.1');
  servers.push(server);
  await new Promise((resolve) => server.once('listening', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

beforeAll(async () => {
  issuer = await TestIssuer.start();
  koaApi = createKoaAuth0Api(options());
  expressApi = createAuth0Api(options());
  const koa = koaApp();
  koa.silent = true;
  const handle = koa.callback();
  koaBase = await listen((req, res) => void handle(req, res)); // void: Koa's handler answers its own errors, it never rejects
  expressBase = await listen(expressApp());
});
afterAll(async () => {
  for (const server of servers) {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
  await issuer?.close();
});

const COMPARED_HEADERS = ['www-authenticate', 'dpop-nonce', 'retry-after', 'cache-control', 'vary', 'content-type'];

/** The same request to both apps; the parts of the answer that must be equal (the origin written as <base>). */
async function both(path: string, init: RequestInit = {}) {
  const answer = async (base: string) => {
    const response = await fetch(`${base}${path}`, init);
    const text = (await response.text()).replaceAll(base, '<base>');
    const headers = Object.fromEntries(COMPARED_HEADERS.map((name) => [name, response.headers.get(name)?.replaceAll(base, '<base>') ?? null]));
    return { status: response.status, body: text ? (JSON.parse(text) as unknown) : null, headers };
  };
  const [koa, express] = await Promise.all([answer(koaBase), answer(expressBase)]);
  expect(koa).toEqual(express);
  return koa;
}

const bearer = async (claims: Record<string, unknown> = {}) => ({ authorization: `Bearer ${await issuer.token(AUDIENCE, claims)}` });

describe('Koa answers exactly as Express', () => {
  it('a valid token: typed claims on ctx.state.auth, getAuth(ctx.request) and getAuth(ctx)', async () => {
    const reply = await both('/me', { headers: await bearer({ org_id: 'org_42' }) });
    expect(reply).toMatchObject({ status: 200, body: { sub: 'auth0|user-1', org: 'org_42', scheme: 'bearer', same: true } });
  });

  it.each([
    ['no token', '/me', {}, 401],
    ['Bearer a b', '/me', { authorization: 'Bearer a b' }, 400],
    ['an invalid token', '/me', { authorization: 'Bearer a.b.c' }, 401],
    ['an unsupported scheme', '/me', { authorization: 'Basic Zm9vOmJhcg==' }, 401],
    ['two Authorization lines', '/me', { authorization: 'Bearer a.b.c, Bearer d.e.f' }, 400],
  ])('%s → %i with the same challenge', async (_what, path, headers, status) => {
    const reply = await both(path, { headers: headers as Record<string, string> });
    expect(reply.status).toBe(status);
    expect(reply.headers['www-authenticate']).toContain('resource_metadata="<base>/.well-known/oauth-protected-resource"');
  });

  it('scopes and policies: 403 insufficient_scope with the same challenge; 200 when granted', async () => {
    expect((await both('/read', { headers: await bearer({ scope: 'write:x' }) })).status).toBe(403);
    expect((await both('/read', { headers: await bearer({ scope: 'read:x' }) })).status).toBe(200);
    expect((await both('/admin', { headers: await bearer() })).status).toBe(403);
    expect((await both('/orgs/org_1', { headers: await bearer({ org_id: 'org_1' }) })).status).toBe(200);
    expect((await both('/orgs/org_1', { headers: await bearer({ org_id: 'org_2' }) })).status).toBe(403);
  });

  it('optional: anonymous callers served, sent credentials judged', async () => {
    expect(await both('/feed')).toMatchObject({ status: 200, body: { user: null } });
    expect(await both('/feed', { headers: await bearer() })).toMatchObject({ status: 200, body: { user: 'auth0|user-1' } });
    expect((await both('/feed', { headers: { authorization: 'Bearer a.b.c' } })).status).toBe(401);
  });

  it('a token in the query or the body as well as the header is refused', async () => {
    const headers = await bearer();
    expect((await both('/me?access_token=x', { headers })).status).toBe(400);
    expect((await both('/echo', { method: 'POST', headers: { ...headers, 'content-type': 'application/json' }, body: '{"access_token":"x"}' })).status).toBe(400);
  });

  it('errors in the JSON shape: 404, 500 without internals, malformed JSON 400, a body over 100 kB 413', async () => {
    expect(await both('/nowhere')).toMatchObject({ status: 404, body: { error: 'not_found' } });
    const boom = await both('/boom');
    expect(boom).toMatchObject({ status: 500, body: { error: 'server_error' } });
    expect(JSON.stringify(boom.body)).not.toContain('secret');
    const json = { method: 'POST', headers: { ...(await bearer()), 'content-type': 'application/json' } };
    expect((await both('/echo', { ...json, body: '{"a":' })).status).toBe(400);
    expect((await both('/echo', { ...json, body: JSON.stringify({ a: 'x'.repeat(110_000) }) })).status).toBe(413);
  });

  it('the RFC 9728 document with the same caching headers', async () => {
    const reply = await both('/.well-known/oauth-protected-resource');
    expect(reply).toMatchObject({ status: 200, body: { resource: '<base>' }, headers: { 'cache-control': 'private, max-age=300' } });
  });

  it('framing: two Host lines → 400 with the JSON body', async () => {
    const raw = async (base: string) =>
      new Promise<{ status: number; body: string }>((resolve, reject) => {
        const url = new URL(base);
        const req = httpRequest(
          {
            host: url.hostname,
            port: url.port,
            path: '/me',
            headers: [
              ['Host', url.host],
              ['Host', 'evil.example'],
            ] as unknown as Record<string, string>,
          },
          (res) => {
            let body = '';
            res.on('data', (chunk) => (body += chunk));
            res.on('end', () => resolve({ status: res.statusCode!, body }));
          },
        );
        req.on('error', reject);
        req.end();
      });
    const [koa, express] = await Promise.all([raw(koaBase), raw(expressBase)]);
    expect(koa.status).toBe(400);
    expect(JSON.parse(koa.body)).toEqual(JSON.parse(express.body));
  });
});

describe('the trustProxy option', () => {
  it('a form Express would refuse fails at start-up with a ConfigurationError naming the option, as on hapi', () => {
    expect(() => createKoaAuth0Api(options(), { trustProxy: 'not-an-ip' })).toThrow(/invalid option "trustProxy": invalid IP address: not-an-ip/);
  });
});
