/**
 * Access-token rules (RFC 9068 JWT access tokens, RFC 8725 best practices): what can be checked without a key
 * ({@link decodeAccessToken}: shape, `alg`, `typ`, `kid`, `crit`), and the claims ({@link checkClaims}: `iss`,
 * `aud`, `exp`, `nbf`, `iat`, `sub`, …). The signature is jws.ts' job; choosing the issuer and caching verdicts is
 * token-verifier.ts'.
 */
import { AuthError, type AuthFailureReason } from '../errors.js';
import { hasUnsupportedHeader, parseCompactJwsOr, type Algorithm, type ParsedJws } from './jws.js';

/** Claims of a verified access token. Extend it with your own custom claims. */
export interface AccessTokenClaims {
  /** Issuer: the authorization server, exactly as its discovery document names it (Auth0: with a trailing slash). */
  iss: string;
  /** Subject: the user (`auth0|…`) or, for client credentials, the client (`…@clients`). */
  sub: string;
  /** Audience(s): contains one of the configured API identifiers. */
  aud: string | string[];
  /** Expiry, in seconds since the epoch. */
  exp: number;
  /** Issue time, in seconds since the epoch. */
  iat: number;
  /** Not-before time, in seconds since the epoch. */
  nbf?: number;
  /** Token identifier (required in strict RFC 9068 mode). */
  jti?: string;
  /** Granted scopes: a space-separated string (OAuth) or an array. */
  scope?: string | string[];
  /** Auth0 RBAC permissions (`scopeClaim: 'permissions'`). */
  permissions?: string[];
  /** The client the token was issued to (RFC 9068). */
  client_id?: string;
  /** Authorized party: the client (Auth0). */
  azp?: string;
  /** Grant type (Auth0), e.g. `client-credentials`. */
  gty?: string;
  /** Auth0 Organization ID (`org_…`). */
  org_id?: string;
  /** Auth0 Organization name (lower case). */
  org_name?: string;
  /** Confirmation (RFC 7800): `jkt` for DPoP (RFC 9449), `x5t#S256` for mTLS (RFC 8705). */
  cnf?: { jkt?: string; 'x5t#S256'?: string; [member: string]: unknown };
  /** Any other claim (custom claims: extend this interface with yours). */
  [claim: string]: unknown;
}

/** Largest token accepted before any parsing: far above real tokens, far below abuse. */
export const MAX_TOKEN_LENGTH = 12 * 1024;
const ACCEPTED_TYP = new Set(['jwt', 'at+jwt', 'application/at+jwt']);
const STRICT_TYP = new Set(['at+jwt', 'application/at+jwt']);

/** A token split and checked as far as possible without a key. */
export interface DecodedToken extends ParsedJws {
  alg: Algorithm;
  kid: string;
}

function invalid(reason: AuthFailureReason, description: string): AuthError {
  return new AuthError('invalid_token', reason, description);
}

const JWS_REASONS = {
  too_large: ['token.too_large', 'The access token is too large'],
  malformed: ['token.malformed', 'The access token is not a compact JWS'],
  header: ['token.malformed_header', 'The access token header is malformed'],
  payload: ['token.malformed_payload', 'The access token payload is not a JSON object'],
} as const;

/**
 * Splits and decodes a token without trusting it, and applies every check that needs no key: shape, canonical
 * encoding, `alg` in the allow-list, no `crit`/`b64`/JWE members, `typ`, `kid`. Throws `invalid_token`.
 */
export function decodeAccessToken(token: string, algorithms: readonly Algorithm[], strict: boolean): DecodedToken {
  const parsed = parseCompactJwsOr(token, MAX_TOKEN_LENGTH, (failure) => invalid(JWS_REASONS[failure][0], JWS_REASONS[failure][1]));
  const { header } = parsed;
  const alg = header.alg;
  if (typeof alg !== 'string' || !(algorithms as readonly string[]).includes(alg)) throw invalid('token.alg_not_allowed', 'The access token alg is not allowed');
  if (hasUnsupportedHeader(header)) throw invalid('token.unsupported_header', 'The access token uses unsupported header parameters');
  if (header.enc !== undefined || header.zip !== undefined) throw invalid('token.encrypted', 'Encrypted tokens are not accepted');
  const typ = header.typ;
  if (typ !== undefined) {
    if (typeof typ !== 'string' || !(strict ? STRICT_TYP : ACCEPTED_TYP).has(typ.toLowerCase())) throw invalid('token.typ', 'The access token typ is not accepted');
  } else if (strict) {
    throw invalid('token.typ', 'The access token typ must be at+jwt');
  }
  const kid = header.kid;
  if (typeof kid !== 'string' || kid.length === 0 || kid.length > 256) throw invalid('token.kid_missing', 'The access token has no usable kid');
  return { header, payload: parsed.payload, signingInput: parsed.signingInput, signature: parsed.signature, alg: alg as Algorithm, kid };
}

/** What {@link checkClaims} checks the claims against. */
export interface ClaimRules {
  /** The issuer identifier, exactly as discovery reports it. */
  issuer: string;
  audiences: readonly string[];
  /** Seconds of skew for `exp`, `nbf` and `iat`. */
  clockTolerance: number;
  maxTokenAge: number | undefined;
  strict: boolean;
}

const isNumericDate = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

/** Now, in whole seconds (JWT NumericDate granularity). */
export const nowSeconds = (): number => Math.floor(Date.now() / 1000);

const expired = (exp: number, skew: number, now: number) => now - skew >= exp;
const tooOld = (iat: number, maxTokenAge: number | undefined, skew: number, now: number) => maxTokenAge !== undefined && now - iat > maxTokenAge + skew;

/**
 * The time rules a cached verdict must still satisfy at every use: not expired, not too old. The same predicates
 * as {@link checkClaims}, so that a cached verdict equals a fresh one.
 */
export function timeClaimsHold(claims: Pick<AccessTokenClaims, 'exp' | 'iat'>, rules: Pick<ClaimRules, 'clockTolerance' | 'maxTokenAge'>, now: number): boolean {
  return !expired(claims.exp, rules.clockTolerance, now) && !tooOld(claims.iat, rules.maxTokenAge, rules.clockTolerance, now);
}

/** `aud` (a string or an array of strings only) names one of `audiences`. */
function audienceAccepted(aud: unknown, audiences: readonly string[]): boolean {
  if (typeof aud === 'string') return audiences.includes(aud);
  if (!Array.isArray(aud)) return false;
  let found = false;
  for (const a of aud) {
    if (typeof a !== 'string') return false;
    if (!found && audiences.includes(a)) found = true;
  }
  return found;
}

/** The claim rules, separate from the signature so that they are testable and run before any key lookup. */
export function checkClaims(payload: Record<string, unknown>, rules: ClaimRules, now = nowSeconds()): AccessTokenClaims {
  const skew = rules.clockTolerance;
  if (payload.iss !== rules.issuer) throw invalid('token.iss', 'The access token issuer is not accepted');
  if (!audienceAccepted(payload.aud, rules.audiences)) throw invalid('token.aud', 'The access token audience is not accepted');
  if (!isNumericDate(payload.exp)) throw invalid('token.exp_missing', 'The access token has no valid exp claim');
  if (expired(payload.exp, skew, now)) throw invalid('token.expired', 'The access token expired');
  if (payload.nbf !== undefined) {
    if (!isNumericDate(payload.nbf)) throw invalid('token.nbf_invalid', 'The access token nbf claim is invalid');
    if (payload.nbf > now + skew) throw invalid('token.not_yet_valid', 'The access token is not yet valid');
  }
  if (!isNumericDate(payload.iat)) throw invalid('token.iat_missing', 'The access token has no valid iat claim');
  if (payload.iat > now + skew) throw invalid('token.iat_future', 'The access token was issued in the future');
  if (tooOld(payload.iat, rules.maxTokenAge, skew, now)) throw invalid('token.too_old', 'The access token is too old');
  if (typeof payload.sub !== 'string' || payload.sub.length === 0) throw invalid('token.sub_missing', 'The access token has no sub claim');
  if (rules.strict) {
    if (typeof payload.client_id !== 'string' || payload.client_id.length === 0) throw invalid('token.client_id_missing', 'The access token has no client_id claim');
    if (typeof payload.jti !== 'string' || payload.jti.length === 0) throw invalid('token.jti_missing', 'The access token has no jti claim');
  }
  if (payload.scope !== undefined && typeof payload.scope !== 'string' && !(Array.isArray(payload.scope) && payload.scope.every((s) => typeof s === 'string'))) {
    throw invalid('token.scope_malformed', 'The access token scope claim is malformed');
  }
  if (payload.cnf !== undefined && (payload.cnf === null || typeof payload.cnf !== 'object' || Array.isArray(payload.cnf))) {
    throw invalid('token.cnf_malformed', 'The access token cnf claim is malformed');
  }
  return payload as AccessTokenClaims;
}
