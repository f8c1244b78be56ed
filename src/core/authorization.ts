/**
 * Reads credentials from request headers only (RFC 6750 §2.1, RFC 9449 §7.1). Query and body tokens are never
 * accepted: adapters report their presence so that a token in two places is an `invalid_request`.
 */
import { AuthError, type AuthScheme } from './errors.js';

export type HeaderValue = string | readonly string[] | undefined;
export type Headers = Readonly<Record<string, HeaderValue>>;

export type Credentials =
  | { kind: 'none' }
  | { kind: 'unsupported'; scheme: string }
  | { kind: 'token'; scheme: AuthScheme; token: string };

// auth-scheme = token (RFC 9110 §11.1); credentials = auth-scheme [ 1*SP token68 ]
const CREDENTIALS = /^([!#$%&'*+.^_`|~0-9A-Za-z-]+)(?: +(.*))?$/s;
const TOKEN68 = /^[A-Za-z0-9\-._~+/]+=*$/;

/** Header lookup that ignores case, for plain objects whose keys may not be lower-cased. */
export function getHeader(headers: Headers, name: string): HeaderValue {
  const direct = headers[name];
  if (direct !== undefined) return direct;
  for (const key of Object.keys(headers)) if (key.toLowerCase() === name) return headers[key];
  return undefined;
}

function single(value: HeaderValue, what: string, scheme?: AuthScheme): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value === 'string') return value;
  if (value.length === 0) return undefined;
  if (value.length > 1) throw new AuthError('invalid_request', `Several ${what} headers were sent`, scheme ? { scheme, reason: 'duplicate_header' } : { reason: 'duplicate_header' });
  return value[0];
}

/** Parses the Authorization header. Throws `invalid_request` for malformed credentials. */
export function parseAuthorization(headers: Headers): Credentials {
  const value = single(getHeader(headers, 'authorization'), 'Authorization');
  if (value === undefined || value.trim() === '') return { kind: 'none' };
  const match = CREDENTIALS.exec(value.trim());
  if (!match) throw new AuthError('invalid_request', 'The Authorization header is malformed', { reason: 'malformed_authorization' });
  const schemeName = match[1]!.toLowerCase();
  if (schemeName !== 'bearer' && schemeName !== 'dpop') return { kind: 'unsupported', scheme: schemeName };
  const scheme: AuthScheme = schemeName;
  const token = (match[2] ?? '').replace(/^ +/, ''); // RFC 6750 allows 1*SP before the token
  if (token === '') throw new AuthError('invalid_request', 'The Authorization header has no token', { scheme, reason: 'missing_token' });
  if (!TOKEN68.test(token)) throw new AuthError('invalid_request', 'The Authorization header is malformed', { scheme, reason: 'malformed_token' });
  return { kind: 'token', scheme, token };
}

/** The single DPoP proof of a request; `invalid_request` when absent or when several are sent. */
export function getDpopProof(headers: Headers): string {
  const value = single(getHeader(headers, 'dpop'), 'DPoP', 'dpop');
  if (value === undefined || value.trim() === '') throw new AuthError('invalid_request', 'The DPoP scheme requires a DPoP proof header', { scheme: 'dpop', reason: 'proof_missing' });
  // Node joins repeated headers with ", "; a compact JWS never contains a comma.
  if (value.includes(',')) throw new AuthError('invalid_request', 'Only one DPoP proof may be sent', { scheme: 'dpop', reason: 'proof_multiple' });
  return value.trim();
}

/** True when any DPoP header is present. */
export function hasDpopHeader(headers: Headers): boolean {
  const value = getHeader(headers, 'dpop');
  return value !== undefined && (typeof value === 'string' ? value !== '' : value.length > 0);
}
