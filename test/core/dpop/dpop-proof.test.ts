/**
 * `verifyProof` (RFC 9449 §4.3): a valid proof passes, and each single check, failing alone, rejects the proof with
 * `invalid_dpop_proof` for the expected reason. Broken proofs are signed here with jose or node:crypto; valid ones
 * also come from the `dpop` client library.
 */
import { createHmac, generateKeyPairSync, randomUUID, sign as cryptoSign, type KeyObject } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { CompactSign, SignJWT, calculateJwkThumbprint, exportJWK, type JWK } from 'jose';
import { generateKeyPair, generateProof, type JWSAlgorithm } from 'dpop';
import { verifyProof as verifyProofSync, accessTokenHash, MAX_JTI_LENGTH, MAX_PROOF_LENGTH, type ProofRules } from '../../../src/core/dpop/dpop-proof.js';
import type { Algorithm } from '../../../src/core/config.js';
import { rejection, highS } from '../../support/helpers.js';

const HTU = 'https://api.example.com/api/private';
const ACCESS_TOKEN = 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ1c2VyIn0.c2lnbmF0dXJl';
const NOW = 1_750_000_000;

const ec256 = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const ec384 = generateKeyPairSync('ec', { namedCurve: 'P-384' });
const otherEc256 = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const rsa2048 = generateKeyPairSync('rsa', { modulusLength: 2048 });
const rsa1024 = generateKeyPairSync('rsa', { modulusLength: 1024 });

function publicJwk(key: KeyObject): JWK {
  return key.export({ format: 'jwk' });
}

function rules(overrides: Partial<ProofRules> = {}): ProofRules {
  return { method: 'GET', url: HTU, accessTokenHash: accessTokenHash(ACCESS_TOKEN), algorithms: ['ES256'], iatLeeway: 30, iatOffset: 300, now: NOW, ...overrides };
}

/** verifyProof is synchronous; as a promise, its refusals read like the other files' (`rejection`, `.resolves`). */
const verifyProof = async (text: string, r: ProofRules) => verifyProofSync(text, r);

function validClaims(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  const claims: Record<string, unknown> = { jti: randomUUID(), htm: 'GET', htu: HTU, iat: NOW, ath: accessTokenHash(ACCESS_TOKEN), ...overrides };
  for (const [k, v] of Object.entries(claims)) if (v === undefined) delete claims[k];
  return claims;
}

/** A proof signed by jose: valid unless `claims`/`header` override something. `undefined` removes a member. */
async function proof(options: { claims?: Record<string, unknown>; header?: Record<string, unknown>; key?: KeyObject; alg?: string } = {}): Promise<string> {
  const alg = options.alg ?? 'ES256';
  const header: Record<string, unknown> = { alg, typ: 'dpop+jwt', jwk: publicJwk(ec256.publicKey), ...options.header };
  for (const [k, v] of Object.entries(header)) if (v === undefined) delete header[k];
  return new SignJWT(validClaims(options.claims)).setProtectedHeader(header as { alg: string }).sign(options.key ?? ec256.privateKey);
}

const b64 = (value: unknown) => Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');

/** A compact JWS over any header and payload bytes, signed by `signer`: for what jose refuses to produce. */
function rawJws(header: unknown, payload: unknown, signer: (input: Buffer) => Buffer): string {
  const input = `${b64(header)}.${b64(payload)}`;
  return `${input}.${signer(Buffer.from(input)).toString('base64url')}`;
}

const es256Signer = (key: KeyObject) => (input: Buffer) => cryptoSign('sha256', input, { key, dsaEncoding: 'ieee-p1363' });

/** Asserts the proof is refused as `invalid_dpop_proof` for `reason`, on the DPoP scheme. */
async function expectRefused(proofText: string, reason: string, overrides: Partial<ProofRules> = {}): Promise<void> {
  const error = await rejection(verifyProof(proofText, rules(overrides)));
  expect({ code: error.code, status: error.status, scheme: error.scheme, reason: error.reason }).toEqual({
    code: 'invalid_dpop_proof',
    status: 401,
    scheme: 'dpop',
    reason,
  });
  expect(error.description).toMatch(/^The DPoP proof/);
}

describe('verifyProof: valid proofs', () => {
  it('accepts a valid proof and returns the key thumbprint, jti, iat and nonce', async () => {
    const jti = randomUUID();
    const result = await verifyProof(await proof({ claims: { jti, nonce: 'n-1' } }), rules());
    expect(result.thumbprint).toBe(await calculateJwkThumbprint(publicJwk(ec256.publicKey), 'sha256'));
    expect(result).toMatchObject({ jti, iat: NOW, nonce: 'n-1' });
  });

  it.each<[JWSAlgorithm, Algorithm]>([
    ['ES256', 'ES256'],
    ['RS256', 'RS256'],
    ['PS256', 'PS256'],
    ['Ed25519', 'Ed25519'],
  ])('accepts a proof made by the dpop package with %s when that alg is allowed', async (clientAlg, alg) => {
    const keyPair = await generateKeyPair(clientAlg, { extractable: true });
    const text = await generateProof(keyPair, HTU, 'GET', undefined, ACCESS_TOKEN);
    const result = await verifyProof(text, rules({ algorithms: [alg], now: undefined }));
    expect(result.thumbprint).toBe(await calculateJwkThumbprint(await exportJWK(keyPair.publicKey), 'sha256'));
  });

  it('accepts the query-less URL of a request that has a query string', async () => {
    await expect(verifyProof(await proof(), rules({ url: `${HTU}?page=2` }))).resolves.toMatchObject({ iat: NOW });
  });

  it('accepts iat exactly 300 s in the past and exactly 30 s in the future', async () => {
    await expect(verifyProof(await proof({ claims: { iat: NOW - 300 } }), rules())).resolves.toMatchObject({ iat: NOW - 300 });
    await expect(verifyProof(await proof({ claims: { iat: NOW + 30 } }), rules())).resolves.toMatchObject({ iat: NOW + 30 });
  });

  it('accepts a future exp', async () => {
    await expect(verifyProof(await proof({ claims: { exp: NOW + 1 } }), rules())).resolves.toMatchObject({ iat: NOW });
  });

  it(`accepts a jti of exactly ${MAX_JTI_LENGTH} characters`, async () => {
    const jti = 'j'.repeat(MAX_JTI_LENGTH);
    await expect(verifyProof(await proof({ claims: { jti } }), rules())).resolves.toMatchObject({ jti });
  });

  it('accepts a proof of exactly the size limit (within base64 granularity)', async () => {
    const text = await proof({ claims: { jti: 'fixed', pad: 'x'.repeat(await padToLimit()) } });
    expect(text.length).toBeGreaterThan(MAX_PROOF_LENGTH - 4);
    expect(text.length).toBeLessThanOrEqual(MAX_PROOF_LENGTH);
    await expect(verifyProof(text, rules())).resolves.toMatchObject({ iat: NOW });
  });
});

/** The `pad` claim length that brings a proof to the size limit: 3 payload bytes are 4 base64url characters. */
async function padToLimit(): Promise<number> {
  const unpadded = (await proof({ claims: { jti: 'fixed', pad: '' } })).length;
  return Math.floor(((MAX_PROOF_LENGTH - unpadded) * 3) / 4);
}

describe('verifyProof: shape', () => {
  it('refuses a proof over the size limit', async () => {
    const text = await proof({ claims: { jti: 'fixed', pad: 'x'.repeat((await padToLimit()) + 3) } });
    expect(text.length).toBeGreaterThan(MAX_PROOF_LENGTH);
    expect(text.length).toBeLessThanOrEqual(MAX_PROOF_LENGTH + 4);
    await expectRefused(text, 'proof.malformed');
  });

  it('refuses two comma-joined proofs', async () => {
    await expectRefused(`${await proof()},${await proof()}`, 'proof.malformed');
    await expectRefused(`${await proof()}, ${await proof()}`, 'proof.malformed');
  });

  it('refuses what is not a compact JWS', async () => {
    const valid = await proof();
    for (const text of ['', 'abc', 'a.b', 'a.b.c.d', `${valid}.x`, ` ${valid}`, valid.replace('.', '..'), valid.replace(/\.[^.]*$/, '.')]) {
      await expectRefused(text, 'proof.malformed');
    }
  });

  it('refuses a header that is not a JSON object', async () => {
    const [, p, s] = (await proof()).split('.');
    for (const header of [b64('not json'), b64([1, 2]), b64(null), b64('"dpop+jwt"')]) {
      await expectRefused(`${header}.${p}.${s}`, 'proof.malformed_header');
    }
  });

  it.each<[string, unknown]>([
    ['an array', [1, 2]],
    ['a string', 'hello'],
    ['null', null],
    ['a number', 42],
  ])('refuses a signed payload that is %s', async (_name, payload) => {
    const header = { alg: 'ES256', typ: 'dpop+jwt', jwk: publicJwk(ec256.publicKey) };
    await expectRefused(rawJws(header, payload, es256Signer(ec256.privateKey)), 'proof.malformed_payload');
  });

  it('refuses a signed payload that is not JSON', async () => {
    const header = { alg: 'ES256', typ: 'dpop+jwt', jwk: publicJwk(ec256.publicKey) };
    const input = `${b64(header)}.${Buffer.from('{not json').toString('base64url')}`;
    const text = `${input}.${es256Signer(ec256.privateKey)(Buffer.from(input)).toString('base64url')}`;
    await expectRefused(text, 'proof.malformed_payload');
  });
});

describe('verifyProof: typ', () => {
  it.each<[string, unknown]>([
    ['missing', undefined],
    ['JWT', 'JWT'],
    ['at+jwt', 'at+jwt'],
    ['a number', 1],
  ])('refuses typ %s', async (_name, typ) => {
    await expectRefused(await proof({ header: { typ } }), 'proof.typ');
  });
});

describe('verifyProof: alg', () => {
  it('refuses alg none (with a signature segment so the shape is valid)', async () => {
    const text = rawJws({ alg: 'none', typ: 'dpop+jwt', jwk: publicJwk(ec256.publicKey) }, validClaims(), () => Buffer.from('x'));
    await expectRefused(text, 'proof.alg_not_allowed');
  });

  it('refuses an unsigned alg none proof', async () => {
    const input = `${b64({ alg: 'none', typ: 'dpop+jwt', jwk: publicJwk(ec256.publicKey) })}.${b64(validClaims())}`;
    await expectRefused(`${input}.`, 'proof.malformed');
  });

  it('refuses HS256 even with the secret published as an oct jwk', async () => {
    const secret = Buffer.alloc(32, 7);
    const jwk = { kty: 'oct', k: secret.toString('base64url') };
    const text = rawJws({ alg: 'HS256', typ: 'dpop+jwt', jwk }, validClaims(), (input) => createHmac('sha256', secret).update(input).digest());
    await expectRefused(text, 'proof.alg_not_allowed');
  });

  it('refuses RS256 when only ES256 is allowed', async () => {
    await expectRefused(await proof({ alg: 'RS256', key: rsa2048.privateKey, header: { jwk: publicJwk(rsa2048.publicKey) } }), 'proof.alg_not_allowed');
  });

  it('refuses a missing or non-string alg', async () => {
    const claims = validClaims();
    for (const alg of [undefined, 256, ['ES256']]) {
      const header = { alg, typ: 'dpop+jwt', jwk: publicJwk(ec256.publicKey) };
      await expectRefused(rawJws(header, claims, es256Signer(ec256.privateKey)), 'proof.alg_not_allowed');
    }
  });

  it('refuses an alg whose case differs', async () => {
    const header = { alg: 'es256', typ: 'dpop+jwt', jwk: publicJwk(ec256.publicKey) };
    await expectRefused(rawJws(header, validClaims(), es256Signer(ec256.privateKey)), 'proof.alg_not_allowed');
  });

  it('refuses crit and b64 header parameters', async () => {
    const jwk = publicJwk(ec256.publicKey);
    await expectRefused(rawJws({ alg: 'ES256', typ: 'dpop+jwt', jwk, crit: ['exp'], exp: NOW + 60 }, validClaims(), es256Signer(ec256.privateKey)), 'proof.unsupported_header');
    await expectRefused(rawJws({ alg: 'ES256', typ: 'dpop+jwt', jwk, b64: false }, validClaims(), es256Signer(ec256.privateKey)), 'proof.unsupported_header');
  });
});

describe('verifyProof: jwk', () => {
  it('refuses a proof without jwk', async () => {
    await expectRefused(await proof({ header: { jwk: undefined } }), 'proof.jwk_missing');
  });

  it('refuses a jwk that is not an object', async () => {
    for (const jwk of ['key', 42, null, [publicJwk(ec256.publicKey)]]) {
      await expectRefused(await proof({ header: { jwk } }), 'proof.jwk_missing');
    }
  });

  it('refuses a private jwk (d present)', async () => {
    const privateJwk = ec256.privateKey.export({ format: 'jwk' });
    expect(privateJwk.d).toBeTypeOf('string');
    await expectRefused(await proof({ header: { jwk: privateJwk } }), 'proof.jwk_private');
  });

  it('refuses an RSA jwk with private members', async () => {
    const privateJwk = rsa2048.privateKey.export({ format: 'jwk' });
    await expectRefused(await proof({ alg: 'RS256', key: rsa2048.privateKey, header: { jwk: privateJwk } }), 'proof.jwk_private', { algorithms: ['RS256'] });
  });

  it('refuses a symmetric (oct) or unknown key type', async () => {
    await expectRefused(await proof({ header: { jwk: { kty: 'oct' } } }), 'proof.jwk_unsupported');
    await expectRefused(await proof({ header: { jwk: { ...publicJwk(ec256.publicKey), kty: 'ec' } } }), 'proof.jwk_unsupported');
    await expectRefused(await proof({ header: { jwk: { ...publicJwk(ec256.publicKey), kty: undefined } } }), 'proof.jwk_unsupported');
  });

  it('refuses a jwk that is not a valid key', async () => {
    const jwk = publicJwk(ec256.publicKey);
    await expectRefused(await proof({ header: { jwk: { ...jwk, x: 'AAAA' } } }), 'proof.jwk_invalid');
    await expectRefused(await proof({ header: { jwk: { kty: 'EC', crv: 'P-256' } } }), 'proof.jwk_invalid');
  });

  it('refuses a P-384 key with alg ES256 (curve mismatch)', async () => {
    const header = { alg: 'ES256', typ: 'dpop+jwt', jwk: publicJwk(ec384.publicKey) };
    await expectRefused(rawJws(header, validClaims(), es256Signer(ec384.privateKey)), 'proof.jwk_alg_mismatch');
  });

  it('refuses an RSA key under 2048 bits even when RS256 is allowed (bounds, before import)', async () => {
    const header = { alg: 'RS256', typ: 'dpop+jwt', jwk: publicJwk(rsa1024.publicKey) };
    const text = rawJws(header, validClaims(), (input) => cryptoSign('sha256', input, rsa1024.privateKey));
    await expectRefused(text, 'proof.jwk_invalid', { algorithms: ['RS256'] });
  });

  it('refuses an EC key with alg RS256', async () => {
    const header = { alg: 'RS256', typ: 'dpop+jwt', jwk: publicJwk(ec256.publicKey) };
    await expectRefused(rawJws(header, validClaims(), es256Signer(ec256.privateKey)), 'proof.jwk_alg_mismatch', { algorithms: ['RS256', 'ES256'] });
  });
});

describe('verifyProof: imported keys are reused safely', () => {
  it('still checks private members and alg fit for a key it has seen before', async () => {
    await expect(verifyProof(await proof(), rules())).resolves.toMatchObject({ iat: NOW }); // key now imported
    const privateJwk = ec256.privateKey.export({ format: 'jwk' });
    await expectRefused(await proof({ header: { jwk: privateJwk } }), 'proof.jwk_private');
    const header = { alg: 'ES384', typ: 'dpop+jwt', jwk: publicJwk(ec256.publicKey) };
    const es384 = rawJws(header, validClaims(), (input) => cryptoSign('sha384', input, { key: ec256.privateKey, dsaEncoding: 'ieee-p1363' }));
    await expectRefused(es384, 'proof.jwk_alg_mismatch', { algorithms: ['ES256', 'ES384'] });
  });

  it('does not confuse two keys that share x but not y', async () => {
    await expect(verifyProof(await proof(), rules())).resolves.toBeDefined();
    const other = publicJwk(otherEc256.publicKey);
    const mixed = { ...publicJwk(ec256.publicKey), y: other.y };
    await expectRefused(await proof({ header: { jwk: mixed } }), 'proof.jwk_invalid'); // not a point on the curve
  });

  it('refuses a jwk whose required members are not strings', async () => {
    const jwk = publicJwk(ec256.publicKey);
    await expectRefused(await proof({ header: { jwk: { ...jwk, x: 12345 } } }), 'proof.jwk_invalid');
    await expectRefused(await proof({ header: { jwk: { ...jwk, crv: undefined } } }), 'proof.jwk_invalid');
  });
});

describe('verifyProof: signature', () => {
  it('refuses a proof signed by another key than its jwk', async () => {
    await expectRefused(await proof({ key: otherEc256.privateKey }), 'proof.signature');
  });

  it('refuses a proof whose payload was changed after signing', async () => {
    const [h, , s] = (await proof()).split('.');
    await expectRefused(`${h}.${b64(validClaims({ htm: 'GET' }))}.${s}`, 'proof.signature');
  });

  it('refuses a proof whose header was changed after signing', async () => {
    const [, p, s] = (await proof()).split('.');
    const header = { alg: 'ES256', typ: 'dpop+jwt', jwk: publicJwk(ec256.publicKey), kid: 'x' };
    await expectRefused(`${b64(header)}.${p}.${s}`, 'proof.signature');
  });

  it('refuses a truncated signature', async () => {
    const [h, p, sig] = (await proof()).split('.') as [string, string, string];
    const truncated = Buffer.from(sig, 'base64url').subarray(0, 60).toString('base64url');
    await expectRefused(`${h}.${p}.${truncated}`, 'proof.signature');
  });

  it('refuses a non-canonical signature encoding (non-zero trailing bits) that lenient decoders read as the same bytes', async () => {
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    const valid = await proof();
    const last = alphabet.indexOf(valid.at(-1)!);
    const twin = `${valid.slice(0, -1)}${alphabet[last ^ 1]}`; // 64 bytes = 86 chars: the last 4 bits are padding
    expect(Buffer.from(twin.split('.')[2]!, 'base64url')).toEqual(Buffer.from(valid.split('.')[2]!, 'base64url'));
    await expectRefused(twin, 'proof.malformed');
  });

  it('refuses a signature made with CompactSign over a different payload', async () => {
    const header = { alg: 'ES256', typ: 'dpop+jwt', jwk: publicJwk(ec256.publicKey) };
    const other = await new CompactSign(Buffer.from(JSON.stringify(validClaims()))).setProtectedHeader(header).sign(ec256.privateKey);
    const [h, p] = (await proof()).split('.');
    await expectRefused(`${h}.${p}.${other.split('.')[2]}`, 'proof.signature');
  });
});

describe('verifyProof: signature encodings (attack catalogue #4-#6)', () => {
  it('refuses the psychic signature (r = s = 0)', async () => {
    const [h, p] = (await proof()).split('.');
    await expectRefused(`${h}.${p}.${Buffer.alloc(64).toString('base64url')}`, 'proof.signature');
  });

  it('refuses a DER-encoded ECDSA signature', async () => {
    const header = { alg: 'ES256', typ: 'dpop+jwt', jwk: publicJwk(ec256.publicKey) };
    await expectRefused(
      rawJws(header, validClaims(), (input) => cryptoSign('sha256', input, ec256.privateKey)),
      'proof.signature',
    );
  });

  it('refuses padded or standard-base64 segments', async () => {
    const valid = await proof();
    await expectRefused(`${valid}=`, 'proof.malformed');
    await expectRefused(`${valid.slice(0, -1)}+`, 'proof.malformed');
    await expectRefused(`${valid.slice(0, -1)}/`, 'proof.malformed');
  });

  it('accepts the high-S twin of a proof with the same jti and key: replay detection must not key on proof bytes', async () => {
    const jti = randomUUID();
    const original = await proof({ claims: { jti } });
    const twin = highS(original);
    expect(twin).not.toBe(original);
    const [a, b] = await Promise.all([verifyProof(original, rules()), verifyProof(twin, rules())]);
    expect(b.jti).toBe(a.jti);
    expect(b.thumbprint).toBe(a.thumbprint);
  });
});

describe('verifyProof: thumbprint (attack catalogue #38)', () => {
  it('computes the RFC 7638 thumbprint regardless of member order and extra members', async () => {
    const { kty, crv, x, y } = publicJwk(ec256.publicKey);
    const jwk = { y, kid: 'client-key', x, use: 'sig', alg: 'ES256', crv, kty };
    const result = await verifyProof(await proof({ header: { jwk } }), rules());
    expect(result.thumbprint).toBe(await calculateJwkThumbprint({ kty, crv, x, y }, 'sha256'));
  });
});

describe('verifyProof: claims', () => {
  it('refuses htm in another case (methods are case-sensitive)', async () => {
    await expectRefused(await proof({ claims: { htm: 'get' } }), 'proof.htm');
  });

  it('refuses htm naming another method, or missing', async () => {
    await expectRefused(await proof({ claims: { htm: 'POST' } }), 'proof.htm');
    await expectRefused(await proof(), 'proof.htm', { method: 'POST' });
    await expectRefused(await proof({ claims: { htm: undefined } }), 'proof.htm');
  });

  it('refuses htu for another URL, missing, or not a string', async () => {
    await expectRefused(await proof({ claims: { htu: 'https://api.example.com/api/public' } }), 'proof.htu');
    await expectRefused(await proof({ claims: { htu: 'https://evil.example/api/private' } }), 'proof.htu');
    await expectRefused(await proof({ claims: { htu: `${HTU}/` } }), 'proof.htu');
    await expectRefused(await proof({ claims: { htu: undefined } }), 'proof.htu');
    await expectRefused(await proof({ claims: { htu: ['https://api.example.com/api/private'] } }), 'proof.htu');
  });

  it('refuses iat more than 300 s in the past', async () => {
    await expectRefused(await proof({ claims: { iat: NOW - 301 } }), 'proof.too_old');
  });

  it('refuses iat more than 30 s in the future', async () => {
    await expectRefused(await proof({ claims: { iat: NOW + 31 } }), 'proof.iat_future');
  });

  it('honours custom iatOffset and iatLeeway', async () => {
    await expectRefused(await proof({ claims: { iat: NOW - 61 } }), 'proof.too_old', { iatOffset: 60 });
    await expectRefused(await proof({ claims: { iat: NOW + 1 } }), 'proof.iat_future', { iatLeeway: 0 });
  });

  it('refuses a missing or non-numeric iat', async () => {
    await expectRefused(await proof({ claims: { iat: undefined } }), 'proof.iat_missing');
    await expectRefused(await proof({ claims: { iat: String(NOW) } }), 'proof.iat_missing');
    await expectRefused(await proof({ claims: { iat: null } }), 'proof.iat_missing');
  });

  it('refuses exp in the past, now, or not a number', async () => {
    await expectRefused(await proof({ claims: { exp: NOW - 1 } }), 'proof.expired');
    await expectRefused(await proof({ claims: { exp: NOW } }), 'proof.expired');
    await expectRefused(await proof({ claims: { exp: String(NOW + 60) } }), 'proof.expired');
  });

  it('refuses a missing, empty or non-string jti', async () => {
    await expectRefused(await proof({ claims: { jti: undefined } }), 'proof.jti_missing');
    await expectRefused(await proof({ claims: { jti: '' } }), 'proof.jti_missing');
    await expectRefused(await proof({ claims: { jti: 12345 } }), 'proof.jti_missing');
  });

  it(`refuses a jti over ${MAX_JTI_LENGTH} characters`, async () => {
    await expectRefused(await proof({ claims: { jti: 'j'.repeat(MAX_JTI_LENGTH + 1) } }), 'proof.jti_too_long');
  });

  it('refuses a missing ath', async () => {
    await expectRefused(await proof({ claims: { ath: undefined } }), 'proof.ath');
  });

  it('refuses an ath of another token, or not base64url(SHA-256)', async () => {
    await expectRefused(await proof({ claims: { ath: accessTokenHash(`${ACCESS_TOKEN}x`) } }), 'proof.ath');
    await expectRefused(await proof({ claims: { ath: Buffer.from(accessTokenHash(ACCESS_TOKEN), 'base64url').toString('base64') + '=' } }), 'proof.ath');
    await expectRefused(await proof({ claims: { ath: ACCESS_TOKEN } }), 'proof.ath');
  });

  it('refuses a valid proof presented with another access token', async () => {
    await expectRefused(await proof(), 'proof.ath', { accessTokenHash: accessTokenHash(`${ACCESS_TOKEN}x`) });
  });
});

describe('accessTokenHash', () => {
  it('is base64url(SHA-256(token)) as the dpop package computes it', async () => {
    const keyPair = await generateKeyPair('ES256', { extractable: true });
    const text = await generateProof(keyPair, HTU, 'GET', undefined, ACCESS_TOKEN);
    const payload = JSON.parse(Buffer.from(text.split('.')[1]!, 'base64url').toString()) as { ath: string };
    expect(accessTokenHash(ACCESS_TOKEN)).toBe(payload.ath);
    expect(accessTokenHash(ACCESS_TOKEN)).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });
});

beforeAll(() => {
  // Sanity: the fixtures really are what the test names say.
  expect(ec384.publicKey.asymmetricKeyDetails?.namedCurve).toBe('secp384r1');
  expect(rsa1024.publicKey.asymmetricKeyDetails?.modulusLength).toBe(1024);
});
