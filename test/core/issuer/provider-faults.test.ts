/**
 * Identity-provider faults (docs/decisions.md D8): discovery and JWKS slow, down, 5xx,
 * redirected, garbage or huge; last good keys served for a bounded time; recovery; unknown-kid floods; events.
 *
 * Core-level: `new ApiValidator` with small `timeout`/`cooldown`/`cacheMaxAge`/`maxStaleness` so that nothing waits
 * for the 5 s / 30 s defaults, against the REAL local test issuer whose fault switches change what it serves.
 * One HTTP test checks the demo's 503 response on the wire.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import { TestIssuer, generateSigningKey } from '../../support/test-issuer.js';
import { createValidator } from '../../../src/core/validator.js';
import { errorResponse } from '../../../src/core/http/error-response.js';
import { AuthError } from '../../../src/core/errors.js';
import type { ApiOptions } from '../../../src/core/config.js';
import type { AuthEvent } from '../../../src/core/observability/events.js';
import { closedPort as findClosedPort, startCountingServer, type CountingServer } from '../../support/helpers.js';

const AUDIENCE = 'https://api.example.com';

let issuer: TestIssuer;
// RSA key generation takes a while: make the extra keys once.
const stranger = generateSigningKey('RS256', 'not-published');
const nextKey = generateSigningKey('RS256', 'key-2');
const rotatedKey = generateSigningKey('RS256', 'rotated-1');
let redirectTarget: CountingServer;
let closedPort: number;

beforeAll(async () => {
  issuer = await TestIssuer.start();
  redirectTarget = await startCountingServer(() => ({ ...issuer.jwks(), issuer: issuer.issuer, jwks_uri: `${issuer.origin}/.well-known/jwks.json` }));
  closedPort = await findClosedPort();
});
afterAll(async () => {
  await redirectTarget?.close();
  await issuer?.close();
});
beforeEach(() => {
  issuer.discoveryFault = { kind: 'none' };
  issuer.jwksFault = { kind: 'none' };
  issuer.discoveryOverrides = {};
  issuer.resetCounts();
});

// ---------------------------------------------------------------------------------------------------------------
// Helpers

interface Harness {
  validator: ReturnType<typeof createValidator>;
  events: AuthEvent[];
  failures: () => Array<Extract<AuthEvent, { type: 'provider_fetch_failed' }>>;
}

/** A validator with short timings; every option can be overridden. */
function harness(options: Partial<ApiOptions> = {}): Harness {
  const events: AuthEvent[] = [];
  const validator = createValidator({
    domain: issuer.origin,
    audience: AUDIENCE,
    timeout: 300,
    cooldown: 0.2,
    tokenCache: false,
    onEvent: (e) => events.push(e),
    ...options,
  });
  return {
    validator,
    events,
    failures: () => events.filter((e): e is Extract<AuthEvent, { type: 'provider_fetch_failed' }> => e.type === 'provider_fetch_failed'),
  };
}

interface Outcome {
  status: number;
  body?: { error: string; error_description: string };
  headers: Record<string, string>;
  ms: number;
}

async function attempt(validator: ReturnType<typeof createValidator>, token: string): Promise<Outcome> {
  const started = performance.now();
  try {
    await validator.verifyRequest({ method: 'GET', url: 'http://api.test/api/private', headers: { authorization: `Bearer ${token}` } });
    return { status: 200, headers: {}, ms: performance.now() - started };
  } catch (error) {
    expect(error).toBeInstanceOf(AuthError); // never a raw Error (which would become a 500)
    const e = error as AuthError;
    return { status: e.status, body: e.toJSON(), headers: errorResponse(e, validator.responseFacts('http://api.test/api/private')).headers, ms: performance.now() - started };
  }
}

const token = (claims: Record<string, unknown> = {}, header: Record<string, unknown> = {}) => issuer.token(AUDIENCE, claims, { header });
/** Tokens minted ahead of a timing-sensitive sequence, so that signing time never eats into a cooldown window. */
const tokens = (n: number, claims: Record<string, unknown> = {}, header: () => Record<string, unknown> = () => ({})) => Promise.all(Array.from({ length: n }, () => token(claims, header())));
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Internal details that a client-facing description must never contain. */
const INTERNAL_TEXT = [/https?:/i, /127\.0\.0\.1/, /localhost/i, /:\d{2,5}\b/, /\bat .+\(/, /Error\b/, /ECONN|ENOTFOUND|EPIPE|UND_ERR/, /fetch failed/i, /HTTP \d{3}/, /abort/i, /\.json/];

function expectUnavailable(outcome: Outcome): void {
  expect(outcome.status).toBe(503);
  expect(outcome.body).toEqual({ error: 'temporarily_unavailable', error_description: expect.any(String) });
  expect(outcome.headers['Retry-After']).toMatch(/^[1-9]\d*$/);
  for (const pattern of INTERNAL_TEXT) expect(outcome.body!.error_description).not.toMatch(pattern);
  expect(outcome.body!.error_description).not.toContain(String(closedPort));
  expect(outcome.body!.error_description).not.toContain(new URL(issuer.origin).port);
}

function expectInvalidToken(outcome: Outcome): void {
  expect(outcome.status).toBe(401);
  expect(outcome.body?.error).toBe('invalid_token');
  expect(outcome.headers['WWW-Authenticate']).toContain('error="invalid_token"');
}

// ===============================================================================================================

describe('control', () => {
  it('a healthy provider: 200, one discovery and one JWKS fetch, a keys_refreshed event', async () => {
    const h = harness();
    expect((await attempt(h.validator, await token())).status).toBe(200);
    expect(issuer.discoveryFetches).toBe(1);
    expect(issuer.jwksFetches).toBe(1);
    expect(h.events).toContainEqual({ type: 'keys_refreshed', url: `${issuer.origin}/.well-known/jwks.json`, keys: 1 });
  });
});

describe('slow provider (beyond timeout)', () => {
  it('discovery slower than timeout: 503 in about the timeout, provider_fetch_failed reason timeout', async () => {
    issuer.discoveryFault = { kind: 'delay', ms: 3000 };
    const h = harness({ timeout: 300 });
    const outcome = await attempt(h.validator, await token());
    expectUnavailable(outcome);
    expect(outcome.ms).toBeGreaterThanOrEqual(250);
    expect(outcome.ms).toBeLessThan(1500);
    expect(h.failures()).toEqual([expect.objectContaining({ url: `${issuer.origin}/.well-known/openid-configuration`, reason: 'timeout' })]);
  });
  it('JWKS slower than timeout: 503 in about the timeout, reason timeout', async () => {
    issuer.jwksFault = { kind: 'delay', ms: 3000 };
    const h = harness({ timeout: 300 });
    const outcome = await attempt(h.validator, await token());
    expectUnavailable(outcome);
    expect(outcome.ms).toBeLessThan(1500);
    expect(h.failures()).toEqual([expect.objectContaining({ url: `${issuer.origin}/.well-known/jwks.json`, reason: 'timeout' })]);
  });
  it('30 concurrent requests during a slow discovery share one fetch and all get 503 promptly', async () => {
    issuer.discoveryFault = { kind: 'delay', ms: 3000 };
    const h = harness({ timeout: 300 });
    const t = await token();
    const started = performance.now();
    const outcomes = await Promise.all(Array.from({ length: 30 }, () => attempt(h.validator, t)));
    for (const o of outcomes) expectUnavailable(o);
    expect(performance.now() - started).toBeLessThan(1500);
    expect(issuer.discoveryFetches).toBe(1);
  });
});

describe('provider down', () => {
  it('closed port: 503 quickly, reason network', async () => {
    const h = harness({ domain: `http://127.0.0.1:${closedPort}` });
    const outcome = await attempt(h.validator, await token({ iss: `http://127.0.0.1:${closedPort}/` }));
    expectUnavailable(outcome);
    expect(outcome.ms).toBeLessThan(1000);
    expect(h.failures()).toEqual([expect.objectContaining({ reason: 'network' })]);
  });
  it('connection reset by the JWKS endpoint: 503, reason network', async () => {
    issuer.jwksFault = { kind: 'reset' };
    const h = harness();
    expectUnavailable(await attempt(h.validator, await token()));
    expect(h.failures()).toEqual([expect.objectContaining({ reason: 'network' })]);
  });
  it('an outage is not hammered: 40 requests within the retry interval cause one discovery fetch', async () => {
    issuer.discoveryFault = { kind: 'status', status: 503 };
    const h = harness({ cooldown: 5 });
    for (let i = 0; i < 40; i++) expectUnavailable(await attempt(h.validator, await token()));
    expect(issuer.discoveryFetches).toBe(1);
  });
});

describe('HTTP errors', () => {
  it.each([500, 502, 503, 404])('discovery answering %i: 503, reason status', async (status) => {
    issuer.discoveryFault = { kind: 'status', status };
    const h = harness();
    expectUnavailable(await attempt(h.validator, await token()));
    expect(h.failures()).toEqual([expect.objectContaining({ reason: 'status' })]);
  });
  it.each([500, 503, 404, 401])('JWKS answering %i: 503, reason status', async (status) => {
    issuer.jwksFault = { kind: 'status', status };
    const h = harness();
    expectUnavailable(await attempt(h.validator, await token()));
    expect(h.failures()).toEqual([expect.objectContaining({ reason: 'status' })]);
  });
});

describe('redirects are not followed', () => {
  it('discovery 302 to another server: 503, zero requests at the target, reason redirect', async () => {
    issuer.discoveryFault = { kind: 'redirect', location: `${redirectTarget.url}/.well-known/openid-configuration` };
    const before = redirectTarget.requests;
    const h = harness();
    expectUnavailable(await attempt(h.validator, await token()));
    expect(redirectTarget.requests).toBe(before);
    expect(h.failures()).toEqual([expect.objectContaining({ reason: 'redirect' })]);
  });
  it('JWKS 302 to another server: 503, zero requests at the target, reason redirect', async () => {
    issuer.jwksFault = { kind: 'redirect', location: `${redirectTarget.url}/jwks.json` };
    const before = redirectTarget.requests;
    const h = harness();
    expectUnavailable(await attempt(h.validator, await token()));
    expect(redirectTarget.requests).toBe(before);
    expect(h.failures()).toEqual([expect.objectContaining({ reason: 'redirect' })]);
  });
  it('control: the redirect target does answer (so zero requests means not followed)', async () => {
    const before = redirectTarget.requests;
    expect((await fetch(`${redirectTarget.url}/jwks.json`)).status).toBe(200);
    expect(redirectTarget.requests).toBe(before + 1);
  });
});

describe('garbage bodies', () => {
  const bodies: Array<[string, string, string, string]> = [
    ['HTML', '<html><body>Login</body></html>', 'text/html', 'not_json'],
    ['truncated JSON', '{"keys":[{"kty":"RSA"', 'application/json', 'not_json'],
    ['empty body', '', 'application/json', 'not_json'],
    ['{"keys":"x"}', '{"keys":"x"}', 'application/json', 'invalid'],
    ['a JSON array', '[]', 'application/json', 'invalid'],
    ['JSON null', 'null', 'application/json', 'invalid'],
    ['a JSON string', '"keys"', 'application/json', 'invalid'],
  ];
  it.each(bodies)('JWKS body = %s: 503', async (_name, body, contentType, reason) => {
    issuer.jwksFault = { kind: 'body', body, contentType };
    const h = harness();
    expectUnavailable(await attempt(h.validator, await token()));
    expect(h.failures()).toEqual([expect.objectContaining({ reason })]);
  });
  it.each(bodies.slice(0, 3))('discovery body = %s: 503', async (_name, body, contentType) => {
    issuer.discoveryFault = { kind: 'body', body, contentType };
    expectUnavailable(await attempt(harness().validator, await token()));
  });
  it('discovery naming another issuer (cache poisoning): 503, and that issuer is never trusted', async () => {
    issuer.discoveryOverrides = { issuer: 'https://attacker.example/' };
    const h = harness();
    expectUnavailable(await attempt(h.validator, await token({ iss: 'https://attacker.example/' })));
    expect(h.failures()).toEqual([expect.objectContaining({ reason: 'invalid' })]);
    expect(issuer.jwksFetches).toBe(0);
  });
  it('discovery without jwks_uri: 503', async () => {
    issuer.discoveryOverrides = { jwks_uri: undefined };
    expectUnavailable(await attempt(harness().validator, await token()));
  });
  it('discovery with a plain-http non-loopback jwks_uri: 503 and no fetch', async () => {
    issuer.discoveryOverrides = { jwks_uri: 'http://keys.example.com/jwks.json' };
    const h = harness();
    expectUnavailable(await attempt(h.validator, await token()));
    expect(h.failures()).toEqual([expect.objectContaining({ reason: 'invalid' })]);
  });
});

describe('huge bodies (size cap)', () => {
  it('a 50 MB streamed JWKS over maxResponseBytes: 503 quickly, reason too_large', async () => {
    issuer.jwksFault = { kind: 'huge', bytes: 50 * 1024 * 1024 };
    const h = harness({ maxResponseBytes: 64 * 1024, timeout: 5000 });
    const outcome = await attempt(h.validator, await token());
    expectUnavailable(outcome);
    expect(outcome.ms).toBeLessThan(2000);
    expect(h.failures()).toEqual([expect.objectContaining({ reason: 'too_large' })]);
  });
  it('a discovery document whose Content-Length exceeds the cap: 503, reason too_large', async () => {
    issuer.discoveryFault = { kind: 'body', body: `{"pad":"${'x'.repeat(200 * 1024)}"}` };
    const h = harness({ maxResponseBytes: 64 * 1024 });
    expectUnavailable(await attempt(h.validator, await token()));
    expect(h.failures()).toEqual([expect.objectContaining({ reason: 'too_large' })]);
  });
  it('control: a key set just under the cap is accepted', async () => {
    const padded = JSON.stringify({ ...issuer.jwks(), pad: 'x'.repeat(30 * 1024) });
    issuer.jwksFault = { kind: 'body', body: padded };
    expect((await attempt(harness({ maxResponseBytes: 64 * 1024 }).validator, await token())).status).toBe(200);
  });
});

describe('key set content', () => {
  it('JWKS missing the token kid: 401 invalid_token (the provider answered; the key is not there)', async () => {
    const h = harness();
    expectInvalidToken(await attempt(h.validator, await issuer.token(AUDIENCE, {}, { key: stranger })));
    expect(h.failures()).toEqual([]);
  });
  it('an empty key list: 401 invalid_token', async () => {
    issuer.jwksFault = { kind: 'body', body: '{"keys":[]}' };
    expectInvalidToken(await attempt(harness().validator, await token()));
  });
  it('one malformed key does not spoil the others', async () => {
    issuer.jwksFault = { kind: 'body', body: JSON.stringify({ keys: [{ kty: 'RSA', kid: 'broken', n: '!!', e: 'AQAB' }, ...issuer.jwks().keys] }) };
    expect((await attempt(harness().validator, await token())).status).toBe(200);
  });
  it('symmetric ("oct") and private keys in the JWKS are ignored: 401', async () => {
    issuer.jwksFault = { kind: 'body', body: JSON.stringify({ keys: [{ kty: 'oct', kid: 'key-1', k: 'c2VjcmV0' }] }) };
    expectInvalidToken(await attempt(harness().validator, await token()));
  });
});

describe('last good keys while the provider is down (bounded staleness)', () => {
  // cacheMaxAge 0.3 s: refresh due after that; maxStaleness 1.2 s: serve the old keys until 1.5 s after the fetch.
  const timings = { cacheMaxAge: 0.3, maxStaleness: 1.2, cooldown: 0.1 };
  const WINDOW_END = 1500;

  it('keeps serving cached keys during an outage, then 503 beyond maxStaleness, then recovers', async () => {
    const h = harness(timings);
    const [first, during1, during2, after, recovered] = await tokens(5);
    expect((await attempt(h.validator, first!)).status).toBe(200);
    const loadedAt = performance.now();

    issuer.discoveryFault = { kind: 'status', status: 503 };
    issuer.jwksFault = { kind: 'status', status: 503 };
    await sleep(400); // past cacheMaxAge: refreshes are attempted (and fail) in the background
    expect((await attempt(h.validator, during1!)).status).toBe(200);
    await sleep(50);
    expect((await attempt(h.validator, during2!)).status).toBe(200);
    expect(performance.now() - loadedAt).toBeLessThan(WINDOW_END); // the two 200s above were inside the window
    expect(h.failures().length).toBeGreaterThanOrEqual(1);
    expect(h.failures().every((e) => e.reason === 'status')).toBe(true);

    await sleep(Math.max(0, WINDOW_END + 200 - (performance.now() - loadedAt))); // past cacheMaxAge + maxStaleness
    expectUnavailable(await attempt(h.validator, after!));

    issuer.discoveryFault = { kind: 'none' };
    issuer.jwksFault = { kind: 'none' };
    await sleep(150); // one retry interval
    expect((await attempt(h.validator, recovered!)).status).toBe(200);
  });

  it('the token cache does not outlive maxStaleness: a token verified before the outage gets 503 after it', async () => {
    const h = harness({ ...timings, tokenCache: true });
    const cached = await token();
    expect((await attempt(h.validator, cached)).status).toBe(200);
    const loadedAt = performance.now();
    issuer.discoveryFault = { kind: 'status', status: 503 };
    issuer.jwksFault = { kind: 'status', status: 503 };
    await sleep(400);
    expect((await attempt(h.validator, cached)).status).toBe(200); // within the window: still fine
    await sleep(Math.max(0, WINDOW_END + 200 - (performance.now() - loadedAt)));
    expectUnavailable(await attempt(h.validator, cached));
  });

  it('maxStaleness 0: no stale serving once the cache age passes cacheMaxAge and the refresh fails', async () => {
    const h = harness({ cacheMaxAge: 0.2, maxStaleness: 0, cooldown: 0.05 });
    expect((await attempt(h.validator, await token())).status).toBe(200);
    issuer.discoveryFault = { kind: 'status', status: 500 };
    issuer.jwksFault = { kind: 'status', status: 500 };
    await sleep(300);
    expectUnavailable(await attempt(h.validator, await token()));
  });

  it('a refreshed key set replaces the old one (rotation): a removed kid stops working after the refresh', async () => {
    const h = harness({ cacheMaxAge: 0.2, cooldown: 0.05 });
    expect((await attempt(h.validator, await token())).status).toBe(200);
    issuer.jwksFault = { kind: 'body', body: JSON.stringify({ keys: [nextKey.publicJwk] }) };
    await sleep(300);
    await attempt(h.validator, await token()); // triggers the background refresh
    await sleep(100);
    expectInvalidToken(await attempt(h.validator, await token()));
    expect((await attempt(h.validator, await issuer.token(AUDIENCE, {}, { key: nextKey }))).status).toBe(200);
  });

  it('stale serving is reported with stale_keys_served events', async () => {
    const h = harness({ cacheMaxAge: 0.2, maxStaleness: 5, cooldown: 0.4 });
    expect((await attempt(h.validator, await token())).status).toBe(200);
    issuer.discoveryFault = { kind: 'status', status: 503 };
    issuer.jwksFault = { kind: 'status', status: 503 };
    await sleep(450);
    await attempt(h.validator, await token()); // refresh attempt fails in the background
    await sleep(50);
    expect((await attempt(h.validator, await token())).status).toBe(200);
    expect(h.events.some((e) => e.type === 'stale_keys_served')).toBe(true);
  });
});

describe('unknown-kid flood', () => {
  const randomKid = () => ({ kid: `rnd-${randomUUID()}` });
  const randomKidToken = () => token({}, randomKid());

  it('200 random kids: at most one JWKS fetch per cooldown window, every one 401, no cache wipe', async () => {
    const h = harness({ cooldown: 0.6 });
    const flood = await tokens(200, {}, randomKid);
    expect((await attempt(h.validator, await token())).status).toBe(200);
    expect(issuer.jwksFetches).toBe(1);

    // Inside the cooldown after the initial load: no refetch at all.
    const burst1 = await Promise.all(flood.slice(0, 100).map((t) => attempt(h.validator, t)));
    for (const o of burst1) expectInvalidToken(o);
    expect(issuer.jwksFetches).toBe(1);

    await sleep(650); // a new cooldown window: one shared refetch for the whole burst
    const burst2 = await Promise.all(flood.slice(100).map((t) => attempt(h.validator, t)));
    for (const o of burst2) expectInvalidToken(o);
    expect(issuer.jwksFetches).toBe(2);

    // The known key still works: the flood did not wipe the key set.
    expect((await attempt(h.validator, await token())).status).toBe(200);
    expect(issuer.jwksFetches).toBe(2);
  });

  it('a sustained flood over ~1 s with cooldown 0.3 s: at most one fetch per window', async () => {
    const h = harness({ cooldown: 0.3 });
    expect((await attempt(h.validator, await token())).status).toBe(200);
    const started = performance.now();
    let sent = 0;
    while (performance.now() - started < 1000) {
      await Promise.all(Array.from({ length: 10 }, async () => expectInvalidToken(await attempt(h.validator, await randomKidToken()))));
      sent += 10;
    }
    expect(sent).toBeGreaterThan(30);
    const windows = Math.ceil((performance.now() - started) / 300);
    expect(issuer.jwksFetches - 1).toBeLessThanOrEqual(windows);
  });

  it('a new kid published by the provider is picked up on the next allowed refetch (rotation)', async () => {
    const h = harness({ cooldown: 0.2 });
    expect((await attempt(h.validator, await token())).status).toBe(200);
    issuer.keys.push(rotatedKey);
    try {
      await sleep(250);
      expect((await attempt(h.validator, await issuer.token(AUDIENCE, {}, { key: rotatedKey }))).status).toBe(200);
    } finally {
      issuer.keys.pop();
    }
  });

  it('an unknown kid during an outage: 503 for the one refetch, then 401 without refetching', async () => {
    const h = harness({ cooldown: 0.5 });
    const [known, knownLater] = await tokens(2);
    const flood = await tokens(21, {}, randomKid);
    expect((await attempt(h.validator, known!)).status).toBe(200);
    issuer.jwksFault = { kind: 'status', status: 500 };
    await sleep(550);
    expectUnavailable(await attempt(h.validator, flood[0]!)); // the refetch it was allowed failed: no usable answer
    const fetches = issuer.jwksFetches;
    for (const o of await Promise.all(flood.slice(1).map((t) => attempt(h.validator, t)))) expectInvalidToken(o);
    expect(issuer.jwksFetches).toBe(fetches);
    expect((await attempt(h.validator, knownLater!)).status).toBe(200); // known keys keep serving
  });
});

describe('cold start', () => {
  it('50 concurrent first requests share one discovery and one JWKS fetch', async () => {
    const h = harness();
    const t = await token();
    const outcomes = await Promise.all(Array.from({ length: 50 }, () => attempt(h.validator, t)));
    expect(outcomes.every((o) => o.status === 200)).toBe(true);
    expect(issuer.discoveryFetches).toBe(1);
    expect(issuer.jwksFetches).toBe(1);
  });
});

describe('events', () => {
  it('every fault kind reaches onEvent as provider_fetch_failed with its reason and URL (internal detail stays in events)', async () => {
    const seen = new Set<string>();
    const faults: Array<() => void> = [
      () => (issuer.jwksFault = { kind: 'delay', ms: 2000 }),
      () => (issuer.jwksFault = { kind: 'status', status: 500 }),
      () => (issuer.jwksFault = { kind: 'redirect', location: `${redirectTarget.url}/x` }),
      () => (issuer.jwksFault = { kind: 'body', body: '<html>' }),
      () => (issuer.jwksFault = { kind: 'body', body: '{"keys":"x"}' }),
      () => (issuer.jwksFault = { kind: 'huge', bytes: 1024 * 1024 }),
      () => (issuer.jwksFault = { kind: 'reset' }),
    ];
    for (const apply of faults) {
      apply();
      const h = harness({ timeout: 200, maxResponseBytes: 32 * 1024 });
      expectUnavailable(await attempt(h.validator, await token()));
      for (const e of h.failures()) {
        expect(e.url).toBe(`${issuer.origin}/.well-known/jwks.json`);
        seen.add(e.reason);
      }
      expect(h.events.some((e) => e.type === 'request_rejected' && e.code === 'temporarily_unavailable' && e.status === 503)).toBe(true);
    }
    expect([...seen].sort()).toEqual(['invalid', 'network', 'not_json', 'redirect', 'status', 'timeout', 'too_large']);
  });
  it('a throwing onEvent hook never changes a verdict', async () => {
    const validator = createValidator({
      domain: issuer.origin,
      audience: AUDIENCE,
      onEvent: () => {
        throw new Error('logger down');
      },
    });
    expect((await attempt(validator, await token())).status).toBe(200);
    issuer.jwksFault = { kind: 'status', status: 500 };
    const other = createValidator({
      domain: issuer.origin,
      audience: AUDIENCE,
      onEvent: () => {
        throw new Error('logger down');
      },
    });
    expectUnavailable(await attempt(other, await token()));
  });
});
