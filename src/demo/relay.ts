/**
 * `GET /api/relay`: calls the downstream API on the caller's behalf with a token exchanged for it (RFC 8693), the
 * framework-free part of the route (docs/decisions.md D24). The controller passes the verified request
 * (`getAuth(request)`); this module answers with a status and a JSON body, or throws the AuthError of a 503.
 *
 * One relay per process (the demo serves one app): `startDemo` installs it with {@link setRelay}.
 */
import { readCappedText } from '../core/issuer/read-capped.js';
import { TokenExchangeError, type ExchangeRequest } from '../core/issuer/token-exchange.js';
import type { VerifiedRequest } from '../core/http/request.js';
import type { RelayConfig } from './config.js';

/** The JSON error body of every refusal. */
export interface ErrorBody {
  error: string;
  error_description: string;
}

/** What the route answers: 200 with the downstream body, or an error status with an {@link ErrorBody}. */
export type RelayOutcome = { status: 200; body: { downstream: unknown } } | { status: 404 | 502; body: ErrorBody };

const DOWNSTREAM_TIMEOUT_MS = 10_000;
const MAX_DOWNSTREAM_BYTES = 1024 * 1024;

export const NOT_CONFIGURED: RelayOutcome = { status: 404, body: { error: 'not_found', error_description: 'Not found' } };
const EXCHANGE_FAILED: RelayOutcome = { status: 502, body: { error: 'token_exchange_failed', error_description: 'The authorization server refused the token exchange' } };
const BAD_GATEWAY: RelayOutcome = { status: 502, body: { error: 'bad_gateway', error_description: 'The downstream API did not answer successfully' } };

/** How the relay exchanges a verified caller's token: the validator's `exchangeToken` (the `tokenExchange` option). */
export type ExchangeToken = (caller: VerifiedRequest, request: ExchangeRequest) => Promise<string>;

/** Exchanges the caller's token and calls the downstream API with the exchanged one. */
export class Relay {
  constructor(
    private readonly config: RelayConfig,
    private readonly exchangeToken: ExchangeToken,
    private readonly fetchImpl: typeof fetch = globalThis.fetch,
  ) {}

  /**
   * The caller is verified already (a refused caller never gets here: no exchange). A 503 (the authorization server
   * unreachable, timing out or failing) is thrown as the exchanger's AuthError, answered with `Retry-After`.
   */
  async call(caller: VerifiedRequest): Promise<RelayOutcome> {
    let token: string;
    try {
      token = await this.exchangeToken(caller, { audience: this.config.audience, scope: this.config.scope });
    } catch (error) {
      if (error instanceof TokenExchangeError) return EXCHANGE_FAILED;
      throw error;
    }
    return this.callDownstream(token);
  }

  /** Only the exchanged token goes downstream: none of the caller's headers, no redirects followed. */
  private async callDownstream(token: string): Promise<RelayOutcome> {
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), DOWNSTREAM_TIMEOUT_MS);
    try {
      const response = await this.fetchImpl(this.config.downstreamUrl, {
        method: 'GET',
        headers: { authorization: `Bearer ${token}`, accept: 'application/json' },
        redirect: 'manual', // a redirect could carry the token elsewhere
        signal: controller.signal,
      });
      if (response.status < 200 || response.status >= 300) {
        await response.body?.cancel();
        return BAD_GATEWAY;
      }
      const text = await readCappedText(response, MAX_DOWNSTREAM_BYTES, controller);
      if (text === undefined) return BAD_GATEWAY;
      return { status: 200, body: { downstream: JSON.parse(text) as unknown } };
    } catch {
      return BAD_GATEWAY; // unreachable, timed out, or not JSON: never its text
    } finally {
      clearTimeout(timer);
    }
  }
}

let current: Relay | undefined;

/** Installs the relay of the running demo (undefined: `GET /api/relay` answers 404). */
export function setRelay(relay: Relay | undefined): void {
  current = relay;
}

/** Removes `relay` if it is still the installed one (a demo closing). */
export function clearRelay(relay: Relay | undefined): void {
  if (current === relay) current = undefined;
}

/** The installed relay, if `DOWNSTREAM_URL` was set. */
export function currentRelay(): Relay | undefined {
  return current;
}
