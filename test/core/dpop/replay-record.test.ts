/**
 * The replay record of an accepted DPoP proof (dpop.ts `replayRecord`):
 *
 * - its TTL covers the proof's whole acceptance window by this clock — `iat` checks use whole
 *   seconds, so a proof is accepted until `floor(iat + iatOffset) + 1` s — plus `clockTolerance`. The old TTL was
 *   `iatOffset + iatLeeway + clockTolerance` seconds from the moment of acceptance: for a proof whose `iat` sits at the
 *   future edge (now + iatLeeway) and `clockTolerance: 0`, the entry expired up to a second before the proof stopped
 *   being accepted, and the captured proof could be replayed in that gap.
 * - (docs/decisions.md D21): distinct `jti` strings give distinct keys. The old key hashed
 *   `${thumbprint}\n${jti}` as UTF-8, which turns every lone surrogate into U+FFFD: "\ud800" and "\udbff" collided,
 *   and the second of two distinct proofs was refused as a replay of the first.
 */
import { createHash, randomUUID } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { SignJWT, calculateJwkThumbprint, exportJWK, generateKeyPair, type CryptoKey, type JWK } from 'jose';
import { proofAcceptedUntil, checkProofClaims, accessTokenHash, type VerifiedProof } from '../../../src/core/dpop/dpop-proof.js';
import { replayRecord } from '../../../src/core/dpop/dpop.js';
import { createValidator, MemoryReplayStore, type AuthError } from '../../../src/core/index.js';
import { TestIssuer } from '../../support/test-issuer.js';

const T = 1_750_000_000; // a whole second
const config = (clockTolerance = 0, iatOffset = 300): Parameters<typeof replayRecord>[2] => ({ clockTolerance, iatOffset });
const proof = (iat: number, jti = 'j-1', thumbprint = 'thumb'): VerifiedProof => ({ thumbprint, jti, iat, nonce: undefined, payload: {} });
const claims = { iss: 'https://tenant.example.com/', sub: 'auth0|user' };

/** Whether checkProofClaims (the real iat window check) accepts `iat` at the wall-clock time `ms`. */
function windowAccepts(iat: number, ms: number, iatOffset = 300, iatLeeway = 30): boolean {
  const token = 'tok';
  try {
    checkProofClaims({ jti: 'x', htm: 'GET', htu: 'https://a.example/p', iat, ath: accessTokenHash(token) }, 't', {
      method: 'GET',
      url: 'https://a.example/p',
      accessTokenHash: accessTokenHash(token),
      algorithms: ['ES256'],
      iatLeeway,
      iatOffset,
      now: Math.floor(ms / 1000),
    });
    return true;
  } catch {
    return false;
  }
}

describe('the replay entry outlives the acceptance window', () => {
  it('numbers: iat at the future edge (now + 30), clockTolerance 0 → TTL until floor(iat + 300) + 1 s', () => {
    const acceptedAt = T * 1000; // now = T, iat = T + 30 is the latest iat accepted
    expect(windowAccepts(T + 30, acceptedAt)).toBe(true);
    const record = replayRecord(proof(T + 30), claims, config(0), acceptedAt);
    expect(proofAcceptedUntil(T + 30, 300)).toBe((T + 331) * 1000);
    expect(acceptedAt + record.ttlMs).toBe((T + 331) * 1000);
    // The old TTL (offset + leeway + tolerance from now) ended here …
    const oldExpiry = acceptedAt + (300 + 30 + 0) * 1000;
    expect(oldExpiry).toBe((T + 330) * 1000);
    // … while the proof was still accepted for another second: the replay gap.
    expect(windowAccepts(T + 30, oldExpiry)).toBe(true);
    expect(windowAccepts(T + 30, (T + 331) * 1000 - 1)).toBe(true);
    expect(windowAccepts(T + 30, (T + 331) * 1000)).toBe(false);
  });

  it('for every iat in the window, fractional ones included, and any acceptance instant, the entry lives until the window closes', () => {
    for (const iatOffset of [300, 60, 1.5]) {
      for (const iatDelta of [30, 29.999, 12.5, 0, -0.25, -iatOffset + 0.5, -iatOffset]) {
        for (const msIntoSecond of [0, 1, 500, 999]) {
          const acceptedAt = T * 1000 + msIntoSecond;
          const iat = T + iatDelta;
          if (!windowAccepts(iat, acceptedAt, iatOffset)) continue;
          const expiresAt = acceptedAt + replayRecord(proof(iat), claims, config(0, iatOffset), acceptedAt).ttlMs;
          // Still accepted one millisecond before expiry? Fine. Accepted at expiry or later? Never.
          expect(windowAccepts(iat, expiresAt, iatOffset), `iat ${iatDelta}, offset ${iatOffset}, +${msIntoSecond} ms`).toBe(false);
          expect(windowAccepts(iat, expiresAt + 10_000, iatOffset)).toBe(false);
        }
      }
    }
  });

  it('clockTolerance is added on top (other instances may run that far behind), and the TTL is never under a second', () => {
    expect(replayRecord(proof(T + 30), claims, config(5), T * 1000).ttlMs).toBe(336_000);
    expect(replayRecord(proof(T - 300), claims, config(0), T * 1000 + 999).ttlMs).toBe(1000);
  });

  describe('through the validator, with a fake wall clock (Date only; sockets and timers stay real)', () => {
    let issuer: TestIssuer;
    let keys: { publicKey: CryptoKey; privateKey: CryptoKey };
    let jwk: JWK;
    const URL_ = 'https://api.example.com/api/private';

    beforeAll(async () => {
      issuer = await TestIssuer.start();
      keys = await generateKeyPair('ES256');
      jwk = await exportJWK(keys.publicKey);
    });
    afterAll(async () => {
      await issuer?.close();
    });
    afterEach(() => {
      vi.useRealTimers();
    });

    const signProof = (token: string, iat: number, jti = randomUUID()) => new SignJWT({ jti, htm: 'GET', htu: URL_, iat, ath: accessTokenHash(token) }).setProtectedHeader({ alg: 'ES256', typ: 'dpop+jwt', jwk }).sign(keys.privateKey);

    async function outcome(validator: ReturnType<typeof createValidator>, token: string, dpopProof: string): Promise<string> {
      try {
        await validator.verifyRequest({ method: 'GET', url: URL_, headers: { authorization: `DPoP ${token}`, dpop: dpopProof } });
        return 'accepted';
      } catch (error) {
        return (error as AuthError).reason;
      }
    }

    it('clockTolerance 0, iat = now + 30: a replay just before the window ends is refused (proof.replay), then the proof is too old', async () => {
      const start = Math.floor(Date.now() / 1000); // a real second, so that the issuer's token is realistic
      vi.useFakeTimers({ toFake: ['Date'] });
      vi.setSystemTime(start * 1000);
      const validator = createValidator({ domain: issuer.origin, audience: 'https://api.example.com', clockTolerance: 0, dpop: { replayStore: new MemoryReplayStore() } });
      const jkt = await calculateJwkThumbprint(jwk);
      const token = await issuer.token('https://api.example.com', { cnf: { jkt } });
      const edge = await signProof(token, start + 30);
      expect(await outcome(validator, token, edge)).toBe('accepted');

      for (const ms of [(start + 329) * 1000 + 999, (start + 330) * 1000, (start + 330) * 1000 + 500, (start + 331) * 1000 - 1]) {
        vi.setSystemTime(ms);
        // The old TTL had expired from (start + 330) s on: these replays were accepted.
        expect(await outcome(validator, token, edge), `replay at +${ms - start * 1000} ms`).toBe('proof.replay');
        // Control: a different proof with the same iat is still inside its window, so the refusal above is the replay check.
        expect(await outcome(validator, token, await signProof(token, start + 30))).toBe('accepted');
      }
      vi.setSystemTime((start + 331) * 1000);
      expect(await outcome(validator, token, edge)).toBe('proof.too_old');
    });
  });
});

describe('distinct proofs are distinct (docs/decisions.md D21)', () => {
  const LONE = ['\ud800', '\udbff', '\udc00', '\udfff', '\ufffd', 'a\ud800', 'a\udbff'];

  it('replayRecord keys differ for jti values made of different lone surrogates (and from U+FFFD itself)', () => {
    const keys = LONE.map((jti) => replayRecord(proof(T, jti), claims, config(), T * 1000).key);
    expect(new Set(keys).size).toBe(LONE.length);
    // The same jti (and key) gives the same record key: replays are still caught.
    expect(replayRecord(proof(T, '\ud800'), claims, config(), T * 1000).key).toBe(keys[0]);
  });

  it('the old key (UTF-8 of `${thumbprint}\\n${jti}`) collided for all of them', () => {
    const oldKey = (jti: string) => createHash('sha256').update(`thumb\n${jti}`).digest('base64url');
    expect(oldKey('\ud800')).toBe(oldKey('\udbff'));
    expect(oldKey('\ud800')).toBe(oldKey('\ufffd'));
  });

  it('the key separates thumbprint and jti unambiguously (no delimiter games)', () => {
    const a = replayRecord(proof(T, 'b\nc', 'a'), claims, config(), T * 1000).key;
    const b = replayRecord(proof(T, 'c', 'a\nb'), claims, config(), T * 1000).key;
    expect(a).not.toBe(b);
  });

  it('the owner is per issuer and subject, also unambiguous', () => {
    const owner = (iss: string, sub: string) => replayRecord(proof(T), { iss, sub }, config(), T * 1000).owner;
    expect(owner('https://a/', 'x')).not.toBe(owner('https://a/x', ''));
    expect(owner('https://a/', '\ud800')).not.toBe(owner('https://a/', '\udbff'));
  });

  it('a MemoryReplayStore fed by the validator accepts both lone-surrogate proofs and refuses each replay', async () => {
    const issuer = await TestIssuer.start();
    try {
      const keys = await generateKeyPair('ES256');
      const jwk = await exportJWK(keys.publicKey);
      const url = 'https://api.example.com/api/private';
      const validator = createValidator({ domain: issuer.origin, audience: 'https://api.example.com' });
      const token = await issuer.token('https://api.example.com', { cnf: { jkt: await calculateJwkThumbprint(jwk) } });
      const make = (jti: string) => new SignJWT({ jti, htm: 'GET', htu: url, iat: Math.floor(Date.now() / 1000), ath: accessTokenHash(token) }).setProtectedHeader({ alg: 'ES256', typ: 'dpop+jwt', jwk }).sign(keys.privateKey);
      const proofs = [await make('\ud800'), await make('\udbff')];
      // The payload carries the surrogates JSON-escaped (ASCII), as JSON.stringify writes them.
      expect(Buffer.from(proofs[0]!.split('.')[1]!, 'base64url').toString('latin1')).toContain('"jti":"\\ud800"');
      const send = async (p: string) =>
        validator.verifyRequest({ method: 'GET', url, headers: { authorization: `DPoP ${token}`, dpop: p } }).then(
          () => 'accepted',
          (e: AuthError) => e.reason,
        );
      expect(await send(proofs[0]!)).toBe('accepted');
      expect(await send(proofs[1]!)).toBe('accepted'); // the old key took this for a replay of the first
      expect(await send(proofs[0]!)).toBe('proof.replay');
      expect(await send(proofs[1]!)).toBe('proof.replay');
    } finally {
      await issuer.close();
    }
  });
});
