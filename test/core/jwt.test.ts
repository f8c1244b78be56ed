/**
 * Access-token checks without the network: the shape and header checks that need no key (`decodeAccessToken`),
 * the claim rules (`checkClaims`) and the signature check (`verifyAccessToken`). Keys are generated here.
 */
import { createPublicKey } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { SignJWT } from 'jose';
import { AuthError } from '../../src/core/index.js';
import { checkClaims, decodeAccessToken, verifyAccessToken, MAX_TOKEN_LENGTH, type ClaimRules } from '../../src/core/jwt.js';
import { generateSigningKey } from '../support/test-issuer.js';

const ISSUER = 'https://tenant.us.auth0.com/';
const AUDIENCE = 'https://api.example.com';
const NOW = 1_900_000_000;
const rules: ClaimRules = { issuer: ISSUER, audiences: [AUDIENCE], clockTolerance: 5, maxTokenAge: undefined, strict: false, now: NOW };
const rsa = generateSigningKey('RS256', 'rsa-1');

const b64 = (value: unknown) => Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');
/** A compact JWS with arbitrary header and payload and a dummy signature: for checks that run before any key. */
const unsigned = (header: unknown, payload: unknown = { sub: 'x' }) => `${b64(header)}.${b64(payload)}.c2lnbmF0dXJl`;
const HEADER = { alg: 'RS256', typ: 'at+jwt', kid: 'rsa-1' };

/** An Auth0-shaped access token payload (aud array with userinfo, gty, azp, permissions). */
function auth0Payload(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  const payload: Record<string, unknown> = {
    iss: ISSUER,
    sub: 'auth0|5f7c8ec7c33c6c004bbafe82',
    aud: [AUDIENCE, 'https://tenant.us.auth0.com/userinfo'],
    iat: NOW - 10,
    exp: NOW + 3600,
    scope: 'openid profile read:messages',
    azp: 'my-client',
    gty: 'client-credentials',
    permissions: ['read:messages'],
    ...overrides,
  };
  for (const [k, v] of Object.entries(payload)) if (v === undefined) delete payload[k];
  return payload;
}

function rejection(fn: () => unknown): AuthError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(AuthError);
    return error as AuthError;
  }
  throw new Error('expected an AuthError');
}

async function asyncRejection(promise: Promise<unknown>): Promise<AuthError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(AuthError);
  return error as AuthError;
}

function expectInvalidToken(error: AuthError, reason: string): void {
  expect({ status: error.status, code: error.code, reason: error.reason }).toEqual({ status: 401, code: 'invalid_token', reason });
  // Fixed, safe text: no quotes, no control characters, nothing taken from the token.
  expect(error.description).toMatch(/^[\x20\x21\x23-\x5b\x5d-\x7e]+$/);
}

describe('decodeAccessToken: accepted headers', () => {
  it.each([
    ['typ absent', { alg: 'RS256', kid: 'k' }],
    ['typ JWT', { ...HEADER, typ: 'JWT' }],
    ['typ jwt', { ...HEADER, typ: 'jwt' }],
    ['typ at+jwt', HEADER],
    ['typ AT+JWT (media types are case-insensitive)', { ...HEADER, typ: 'AT+JWT' }],
    ['typ application/at+jwt', { ...HEADER, typ: 'application/at+jwt' }],
    ['a 256-character kid', { ...HEADER, kid: 'k'.repeat(256) }],
  ])('%s', (_what, header) => {
    const decoded = decodeAccessToken(unsigned(header), ['RS256'], false);
    expect(decoded).toMatchObject({ alg: 'RS256', kid: header.kid, header, payload: { sub: 'x' } });
  });

  it('strict mode accepts at+jwt and application/at+jwt only', () => {
    expect(decodeAccessToken(unsigned(HEADER), ['RS256'], true).kid).toBe('rsa-1');
    expect(decodeAccessToken(unsigned({ ...HEADER, typ: 'application/at+jwt' }), ['RS256'], true).kid).toBe('rsa-1');
  });
});

describe('decodeAccessToken: rejected before any key lookup → 401 invalid_token', () => {
  const h = b64(HEADER);
  const p = b64({ sub: 'x' });
  it.each([
    ['a random string', 'not-a-jwt', 'malformed'],
    ['two segments', `${h}.${p}`, 'malformed'],
    ['four segments', `${h}.${p}.c2ln.c2ln`, 'malformed'],
    ['a five-part JWE', `${h}.ZW5j.aXY.Y3Q.dGFn`, 'malformed'],
    ['an empty signature (alg none style)', `${h}.${p}.`, 'malformed'],
    ['a padded signature', `${h}.${p}.c2ln==`, 'malformed'],
    ['base64 (not base64url) characters', `${h}.${p}.c2+l/g`, 'malformed'],
    // "YWI" is "ab"; "YWJ" decodes to the same bytes with a stray unused bit (RFC 4648 §3.5).
    ['stray bits in the last signature character', `${h}.${p}.YWJ`, 'malformed'],
    ['stray bits in the last header character', `${h.slice(0, -1)}${String.fromCharCode(h.charCodeAt(h.length - 1) + 1)}.${p}.YWI`, 'malformed'],
    ['a segment of impossible length (4n+1)', `${h}.${p}.c2lnb`, 'malformed'],
    ['JSON serialization', JSON.stringify({ payload: p, signatures: [] }), 'malformed'],
    ['a token over the size cap', `${h}.${'a'.repeat(MAX_TOKEN_LENGTH)}.c2ln`, 'token_too_large'],
    ['a header that is not JSON', `${b64('{"alg":')}.${p}.c2ln`, 'malformed_header'],
    ['a header that is a JSON array', unsigned(['RS256']), 'malformed_header'],
    ['a payload that is a JSON array', unsigned(HEADER, ['sub']), 'malformed_payload'],
    ['a payload that is a JSON string', unsigned(HEADER, 'sub'), 'malformed_payload'],
    ['a payload that is null', unsigned(HEADER, null), 'malformed_payload'],
    ['alg none', unsigned({ ...HEADER, alg: 'none' }), 'alg_not_allowed'],
    ['alg None', unsigned({ ...HEADER, alg: 'None' }), 'alg_not_allowed'],
    ['alg HS256 (key confusion)', unsigned({ ...HEADER, alg: 'HS256' }), 'alg_not_allowed'],
    ['alg rs256 (case matters)', unsigned({ ...HEADER, alg: 'rs256' }), 'alg_not_allowed'],
    ['an allowed-elsewhere alg (RS512 when only RS256)', unsigned({ ...HEADER, alg: 'RS512' }), 'alg_not_allowed'],
    ['no alg', unsigned({ typ: 'at+jwt', kid: 'k' }), 'alg_not_allowed'],
    ['crit', unsigned({ ...HEADER, crit: ['x-policy'], 'x-policy': 1 }), 'crit'],
    ['b64 false', unsigned({ ...HEADER, b64: false, crit: ['b64'] }), 'crit'],
    ['enc (encrypted token)', unsigned({ ...HEADER, enc: 'A256GCM' }), 'jwe'],
    ['zip', unsigned({ ...HEADER, zip: 'DEF' }), 'jwe'],
    ['typ dpop+jwt (a DPoP proof)', unsigned({ ...HEADER, typ: 'dpop+jwt' }), 'typ'],
    ['typ logout+jwt', unsigned({ ...HEADER, typ: 'logout+jwt' }), 'typ'],
    ['typ that is not a string', unsigned({ ...HEADER, typ: 1 }), 'typ'],
    ['no kid', unsigned({ alg: 'RS256', typ: 'at+jwt' }), 'kid'],
    ['an empty kid', unsigned({ ...HEADER, kid: '' }), 'kid'],
    ['a numeric kid', unsigned({ ...HEADER, kid: 7 }), 'kid'],
    ['a 1,000-character kid', unsigned({ ...HEADER, kid: 'k'.repeat(1000) }), 'kid'],
  ])('%s', (_what, token, reason) => {
    expectInvalidToken(rejection(() => decodeAccessToken(token, ['RS256'], false)), reason);
  });

  it.each([
    ['typ JWT', { ...HEADER, typ: 'JWT' }],
    ['no typ', { alg: 'RS256', kid: 'k' }],
  ])('strict mode refuses %s', (_what, header) => {
    expectInvalidToken(rejection(() => decodeAccessToken(unsigned(header), ['RS256'], true)), 'typ');
  });

  it('does not echo the token content in the description', () => {
    const error = rejection(() => decodeAccessToken(unsigned({ ...HEADER, kid: 7, typ: 'a"\r\nX-Injected: 1' }), ['RS256'], false));
    expect(error.description).not.toMatch(/Injected/);
  });
});

describe('checkClaims', () => {
  it('accepts an Auth0-shaped token and returns its claims', () => {
    const payload = auth0Payload();
    expect(checkClaims(payload, rules)).toEqual(payload);
  });

  it.each([
    ['aud as a string', { aud: AUDIENCE }],
    ['aud listing the API second', { aud: ['https://other.example.com', AUDIENCE] }],
    ['exp 3 s ago (within the 5 s tolerance)', { exp: NOW - 3 }],
    ['nbf 5 s ahead (within tolerance)', { nbf: NOW + 5 }],
    ['iat 5 s ahead (within tolerance)', { iat: NOW + 5 }],
    ['scope as an array of strings', { scope: ['read:messages', 'openid'] }],
    ['no scope at all', { scope: undefined }],
    ['cnf with jkt', { cnf: { jkt: 'abc' } }],
  ])('accepts %s', (_what, overrides) => {
    expect(checkClaims(auth0Payload(overrides), rules).sub).toBe('auth0|5f7c8ec7c33c6c004bbafe82');
  });

  it('accepts a token for any of several configured audiences', () => {
    expect(checkClaims(auth0Payload({ aud: 'urn:second' }), { ...rules, audiences: [AUDIENCE, 'urn:second'] }).aud).toBe('urn:second');
  });

  it.each([
    ['iss of another tenant', { iss: 'https://attacker.example.com/' }, 'iss'],
    ['iss without the trailing slash', { iss: 'https://tenant.us.auth0.com' }, 'iss'],
    ['iss in another case', { iss: 'https://TENANT.us.auth0.com/' }, 'iss'],
    ['iss as an array', { iss: ['https://attacker.example.com/', ISSUER] }, 'iss'],
    ['no iss', { iss: undefined }, 'iss'],
    ['aud of another API', { aud: 'https://other.example.com' }, 'aud'],
    ['aud with a trailing slash', { aud: `${AUDIENCE}/` }, 'aud'],
    ['an empty aud list', { aud: [] }, 'aud'],
    ['aud as a number', { aud: 42 }, 'aud'],
    ['aud list with a non-string', { aud: [AUDIENCE, 42] }, 'aud'],
    ['no aud', { aud: undefined }, 'aud'],
    ['no exp', { exp: undefined }, 'exp_missing'],
    ['exp as a string', { exp: String(NOW + 3600) }, 'exp_missing'],
    ['exp a minute ago', { exp: NOW - 60 }, 'expired'],
    ['exp exactly at the tolerance', { exp: NOW - 5 }, 'expired'],
    ['nbf an hour ahead', { nbf: NOW + 3600 }, 'nbf'],
    ['nbf as a string', { nbf: String(NOW) }, 'nbf_invalid'],
    ['no iat', { iat: undefined }, 'iat_missing'],
    ['iat as a string', { iat: String(NOW) }, 'iat_missing'],
    ['iat an hour ahead', { iat: NOW + 3600 }, 'iat_future'],
    ['no sub', { sub: undefined }, 'sub_missing'],
    ['an empty sub', { sub: '' }, 'sub_missing'],
    ['a numeric sub', { sub: 7 }, 'sub_missing'],
    ['scope as a number', { scope: 7 }, 'scope_malformed'],
    ['scope list with a non-string', { scope: ['read:messages', 7] }, 'scope_malformed'],
    ['cnf as a string', { cnf: 'abc' }, 'cnf_malformed'],
    ['cnf as null', { cnf: null }, 'cnf_malformed'],
    ['cnf as an array', { cnf: [{ jkt: 'abc' }] }, 'cnf_malformed'],
  ])('rejects %s', (_what, overrides, reason) => {
    expectInvalidToken(rejection(() => checkClaims(auth0Payload(overrides), rules)), reason);
  });

  it('applies the configured clock tolerance', () => {
    const strictClock = { ...rules, clockTolerance: 0 };
    expectInvalidToken(rejection(() => checkClaims(auth0Payload({ exp: NOW - 1 }), strictClock)), 'expired');
    expectInvalidToken(rejection(() => checkClaims(auth0Payload({ nbf: NOW + 1 }), strictClock)), 'nbf');
    expect(checkClaims(auth0Payload({ exp: NOW - 50 }), { ...rules, clockTolerance: 60 }).exp).toBe(NOW - 50);
  });

  it('enforces maxTokenAge on iat', () => {
    const aged = { ...rules, maxTokenAge: 60 };
    expect(checkClaims(auth0Payload({ iat: NOW - 60 }), aged).iat).toBe(NOW - 60);
    expectInvalidToken(rejection(() => checkClaims(auth0Payload({ iat: NOW - 120 }), aged)), 'max_token_age');
  });

  describe('strict (RFC 9068) mode', () => {
    const strict = { ...rules, strict: true };
    it('requires client_id and jti', () => {
      expect(checkClaims(auth0Payload({ client_id: 'c', jti: 'j' }), strict).jti).toBe('j');
      expectInvalidToken(rejection(() => checkClaims(auth0Payload({ jti: 'j' }), strict)), 'client_id_missing');
      expectInvalidToken(rejection(() => checkClaims(auth0Payload({ client_id: 'c' }), strict)), 'jti_missing');
    });
    it('does not require them by default', () => {
      expect(checkClaims(auth0Payload(), rules).client_id).toBeUndefined();
    });
  });
});

describe('verifyAccessToken (signature, then the claims)', () => {
  const now = () => Math.floor(Date.now() / 1000);
  const realRules = (): ClaimRules => ({ ...rules, now: undefined });
  const sign = (payload: Record<string, unknown>, key = rsa, header: Record<string, unknown> = {}) =>
    new SignJWT(payload).setProtectedHeader({ alg: key.alg, typ: 'at+jwt', kid: key.kid, ...header }).sign(key.privateKey);
  const publicKeyOf = (key = rsa) => createPublicKey(key.privateKey);

  it('returns the claims of a well-signed token', async () => {
    const token = await sign(auth0Payload({ iat: now(), exp: now() + 60 }));
    const claims = await verifyAccessToken(token, decodeAccessToken(token, ['RS256'], false), publicKeyOf(), realRules());
    expect(claims).toMatchObject({ iss: ISSUER, sub: 'auth0|5f7c8ec7c33c6c004bbafe82', gty: 'client-credentials', permissions: ['read:messages'] });
  });

  it.each(['ES256', 'PS256', 'EdDSA'] as const)('verifies %s tokens when that algorithm is allowed', async (alg) => {
    const key = generateSigningKey(alg, `${alg}-1`);
    const token = await sign(auth0Payload({ iat: now(), exp: now() + 60 }), key);
    const decoded = decodeAccessToken(token, [alg], false);
    expect((await verifyAccessToken(token, decoded, publicKeyOf(key), realRules())).sub).toBe('auth0|5f7c8ec7c33c6c004bbafe82');
  });

  it('rejects a tampered payload', async () => {
    const token = await sign(auth0Payload({ iat: now(), exp: now() + 60 }));
    const [h, , s] = token.split('.');
    const forged = `${h}.${b64(auth0Payload({ iat: now(), exp: now() + 60, sub: 'admin' }))}.${s}`;
    expectInvalidToken(await asyncRejection(verifyAccessToken(forged, decodeAccessToken(forged, ['RS256'], false), publicKeyOf(), realRules())), 'signature');
  });

  it('rejects a token signed by another key with the same kid', async () => {
    const impostor = generateSigningKey('RS256', 'rsa-1');
    const token = await sign(auth0Payload({ iat: now(), exp: now() + 60 }), impostor);
    expectInvalidToken(await asyncRejection(verifyAccessToken(token, decodeAccessToken(token, ['RS256'], false), publicKeyOf(), realRules())), 'signature');
  });

  it('rejects the psychic ECDSA signature (r = s = 0, CVE-2022-21449)', async () => {
    const ec = generateSigningKey('ES256', 'ec-1');
    const token = await sign(auth0Payload({ iat: now(), exp: now() + 60 }), ec);
    const [h, p] = token.split('.');
    const psychic = `${h}.${p}.${Buffer.alloc(64).toString('base64url')}`;
    expectInvalidToken(await asyncRejection(verifyAccessToken(psychic, decodeAccessToken(psychic, ['ES256'], false), publicKeyOf(ec), realRules())), 'signature');
  });

  it('checks the claims after the signature (an expired, well-signed token)', async () => {
    const token = await sign(auth0Payload({ iat: now() - 120, exp: now() - 60 }));
    expectInvalidToken(await asyncRejection(verifyAccessToken(token, decodeAccessToken(token, ['RS256'], false), publicKeyOf(), realRules())), 'expired');
  });
});
