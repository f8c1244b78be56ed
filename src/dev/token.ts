/**
 * Gets an access token with the client credentials grant: from a running development issuer by default, or from any
 * OpenID provider whose discovery document names a token endpoint (an Auth0 tenant with a machine-to-machine app).
 */

import type { DpopKeyPair } from '../client/dpop.js';

/** Where the development issuer listens by default (`npx auth0-tsoa-api dev`). */
export const DEFAULT_DEV_ISSUER = 'http://127.0.0.1:4001';

/** Options of {@link requestDevToken}. */
export interface DevTokenRequest {
  /** The issuer (its origin or identifier). Default `http://127.0.0.1:4001`. */
  issuer?: string;
  /** The API identifier, sent as Auth0's `audience`. Default: the issuer's own (the dev issuer knows one API). */
  audience?: string;
  /** Space-separated scopes. Default: every scope the client may have (Auth0's rule). */
  scope?: string;
  /** Auth0 Organizations: an organization ID or name; the token then carries `org_id` (and `org_name`). */
  organization?: string;
  /**
   * Development issuer only: the token's `acr`, as if the user had signed in that way (step-up, RFC 9470), e.g.
   * `http://schemas.openid.net/pape/policies/2007/06/multi-factor`.
   */
  acr?: string;
  /** Development issuer only: the token's `auth_time` (Unix seconds). Default: now when `acr` is set. */
  authTime?: number;
  /** Development issuer only: more claims (for claim policies), e.g. `{ roles: ['admin'] }`. */
  claims?: Record<string, unknown>;
  /** A DPoP key: the token request carries a proof and the token is bound to this key (RFC 9449 §5). */
  dpop?: DpopKeyPair;
  /** Default `demo-client`. */
  clientId?: string;
  /** Default `demo-secret`. */
  clientSecret?: string;
  /** Give up after this many milliseconds per request. Default 10 000. */
  timeoutMs?: number;
  /** Default the global fetch. */
  fetch?: typeof fetch;
}

/** Thrown when no token could be had; the message is one line saying why. */
export class DevTokenError extends Error {
  /** The error's class name, DevTokenError (stable: safe to compare). */
  override readonly name = 'DevTokenError';
}

/** Requests one access token (client credentials, HTTP Basic client authentication) and returns it. */
export async function requestDevToken(request: DevTokenRequest = {}): Promise<string> {
  const timeoutMs = request.timeoutMs ?? 10_000;
  const fetchImpl: typeof fetch = (url, init) => (request.fetch ?? fetch)(url, { ...init, signal: AbortSignal.timeout(timeoutMs) });
  const issuer = (request.issuer ?? DEFAULT_DEV_ISSUER).replace(/\/+$/, '');
  const tokenEndpoint = await discoverTokenEndpoint(fetchImpl, issuer);

  const body = new URLSearchParams({ grant_type: 'client_credentials' });
  if (request.audience) body.set('audience', request.audience);
  if (request.scope?.trim()) body.set('scope', request.scope.trim().split(/\s+/).join(' '));
  if (request.organization) body.set('organization', request.organization);
  // Understood by the development issuer only (./issuer-grants.ts); another issuer ignores unknown parameters.
  if (request.acr) body.set('acr', request.acr);
  const authTime = request.authTime ?? (request.acr ? Math.floor(Date.now() / 1000) : undefined);
  if (authTime !== undefined) body.set('auth_time', String(authTime));
  if (request.claims && Object.keys(request.claims).length > 0) body.set('extra_claims', JSON.stringify(request.claims));
  // Loaded only for DPoP: the command's folder works without the client helper otherwise.
  const tokenFetch: typeof fetch = request.dpop ? (await import('../client/dpop.js')).createDpopFetch(request.dpop, undefined, { fetch: (input) => fetchImpl(input) }) : fetchImpl;
  // RFC 6749 §2.3.1: form-urlencode the id and secret before Basic encoding.
  const basic = Buffer.from(`${formEncode(request.clientId ?? 'demo-client')}:${formEncode(request.clientSecret ?? 'demo-secret')}`).toString('base64');

  let response: Response;
  try {
    response = await tokenFetch(tokenEndpoint, {
      method: 'POST',
      headers: { authorization: `Basic ${basic}`, 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
      body,
    });
  } catch (error) {
    throw new DevTokenError(`cannot reach the token endpoint ${tokenEndpoint}: ${describe(error)}`);
  }
  const json = (await response.json().catch(() => ({}))) as { access_token?: unknown; error?: unknown; error_description?: unknown };
  if (!response.ok || typeof json.access_token !== 'string') {
    const reason = typeof json.error === 'string' ? `${json.error}${typeof json.error_description === 'string' ? `: ${json.error_description}` : ''}` : `HTTP ${response.status}`;
    throw new DevTokenError(`the token request to ${tokenEndpoint} was refused (${reason})`);
  }
  return json.access_token;
}

async function discoverTokenEndpoint(fetchImpl: typeof fetch, issuer: string): Promise<string> {
  const url = `${/^https?:\/\//i.test(issuer) ? issuer : `https://${issuer}`}/.well-known/openid-configuration`;
  let response: Response;
  try {
    response = await fetchImpl(url, { headers: { accept: 'application/json' } });
  } catch (error) {
    throw new DevTokenError(`no issuer answers at ${issuer} (${describe(error)}): start one with "npx auth0-tsoa-api dev" or pass --issuer`);
  }
  const metadata = (await response.json().catch(() => undefined)) as { token_endpoint?: unknown } | undefined;
  if (!response.ok || typeof metadata?.token_endpoint !== 'string') {
    throw new DevTokenError(`${url} is not an OpenID discovery document with a token_endpoint (HTTP ${response.status})`);
  }
  return metadata.token_endpoint;
}

function formEncode(value: string): string {
  return encodeURIComponent(value).replace(/%20/g, '+');
}

function describe(error: unknown): string {
  if ((error as Error).name === 'TimeoutError') return 'no answer in time';
  const cause = (error as { cause?: { code?: string } }).cause;
  return cause?.code ?? (error instanceof Error ? error.message : String(error));
}
