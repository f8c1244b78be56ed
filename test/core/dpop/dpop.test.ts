/**
 * DPoP for one API configuration (src/core/dpop/dpop.ts): DpopVerifier's proof check (the settings reach
 * dpop-proof.ts), the resource-server nonce flow (RFC 9449 §9), the replay record written last (§11.1), and what a
 * failing replay store means under `onStoreError`; then `replayRecord`, the record's key, owner and lifetime.
 * Real proofs from the `dpop` package (and jose, for a chosen `iat`), real NonceManager and MemoryReplayStore.
 */
import { createHash, randomUUID } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import * as dpop from 'dpop';
import { SignJWT, calculateJwkThumbprint, exportJWK, generateKeyPair, type CryptoKey, type JWK } from 'jose';
import { proofAcceptedUntil, checkProofClaims, accessTokenHash, type VerifiedProof } from '../../../src/core/dpop/dpop-proof.js';
import { DpopVerifier, replayRecord, type DpopServices, type DpopSettings } from '../../../src/core/dpop/dpop.js';
import { NonceManager } from '../../../src/core/dpop/nonce.js';
import type { ReplayRecord, ReplayStore } from '../../../src/core/dpop/replay-store.js';
import { Telemetry } from '../../../src/core/observability/telemetry.js';
import type { AuthEvent } from '../../../src/core/observability/events.js';
import type { AccessTokenClaims } from '../../../src/core/token/access-token.js';
import { ReplayStoreError } from '../../../src/core/errors.js';
import { createValidator, MemoryReplayStore, type AuthError } from '../../../src/core/index.js';
import { TestIssuer } from '../../support/test-issuer.js';

const URL_API = 'https://api.example.com/api/private';
const TOKEN = 'header.payload.signature';
const TOKEN_CLAIMS = { iss: 'https://tenant.example.com/', sub: 'auth0|user', aud: 'https://api.example.com', exp: 2_000_000_000, iat: 1_700_000_000 } as AccessTokenClaims;
const SETTINGS: DpopSettings = { algorithms: ['ES256', 'EdDSA'], iatLeeway: 30, iatOffset: 300, onStoreError: 'reject', clockTolerance: 5 };

/** A DpopVerifier over a real MemoryReplayStore (or `store`), recording what it emits. */
function dpopVerifier(settings: Partial<DpopSettings> = {}, services: Partial<DpopServices> = {}) {
  const events: AuthEvent[] = [];
  const verifier = new DpopVerifier({ ...SETTINGS, ...settings }, { replayStore: new MemoryReplayStore(), nonces: undefined, emit: (event) => events.push(event), telemetry: new Telemetry(), ...services });
  return { verifier, events };
}
async function refusal(promise: Promise<unknown> | (() => unknown)): Promise<AuthError> {
  try {
    await (typeof promise === 'function' ? promise() : promise);
  } catch (error) {
    return error as AuthError;
  }
  throw new Error('expected a refusal');
}
/** A store that records what it is asked, answering with `answer`. */
function storeAnswering(answer: () => Promise<boolean>): ReplayStore & { records: ReplayRecord[] } {
  const records: ReplayRecord[] = [];
  return {
    records,
    checkAndRemember: (record) => {
      records.push(record);
      return answer();
    },
  };
}

describe('DpopVerifier.checkProof', () => {
  let keyPair: dpop.KeyPair;
  beforeAll(async () => {
    keyPair = await dpop.generateKeyPair('ES256');
  });

  it('accepts a proof for this method, URL and token, naming the key by its RFC 7638 thumbprint', async () => {
    const { verifier } = dpopVerifier();
    const proof = await dpop.generateProof(keyPair, URL_API, 'GET', undefined, TOKEN);
    const verified = verifier.checkProof(proof, { method: 'GET', url: URL_API }, accessTokenHash(TOKEN));
    expect(verified.thumbprint).toBe(await dpop.calculateThumbprint(keyPair.publicKey));
    expect(typeof verified.jti).toBe('string');
    expect(verified.nonce).toBeUndefined();
  });

  it('refuses another method, another URL and another token (invalid_dpop_proof)', async () => {
    const { verifier } = dpopVerifier();
    const proof = await dpop.generateProof(keyPair, URL_API, 'GET', undefined, TOKEN);
    const reasons = [
      await refusal(() => verifier.checkProof(proof, { method: 'POST', url: URL_API }, accessTokenHash(TOKEN))),
      await refusal(() => verifier.checkProof(proof, { method: 'GET', url: 'https://api.example.com/api/other' }, accessTokenHash(TOKEN))),
      await refusal(() => verifier.checkProof(proof, { method: 'GET', url: URL_API }, accessTokenHash('another.token.value'))),
    ];
    expect(reasons.map((e) => [e.code, e.reason, e.scheme])).toEqual([
      ['invalid_dpop_proof', 'proof.htm', 'dpop'],
      ['invalid_dpop_proof', 'proof.htu', 'dpop'],
      ['invalid_dpop_proof', 'proof.ath', 'dpop'],
    ]);
  });

  it('uses the configured algorithms: an ES256 proof is refused where only EdDSA is allowed', async () => {
    const proof = await dpop.generateProof(keyPair, URL_API, 'GET', undefined, TOKEN);
    expect(dpopVerifier({ algorithms: ['ES256'] }).verifier.checkProof(proof, { method: 'GET', url: URL_API }, accessTokenHash(TOKEN)).jti).toBeTruthy();
    const error = await refusal(() => dpopVerifier({ algorithms: ['EdDSA'] }).verifier.checkProof(proof, { method: 'GET', url: URL_API }, accessTokenHash(TOKEN)));
    expect(error.reason).toBe('proof.alg_not_allowed');
  });

  it('uses the configured iat window: iatOffset bounds the age, iatLeeway the future', async () => {
    const keys = await generateKeyPair('ES256');
    const jwk = await exportJWK(keys.publicKey);
    const now = Math.floor(Date.now() / 1000);
    const signed = (iat: number) => new SignJWT({ jti: randomUUID(), htm: 'GET', htu: URL_API, iat, ath: accessTokenHash(TOKEN) }).setProtectedHeader({ alg: 'ES256', typ: 'dpop+jwt', jwk }).sign(keys.privateKey);
    const check = (settings: Partial<DpopSettings>, proof: string) => dpopVerifier(settings).verifier.checkProof(proof, { method: 'GET', url: URL_API }, accessTokenHash(TOKEN));
    const old = await signed(now - 120);
    expect(check({ iatOffset: 300 }, old).iat).toBe(now - 120);
    expect((await refusal(() => check({ iatOffset: 60 }, old))).reason).toBe('proof.too_old');
    const ahead = await signed(now + 20);
    expect(check({ iatLeeway: 60 }, ahead).iat).toBe(now + 20);
    expect((await refusal(() => check({ iatLeeway: 5 }, ahead))).reason).toBe('proof.iat_future');
  });
});

describe('DpopVerifier.accept: the replay record', () => {
  let keyPair: dpop.KeyPair;
  beforeAll(async () => {
    keyPair = await dpop.generateKeyPair('ES256');
  });
  const checked = async (verifier: DpopVerifier, nonce?: string) => verifier.checkProof(await dpop.generateProof(keyPair, URL_API, 'GET', nonce, TOKEN), { method: 'GET', url: URL_API }, accessTokenHash(TOKEN));

  it('accepts a proof once, with no headers when nonces are off; the same proof again is a replay', async () => {
    const { verifier } = dpopVerifier();
    const proof = await checked(verifier);
    expect(await verifier.accept(proof, TOKEN_CLAIMS)).toEqual({});
    const error = await refusal(verifier.accept(proof, TOKEN_CLAIMS));
    expect([error.code, error.reason, error.scheme, error.status]).toEqual(['invalid_dpop_proof', 'proof.replay', 'dpop', 401]);
    // Another proof of the same key is fresh.
    expect(await verifier.accept(await checked(verifier), TOKEN_CLAIMS)).toEqual({});
  });

  it('the record stored is replayRecord of the proof and the token claims, with the configured iatOffset and clockTolerance', async () => {
    const store = storeAnswering(async () => true);
    const { verifier } = dpopVerifier({ iatOffset: 120, clockTolerance: 7 }, { replayStore: store });
    const proof = await checked(verifier);
    const before = Date.now();
    await verifier.accept(proof, TOKEN_CLAIMS);
    const after = Date.now();
    expect(store.records).toHaveLength(1);
    const [record] = store.records;
    const expected = replayRecord(proof, TOKEN_CLAIMS, { iatOffset: 120, clockTolerance: 7 }, before);
    expect([record!.key, record!.owner, record!.iat]).toEqual([expected.key, expected.owner, proof.iat]);
    expect(record!.ttlMs).toBeLessThanOrEqual(expected.ttlMs);
    expect(record!.ttlMs).toBeGreaterThanOrEqual(replayRecord(proof, TOKEN_CLAIMS, { iatOffset: 120, clockTolerance: 7 }, after).ttlMs);
  });
});

describe('DpopVerifier.accept: resource-server nonces (RFC 9449 §9)', () => {
  const SECRET = 'a-nonce-secret-of-at-least-32-bytes!!';
  let keyPair: dpop.KeyPair;
  let clock: number;
  beforeAll(async () => {
    keyPair = await dpop.generateKeyPair('ES256');
  });
  const withNonces = (store: ReplayStore = new MemoryReplayStore()) => {
    clock = 1_750_000_020_000; // 20 s into a 60 s window
    const nonces = new NonceManager({ secret: SECRET, window: 60, now: () => clock });
    return { nonces, store, ...dpopVerifier({}, { nonces, replayStore: store }) };
  };
  const checked = async (verifier: DpopVerifier, nonce?: string) => verifier.checkProof(await dpop.generateProof(keyPair, URL_API, 'GET', nonce, TOKEN), { method: 'GET', url: URL_API }, accessTokenHash(TOKEN));

  it('a proof without a nonce, or with one not ours, is refused with use_dpop_nonce and the current nonce, and is not burnt', async () => {
    const store = storeAnswering(async () => true);
    const { verifier, nonces } = withNonces(store);
    const current = await nonces.current();
    for (const nonce of [undefined, 'zz.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA']) {
      const error = await refusal(verifier.accept(await checked(verifier, nonce), TOKEN_CLAIMS));
      expect([error.code, error.reason, error.scheme, error.dpopNonce]).toEqual(['use_dpop_nonce', 'proof.nonce', 'dpop', current]);
    }
    expect(store.records).toEqual([]); // refused before the replay record: the client's retry is not a replay
  });

  it('a nonce of this window is accepted with no header; one of the previous window is accepted with the next DPoP-Nonce', async () => {
    const { verifier, nonces } = withNonces();
    const first = await nonces.current();
    expect(await verifier.accept(await checked(verifier, first), TOKEN_CLAIMS)).toEqual({});
    clock += 60_000;
    const next = await nonces.current();
    expect(next).not.toBe(first);
    expect(await verifier.accept(await checked(verifier, first), TOKEN_CLAIMS)).toEqual({ 'DPoP-Nonce': next });
    clock += 60_000; // two windows on: no longer accepted
    expect((await refusal(verifier.accept(await checked(verifier, first), TOKEN_CLAIMS))).code).toBe('use_dpop_nonce');
  });

  it('a proof with an accepted nonce is still checked for replay', async () => {
    const { verifier, nonces } = withNonces();
    const proof = await checked(verifier, await nonces.current());
    await verifier.accept(proof, TOKEN_CLAIMS);
    expect((await refusal(verifier.accept(proof, TOKEN_CLAIMS))).reason).toBe('proof.replay');
  });

  it('nonces that cannot be checked (the Redis secret unreachable) answer 503 nonce.unavailable and report the failure', async () => {
    const down = () => Promise.reject(new Error('redis down'));
    const nonces = new NonceManager({ redis: { set: down, get: down } });
    const store = storeAnswering(async () => true);
    const { verifier, events } = dpopVerifier({}, { nonces, replayStore: store });
    const error = await refusal(verifier.accept(await checked(verifier, '0.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA'.replace('0', Math.floor(Date.now() / 60_000).toString(36))), TOKEN_CLAIMS));
    expect([error.code, error.reason, error.status, error.retryAfter]).toEqual(['temporarily_unavailable', 'nonce.unavailable', 503, 5]);
    expect(events).toEqual([{ type: 'replay_store_failed', detail: 'redis down' }]);
    expect(store.records).toEqual([]);
  });
});

describe('DpopVerifier.accept: a failing replay store and onStoreError', () => {
  let keyPair: dpop.KeyPair;
  beforeAll(async () => {
    keyPair = await dpop.generateKeyPair('ES256');
  });
  const checked = async (verifier: DpopVerifier) => verifier.checkProof(await dpop.generateProof(keyPair, URL_API, 'GET', undefined, TOKEN), { method: 'GET', url: URL_API }, accessTokenHash(TOKEN));
  const outage = () => Promise.reject(new ReplayStoreError('store unreachable', { retryAfter: 12 }));

  it("'reject': a store outage answers 503 replay_store.unavailable with the store's Retry-After, and is reported", async () => {
    const { verifier, events } = dpopVerifier({ onStoreError: 'reject' }, { replayStore: storeAnswering(outage) });
    const error = await refusal(verifier.accept(await checked(verifier), TOKEN_CLAIMS));
    expect([error.code, error.reason, error.status, error.retryAfter]).toEqual(['temporarily_unavailable', 'replay_store.unavailable', 503, 12]);
    expect(events).toEqual([{ type: 'replay_store_failed', detail: 'store unreachable' }]);
  });

  it("'accept': a store outage lets the proof through (reported all the same)", async () => {
    const { verifier, events } = dpopVerifier({ onStoreError: 'accept' }, { replayStore: storeAnswering(outage) });
    expect(await verifier.accept(await checked(verifier), TOKEN_CLAIMS)).toEqual({});
    expect(events).toEqual([{ type: 'replay_store_failed', detail: 'store unreachable' }]);
  });

  it("'accept' is for outages only: anything else a store throws refuses (503, Retry-After 5)", async () => {
    const { verifier, events } = dpopVerifier({ onStoreError: 'accept' }, { replayStore: storeAnswering(() => Promise.reject(new TypeError('bug in the store'))) });
    const error = await refusal(verifier.accept(await checked(verifier), TOKEN_CLAIMS));
    expect([error.code, error.reason, error.retryAfter]).toEqual(['temporarily_unavailable', 'replay_store.unavailable', 5]);
    expect(events).toEqual([{ type: 'replay_store_failed', detail: 'bug in the store' }]);
  });

  it("a client over its quota is refused whatever onStoreError says (replay_store.quota, the store's Retry-After)", async () => {
    for (const onStoreError of ['accept', 'reject'] as const) {
      const { verifier } = dpopVerifier({ onStoreError }, { replayStore: storeAnswering(() => Promise.reject(new ReplayStoreError('over quota', { quota: true, retryAfter: 3 }))) });
      const error = await refusal(verifier.accept(await checked(verifier), TOKEN_CLAIMS));
      expect([error.code, error.reason, error.retryAfter], onStoreError).toEqual(['temporarily_unavailable', 'replay_store.quota', 3]);
    }
  });
});

/*
 * replayRecord, the record of an accepted DPoP proof:
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
