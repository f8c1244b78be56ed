/**
 * Verified-token cache: successes only, bounded (the oldest entry goes first), looked up by the token's last
 * {@link KEY_LENGTH} characters (inside the signature) and confirmed by comparing the whole token. Hashing the whole
 * ~1 KB token costs more than the rest of a cache hit (SHA-256 ≈ 1.1 µs, V8's own string hash ≈ 1.6 µs, measured on
 * this project's machine); a short key plus one exact comparison costs a tenth of that. A look-alike token with
 * the same tail only finds an entry that does not match it: a miss. A verdict is bound to what it was made with — the issuer, the key's `kid`, its material (RFC 7638
 * thumbprint) and the algorithm — and token-verifier.ts re-checks all of it and the time claims on every hit, so a
 * cached verdict equals a fresh one (contract decision 18).
 */
import type { AccessTokenClaims } from './access-token.js';
import type { Algorithm } from './jws.js';

/** Characters of the token used as the map key: 192 bits of the signature. */
export const KEY_LENGTH = 32;

/** One cached verdict. */
export interface CachedToken {
  /** The whole token: a hit must equal it exactly. */
  token: string;
  /** The verified claims, frozen (shared by every hit; each request gets a shallow copy). */
  claims: Readonly<AccessTokenClaims>;
  issuerOrigin: string;
  kid: string;
  alg: Algorithm;
  /** Thumbprint of the key that verified the signature. */
  thumbprint: string;
}

/**
 * A bounded map of verified tokens, oldest first out. No recency bookkeeping on hits (it would cost a delete and an
 * insert per request): tokens are short-lived, and one that is still in use is simply verified again once evicted.
 */
export class TokenCache {
  private readonly entries = new Map<string, CachedToken>();
  constructor(private readonly maxEntries: number) {}

  get(token: string): CachedToken | undefined {
    const entry = this.entries.get(token.slice(-KEY_LENGTH));
    return entry !== undefined && entry.token === token ? entry : undefined;
  }

  set(entry: CachedToken): void {
    if (this.maxEntries <= 0) return;
    const key = entry.token.slice(-KEY_LENGTH);
    this.entries.delete(key);
    this.entries.set(key, entry);
    if (this.entries.size > this.maxEntries) this.entries.delete(this.entries.keys().next().value as string);
  }

  /** Drops the entry of `token` (and only of that exact token). */
  delete(token: string): void {
    const key = token.slice(-KEY_LENGTH);
    if (this.entries.get(key)?.token === token) this.entries.delete(key);
  }

  get size(): number {
    return this.entries.size;
  }
}
