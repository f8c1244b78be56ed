/**
 * Events for logs and metrics, delivered to the `onEvent` option. Events may carry internal detail (URLs, causes)
 * that responses never do, but never a token, a proof, a key or a claim value.
 */
import type { AuthErrorCode, AuthFailureReason, AuthScheme, ProviderFetchFailure } from './errors.js';

/** A request was refused (any status). */
export interface RequestRejectedEvent {
  type: 'request_rejected';
  code: AuthErrorCode;
  reason: AuthFailureReason;
  status: number;
  /** The scheme the client used, when known. */
  scheme?: AuthScheme | undefined;
  /** For `internal` failures: the unexpected error, for your logs. */
  cause?: unknown;
}

/** A discovery document or key set could not be fetched or used. */
export interface ProviderFetchFailedEvent {
  type: 'provider_fetch_failed';
  url: string;
  reason: ProviderFetchFailure;
  detail?: string;
}

/** A key set was fetched and parsed. */
export interface KeysRefreshedEvent {
  type: 'keys_refreshed';
  url: string;
  keys: number;
}

/** The provider is failing and the last good keys are served (up to `maxStaleness`). */
export interface StaleKeysServedEvent {
  type: 'stale_keys_served';
  url: string;
  ageSeconds: number;
}

/** The replay store (or the nonce secret store) failed, or refused a client over its quota. */
export interface ReplayStoreFailedEvent {
  type: 'replay_store_failed';
  detail?: string;
}

/** The `domains` resolver threw, returned something unusable or timed out. */
export interface DomainsResolverFailedEvent {
  type: 'domains_resolver_failed';
  detail?: string;
}

/** A replay store warns about its setup (e.g. a Redis `maxmemory-policy` that may evict proofs). */
export interface ReplayStoreWarningEvent {
  type: 'replay_store_warning';
  detail: string;
}

/** Everything `onEvent` receives. Switch on `type`. */
export type AuthEvent =
  | RequestRejectedEvent
  | ProviderFetchFailedEvent
  | KeysRefreshedEvent
  | StaleKeysServedEvent
  | ReplayStoreFailedEvent
  | DomainsResolverFailedEvent
  | ReplayStoreWarningEvent;

/** The `type`s of {@link AuthEvent}. */
export type AuthEventType = AuthEvent['type'];

/** A function receiving events. */
export type EventSink = (event: AuthEvent) => void;

/** Without a hook, unexpected errors are still logged: they are bugs, and must not vanish. */
function logUnexpected(event: AuthEvent): void {
  if (event.type === 'request_rejected' && event.reason === 'internal') console.error('auth0-tsoa-api: unexpected error while verifying a request:', event.cause);
}

/** Wraps a user hook so that a throwing hook can never break a request. */
export function safeSink(hook: EventSink | undefined): EventSink {
  if (!hook) return logUnexpected;
  return (event) => {
    try {
      hook(event);
    } catch {
      /* a logging hook must not change the verdict */
    }
  };
}
