/**
 * Credentials from request headers only (RFC 6750 §2.1, RFC 9449 §7.1), and which of them the DPoP mode accepts.
 * Query and body tokens are never accepted: adapters report their presence, so that a token in two places is an
 * `invalid_request` and a token only outside the header counts as no credentials.
 */
import { AuthError, type AuthFailureReason, type AuthScheme } from '../errors.js';
import type { DpopMode } from '../options.js';

/** A header value as Node gives it. */
export type HeaderValue = string | readonly string[] | undefined;
/** Request headers; names may be in any case. */
export type RequestHeaders = Readonly<Record<string, HeaderValue>>;

/** What the Authorization header holds. */
export type Credentials = { kind: 'none' } | { kind: 'unsupported'; scheme: string } | { kind: 'token'; scheme: AuthScheme; token: string };

// credentials = auth-scheme [ 1*SP token68 ] (RFC 9110 §11.4); auth-scheme = token (§11.1)
const SCHEME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
const TOKEN68 = /^[A-Za-z0-9\-._~+/]+=*$/;
const NONE: Credentials = Object.freeze({ kind: 'none' });

function malformed(reason: AuthFailureReason, description: string, scheme?: AuthScheme): AuthError {
  return new AuthError('invalid_request', reason, description, { scheme });
}

/** Header lookup that ignores case, for plain objects whose keys may not be lower-cased. */
export function getHeader(headers: RequestHeaders, name: string): HeaderValue {
  const direct = headers[name];
  if (direct !== undefined) return direct;
  // Lower-casing only names of the right length: Node's header objects are already lower-cased, and this scan runs
  // on every Bearer request (is there a DPoP header?).
  for (const key of Object.keys(headers)) if (key.length === name.length && key.toLowerCase() === name) return headers[key];
  return undefined;
}

function single(value: HeaderValue, what: string, scheme?: AuthScheme): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value === 'string') return value;
  if (value.length === 0) return undefined;
  if (value.length > 1) throw malformed(scheme === 'dpop' ? 'proof.multiple' : 'credentials.duplicate_header', `Several ${what} headers were sent`, scheme);
  return value[0];
}

/**
 * Parses the Authorization header. Throws `invalid_request` for malformed credentials. `known(token)` may vouch for
 * a token already verified (so it passed this parser before): its token68 syntax check is then skipped.
 */
export function parseAuthorization(headers: RequestHeaders, known?: (token: string) => boolean): Credentials {
  const value = single(getHeader(headers, 'authorization'), 'Authorization')?.trim();
  if (value === undefined || value === '') return NONE;
  const space = value.indexOf(' ');
  const schemeText = space === -1 ? value : value.slice(0, space);
  if (!SCHEME.test(schemeText)) throw malformed('credentials.malformed', 'The Authorization header is malformed');
  const schemeName = schemeText.toLowerCase();
  if (schemeName !== 'bearer' && schemeName !== 'dpop') return { kind: 'unsupported', scheme: schemeName };
  const scheme: AuthScheme = schemeName;
  let start = space + 1; // RFC 6750 allows 1*SP before the token
  while (space !== -1 && value.charCodeAt(start) === 32) start++;
  const token = space === -1 ? '' : value.slice(start);
  if (token === '') throw malformed('credentials.missing_token', 'The Authorization header has no token', scheme);
  if (!known?.(token) && !TOKEN68.test(token)) throw malformed('credentials.malformed', 'The Authorization header is malformed', scheme);
  return { kind: 'token', scheme, token };
}

/** The single DPoP proof of a request; `invalid_request` when absent or when several are sent. */
export function getDpopProof(headers: RequestHeaders): string {
  const value = single(getHeader(headers, 'dpop'), 'DPoP', 'dpop');
  if (value === undefined || value.trim() === '') throw malformed('proof.missing', 'The DPoP scheme requires a DPoP proof header', 'dpop');
  // Node joins repeated headers with ", "; a compact JWS never contains a comma.
  if (value.includes(',')) throw malformed('proof.multiple', 'Only one DPoP proof may be sent', 'dpop');
  return value.trim();
}

/** True when any DPoP header is present. */
export function hasDpopHeader(headers: RequestHeaders): boolean {
  const value = getHeader(headers, 'dpop');
  return value !== undefined && (typeof value === 'string' ? value !== '' : value.length > 0);
}

/**
 * True when a request carries no credentials at all: no `Authorization` header (or a blank one) and no
 * `access_token` in its query or body. Only such a request may be served anonymously where an operation allows it;
 * anything else (a token only in the query, an unsupported scheme, a malformed header) is judged as usual.
 */
export function carriesNoCredentials(headers: RequestHeaders, tokenOutsideHeader: boolean): boolean {
  if (tokenOutsideHeader) return false;
  try {
    return parseAuthorization(headers).kind === 'none';
  } catch {
    return false; // malformed: the pipeline answers 400
  }
}

function unauthorized(reason: AuthFailureReason, description: string): AuthError {
  return new AuthError('unauthorized', reason, description);
}

/**
 * The credentials a request presents, judged by the DPoP mode (RFC 6750 §3.1, RFC 9449 §7): no credentials and
 * schemes the mode refuses are 401 without an error code; malformed headers and tokens in two places are 400.
 */
export function acceptedCredentials(headers: RequestHeaders, tokenOutsideHeader: boolean, mode: DpopMode, known?: (token: string) => boolean): { scheme: AuthScheme; token: string } {
  let credentials: Credentials;
  try {
    credentials = parseAuthorization(headers, known);
  } catch (error) {
    // A malformed header of a scheme the mode refuses is "unsupported scheme" (401), not a malformed request (400).
    const refused = error instanceof AuthError && ((mode === 'required' && error.scheme === 'bearer') || (mode === 'disabled' && error.scheme === 'dpop'));
    if (refused) throw unauthorized('credentials.unsupported_scheme', 'Unsupported authentication scheme');
    throw error;
  }
  if (credentials.kind === 'none') {
    throw unauthorized(tokenOutsideHeader ? 'credentials.outside_header' : 'credentials.missing', 'Authentication required');
  }
  if (tokenOutsideHeader) throw malformed('credentials.in_two_places', 'Send the access token in the Authorization header only');
  if (credentials.kind === 'unsupported') throw unauthorized('credentials.unsupported_scheme', 'Unsupported authentication scheme');
  if (credentials.scheme === 'bearer') {
    if (mode === 'required') throw unauthorized('credentials.bearer_not_allowed', 'This API requires DPoP-bound access tokens');
    if (mode === 'allowed' && hasDpopHeader(headers)) throw malformed('credentials.proof_with_bearer', 'A DPoP proof requires the DPoP authorization scheme', 'bearer');
  } else if (mode === 'disabled') {
    throw unauthorized('credentials.dpop_disabled', 'The DPoP scheme is not supported');
  }
  return credentials;
}
