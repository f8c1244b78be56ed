/**
 * Verified-token cache: successes only, bounded (the oldest entry goes first), found through a seeded 30-bit hash of
 * the token's last {@link KEY_LENGTH} characters (inside the signature) and confirmed by comparing the whole token.
 * Hashing the whole ~1 KB token per lookup (SHA-256 ≈ 1.1 µs, V8's own string hash ≈ 1.6 µs, measured on this
 * project's machine) would cost more than the rest of a cache hit; the tail is read with `charCodeAt`, so a lookup
 * allocates nothing. A look-alike token with the same tail only finds an entry that does not match it: a miss.
 *
 * Admission on second use: a token is cached only when it is verified a second time while its fingerprint is still in
 * a small doorkeeper (a typed array, no object per token), so one-shot tokens neither evict entries in use nor fill
 * the old generation with verdicts nobody asks for again. The hash is keyed with a per-process random seed: which
 * slot a token lands in cannot be chosen from outside (and a signature cannot be chosen without the issuer's key).
 *
 * A verdict is bound to what it was made with — the issuer, the key (`kid`, material, algorithm) — and
 * token-verifier.ts re-checks it and the time claims on every hit, so a cached verdict equals a fresh one.
 */
import { randomBytes } from 'node:crypto';
import type { AccessTokenClaims } from './access-token.js';
import type { Algorithm } from './jws.js';

/** Characters of the token hashed for the lookup: 192 bits of the signature. */
export const KEY_LENGTH = 32;

/** One cached verdict: the token (a hit must equal it exactly), its claims, and what verified it. */
export interface CachedToken {
  token: string;
  /** The verified claims, deeply frozen (shared by every hit). */
  claims: Readonly<AccessTokenClaims>;
  /** Time claims, read once: every hit re-checks them. `nbf` is -Infinity when absent. */
  exp: number;
  iat: number;
  nbf: number;
  issuerOrigin: string;
  kid: string;
  alg: Algorithm;
  /** Thumbprint of the key that verified the signature. */
  thumbprint: string;
  /** What every hit resolves with, made once: a hit allocates nothing. */
  result: Promise<{ claims: AccessTokenClaims; cacheHit: boolean }>;
}

const SEED = randomBytes(4).readInt32LE(0);

/**
 * Seeded hash of the token's last {@link KEY_LENGTH} characters, 30 bits (a small integer for V8: no heap number).
 * Multiply–xorshift per character (FNV-style) with a final avalanche; not cryptographic — the seed is secret and the
 * characters are a signature, which nobody but the issuer can choose.
 */
export function tailHash(token: string): number {
  let h = SEED;
  const end = token.length;
  for (let i = end > KEY_LENGTH ? end - KEY_LENGTH : 0; i < end; i++) h = Math.imul(h ^ token.charCodeAt(i), 0x01000193);
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  return h & 0x3fffffff;
}

/** Admission rule: cache on the first verification, or only on the second within the doorkeeper's memory. */
export type Admission = 'first-use' | 'second-use';

/**
 * A bounded map of verified tokens, oldest first out. No recency bookkeeping on hits (it would cost a delete and an
 * insert per request): tokens are short-lived, and one that is still in use is simply verified again once evicted.
 */
export class TokenCache {
  private readonly entries = new Map<number, CachedToken>();
  /** Fingerprints of tokens verified once and not yet cached: slot = low bits, value = hash + 1 (0 = empty). */
  private readonly door: Int32Array | undefined;

  constructor(
    private readonly maxEntries: number,
    admission: Admission = 'second-use',
  ) {
    // Twice the cache's size: a token used again within about that many other new tokens is admitted.
    this.door = admission === 'second-use' && maxEntries > 0 ? new Int32Array(doorSize(maxEntries)) : undefined;
  }

  /** The entry of exactly `token`, if held. Allocates nothing. */
  get(token: string): CachedToken | undefined {
    const entry = this.entries.get(tailHash(token));
    return entry !== undefined && entry.token === token ? entry : undefined;
  }

  /**
   * Whether a token just verified should be cached now (`set`): always with first-use admission; with second-use, when
   * its fingerprint is in the doorkeeper (it is then taken out), else it is put there and the answer is no.
   */
  admits(token: string): boolean {
    if (this.maxEntries <= 0) return false;
    const door = this.door;
    if (door === undefined) return true;
    const h = tailHash(token);
    const slot = h & (door.length - 1);
    if (door[slot] === h + 1) {
      door[slot] = 0;
      return true;
    }
    door[slot] = h + 1;
    return false;
  }

  set(entry: CachedToken): void {
    if (this.maxEntries <= 0) return;
    const key = tailHash(entry.token);
    this.entries.delete(key);
    this.entries.set(key, entry);
    if (this.entries.size > this.maxEntries) this.entries.delete(this.entries.keys().next().value as number);
  }

  /** Drops the entry of `token` (and only of that exact token). */
  delete(token: string): void {
    const key = tailHash(token);
    if (this.entries.get(key)?.token === token) this.entries.delete(key);
  }

  get size(): number {
    return this.entries.size;
  }
}

/** The doorkeeper's slot count: a power of two, at least twice `maxEntries`. */
function doorSize(maxEntries: number): number {
  let size = 64;
  while (size < 2 * maxEntries) size *= 2;
  return size;
}
