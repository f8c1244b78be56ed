/**
 * `ApiValidator.verifyRequest` for Bearer tokens against a real local discovery + JWKS server: a valid
 * Auth0-shaped token passes, and every rejection of docs/errors.md comes out with its status, code and challenge;
 * `exchangeToken` goes to the token endpoint of the caller's own issuer.
 */
import { createPublicKey, sign as cryptoSign, type KeyObject } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SignJWT, calculateJwkThumbprint } from 'jose';
import { createValidator, type ApiOptions, type AuthEvent, type RequestContext } from '../../src/core/index.js';
import { TestIssuer, generateSigningKey } from '../support/test-issuer.js';
import { TokenEndpoint } from '../support/token-endpoint.js';
import { parseChallenges } from '../support/challenges.js';
import { rejection, withResponses, type RefusedError } from '../support/helpers.js';

const AUDIENCE = 'https://api.example.com';
const URL_ = 'http://api.test:8080/api/private';
const METADATA = 'http://api.test:8080/.well-known/oauth-protected-resource';
const SAFE_TEXT = /^[\x20\x21\x23-\x5b\x5d-\x7e]+$/;

const rsa = generateSigningKey('RS256', 'key-1');
const ec = generateSigningKey('ES256', 'ec-1');
const weak = generateSigningKey('RS256', 'weak-1', 1024);
const unpublished = generateSigningKey('RS256', 'ghost');

let issuer: TestIssuer;
let attacker: TestIssuer;

beforeAll(async () => {
  issuer = await TestIssuer.start({ keys: [rsa, ec, weak] });
  attacker = await TestIssuer.start({ keys: [unpublished] });
});
afterAll(async () => {
  await issuer?.close();
  await attacker?.close();
});

function validator(options: Partial<ApiOptions> = {}) {
  return withResponses(createValidator({ domain: issuer.origin, audience: AUDIENCE, ...options }), URL_);
}

function request(authorization?: string | string[], extra: Partial<RequestContext> = {}): RequestContext {
  return { method: 'GET', url: URL_, headers: authorization === undefined ? {} : { authorization }, ...extra };
}

/** Status, code, safe description and the challenge: the error attributes on Bearer only, resource_metadata on all. */
function expectRejected(error: RefusedError, status: number, code: string): void {
  expect({ status: error.status, code: error.code }).toEqual({ status, code });
  expect(error.toJSON()).toEqual({ error: code, error_description: error.description });
  expect(error.description).toMatch(SAFE_TEXT);
  expect(error.description).not.toMatch(/https?:|127\.0\.0\.1|Error|\bat /);
  const challenges = parseChallenges(error.headers['WWW-Authenticate'] ?? null);
  expect(challenges.map((c) => c.scheme)).toEqual(['Bearer', 'DPoP']);
  for (const challenge of challenges) expect(challenge.params.resource_metadata).toBe(METADATA);
  expect(challenges[1]!.params.error).toBeUndefined();
  expect(challenges[1]!.params.algs).toBe('ES256');
  if (code === 'unauthorized') {
    expect(challenges[0]!.params.error).toBeUndefined();
  } else {
    expect(challenges[0]!.params.error).toBe(code);
    expect(challenges[0]!.params.error_description).toBe(error.description);
  }
}

/** A compact JWS over any header and payload, signed with node:crypto: for what jose refuses to sign. */
function rawJws(header: unknown, payload: unknown, key: KeyObject, hash = 'sha256'): string {
  const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
  const input = `${b64(header)}.${b64(payload)}`;
  return `${input}.${cryptoSign(hash, Buffer.from(input), key).toString('base64url')}`;
}

function payload(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  const now = Math.floor(Date.now() / 1000);
  return { iss: issuer.issuer, sub: 'auth0|user-1', aud: AUDIENCE, iat: now, exp: now + 3600, ...overrides };
}

describe('a valid Bearer token', () => {
  it('is accepted: Auth0-shaped claims (aud array, gty, azp, permissions) come back', async () => {
    const token = await issuer.token([AUDIENCE, `${issuer.issuer}userinfo`], { permissions: ['read:data'], scope: 'openid read:messages' });
    const verified = await validator().verifyRequest(request(`Bearer ${token}`));
    expect(verified).toMatchObject({
      scheme: 'bearer',
      token,
      url: URL_,
      responseHeaders: {},
      claims: {
        iss: issuer.issuer,
        sub: 'auth0|user-1',
        aud: [AUDIENCE, `${issuer.issuer}userinfo`],
        gty: 'client-credentials',
        azp: 'client-1',
        permissions: ['read:data'],
        scope: 'openid read:messages',
      },
    });
  });

  it.each([
    ['typ JWT', { typ: 'JWT' }],
    ['typ application/at+jwt', { typ: 'application/at+jwt' }],
    ['no typ', { typ: undefined }],
  ])('is accepted with %s', async (_what, header) => {
    const token = await issuer.token(AUDIENCE, {}, { header });
    expect((await validator().verifyRequest(request(`Bearer ${token}`))).claims.sub).toBe('auth0|user-1');
  });

  it('is accepted after several spaces and with a lower-case scheme', async () => {
    const token = await issuer.token(AUDIENCE);
    expect((await validator().verifyRequest(request(`bearer     ${token}`))).token).toBe(token);
  });

  it('is accepted for ES256 when that algorithm is configured', async () => {
    const token = await issuer.token(AUDIENCE, {}, { key: ec });
    expect((await validator({ algorithms: ['ES256'] }).verifyRequest(request(`Bearer ${token}`))).claims.sub).toBe('auth0|user-1');
  });

  it('honours the clock tolerance: exp 3 s ago passes by default, fails with 0', async () => {
    const token = await issuer.token(AUDIENCE, { exp: Math.floor(Date.now() / 1000) - 3 });
    expect((await validator().verifyRequest(request(`Bearer ${token}`))).claims.sub).toBe('auth0|user-1');
    expectRejected(await rejection(validator({ clockTolerance: 0 }).verifyRequest(request(`Bearer ${token}`))), 401, 'invalid_token');
  });
});

describe('credentials missing or malformed', () => {
  it.each([
    ['no Authorization header', request(), 401, 'unauthorized'],
    ['an unsupported scheme (Basic)', request('Basic dXNlcjpwYXNz'), 401, 'unauthorized'],
    ['a token only in the query or body', request(undefined, { tokenOutsideHeader: true }), 401, 'unauthorized'],
    ['Bearer with no token', request('Bearer'), 400, 'invalid_request'],
    ['Bearer a b', request('Bearer a b'), 400, 'invalid_request'],
    ['two Authorization headers', request(['Bearer a', 'Bearer b']), 400, 'invalid_request'],
    ['a token in the header and in the query or body', request('Bearer abc', { tokenOutsideHeader: true }), 400, 'invalid_request'],
  ])('%s → %i %s', async (_what, ctx, status, code) => {
    expectRejected(await rejection(validator().verifyRequest(ctx)), status, code);
  });
});

describe('invalid tokens → 401 invalid_token with error= on Bearer', () => {
  const now = () => Math.floor(Date.now() / 1000);
  const rows: Array<[string, () => Promise<string>, string, Partial<ApiOptions>?]> = [
    [
      'a tampered signature',
      async () => {
        const token = await issuer.token(AUDIENCE);
        return `${token.slice(0, -6)}${token.slice(-6) === 'AAAAAA' ? 'BBBBBB' : 'AAAAAA'}`;
      },
      'token.signature',
    ],
    ['a signature by an unpublished key under a published kid', () => issuer.token(AUDIENCE, {}, { key: unpublished, header: { kid: 'key-1' } }), 'token.signature'],
    ['an unknown kid', () => issuer.token(AUDIENCE, {}, { key: unpublished }), 'token.unknown_kid'],
    ['no kid', () => issuer.token(AUDIENCE, {}, { header: { kid: undefined } }), 'token.kid_missing'],
    ['an alg outside the allow-list (ES256 when only RS256)', () => issuer.token(AUDIENCE, {}, { key: ec }), 'token.alg_not_allowed'],
    ['an alg that does not fit its key (ES256 on an RSA kid)', () => issuer.token(AUDIENCE, {}, { key: ec, header: { kid: 'key-1' } }), 'token.key_alg_mismatch', { algorithms: ['RS256', 'ES256'] }],
    // Keys under 2048 bits are never imported from the key set, so the kid is unknown.
    ['a 1024-bit RSA key', async () => rawJws({ alg: 'RS256', kid: 'weak-1' }, payload(), weak.privateKey), 'token.unknown_kid'],
    ['alg none', async () => `${Buffer.from('{"alg":"none","kid":"key-1"}').toString('base64url')}.${Buffer.from(JSON.stringify(payload())).toString('base64url')}.c2ln`, 'token.alg_not_allowed'],
    [
      'HS256 keyed with the public RSA key (key confusion)',
      () => new SignJWT(payload()).setProtectedHeader({ alg: 'HS256', kid: 'key-1' }).sign(new TextEncoder().encode(createPublicKey(rsa.privateKey).export({ format: 'pem', type: 'spki' }) as string)),
      'token.alg_not_allowed',
    ],
    ['typ dpop+jwt', () => issuer.token(AUDIENCE, {}, { header: { typ: 'dpop+jwt' } }), 'token.typ'],
    ['an expired token', () => issuer.token(AUDIENCE, { iat: now() - 7200, exp: now() - 3600 }), 'token.expired'],
    ['nbf in the future', () => issuer.token(AUDIENCE, { nbf: now() + 3600 }), 'token.not_yet_valid'],
    ['iat in the future', () => issuer.token(AUDIENCE, { iat: now() + 3600 }), 'token.iat_future'],
    ['another issuer', () => issuer.token(AUDIENCE, { iss: 'https://attacker.example.com/' }), 'token.iss'],
    ['the issuer without its trailing slash', () => issuer.token(AUDIENCE, { iss: issuer.origin }), 'token.iss'],
    ['another audience', () => issuer.token('https://other-api.example.com'), 'token.aud'],
    ['no exp', () => issuer.token(AUDIENCE, { exp: undefined }), 'token.exp_missing'],
    ['no sub', () => issuer.token(AUDIENCE, { sub: undefined }), 'token.sub_missing'],
    ['a header that is not JSON', async () => `${Buffer.from('{"alg":').toString('base64url')}.e30.c2ln`, 'token.malformed_header'],
    ['a segment that is not canonical base64url', async () => 'abc.def.ghi', 'token.malformed'],
    ['not a JWT at all', async () => 'opaque-token-value', 'token.malformed'],
    ['a DPoP-bound token (cnf.jkt) sent as Bearer', async () => issuer.token(AUDIENCE, { cnf: { jkt: await calculateJwkThumbprint(ec.publicJwk) } }), 'token.bound_as_bearer'],
    ['an embedded jwk with an attacker kid', () => issuer.token(AUDIENCE, {}, { key: unpublished, header: { jwk: unpublished.publicJwk } }), 'token.unknown_kid'],
    ['an embedded jwk next to our kid', () => issuer.token(AUDIENCE, {}, { key: unpublished, header: { kid: 'key-1', jwk: unpublished.publicJwk } }), 'token.signature'],
  ];

  it.each(rows)('%s', async (_what, makeToken, reason, options = {}) => {
    const events: AuthEvent[] = [];
    const token = await makeToken();
    const error = await rejection(validator({ ...options, onEvent: (e) => events.push(e) }).verifyRequest(request(`Bearer ${token}`)));
    expectRejected(error, 401, 'invalid_token');
    expect(error.reason).toBe(reason);
    expect(error.scheme).toBe('bearer');
    expect(events).toContainEqual(expect.objectContaining({ type: 'request_rejected', code: 'invalid_token', reason, status: 401 }));
  });

  it('never fetches a key from a jku/x5u the token names', async () => {
    attacker.resetCounts();
    const token = await issuer.token(
      AUDIENCE,
      {},
      {
        key: unpublished,
        header: { jku: `${attacker.origin}${attacker.jwksPath}`, x5u: `${attacker.origin}/cert.pem` },
      },
    );
    expectRejected(await rejection(validator().verifyRequest(request(`Bearer ${token}`))), 401, 'invalid_token');
    expect(attacker.counts).toEqual({});
  });
});

describe('a Bearer token next to a DPoP header', () => {
  it('is a 400 invalid_request while DPoP is allowed', async () => {
    const token = await issuer.token(AUDIENCE);
    const error = await rejection(validator().verifyRequest({ ...request(`Bearer ${token}`), headers: { authorization: `Bearer ${token}`, dpop: 'x.y.z' } }));
    expectRejected(error, 400, 'invalid_request');
  });
});

describe('strict (RFC 9068) mode', () => {
  const strict = () => validator({ strict: true });

  it('accepts a complete at+jwt token', async () => {
    expect((await strict().verifyRequest(request(`Bearer ${await issuer.token(AUDIENCE)}`))).claims.jti).toEqual(expect.any(String));
  });

  it.each([
    ['typ JWT', {}, { typ: 'JWT' }, 'token.typ'],
    ['no typ', {}, { typ: undefined }, 'token.typ'],
    ['no client_id', { client_id: undefined }, {}, 'token.client_id_missing'],
    ['no jti', { jti: undefined }, {}, 'token.jti_missing'],
  ])('refuses %s', async (_what, claims, header, reason) => {
    const token = await issuer.token(AUDIENCE, claims, { header });
    const error = await rejection(strict().verifyRequest(request(`Bearer ${token}`)));
    expectRejected(error, 401, 'invalid_token');
    expect(error.reason).toBe(reason);
  });

  it('is off by default: the same tokens pass', async () => {
    const token = await issuer.token(AUDIENCE, { client_id: undefined, jti: undefined }, { header: { typ: 'JWT' } });
    expect((await validator().verifyRequest(request(`Bearer ${token}`))).claims.sub).toBe('auth0|user-1');
  });
});

describe('authorize({ scopes }) → 403 insufficient_scope', () => {
  async function verified(claims: Record<string, unknown>, options: Partial<ApiOptions> = {}) {
    const v = validator(options);
    return { v, result: await v.verifyRequest(request(`Bearer ${await issuer.token(AUDIENCE, claims)}`)) };
  }

  it('names every required scope, space-separated, on the Bearer challenge', async () => {
    const { v, result } = await verified({ scope: 'read:data' });
    const error = await rejection(v.authorize(result, { scopes: ['read:data', 'write:data'] }));
    expect({ status: error.status, code: error.code }).toEqual({ status: 403, code: 'insufficient_scope' });
    expect(error.toJSON()).toEqual({ error: 'insufficient_scope', error_description: error.description });
    const [bearer] = parseChallenges(error.headers['WWW-Authenticate'] ?? null);
    expect(bearer).toMatchObject({ scheme: 'Bearer', params: { error: 'insufficient_scope', scope: 'read:data write:data' } });
  });

  it.each([
    ['scope holds all', { scope: 'read:data write:data' }, {}],
    ['scope as an array', { scope: ['write:data', 'read:data'] }, {}],
    ['permissions hold all (scopeClaim permissions)', { scope: undefined, permissions: ['read:data', 'write:data'] }, { scopeClaim: 'permissions' }],
    ['the union of scope and permissions', { scope: 'read:data', permissions: ['write:data'] }, { scopeClaim: 'scope,permissions' }],
  ] as Array<[string, Record<string, unknown>, Partial<ApiOptions>]>)('passes when %s', async (_what, claims, options) => {
    const { v, result } = await verified(claims, options);
    await expect(v.authorize(result, { scopes: ['read:data', 'write:data'] })).resolves.toBeUndefined();
  });

  it.each([
    ['permissions only, scopeClaim scope', { scope: undefined, permissions: ['read:data', 'write:data'] }, {}],
    ['scope only, scopeClaim permissions', { scope: 'read:data write:data' }, { scopeClaim: 'permissions' }],
    ['half in each claim without the union', { scope: 'read:data', permissions: ['write:data'] }, { scopeClaim: 'permissions' }],
    ['a scope that only starts like the required one', { scope: 'read:database write:database' }, {}],
  ] as Array<[string, Record<string, unknown>, Partial<ApiOptions>]>)('refuses %s', async (_what, claims, options) => {
    const { v, result } = await verified(claims, options);
    expect((await rejection(v.authorize(result, { scopes: ['read:data', 'write:data'] }))).status).toBe(403);
  });
});

describe('maxTokenAge', () => {
  it('rejects a token older than maxTokenAge', async () => {
    const token = await issuer.token(AUDIENCE, { iat: Math.floor(Date.now() / 1000) - 120 });
    const error = await rejection(validator({ maxTokenAge: 60 }).verifyRequest(request(`Bearer ${token}`)));
    expectRejected(error, 401, 'invalid_token');
    expect(error.reason).toBe('token.too_old');
  });

  it('still rejects it once it has aged past maxTokenAge after a first, cached, success', async () => {
    const v = validator({ maxTokenAge: 1, clockTolerance: 0 });
    const token = await issuer.token(AUDIENCE, { iat: Math.floor(Date.now() / 1000) });
    expect((await v.verifyRequest(request(`Bearer ${token}`))).claims.sub).toBe('auth0|user-1');
    await new Promise((resolve) => setTimeout(resolve, 2100));
    const error = await rejection(v.verifyRequest(request(`Bearer ${token}`)));
    expect(error.reason).toBe('token.too_old');
  });
});

describe('resource_metadata follows the public URL', () => {
  it('uses publicUrl when configured', async () => {
    const error = await rejection(validator({ publicUrl: 'https://api.example.com' }).verifyRequest(request()));
    for (const challenge of parseChallenges(error.headers['WWW-Authenticate'] ?? null)) {
      expect(challenge.params.resource_metadata).toBe('https://api.example.com/.well-known/oauth-protected-resource');
    }
  });

  it('is left out when resourceMetadataPath is false', async () => {
    const error = await rejection(validator({ resourceMetadataPath: false }).verifyRequest(request()));
    expect(error.headers['WWW-Authenticate']).toBe('Bearer, DPoP algs="ES256"');
  });
});

describe('exchangeToken: at the token endpoint of the caller’s issuer (docs/decisions.md D24)', () => {
  let other: TestIssuer;
  let endpoints: [TokenEndpoint, TokenEndpoint];
  const tokenExchange = { clientId: 'api-client', clientSecret: 'api-secret' };
  const downstream = { audience: 'https://downstream.example.com' };

  beforeAll(async () => {
    other = await TestIssuer.start();
    endpoints = [await TokenEndpoint.start(), await TokenEndpoint.start()];
    issuer.discoveryOverrides = { token_endpoint: endpoints[0].url };
    other.discoveryOverrides = { token_endpoint: endpoints[1].url };
  });
  afterAll(async () => {
    issuer.discoveryOverrides = {};
    await Promise.all([other?.close(), ...(endpoints ?? []).map((endpoint) => endpoint.close())]);
  });

  const verified = async (v: ReturnType<typeof createValidator>, token: string) => v.verifyRequest(request(`Bearer ${token}`));

  it('several domains: each caller’s token is exchanged at its own issuer’s endpoint', async () => {
    const v = createValidator({ domains: [issuer.origin, other.origin], audience: AUDIENCE, tokenExchange });
    const fromOther = await verified(v, await other.token(AUDIENCE));
    const fromFirst = await verified(v, await issuer.token(AUDIENCE));
    expect(await v.exchangeToken(fromOther, downstream)).toBe(endpoints[1].issued.at(-1));
    expect(await v.exchangeToken(fromFirst, downstream)).toBe(endpoints[0].issued.at(-1));
    expect(endpoints[1].requests.at(-1)!.form.subject_token).toBe(fromOther.token);
    expect(endpoints[0].requests.at(-1)!.form.subject_token).toBe(fromFirst.token);
  });

  it('a domains resolver: the endpoint of the issuer it accepted (exchanges had no endpoint before)', async () => {
    const v = createValidator({ domains: () => [other.origin], audience: AUDIENCE, tokenExchange });
    const caller = await verified(v, await other.token(AUDIENCE));
    expect(await v.exchangeToken(caller, downstream)).toBe(endpoints[1].issued.at(-1));
  });

  it('an issuer that is not one of the domains: 503 with no request anywhere, a no_endpoint event', async () => {
    const events: AuthEvent[] = [];
    const v = createValidator({ domains: [issuer.origin], audience: AUDIENCE, tokenExchange, onEvent: (event) => events.push(event) });
    const sent = endpoints.map((endpoint) => endpoint.requests.length);
    const forged = { token: 'not-verified', claims: { iss: `${other.origin}/` } } as never;
    await expect(v.exchangeToken(forged, downstream)).rejects.toMatchObject({ status: 503, code: 'temporarily_unavailable' });
    expect(endpoints.map((endpoint) => endpoint.requests.length)).toEqual(sent);
    expect(events).toContainEqual({ type: 'token_exchange_failed', reason: 'no_endpoint' });
  });
});
