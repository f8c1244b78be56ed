/**
 * Events for logs and metrics. The validator calls `onEvent` for every rejection and every identity-provider fault;
 * events may carry internal detail (URLs, causes) that responses never do.
 */
export type AuthEvent =
  | { type: 'request_rejected'; code: string; reason: string; status: number }
  | { type: 'provider_fetch_failed'; url: string; reason: string; detail?: string }
  | { type: 'keys_refreshed'; url: string; keys: number }
  | { type: 'stale_keys_served'; url: string; ageSeconds: number }
  | { type: 'replay_store_failed'; detail?: string }
  | { type: 'domains_resolver_failed'; detail?: string };

export type EventSink = (event: AuthEvent) => void;

/** Wraps a user hook so that a throwing hook can never break a request. */
export function safeSink(hook: EventSink | undefined): EventSink {
  if (!hook) return () => {};
  return (event) => {
    try {
      hook(event);
    } catch {
      /* a logging hook must not change the verdict */
    }
  };
}
