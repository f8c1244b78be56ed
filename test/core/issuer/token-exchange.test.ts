/**
 * The token exchanger (src/core/issuer/token-exchange.ts, docs/decisions.md D24) against a real local token endpoint:
 * the exact RFC 8693 form body; client authentication by HTTP Basic with form-urlencoded credentials (RFC 6749
 * §2.3.1) and by a private-key JWT assertion (RFC 7523) verified with jose; the cache (reuse per caller token,
 * audience and scope; never across caller tokens, even of the same user and under concurrency; not in the last 30 s;
 * not past the caller's `exp`; bounded); one exchange in flight per caller token; failures (unreachable, timeout,
 * 5xx → 503 AuthError with Retry-After; 4xx and unusable answers → TokenExchangeError) that carry no token and no
 * text of the endpoint; the start-up checks of the options.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { generateKeyPairSync } from 'node:crypto';
import { createLocalJWKSet, exportJWK, jwtVerify } from 'jose';
import { AuthError, ConfigurationError } from '../../../src/core/errors.js';
import { createTokenExchanger, TokenExchangeError, type TokenExchangeOptions } from '../../../src/core/issuer/token-exchange.js';
import type { AuthEvent } from '../../../src/core/observability/events.js';
import { TokenEndpoint } from '../../support/token-endpoint.js';
import { closedPort } from '../../support/helpers.js';

const AUDIENCE = 'https://downstream.example.com';
let endpoint: TokenEndpoint;
const now = () => Math.floor(Date.now() / 1000);
const caller = (token: string, exp = now() + 3600) => ({ token, claims: { exp, sub: 'auth0|same-user' } });

beforeAll(async () => {
  endpoint = await TokenEndpoint.start();
});
afterAll(async () => {
  await endpoint?.close();
});
beforeEach(() => endpoint.reset());

function exchanger(options: Partial<TokenExchangeOptions> = {}, dependencies: { now?: () => number; tokenEndpoint?: () => Promise<string | undefined>; emit?: (event: AuthEvent) => void } = {}) {
  return createTokenExchanger(
    { clientId: 'api client', clientSecret: 's3cr:et/&+', ...options },
    {
      tokenEndpoint: dependencies.tokenEndpoint ?? (async () => endpoint.url),
      ...(dependencies.now ? { now: dependencies.now } : {}),
      ...(dependencies.emit ? { emit: dependencies.emit } : {}),
    },
  );
}

async function failure(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => {
      throw new Error('expected a rejection');
    },
    (error: unknown) => error,
  );
}

describe('the request (RFC 8693 §2.1)', () => {
  it('posts exactly the token-exchange form to the discovered endpoint, with HTTP Basic of the form-encoded credentials', async () => {
    const token = await exchanger().exchange(caller('caller-token-1'), { audience: AUDIENCE, scope: ['write:items', 'read:items', 'read:items'] });
    expect(token).toBe(endpoint.issued[0]);
    expect(endpoint.requests).toHaveLength(1);
    const [request] = endpoint.requests;
    expect(request!.method).toBe('POST');
    expect(request!.headers['content-type']).toBe('application/x-www-form-urlencoded');
    expect(request!.form).toEqual({
      grant_type: 'urn:ietf:params:oauth:grant-type:token-exchange',
      subject_token: 'caller-token-1',
      subject_token_type: 'urn:ietf:params:oauth:token-type:access_token',
      requested_token_type: 'urn:ietf:params:oauth:token-type:access_token',
      audience: AUDIENCE,
      scope: 'read:items write:items',
    });
    // "api client" / "s3cr:et/&+" form-urlencoded, then Basic (RFC 6749 §2.3.1).
    expect(request!.headers.authorization).toBe(`Basic ${Buffer.from('api+client:s3cr%3Aet%2F%26%2B').toString('base64')}`);
  });

  it('subjectTokenType replaces the subject_token_type (Auth0 Custom Token Exchange profiles)', async () => {
    await exchanger({ subjectTokenType: 'urn:acme:auth0-access-token' }).exchange(caller('caller-token-3'), { audience: AUDIENCE });
    expect(endpoint.requests[0]!.form.subject_token_type).toBe('urn:acme:auth0-access-token');
    expect(endpoint.requests[0]!.form.requested_token_type).toBe('urn:ietf:params:oauth:token-type:access_token');
  });

  it('sends no scope when none is asked for', async () => {
    await exchanger().exchange(caller('caller-token-2'), { audience: AUDIENCE });
    expect(endpoint.requests[0]!.form).not.toHaveProperty('scope');
  });

  it.each(['RS256', 'ES256', 'EdDSA'] as const)('private_key_jwt (%s): an assertion the endpoint verifies with the registered public key', async (alg) => {
    const { privateKey, publicKey } = alg === 'RS256' ? generateKeyPairSync('rsa', { modulusLength: 2048 }) : alg === 'ES256' ? generateKeyPairSync('ec', { namedCurve: 'P-256' }) : generateKeyPairSync('ed25519');
    const jwk = { ...(await exportJWK(publicKey)), kid: 'client-key-1', alg };
    await createTokenExchanger({ clientId: 'api-client', privateKey: privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(), keyId: 'client-key-1' }, { tokenEndpoint: async () => endpoint.url }).exchange(caller(`pkjwt-${alg}`), {
      audience: AUDIENCE,
    });
    const { form, headers } = endpoint.requests[0]!;
    expect(headers.authorization).toBeUndefined();
    expect(form.client_id).toBe('api-client');
    expect(form.client_assertion_type).toBe('urn:ietf:params:oauth:client-assertion-type:jwt-bearer');
    const { payload, protectedHeader } = await jwtVerify(form.client_assertion!, createLocalJWKSet({ keys: [jwk] }), { issuer: 'api-client', subject: 'api-client', audience: endpoint.url, algorithms: [alg] });
    expect(protectedHeader.kid).toBe('client-key-1');
    expect(typeof payload.jti).toBe('string');
    expect(payload.exp! - payload.iat!).toBeLessThanOrEqual(60);
    // A new assertion (new jti) for every exchange.
    await createTokenExchanger({ clientId: 'api-client', privateKey }, { tokenEndpoint: async () => endpoint.url }).exchange(caller(`pkjwt2-${alg}`), { audience: AUDIENCE });
    const second = await jwtVerify(endpoint.requests[1]!.form.client_assertion!, createLocalJWKSet({ keys: [jwk] }), { audience: endpoint.url });
    expect(second.payload.jti).not.toBe(payload.jti);
  });
});

describe('the cache', () => {
  it('reuses the exchanged token for the same caller token, audience and scope; exchanges again for another audience or scope', async () => {
    const x = exchanger();
    const first = await x.exchange(caller('token-A'), { audience: AUDIENCE, scope: 'read:items' });
    expect(await x.exchange(caller('token-A'), { audience: AUDIENCE, scope: 'read:items' })).toBe(first);
    expect(endpoint.requests).toHaveLength(1);
    expect(await x.exchange(caller('token-A'), { audience: 'https://other.example.com', scope: 'read:items' })).not.toBe(first);
    expect(await x.exchange(caller('token-A'), { audience: AUDIENCE })).not.toBe(first);
    expect(endpoint.requests).toHaveLength(3);
  });

  it('never gives one caller token the exchange of another, even of the same sub', async () => {
    const x = exchanger();
    const a = await x.exchange(caller('token-of-user-session-1'), { audience: AUDIENCE });
    const b = await x.exchange(caller('token-of-user-session-2'), { audience: AUDIENCE });
    expect(b).not.toBe(a);
    expect(endpoint.requests.map((r) => r.form.subject_token)).toEqual(['token-of-user-session-1', 'token-of-user-session-2']);
  });

  it('under concurrency: each caller token gets its own exchange, and its own answer', async () => {
    endpoint.reset({ kind: 'token', expiresIn: 3600, delayMs: 50 });
    const x = exchanger();
    const tokens = Array.from({ length: 20 }, (_, i) => `concurrent-${i}`);
    const results = await Promise.all(tokens.flatMap((t) => [x.exchange(caller(t), { audience: AUDIENCE }), x.exchange(caller(t), { audience: AUDIENCE })]));
    expect(endpoint.requests).toHaveLength(20);
    expect(new Set(results).size).toBe(20);
    // Each caller got the token issued for its own subject token, and both of its requests got the same one.
    tokens.forEach((t, i) => {
      expect(endpoint.subjectOf.get(results[2 * i]!)).toBe(t);
      expect(results[2 * i + 1]).toBe(results[2 * i]);
    });
  });

  it('concurrent requests with the same caller token share one exchange in flight', async () => {
    endpoint.reset({ kind: 'token', expiresIn: 3600, delayMs: 100 });
    const x = exchanger();
    const results = await Promise.all(Array.from({ length: 10 }, () => x.exchange(caller('shared-token'), { audience: AUDIENCE })));
    expect(endpoint.requests).toHaveLength(1);
    expect(new Set(results)).toEqual(new Set([endpoint.issued[0]]));
  });

  it('a failed exchange in flight is not cached: the next call asks again', async () => {
    endpoint.reset({ kind: 'status', status: 400, body: '{"error":"invalid_grant"}' });
    const x = exchanger();
    await failure(x.exchange(caller('retry-token'), { audience: AUDIENCE }));
    endpoint.answer = { kind: 'token', expiresIn: 3600 };
    expect(await x.exchange(caller('retry-token'), { audience: AUDIENCE })).toBe(endpoint.issued[0]);
    expect(endpoint.requests).toHaveLength(2);
  });

  it('does not reuse a token in its last 30 s', async () => {
    let clock = Date.now();
    const x = exchanger({}, { now: () => clock });
    const first = await x.exchange(caller('expiring-token'), { audience: AUDIENCE }); // expires_in 3600
    clock += (3600 - 31) * 1000;
    expect(await x.exchange(caller('expiring-token'), { audience: AUDIENCE })).toBe(first);
    clock += 2000; // 29 s left
    const second = await x.exchange(caller('expiring-token'), { audience: AUDIENCE });
    expect(second).not.toBe(first);
    expect(endpoint.requests).toHaveLength(2);
  });

  it('never caches a token that expires within 30 s, or one without expires_in', async () => {
    for (const expiresIn of [30, 10, undefined]) {
      endpoint.reset({ kind: 'token', expiresIn });
      const x = exchanger();
      await x.exchange(caller('short-token'), { audience: AUDIENCE });
      await x.exchange(caller('short-token'), { audience: AUDIENCE });
      expect(endpoint.requests, String(expiresIn)).toHaveLength(2);
      expect(x.size).toBe(0);
    }
  });

  it('an entry never outlives the caller token', async () => {
    let clock = Date.now();
    const x = exchanger({}, { now: () => clock });
    const exp = Math.floor(clock / 1000) + 120;
    const first = await x.exchange(caller('caller-expiring', exp), { audience: AUDIENCE });
    clock += 100_000;
    expect(await x.exchange(caller('caller-expiring', exp), { audience: AUDIENCE })).toBe(first);
    clock += 25_000; // past the caller's exp
    expect(await x.exchange(caller('caller-expiring', exp), { audience: AUDIENCE })).not.toBe(first);
  });

  it('is bounded: at most maxEntries, the least recently used evicted first', async () => {
    const x = exchanger({ cache: { maxEntries: 3 } });
    for (const t of ['t1', 't2', 't3']) await x.exchange(caller(t), { audience: AUDIENCE });
    await x.exchange(caller('t1'), { audience: AUDIENCE }); // t1 now most recent
    await x.exchange(caller('t4'), { audience: AUDIENCE }); // evicts t2
    expect(x.size).toBe(3);
    endpoint.reset();
    await x.exchange(caller('t1'), { audience: AUDIENCE });
    await x.exchange(caller('t3'), { audience: AUDIENCE });
    expect(endpoint.requests).toHaveLength(0);
    await x.exchange(caller('t2'), { audience: AUDIENCE });
    expect(endpoint.requests).toHaveLength(1);
  });

  it('cache: false exchanges every time', async () => {
    const x = exchanger({ cache: false });
    await x.exchange(caller('nocache'), { audience: AUDIENCE });
    await x.exchange(caller('nocache'), { audience: AUDIENCE });
    expect(endpoint.requests).toHaveLength(2);
  });
});

describe('failures', () => {
  const SECRET_TEXT = 'internal-stack-trace-of-the-authorization-server';

  async function expectUnavailable(promise: Promise<unknown>, retryAfter = 5) {
    const error = await failure(promise);
    expect(error).toBeInstanceOf(AuthError);
    expect((error as AuthError).status).toBe(503);
    expect((error as AuthError).code).toBe('temporarily_unavailable');
    expect((error as AuthError).reason).toBe('token_exchange.unavailable');
    expect((error as AuthError).retryAfter).toBe(retryAfter);
    expect(JSON.stringify((error as AuthError).toJSON())).not.toContain(SECRET_TEXT);
    return error as AuthError;
  }

  it("5xx → 503 AuthError with Retry-After (the endpoint's own Retry-After when it sends seconds)", async () => {
    endpoint.reset({ kind: 'status', status: 500, body: SECRET_TEXT });
    await expectUnavailable(exchanger().exchange(caller('t-500'), { audience: AUDIENCE }));
    endpoint.reset({ kind: 'status', status: 503, body: SECRET_TEXT, headers: { 'retry-after': '17' } });
    await expectUnavailable(exchanger().exchange(caller('t-503'), { audience: AUDIENCE }), 17);
  });

  it('unreachable, dropped connection and timeout → 503', async () => {
    const port = await closedPort();
    await expectUnavailable(exchanger({}, { tokenEndpoint: async () => `http://127.0.0.1:${port}/oauth/token` }).exchange(caller('t-down'), { audience: AUDIENCE }));
    endpoint.reset({ kind: 'reset' });
    await expectUnavailable(exchanger().exchange(caller('t-reset'), { audience: AUDIENCE }));
    endpoint.reset({ kind: 'delay', ms: 2000 });
    const started = Date.now();
    await expectUnavailable(exchanger({ timeout: 200 }).exchange(caller('t-slow'), { audience: AUDIENCE }));
    expect(Date.now() - started).toBeLessThan(1500);
  });

  it('discovery failing (no token endpoint known) → 503', async () => {
    await expectUnavailable(exchanger({}, { tokenEndpoint: async () => undefined }).exchange(caller('t-nodisc'), { audience: AUDIENCE }));
  });

  it('4xx → TokenExchangeError token_exchange_failed, with the plain error code only', async () => {
    endpoint.reset({ kind: 'status', status: 400, body: JSON.stringify({ error: 'invalid_target', error_description: SECRET_TEXT }) });
    const error = await failure(exchanger().exchange(caller('subject-token-secret'), { audience: AUDIENCE }));
    expect(error).toBeInstanceOf(TokenExchangeError);
    expect((error as TokenExchangeError).code).toBe('token_exchange_failed');
    expect((error as TokenExchangeError).upstreamStatus).toBe(400);
    expect((error as TokenExchangeError).upstreamError).toBe('invalid_target');
    const shown = `${(error as Error).message} ${JSON.stringify(error)} ${String((error as Error).stack)}`;
    expect(shown).not.toContain(SECRET_TEXT);
    expect(shown).not.toContain('subject-token-secret');
  });

  it('a free-text error code is not kept', async () => {
    endpoint.reset({ kind: 'status', status: 401, body: JSON.stringify({ error: `bad client ${SECRET_TEXT}` }) });
    const error = (await failure(exchanger().exchange(caller('t-401'), { audience: AUDIENCE }))) as TokenExchangeError;
    expect(error.upstreamError).toBeUndefined();
  });

  it.each<[string, { kind: 'status'; status: number; body: string } | { kind: 'token'; tokenType: string; expiresIn: number }]>([
    ['a 2xx that is not JSON', { kind: 'status', status: 200, body: '<html>' }],
    ['a 2xx without access_token', { kind: 'status', status: 200, body: '{"token_type":"Bearer"}' }],
    ['a DPoP token (not usable as Bearer)', { kind: 'token', tokenType: 'DPoP', expiresIn: 3600 }],
    ['a redirect', { kind: 'status', status: 302, body: '' }],
  ])('%s → TokenExchangeError invalid_response', async (_what, answer) => {
    endpoint.reset(answer);
    const error = (await failure(exchanger().exchange(caller('t-bad'), { audience: AUDIENCE }))) as TokenExchangeError;
    expect(error).toBeInstanceOf(TokenExchangeError);
    expect(error.failure).toBe('invalid_response');
  });
});

describe('events: one token_exchange_failed per failed exchange, decided where it fails', () => {
  const SECRET_TEXT = 'internal-stack-trace-of-the-authorization-server';

  async function eventsOf(run: (emit: (event: AuthEvent) => void) => Promise<unknown>): Promise<AuthEvent[]> {
    const events: AuthEvent[] = [];
    await run((event) => events.push(event)).catch(() => {});
    // Never the caller's token, the client's credentials or the endpoint's text.
    for (const secret of ['subject-token-secret', 's3cr:et/&+', SECRET_TEXT]) expect(JSON.stringify(events)).not.toContain(secret);
    return events;
  }

  it('5xx: reason status, the endpoint and its status', async () => {
    endpoint.reset({ kind: 'status', status: 502, body: SECRET_TEXT });
    const events = await eventsOf((emit) => exchanger({}, { emit }).exchange(caller('subject-token-secret'), { audience: AUDIENCE }));
    expect(events).toEqual([{ type: 'token_exchange_failed', reason: 'status', url: endpoint.url, status: 502 }]);
  });

  it('unreachable: reason network with the cause; timeout: reason timeout', async () => {
    const port = await closedPort();
    const url = `http://127.0.0.1:${port}/oauth/token`;
    const down = await eventsOf((emit) => exchanger({}, { emit, tokenEndpoint: async () => url }).exchange(caller('subject-token-secret'), { audience: AUDIENCE }));
    expect(down).toEqual([{ type: 'token_exchange_failed', reason: 'network', url, detail: expect.stringMatching(/ECONNREFUSED/) as unknown }]);
    endpoint.reset({ kind: 'delay', ms: 2000 });
    const slow = await eventsOf((emit) => exchanger({ timeout: 100 }, { emit }).exchange(caller('subject-token-secret'), { audience: AUDIENCE }));
    expect(slow).toEqual([{ type: 'token_exchange_failed', reason: 'timeout', url: endpoint.url }]);
  });

  it('discovery naming no token endpoint: reason no_endpoint', async () => {
    const events = await eventsOf((emit) => exchanger({}, { emit, tokenEndpoint: async () => undefined }).exchange(caller('subject-token-secret'), { audience: AUDIENCE }));
    expect(events).toEqual([{ type: 'token_exchange_failed', reason: 'no_endpoint' }]);
  });

  it('a refusal: reason refused, status and the plain error code only; an unusable answer: invalid_response', async () => {
    endpoint.reset({ kind: 'status', status: 401, body: JSON.stringify({ error: 'invalid_client', error_description: SECRET_TEXT }) });
    const refused = await eventsOf((emit) => exchanger({}, { emit }).exchange(caller('subject-token-secret'), { audience: AUDIENCE }));
    expect(refused).toEqual([{ type: 'token_exchange_failed', reason: 'refused', url: endpoint.url, status: 401, error: 'invalid_client' }]);
    endpoint.reset({ kind: 'token', tokenType: 'DPoP', expiresIn: 3600 });
    const unusable = await eventsOf((emit) => exchanger({}, { emit }).exchange(caller('subject-token-secret'), { audience: AUDIENCE }));
    expect(unusable).toEqual([{ type: 'token_exchange_failed', reason: 'invalid_response', url: endpoint.url, status: 200 }]);
  });

  it('callers sharing one exchange in flight share its one event; a success or a cache hit sends none', async () => {
    endpoint.reset({ kind: 'status', status: 503, body: SECRET_TEXT });
    const events = await eventsOf(async (emit) => {
      const shared = exchanger({}, { emit });
      await Promise.allSettled(Array.from({ length: 5 }, () => shared.exchange(caller('subject-token-secret'), { audience: AUDIENCE })));
    });
    expect(events).toHaveLength(1);
    endpoint.reset();
    const none = await eventsOf(async (emit) => {
      const working = exchanger({}, { emit });
      await working.exchange(caller('t-ok'), { audience: AUDIENCE });
      await working.exchange(caller('t-ok'), { audience: AUDIENCE });
    });
    expect(none).toEqual([]);
    expect(endpoint.requests).toHaveLength(1);
  });
});

describe('options', () => {
  it.each<[string, Record<string, unknown>, string]>([
    ['no clientId', { clientSecret: 'x' }, 'tokenExchange.clientId'],
    ['neither secret nor key', { clientId: 'c' }, 'tokenExchange.clientSecret'],
    ['both secret and key', { clientId: 'c', clientSecret: 'x', privateKey: generateKeyPairSync('ed25519').privateKey }, 'tokenExchange.clientSecret'],
    ['a public key', { clientId: 'c', privateKey: generateKeyPairSync('ed25519').publicKey }, 'tokenExchange.privateKey'],
    ['not a key', { clientId: 'c', privateKey: 'not a pem' }, 'tokenExchange.privateKey'],
    ['an algorithm that does not fit', { clientId: 'c', privateKey: generateKeyPairSync('ed25519').privateKey, signingAlgorithm: 'RS256' }, 'tokenExchange.signingAlgorithm'],
    ['a short RSA key', { clientId: 'c', privateKey: generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey }, 'tokenExchange.signingAlgorithm'],
    ['an unknown option', { clientId: 'c', clientSecret: 'x', secret: 'y' }, 'tokenExchange.secret'],
    ['a bad maxEntries', { clientId: 'c', clientSecret: 'x', cache: { maxEntries: -1 } }, 'tokenExchange.cache.maxEntries'],
    ['a bad timeout', { clientId: 'c', clientSecret: 'x', timeout: 0 }, 'tokenExchange.timeout'],
    ['a subjectTokenType that is not a URI', { clientId: 'c', clientSecret: 'x', subjectTokenType: 'access token' }, 'tokenExchange.subjectTokenType'],
  ])('%s → ConfigurationError naming the option', (_what, options, option) => {
    let thrown: unknown;
    try {
      createTokenExchanger(options as unknown as TokenExchangeOptions, { tokenEndpoint: async () => endpoint.url });
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(ConfigurationError);
    expect((thrown as ConfigurationError).option).toBe(option);
  });
});
