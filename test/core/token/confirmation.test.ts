/**
 *  in the core: every confirmation method a token carries is verified or the token is refused
 * (docs/decisions.md D27). A real issuer signs every token, so each 401 is the `cnf` rule alone.
 *
 * Before the fix only `cnf.jkt` was looked at: a token bound with `x5t#S256` (Auth0's mTLS binding), `jwk`, `x5t`
 * or any unknown member — even an empty `cnf` — was accepted as a plain Bearer token, so a sender-constrained token
 * stolen from its client worked without the client's certificate.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as dpop from 'dpop';
import { calculateJwkThumbprint, exportJWK } from 'jose';
import { createValidator, type ApiOptions, type MtlsMode, type RequestContext } from '../../../src/core/index.js';
import { certificateThumbprint, checkConfirmation } from '../../../src/core/token/confirmation.js';
import { TestIssuer } from '../../support/test-issuer.js';
import { parseChallenges } from '../../support/demo.js';
import { rejection, withResponses } from '../../support/helpers.js';
import { makeCertificate, type TestCertificate } from '../../support/certificates.js';

const AUDIENCE = 'https://api.example.com';
const URL_ = 'https://api.example.com/api/private';

let issuer: TestIssuer;
let keys: dpop.KeyPair;
let jkt: string;
let cert: TestCertificate;
let otherCert: TestCertificate;

beforeAll(async () => {
  issuer = await TestIssuer.start();
  keys = await dpop.generateKeyPair('ES256');
  jkt = await calculateJwkThumbprint(await exportJWK(keys.publicKey));
  cert = makeCertificate('client-core');
  otherCert = makeCertificate('client-other');
});
afterAll(async () => {
  await issuer?.close();
});

function validator(mode?: MtlsMode, options: Partial<ApiOptions> = {}) {
  return withResponses(createValidator({ domain: issuer.origin, audience: AUDIENCE, ...(mode ? { mtls: { mode } } : {}), ...options }), URL_);
}

async function requestFor(scheme: 'bearer' | 'dpop', token: string, certificate?: Uint8Array): Promise<RequestContext> {
  const headers: Record<string, string> = { authorization: `${scheme === 'dpop' ? 'DPoP' : 'Bearer'} ${token}` };
  if (scheme === 'dpop') headers.dpop = await dpop.generateProof(keys, URL_, 'GET', undefined, token);
  return { method: 'GET', url: URL_, headers, clientCertificate: () => certificate };
}

/** 401 invalid_token for `reason`, with the error on the challenge of the scheme used only. */
async function expectRefused(promise: Promise<unknown>, reason: string, scheme: 'bearer' | 'dpop'): Promise<void> {
  const error = await rejection(promise);
  expect({ status: error.status, code: error.code, reason: error.reason }).toEqual({ status: 401, code: 'invalid_token', reason });
  const challenges = parseChallenges(error.headers['WWW-Authenticate'] ?? null);
  const used = scheme === 'dpop' ? 'DPoP' : 'Bearer';
  expect(challenges.find((c) => c.scheme === used)?.params.error).toBe('invalid_token');
  for (const other of challenges.filter((c) => c.scheme !== used)) expect(other.params.error).toBeUndefined();
}

const SCHEMES = ['bearer', 'dpop'] as const;

describe('confirmation methods this API cannot verify are refused (mtls disabled, the default)', () => {
  // `jkt` is added on DPoP requests so that the token is DPoP-bound to the proof key: only the other member is wrong.
  const unverifiable: Array<[string, () => Record<string, unknown>]> = [
    ['x5t#S256 (RFC 8705, Auth0 mTLS binding)', () => ({ 'x5t#S256': cert.x5tS256 })],
    ['jwk (RFC 7800 §3.2)', () => ({ jwk: { kty: 'EC', crv: 'P-256', x: 'f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU', y: 'x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0' } })],
    ['x5t (SHA-1 thumbprint)', () => ({ x5t: 'dGhpcyBpcyBub3QgYSByZWFsIHRodW1icHJpbnQ' })],
    ['an unknown member', () => ({ 'x-custom': 'anything' })],
    ['an unknown member holding an object', () => ({ kid: { jkt: 'nested' } })],
    ['a "__proto__" member (own property from JSON)', () => JSON.parse('{"__proto__":{"jkt":"inherited"}}') as Record<string, unknown>],
  ];

  for (const scheme of SCHEMES) {
    it.each(unverifiable)(`${scheme}: cnf with %s is 401 invalid_token (token.cnf_unsupported)`, async (_name, cnf) => {
      const token = await issuer.token(AUDIENCE, { cnf: { ...cnf(), ...(scheme === 'dpop' ? { jkt } : {}) } });
      await expectRefused(validator().verifyRequest(await requestFor(scheme, token, cert.der)), 'token.cnf_unsupported', scheme);
    });

    it.each([
      ['an empty object', {}],
      ['jkt a number', { jkt: 42 }],
      ['jkt null', { jkt: null }],
      ['jkt an array', { jkt: [jkt] }],
      ['x5t#S256 a number', { 'x5t#S256': 1 }],
      ['x5t#S256 an object', { 'x5t#S256': { value: 'x' } }],
    ])(`${scheme}: cnf %s is 401 invalid_token (token.cnf_malformed)`, async (_name, cnf) => {
      const token = await issuer.token(AUDIENCE, { cnf });
      await expectRefused(validator('allowed').verifyRequest(await requestFor(scheme, token, cert.der)), 'token.cnf_malformed', scheme);
    });

    it.each([
      ['a string', 'x5t#S256'],
      ['an array', [{ jkt: 'x' }]],
      ['null', null],
      ['a number', 0],
      ['true', true],
    ])(`${scheme}: cnf as %s is 401 invalid_token (token.cnf_malformed)`, async (_name, cnf) => {
      const token = await issuer.token(AUDIENCE, { cnf });
      await expectRefused(validator().verifyRequest(await requestFor(scheme, token)), 'token.cnf_malformed', scheme);
    });
  }

  it('control: the same validator accepts an unbound Bearer token and a jkt-bound DPoP token', async () => {
    await expect(validator().verifyRequest(await requestFor('bearer', await issuer.token(AUDIENCE)))).resolves.toMatchObject({ scheme: 'bearer' });
    await expect(validator().verifyRequest(await requestFor('dpop', await issuer.token(AUDIENCE, { cnf: { jkt } })))).resolves.toMatchObject({ scheme: 'dpop' });
  });

  it('verifyAccessToken (no proof, no certificate possible) refuses every bound token', async () => {
    const v = validator('allowed');
    for (const cnf of [{ jkt }, { 'x5t#S256': cert.x5tS256 }, { jwk: {} }]) {
      const error = await rejection(v.verifyAccessToken(await issuer.token(AUDIENCE, { cnf })));
      expect(error.status).toBe(401);
      expect(['token.bound_as_bearer', 'token.certificate_missing', 'token.cnf_unsupported']).toContain(error.reason);
    }
  });

  it('verifyAccessToken with the bound certificate accepts an x5t#S256 token (mtls allowed)', async () => {
    const token = await issuer.token(AUDIENCE, { cnf: { 'x5t#S256': cert.x5tS256 } });
    await expect(validator('allowed').verifyAccessToken(token, { clientCertificate: () => cert.der })).resolves.toMatchObject({ sub: 'auth0|user-1' });
  });
});

describe('x5t#S256 is verified when certificate-bound tokens are enabled', () => {
  for (const scheme of SCHEMES) {
    const cnf = (x5t: string) => ({ 'x5t#S256': x5t, ...(scheme === 'dpop' ? { jkt } : {}) });

    it(`${scheme}: the bound certificate is accepted`, async () => {
      const token = await issuer.token(AUDIENCE, { cnf: cnf(cert.x5tS256) });
      await expect(validator('allowed').verifyRequest(await requestFor(scheme, token, cert.der))).resolves.toMatchObject({ scheme });
    });
    it(`${scheme}: another certificate is 401 (token.certificate_mismatch)`, async () => {
      const token = await issuer.token(AUDIENCE, { cnf: cnf(cert.x5tS256) });
      await expectRefused(validator('allowed').verifyRequest(await requestFor(scheme, token, otherCert.der)), 'token.certificate_mismatch', scheme);
    });
    it(`${scheme}: no certificate, or an empty one, is 401 (token.certificate_missing)`, async () => {
      const token = await issuer.token(AUDIENCE, { cnf: cnf(cert.x5tS256) });
      await expectRefused(validator('allowed').verifyRequest(await requestFor(scheme, token)), 'token.certificate_missing', scheme);
      await expectRefused(validator('allowed').verifyRequest(await requestFor(scheme, token, new Uint8Array(0))), 'token.certificate_missing', scheme);
      const noReader = { ...(await requestFor(scheme, token)), clientCertificate: undefined };
      await expectRefused(validator('allowed').verifyRequest(noReader), 'token.certificate_missing', scheme);
    });
    it(`${scheme}: required mode refuses a token without x5t#S256 (token.not_certificate_bound)`, async () => {
      const token = await issuer.token(AUDIENCE, scheme === 'dpop' ? { cnf: { jkt } } : {});
      await expectRefused(validator('required').verifyRequest(await requestFor(scheme, token, cert.der)), 'token.not_certificate_bound', scheme);
    });
    it(`${scheme}: a thumbprint differing only in case or padding is a mismatch (exact comparison)`, async () => {
      for (const variant of [cert.x5tS256.toUpperCase(), `${cert.x5tS256}=`, Buffer.from(cert.x5tS256, 'base64url').toString('base64')]) {
        if (variant === cert.x5tS256) continue;
        const token = await issuer.token(AUDIENCE, { cnf: cnf(variant) });
        await expectRefused(validator('allowed').verifyRequest(await requestFor(scheme, token, cert.der)), 'token.certificate_mismatch', scheme);
      }
    });
  }

  it('the certificate is read only for a certificate-bound token', async () => {
    let reads = 0;
    const request = await requestFor('bearer', await issuer.token(AUDIENCE));
    await validator('allowed').verifyRequest({ ...request, clientCertificate: () => (reads++, cert.der) });
    expect(reads).toBe(0);
    const boundRequest = await requestFor('bearer', await issuer.token(AUDIENCE, { cnf: { 'x5t#S256': cert.x5tS256 } }));
    await validator('allowed').verifyRequest({ ...boundRequest, clientCertificate: () => (reads++, cert.der) });
    expect(reads).toBe(1);
  });

  it('certificateThumbprint is base64url(SHA-256(DER)) as openssl computes it', () => {
    expect(certificateThumbprint(cert.der)).toBe(cert.x5tS256);
  });

  it('checkConfirmation: both bindings on one token are checked, in any order of failure', () => {
    const claims = { iss: 'x', sub: 's', aud: AUDIENCE, exp: 0, cnf: { jkt: 'k', 'x5t#S256': cert.x5tS256 } } as never;
    const facts = (thumbprint: string, der: Uint8Array | undefined) => ({ scheme: 'dpop' as const, proofThumbprint: thumbprint, mtlsMode: 'allowed' as const, clientCertificate: () => der });
    expect(() => checkConfirmation(claims, facts('k', cert.der))).not.toThrow();
    expect(() => checkConfirmation(claims, facts('other', cert.der))).toThrow(expect.objectContaining({ reason: 'token.jkt_mismatch' }));
    expect(() => checkConfirmation(claims, facts('k', otherCert.der))).toThrow(expect.objectContaining({ reason: 'token.certificate_mismatch' }));
    expect(() => checkConfirmation(claims, facts('other', otherCert.der))).toThrow(expect.objectContaining({ status: 401 }));
  });
});
