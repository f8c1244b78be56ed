/**
 * Access-token verification (src/core/token/token-verifier.ts): the issuer (a single domain, a list, a resolver asked
 * again on every cache hit), the algorithms, the key and the signature; the verified-token cache as the verifier uses
 * it — admission on second use (the doorkeeper), one-shot tokens that cannot evict a token in use, exact-token
 * confirmation, and the time claims re-checked on every hit (a cached verdict equals a fresh one). Real tokens from
 * the local test issuer.
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

describe('a cached verdict is the fresh verdict', () => {
  it('a hit resolves with the claims the fresh verification gave; known() tells a held token', async () => {
    const v = verifier();
    const token = await issuer.token(AUDIENCE, { scope: 'read:messages write:messages' });
    expect(v.known(token)).toBe(false);
    const fresh = await v.verify(token, REQUEST);
    await v.verify(token, REQUEST);
    expect(v.known(token)).toBe(true);
    const hit = await v.verify(token, REQUEST);
    expect(hit.cacheHit).toBe(true);
    expect(hit.claims).toEqual(fresh.claims);
    expect(hit.claims.scope).toBe('read:messages write:messages');
  });

  it('a hit holds only while the issuer still publishes the same key material under its kid (docs/decisions.md D18)', async () => {
    const rotating = await TestIssuer.start({ keys: [generateSigningKey('RS256', 'rotating')] });
    try {
      const config = resolveConfig({ domain: rotating.origin, audience: AUDIENCE, cooldown: 0 });
      const telemetry = new Telemetry();
      const v = new TokenVerifier(config, new IssuerPool({ domains: config.domains, issuer: config.issuer }, { emit: safeSink(config.onEvent), telemetry }), telemetry);
      const token = await rotating.token(AUDIENCE);
      await outcome(v, token);
      await outcome(v, token);
      expect(await outcome(v, token)).toBe('hit');
      rotating.keys = [generateSigningKey('RS256', 'rotating')]; // same kid, new material
      // An unknown kid makes the verifier fetch the key set again (cooldown 0).
      expect(await outcome(v, await rotating.token(AUDIENCE, {}, { key: generateSigningKey('RS256', 'probe') }))).toBe('token.unknown_kid');
      expect(await outcome(v, token)).toBe('token.signature'); // what a fresh verification says
      expect(await outcome(v, await rotating.token(AUDIENCE))).toBe('verified');
    } finally {
      await rotating.close();
    }
  });

  it('tokenCache: false never caches: every verification is fresh', async () => {
    const v = verifier({ tokenCache: false });
    const token = await issuer.token(AUDIENCE);
    for (let i = 0; i < 3; i++) expect(await outcome(v, token)).toBe('verified');
    expect(v.cacheSize).toBe(0);
    expect(v.known(token)).toBe(false);
  });

  it('a refused token is never cached', async () => {
    const v = verifier();
    const token = await issuer.token('https://another-api.example.com');
    for (let i = 0; i < 3; i++) expect(await outcome(v, token)).toBe('token.aud');
    expect(v.cacheSize).toBe(0);
  });
});

describe('the issuer', () => {
  let other: TestIssuer;
  beforeAll(async () => {
    other = await TestIssuer.start();
  });
  afterAll(async () => {
    await other?.close();
  });

  it("a single domain: a token whose iss is not the domain's discovery issuer is refused (token.iss), before any key lookup", async () => {
    const v = verifier();
    await outcome(v, await issuer.token(AUDIENCE)); // discovery and keys loaded
    issuer.resetCounts();
    expect(await outcome(v, await issuer.token(AUDIENCE, { iss: other.issuer }))).toBe('token.iss');
    expect(await outcome(v, await issuer.token(AUDIENCE, { iss: 'https://tenant.example.com/' }))).toBe('token.iss');
    expect(await outcome(v, await issuer.token(AUDIENCE, { iss: 'https://tenant.example.com/', kid: 'unknown' }, { header: { kid: 'unknown' } }))).toBe('token.iss');
    expect(issuer.jwksFetches).toBe(0);
  });

  it('a list of domains: the token picks its issuer among them, and an issuer not listed is refused', async () => {
    const v = verifier({ domain: undefined, domains: [issuer.origin, other.origin] });
    expect(await outcome(v, await issuer.token(AUDIENCE))).toBe('verified');
    expect(await outcome(v, await other.token(AUDIENCE))).toBe('verified');
    const listedOnly = verifier({ domain: undefined, domains: [issuer.origin] });
    expect(await outcome(listedOnly, await other.token(AUDIENCE))).toBe('token.iss_not_allowed');
  });

  it('a resolver is asked again on every cache hit: an issuer no longer allowed for the request is a miss, and refused', async () => {
    const asked: string[] = [];
    const v = verifier({
      domain: undefined,
      domains: ({ headers }) => {
        asked.push(String(headers['x-tenant']));
        return headers['x-tenant'] === 'a' ? [issuer.origin] : [other.origin];
      },
    });
    const tenantA = { url: REQUEST.url, headers: { 'x-tenant': 'a' } };
    const tenantB = { url: REQUEST.url, headers: { 'x-tenant': 'b' } };
    const token = await issuer.token(AUDIENCE);
    const judge = async (request: typeof tenantA) => {
      try {
        return (await v.verify(token, request)).cacheHit ? 'hit' : 'verified';
      } catch (error) {
        return (error as AuthError).reason;
      }
    };
    expect(await judge(tenantA)).toBe('verified');
    expect(await judge(tenantA)).toBe('verified');
    expect(await judge(tenantA)).toBe('hit');
    expect(asked).toEqual(['a', 'a', 'a']);
    expect(await judge(tenantB)).toBe('token.iss_not_allowed');
    expect(asked.slice(3)).toEqual(['b', 'b']); // the hit's check, then the fresh verification's
    expect(v.cacheSize).toBe(0);
  });
});

describe('algorithms, key and signature', () => {
  let mixed: TestIssuer;
  const rsa = generateSigningKey('RS256', 'rsa-key');
  const ec = generateSigningKey('ES256', 'ec-key');
  beforeAll(async () => {
    mixed = await TestIssuer.start({ keys: [rsa, ec] });
  });
  afterAll(async () => {
    await mixed?.close();
  });
  const on = (options: Partial<ApiOptions>) => {
    const config = resolveConfig({ domain: mixed.origin, audience: AUDIENCE, ...options });
    const telemetry = new Telemetry();
    return new TokenVerifier(config, new IssuerPool({ domains: config.domains, issuer: config.issuer }, { emit: safeSink(config.onEvent), telemetry }), telemetry);
  };

  it('only the configured algorithms are accepted', async () => {
    const rsToken = await mixed.token(AUDIENCE, {}, { key: rsa });
    const esToken = await mixed.token(AUDIENCE, {}, { key: ec });
    const esOnly = on({ algorithms: ['ES256'] });
    expect(await outcome(esOnly, esToken)).toBe('verified');
    expect(await outcome(esOnly, rsToken)).toBe('token.alg_not_allowed');
    const both = on({ algorithms: ['RS256', 'ES256'] });
    expect(await outcome(both, rsToken)).toBe('verified');
    expect(await outcome(both, esToken)).toBe('verified');
  });

  it('a token naming a key by the wrong algorithm, or an unknown kid, is refused', async () => {
    const v = on({ algorithms: ['RS256', 'ES256'] });
    expect(await outcome(v, await mixed.token(AUDIENCE, {}, { key: ec, header: { kid: 'rsa-key' } }))).toBe('token.key_alg_mismatch');
    expect(await outcome(v, await mixed.token(AUDIENCE, {}, { header: { kid: 'no-such-key' } }))).toBe('token.unknown_kid');
  });

  it('a token signed by other key material under a published kid is refused (token.signature), on the loaded path too', async () => {
    const v = on({ algorithms: ['RS256'] });
    const impostor = generateSigningKey('RS256', 'rsa-key');
    expect(await outcome(v, await mixed.token(AUDIENCE, {}, { key: impostor }))).toBe('token.signature'); // keys loaded on the way
    expect(await outcome(v, await mixed.token(AUDIENCE, {}, { key: impostor }))).toBe('token.signature'); // keys already loaded
    expect(await outcome(v, await mixed.token(AUDIENCE, {}, { key: rsa }))).toBe('verified');
  });
});
