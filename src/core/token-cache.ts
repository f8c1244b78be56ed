/**
 * Verified-token cache: successes only, keyed by SHA-256 of the whole token, each entry expiring at the token's
 * `exp`, bounded (least recently used goes first). It never changes a verdict: the validator re-checks time claims
 * and that the signing key is still published on every hit.
 */
import { hash } from 'node:crypto';

export interface CachedToken<T> {
  value: T;
  exp: number; // seconds
  kid: string;
  issuerOrigin: string;
}

export class TokenCache<T> {
  private readonly entries = new Map<string, CachedToken<T>>();
  constructor(private readonly maxEntries: number) {}

  static keyOf(token: string): string {
    // crypto.hash (Node 20.12+; engines asks for 20.19) is the one-shot form: cheaper per request than createHash.
    return hash('sha256', token, 'base64url');
  }

  get(key: string): CachedToken<T> | undefined {
    const entry = this.entries.get(key);
    if (entry === undefined) return undefined;
    // Refresh recency: Map keeps insertion order, so re-insert.
    this.entries.delete(key);
    this.entries.set(key, entry);
    return entry;
  }

  set(key: string, entry: CachedToken<T>): void {
    if (this.maxEntries <= 0) return;
    this.entries.delete(key);
    this.entries.set(key, entry);
    while (this.entries.size > this.maxEntries) {
      const oldest = this.entries.keys().next().value as string;
      this.entries.delete(oldest);
    }
  }

  delete(key: string): void {
    this.entries.delete(key);
  }

  get size(): number {
    return this.entries.size;
  }
}
