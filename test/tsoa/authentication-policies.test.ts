/**
 * Security names of `createExpressAuthentication()` beyond the schemes, called on real Express requests
 * the way tsoa's generated middleware calls them: `<name>-optional` resolves undefined (tsoa's `request.user`) only
 * without credentials and keeps the meaning of `<name>` otherwise (`bearer-optional` still refuses DPoP); policy names
 * check the policy plus the decorator's scopes, with the organization from the route's path parameter; unknown and
 * ambiguous names reject with a 500 Error (tsoa keeps its status) whose message names the fix.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import express, { type Request } from 'express';
import { calculateThumbprint, generateKeyPair, generateProof } from 'dpop';
import { createExpressAuthentication, type ExpressAuthentication } from '../../src/tsoa/index.js';
import { createAuth0Api, type Auth0Api } from '../../src/express/index.js';
import { claimIncludes } from '../../src/core/index.js';
import type { AuthError } from '../../src/core/errors.js';
import { TestIssuer } from '../support/test-issuer.js';
import { appServers } from '../support/helpers.js';

const AUDIENCE = 'https://api.example.com';

interface Call {
  name: string;
  scopes?: string[];
}

let issuer: TestIssuer;
let auth0: Auth0Api;
let base: string;
const servers = appServers();
let plan: Call[] = [];
let outcome: PromiseSettledResult<unknown>[] = [];

/** An app whose route `/orgs/:orgId/x` runs the planned calls in parallel, as tsoa's generated middleware does. */
async function serve(authenticate: ExpressAuthentication): Promise<string> {
  const app = express();
  auth0.install(app);
  app.get('/orgs/:orgId/x', async (req: Request, res) => {
    outcome = await Promise.allSettled(plan.map((c) => authenticate(req, c.name, c.scopes)));
    res.status(204).end();
  });
  return servers.listen(app);
}

beforeAll(async () => {
  issuer = await TestIssuer.start();
  auth0 = createAuth0Api({
    domain: issuer.origin,
    audience: AUDIENCE,
    policies: {
      orgMember: { organization: { param: 'orgId' } },
      admin: { scopes: ['read:admin'], claims: [claimIncludes('roles', 'admin')] },
    },
  });
  base = await serve(createExpressAuthentication());
});
afterAll(async () => {
  await servers.close();
  await issuer?.close();
});

async function run(calls: Call[], headers: Record<string, string> = {}, org = 'acme', url = base): Promise<PromiseSettledResult<unknown>[]> {
  plan = calls;
  outcome = [];
  const response = await fetch(`${url}/orgs/${org}/x`, { headers });
  expect(response.status).toBe(204);
  return outcome;
}

const bearer = async (claims: Record<string, unknown> = {}) => ({ authorization: `Bearer ${await issuer.token(AUDIENCE, claims)}` });
const valueOf = (r: PromiseSettledResult<unknown>) => {
  expect(r.status).toBe('fulfilled');
  return (r as PromiseFulfilledResult<unknown>).value;
};
const reasonOf = (r: PromiseSettledResult<unknown>) => {
  expect(r.status).toBe('rejected');
  return (r as PromiseRejectedResult).reason as AuthError;
};

describe("'-optional' names", () => {
  it.each(['auth0-optional', 'bearer-optional', 'dpop-optional', 'orgMember-optional', 'admin-optional'])('%s without credentials → undefined (request.user)', async (name) => {
    const [result] = await run([{ name, scopes: ['read:anything'] }]);
    expect(valueOf(result!)).toBeUndefined();
  });

  it('with a valid token → its claims, as without the suffix', async () => {
    const [optional, plain] = await run([{ name: 'auth0-optional' }, { name: 'auth0' }], await bearer({ sub: 'auth0|ann' }));
    expect(valueOf(optional!)).toMatchObject({ sub: 'auth0|ann' });
    expect(valueOf(optional!)).toBe(valueOf(plain!));
  });

  it.each<[string, Record<string, string>, number, string]>([
    ['an invalid token', { authorization: 'Bearer a.b.c' }, 401, 'invalid_token'],
    ['a malformed header', { authorization: 'Bearer a b' }, 400, 'invalid_request'],
    ['an unsupported scheme', { authorization: 'Basic dXNlcjpwYXNz' }, 401, 'unauthorized'],
  ])('with %s → %i %s (never anonymous)', async (_what, headers, status, code) => {
    const [result] = await run([{ name: 'auth0-optional' }], headers);
    expect(reasonOf(result!)).toMatchObject({ status, code });
  });

  it('keeps the scope check for callers with a token', async () => {
    const [result] = await run([{ name: 'auth0-optional', scopes: ['read:x'] }], await bearer({ scope: 'openid' }));
    expect(reasonOf(result!)).toMatchObject({ status: 403, code: 'insufficient_scope', requiredScopes: ['read:x'] });
  });

  it("'bearer-optional' still accepts only Bearer, 'dpop-optional' only DPoP", async () => {
    const keyPair = await generateKeyPair('ES256');
    const token = await issuer.token(AUDIENCE, { cnf: { jkt: await calculateThumbprint(keyPair.publicKey) } });
    const proof = await generateProof(keyPair, `${base}/orgs/acme/x`, 'GET', undefined, token);
    const [bearerOnly, dpopOnly] = await run([{ name: 'bearer-optional' }, { name: 'dpop-optional' }], { authorization: `DPoP ${token}`, dpop: proof });
    expect(reasonOf(bearerOnly!)).toMatchObject({ status: 401, code: 'unauthorized', reason: 'credentials.scheme_not_accepted' });
    expect(valueOf(dpopOnly!)).toMatchObject({ sub: 'auth0|user-1' });
  });

  it("'orgMember-optional' judges a token by the policy", async () => {
    const [wrong] = await run([{ name: 'orgMember-optional' }], await bearer({ org_name: 'globex' }));
    expect(reasonOf(wrong!)).toMatchObject({ status: 403, reason: 'organization.mismatch', requiredScopes: undefined });
    const [right] = await run([{ name: 'orgMember-optional' }], await bearer({ org_name: 'acme' }));
    expect(valueOf(right!)).toMatchObject({ org_name: 'acme' });
  });
});

describe('policy names', () => {
  it('orgMember: the organization comes from the path parameter {orgId}', async () => {
    const token = await bearer({ org_id: 'org_abc123', org_name: 'acme', scope: 'read:messages' });
    expect(valueOf((await run([{ name: 'orgMember', scopes: ['read:messages'] }], token, 'acme'))[0]!)).toMatchObject({ org_id: 'org_abc123' });
    expect(valueOf((await run([{ name: 'orgMember', scopes: ['read:messages'] }], token, 'org_abc123'))[0]!)).toMatchObject({ org_id: 'org_abc123' });
    expect(reasonOf((await run([{ name: 'orgMember', scopes: ['read:messages'] }], token, 'globex'))[0]!)).toMatchObject({ status: 403, reason: 'organization.mismatch' });
  });

  it("the decorator's scopes are added to the policy's: both must be granted, and a missing scope wins", async () => {
    const call = { name: 'admin', scopes: ['write:admin'] };
    expect(valueOf((await run([call], await bearer({ scope: 'read:admin write:admin', roles: ['admin'] })))[0]!)).toBeDefined();
    expect(reasonOf((await run([call], await bearer({ scope: 'write:admin', roles: [] })))[0]!)).toMatchObject({ reason: 'scope.insufficient', requiredScopes: ['read:admin', 'write:admin'] });
    expect(reasonOf((await run([call], await bearer({ scope: 'read:admin write:admin', roles: ['viewer'] })))[0]!)).toMatchObject({ status: 403, reason: 'claims.rejected', requiredScopes: undefined });
  });

  it('401 comes before 403 for a policy name', async () => {
    expect(reasonOf((await run([{ name: 'admin' }]))[0]!)).toMatchObject({ status: 401, code: 'unauthorized' });
  });
});

describe('unknown and ambiguous names', () => {
  it.each(['amdin', 'amdin-optional', '-optional', 'auth0-optional-optional'])("@Security('%s') → Error with status 500 naming the choices", async (name) => {
    const error = reasonOf((await run([{ name }], await bearer()))[0]!);
    expect(error).toBeInstanceOf(Error);
    expect(error.status).toBe(500);
    expect(error.message).toBe(`expressAuthentication: no handler for @Security('${name}'); use 'auth0', 'bearer', 'dpop' or a policy of createAuth0Api({ policies }), optionally followed by '-optional'`);
  });

  it('a general security name that is also a policy → 500, rename the policy', async () => {
    const url = await serve(createExpressAuthentication(undefined, { securityNames: ['admin'] }));
    const error = reasonOf((await run([{ name: 'admin' }], await bearer(), 'acme', url))[0]!);
    expect(error.status).toBe(500);
    expect(error.message).toMatch(/"admin" is both a general security name and a policy/);
  });
});
