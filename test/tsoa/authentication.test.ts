/**
 * tsoa's `expressAuthentication` from `createExpressAuthentication()`, called on real Express requests the way the
 * generated middleware calls it: every OR'd `@Security` alternative in parallel. Verification is memoized per
 * request (one check, one DPoP `jti` record); rejections are AuthErrors (Error objects with `status` and `code`)
 * whose response the error handler computes. Security names mean what they say.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it, vi, type MockInstance } from 'vitest';
import express, { type Request } from 'express';
import { calculateThumbprint, generateKeyPair, generateProof } from 'dpop';
import { createExpressAuthentication, type ExpressAuthentication } from '../../src/tsoa/index.js';
import { createAuth0Api, type Auth0Api } from '../../src/express/index.js';
import { errorResponse } from '../../src/core/http/error-response.js';
import type { AuthError } from '../../src/core/errors.js';
import { TestIssuer } from '../support/test-issuer.js';
import { appServers } from '../support/helpers.js';
import { parseChallenges } from '../support/challenges.js';

const AUDIENCE = 'https://api.example.com';

interface Call {
  name: string;
  scopes?: string[];
}

let issuer: TestIssuer;
let auth0: Auth0Api;
let base: string;
const servers = appServers();
/** What the last request's parallel calls settled to, read back by the test (same process). */
let outcome: PromiseSettledResult<unknown>[] = [];
let spy: MockInstance;

/** An app whose route runs `calls` in parallel through `authenticate`, as tsoa's generated middleware does. */
async function serve(authenticate: ExpressAuthentication, install: boolean, calls: () => Call[]): Promise<string> {
  const app = express();
  if (install) auth0.install(app);
  app.get('/secured', async (req: Request, res) => {
    outcome = await Promise.allSettled(calls().map((c) => authenticate(req, c.name, c.scopes)));
    res.status(204).end();
  });
  return servers.listen(app);
}

let plan: Call[] = [];

beforeAll(async () => {
  issuer = await TestIssuer.start();
  auth0 = createAuth0Api({ domain: issuer.origin, audience: AUDIENCE });
  base = await serve(createExpressAuthentication(), true, () => plan);
});
afterAll(async () => {
  await servers.close();
  await issuer?.close();
});
afterEach(() => {
  spy?.mockRestore();
});

/** Spies on the real validator (it still runs) to count verifications. */
function countVerifications(): MockInstance {
  spy = vi.spyOn(auth0.validator, 'verifyRequest');
  return spy;
}

async function run(calls: Call[], headers: Record<string, string> = {}, url = base): Promise<PromiseSettledResult<unknown>[]> {
  plan = calls;
  outcome = [];
  const response = await fetch(`${url}/secured`, { headers });
  expect(response.status).toBe(204);
  return outcome;
}

const bearer = async (claims: Record<string, unknown> = {}) => ({ authorization: `Bearer ${await issuer.token(AUDIENCE, claims)}` });
const reasonOf = (r: PromiseSettledResult<unknown>) => (r as PromiseRejectedResult).reason as AuthError;
/** The challenge the error handler would send for a rejection. */
const challengeOf = (error: AuthError) => errorResponse(error, auth0.validator.responseFacts(`${base}/secured`)).headers['WWW-Authenticate']!;

describe('memoization per request', () => {
  it('verifies once for parallel alternatives and gives each the same claims', async () => {
    const calls = countVerifications();
    const [a, b] = await run([{ name: 'auth0' }, { name: 'bearer' }], await bearer());
    expect(a!.status).toBe('fulfilled');
    expect(b!.status).toBe('fulfilled');
    const claims = (a as PromiseFulfilledResult<{ sub: string }>).value;
    expect(claims.sub).toBe('auth0|user-1');
    expect((b as PromiseFulfilledResult<unknown>).value).toBe(claims);
    expect(calls).toHaveBeenCalledTimes(1);
  });

  it('records a DPoP proof once: parallel alternatives do not replay it against each other', async () => {
    const keyPair = await generateKeyPair('ES256');
    const token = await issuer.token(AUDIENCE, { cnf: { jkt: await calculateThumbprint(keyPair.publicKey) } });
    const proof = await generateProof(keyPair, `${base}/secured`, 'GET', undefined, token);
    const calls = countVerifications();
    const results = await run([{ name: 'auth0' }, { name: 'dpop' }, { name: 'bearer' }], { authorization: `DPoP ${token}`, dpop: proof });
    // 'bearer' accepts only the Bearer scheme: refused after the one shared verification.
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'fulfilled', 'rejected']);
    expect(reasonOf(results[2]!)).toMatchObject({ status: 401, code: 'unauthorized', reason: 'credentials.scheme_not_accepted' });
    expect(calls).toHaveBeenCalledTimes(1);
    // A second request with the same proof is a replay: memoization is per request, not per token.
    const again = await run([{ name: 'auth0' }], { authorization: `DPoP ${token}`, dpop: proof });
    expect(reasonOf(again[0]!)).toMatchObject({ status: 401, code: 'invalid_dpop_proof' });
  });

  it('checks scopes per alternative on the one verification', async () => {
    const calls = countVerifications();
    const [scoped, plain] = await run(
      [
        { name: 'auth0', scopes: ['write:x'] },
        { name: 'bearer', scopes: [] },
      ],
      await bearer({ scope: 'read:x' }),
    );
    expect(plain!.status).toBe('fulfilled');
    const error = reasonOf(scoped!);
    expect(error).toBeInstanceOf(Error);
    expect(error.status).toBe(403);
    expect(parseChallenges(challengeOf(error))[0]).toMatchObject({ params: { error: 'insufficient_scope', scope: 'write:x' } });
    expect(calls).toHaveBeenCalledTimes(1);
  });
});

describe('rejections are Error objects with status and code', () => {
  it.each([
    ['no token', {}, 401, 'unauthorized'],
    ['an invalid token', { authorization: 'Bearer a.b.c' }, 401, 'invalid_token'],
    ['a malformed header', { authorization: 'Bearer a b' }, 400, 'invalid_request'],
  ])('%s → %i, the same error for every alternative', async (_what, headers, status, code) => {
    const calls = countVerifications();
    const [a, b] = await run([{ name: 'auth0' }, { name: 'bearer' }], headers);
    const error = reasonOf(a!);
    expect(error).toBeInstanceOf(Error);
    expect(reasonOf(b!)).toBe(error);
    expect(error).toMatchObject({ status, statusCode: status, code });
    expect(parseChallenges(challengeOf(error)).map((c) => c.scheme)).toEqual(['Bearer', 'DPoP']);
    expect(calls).toHaveBeenCalledTimes(1);
  });

  it('an unknown security name → Error with status 500, without verifying anything', async () => {
    const calls = countVerifications();
    const [result] = await run([{ name: 'api_key' }], await bearer());
    const error = reasonOf(result!);
    expect(error).toBeInstanceOf(Error);
    expect(error.status).toBe(500);
    expect(error.message).toMatch(/api_key/);
    expect(calls).not.toHaveBeenCalled();
  });

  it('a security name is judged once per Auth0Api, and an unknown one fails every time with a fresh error', async () => {
    const [first] = await run([{ name: 'api_key' }], await bearer());
    const [second, known] = await run([{ name: 'api_key' }, { name: 'auth0' }], await bearer());
    expect(reasonOf(first!)).toMatchObject({ status: 500, message: expect.stringMatching(/api_key/) });
    expect(reasonOf(second!)).toMatchObject({ status: 500, message: reasonOf(first!).message });
    expect(reasonOf(second!)).not.toBe(reasonOf(first!));
    expect(known!.status).toBe('fulfilled');
    // Names that are properties of every object are still unknown names, not schemes.
    const [proto] = await run([{ name: 'constructor' }], await bearer());
    expect(reasonOf(proto!)).toMatchObject({ status: 500 });
  });

  it('no Auth0Api installed on the app → Error with status 500 that says what to call', async () => {
    const url = await serve(createExpressAuthentication(), false, () => plan);
    const [result] = await run([{ name: 'auth0' }], await bearer(), url);
    const error = reasonOf(result!);
    expect(error).toBeInstanceOf(Error);
    expect(error.status).toBe(500);
    expect(error.message).toMatch(/install\(app\)/);
  });
});

describe('security names mean what they say', () => {
  async function dpopRequest() {
    const keyPair = await generateKeyPair('ES256');
    const token = await issuer.token(AUDIENCE, { cnf: { jkt: await calculateThumbprint(keyPair.publicKey) } });
    return { authorization: `DPoP ${token}`, dpop: await generateProof(keyPair, `${base}/secured`, 'GET', undefined, token) };
  }

  it("@Security('bearer') accepts a Bearer token and refuses a valid DPoP request with 401 unauthorized", async () => {
    const [ok] = await run([{ name: 'bearer' }], await bearer());
    expect(ok!.status).toBe('fulfilled');
    const [refused] = await run([{ name: 'bearer' }], await dpopRequest());
    expect(reasonOf(refused!)).toMatchObject({ status: 401, code: 'unauthorized', reason: 'credentials.scheme_not_accepted' });
    // No error attribute: the client used a scheme this operation does not offer (RFC 6750 §3.1).
    expect(parseChallenges(challengeOf(reasonOf(refused!))).every((c) => c.params.error === undefined)).toBe(true);
  });

  it("@Security('dpop') accepts a DPoP request and refuses a valid Bearer token with 401 unauthorized", async () => {
    const [ok] = await run([{ name: 'dpop' }], await dpopRequest());
    expect(ok!.status).toBe('fulfilled');
    const [refused] = await run([{ name: 'dpop' }], await bearer());
    expect(reasonOf(refused!)).toMatchObject({ status: 401, code: 'unauthorized', reason: 'credentials.scheme_not_accepted' });
  });

  it("@Security('auth0') (the general name) accepts both, as the DPoP mode allows", async () => {
    const [a] = await run([{ name: 'auth0' }], await bearer());
    const [b] = await run([{ name: 'auth0' }], await dpopRequest());
    expect([a!.status, b!.status]).toEqual(['fulfilled', 'fulfilled']);
  });

  it('an OR of bearer and dpop accepts either scheme', async () => {
    const fromBearer = await run([{ name: 'bearer' }, { name: 'dpop' }], await bearer());
    const fromDpop = await run([{ name: 'bearer' }, { name: 'dpop' }], await dpopRequest());
    expect(fromBearer.map((r) => r.status)).toEqual(['fulfilled', 'rejected']);
    expect(fromDpop.map((r) => r.status)).toEqual(['rejected', 'fulfilled']);
  });
});

describe('factory options', () => {
  it('takes the Auth0Api directly or through a function, and custom security names', async () => {
    const url = await serve(
      createExpressAuthentication(() => auth0, { securityNames: ['jwt'] }),
      false,
      () => plan,
    );
    const [jwt, auth0Name] = await run([{ name: 'jwt' }, { name: 'auth0' }], await bearer(), url);
    expect((jwt as PromiseFulfilledResult<{ sub: string }>).value.sub).toBe('auth0|user-1');
    expect(reasonOf(auth0Name!).status).toBe(500);

    const direct = await serve(createExpressAuthentication(auth0), false, () => plan);
    const [result] = await run([{ name: 'auth0' }], await bearer(), direct);
    expect(result!.status).toBe('fulfilled');
  });
});
