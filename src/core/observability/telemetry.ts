/**
 * OpenTelemetry metrics and spans for every authentication decision (docs/decisions.md D30), reported
 * through `@opentelemetry/api`, an optional peer dependency: whatever SDK the application registered receives them.
 *
 * Cheap when unused. The API is loaded once per process, synchronously, and is a no-op when it is not installed.
 * Each authentication then looks whether anything is registered with the API at all (one read of the registry that
 * every copy of `@opentelemetry/api` 1.x shares on `globalThis`) and, when nothing is, records nothing: no span, no
 * context switch, no clock read, no object of ours. Otherwise the API's own getters say which providers are there.
 * Instruments are created once per provider (an SDK registered later is picked up on the next request) and
 * attribute sets are frozen constants made once, so recording a metric allocates nothing of ours either.
 *
 * What is reported: the outcome, the scheme, the error code and the failure reason, whether the token came from the
 * cache, the issuer's origin (one of the configured domains), the JWKS URL without its query, replay-store verdicts.
 * Never a token, a proof, a key, or a claim value.
 */
import { createRequire } from 'node:module';
import type * as OtelApi from '@opentelemetry/api';
import type { AuthError, AuthScheme } from '../errors.js';
import { getHeader, type RequestHeaders } from '../http/credentials.js';

/** The instrumentation scope: the meter and tracer name under which everything is reported. */
export const TELEMETRY_SCOPE = 'auth0-tsoa-api';

/** The instrument names of docs/decisions.md D30. */
export const INSTRUMENTS = Object.freeze({
  authenticationAttempts: 'auth.authentication.attempts',
  authenticationDuration: 'auth.authentication.duration',
  authorizationAttempts: 'auth.authorization.attempts',
  jwksFetches: 'auth.jwks.fetches',
  tokenCacheLookups: 'auth.token_cache.lookups',
  replayChecks: 'auth.dpop.replay_checks',
  tokenExchangeAttempts: 'auth.token_exchange.attempts',
});

/** The span names: one per authentication, with a child per key-set fetch and per replay-store check. */
export const SPANS = Object.freeze({
  authenticate: 'auth.authenticate',
  jwksFetch: 'auth.jwks.fetch',
  replayCheck: 'auth.dpop.replay_check',
  tokenExchange: 'auth.token_exchange',
});

/** `auth.scheme`: the scheme a request presented (`none`: no credentials, or a scheme this library does not know). */
export type TelemetryScheme = AuthScheme | 'none';
/** `auth.outcome` of a replay-store check. */
export type ReplayCheckOutcome = 'fresh' | 'replay' | 'error';
/** `auth.outcome` of a token exchange (RFC 8693): a new token, one from the cache (or an exchange in flight), or none. */
export type TokenExchangeOutcome = 'success' | 'cached' | 'failure';

type Api = typeof OtelApi;
type Attributes = OtelApi.Attributes;
type Span = OtelApi.Span;
type Tracer = OtelApi.Tracer;
type TracerProvider = OtelApi.TracerProvider;
type Instruments = {
  attempts: OtelApi.Counter;
  duration: OtelApi.Histogram;
  authorization: OtelApi.Counter;
  jwksFetches: OtelApi.Counter;
  cacheLookups: OtelApi.Counter;
  replayChecks: OtelApi.Counter;
  tokenExchanges: OtelApi.Counter;
};

// --- the API, loaded once ------------------------------------------------------------------------------------------

interface Loaded {
  api: Api;
  /** The API's own no-op tracer provider: a fresh proxy with no delegate answers with it. */
  noopTracerProvider: TracerProvider;
  /** Where an authentication in progress keeps its facts for the steps below it (only while tracing). */
  attemptKey: symbol;
}

let loaded: Loaded | null | undefined;

/**
 * Where every copy of `@opentelemetry/api` 1.x keeps what was registered with it (providers, context manager,
 * propagator, diagnostic logger): created on the first registration, never removed. Absent, nothing is registered.
 */
const API_REGISTRY = Symbol.for('opentelemetry.js.api.1');
/** The API's own getters still decide every {@link VERIFY_EVERY}th time, in case that registry ever moved. */
const VERIFY_EVERY = 256;

/** `@opentelemetry/api` if the application installed it (synchronously: no top-level await in the library). */
function loadApi(): Loaded | undefined {
  if (loaded === undefined) {
    loaded = null;
    try {
      const api = createRequire(import.meta.url)('@opentelemetry/api') as Api;
      if (typeof api?.metrics?.getMeterProvider === 'function' && typeof api.trace?.getTracerProvider === 'function') {
        loaded = { api, noopTracerProvider: new api.ProxyTracerProvider().getDelegate(), attemptKey: api.createContextKey('auth0-tsoa-api authentication') };
      }
    } catch {
      /* not installed: telemetry stays off */
    }
  }
  return loaded ?? undefined;
}

// --- attribute sets: frozen once, shared by every recording ---------------------------------------------------------

const freeze = (attributes: Attributes): Attributes => Object.freeze(attributes);
const SUCCESS: Readonly<Record<AuthScheme, Attributes>> = {
  bearer: freeze({ 'auth.scheme': 'bearer', 'auth.outcome': 'success' }),
  dpop: freeze({ 'auth.scheme': 'dpop', 'auth.outcome': 'success' }),
};
/** scheme → error code → attributes, filled on first use (the codes are a small closed set). */
const FAILURE: Record<TelemetryScheme, Record<string, Attributes>> = { bearer: {}, dpop: {}, none: {} };
const failure = (scheme: TelemetryScheme, code: string): Attributes => (FAILURE[scheme][code] ??= freeze({ 'auth.scheme': scheme, 'auth.outcome': 'failure', 'error.type': code }));
const GRANTED = freeze({ 'auth.outcome': 'granted' });
const DENIED = freeze({ 'auth.outcome': 'denied' });
const STEP_UP_REQUIRED = freeze({ 'auth.outcome': 'denied', 'error.type': 'insufficient_user_authentication' });
const FETCH_SUCCESS = freeze({ 'auth.outcome': 'success' });
const FETCH_FAILURE = freeze({ 'auth.outcome': 'failure' });
const CACHE_HIT = freeze({ 'auth.cache.result': 'hit' });
const CACHE_MISS = freeze({ 'auth.cache.result': 'miss' });
const REPLAY: Readonly<Record<ReplayCheckOutcome, Attributes>> = {
  fresh: freeze({ 'auth.outcome': 'fresh' }),
  replay: freeze({ 'auth.outcome': 'replay' }),
  error: freeze({ 'auth.outcome': 'error' }),
};
const EXCHANGE: Readonly<Record<TokenExchangeOutcome, Attributes>> = {
  success: freeze({ 'auth.outcome': 'success' }),
  cached: freeze({ 'auth.outcome': 'cached' }),
  failure: freeze({ 'auth.outcome': 'failure' }),
};

/**
 * Bucket boundaries in seconds for `auth.authentication.duration`: a cache hit takes microseconds, a signature tens
 * of microseconds, a key-set fetch milliseconds to seconds (the SDK's default boundaries are meant for milliseconds).
 */
const DURATION_BUCKETS = [0.00001, 0.000025, 0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

function createInstruments(meter: OtelApi.Meter): Instruments {
  return {
    attempts: meter.createCounter(INSTRUMENTS.authenticationAttempts, { description: 'Requests authenticated, by scheme and outcome (error.type: the error code)', unit: '{attempt}' }),
    duration: meter.createHistogram(INSTRUMENTS.authenticationDuration, {
      description: 'Time taken to authenticate a request, by scheme and outcome',
      unit: 's',
      advice: { explicitBucketBoundaries: DURATION_BUCKETS },
    }),
    authorization: meter.createCounter(INSTRUMENTS.authorizationAttempts, { description: 'Authorization decisions (scopes) on authenticated requests', unit: '{attempt}' }),
    jwksFetches: meter.createCounter(INSTRUMENTS.jwksFetches, { description: 'Key-set (JWKS) fetches from identity providers', unit: '{fetch}' }),
    cacheLookups: meter.createCounter(INSTRUMENTS.tokenCacheLookups, { description: 'Verified-token cache lookups (hit: the verdict was served from the cache)', unit: '{lookup}' }),
    replayChecks: meter.createCounter(INSTRUMENTS.replayChecks, { description: 'DPoP proof replay-store checks', unit: '{check}' }),
    tokenExchanges: meter.createCounter(INSTRUMENTS.tokenExchangeAttempts, { description: 'Token exchanges for downstream APIs (RFC 8693), by outcome (cached: no request to the authorization server)', unit: '{exchange}' }),
  };
}

// --- recorders -----------------------------------------------------------------------------------------------------

/** One authentication in progress. */
export interface AuthenticationRecord {
  /** True when a tracer is registered: run the pipeline inside {@link AuthenticationRecord.run} for its span. */
  readonly traced: boolean;
  /** Runs `authenticate` as the active `auth.authenticate` span (a child of the active span, e.g. the HTTP server's). */
  run<T>(authenticate: () => Promise<T>): Promise<T>;
  succeeded(scheme: AuthScheme): void;
  /** `headers`: the request's, to name the scheme it presented when the error does not say. */
  failed(error: AuthError, headers?: RequestHeaders): void;
}

/** A key-set fetch or a replay-store check in progress. */
export interface StepRecord<Outcome> {
  done(outcome: Outcome, error?: unknown): void;
}

const NO_AUTHENTICATION: AuthenticationRecord = Object.freeze({
  traced: false,
  run: <T>(authenticate: () => Promise<T>) => authenticate(),
  succeeded() {},
  failed() {},
});
const NO_STEP: StepRecord<never> = Object.freeze({ done() {} });

/** The scheme the Authorization header names, for failures the pipeline refused before knowing it. */
function presentedScheme(headers: RequestHeaders | undefined): TelemetryScheme {
  const value = headers === undefined ? undefined : getHeader(headers, 'authorization');
  const text = typeof value === 'string' ? value : value?.[0];
  if (text === undefined) return 'none';
  const start = text.length - text.trimStart().length;
  const word = text.slice(start, start + 7).toLowerCase();
  if (word === 'bearer' || word.startsWith('bearer ')) return 'bearer';
  if (word.startsWith('dpop') && (word.length === 4 || word[4] === ' ')) return 'dpop';
  return 'none';
}

class Authentication implements AuthenticationRecord {
  readonly traced: boolean;
  private readonly started: number;
  private span: Span | undefined;
  /** Facts the steps below report while the span is active. */
  cache: 'hit' | 'miss' | undefined;
  issuer: string | undefined;

  constructor(
    private readonly loaded: Loaded,
    private readonly instruments: Instruments | undefined,
    private readonly tracer: Tracer | undefined,
  ) {
    this.traced = tracer !== undefined;
    this.started = instruments ? performance.now() : 0;
  }

  run<T>(authenticate: () => Promise<T>): Promise<T> {
    if (this.tracer === undefined) return authenticate();
    const { api, attemptKey } = this.loaded;
    // startActiveSpan makes the span current for everything `authenticate` awaits (with the SDK's context manager).
    return this.tracer.startActiveSpan(SPANS.authenticate, { kind: api.SpanKind.INTERNAL }, api.context.active().setValue(attemptKey, this), (span) => {
      this.span = span;
      return authenticate();
    });
  }

  succeeded(scheme: AuthScheme): void {
    this.record(SUCCESS[scheme], undefined);
  }

  failed(error: AuthError, headers?: RequestHeaders): void {
    this.record(failure(error.scheme ?? presentedScheme(headers), error.code), error);
  }

  private record(attributes: Attributes, error: AuthError | undefined): void {
    try {
      this.report(attributes, error);
    } catch {
      /* telemetry never changes a verdict (OpenTelemetry's API does not throw; a broken SDK must not either) */
    }
  }

  private report(attributes: Attributes, error: AuthError | undefined): void {
    if (this.instruments) {
      this.instruments.attempts.add(1, attributes);
      this.instruments.duration.record((performance.now() - this.started) / 1000, attributes);
    }
    const span = this.span;
    if (span === undefined) return;
    span.setAttributes(attributes);
    if (this.cache !== undefined) span.setAttribute('auth.cache.result', this.cache);
    if (this.issuer !== undefined) span.setAttribute('auth.issuer', this.issuer);
    if (error !== undefined) {
      span.setAttribute('auth.failure.reason', error.reason);
      // The description is fixed text chosen by this library (what clients see), never request data.
      span.setStatus({ code: this.loaded.api.SpanStatusCode.ERROR, message: error.description });
    }
    span.end();
  }
}

// --- the per-configuration reporter --------------------------------------------------------------------------------

/**
 * Reports one API configuration's authentication decisions through OpenTelemetry. Built once per validator by `buildServices`;
 * the pipeline calls it at each decision point.
 */
export class Telemetry {
  private readonly loaded: Loaded | undefined;
  private meterProvider: unknown;
  private tracerProvider: unknown;
  private instruments: Instruments | undefined;
  private tracer: Tracer | undefined;
  /** False once the API's getters found a provider the registry check missed: then they always decide. */
  private registryCheck = true;
  private calls = 0;

  constructor() {
    this.loaded = loadApi();
  }

  /** True when nothing at all is registered with the API: the per-request fast path (one property read). */
  private unregistered(): boolean {
    if (!this.registryCheck || (globalThis as Record<symbol, unknown>)[API_REGISTRY] !== undefined) return false;
    this.calls = (this.calls + 1) & (VERIFY_EVERY - 1);
    if (this.calls !== 0) return true;
    this.refresh();
    if (this.instruments === undefined && this.tracer === undefined) return true;
    this.registryCheck = false;
    return false;
  }

  /**
   * Follows the global providers: instruments and tracer are made again only when a provider was registered,
   * replaced or removed since the last call. With none registered this is two getter calls and two comparisons.
   */
  private refresh(): void {
    const loaded = this.loaded;
    if (loaded === undefined) return;
    const { api } = loaded;
    const meterProvider = api.metrics.getMeterProvider();
    if (meterProvider !== this.meterProvider) {
      this.meterProvider = meterProvider;
      const meter = meterProvider.getMeter(TELEMETRY_SCOPE);
      this.instruments = meter === api.createNoopMeter() ? undefined : createInstruments(meter);
    }
    // The API registers its proxy, which delegates to the SDK's provider; unregistered, the delegate is the no-op.
    const proxy = api.trace.getTracerProvider() as TracerProvider & { getDelegate?: () => TracerProvider };
    const tracerProvider = typeof proxy.getDelegate === 'function' ? proxy.getDelegate() : proxy;
    if (tracerProvider !== this.tracerProvider) {
      this.tracerProvider = tracerProvider;
      this.tracer = tracerProvider === loaded.noopTracerProvider ? undefined : tracerProvider.getTracer(TELEMETRY_SCOPE);
    }
  }

  /** Starts recording one authentication (a shared no-op when no SDK is registered). */
  startAuthentication(): AuthenticationRecord {
    if (this.loaded === undefined || this.unregistered()) return NO_AUTHENTICATION;
    this.refresh();
    if (this.instruments === undefined && this.tracer === undefined) return NO_AUTHENTICATION;
    return new Authentication(this.loaded, this.instruments, this.tracer);
  }

  /** The authentication in progress in the active context (only while tracing). */
  private current(): Authentication | undefined {
    const loaded = this.loaded!;
    return loaded.api.context.active().getValue(loaded.attemptKey) as Authentication | undefined;
  }

  /** A verified-token cache lookup; `issuer`: the origin of the cached verdict's issuer (hits). */
  tokenCacheLookup(hit: boolean, issuer?: string): void {
    this.instruments?.cacheLookups.add(1, hit ? CACHE_HIT : CACHE_MISS);
    if (this.tracer === undefined) return;
    const attempt = this.current();
    if (attempt === undefined) return;
    attempt.cache = hit ? 'hit' : 'miss';
    if (issuer !== undefined) attempt.issuer = issuer;
  }

  /** The issuer a token is being verified against: one of the configured (or resolver-allowed) origins. */
  issuerSelected(origin: string): void {
    if (this.tracer === undefined) return;
    const attempt = this.current();
    if (attempt !== undefined) attempt.issuer = origin;
  }

  /** An authorization decision on an authenticated request. `refusal`: what a denial answers. */
  authorization(granted: boolean, refusal?: AuthError): void {
    // Step-up refusals (RFC 9470) are counted apart: the client can succeed by signing in again, unlike a 403.
    this.instruments?.authorization.add(1, granted ? GRANTED : refusal?.code === 'insufficient_user_authentication' ? STEP_UP_REQUIRED : DENIED);
    if (this.tracer === undefined) return;
    // No span of its own (it takes no time): an event on the active span, e.g. the HTTP server's.
    const span = this.loaded!.api.trace.getActiveSpan();
    if (span === undefined || !span.isRecording()) return;
    span.addEvent('auth.authorization', refusal === undefined ? GRANTED : { ...DENIED, 'error.type': refusal.code, 'auth.failure.reason': refusal.reason });
  }

  /** Starts recording a key-set fetch of `jwksUri`. */
  startJwksFetch(jwksUri: string): StepRecord<boolean> {
    this.refresh();
    const instruments = this.instruments;
    const span = this.startStep(SPANS.jwksFetch, { 'url.full': withoutQuery(jwksUri) });
    if (instruments === undefined && span === undefined) return NO_STEP;
    return {
      done: (ok, error) => {
        instruments?.jwksFetches.add(1, ok ? FETCH_SUCCESS : FETCH_FAILURE);
        if (span !== undefined) this.endStep(span, ok ? FETCH_SUCCESS : FETCH_FAILURE, ok ? undefined : errorType(error));
      },
    };
  }

  /** Starts recording a replay-store check of a DPoP proof. */
  startReplayCheck(): StepRecord<ReplayCheckOutcome> {
    const instruments = this.instruments;
    const span = this.startStep(SPANS.replayCheck, undefined);
    if (span === undefined) return instruments === undefined ? NO_STEP : this.countReplay;
    return {
      done: (outcome, error) => {
        instruments?.replayChecks.add(1, REPLAY[outcome]);
        this.endStep(span, REPLAY[outcome], outcome === 'error' ? errorType(error) : undefined);
      },
    };
  }

  /** Starts recording a token exchange (RFC 8693): an `auth.token_exchange` span and one count per outcome. */
  startTokenExchange(): StepRecord<TokenExchangeOutcome> {
    if (this.loaded === undefined || this.unregistered()) return NO_STEP;
    this.refresh();
    const instruments = this.instruments;
    const span = this.startStep(SPANS.tokenExchange, undefined);
    if (instruments === undefined && span === undefined) return NO_STEP;
    return {
      done: (outcome, error) => {
        instruments?.tokenExchanges.add(1, EXCHANGE[outcome]);
        if (span !== undefined) this.endStep(span, EXCHANGE[outcome], outcome === 'failure' ? exchangeErrorType(error) : undefined);
      },
    };
  }

  /** Metrics only: one shared recorder, nothing allocated per check. */
  private readonly countReplay: StepRecord<ReplayCheckOutcome> = {
    done: (outcome) => this.instruments?.replayChecks.add(1, REPLAY[outcome]),
  };

  private startStep(name: string, attributes: Attributes | undefined): Span | undefined {
    if (this.tracer === undefined) return undefined;
    const { api } = this.loaded!;
    return this.tracer.startSpan(name, { kind: api.SpanKind.INTERNAL, ...(attributes ? { attributes } : {}) }, api.context.active());
  }

  private endStep(span: Span, attributes: Attributes, error: string | undefined): void {
    try {
      span.setAttributes(attributes);
      if (error !== undefined) {
        span.setAttribute('error.type', error);
        span.setStatus({ code: this.loaded!.api.SpanStatusCode.ERROR });
      }
      span.end();
    } catch {
      /* see Authentication.record */
    }
  }
}

/** `error.type` of a failed exchange: its code (`temporarily_unavailable`, `token_exchange_failed`), else as a step. */
function exchangeErrorType(error: unknown): string {
  const code = (error as { code?: unknown } | undefined)?.code;
  return typeof code === 'string' && /^[a-z_]{1,32}$/.test(code) ? code : errorType(error);
}

/** `error.type` of a failed step: the failure kind a ProviderFetchError names, else the error's class name. */
function errorType(error: unknown): string {
  const reason = (error as { reason?: unknown } | undefined)?.reason;
  if (typeof reason === 'string' && /^[a-z_]{1,32}$/.test(reason)) return reason;
  const name = (error as Error | undefined)?.name;
  return typeof name === 'string' && /^[A-Za-z]{1,64}$/.test(name) ? name : '_OTHER';
}

/** A URL for a span: no query or fragment (where a provider could have put a credential). */
function withoutQuery(url: string): string {
  const end = url.search(/[?#]/);
  return end === -1 ? url : url.slice(0, end);
}
