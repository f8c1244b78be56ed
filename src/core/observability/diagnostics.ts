/**
 * Nothing fails silently: what the library says on its own when the application did not ask to hear it.
 *
 * - Without an `onEvent` hook, identity-provider problems (discovery unreachable, issuer mismatch, key-set failure)
 *   are logged once per cause, and once when keys can be fetched again; failed token exchanges once per cause (reason,
 *   endpoint, status, error code). Lines carry URLs, the failure reason and its message; never a token, a proof or a
 *   key.
 * - A domain that cannot be right is named at start-up with the value to use: a loopback host with a port but no
 *   scheme (`127.0.0.1:4001` becomes `https://…`, while development issuers serve `http://`), and — at the first
 *   discovery — a loopback name that differs from the one the issuer calls itself (`localhost` vs `127.0.0.1`).
 */
import type { AuthEvent, EventSink } from './events.js';

/** Where diagnostics go: one line each. */
export type DiagnosticLog = (line: string) => void;

const PREFIX = 'auth0-tsoa-api:';
const MAX_DETAIL = 200;
/** The token endpoint's status and error codes make the causes: bounded, whatever it answers. */
const MAX_EXCHANGE_CAUSES = 50;

const warn: DiagnosticLog = (line) => console.warn(line);

/** A message cut to one line of bounded length (it may come from a remote server's answer). */
function oneLine(text: string): string {
  const flat = text.replace(/[\x00-\x1f\x7f]+/g, ' ').trim();
  return flat.length > MAX_DETAIL ? `${flat.slice(0, MAX_DETAIL)}…` : flat;
}

function originOf(url: string): string {
  try {
    return new URL(url).origin;
  } catch {
    return url;
  }
}

/**
 * The event sink used when the application gives no `onEvent`: unexpected errors (bugs) go to `console.error`; a
 * provider failure is logged once per cause (URL and reason) until that provider's keys are fetched again, which is
 * logged once too.
 */
export function defaultEventLog(log: DiagnosticLog = warn, logError: (line: string, cause: unknown) => void = (line, cause) => console.error(line, cause)): EventSink {
  /** Open causes per provider origin: `url reason`. */
  const failing = new Map<string, Set<string>>();
  /** Token exchange failures logged: reason, endpoint, status and error code (at most MAX_EXCHANGE_CAUSES lines). */
  const exchangeCauses = new Set<string>();
  return (event: AuthEvent) => {
    switch (event.type) {
      case 'request_rejected':
        if (event.reason === 'internal') logError(`${PREFIX} unexpected error while verifying a request:`, event.cause);
        return;
      case 'provider_fetch_failed': {
        const origin = originOf(event.url);
        const causes = failing.get(origin) ?? new Set<string>();
        failing.set(origin, causes);
        const cause = `${event.url} ${event.reason}`;
        if (causes.has(cause)) return;
        causes.add(cause);
        const detail = event.detail ? `: ${oneLine(event.detail)}` : '';
        log(`${PREFIX} identity provider problem (${event.reason}) at ${event.url}${detail}; requests that need it get 503 until it recovers (logged once; pass onEvent to handle provider events yourself)`);
        return;
      }
      case 'keys_refreshed': {
        const origin = originOf(event.url);
        if (!failing.get(origin)?.size) return;
        failing.delete(origin);
        log(`${PREFIX} identity provider recovered: keys fetched from ${event.url}`);
        return;
      }
      case 'token_exchange_failed': {
        const cause = `${event.reason} ${event.url ?? ''} ${event.status ?? ''} ${event.error ?? ''}`;
        if (exchangeCauses.has(cause) || exchangeCauses.size >= MAX_EXCHANGE_CAUSES) return;
        exchangeCauses.add(cause);
        const answer = [event.status === undefined ? '' : `HTTP ${event.status}`, event.error ?? '', event.detail ? oneLine(event.detail) : ''].filter(Boolean).join(', ');
        log(`${PREFIX} token exchange failed (${event.reason}) at ${event.url ?? 'the token endpoint (discovery names none)'}${answer ? `: ${answer}` : ''} (logged once per cause; pass onEvent to handle token exchange events yourself)`);
        return;
      }
      default:
        return;
    }
  };
}

const LOOPBACK_NAMES = new Set(['localhost', '127.0.0.1', '[::1]', '::1']);

/**
 * The start-up warning for a domain setting that names a loopback host and port without a scheme (`127.0.0.1:4001`,
 * `localhost:4001`): it is read as `https://…`, but development issuers serve plain http. Undefined when fine.
 */
export function schemelessLoopbackWarning(raw: unknown, option = 'domain'): string | undefined {
  if (typeof raw !== 'string') return undefined;
  const value = raw.trim();
  const match = /^(localhost|127\.0\.0\.1|\[::1\]):(\d{1,5})\/?$/i.exec(value);
  if (!match) return undefined;
  const fix = `http://${match[1]!.toLowerCase()}:${match[2]}`;
  return `${PREFIX} ${option} "${value}" has no scheme, so https://${match[1]!.toLowerCase()}:${match[2]} is used; a local development issuer serves http: set ${option} (AUTH0_DOMAIN) to ${fix}`;
}

/** Logs {@link schemelessLoopbackWarning} for each configured domain (once per validator, at start-up). */
export function warnAboutDomains(options: { domain?: unknown; domains?: unknown }, log: DiagnosticLog = warn): void {
  const list = Array.isArray(options.domains) ? options.domains.map((domain) => [domain, 'domains'] as const) : [[options.domain, 'domain'] as const];
  for (const [domain, option] of list) {
    const line = schemelessLoopbackWarning(domain, option);
    if (line) log(line);
  }
}

/**
 * When the discovery document's `issuer` is the configured loopback origin under another loopback name
 * (`http://localhost:4001` configured, `http://127.0.0.1:4001/` discovered): what to set instead. Undefined otherwise
 * (a different host is never suggested: that is not a reason to trust it).
 */
export function loopbackIssuerFix(configuredOrigin: string, issuer: URL): string | undefined {
  let configured: URL;
  try {
    configured = new URL(configuredOrigin);
  } catch {
    return undefined;
  }
  const loopback = (url: URL) => LOOPBACK_NAMES.has(url.hostname.toLowerCase());
  if (!loopback(configured) || !loopback(issuer) || configured.hostname === issuer.hostname) return undefined;
  if (configured.protocol !== issuer.protocol || configured.port !== issuer.port) return undefined;
  return `discovery "issuer" is ${issuer.href}, not ${configuredOrigin}: set the domain (AUTH0_DOMAIN) to ${issuer.origin}`;
}

/** Wraps a user hook so that a throwing hook can never break a request. */
export function safeSink(hook: EventSink | undefined): EventSink {
  // Without a hook, bugs and identity-provider problems are still logged, once per cause (diagnostics.ts).
  if (!hook) return defaultEventLog();
  return (event) => {
    try {
      hook(event);
    } catch {
      /* a logging hook must not change the verdict */
    }
  };
}
