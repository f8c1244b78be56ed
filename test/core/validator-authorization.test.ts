/**
 * The validator's authorization step and optional authentication, against a real local issuer (TestIssuer):
 * `authorize(verified, requirement, facts)` turns each denial into its AuthError (403 `insufficient_scope`, with
 * `scope="…"` only for scopes; reasons `scope.insufficient`, `organization.mismatch`, `claims.rejected` reported
 * through onEvent), on the scheme the client used; `isAnonymous` (then `verifyRequest`) serves only requests with no
 * credentials at all and judge everything else exactly as `verifyRequest`.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createValidator, claimIncludes, type AuthEvent, type RequestContext } from '../../src/core/index.js';
import { AuthError } from '../../src/core/errors.js';
import { errorResponse } from '../../src/core/http/error-response.js';
import { PolicySetupError, requirementOf } from '../../src/core/authorization/policies.js';
import type { ApiValidator } from '../../src/core/validator.js';
import { TestIssuer } from '../support/test-issuer.js';
import { parseChallenges } from '../support/demo.js';

const AUDIENCE = 'https://api.example.com';
const URL_ = 'http://api.test:8080/orgs/acme/messages';

let issuer: TestIssuer;
let validator: ApiValidator;
const events: AuthEvent[] = [];

beforeAll(async () => {
  issuer = await TestIssuer.start();
  validator = createValidator({
    domain: issuer.origin,
    audience: AUDIENCE,
    onEvent: (event) => void events.push(event),
    policies: {
      orgAdmin: { scopes: ['read:messages'], organization: { param: 'orgId' }, claims: [claimIncludes('roles', 'admin')] },
    },
  });
});
afterAll(async () => {
  await issuer?.close();
});

function request(authorization?: string, extra: Partial<RequestContext> = {}): RequestContext {
  return { method: 'GET', url: URL_, headers: authorization === undefined ? {} : { authorization }, ...extra };
}

async function verified(claims: Record<string, unknown>) {
  return validator.verifyRequest(request(`Bearer ${await issuer.token(AUDIENCE, claims)}`));
}

/** Runs `authorize` and returns the AuthError it throws, with its parsed challenges. */
function denied(run: () => void) {
  let caught: unknown;
  try {
    run();
  } catch (error) {
    caught = error;
  }
  expect(caught).toBeInstanceOf(AuthError);
  const error = caught as AuthError;
  const response = errorResponse(error, validator.responseFacts(URL_));
  return { error, response, challenges: parseChallenges(response.headers['WWW-Authenticate'] ?? null) };
}

describe('authorize: each denial and its answer', () => {
  const requirement = () => requirementOf(validator.policy('orgAdmin'), undefined);
  const facts = { params: { orgId: 'acme' } };
  const all = { scope: 'read:messages', org_name: 'acme', roles: ['admin'] };

  it('grants a token that satisfies the policy', async () => {
    const result = await verified(all);
    expect(() => validator.authorize(result, requirement(), facts)).not.toThrow();
  });

  it('missing scope → 403 insufficient_scope with scope="…" on Bearer (reason scope.insufficient), even when the rest fails too', async () => {
    events.length = 0;
    const result = await verified({ scope: 'read:data' });
    const { error, response, challenges } = denied(() => validator.authorize(result, requirement(), facts));
    expect({ status: error.status, code: error.code, reason: error.reason }).toEqual({ status: 403, code: 'insufficient_scope', reason: 'scope.insufficient' });
    expect(response.body).toEqual({ error: 'insufficient_scope', error_description: 'The access token lacks a required scope' });
    expect(challenges[0]).toMatchObject({ scheme: 'Bearer', params: { error: 'insufficient_scope', scope: 'read:messages' } });
    expect(challenges[1]!.params.error).toBeUndefined();
    expect(events).toEqual([expect.objectContaining({ type: 'request_rejected', reason: 'scope.insufficient', status: 403 })]);
  });

  it('wrong organization → 403 insufficient_scope without a scope attribute (reason organization.mismatch)', async () => {
    events.length = 0;
    const result = await verified({ ...all, org_name: 'globex' });
    const { error, response, challenges } = denied(() => validator.authorize(result, requirement(), facts));
    expect({ status: error.status, code: error.code, reason: error.reason }).toEqual({ status: 403, code: 'insufficient_scope', reason: 'organization.mismatch' });
    expect(response.body.error).toBe('insufficient_scope');
    expect(challenges[0]!.scheme).toBe('Bearer');
    expect(challenges[0]!.params.error).toBe('insufficient_scope');
    expect('scope' in challenges[0]!.params).toBe(false);
    expect(events.map((e) => e.type === 'request_rejected' && e.reason)).toEqual(['organization.mismatch']);
  });

  it('failing claim rule → 403 insufficient_scope without a scope attribute (reason claims.rejected)', async () => {
    const result = await verified({ ...all, roles: ['viewer'] });
    const { error, challenges } = denied(() => validator.authorize(result, requirement(), facts));
    expect({ status: error.status, code: error.code, reason: error.reason }).toEqual({ status: 403, code: 'insufficient_scope', reason: 'claims.rejected' });
    expect(challenges[0]!.params.error).toBe('insufficient_scope');
    expect('scope' in challenges[0]!.params).toBe(false);
    expect(error.description).not.toContain('admin'); // the rule itself is not disclosed to clients
  });

  it('the error goes on the DPoP challenge when the client used DPoP', async () => {
    const result = { ...(await verified({ ...all, org_name: 'globex' })), scheme: 'dpop' as const };
    const { challenges } = denied(() => validator.authorize(result, requirement(), facts));
    expect(challenges[0]!.params.error).toBeUndefined();
    expect(challenges[1]).toMatchObject({ scheme: 'DPoP', params: { error: 'insufficient_scope', algs: 'ES256' } });
    expect('scope' in challenges[1]!.params).toBe(false);
  });

  it('a route without {orgId} is a PolicySetupError (500), not a client error', async () => {
    const result = await verified(all);
    expect(() => validator.authorize(result, requirement(), { params: {} })).toThrow(PolicySetupError);
  });

  it('scopes alone: every one required, named on the challenge', async () => {
    const result = await verified({ scope: 'read:x' });
    expect(() => validator.authorize(result, { scopes: ['read:x'] })).not.toThrow();
    expect(denied(() => validator.authorize(result, { scopes: ['read:x', 'write:x'] })).challenges[0]!.params.scope).toBe('read:x write:x');
  });

  it('an unknown policy name names the fix', () => {
    expect(() => validator.policy('admin')).toThrow(/no policy named "admin".*\(defined: orgAdmin\)/);
  });
});

describe('isAnonymous: only a request with no credentials at all', () => {
  it.each<[string, RequestContext, boolean]>([
    ['no Authorization header', request(), true],
    ['a blank Authorization header', request(''), true],
    ['an Authorization header of spaces', request('   '), true],
    ['only a DPoP header', request(undefined, { headers: { dpop: 'x.y.z' } }), true],
    ['a token only in the query or body', request(undefined, { tokenOutsideHeader: true }), false],
    ['a Bearer token', request('Bearer abc'), false],
    ['a malformed header', request('Bearer a b'), false],
    ['Bearer without a token', request('Bearer'), false],
    ['an unsupported scheme', request('Basic dXNlcjpwYXNz'), false],
    ['two Authorization headers', request(undefined, { headers: { authorization: ['Bearer a', 'Bearer b'] } }), false],
  ])('%s → %s', (_what, context, expected) => {
    expect(validator.isAnonymous(context)).toBe(expected);
  });
});

/** What the adapters do for optional authentication: anonymous only without any credentials, else verifyRequest. */
function verifyOptional(context: RequestContext) {
  return validator.isAnonymous(context) ? Promise.resolve(undefined) : validator.verifyRequest(context);
}

describe('optional authentication: isAnonymous, then verifyRequest', () => {
  it('resolves undefined without credentials, and reports no rejection', async () => {
    events.length = 0;
    await expect(verifyOptional(request())).resolves.toBeUndefined();
    expect(events).toEqual([]);
  });

  it('verifies credentials that are sent', async () => {
    const token = await issuer.token(AUDIENCE, { sub: 'auth0|someone' });
    expect((await verifyOptional(request(`Bearer ${token}`)))?.claims.sub).toBe('auth0|someone');
  });

  it.each<[string, () => Promise<RequestContext>, number, string]>([
    ['an invalid token', async () => request('Bearer not-a-jwt'), 401, 'invalid_token'],
    ['an expired token', async () => request(`Bearer ${await issuer.token(AUDIENCE, { exp: 1 })}`), 401, 'invalid_token'],
    ['a token for another audience', async () => request(`Bearer ${await issuer.token('https://other.example.com')}`), 401, 'invalid_token'],
    ['a token only in the query', async () => request(undefined, { tokenOutsideHeader: true }), 401, 'unauthorized'],
    ['an unsupported scheme', async () => request('Basic dXNlcjpwYXNz'), 401, 'unauthorized'],
    ['a malformed header', async () => request('Bearer a b'), 400, 'invalid_request'],
    ['the DPoP scheme without a proof', async () => request('DPoP abc'), 400, 'invalid_request'],
  ])('refuses %s exactly as verifyRequest does (never anonymous)', async (_what, make, status, code) => {
    const context = await make();
    const optional = await verifyOptional(context).then(
      () => undefined,
      (e: unknown) => e as AuthError,
    );
    const required = await validator.verifyRequest(context).then(
      () => undefined,
      (e: unknown) => e as AuthError,
    );
    expect(optional).toBeInstanceOf(AuthError);
    expect({ status: optional!.status, code: optional!.code }).toEqual({ status, code });
    expect({ status: optional!.status, code: optional!.code, reason: optional!.reason, scheme: optional!.scheme }).toEqual({
      status: required!.status,
      code: required!.code,
      reason: required!.reason,
      scheme: required!.scheme,
    });
  });
});
