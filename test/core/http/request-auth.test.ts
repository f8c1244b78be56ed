/**
 * Per-request authentication for adapters (src/core/http/request-auth.ts): RequestAuthenticator verifies a request
 * once per request object however many alternatives ask, serves anonymous callers of optional operations, filters
 * schemes, looks requirements up, and authenticates before any token exchange; getAuth / getOptionalAuth read what
 * recordAuth / recordAnonymous recorded. A real validator and the local test issuer.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as dpop from 'dpop';
import { createValidator, type ApiOptions, type AuthError } from '../../../src/core/index.js';
import { getAuth, getOptionalAuth, readAuthFrom, recordAnonymous, recordAuth, RequestAuthenticator, type AuthResult, type RequestHandle } from '../../../src/core/http/request-auth.js';
import type { IncomingRequest } from '../../../src/core/http/request.js';
import { ConfigurationError, SetupError } from '../../../src/core/errors.js';
import { TestIssuer } from '../../support/test-issuer.js';

const AUDIENCE = 'https://api.example.com';
const HOST = 'api.example.com';
let issuer: TestIssuer;

beforeAll(async () => {
  issuer = await TestIssuer.start();
});
afterAll(async () => {
  await issuer?.close();
});

function authenticator(options: Partial<ApiOptions> = {}) {
  const validator = createValidator({ domain: issuer.origin, audience: AUDIENCE, ...options });
  // trustProxy true and HTTPS: the public URL is https://api.example.com/… (X-Forwarded-Proto).
  return new RequestAuthenticator(validator, () => ({ trustProxy: () => true }));
}
/** A request handle over a plain object, counting reads and collecting the headers set on the response. */
function handle(headers: Record<string, string> = {}, extra: Partial<IncomingRequest> = {}, params?: Record<string, string>) {
  const key = {};
  const alias = {};
  const set: Record<string, string> = {};
  let reads = 0;
  const h: RequestHandle = {
    key,
    aliases: [alias],
    read: () => {
      reads++;
      const all = { host: HOST, 'x-forwarded-proto': 'https', ...headers };
      return { method: 'GET', target: '/api/private', headers: all, rawHeaders: Object.entries(all).flat(), remoteAddress: '127.0.0.1', encrypted: false, tokenOutsideHeader: false, ...extra };
    },
    params: params === undefined ? undefined : () => params,
    setHeader: (name, value) => (set[name] = value),
  };
  return { h, key, alias, set, reads: () => reads };
}
async function reasonOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    return (error as AuthError).reason ?? (error as Error).name;
  }
  return 'resolved';
}
const bearer = async (claims: Record<string, unknown> = {}) => ({ authorization: `Bearer ${await issuer.token(AUDIENCE, claims)}` });

describe('RequestAuthenticator.authenticate', () => {
  it('verifies a request once per request object: concurrent and later calls share the result', async () => {
    const auth = authenticator();
    const r = handle(await bearer());
    const [a, b] = await Promise.all([auth.authenticate(r.h), auth.authenticate(r.h)]);
    const c = await auth.authenticate(r.h);
    expect(a).toBe(b);
    expect(c).toBe(a);
    expect(r.reads()).toBe(1);
    expect(a.claims.sub).toBe('auth0|user-1');
    expect([a.scheme, a.url]).toEqual(['bearer', 'https://api.example.com/api/private']);
    // Another request object is verified on its own.
    const other = handle(await bearer());
    expect(await auth.authenticate(other.h)).not.toBe(a);
    expect(other.reads()).toBe(1);
  });

  it('a refusal is shared too: the request is not verified again', async () => {
    const auth = authenticator();
    const r = handle({ authorization: 'Bearer not-a-token' });
    expect(await reasonOf(auth.authenticate(r.h))).toBe('token.malformed');
    expect(await reasonOf(auth.authenticate(r.h))).toBe('token.malformed');
    expect(r.reads()).toBe(1);
  });

  it('records the result for the request and its aliases (getAuth), and sets the response headers (the next DPoP-Nonce)', async () => {
    let clock = 1_750_000_020_000; // 20 s into a 60 s nonce window
    const auth = authenticator({ dpop: { nonce: { secret: 'a-nonce-secret-of-at-least-32-bytes!!', window: 60, now: () => clock } } });
    const keyPair = await dpop.generateKeyPair('ES256');
    const jkt = await dpop.calculateThumbprint(keyPair.publicKey);
    const token = await issuer.token(AUDIENCE, { cnf: { jkt } });
    const url = 'https://api.example.com/api/private';
    // First without a nonce: the refusal names the nonce to use.
    const first = handle({ authorization: `DPoP ${token}`, dpop: await dpop.generateProof(keyPair, url, 'GET', undefined, token) });
    let nonce: string | undefined;
    try {
      await auth.authenticate(first.h);
    } catch (error) {
      expect((error as AuthError).code).toBe('use_dpop_nonce');
      nonce = (error as AuthError).dpopNonce;
    }
    expect(nonce).toBeTruthy();
    expect(() => getAuth(first.key)).toThrow(); // a refused request records nothing
    expect(first.set).toEqual({});
    clock += 60_000; // the nonce is now of the previous window: accepted, with the next one to use
    const r = handle({ authorization: `DPoP ${token}`, dpop: await dpop.generateProof(keyPair, url, 'GET', nonce, token) });
    const result = await auth.authenticate(r.h);
    expect(result.scheme).toBe('dpop');
    expect(getAuth(r.key)).toBe(result);
    expect(getAuth(r.alias)).toBe(result);
    expect(Object.keys(r.set)).toEqual(['DPoP-Nonce']);
    expect(r.set['DPoP-Nonce']).not.toBe(nonce);
    expect(r.set).toEqual(result.responseHeaders);
  });
});

describe('RequestAuthenticator.authorize', () => {
  it('optional: a request without credentials resolves undefined and is recorded anonymous; one with credentials is judged as usual', async () => {
    const auth = authenticator();
    const anon = handle();
    expect(await auth.authorize(anon.h, auth.requirement({}), { optional: true })).toBeUndefined();
    expect(getOptionalAuth(anon.key)).toBeUndefined();
    expect(getOptionalAuth(anon.alias)).toBeUndefined();
    expect(await reasonOf(auth.authorize(handle().h, auth.requirement({})))).toBe('credentials.missing'); // not optional: refused
    const bad = handle({ authorization: 'Bearer not-a-token' });
    expect(await reasonOf(auth.authorize(bad.h, auth.requirement({}), { optional: true }))).toBe('token.malformed');
    const good = handle(await bearer());
    const result = await auth.authorize(good.h, auth.requirement({}), { optional: true });
    expect(result?.claims.sub).toBe('auth0|user-1');
    expect(getOptionalAuth(good.key)).toBe(result);
  });

  it('optional: a request whose framing is bad is not anonymous (authentication answers it)', async () => {
    const auth = authenticator();
    const r = handle({}, { rawHeaders: ['host', HOST, 'host', 'other.example.com', 'x-forwarded-proto', 'https'] });
    expect(await reasonOf(auth.authorize(r.h, auth.requirement({}), { optional: true }))).toBe('request.duplicate_host');
    expect(() => getOptionalAuth(r.key)).toThrow(SetupError);
  });

  it('optional does not make a request already authenticated anonymous', async () => {
    const auth = authenticator();
    const r = handle(await bearer());
    const result = await auth.authenticate(r.h);
    expect(await auth.authorize(r.h, auth.requirement({}), { optional: true })).toBe(result);
    expect(r.reads()).toBe(1); // not read again to look for credentials
  });

  it('schemes: a scheme the operation does not accept is refused (401 credentials.scheme_not_accepted)', async () => {
    const auth = authenticator();
    const r = handle(await bearer());
    const error = await auth.authorize(r.h, auth.requirement({}), { schemes: ['dpop'] }).catch((e: AuthError) => e);
    expect([(error as AuthError).status, (error as AuthError).reason]).toEqual([401, 'credentials.scheme_not_accepted']);
    expect((await auth.authorize(r.h, auth.requirement({}), { schemes: ['bearer', 'dpop'] }))?.scheme).toBe('bearer');
  });

  it('the scopes of the requirement are checked after authentication (403)', async () => {
    const auth = authenticator();
    const r = handle(await bearer({ scope: 'read:messages' }));
    expect(await auth.authorize(r.h, auth.requirement({ scopes: 'read:messages' }))).toBeDefined();
    const error = await auth.authorize(r.h, auth.requirement({ scopes: ['read:messages', 'write:messages'] })).catch((e: AuthError) => e);
    expect([(error as AuthError).status, (error as AuthError).code]).toEqual([403, 'insufficient_scope']);
  });

  it("a policy's organization rule reads the route's path parameters", async () => {
    const auth = authenticator({ policies: { member: { organization: { param: 'orgId' } } } });
    const requirement = auth.requirement({ policy: 'member' });
    const token = await bearer({ org_id: 'org_123' });
    expect(await auth.authorize(handle(token, {}, { orgId: 'org_123' }).h, requirement)).toBeDefined();
    expect(await reasonOf(auth.authorize(handle(token, {}, { orgId: 'org_999' }).h, requirement))).toBe('organization.mismatch');
  });
});

describe('RequestAuthenticator.requirement', () => {
  it("merges the policy's scopes with the operation's, and throws a setup error for an unknown policy name", () => {
    const auth = authenticator({ policies: { reader: { scopes: ['read:messages'] } } });
    expect(auth.requirement({ scopes: 'write:messages' })).toEqual({ scopes: ['write:messages'] });
    expect(auth.requirement({ policy: 'reader', scopes: ['write:messages'] })).toMatchObject({ scopes: ['read:messages', 'write:messages'], policy: 'reader' });
    expect(() => auth.requirement({ policy: 'nope' })).toThrow(/nope/);
    expect(() => auth.requirement({ policy: 'nope' })).toThrow(ConfigurationError);
  });
});

describe('RequestAuthenticator.exchangeToken', () => {
  it('authenticates first: a refused caller gets its refusal, never an exchange', async () => {
    const auth = authenticator();
    const r = handle({ authorization: 'Bearer not-a-token' });
    expect(await reasonOf(auth.exchangeToken(r.h, { audience: 'https://downstream.example.com' }))).toBe('token.malformed');
  });

  it('an authenticated caller reaches the exchange (here: not configured) with the result already recorded, read once', async () => {
    const auth = authenticator();
    const r = handle(await bearer());
    expect(await reasonOf(auth.exchangeToken(r.h, { audience: 'https://downstream.example.com' }))).toBe('ConfigurationError');
    expect(r.reads()).toBe(1);
    await auth.authenticate(r.h);
    expect(await reasonOf(auth.exchangeToken(r.h, { audience: 'https://downstream.example.com' }))).toBe('ConfigurationError');
    expect(r.reads()).toBe(1);
  });
});

describe('getAuth, getOptionalAuth, recordAuth, recordAnonymous, readAuthFrom', () => {
  const result = { claims: { sub: 'auth0|x' }, token: 't', scheme: 'bearer', url: 'https://api.example.com/', responseHeaders: {} } as unknown as AuthResult;

  it('getAuth: the recorded result for each object it was recorded on; a 401 for any other', () => {
    const req = {};
    const ctx = {};
    recordAuth(result, req, ctx);
    expect(getAuth(req)).toBe(result);
    expect(getAuth(ctx)).toBe(result);
    let error: AuthError | undefined;
    try {
      getAuth({});
    } catch (e) {
      error = e as AuthError;
    }
    expect([error?.status, error?.code, error?.reason]).toEqual([401, 'unauthorized', 'request.not_authenticated']);
  });

  it('getOptionalAuth: the result, undefined for an anonymous request, a setup error (500) on a route with no authentication', () => {
    const authed = {};
    const anonymous = {};
    recordAuth(result, authed);
    recordAnonymous(anonymous);
    expect(getOptionalAuth(authed)).toBe(result);
    expect(getOptionalAuth(anonymous)).toBeUndefined();
    expect(() => getOptionalAuth({})).toThrow(SetupError);
    expect(() => getOptionalAuth({})).toThrow(/auth0-optional/);
  });

  it("readAuthFrom: an adapter's own store is asked when nothing is recorded; a recorded result comes first; others still 401", () => {
    const kept = new Map<object, AuthResult>();
    const other = { ...result, token: 'other' };
    let asked = 0;
    const reader = (request: object) => (asked++, kept.get(request));
    readAuthFrom(reader);
    readAuthFrom(reader); // kept once, however often it is given
    const req = {};
    kept.set(req, result);
    expect(getAuth(req)).toBe(result);
    expect(getOptionalAuth(req)).toBe(result);
    recordAuth(other, req);
    expect(getAuth(req)).toBe(other);
    asked = 0;
    expect(() => getAuth({})).toThrow(/Authentication required/);
    expect(asked).toBe(1);
  });
});
