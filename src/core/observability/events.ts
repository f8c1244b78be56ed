/**
 * Events for logs, delivered to the `onEvent` option: one plain object per occurrence, synchronously, in the async
 * context of the request that caused it (so a logger or `trace.getActiveSpan()` sees that request's trace). Events may carry
 * internal detail (URLs, causes) that responses never do, but never a token, a proof, a key or a claim value.
 * Metrics and spans come from OpenTelemetry (telemetry.ts), not from these events.
 *
 * | type | when | suggested level |
 * |---|---|---|
 * | `request_rejected` | every refusal (401, 400, 403, 503) | info (error for reason `internal`) |
 * | `provider_fetch_failed` | a discovery or key-set fetch failed | warn |
 * | `keys_refreshed` | a key set was fetched | debug |
 * | `stale_keys_served` | the provider is failing, the last good keys still serve | warn |
 * | `replay_store_failed` | the replay or nonce store failed, or refused a client over its quota | error |
 * | `domains_resolver_failed` | the `domains` resolver threw or timed out | error |
 * | `replay_store_warning` | a replay store's set-up warning | warn |
 * | `token_exchange_failed` | a token exchange (RFC 8693) failed or was refused | warn |
 */
import type { AuthError, AuthErrorCode, AuthFailureReason, AuthScheme, ProviderFetchFailure } from '../errors.js';

/**
 * A request was refused (any status: 400, 401, 403, 503), once per refusal, by authentication or authorization.
 * `code` is what the client got; `reason` says why, one stable value per distinct failure (see
 * `AUTH_FAILURE_REASONS`): count and alert on it from your logs.
 */
export interface RequestRejectedEvent {
  /** The event's kind: `request_rejected`. */
  type: 'request_rejected';
  /** The `error` code sent to the client (also `error.type` on the OpenTelemetry metrics). */
  code: AuthErrorCode;
  /** Why, e.g. `token.expired`, `proof.replay`, `scope.insufficient` (also `auth.failure.reason` on the span). */
  reason: AuthFailureReason;
  /** The HTTP status. */
  status: number;
  /** The scheme the client used, when known. */
  scheme?: AuthScheme | undefined;
  /** For reason `internal` only: the unexpected error (a bug), for your logs. Never sent to clients. */
  cause?: unknown;
}

/**
 * A discovery document or key set could not be fetched or used. Requests then get 503 unless the last good keys
 * are still served ({@link StaleKeysServedEvent}); fetches are retried at most once per `cooldown`.
 */
export interface ProviderFetchFailedEvent {
  /** The event's kind: `provider_fetch_failed`. */
  type: 'provider_fetch_failed';
  /** The discovery or JWKS URL. */
  url: string;
  /** `timeout`, `network`, `redirect`, `status`, `too_large`, `not_json` or `invalid`. */
  reason: ProviderFetchFailure;
  /** The underlying message (e.g. the HTTP status or parse error), for your logs. */
  detail?: string;
}

/** A key set was fetched and parsed: at start-up, every `cacheMaxAge`, and for an unknown `kid` (once per `cooldown`). */
export interface KeysRefreshedEvent {
  /** The event's kind: `keys_refreshed`. */
  type: 'keys_refreshed';
  /** The JWKS URL. */
  url: string;
  /** How many distinct `kid`s the set holds (usable keys only). */
  keys: number;
}

/** The provider is failing and the last good discovery document or keys are served (up to `maxStaleness`). */
export interface StaleKeysServedEvent {
  /** The event's kind: `stale_keys_served`. */
  type: 'stale_keys_served';
  /** The discovery or JWKS URL that is failing. */
  url: string;
  /** How old the served copy is. */
  ageSeconds: number;
}

/**
 * The replay store (or the nonce secret store) failed, or refused a client over its quota: the request gets 503
 * (unless `dpop.onStoreError` is `accept`, for outages).
 */
export interface ReplayStoreFailedEvent {
  /** The event's kind: `replay_store_failed`. */
  type: 'replay_store_failed';
  /** The store's error message (e.g. `redis: …`). */
  detail?: string;
}

/** The `domains` resolver threw, returned something unusable or timed out: the request gets 503. */
export interface DomainsResolverFailedEvent {
  /** The event's kind: `domains_resolver_failed`. */
  type: 'domains_resolver_failed';
  /** The resolver's error message. */
  detail?: string;
}

/**
 * A replay store warns about its set-up (e.g. a Redis `maxmemory-policy` that may evict proofs). The validator does
 * not emit it itself: `RedisReplayStore` reports through its own `onWarning` option, which you may forward here.
 */
export interface ReplayStoreWarningEvent {
  /** The event's kind: `replay_store_warning`. */
  type: 'replay_store_warning';
  /** The warning, one line. */
  detail: string;
}

/**
 * Why a token exchange failed: the token endpoint timed out (`timeout`), could not be reached (`network`), answered
 * 5xx (`status`) or is not in the discovery document (`no_endpoint`) — the caller got 503 —; or it refused the
 * exchange (`refused`, a 4xx) or answered without a usable token (`invalid_response`) — a `TokenExchangeError`.
 */
export type TokenExchangeFailedReason = 'timeout' | 'network' | 'status' | 'no_endpoint' | 'refused' | 'invalid_response';

/**
 * A token exchange (`exchangeToken`, RFC 8693) failed, once per exchange sent (callers sharing one exchange in flight
 * share its event). A discovery failure before it is a {@link ProviderFetchFailedEvent} instead. Carries neither the
 * caller's token, the client's credentials nor the endpoint's text.
 */
export interface TokenExchangeFailedEvent {
  /** The event's kind: `token_exchange_failed`. */
  type: 'token_exchange_failed';
  /** Why (see {@link TokenExchangeFailedReason}). */
  reason: TokenExchangeFailedReason;
  /** The token endpoint, when discovery named one. */
  url?: string | undefined;
  /** The token endpoint's HTTP status, when it answered. */
  status?: number | undefined;
  /** A refusal's RFC 6749 §5.2 `error` code when it is a plain code (e.g. `invalid_client`, `invalid_target`). */
  error?: string | undefined;
  /** The network error (e.g. `fetch failed: ECONNREFUSED`), for your logs. */
  detail?: string | undefined;
}

/** Everything `onEvent` receives. Switch on `type`. */
export type AuthEvent = RequestRejectedEvent | ProviderFetchFailedEvent | KeysRefreshedEvent | StaleKeysServedEvent | ReplayStoreFailedEvent | DomainsResolverFailedEvent | ReplayStoreWarningEvent | TokenExchangeFailedEvent;

/** The `type`s of {@link AuthEvent}. */
export type AuthEventType = AuthEvent['type'];

/** The `request_rejected` event of a refusal (the cause only for `internal` failures, which are bugs). */
export function rejectionEvent(error: AuthError): RequestRejectedEvent {
  const event: RequestRejectedEvent = { type: 'request_rejected', code: error.code, reason: error.reason, status: error.status, scheme: error.scheme };
  if (error.reason === 'internal') event.cause = error.cause;
  return event;
}

/** A function receiving events. */
export type EventSink = (event: AuthEvent) => void;
