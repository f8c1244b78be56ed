/**
 * Verified-token cache: successes only, keyed by SHA-256 of the whole token, bounded (least recently used goes
 * first). A verdict is bound to what it was made with — the issuer, the key's `kid`, its material (RFC 7638
 * thumbprint) and the algorithm — and token-verifier.ts re-checks all of it and the time claims on every hit, so a
 * cached verdict equals a fresh one (contract decision 18).
 */
import { hash } from 'node:crypto';
import type { AccessTokenClaims } from './access-token.js';
import type { Algorithm } from './jws.js';

/** One cached verdict. */
export interface CachedToken {
  /** The verified claims, frozen (shared by every hit; each request gets a shallow copy). */
  claims: Readonly<AccessTokenClaims>;
  issuerOrigin: string;
  kid: string;
  alg: Algorithm;
  /** Thumbprint of the key that verified the signature. */
  thumbprint: string;
}

/** A bounded LRU map of verified tokens. */
export class TokenCache {
  private readonly entries = new Map<string, CachedToken>();
  constructor(private readonly maxEntries: number) {}

  /** The cache key of a token: base64url(SHA-256(token)), which is also the token's DPoP `ath`. */
  static keyOf(token: string): string {
    // crypto.hash (Node 20.12+) is the one-shot form: cheaper per request than createHash.
    return hash('sha256', token, 'base64url');
  }

  get(key: string): CachedToken | undefined {
    const entry = this.entries.get(key);
    if (entry === undefined) return undefined;
    // Refresh recency: Map keeps insertion order, so re-insert.
    this.entries.delete(key);
    this.entries.set(key, entry);
    return entry;
  }

  set(key: string, entry: CachedToken): void {
    if (this.maxEntries <= 0) return;
    this.entries.delete(key);
    this.entries.set(key, entry);
    if (this.entries.size > this.maxEntries) this.entries.delete(this.entries.keys().next().value as string);
  }

  delete(key: string): void {
    this.entries.delete(key);
  }

  get size(): number {
    return this.entries.size;
  }
}
