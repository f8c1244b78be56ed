/**
 * proof keys have sane bounds, checked on the JWK members before OpenSSL ever sees the key.
 *
 * Before the fix, with RSA proof algorithms enabled, a client could send a 3072-bit key with a 3071-bit public
 * exponent: importing it worked and each verification cost ~8 ms of modular exponentiation (≈130× a normal one),
 * and moduli were unbounded. Now: RSA modulus 2048–4096 bits, exponent odd with 65537 ≤ e < 2^256 (NIST SP 800-56B
 * rev. 2 §6.2), EC coordinates of exactly the curve's size and a curve matching `alg`, OKP Ed25519 with a 32-byte x.
 *
 * `createPublicKey` is wrapped (vi.mock of node:crypto, everything else real) to count imports: a refused key must
 * not be imported at all.
 */
import { generateKeyPairSync, randomBytes, randomUUID, sign as cryptoSign, verify as cryptoVerify, createPublicKey, type KeyObject } from 'node:crypto';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import type { JWK } from 'jose';
import { importPublicJwk, jwkThumbprint, JwkError, PROOF_KEY_BOUNDS } from '../../../src/core/token/jws.js';
import { verifyProof, accessTokenHash, type ProofRules } from '../../../src/core/dpop/dpop-proof.js';
import type { Algorithm } from '../../../src/core/config.js';
import { AuthError } from '../../../src/core/errors.js';

const imports = vi.hoisted(() => ({ count: 0 }));
vi.mock('node:crypto', async (importOriginal) => {
  const actual = await importOriginal<typeof import('node:crypto')>();
  const counted = ((...args: Parameters<typeof actual.createPublicKey>) => {
    imports.count++;
    return actual.createPublicKey(...args);
  }) as typeof actual.createPublicKey;
  return { ...actual, default: { ...actual, createPublicKey: counted }, createPublicKey: counted };
});

const HTU = 'https://api.example.com/api/private';
const TOKEN = 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ1c2VyIn0.c2lnbmF0dXJl';
const NOW = 1_750_000_000;

const b64 = (value: unknown) => Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');
const big = (n: bigint) => {
  const hex = n.toString(16);
  return Buffer.from(hex.length % 2 ? `0${hex}` : hex, 'hex');
};

function rules(algorithms: Algorithm[]): ProofRules {
  return { method: 'GET', url: HTU, accessTokenHash: accessTokenHash(TOKEN), algorithms, iatLeeway: 30, iatOffset: 300, now: NOW };
}

/** A proof whose header carries `jwk`, signed with `sign` (or with random bytes when the key is not real). */
function proofWith(jwk: Record<string, unknown>, alg: string, sign: (input: Buffer) => Buffer = () => randomBytes(384)): string {
  const input = `${b64({ alg, typ: 'dpop+jwt', jwk })}.${b64({ jti: randomUUID(), htm: 'GET', htu: HTU, iat: NOW, ath: accessTokenHash(TOKEN) })}`;
  return `${input}.${sign(Buffer.from(input)).toString('base64url')}`;
}

const rsaSigner = (key: KeyObject) => (input: Buffer) => cryptoSign('sha256', input, key);
const ecSigner =
  (key: KeyObject, hash = 'sha256') =>
  (input: Buffer) =>
    cryptoSign(hash, input, { key, dsaEncoding: 'ieee-p1363' });
const jwkOf = (key: KeyObject) => key.export({ format: 'jwk' }) as Record<string, string>;

/** The refusal reason of verifyProof, or 'accepted'. */
function outcome(proof: string, algorithms: Algorithm[]): string {
  try {
    verifyProof(proof, rules(algorithms));
    return 'accepted';
  } catch (error) {
    expect(error).toBeInstanceOf(AuthError);
    expect((error as AuthError).code).toBe('invalid_dpop_proof');
    return (error as AuthError).reason;
  }
}

/** Random odd number of exactly `bits` bits. */
function randomOdd(bits: number): bigint {
  const bytes = randomBytes(Math.ceil(bits / 8));
  let n = BigInt(`0x${bytes.toString('hex')}`);
  n &= (1n << BigInt(bits)) - 1n;
  return n | (1n << BigInt(bits - 1)) | 1n;
}

beforeEach(() => {
  imports.count = 0;
});

describe('RSA proof keys', () => {
  // The attack key: 3072-bit modulus, 3071-bit public exponent (never a real key pair: it does not need to be).
  const n3072 = randomOdd(3072);
  const hugeE = randomOdd(3071);
  const attackJwk = { kty: 'RSA', n: big(n3072).toString('base64url'), e: big(hugeE).toString('base64url') };

  it('a 3072-bit key with a 3071-bit exponent is refused in under 2 ms (median), before any import', () => {
    const proof = proofWith(attackJwk, 'RS256');
    expect(outcome(proof, ['RS256'])).toBe('proof.jwk_invalid'); // warm-up, and the verdict
    const times: number[] = [];
    for (let i = 0; i < 50; i++) {
      const fresh = proofWith(attackJwk, 'RS256');
      const started = performance.now();
      expect(outcome(fresh, ['RS256'])).toBe('proof.jwk_invalid');
      times.push(performance.now() - started);
    }
    times.sort((a, b) => a - b);
    expect(times[25]!).toBeLessThan(2); // median; measured ≈ 0.2 ms (parsing included) on the 2-core test machine
    console.info(`the 3071-bit-exponent proof key is refused in ${times[25]!.toFixed(3)} ms (median of 50)`);
    expect(imports.count).toBe(0); // never handed to OpenSSL, so its signature is never checked
  });

  it('contrast: what that key would cost if imported — each verification is a 3071-bit modular exponentiation', () => {
    const key = createPublicKey({ key: attackJwk as JsonWebKeyInput, format: 'jwk' });
    // Any value below n, as long as n (384 bytes): the cost is the exponentiation, valid signature or not.
    const signature = Buffer.concat([Buffer.alloc(1), big(n3072 >> 8n)]);
    expect(signature.length).toBe(384);
    const times: number[] = [];
    for (let i = 0; i < 5; i++) {
      const started = performance.now();
      cryptoVerify('sha256', Buffer.from('x'), key, signature);
      times.push(performance.now() - started);
    }
    times.sort((a, b) => a - b);
    // Not a bound on this library (it never gets here); the figure that motivates the check, ≈ 8 ms on this machine.
    expect(times[2]!).toBeGreaterThan(0.5);
    console.info(`one RS256 verification with a 3071-bit exponent costs ${times[2]!.toFixed(2)} ms (median of 5)`);
  });

  it.each([
    ['a 4097-bit modulus', { n: () => randomOdd(4097), e: 65537n }],
    ['an 8192-bit modulus', { n: () => randomOdd(8192), e: 65537n }],
    ['a 2047-bit modulus', { n: () => randomOdd(2047), e: 65537n }],
    ['e = 3', { n: () => randomOdd(2048), e: 3n }],
    ['e = 65535 (below 65537)', { n: () => randomOdd(2048), e: 65535n }],
    ['an even e (65538)', { n: () => randomOdd(2048), e: 65538n }],
    ['an even e of 256 bits', { n: () => randomOdd(2048), e: (1n << 255n) | 2n }],
    ['e = 2^256 + 1', { n: () => randomOdd(2048), e: (1n << 256n) + 1n }],
    ['e = 2^256 exactly', { n: () => randomOdd(2048), e: 1n << 256n }],
    ['e = 1', { n: () => randomOdd(2048), e: 1n }],
  ])('%s is refused before import (proof.jwk_invalid)', (_name, { n, e }) => {
    const jwk = { kty: 'RSA', n: big(n()).toString('base64url'), e: big(e).toString('base64url') };
    expect(outcome(proofWith(jwk, 'RS256'), ['RS256'])).toBe('proof.jwk_invalid');
    expect(() => jwkThumbprint(jwk, PROOF_KEY_BOUNDS)).toThrow(JwkError);
    expect(imports.count).toBe(0);
  });

  it('a zero-padded modulus longer than 4096 bits + one byte is refused before it is even measured', () => {
    const padded = Buffer.concat([Buffer.alloc(2), big(randomOdd(4096))]);
    expect(outcome(proofWith({ kty: 'RSA', n: padded.toString('base64url'), e: 'AQAB' }, 'RS256'), ['RS256'])).toBe('proof.jwk_invalid');
  });

  it('bounds at the edges: e = 65537, e = 2^256 - 1, a 4096-bit and a 2048-bit modulus pass the member checks', () => {
    for (const [bits, e] of [
      [2048, 65537n],
      [4096, 65537n],
      [2048, (1n << 256n) - 1n],
      [3072, 65539n],
    ] as const) {
      expect(() => jwkThumbprint({ kty: 'RSA', n: big(randomOdd(bits)).toString('base64url'), e: big(e).toString('base64url') }, PROOF_KEY_BOUNDS)).not.toThrow();
    }
  });

  it.each([2048, 3072, 4096])('a real %i-bit key with e = 65537 signs an accepted proof', (bits) => {
    const pair = generateKeyPairSync('rsa', { modulusLength: bits });
    expect(outcome(proofWith(jwkOf(pair.publicKey), 'RS256', rsaSigner(pair.privateKey)), ['RS256'])).toBe('accepted');
    expect(imports.count).toBe(1);
  });

  it('a real key with a large but normal exponent (2^31 - 1) is accepted; a real key with e = 3 is refused', () => {
    const large = generateKeyPairSync('rsa', { modulusLength: 2048, publicExponent: 2 ** 31 - 1 });
    expect(outcome(proofWith(jwkOf(large.publicKey), 'RS256', rsaSigner(large.privateKey)), ['RS256'])).toBe('accepted');
    const small = generateKeyPairSync('rsa', { modulusLength: 2048, publicExponent: 3 });
    expect(outcome(proofWith(jwkOf(small.publicKey), 'RS256', rsaSigner(small.privateKey)), ['RS256'])).toBe('proof.jwk_invalid');
  });
});

describe('EC and OKP proof keys', () => {
  const p256 = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const p384 = generateKeyPairSync('ec', { namedCurve: 'P-384' });
  const ed = generateKeyPairSync('ed25519');
  const p256Jwk = jwkOf(p256.publicKey);
  const coordinate = (jwk: Record<string, string>, name: 'x' | 'y') => Buffer.from(jwk[name]!, 'base64url');

  it('controls: real P-256 (ES256), P-384 (ES384) and Ed25519 (EdDSA) keys are accepted', () => {
    expect(outcome(proofWith(p256Jwk, 'ES256', ecSigner(p256.privateKey)), ['ES256'])).toBe('accepted');
    expect(outcome(proofWith(jwkOf(p384.publicKey), 'ES384', ecSigner(p384.privateKey, 'sha384')), ['ES384'])).toBe('accepted');
    expect(
      outcome(
        proofWith(jwkOf(ed.publicKey), 'EdDSA', (input) => cryptoSign(null, input, ed.privateKey)),
        ['EdDSA'],
      ),
    ).toBe('accepted');
  });

  it.each([
    ['x with a leading zero byte (33 bytes)', () => ({ ...p256Jwk, x: Buffer.concat([Buffer.alloc(1), coordinate(p256Jwk, 'x')]).toString('base64url') })],
    ['x one byte short (31 bytes)', () => ({ ...p256Jwk, x: coordinate(p256Jwk, 'x').subarray(1).toString('base64url') })],
    ['y with a leading zero byte (33 bytes)', () => ({ ...p256Jwk, y: Buffer.concat([Buffer.alloc(1), coordinate(p256Jwk, 'y')]).toString('base64url') })],
    ['y of 48 bytes (a P-384 size) on P-256', () => ({ ...p256Jwk, y: randomBytes(48).toString('base64url') })],
    ['P-256 coordinates labelled P-384', () => ({ ...p256Jwk, crv: 'P-384' })],
  ])('EC %s is refused before import', (_name, jwk) => {
    expect(['proof.jwk_invalid', 'proof.jwk_alg_mismatch']).toContain(outcome(proofWith(jwk(), 'ES256', ecSigner(p256.privateKey)), ['ES256', 'ES384']));
    expect(imports.count).toBe(0);
  });

  it('a P-384 key with alg ES256 is refused (crv must match alg), before import', () => {
    expect(outcome(proofWith(jwkOf(p384.publicKey), 'ES256', ecSigner(p384.privateKey)), ['ES256', 'ES384'])).toBe('proof.jwk_alg_mismatch');
    expect(imports.count).toBe(0);
  });

  it.each([['secp256k1'], ['P-192'], ['p-256'], ['__proto__'], ['constructor']])('EC crv %s is refused as unsupported', (crv) => {
    expect(outcome(proofWith({ ...p256Jwk, crv }, 'ES256', ecSigner(p256.privateKey)), ['ES256'])).toBe('proof.jwk_unsupported');
    expect(imports.count).toBe(0);
  });

  it.each([
    ['crv X25519', () => ({ ...jwkOf(ed.publicKey), crv: 'X25519' }), 'proof.jwk_unsupported'],
    ['crv Ed448', () => ({ ...jwkOf(ed.publicKey), crv: 'Ed448', x: randomBytes(57).toString('base64url') }), 'proof.jwk_unsupported'],
    ['x of 31 bytes', () => ({ ...jwkOf(ed.publicKey), x: randomBytes(31).toString('base64url') }), 'proof.jwk_invalid'],
    ['x of 33 bytes', () => ({ ...jwkOf(ed.publicKey), x: randomBytes(33).toString('base64url') }), 'proof.jwk_invalid'],
  ])('OKP %s is refused before import', (_name, jwk, reason) => {
    expect(
      outcome(
        proofWith(jwk(), 'EdDSA', (input) => cryptoSign(null, input, ed.privateKey)),
        ['EdDSA'],
      ),
    ).toBe(reason);
    expect(imports.count).toBe(0);
  });

  it('an Ed25519 key with alg ES256, or a P-256 key with alg EdDSA, is an alg mismatch', () => {
    expect(
      outcome(
        proofWith(jwkOf(ed.publicKey), 'ES256', (input) => cryptoSign(null, input, ed.privateKey)),
        ['ES256', 'EdDSA'],
      ),
    ).toBe('proof.jwk_alg_mismatch');
    expect(outcome(proofWith(p256Jwk, 'EdDSA', ecSigner(p256.privateKey)), ['ES256', 'EdDSA'])).toBe('proof.jwk_alg_mismatch');
  });

  it('importPublicJwk reports the same failures to any caller (issuer keys use the same checks, 8192-bit cap)', () => {
    const failure = (jwk: unknown, alg?: string) => {
      try {
        importPublicJwk(jwk, PROOF_KEY_BOUNDS, alg);
        return 'ok';
      } catch (error) {
        return (error as JwkError).failure;
      }
    };
    expect(failure({ kty: 'RSA', n: big(randomOdd(3072)).toString('base64url'), e: big(randomOdd(3071)).toString('base64url') })).toBe('invalid');
    expect(failure(jwkOf(p384.publicKey), 'ES256')).toBe('alg_mismatch');
    expect(failure({ ...p256Jwk, x: randomBytes(31).toString('base64url') })).toBe('invalid');
    expect(failure(p256Jwk, 'ES256')).toBe('ok');
  });
});

type JsonWebKeyInput = JWK & Record<string, unknown>;
