/**
 * docs/decisions.md D18: a cached verdict is a fresh verdict. A token accepted (and cached) is
 * refused from the cache as soon as a full check would refuse it: when the issuer republishes different key material
 * under the same `kid`, or restricts that `kid` to another algorithm, or moves it to another key type.
 *
 * What the old code did: a cache entry remembered the token's `kid` only, and a hit checked `hasKid(kid)` — that the
 * key set still had *some* key by that name. Tokens signed by a replaced (possibly compromised) key kept passing from
 * the cache until their own `exp`. Now each entry holds the RFC 7638 thumbprint of the key that verified it and the
 * `alg`, and a hit is used only while the key the issuer would pick now for (`kid`, `alg`) has that thumbprint.
 *
 * Each scenario is judged twice at the same moment: by the caching validator (which saw the token before the change)
 * and by a fresh validator without a cache (which sees only the new key set); the verdicts must be equal.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createValidator, type ApiOptions, type ApiValidator, type AuthError } from '../../../src/core/index.js';
import { TestIssuer, generateSigningKey, type SigningKey } from '../../support/test-issuer.js';

const AUDIENCE = 'https://api.example.com';
const URL_ = 'https://api.example.com/api/private';

let issuer: TestIssuer;
let original: SigningKey;

beforeAll(async () => {
  issuer = await TestIssuer.start();
});
afterAll(async () => {
  await issuer?.close();
});
beforeEach(() => {
  original = generateSigningKey('RS256', 'rotating');
  issuer.keys = [original];
  issuer.resetCounts();
});

const options = (extra: Partial<ApiOptions> = {}): ApiOptions => ({ domain: issuer.origin, audience: AUDIENCE, ...extra });
const request = (token: string) => ({ method: 'GET', url: URL_, headers: { authorization: `Bearer ${token}` } });

type Verdict = { status: 200 } | { status: number; reason: string };
async function verdict(validator: ReturnType<typeof createValidator>, token: string): Promise<Verdict> {
  try {
    await validator.verifyRequest(request(token));
    return { status: 200 };
  } catch (error) {
    return { status: (error as AuthError).status, reason: (error as AuthError).reason };
  }
}

/** Makes the caching validator see the new key set: a token with an unknown kid forces a refetch (cooldown 0). */
async function forceRefetch(validator: ReturnType<typeof createValidator>): Promise<void> {
  const before = issuer.jwksFetches;
  const probe = await issuer.token(AUDIENCE, {}, { key: generateSigningKey('RS256', `unknown-${Math.random()}`) });
  expect(await verdict(validator, probe)).toMatchObject({ status: 401, reason: 'token.unknown_kid' });
  expect(issuer.jwksFetches).toBe(before + 1);
}

/** The validator's token-cache size (an internal: the cache is not part of the public API). */
function tokenCacheSize(validator: ApiValidator): number {
  return (validator as unknown as { tokens: { cacheSize: number } }).tokens.cacheSize;
}

/** Accepts `token` twice (the second time from the cache), then applies `change` to the key set and forces a refetch. */
async function acceptedThenChanged(token: string, change: () => void, extra: Partial<ApiOptions> = {}) {
  const cached = createValidator(options({ cooldown: 0, ...extra }));
  expect(await verdict(cached, token)).toEqual({ status: 200 });
  const fetchesAfterFirst = issuer.jwksFetches;
  expect(await verdict(cached, token)).toEqual({ status: 200 });
  expect(tokenCacheSize(cached)).toBe(1); // the token is cached …
  expect(issuer.jwksFetches).toBe(fetchesAfterFirst); // … and the second verdict came from the cache
  change();
  await forceRefetch(cached);
  return { cached, fresh: createValidator(options({ tokenCache: false })) };
}

describe('cached verdict = fresh verdict (docs/decisions.md D18)', () => {
  it('new key material under the same kid: the cached token is refused (token.signature), a token from the new key passes', async () => {
    const token = await issuer.token(AUDIENCE, {}, { key: original });
    const replacement = generateSigningKey('RS256', 'rotating'); // same kid, new material
    const { cached, fresh } = await acceptedThenChanged(token, () => (issuer.keys = [replacement]));

    const fromCache = await verdict(cached, token);
    expect(fromCache).toEqual({ status: 401, reason: 'token.signature' });
    expect(await verdict(fresh, token)).toEqual(fromCache);
    expect(tokenCacheSize(cached)).toBe(0); // the stale entry is dropped, not kept for later

    const renewed = await issuer.token(AUDIENCE, {}, { key: replacement });
    expect(await verdict(cached, renewed)).toEqual({ status: 200 });
    expect(await verdict(fresh, renewed)).toEqual({ status: 200 });
  });

  it('new material under the same kid, detected by the normal refresh (cacheMaxAge) rather than an unknown kid', async () => {
    const token = await issuer.token(AUDIENCE, {}, { key: original });
    const cached = createValidator(options({ cacheMaxAge: 0.2, maxStaleness: 0 }));
    expect(await verdict(cached, token)).toEqual({ status: 200 });
    expect(await verdict(cached, token)).toEqual({ status: 200 });
    issuer.keys = [generateSigningKey('RS256', 'rotating')];
    await new Promise((r) => setTimeout(r, 300)); // the key set is now too old to vouch for the cached verdict
    expect(await verdict(cached, token)).toEqual({ status: 401, reason: 'token.signature' });
    expect(issuer.jwksFetches).toBe(2);
  });

  it('alg binding: the same material and kid, now published for another alg (JWK "alg": "PS256"), is not reused for RS256', async () => {
    // RFC 7638 thumbprints ignore "alg": a thumbprint-only binding would still match. The cached verdict is bound to
    // the alg it was verified with, so it drops exactly when a fresh check would refuse (token.key_alg_mismatch).
    const token = await issuer.token(AUDIENCE, {}, { key: original });
    const restricted: SigningKey = { ...original, alg: 'PS256', publicJwk: { ...original.publicJwk, alg: 'PS256' } };
    const { cached, fresh } = await acceptedThenChanged(token, () => (issuer.keys = [restricted]), { algorithms: ['RS256', 'PS256'] });

    const fromCache = await verdict(cached, token);
    expect(fromCache).toEqual({ status: 401, reason: 'token.key_alg_mismatch' });
    expect(await verdict(fresh, token)).toEqual(fromCache);
  });

  it('alg binding: the kid now names an EC key (another key type): refused like a fresh check', async () => {
    const token = await issuer.token(AUDIENCE, {}, { key: original });
    const { cached, fresh } = await acceptedThenChanged(token, () => (issuer.keys = [generateSigningKey('ES256', 'rotating')]), { algorithms: ['RS256', 'ES256'] });
    const fromCache = await verdict(cached, token);
    expect(fromCache).toEqual({ status: 401, reason: 'token.key_alg_mismatch' });
    expect(await verdict(fresh, token)).toEqual(fromCache);
  });

  it('two keys under one kid (ambiguous) after the change: refused from the cache as by a fresh check', async () => {
    const token = await issuer.token(AUDIENCE, {}, { key: original });
    const { cached, fresh } = await acceptedThenChanged(token, () => (issuer.keys = [original, generateSigningKey('RS256', 'rotating')]));
    const fromCache = await verdict(cached, token);
    expect(fromCache.status).toBe(401);
    expect(await verdict(fresh, token)).toEqual(fromCache);
  });

  it('control: the same key republished (same material, same kid, other members reordered) keeps the cached verdict', async () => {
    const token = await issuer.token(AUDIENCE, {}, { key: original });
    const reordered: SigningKey = { ...original, publicJwk: Object.fromEntries(Object.entries(original.publicJwk).reverse()) };
    const { cached, fresh } = await acceptedThenChanged(token, () => (issuer.keys = [reordered, generateSigningKey('RS256', 'other')]));
    const fetches = issuer.jwksFetches;
    expect(await verdict(cached, token)).toEqual({ status: 200 });
    expect(await verdict(fresh, token)).toEqual({ status: 200 });
    expect(tokenCacheSize(cached)).toBeGreaterThanOrEqual(1);
    expect(issuer.jwksFetches).toBe(fetches + 1); // only the fresh validator fetched
  });

  it('the key removed from the set: refused from the cache (token.unknown_kid), as before the fix', async () => {
    const token = await issuer.token(AUDIENCE, {}, { key: original });
    const { cached, fresh } = await acceptedThenChanged(token, () => (issuer.keys = [generateSigningKey('RS256', 'someone-else')]));
    const fromCache = await verdict(cached, token);
    expect(fromCache).toEqual({ status: 401, reason: 'token.unknown_kid' });
    expect(await verdict(fresh, token)).toEqual(fromCache);
  });
});
