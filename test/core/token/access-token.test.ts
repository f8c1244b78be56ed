/**
 * Access-token checks without the network: the shape and header checks that need no key (`decodeAccessToken`),
 * the claim rules (`checkClaims`), and the signature of a decoded token (`verifySignature` of jws.ts). Keys are
 * generated here.
 */
import { createPublicKey } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { SignJWT } from 'jose';
import { AuthError } from '../../../src/core/index.js';
import { checkClaims as checkClaimsAt, decodeAccessToken, timeClaimsHold, MAX_TOKEN_LENGTH, type ClaimRules } from '../../../src/core/token/access-token.js';
import { verifySignature } from '../../../src/core/token/jws.js';
import { generateSigningKey } from '../../support/test-issuer.js';

const ISSUER = 'https://tenant.us.auth0.com/';
const AUDIENCE = 'https://api.example.com';
const NOW = 1_900_000_000;
type Rules = ClaimRules & { now?: number | undefined };
const rules: Rules = { issuer: ISSUER, audiences: [AUDIENCE], clockTolerance: 5, maxTokenAge: undefined, strict: false, now: NOW };
/** checkClaims at the rules' `now` (a fixed clock), or the real clock when it is undefined. */
const checkClaims = (payload: Record<string, unknown>, r: Rules) => checkClaimsAt(payload, r, r.now);
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
    ['a random string', 'not-a-jwt', 'token.malformed'],
    ['two segments', `${h}.${p}`, 'token.malformed'],
    ['four segments', `${h}.${p}.c2ln.c2ln`, 'token.malformed'],
    ['a five-part JWE', `${h}.ZW5j.aXY.Y3Q.dGFn`, 'token.malformed'],
    ['an empty signature (alg none style)', `${h}.${p}.`, 'token.malformed'],
    ['a padded signature', `${h}.${p}.c2ln==`, 'token.malformed'],
    ['base64 (not base64url) characters', `${h}.${p}.c2+l/g`, 'token.malformed'],
    // "YWI" is "ab"; "YWJ" decodes to the same bytes with a stray unused bit (RFC 4648 §3.5).
    ['stray bits in the last signature character', `${h}.${p}.YWJ`, 'token.malformed'],
    ['stray bits in the last header character', `${h.slice(0, -1)}${String.fromCharCode(h.charCodeAt(h.length - 1) + 1)}.${p}.YWI`, 'token.malformed'],
    ['a segment of impossible length (4n+1)', `${h}.${p}.c2lnb`, 'token.malformed'],
    ['JSON serialization', JSON.stringify({ payload: p, signatures: [] }), 'token.malformed'],
    ['a token over the size cap', `${h}.${'a'.repeat(MAX_TOKEN_LENGTH)}.c2ln`, 'token.too_large'],
    ['a header that is not JSON', `${b64('{"alg":')}.${p}.c2ln`, 'token.malformed_header'],
    ['a header that is a JSON array', unsigned(['RS256']), 'token.malformed_header'],
    ['a payload that is a JSON array', unsigned(HEADER, ['sub']), 'token.malformed_payload'],
    ['a payload that is a JSON string', unsigned(HEADER, 'sub'), 'token.malformed_payload'],
    ['a payload that is null', unsigned(HEADER, null), 'token.malformed_payload'],
    ['alg none', unsigned({ ...HEADER, alg: 'none' }), 'token.alg_not_allowed'],
    ['alg None', unsigned({ ...HEADER, alg: 'None' }), 'token.alg_not_allowed'],
    ['alg HS256 (key confusion)', unsigned({ ...HEADER, alg: 'HS256' }), 'token.alg_not_allowed'],
    ['alg rs256 (case matters)', unsigned({ ...HEADER, alg: 'rs256' }), 'token.alg_not_allowed'],
    ['an allowed-elsewhere alg (RS512 when only RS256)', unsigned({ ...HEADER, alg: 'RS512' }), 'token.alg_not_allowed'],
    ['no alg', unsigned({ typ: 'at+jwt', kid: 'k' }), 'token.alg_not_allowed'],
    ['crit', unsigned({ ...HEADER, crit: ['x-policy'], 'x-policy': 1 }), 'token.unsupported_header'],
    ['b64 false', unsigned({ ...HEADER, b64: false, crit: ['b64'] }), 'token.unsupported_header'],
    ['enc (encrypted token)', unsigned({ ...HEADER, enc: 'A256GCM' }), 'token.encrypted'],
    ['zip', unsigned({ ...HEADER, zip: 'DEF' }), 'token.encrypted'],
    ['typ dpop+jwt (a DPoP proof)', unsigned({ ...HEADER, typ: 'dpop+jwt' }), 'token.typ'],
    ['typ logout+jwt', unsigned({ ...HEADER, typ: 'logout+jwt' }), 'token.typ'],
    ['typ that is not a string', unsigned({ ...HEADER, typ: 1 }), 'token.typ'],
    ['no kid', unsigned({ alg: 'RS256', typ: 'at+jwt' }), 'token.kid_missing'],
    ['an empty kid', unsigned({ ...HEADER, kid: '' }), 'token.kid_missing'],
    ['a numeric kid', unsigned({ ...HEADER, kid: 7 }), 'token.kid_missing'],
    ['a 1,000-character kid', unsigned({ ...HEADER, kid: 'k'.repeat(1000) }), 'token.kid_missing'],
  ])('%s', (_what, token, reason) => {
    expectInvalidToken(
      rejection(() => decodeAccessToken(token, ['RS256'], false)),
      reason,
    );
  });

  it.each([
    ['typ JWT', { ...HEADER, typ: 'JWT' }],
    ['no typ', { alg: 'RS256', kid: 'k' }],
  ])('strict mode refuses %s', (_what, header) => {
    expectInvalidToken(
      rejection(() => decodeAccessToken(unsigned(header), ['RS256'], true)),
      'token.typ',
    );
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
    ['iss of another tenant', { iss: 'https://attacker.example.com/' }, 'token.iss'],
    ['iss without the trailing slash', { iss: 'https://tenant.us.auth0.com' }, 'token.iss'],
    ['iss in another case', { iss: 'https://TENANT.us.auth0.com/' }, 'token.iss'],
    ['iss as an array', { iss: ['https://attacker.example.com/', ISSUER] }, 'token.iss'],
    ['no iss', { iss: undefined }, 'token.iss'],
    ['aud of another API', { aud: 'https://other.example.com' }, 'token.aud'],
    ['aud with a trailing slash', { aud: `${AUDIENCE}/` }, 'token.aud'],
    ['an empty aud list', { aud: [] }, 'token.aud'],
    ['aud as a number', { aud: 42 }, 'token.aud'],
    ['aud list with a non-string', { aud: [AUDIENCE, 42] }, 'token.aud'],
    ['no aud', { aud: undefined }, 'token.aud'],
    ['no exp', { exp: undefined }, 'token.exp_missing'],
    ['exp as a string', { exp: String(NOW + 3600) }, 'token.exp_missing'],
    ['exp a minute ago', { exp: NOW - 60 }, 'token.expired'],
    ['exp exactly at the tolerance', { exp: NOW - 5 }, 'token.expired'],
    ['nbf an hour ahead', { nbf: NOW + 3600 }, 'token.not_yet_valid'],
    ['nbf as a string', { nbf: String(NOW) }, 'token.nbf_invalid'],
    ['no iat', { iat: undefined }, 'token.iat_missing'],
    ['iat as a string', { iat: String(NOW) }, 'token.iat_missing'],
    ['iat an hour ahead', { iat: NOW + 3600 }, 'token.iat_future'],
    ['no sub', { sub: undefined }, 'token.sub_missing'],
    ['an empty sub', { sub: '' }, 'token.sub_missing'],
    ['a numeric sub', { sub: 7 }, 'token.sub_missing'],
    ['scope as a number', { scope: 7 }, 'token.scope_malformed'],
    ['scope list with a non-string', { scope: ['read:messages', 7] }, 'token.scope_malformed'],
    ['cnf as a string', { cnf: 'abc' }, 'token.cnf_malformed'],
    ['cnf as null', { cnf: null }, 'token.cnf_malformed'],
    ['cnf as an array', { cnf: [{ jkt: 'abc' }] }, 'token.cnf_malformed'],
  ])('rejects %s', (_what, overrides, reason) => {
    expectInvalidToken(
      rejection(() => checkClaims(auth0Payload(overrides), rules)),
      reason,
    );
  });

  it('applies the configured clock tolerance', () => {
    const strictClock = { ...rules, clockTolerance: 0 };
    expectInvalidToken(
      rejection(() => checkClaims(auth0Payload({ exp: NOW - 1 }), strictClock)),
      'token.expired',
    );
    expectInvalidToken(
      rejection(() => checkClaims(auth0Payload({ nbf: NOW + 1 }), strictClock)),
      'token.not_yet_valid',
    );
    expect(checkClaims(auth0Payload({ exp: NOW - 50 }), { ...rules, clockTolerance: 60 }).exp).toBe(NOW - 50);
  });

  it('enforces maxTokenAge on iat', () => {
    const aged = { ...rules, maxTokenAge: 60 };
    expect(checkClaims(auth0Payload({ iat: NOW - 60 }), aged).iat).toBe(NOW - 60);
    expectInvalidToken(
      rejection(() => checkClaims(auth0Payload({ iat: NOW - 120 }), aged)),
      'token.too_old',
    );
  });

  describe('strict (RFC 9068) mode', () => {
    const strict = { ...rules, strict: true };
    it('requires client_id and jti', () => {
      expect(checkClaims(auth0Payload({ client_id: 'c', jti: 'j' }), strict).jti).toBe('j');
      expectInvalidToken(
        rejection(() => checkClaims(auth0Payload({ jti: 'j' }), strict)),
        'token.client_id_missing',
      );
      expectInvalidToken(
        rejection(() => checkClaims(auth0Payload({ client_id: 'c' }), strict)),
        'token.jti_missing',
      );
    });
    it('does not require them by default', () => {
      expect(checkClaims(auth0Payload(), rules).client_id).toBeUndefined();
    });
  });
});

describe('the signature of a decoded token (jws.verifySignature)', () => {
  const now = () => Math.floor(Date.now() / 1000);
  const sign = (payload: Record<string, unknown>, key = rsa, header: Record<string, unknown> = {}) => new SignJWT(payload).setProtectedHeader({ alg: key.alg, typ: 'at+jwt', kid: key.kid, ...header }).sign(key.privateKey);
  const publicKeyOf = (key = rsa) => createPublicKey(key.privateKey);
  const verifies = (token: string, alg: 'RS256' | 'ES256' | 'PS256' | 'EdDSA' = 'RS256', key = publicKeyOf()) => {
    const decoded = decodeAccessToken(token, [alg], false);
    return verifySignature(decoded.alg, key, decoded.signingInput, decoded.signature);
  };

  it('holds for a well-signed token', async () => {
    expect(verifies(await sign(auth0Payload({ iat: now(), exp: now() + 60 })))).toBe(true);
  });

  it.each(['ES256', 'PS256', 'EdDSA'] as const)('holds for %s tokens', async (alg) => {
    const key = generateSigningKey(alg, `${alg}-1`);
    expect(verifies(await sign(auth0Payload({ iat: now(), exp: now() + 60 }), key), alg, publicKeyOf(key))).toBe(true);
  });

  it('fails for a tampered payload', async () => {
    const token = await sign(auth0Payload({ iat: now(), exp: now() + 60 }));
    const [h, , sig] = token.split('.');
    expect(verifies(`${h}.${b64(auth0Payload({ iat: now(), exp: now() + 60, sub: 'admin' }))}.${sig}`)).toBe(false);
  });

  it('fails for a token signed by another key with the same kid', async () => {
    expect(verifies(await sign(auth0Payload({ iat: now(), exp: now() + 60 }), generateSigningKey('RS256', 'rsa-1')))).toBe(false);
  });

  it('fails for the psychic ECDSA signature (r = s = 0, CVE-2022-21449)', async () => {
    const ec = generateSigningKey('ES256', 'ec-1');
    const [h, p] = (await sign(auth0Payload({ iat: now(), exp: now() + 60 }), ec)).split('.');
    expect(verifies(`${h}.${p}.${Buffer.alloc(64).toString('base64url')}`, 'ES256', publicKeyOf(ec))).toBe(false);
  });
});

describe('timeClaimsHold (the cache-hit check) agrees with checkClaims', () => {
  it.each([
    ['fresh', { iat: NOW - 10, exp: NOW + 60 }, undefined, true],
    ['expired beyond the tolerance', { iat: NOW - 100, exp: NOW - 6 }, undefined, false],
    ['expired within the tolerance', { iat: NOW - 100, exp: NOW - 4 }, undefined, true],
    ['older than maxTokenAge', { iat: NOW - 100, exp: NOW + 60 }, 60, false],
    ['as old as maxTokenAge plus the tolerance', { iat: NOW - 65, exp: NOW + 60 }, 60, true],
  ] as const)('%s', (_what, times, maxTokenAge, holds) => {
    const r = { ...rules, maxTokenAge };
    expect(timeClaimsHold(times, r, NOW)).toBe(holds);
    const full = () => checkClaims(auth0Payload(times), r);
    if (holds) expect(full()).toBeTruthy();
    else expect(full).toThrow(AuthError);
  });
});
