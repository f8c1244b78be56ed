/**
 * The Express adapter's authorization beyond scopes, on plain Express 5 routes: `requireAuth({ optional: true })`
 * with `getOptionalAuth` (anonymous only without credentials; failing credentials refused as on a protected route),
 * `requireAuth({ policy })` with the organization read from the route's path parameter and claim rules, the
 * 401-before-403 order, policy names checked when the middleware is created, and the typed `authorize` overloads.
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, expectTypeOf, it } from 'vitest';
import express, { type Request } from 'express';
import { createAuth0Api, errorHandler, getAuth, getOptionalAuth, type Auth0Api, type AuthResult } from '../../src/express/index.js';
import { claimCheck, claimIncludes, ConfigurationError, type AccessTokenClaims } from '../../src/core/index.js';
import { TestIssuer } from '../support/test-issuer.js';
import { parseChallenges } from '../support/demo.js';

const AUDIENCE = 'https://api.example.com';

interface TeamClaims extends AccessTokenClaims {
  roles?: string[];
  team?: string;
}

let issuer: TestIssuer;
let auth0: Auth0Api;
let server: Server;
let base: string;
const serverErrors: unknown[] = [];
/** Reasons of the rejections the API reported through onEvent: they tell which check refused. */
const reasons: string[] = [];

function buildApp(): express.Express {
  const app = express();
  app.use(express.json());
  auth0.install(app);

  app.get('/feed', auth0.requireAuth({ optional: true }), (req, res) => {
    const auth = getOptionalAuth<TeamClaims>(req);
    expectTypeOf(auth).toEqualTypeOf<AuthResult<TeamClaims> | undefined>();
    res.json({ user: auth?.claims.sub ?? null, team: auth?.claims.team ?? null });
  });
  app.get('/feed/scoped', auth0.requireAuth({ optional: true, scopes: 'read:feed' }), (req, res) => {
    res.json({ user: getOptionalAuth(req)?.claims.sub ?? null });
  });
  app.get('/orgs/:orgId/reports', auth0.requireAuth({ policy: 'orgAdmin' }), (req, res) => {
    res.json({ org: req.params.orgId, sub: getAuth(req).claims.sub });
  });
  app.get('/orgs/:orgId/optional', auth0.requireAuth({ policy: 'orgAdmin', optional: true }), (req, res) => {
    res.json({ user: getOptionalAuth(req)?.claims.sub ?? null });
  });
  app.get('/misrouted', auth0.requireAuth({ policy: 'orgAdmin' }), (_req, res) => {
    res.json({ reached: true });
  });
  app.get('/team', auth0.requireAuth({ policy: 'teamLead', scopes: ['read:team'] }), (_req, res) => {
    res.json({ ok: true });
  });
  app.get('/forgot-protection', (req, res) => {
    res.json({ user: getOptionalAuth(req)?.claims.sub ?? null });
  });
  app.get('/authorize-direct/:orgId', async (req: Request, res, next) => {
    try {
      const optional = await auth0.authorize<TeamClaims>(req, { optional: true, policy: 'orgAdmin' });
      expectTypeOf(optional).toEqualTypeOf<AuthResult<TeamClaims> | undefined>();
      res.json({ user: optional?.claims.sub ?? null });
    } catch (error) {
      next(error);
    }
  });
  app.use(errorHandler({ onError: (error) => serverErrors.push(error) }));
  return app;
}

beforeAll(async () => {
  issuer = await TestIssuer.start();
  auth0 = createAuth0Api({
    domain: issuer.origin,
    audience: AUDIENCE,
    onEvent: (event) => void (event.type === 'request_rejected' && reasons.push(event.reason)),
    policies: {
      orgAdmin: { scopes: ['read:reports'], organization: { param: 'orgId' }, claims: [claimIncludes('roles', 'admin')] },
      teamLead: { claims: [claimCheck<TeamClaims>((c) => c.team === 'blue' && c.roles?.includes('lead') === true, 'blue team lead')] },
    },
  });
  server = buildApp().listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  server?.closeAllConnections();
  await new Promise((resolve) => server?.close(resolve));
  await issuer?.close();
});

async function call(path: string, headers: Record<string, string> = {}) {
  const response = await fetch(`${base}${path}`, { headers });
  return { status: response.status, body: (await response.json()) as Record<string, unknown>, challenges: parseChallenges(response.headers.get('www-authenticate')) };
}
const bearer = async (claims: Record<string, unknown> = {}) => ({ authorization: `Bearer ${await issuer.token(AUDIENCE, claims)}` });

describe('requireAuth({ optional: true })', () => {
  it('no Authorization header → the handler runs anonymously (getOptionalAuth is undefined)', async () => {
    expect(await call('/feed')).toMatchObject({ status: 200, body: { user: null, team: null }, challenges: [] });
  });

  it('a valid token → the handler sees its typed claims', async () => {
    expect(await call('/feed', await bearer({ sub: 'auth0|ann', team: 'blue' }))).toMatchObject({ status: 200, body: { user: 'auth0|ann', team: 'blue' } });
  });

  it.each<[string, Record<string, string>, string, number, string]>([
    ['an invalid token', { authorization: 'Bearer a.b.c' }, '', 401, 'invalid_token'],
    ['a malformed header', { authorization: 'Bearer a b' }, '', 400, 'invalid_request'],
    ['an unsupported scheme', { authorization: 'Basic dXNlcjpwYXNz' }, '', 401, 'unauthorized'],
    ['a token only in the query string', {}, '?access_token=abc', 401, 'unauthorized'],
    ['the DPoP scheme without a proof', { authorization: 'DPoP abc' }, '', 400, 'invalid_request'],
  ])('%s → %i %s, never anonymous', async (_what, headers, query, status, code) => {
    const reply = await call(`/feed${query}`, headers);
    expect(reply.status).toBe(status);
    expect(reply.body).toEqual({ error: code, error_description: expect.any(String) });
    expect(reply.challenges.map((c) => c.scheme)).toEqual(['Bearer', 'DPoP']);
  });

  it('an expired token → 401 invalid_token', async () => {
    const reply = await call('/feed', await bearer({ exp: Math.floor(Date.now() / 1000) - 60 }));
    expect(reply).toMatchObject({ status: 401, body: { error: 'invalid_token' } });
  });

  it('scopes still apply to callers that present a token; anonymous ones pass', async () => {
    expect((await call('/feed/scoped')).status).toBe(200);
    const reply = await call('/feed/scoped', await bearer({ scope: 'openid' }));
    expect(reply.status).toBe(403);
    expect(reply.challenges[0]!.params).toMatchObject({ error: 'insufficient_scope', scope: 'read:feed' });
    expect((await call('/feed/scoped', await bearer({ scope: 'read:feed' }))).status).toBe(200);
  });

  it('an optional policy serves anonymous callers and judges tokens by the whole policy', async () => {
    expect(await call('/orgs/acme/optional')).toMatchObject({ status: 200, body: { user: null } });
    expect((await call('/orgs/acme/optional', await bearer({ scope: 'read:reports', org_name: 'globex', roles: ['admin'] }))).status).toBe(403);
    expect((await call('/orgs/acme/optional', await bearer({ scope: 'read:reports', org_name: 'acme', roles: ['admin'] }))).status).toBe(200);
  });

  it('authorize(req, { optional: true }) resolves undefined for anonymous callers', async () => {
    expect(await call('/authorize-direct/acme')).toMatchObject({ status: 200, body: { user: null } });
  });

  it('getOptionalAuth on a route with no authentication is a 500 (a programming error), logged', async () => {
    serverErrors.length = 0;
    const reply = await call('/forgot-protection', await bearer());
    expect(reply.status).toBe(500);
    expect(reply.body.error).toBe('server_error');
    expect(String(serverErrors[0])).toMatch(/getOptionalAuth: this route has no authentication; use @Security\('auth0-optional'\) or requireAuth\(\{ optional: true \}\)/);
  });
});

describe('requireAuth({ policy }): scopes, organization from the path, claim rules', () => {
  const member = { scope: 'read:reports', org_id: 'org_abc123', org_name: 'acme', roles: ['admin'] };

  it.each([
    ['the organization name', '/orgs/acme/reports'],
    ['the name in another case', '/orgs/Acme/reports'],
    ['the organization ID', '/orgs/org_abc123/reports'],
  ])('grants a member when the path names %s', async (_what, path) => {
    expect(await call(path, await bearer(member))).toMatchObject({ status: 200, body: { sub: 'auth0|user-1' } });
  });

  it.each<[string, string, Record<string, unknown>, string, string | undefined]>([
    ['another organization', '/orgs/globex/reports', member, 'organization.mismatch', undefined],
    ['an ID in another case', '/orgs/ORG_abc123/reports', member, 'organization.mismatch', undefined],
    ['a token without organization', '/orgs/acme/reports', { scope: 'read:reports', roles: ['admin'] }, 'organization.mismatch', undefined],
    ['a token without the role', '/orgs/acme/reports', { ...member, roles: ['viewer'] }, 'claims.rejected', undefined],
    ['a token without the scope (and wrong organization: scope wins)', '/orgs/globex/reports', { ...member, scope: 'openid' }, 'scope.insufficient', 'read:reports'],
  ])('refuses %s → 403 insufficient_scope (%s), scope attribute %s', async (_what, path, claims, reason, scope) => {
    const reply = await call(path, await bearer(claims));
    expect(reasons.at(-1)).toBe(reason);
    expect(reply.status).toBe(403);
    expect(reply.body.error).toBe('insufficient_scope');
    expect(reply.challenges[0]!.scheme).toBe('Bearer');
    expect(reply.challenges[0]!.params.error).toBe('insufficient_scope');
    expect(reply.challenges[0]!.params.scope).toBe(scope);
  });

  it('401 comes before any 403: no token, or an invalid one, on a route the caller could never pass', async () => {
    const none = await call('/orgs/globex/reports');
    expect(none.status).toBe(401);
    expect(none.challenges[0]!.params.error).toBeUndefined();
    expect((await call('/orgs/globex/reports', { authorization: 'Bearer a.b.c' })).body.error).toBe('invalid_token');
  });

  it('a claimCheck predicate, typed with the claims, combined with the route’s own scopes', async () => {
    expect((await call('/team', await bearer({ scope: 'read:team', team: 'blue', roles: ['lead'] }))).status).toBe(200);
    const wrongTeam = await call('/team', await bearer({ scope: 'read:team', team: 'red', roles: ['lead'] }));
    expect(wrongTeam.status).toBe(403);
    expect(wrongTeam.challenges[0]!.params.scope).toBeUndefined();
    const noScope = await call('/team', await bearer({ team: 'blue', roles: ['lead'] }));
    expect(noScope.challenges[0]!.params.scope).toBe('read:team');
  });

  it('a policy with an organization parameter on a route without it → 500 for every caller, logged with the fix', async () => {
    serverErrors.length = 0;
    const reply = await call('/misrouted', await bearer(member));
    expect(reply.status).toBe(500);
    expect(reply.body).toEqual({ error: 'server_error', error_description: 'Internal server error' });
    expect(String(serverErrors[0])).toMatch(/policies\.orgAdmin\.organization.*no path parameter "orgId"/);
  });

  it('an unknown policy name throws when the middleware is created (start-up), one line naming the fix', () => {
    expect(() => auth0.requireAuth({ policy: 'orgAdmn' })).toThrow(ConfigurationError);
    expect(() => auth0.requireAuth({ policy: 'orgAdmn' })).toThrow(/^auth0-tsoa-api: invalid option "policies": no policy named "orgAdmn".*\(defined: orgAdmin, teamLead\)$/);
  });

  it('authorize() with an unknown policy rejects with a 500 error before looking at the request', async () => {
    const error = await auth0.authorize({} as Request, { policy: 'nope' }).then(
      () => undefined,
      (e: unknown) => e as { status?: number; message: string },
    );
    expect(error?.status).toBe(500);
    expect(error?.message).toMatch(/no policy named "nope"/);
  });

  it('bad policies fail createAuth0Api at start-up', () => {
    expect(() => createAuth0Api({ domain: issuer.origin, audience: AUDIENCE, policies: { admin: { claims: ['roles'] as never } } })).toThrow(/"policies\.admin\.claims"/);
  });
});
