/**
 * The verified-token cache (src/core/token/token-cache.ts) on its own: the lookup key (tailHash), what an entry holds
 * and gives back, the whole-token confirmation (a token sharing the tail, a prefix or the hash never gets another's
 * entry), admission (first use, or second use through the doorkeeper's fingerprints), the size bound and the eviction
 * order (oldest set first, hits do not refresh), delete, and a size of 0 turning it all off. The cache keeps no clock:
 * the time claims and the key are re-checked on every hit by the verifier — that, with real tokens, is in
 * token-verifier.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { tailHash, KEY_LENGTH, TokenCache, type CachedToken } from '../../../src/core/token/token-cache.js';

const PREFIX = 'eyJhbGciOiJSUzI1NiIsImtpZCI6ImsxIn0.eyJzdWIiOiJhdXRoMHx1c2VyIiwiZXhwIjoyMDAwMDAwMDAwfQ.';
let counter = 0;

/** A token-shaped string with a signature of its own (the tail differs from every other token made here). */
function newToken(prefix = PREFIX): string {
  counter += 1;
  return `${prefix}${counter.toString(36).padStart(43, 'Q')}`; // the counter ends the tail
}

/** `n` tokens whose lookup keys all differ (so that none replaces another in the cache). */
function distinctTokens(n: number): string[] {
  const seen = new Set<number>();
  const tokens: string[] = [];
  while (tokens.length < n) {
    const token = newToken();
    if (seen.has(tailHash(token))) continue;
    seen.add(tailHash(token));
    tokens.push(token);
  }
  return tokens;
}

/** A second token whose hash relates to `token`'s as `related` asks (the seed is random: searched, not chosen). */
function tokenRelatedTo(token: string, related: (mine: number, theirs: number) => boolean): string {
  const h = tailHash(token);
  for (;;) {
    const other = newToken();
    if (related(h, tailHash(other))) return other;
  }
}

function entryFor(token: string, exp = 2_000_000_000): CachedToken {
  const claims = Object.freeze({ iss: 'https://issuer.example/', sub: 'auth0|user', aud: 'https://api.example.com', exp, iat: exp - 3600 });
  return {
    token,
    claims,
    exp,
    iat: claims.iat,
    nbf: Number.NEGATIVE_INFINITY,
    issuerOrigin: 'https://issuer.example',
    kid: 'k1',
    alg: 'RS256',
    thumbprint: 'thumbprint-k1',
    result: Promise.resolve({ claims, cacheHit: true }),
  };
}

/** A cache of two entries holding `a` then `b`, and a third token `c` not set yet. */
function fullOfTwo() {
  const cache = new TokenCache(2, 'first-use');
  const [a, b, c] = distinctTokens(3) as [string, string, string];
  cache.set(entryFor(a));
  cache.set(entryFor(b));
  return { cache, a, b, c };
}

describe('tailHash', () => {
  it('depends on every character of the tail, and only on the tail', () => {
    const base = `${'x'.repeat(100)}${'A'.repeat(KEY_LENGTH)}`;
    const hashes = new Set<number>();
    for (let i = 0; i < KEY_LENGTH; i++) hashes.add(tailHash(`${base.slice(0, 100 + i)}B${base.slice(101 + i)}`));
    expect(hashes.size).toBe(KEY_LENGTH);
    expect(tailHash(`y${base.slice(1)}`)).toBe(tailHash(base));
    expect(tailHash(base)).toBeLessThan(2 ** 30);
  });
});

describe('TokenCache: entries', () => {
  it('gives back the very entry set for a token, and nothing for a token never set', async () => {
    const cache = new TokenCache(10, 'first-use');
    const [token, other] = distinctTokens(2) as [string, string];
    const entry = entryFor(token);
    expect(cache.get(token)).toBeUndefined();
    cache.set(entry);
    expect(cache.size).toBe(1);
    expect(cache.get(token)).toBe(entry); // the same object: its claims and result are shared by every hit
    expect(cache.get(token)).toBe(entry);
    expect(await cache.get(token)!.result).toEqual({ claims: entry.claims, cacheHit: true });
    expect(cache.get(other)).toBeUndefined();
  });

  it('keeps no clock: an entry is given back field for field whatever its exp, for the verifier to re-check', () => {
    const cache = new TokenCache(10, 'first-use');
    const token = newToken();
    cache.set(entryFor(token, 1)); // expired in 1970
    expect(cache.get(token)).toMatchObject({ token, exp: 1, iat: 1 - 3600, nbf: Number.NEGATIVE_INFINITY, kid: 'k1', alg: 'RS256', thumbprint: 'thumbprint-k1' });
  });

  it('setting a token again replaces its entry', () => {
    const cache = new TokenCache(10, 'first-use');
    const token = newToken();
    const first = entryFor(token);
    const second = entryFor(token, 2_100_000_000);
    cache.set(first);
    cache.set(second);
    expect(cache.size).toBe(1);
    expect(cache.get(token)).toBe(second);
  });

  it('delete drops the entry of that token only', () => {
    const cache = new TokenCache(10, 'first-use');
    const [a, b, never] = distinctTokens(3) as [string, string, string];
    cache.set(entryFor(a));
    cache.set(entryFor(b));
    cache.delete(never); // not held: nothing happens
    expect(cache.size).toBe(2);
    cache.delete(a);
    expect(cache.size).toBe(1);
    expect(cache.get(a)).toBeUndefined();
    expect(cache.get(b)?.token).toBe(b);
  });
});

describe('TokenCache: the whole token is compared', () => {
  it('a token with the same tail (another header and payload, or one character more) misses', () => {
    const cache = new TokenCache(10, 'first-use');
    const token = newToken();
    const signature = token.slice(token.lastIndexOf('.') + 1);
    const forged = `eyJhbGciOiJub25lIn0.eyJzdWIiOiJhdXRoMHxhZG1pbiJ9.${signature}`;
    const longer = `x${token}`;
    for (const lookAlike of [forged, longer, token.slice(-KEY_LENGTH)]) {
      expect(tailHash(lookAlike)).toBe(tailHash(token)); // the same slot …
    }
    cache.set(entryFor(token));
    for (const lookAlike of [forged, longer, token.slice(-KEY_LENGTH)]) {
      expect(cache.get(lookAlike)).toBeUndefined(); // … not the same token
      cache.delete(lookAlike); // and it cannot drop the real one's entry
    }
    expect(cache.get(token)?.token).toBe(token);
    expect(cache.size).toBe(1);
  });

  it('a token sharing the prefix and the 30-bit hash, but not the tail, misses', () => {
    const cache = new TokenCache(10, 'first-use');
    // Birthday search for two tokens of one header and payload whose tail hashes collide (about 2^15 tries).
    const byHash = new Map<number, string>();
    let pair: [string, string] | undefined;
    while (pair === undefined) {
      const token = newToken();
      const seen = byHash.get(tailHash(token));
      if (seen !== undefined) pair = [seen, token];
      else byHash.set(tailHash(token), token);
    }
    const [a, b] = pair;
    expect(a.slice(0, PREFIX.length)).toBe(b.slice(0, PREFIX.length));
    expect(a.slice(-KEY_LENGTH)).not.toBe(b.slice(-KEY_LENGTH));
    expect(tailHash(a)).toBe(tailHash(b));
    cache.set(entryFor(a));
    expect(cache.get(b)).toBeUndefined();
    cache.delete(b);
    expect(cache.get(a)?.token).toBe(a);
    // One entry per lookup key: caching the other one replaces it (the first is then a miss, verified again).
    const entryB = entryFor(b);
    cache.set(entryB);
    expect(cache.size).toBe(1);
    expect(cache.get(b)).toBe(entryB);
    expect(cache.get(a)).toBeUndefined();
  });
});

describe('TokenCache: admission', () => {
  it('second use is the default: admitted on the second call, and the fingerprint is then taken out', () => {
    const cache = new TokenCache(10);
    const token = newToken();
    expect(cache.admits(token)).toBe(false); // first use: only its fingerprint is kept
    expect(cache.admits(token)).toBe(true);
    expect(cache.admits(token)).toBe(false); // taken out on admission: counting starts again
    expect(cache.admits(token)).toBe(true);
    expect(cache.size).toBe(0); // admits() only answers; set() caches
  });

  it('explicit second-use behaves the same; another token does not count as a second use', () => {
    const cache = new TokenCache(10, 'second-use');
    const [a, b] = distinctTokens(2) as [string, string];
    expect(cache.admits(a)).toBe(false);
    expect(cache.admits(b)).toBe(false);
    expect(cache.admits(b)).toBe(true);
    expect(cache.admits(a)).toBe(true);
  });

  it('first use admits every token, every time', () => {
    const cache = new TokenCache(10, 'first-use');
    for (const token of distinctTokens(5)) {
      expect(cache.admits(token)).toBe(true);
      expect(cache.admits(token)).toBe(true);
    }
  });

  it('a doorkeeper slot admits only the fingerprint it holds, and holds one', () => {
    const cache = new TokenCache(1);
    const a = newToken();
    // Same low 12 bits (the same slot in any doorkeeper of up to 4096 slots), another hash.
    const c = tokenRelatedTo(a, (mine, theirs) => (mine & 0xfff) === (theirs & 0xfff) && mine !== theirs);
    expect(cache.admits(a)).toBe(false);
    expect(cache.admits(c)).toBe(false); // a's fingerprint is not c's
    expect(cache.admits(a)).toBe(false); // c took the slot: a counts as new again
    expect(cache.admits(a)).toBe(true);
  });

  it('the doorkeeper has at least twice the cache size in slots', () => {
    const cache = new TokenCache(100); // at least 200 slots, a power of two: 256
    const a = newToken();
    // The same slot in 128 slots, different slots in 256.
    const c = tokenRelatedTo(a, (mine, theirs) => (mine & 0x7f) === (theirs & 0x7f) && (mine & 0x80) !== (theirs & 0x80));
    expect(cache.admits(a)).toBe(false);
    expect(cache.admits(c)).toBe(false);
    expect(cache.admits(a)).toBe(true);
    expect(cache.admits(c)).toBe(true);
  });

  it('a token is remembered while other new tokens pass, as long as none takes its slot', () => {
    const cache = new TokenCache(100);
    const a = newToken();
    const others = Array.from({ length: 150 }, () => tokenRelatedTo(a, (mine, theirs) => (mine & 0xff) !== (theirs & 0xff)));
    expect(cache.admits(a)).toBe(false);
    for (const other of others) cache.admits(other);
    expect(cache.admits(a)).toBe(true);
  });
});

describe('TokenCache: size bound and eviction', () => {
  it('holds at most maxEntries; the oldest entry set goes first', () => {
    const cache = new TokenCache(3, 'first-use');
    const [a, b, c, d, e] = distinctTokens(5) as [string, string, string, string, string];
    for (const token of [a, b, c]) cache.set(entryFor(token));
    expect(cache.size).toBe(3);
    cache.set(entryFor(d));
    expect(cache.size).toBe(3);
    expect(cache.get(a)).toBeUndefined();
    expect([b, c, d].map((token) => cache.get(token)?.token)).toEqual([b, c, d]);
    cache.set(entryFor(e));
    expect(cache.get(b)).toBeUndefined();
    expect([c, d, e].map((token) => cache.get(token)?.token)).toEqual([c, d, e]);
  });

  it('many tokens: exactly the last maxEntries set are held', () => {
    const cache = new TokenCache(5, 'first-use');
    const tokens = distinctTokens(100);
    for (const token of tokens) cache.set(entryFor(token));
    expect(cache.size).toBe(5);
    expect(tokens.filter((token) => cache.get(token) !== undefined)).toEqual(tokens.slice(-5));
  });

  it('a hit does not refresh an entry (oldest set, not least recently used, goes first)', () => {
    const { cache, a, b, c } = fullOfTwo();
    expect(cache.get(a)?.token).toBe(a);
    cache.set(entryFor(c));
    expect(cache.get(a)).toBeUndefined();
    expect(cache.get(b)?.token).toBe(b);
    expect(cache.get(c)?.token).toBe(c);
  });

  it('setting a held token again makes it the newest, and evicts nothing', () => {
    const { cache, a, b, c } = fullOfTwo();
    cache.set(entryFor(a));
    expect(cache.size).toBe(2);
    expect(cache.get(b)?.token).toBe(b);
    cache.set(entryFor(c));
    expect(cache.get(b)).toBeUndefined();
    expect(cache.get(a)?.token).toBe(a);
    expect(cache.get(c)?.token).toBe(c);
  });

  it('a deleted entry frees its place', () => {
    const { cache, a, b, c } = fullOfTwo();
    cache.delete(b);
    cache.set(entryFor(c));
    expect(cache.size).toBe(2);
    expect(cache.get(a)?.token).toBe(a);
    expect(cache.get(c)?.token).toBe(c);
  });
});

describe('TokenCache: a size of 0 (or less) turns it off', () => {
  for (const maxEntries of [0, -1]) {
    for (const admission of ['first-use', 'second-use'] as const) {
      it(`maxEntries ${maxEntries}, ${admission}: admits nothing, holds nothing`, () => {
        const cache = new TokenCache(maxEntries, admission);
        const token = newToken();
        expect(cache.admits(token)).toBe(false);
        expect(cache.admits(token)).toBe(false);
        cache.set(entryFor(token));
        expect(cache.size).toBe(0);
        expect(cache.get(token)).toBeUndefined();
      });
    }
  }
});
