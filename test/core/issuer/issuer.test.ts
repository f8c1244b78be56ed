/**
 * Discovery and key sets against a real local identity provider: caching, one fetch per burst, key rotation,
 * unknown-kid refetches bounded by the cooldown, unusable discovery → 503, and the last good keys serving while
 * the provider is down. Fetches are counted by the server itself.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { AuthError, createValidator, type ApiOptions, type AuthEvent } from '../../../src/core/index.js';
import { TestIssuer, generateSigningKey, type Fault } from '../../support/test-issuer.js';
import { rejection, withResponses, type RefusedError } from '../../support/helpers.js';

const AUDIENCE = 'https://api.example.com';
const URL_ = 'http://api.test/api/private';
const key1 = generateSigningKey('RS256', 'key-1');
// Generated up front: RSA key generation can take longer than a 1 s cooldown.
const key2 = generateSigningKey('RS256', 'key-2');

let issuer: TestIssuer;

beforeAll(async () => {
  issuer = await TestIssuer.start({ keys: [key1] });
});
afterAll(async () => {
  await issuer?.close();
});
beforeEach(() => {
  issuer.keys = [key1];
  issuer.discoveryFault = { kind: 'none' };
  issuer.jwksFault = { kind: 'none' };
  issuer.discoveryOverrides = {};
  issuer.resetCounts();
});

function validator(options: Partial<ApiOptions> = {}) {
  return withResponses(createValidator({ domain: issuer.origin, audience: AUDIENCE, ...options }), URL_);
}
type Validator = ReturnType<typeof validator>;

async function bearer(v: Validator, token: string) {
  return v.verifyRequest({ method: 'GET', url: URL_, headers: { authorization: `Bearer ${token}` } });
}

async function outcome(v: Validator, token: string): Promise<number> {
  return bearer(v, token).then(
    () => 200,
    (e: AuthError) => e.status,
  );
}

/** 503 temporarily_unavailable: Retry-After in whole seconds, no challenge needed, nothing internal in the text. */
function expectUnavailable(error: RefusedError): void {
  expect({ status: error.status, code: error.code }).toEqual({ status: 503, code: 'temporarily_unavailable' });
  expect(error.toJSON()).toEqual({ error: 'temporarily_unavailable', error_description: error.description });
  expect(error.headers['Retry-After']).toMatch(/^[1-9]\d*$/);
  expect(error.description).not.toMatch(/https?:|127\.0\.0\.1|jwks|ECONN|fetch/i);
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('caching', () => {
  it('fetches discovery and the key set once for many requests', async () => {
    const v = validator();
    for (let i = 0; i < 5; i++) expect(await outcome(v, await issuer.token(AUDIENCE, { sub: `user-${i}` }))).toBe(200);
    expect({ discovery: issuer.discoveryFetches, jwks: issuer.jwksFetches }).toEqual({ discovery: 1, jwks: 1 });
  });

  it('fetches once for a burst of concurrent first requests', async () => {
    issuer.jwksFault = { kind: 'delay', ms: 150 }; // keep the first fetch in flight while the burst arrives
    const v = validator();
    const tokens = await Promise.all(Array.from({ length: 50 }, (_, i) => issuer.token(AUDIENCE, { sub: `user-${i}` })));
    const statuses = await Promise.all(tokens.map((t) => outcome(v, t)));
    expect(statuses).toEqual(Array(50).fill(200));
    expect({ discovery: issuer.discoveryFetches, jwks: issuer.jwksFetches }).toEqual({ discovery: 1, jwks: 1 });
  });
});

describe('key rotation', () => {
  it('accepts a new kid once the key set has changed (cooldown 0)', async () => {
    const v = validator({ cooldown: 0 });
    expect(await outcome(v, await issuer.token(AUDIENCE))).toBe(200);
    issuer.keys = [key1, key2];
    expect(await outcome(v, await issuer.token(AUDIENCE, {}, { key: key2 }))).toBe(200);
    expect(issuer.jwksFetches).toBe(2);
  });

  it('accepts the new kid only after the cooldown, without refetching before', async () => {
    const v = validator({ cooldown: 1 });
    expect(await outcome(v, await issuer.token(AUDIENCE))).toBe(200);
    issuer.keys = [key1, key2];
    const token2 = await issuer.token(AUDIENCE, {}, { key: key2 });
    const early = await rejection(bearer(v, token2));
    expect({ status: early.status, code: early.code, reason: early.reason }).toEqual({ status: 401, code: 'invalid_token', reason: 'token.unknown_kid' });
    expect(issuer.jwksFetches).toBe(1);
    await sleep(1100);
    expect(await outcome(v, token2)).toBe(200);
    expect(issuer.jwksFetches).toBe(2);
  });

  it('stops accepting tokens of a key removed from the key set, even ones verified before', async () => {
    const v = validator({ cooldown: 0 });
    const oldToken = await issuer.token(AUDIENCE);
    expect(await outcome(v, oldToken)).toBe(200);
    issuer.keys = [key2]; // key-1 retired
    expect(await outcome(v, await issuer.token(AUDIENCE, {}, { key: key2 }))).toBe(200); // triggers the refetch
    const error = await rejection(bearer(v, oldToken));
    expect({ status: error.status, code: error.code }).toEqual({ status: 401, code: 'invalid_token' });
  });
});

describe('unknown kids', () => {
  const randomKidTokens = (n: number) => Promise.all(Array.from({ length: n }, () => issuer.token(AUDIENCE, {}, { key: generateSigningKey('ES256', `rnd-${randomUUID()}`) })));

  it('cause no refetch within the default 30 s cooldown after a load', async () => {
    const v = validator({ algorithms: ['RS256', 'ES256'] });
    expect(await outcome(v, await issuer.token(AUDIENCE))).toBe(200);
    const statuses = await Promise.all((await randomKidTokens(20)).map((t) => outcome(v, t)));
    expect(statuses).toEqual(Array(20).fill(401));
    expect(issuer.jwksFetches).toBe(1);
  });

  it('cause at most one refetch per cooldown, even in a concurrent flood', async () => {
    const v = validator({ algorithms: ['RS256', 'ES256'], cooldown: 1 });
    expect(await outcome(v, await issuer.token(AUDIENCE))).toBe(200);
    await sleep(1100);
    const flood = await randomKidTokens(20);
    expect(await Promise.all(flood.map((t) => outcome(v, t)))).toEqual(Array(20).fill(401));
    expect(issuer.jwksFetches).toBe(2);
    expect(await Promise.all((await randomKidTokens(20)).map((t) => outcome(v, t)))).toEqual(Array(20).fill(401));
    expect(issuer.jwksFetches).toBe(2);
    // Known keys keep working throughout: the flood never wiped the cache.
    expect(await outcome(v, await issuer.token(AUDIENCE))).toBe(200);
  });
});

describe('unusable discovery → 503, keys never fetched', () => {
  const fetched: string[] = [];
  const recordingFetch: typeof fetch = (input, init) => {
    fetched.push(String(input instanceof Request ? input.url : input));
    return fetch(input, init);
  };
  beforeEach(() => {
    fetched.length = 0;
  });

  it.each([
    ['another issuer', () => ({ issuer: 'https://attacker.example.com/' })],
    ['the issuer under another host name', () => ({ issuer: `${issuer.origin.replace('127.0.0.1', 'localhost')}/` })],
    ['an issuer with a path', () => ({ issuer: `${issuer.origin}/tenant/` })],
    ['no issuer', () => ({ issuer: undefined })],
    ['jwks_uri over plain http to a public host', () => ({ jwks_uri: 'http://keys.example.com/.well-known/jwks.json' })],
    ['jwks_uri with another scheme', () => ({ jwks_uri: 'ftp://keys.example.com/jwks.json' })],
    ['no jwks_uri', () => ({ jwks_uri: undefined })],
    ['jwks_uri not a URL', () => ({ jwks_uri: 'jwks.json' })],
  ])('%s', async (_what, overrides) => {
    issuer.discoveryOverrides = overrides();
    const events: AuthEvent[] = [];
    const v = validator({ fetch: recordingFetch, onEvent: (e) => events.push(e) });
    const error = await rejection(bearer(v, await issuer.token(AUDIENCE)));
    expectUnavailable(error);
    expect(error.headers['WWW-Authenticate']).toBeUndefined();
    expect(fetched).toEqual([`${issuer.origin}/.well-known/openid-configuration`]);
    expect(issuer.jwksFetches).toBe(0);
    expect(events).toContainEqual(expect.objectContaining({ type: 'provider_fetch_failed', reason: 'invalid' }));
  });
});

describe('identity provider down and no cached key → 503', () => {
  const faults: Array<[string, Fault]> = [
    ['HTTP 500', { kind: 'status', status: 500 }],
    ['a connection reset', { kind: 'reset' }],
    ['an HTML body', { kind: 'body', body: '<html>maintenance</html>', contentType: 'text/html' }],
    ['a JSON array', { kind: 'body', body: '[]' }],
    ['a redirect', { kind: 'redirect', location: 'http://127.0.0.1:1/elsewhere' }],
    ['a response slower than the timeout', { kind: 'delay', ms: 1500 }],
    ['a response over the size cap', { kind: 'huge', bytes: 512 * 1024 }],
  ];
  const options = { timeout: 300, maxResponseBytes: 64 * 1024 };

  it.each(faults)('discovery: %s', async (_what, fault) => {
    issuer.discoveryFault = fault;
    expectUnavailable(await rejection(bearer(validator(options), await issuer.token(AUDIENCE))));
    expect(issuer.jwksFetches).toBe(0);
  });

  it.each([...faults, ['a key set without "keys"', { kind: 'body', body: '{"keys":"x"}' }] as [string, Fault]])('key set: %s', async (_what, fault) => {
    issuer.jwksFault = fault;
    expectUnavailable(await rejection(bearer(validator(options), await issuer.token(AUDIENCE))));
  });

  it('answers from memory while retrying is not yet due, then recovers', async () => {
    issuer.discoveryFault = { kind: 'status', status: 503 };
    const v = validator({ cooldown: 1 });
    const token = await issuer.token(AUDIENCE);
    expectUnavailable(await rejection(bearer(v, token)));
    const second = await rejection(bearer(v, token));
    expectUnavailable(second);
    expect(Number(second.headers['Retry-After'])).toBeLessThanOrEqual(1);
    expect(issuer.discoveryFetches).toBe(1); // no hammering of a provider that is down
    issuer.discoveryFault = { kind: 'none' };
    await sleep(1100);
    expect(await outcome(v, token)).toBe(200);
  });

  it('keeps serving the last good keys while the provider is down', async () => {
    const events: AuthEvent[] = [];
    const v = validator({ cacheMaxAge: 1, cooldown: 0, onEvent: (e) => events.push(e) });
    expect(await outcome(v, await issuer.token(AUDIENCE))).toBe(200);
    issuer.discoveryFault = { kind: 'status', status: 500 };
    issuer.jwksFault = { kind: 'status', status: 500 };
    await sleep(1100);
    for (let i = 0; i < 3; i++) expect(await outcome(v, await issuer.token(AUDIENCE, { sub: `user-${i}` }))).toBe(200);
    await sleep(50); // let the background refresh fail
    expect(events.some((e) => e.type === 'provider_fetch_failed')).toBe(true);
  });
});
