/**
 * The verified-token cache (src/core/token/token-cache.ts) through the verifier that uses it: admission on second use (the
 * doorkeeper), one-shot tokens that cannot evict a token in use, exact-token confirmation, and the time claims
 * re-checked on every hit (a cached verdict equals a fresh one). Real tokens from the local test issuer.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { TestIssuer, generateSigningKey } from '../../support/test-issuer.js';
import { resolveConfig, type ApiOptions } from '../../../src/core/config.js';
import { IssuerPool } from '../../../src/core/issuer/issuer-pool.js';
import { TokenVerifier } from '../../../src/core/token/token-verifier.js';
import { Telemetry } from '../../../src/core/observability/telemetry.js';
import { safeSink } from '../../../src/core/observability/diagnostics.js';
import { tailHash, KEY_LENGTH } from '../../../src/core/token/token-cache.js';
import type { Admission } from '../../../src/core/token/token-cache.js';
import type { AuthError } from '../../../src/core/errors.js';

const AUDIENCE = 'https://api.example.com';
const REQUEST = { url: 'https://api.example.com/api/private', headers: {} };
let issuer: TestIssuer;

beforeAll(async () => {
  issuer = await TestIssuer.start({ keys: [generateSigningKey('RS256', 'cache-key')] });
});
afterAll(async () => {
  await issuer?.close();
});
afterEach(() => {
  vi.useRealTimers();
});

function verifier(options: Partial<ApiOptions> = {}, admission?: Admission) {
  const config = resolveConfig({ domain: issuer.origin, audience: AUDIENCE, ...options });
  const telemetry = new Telemetry();
  const issuers = new IssuerPool({ domains: config.domains, issuer: config.issuer }, { emit: safeSink(config.onEvent), telemetry });
  return new TokenVerifier(config, issuers, telemetry, admission);
}
async function outcome(v: TokenVerifier, token: string): Promise<string> {
  try {
    return (await v.verify(token, REQUEST)).cacheHit ? 'hit' : 'verified';
  } catch (error) {
    return (error as AuthError).reason;
  }
}

describe('admission on second use', () => {
  it('a token is cached on its second verification, and hit from the third', async () => {
    const v = verifier();
    const token = await issuer.token(AUDIENCE);
    expect(await outcome(v, token)).toBe('verified');
    expect(v.cacheSize).toBe(0); // seen once: only its fingerprint is kept
    expect(await outcome(v, token)).toBe('verified');
    expect(v.cacheSize).toBe(1);
    expect(await outcome(v, token)).toBe('hit');
  });

  it('first-use admission (the alternative the A/B lost to) caches at once', async () => {
    const v = verifier({}, 'first-use');
    const token = await issuer.token(AUDIENCE);
    expect(await outcome(v, token)).toBe('verified');
    expect(await outcome(v, token)).toBe('hit');
  });

  it('a flood of one-shot tokens does not evict a cached token in use', async () => {
    const v = verifier({ tokenCache: { maxEntries: 4 } });
    const popular = await issuer.token(AUDIENCE);
    await outcome(v, popular);
    await outcome(v, popular);
    for (let i = 0; i < 20; i++) expect(await outcome(v, await issuer.token(AUDIENCE))).toBe('verified');
    expect(v.cacheSize).toBe(1);
    expect(await outcome(v, popular)).toBe('hit');
    // The same flood with first-use admission pushes it out.
    const eager = verifier({ tokenCache: { maxEntries: 4 } }, 'first-use');
    await outcome(eager, popular);
    for (let i = 0; i < 20; i++) await outcome(eager, await issuer.token(AUDIENCE));
    expect(await outcome(eager, popular)).toBe('verified');
  });

  it('the cached claims are deeply frozen (shared by every hit); a token seen once gets its own object', async () => {
    const v = verifier();
    const token = await issuer.token(AUDIENCE, { aud: [AUDIENCE, 'other'] });
    const first = await v.verify(token, REQUEST);
    expect(Object.isFrozen(first.claims)).toBe(false);
    await v.verify(token, REQUEST);
    const hit = await v.verify(token, REQUEST);
    expect(hit.cacheHit).toBe(true);
    expect(Object.isFrozen(hit.claims)).toBe(true);
    expect(Object.isFrozen(hit.claims.aud)).toBe(true);
    expect((await v.verify(token, REQUEST)).claims).toBe(hit.claims); // no copy per hit
  });
});

describe('a hit is the exact token, and its verdict still holds', () => {
  it('a token with the same signature tail but another payload is not a hit: verified afresh (and refused)', async () => {
    const v = verifier();
    const token = await issuer.token(AUDIENCE);
    await outcome(v, token);
    await outcome(v, token);
    const [h, p, s] = token.split('.') as [string, string, string];
    const forged = `${h}.${Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(p, 'base64url').toString()), sub: 'auth0|admin' })).toString('base64url')}.${s}`;
    expect(tailHash(forged)).toBe(tailHash(token)); // same lookup key …
    expect(forged.slice(-KEY_LENGTH)).toBe(token.slice(-KEY_LENGTH));
    expect(await outcome(v, forged)).toBe('token.signature'); // … not the same token
    expect(await outcome(v, token)).toBe('hit'); // and the real one is still cached
  });

  it('exp is checked on every hit', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const v = verifier({ clockTolerance: 0 });
    const now = Math.floor(Date.now() / 1000);
    const token = await issuer.token(AUDIENCE, { exp: now + 60 });
    await outcome(v, token);
    await outcome(v, token);
    expect(await outcome(v, token)).toBe('hit');
    vi.setSystemTime((now + 120) * 1000);
    expect(await outcome(v, token)).toBe('token.expired');
    expect(v.cacheSize).toBe(0);
  });

  it('nbf is checked on every hit (a clock set back)', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const v = verifier({ clockTolerance: 0 });
    const now = Math.floor(Date.now() / 1000);
    const token = await issuer.token(AUDIENCE, { nbf: now - 10, iat: now - 3600 });
    await outcome(v, token);
    await outcome(v, token);
    expect(await outcome(v, token)).toBe('hit');
    vi.setSystemTime((now - 600) * 1000);
    expect(await outcome(v, token)).toBe('token.not_yet_valid');
  });

  it('maxTokenAge is checked on every hit', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const v = verifier({ clockTolerance: 0, maxTokenAge: 100 });
    const now = Math.floor(Date.now() / 1000);
    const token = await issuer.token(AUDIENCE, { iat: now - 50 });
    await outcome(v, token);
    await outcome(v, token);
    expect(await outcome(v, token)).toBe('hit');
    vi.setSystemTime((now + 100) * 1000);
    expect(await outcome(v, token)).toBe('token.too_old');
  });
});

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
