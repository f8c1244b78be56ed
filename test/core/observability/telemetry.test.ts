/**
 * OpenTelemetry (docs/decisions.md D30): with the real SDK registered globally — a
 * MeterProvider whose periodic reader exports to the SDK's InMemoryMetricExporter (delta temporality: each flush
 * holds what one scenario recorded) and a NodeTracerProvider (AsyncLocalStorage context) with an InMemorySpanExporter
 * — every outcome produces the metric points of D30 and span attributes, and nothing exported ever contains a
 * token, a proof, a key or the subject. Real local identity provider, real DPoP proofs, real Redis (down, for the
 * store error). Nothing is mocked.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import { context, metrics, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { AggregationTemporality, InMemoryMetricExporter, MeterProvider, PeriodicExportingMetricReader, type DataPoint, type Histogram } from '@opentelemetry/sdk-metrics';
import { InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import { calculateThumbprint, generateKeyPair, generateProof, type KeyPair } from 'dpop';
import { Redis } from 'ioredis';
import { AuthError, createValidator, RedisReplayStore, type ApiOptions, type ApiValidator, type VerifiedRequest } from '../../../src/core/index.js';
import { INSTRUMENTS, SPANS } from '../../../src/core/observability/telemetry.js';
import { TestIssuer } from '../../support/test-issuer.js';
import { TokenEndpoint } from '../../support/token-endpoint.js';
import { createTokenExchanger } from '../../../src/core/issuer/token-exchange.js';
import { closedPort } from '../../support/helpers.js';

const AUDIENCE = 'https://api.example.com';
const URL_ = 'https://api.example.com/api/private';
const SUB = `auth0|telemetry-${randomUUID()}`;
const CLIENT_ID = `client-${randomUUID()}`;

const metricExporter = new InMemoryMetricExporter(AggregationTemporality.DELTA);
const reader = new PeriodicExportingMetricReader({ exporter: metricExporter, exportIntervalMillis: 3_600_000 });
const meterProvider = new MeterProvider({ readers: [reader] });
const spanExporter = new InMemorySpanExporter();
const tracerProvider = new NodeTracerProvider({ spanProcessors: [new SimpleSpanProcessor(spanExporter)] });

let issuer: TestIssuer;
/** Every string that must never leave the process through telemetry, collected as the tests make them. */
const secrets = new Set<string>([SUB, CLIENT_ID]);
/** Everything exported, serialized, for the final search. */
const exported: string[] = [];

beforeAll(async () => {
  metrics.setGlobalMeterProvider(meterProvider);
  tracerProvider.register();
  issuer = await TestIssuer.start();
});

afterAll(async () => {
  await issuer?.close();
  await meterProvider.shutdown();
  await tracerProvider.shutdown();
  metrics.disable();
  trace.disable();
  context.disable();
});

beforeEach(async () => {
  await collect(); // start each scenario from empty exporters
});

interface Collected {
  spans: ReadableSpan[];
  /** Points of an instrument, as [attributes, value] (value: the count for histograms). */
  points(name: string): Array<{ attributes: Record<string, unknown>; value: number; sum?: number }>;
  /** The value of the point with exactly these attributes (0 when there is none). */
  value(name: string, attributes: Record<string, string>): number;
}

/** Flushes the reader, takes what both exporters hold, empties them, and keeps a serialized copy for the leak check. */
async function collect(): Promise<Collected> {
  await reader.forceFlush();
  const resourceMetrics = metricExporter.getMetrics();
  const spans = [...spanExporter.getFinishedSpans()];
  metricExporter.reset();
  spanExporter.reset();
  exported.push(serialize(resourceMetrics), serialize(spans));
  const all = resourceMetrics.flatMap((rm) => rm.scopeMetrics.flatMap((sm) => sm.metrics));
  const points: Collected['points'] = (name) =>
    all
      .filter((m) => m.descriptor.name === name)
      .flatMap((m) =>
        (m.dataPoints as Array<DataPoint<number | Histogram>>).map((p) => (typeof p.value === 'number' ? { attributes: { ...p.attributes }, value: p.value } : { attributes: { ...p.attributes }, value: p.value.count, sum: p.value.sum })),
      );
  const value: Collected['value'] = (name, attributes) =>
    points(name)
      .filter((p) => JSON.stringify(sorted(p.attributes)) === JSON.stringify(sorted(attributes)))
      .reduce((total, p) => total + p.value, 0);
  return { spans, points, value };
}

const sorted = (o: Record<string, unknown>) => Object.fromEntries(Object.entries(o).sort(([a], [b]) => a.localeCompare(b)));

/** Every own property, recursively, cycles cut: "everything exported". */
function serialize(value: unknown): string {
  const seen = new WeakSet<object>();
  return JSON.stringify(value, function (_key, v: unknown) {
    if (typeof v === 'bigint') return v.toString();
    if (v !== null && typeof v === 'object') {
      if (seen.has(v)) return '[cycle]';
      seen.add(v);
      if (v instanceof Map) return Object.fromEntries(v);
      if (!Array.isArray(v))
        return Object.fromEntries(
          Reflect.ownKeys(v)
            .filter((k): k is string => typeof k === 'string')
            .map((k) => [k, (v as Record<string, unknown>)[k]]),
        );
    }
    return v;
  });
}

function validator(options: Partial<ApiOptions> = {}): ApiValidator {
  return createValidator({ domain: issuer.origin, audience: AUDIENCE, ...options });
}

async function token(claims: Record<string, unknown> = {}): Promise<string> {
  const jti = randomUUID();
  const minted = await issuer.token(AUDIENCE, { sub: SUB, client_id: CLIENT_ID, azp: CLIENT_ID, jti, ...claims });
  secrets.add(minted).add(jti);
  for (const part of minted.split('.').slice(1)) secrets.add(part); // payload and signature alone, too
  return minted;
}

async function dpopToken(keyPair: KeyPair): Promise<string> {
  const jkt = await calculateThumbprint(keyPair.publicKey);
  secrets.add(jkt);
  return token({ cnf: { jkt } });
}

async function proof(keyPair: KeyPair, accessToken: string, nonce?: string): Promise<string> {
  const made = await generateProof(keyPair, URL_, 'GET', nonce, accessToken);
  secrets.add(made);
  for (const part of made.split('.').slice(1)) secrets.add(part); // its payload (jti, ath) and signature alone, too
  return made;
}

async function proofKey(): Promise<KeyPair> {
  const keyPair = await generateKeyPair('ES256');
  const jwk = await crypto.subtle.exportKey('jwk', keyPair.publicKey);
  secrets.add(jwk.x!);
  secrets.add(jwk.y!);
  return keyPair;
}

const request = (headers: Record<string, string>) => ({ method: 'GET', url: URL_, headers });

async function refusal(promise: Promise<unknown>): Promise<AuthError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(AuthError);
  return error as AuthError;
}

const authSpans = (spans: ReadableSpan[]) => spans.filter((s) => s.name === SPANS.authenticate);

describe('authentication', () => {
  it('success: attempts and duration per scheme, cache misses then a hit, one JWKS fetch, one span per request', async () => {
    const v = validator();
    const bearer = await token();
    // Cached on its second verification (admission on second use, src/core/token/token-cache.ts): miss, miss, hit.
    for (let i = 0; i < 3; i++) await v.verifyRequest(request({ authorization: `Bearer ${bearer}` }));
    const c = await collect();

    expect(c.points(INSTRUMENTS.authenticationAttempts)).toEqual([{ attributes: { 'auth.scheme': 'bearer', 'auth.outcome': 'success' }, value: 3 }]);
    const [duration] = c.points(INSTRUMENTS.authenticationDuration);
    expect(duration).toMatchObject({ attributes: { 'auth.scheme': 'bearer', 'auth.outcome': 'success' }, value: 3 });
    expect(duration!.sum).toBeGreaterThan(0);
    expect(duration!.sum).toBeLessThan(5); // seconds, not milliseconds
    expect(c.value(INSTRUMENTS.tokenCacheLookups, { 'auth.cache.result': 'miss' })).toBe(2);
    expect(c.value(INSTRUMENTS.tokenCacheLookups, { 'auth.cache.result': 'hit' })).toBe(1);
    expect(c.points(INSTRUMENTS.jwksFetches)).toEqual([{ attributes: { 'auth.outcome': 'success' }, value: 1 }]);

    const spans = authSpans(c.spans);
    expect(spans.map((s) => s.attributes)).toEqual([
      { 'auth.scheme': 'bearer', 'auth.outcome': 'success', 'auth.cache.result': 'miss', 'auth.issuer': issuer.origin },
      { 'auth.scheme': 'bearer', 'auth.outcome': 'success', 'auth.cache.result': 'miss', 'auth.issuer': issuer.origin },
      { 'auth.scheme': 'bearer', 'auth.outcome': 'success', 'auth.cache.result': 'hit', 'auth.issuer': issuer.origin },
    ]);
    expect(spans.every((s) => s.status.code === SpanStatusCode.UNSET)).toBe(true); // no error
    const fetch = c.spans.find((s) => s.name === SPANS.jwksFetch)!;
    expect(fetch.attributes).toEqual({ 'url.full': `${issuer.origin}${issuer.jwksPath}`, 'auth.outcome': 'success' });
    expect(fetch.parentSpanContext?.spanId).toBe(spans[0]!.spanContext().spanId); // the fetch belongs to the first request
  });

  it('is a child of the active HTTP server span', async () => {
    const v = validator();
    const bearer = await token();
    const tracer = trace.getTracer('test-http-server');
    await tracer.startActiveSpan('GET /api/private', { kind: SpanKind.SERVER }, async (server) => {
      await v.verifyRequest(request({ authorization: `Bearer ${bearer}` }));
      server.end();
    });
    const { spans } = await collect();
    const server = spans.find((s) => s.name === 'GET /api/private')!;
    const [auth] = authSpans(spans);
    expect(auth!.parentSpanContext?.spanId).toBe(server.spanContext().spanId);
    expect(auth!.spanContext().traceId).toBe(server.spanContext().traceId);
  });

  it('verifyAccessToken (no request) is an authentication too', async () => {
    const v = validator();
    await v.verifyAccessToken(await token());
    const c = await collect();
    expect(c.value(INSTRUMENTS.authenticationAttempts, { 'auth.scheme': 'bearer', 'auth.outcome': 'success' })).toBe(1);
    expect(authSpans(c.spans)).toHaveLength(1);
  });

  // Each error code a request can be refused with (insufficient_scope is authorization's: below).
  const failures: Array<{
    code: string;
    reason: string;
    scheme: 'bearer' | 'dpop' | 'none';
    options?: Partial<ApiOptions>;
    headers: () => Promise<Record<string, string>>;
  }> = [
    { code: 'unauthorized', reason: 'credentials.missing', scheme: 'none', headers: async () => ({}) },
    { code: 'unauthorized', reason: 'credentials.unsupported_scheme', scheme: 'none', headers: async () => ({ authorization: 'Basic dXNlcjpwYXNz' }) },
    { code: 'unauthorized', reason: 'credentials.bearer_not_allowed', scheme: 'bearer', options: { dpop: { mode: 'required' } }, headers: async () => ({ authorization: `Bearer ${await token()}` }) },
    { code: 'invalid_request', reason: 'credentials.malformed', scheme: 'bearer', headers: async () => ({ authorization: 'Bearer a b' }) },
    { code: 'invalid_token', reason: 'token.expired', scheme: 'bearer', headers: async () => ({ authorization: `Bearer ${await token({ exp: Math.floor(Date.now() / 1000) - 3600, iat: Math.floor(Date.now() / 1000) - 7200 })}` }) },
    {
      code: 'invalid_dpop_proof',
      reason: 'proof.ath',
      scheme: 'dpop',
      headers: async () => {
        const keyPair = await proofKey();
        const bound = await dpopToken(keyPair);
        return { authorization: `DPoP ${bound}`, dpop: await proof(keyPair, await token()) }; // the proof hashes another token
      },
    },
    {
      code: 'use_dpop_nonce',
      reason: 'proof.nonce',
      scheme: 'dpop',
      options: { dpop: { nonce: true } },
      headers: async () => {
        const keyPair = await proofKey();
        const bound = await dpopToken(keyPair);
        return { authorization: `DPoP ${bound}`, dpop: await proof(keyPair, bound) };
      },
    },
  ];

  it.each(failures)('failure $code ($reason): error.type on the metrics, reason and status on the span', async ({ code, reason, scheme, options, headers }) => {
    const v = validator(options);
    const error = await refusal(v.verifyRequest(request(await headers())));
    expect([error.code, error.reason]).toEqual([code, reason]);
    const c = await collect();
    const attributes = { 'auth.scheme': scheme, 'auth.outcome': 'failure', 'error.type': code };
    expect(c.points(INSTRUMENTS.authenticationAttempts)).toEqual([{ attributes, value: 1 }]);
    expect(c.points(INSTRUMENTS.authenticationDuration)).toMatchObject([{ attributes, value: 1 }]);
    const [span] = authSpans(c.spans);
    expect(span!.attributes).toMatchObject({ ...attributes, 'auth.failure.reason': reason });
    expect(span!.status).toEqual({ code: 2, message: error.description });
  });

  it('failure temporarily_unavailable: the JWKS fetch fails (counted, and a failed child span with error.type)', async () => {
    const v = validator();
    const bearer = await token();
    issuer.jwksFault = { kind: 'status', status: 500 };
    try {
      const error = await refusal(v.verifyRequest(request({ authorization: `Bearer ${bearer}` })));
      expect([error.code, error.reason]).toEqual(['temporarily_unavailable', 'provider.unavailable']);
    } finally {
      issuer.jwksFault = { kind: 'none' };
    }
    const c = await collect();
    expect(c.points(INSTRUMENTS.authenticationAttempts)).toEqual([{ attributes: { 'auth.scheme': 'bearer', 'auth.outcome': 'failure', 'error.type': 'temporarily_unavailable' }, value: 1 }]);
    expect(c.points(INSTRUMENTS.jwksFetches)).toEqual([{ attributes: { 'auth.outcome': 'failure' }, value: 1 }]);
    expect(c.value(INSTRUMENTS.tokenCacheLookups, { 'auth.cache.result': 'miss' })).toBe(1);
    const [auth] = authSpans(c.spans);
    expect(auth!.attributes).toMatchObject({ 'auth.failure.reason': 'provider.unavailable', 'auth.issuer': issuer.origin, 'auth.cache.result': 'miss' });
    const fetch = c.spans.find((s) => s.name === SPANS.jwksFetch)!;
    expect(fetch.attributes).toMatchObject({ 'auth.outcome': 'failure', 'error.type': 'status' });
    expect(fetch.status.code).toBe(2);
    expect(fetch.parentSpanContext?.spanId).toBe(auth!.spanContext().spanId);
  });

  it('a token cache turned off makes no lookups', async () => {
    const v = validator({ tokenCache: false });
    const bearer = await token();
    await v.verifyRequest(request({ authorization: `Bearer ${bearer}` }));
    await v.verifyRequest(request({ authorization: `Bearer ${bearer}` }));
    const c = await collect();
    expect(c.points(INSTRUMENTS.tokenCacheLookups)).toEqual([]);
    expect(authSpans(c.spans).map((s) => s.attributes['auth.cache.result'])).toEqual([undefined, undefined]);
  });
});

describe('DPoP replay checks', () => {
  it('fresh, then replay: counted, and a child span per check', async () => {
    const v = validator();
    const keyPair = await proofKey();
    const bound = await dpopToken(keyPair);
    const headers = { authorization: `DPoP ${bound}`, dpop: await proof(keyPair, bound) };
    await v.verifyRequest(request(headers));
    const error = await refusal(v.verifyRequest(request(headers)));
    expect(error.reason).toBe('proof.replay');
    const c = await collect();
    expect(c.value(INSTRUMENTS.replayChecks, { 'auth.outcome': 'fresh' })).toBe(1);
    expect(c.value(INSTRUMENTS.replayChecks, { 'auth.outcome': 'replay' })).toBe(1);
    expect(c.value(INSTRUMENTS.authenticationAttempts, { 'auth.scheme': 'dpop', 'auth.outcome': 'success' })).toBe(1);
    expect(c.value(INSTRUMENTS.authenticationAttempts, { 'auth.scheme': 'dpop', 'auth.outcome': 'failure', 'error.type': 'invalid_dpop_proof' })).toBe(1);
    const auths = authSpans(c.spans);
    const checks = c.spans.filter((s) => s.name === SPANS.replayCheck);
    expect(checks.map((s) => s.attributes)).toEqual([{ 'auth.outcome': 'fresh' }, { 'auth.outcome': 'replay' }]);
    expect(checks.map((s) => s.parentSpanContext?.spanId)).toEqual(auths.map((s) => s.spanContext().spanId));
    // The token's second use: verified again, then cached (admission on second use, src/core/token/token-cache.ts).
    expect(auths[1]!.attributes).toMatchObject({ 'auth.scheme': 'dpop', 'auth.failure.reason': 'proof.replay', 'auth.cache.result': 'miss' });
  });

  it('store error (Redis unreachable): counted as error, the request is a 503', async () => {
    const down = new Redis({ host: '127.0.0.1', port: await closedPort(), enableOfflineQueue: false, maxRetriesPerRequest: 1, lazyConnect: true });
    down.on('error', () => {});
    down.connect().catch(() => {});
    try {
      const v = validator({ dpop: { replayStore: new RedisReplayStore(down) } });
      const keyPair = await proofKey();
      const bound = await dpopToken(keyPair);
      const error = await refusal(v.verifyRequest(request({ authorization: `DPoP ${bound}`, dpop: await proof(keyPair, bound) })));
      expect([error.code, error.reason]).toEqual(['temporarily_unavailable', 'replay_store.unavailable']);
    } finally {
      down.disconnect();
    }
    const c = await collect();
    expect(c.points(INSTRUMENTS.replayChecks)).toEqual([{ attributes: { 'auth.outcome': 'error' }, value: 1 }]);
    expect(c.points(INSTRUMENTS.authenticationAttempts)).toEqual([{ attributes: { 'auth.scheme': 'dpop', 'auth.outcome': 'failure', 'error.type': 'temporarily_unavailable' }, value: 1 }]);
    const check = c.spans.find((s) => s.name === SPANS.replayCheck)!;
    expect(check.attributes).toEqual({ 'auth.outcome': 'error', 'error.type': 'ReplayStoreError' });
    expect(check.status.code).toBe(2);
  });
});

describe('authorization', () => {
  it('scope granted and denied: counted, and an event on the active span', async () => {
    const v = validator();
    const verified: VerifiedRequest = await v.verifyRequest(request({ authorization: `Bearer ${await token({ scope: 'read:messages' })}` }));
    const tracer = trace.getTracer('test-http-server');
    tracer.startActiveSpan('GET /api/messages', { kind: SpanKind.SERVER }, (server) => {
      v.authorize(verified, { scopes: ['read:messages'] });
      v.authorize(verified, { scopes: [] }); // an operation without scopes grants too
      expect(() => v.authorize(verified, { scopes: ['read:messages', 'write:messages'] })).toThrow(AuthError);
      server.end();
    });
    const c = await collect();
    expect(c.value(INSTRUMENTS.authorizationAttempts, { 'auth.outcome': 'granted' })).toBe(2);
    expect(c.value(INSTRUMENTS.authorizationAttempts, { 'auth.outcome': 'denied' })).toBe(1);
    expect(c.points(INSTRUMENTS.authorizationAttempts)).toHaveLength(2); // no other attribute sets
    // insufficient_scope is not an authentication failure
    expect(c.value(INSTRUMENTS.authenticationAttempts, { 'auth.scheme': 'bearer', 'auth.outcome': 'success' })).toBe(1);
    expect(c.points(INSTRUMENTS.authenticationAttempts)).toHaveLength(1);
    const server = c.spans.find((s) => s.name === 'GET /api/messages')!;
    expect(server.events.map((e) => [e.name, e.attributes])).toEqual([
      ['auth.authorization', { 'auth.outcome': 'granted' }],
      ['auth.authorization', { 'auth.outcome': 'granted' }],
      ['auth.authorization', { 'auth.outcome': 'denied', 'error.type': 'insufficient_scope', 'auth.failure.reason': 'scope.insufficient' }],
    ]);
  });
});

describe('step-up refusals', () => {
  it('are counted as denied with their own error.type; other denials keep theirs', async () => {
    const v = validator();
    const verified: VerifiedRequest = await v.verifyRequest(request({ authorization: `Bearer ${await token({ scope: 'read:data', acr: 'pwd', auth_time: Math.floor(Date.now() / 1000) })}` }));
    const stepUp = { acr: ['http://schemas.openid.net/pape/policies/2007/06/multi-factor'], maxAge: 300 };
    expect(() => v.authorize(verified, { scopes: ['read:data'], stepUp })).toThrow(AuthError);
    expect(() => v.authorize(verified, { scopes: ['write:data'], stepUp })).toThrow(AuthError); // 403 wins
    const c = await collect();
    expect(c.points(INSTRUMENTS.authorizationAttempts).map((p) => [p.attributes, p.value])).toEqual(
      expect.arrayContaining([
        [{ 'auth.outcome': 'denied', 'error.type': 'insufficient_user_authentication' }, 1],
        [{ 'auth.outcome': 'denied' }, 1],
      ]),
    );
    expect(c.points(INSTRUMENTS.authorizationAttempts)).toHaveLength(2);
  });
});

describe('token exchange (RFC 8693)', () => {
  it('counts success / cached / failure and makes an auth.token_exchange span per call, with the error code on failure', async () => {
    const endpoint = await TokenEndpoint.start();
    try {
      const v = validator();
      const exchanger = createTokenExchanger({ clientId: 'api', clientSecret: 'secret' }, { tokenEndpoint: async () => endpoint.url, telemetry: v.telemetry });
      const subject = { token: await token(), claims: { exp: Math.floor(Date.now() / 1000) + 3600 } };
      const first = await exchanger.exchange(subject, { audience: 'https://downstream.example.com' });
      await exchanger.exchange(subject, { audience: 'https://downstream.example.com' });
      secrets.add(first);
      endpoint.reset({ kind: 'status', status: 400, body: '{"error":"invalid_grant"}' });
      await expect(exchanger.exchange({ ...subject, token: await token() }, { audience: 'https://downstream.example.com' })).rejects.toThrow();
      endpoint.reset({ kind: 'status', status: 503, body: 'down' });
      await expect(exchanger.exchange({ ...subject, token: await token() }, { audience: 'https://downstream.example.com' })).rejects.toThrow();
      const c = await collect();
      expect(c.value(INSTRUMENTS.tokenExchangeAttempts, { 'auth.outcome': 'success' })).toBe(1);
      expect(c.value(INSTRUMENTS.tokenExchangeAttempts, { 'auth.outcome': 'cached' })).toBe(1);
      expect(c.value(INSTRUMENTS.tokenExchangeAttempts, { 'auth.outcome': 'failure' })).toBe(2);
      const spans = c.spans.filter((s) => s.name === SPANS.tokenExchange);
      expect(spans.map((s) => s.attributes)).toEqual([
        { 'auth.outcome': 'success' },
        { 'auth.outcome': 'cached' },
        { 'auth.outcome': 'failure', 'error.type': 'token_exchange_failed' },
        { 'auth.outcome': 'failure', 'error.type': 'temporarily_unavailable' },
      ]);
    } finally {
      await endpoint.close();
    }
  });
});

describe('without an SDK', () => {
  it('records nothing and shares one no-op per request; an SDK registered later is picked up', async () => {
    const v = validator();
    const bearer = await token();
    metrics.disable();
    trace.disable();
    try {
      const first = v.telemetry.startAuthentication();
      expect(first).toBe(v.telemetry.startAuthentication()); // nothing allocated per request
      expect(first.traced).toBe(false);
      await v.verifyRequest(request({ authorization: `Bearer ${bearer}` }));
      await refusal(v.verifyRequest(request({})));
    } finally {
      metrics.setGlobalMeterProvider(meterProvider);
      trace.setGlobalTracerProvider(tracerProvider);
    }
    let c = await collect();
    expect(c.points(INSTRUMENTS.authenticationAttempts)).toEqual([]);
    expect(c.spans).toEqual([]);

    await v.verifyRequest(request({ authorization: `Bearer ${bearer}` })); // the same validator, now reporting
    c = await collect();
    expect(c.points(INSTRUMENTS.authenticationAttempts)).toEqual([{ attributes: { 'auth.scheme': 'bearer', 'auth.outcome': 'success' }, value: 1 }]);
    expect(authSpans(c.spans)).toHaveLength(1);
  });
});

describe('nothing sensitive', () => {
  it('no token, proof, key, thumbprint or claim value (sub, client_id, jti) in anything exported by the tests above', () => {
    const everything = exported.join('\n');
    expect(everything).toContain(SPANS.authenticate); // the search runs over real exports
    expect(secrets.size).toBeGreaterThan(20);
    for (const secret of secrets) expect(everything.includes(secret), `leaked: ${secret.slice(0, 16)}…`).toBe(false);
  });
});
