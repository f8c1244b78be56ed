/**
 * Access-token checks (RFC 9068, RFC 8725): compact JWS only, allowed asymmetric `alg`, accepted `typ`, `kid`
 * present, signature by the issuer's key, then the claims: `iss` exact, `aud`, `exp`, `nbf`, `iat`.
 */
import { compactVerify, errors as joseErrors, type JWTPayload } from 'jose';
import type { KeyObject } from 'node:crypto';
import { AuthError } from './errors.js';
import { FastVerifyError, isCanonicalBase64url, verifyCompactSignature, verifyCompactSignatureAsync } from './fast-verify.js';
import type { Algorithm } from './config.js';

/** Claims of a verified access token. Extend it with your own custom claims. */
export interface AccessTokenClaims extends JWTPayload {
  iss: string;
  sub: string;
  aud: string | string[];
  exp: number;
  iat: number;
  scope?: string | string[];
  permissions?: string[];
  client_id?: string;
  azp?: string;
  gty?: string;
  cnf?: { jkt?: string; [member: string]: unknown };
  [claim: string]: unknown;
}

/** Largest token accepted before any parsing: far above real tokens, far below abuse. */
export const MAX_TOKEN_LENGTH = 12 * 1024;
const COMPACT_JWS = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;
const ACCEPTED_TYP = new Set(['jwt', 'at+jwt', 'application/at+jwt']);
const STRICT_TYP = new Set(['at+jwt', 'application/at+jwt']);

export interface DecodedToken {
  header: Record<string, unknown>;
  payload: Record<string, unknown>;
  alg: Algorithm;
  kid: string;
}

function invalid(description: string, reason: string): AuthError {
  return new AuthError('invalid_token', description, { reason });
}

/** Decodes a base64url JWS segment holding a JSON object; undefined for anything else. */
export function decodeJsonSegment(segment: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(Buffer.from(segment, 'base64url').toString('utf8'));
    return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Splits and decodes a token without trusting it, and applies every check that needs no key:
 * shape, `alg`, `typ`, `kid`, `crit`. Returns the unverified header and payload.
 */
export function decodeAccessToken(token: string, algorithms: readonly Algorithm[], strict: boolean): DecodedToken {
  if (token.length > MAX_TOKEN_LENGTH) throw invalid('The access token is too large', 'token_too_large');
  if (!COMPACT_JWS.test(token)) throw invalid('The access token is not a compact JWS', 'malformed');
  const [h, p, s] = token.split('.') as [string, string, string];
  // One token, one spelling: lenient decoders ignore the unused low bits of the last character (RFC 4648 §3.5),
  // so without this check 15 other strings would carry the same signature.
  if (!isCanonicalBase64url(h) || !isCanonicalBase64url(p) || !isCanonicalBase64url(s)) {
    throw invalid('The access token is not canonical base64url', 'malformed');
  }
  const header = decodeJsonSegment(h);
  const payload = decodeJsonSegment(p);
  if (!header) throw invalid('The access token header is malformed', 'malformed_header');
  if (!payload) throw invalid('The access token payload is not a JSON object', 'malformed_payload');
  const alg = header.alg;
  if (typeof alg !== 'string' || !(algorithms as readonly string[]).includes(alg)) {
    throw invalid('The access token alg is not allowed', 'alg_not_allowed');
  }
  if (header.crit !== undefined || header.b64 !== undefined) throw invalid('The access token uses unsupported header parameters', 'crit');
  if (header.enc !== undefined || header.zip !== undefined) throw invalid('Encrypted tokens are not accepted', 'jwe');
  const typ = header.typ;
  if (typ !== undefined) {
    if (typeof typ !== 'string' || !(strict ? STRICT_TYP : ACCEPTED_TYP).has(typ.toLowerCase())) {
      throw invalid('The access token typ is not accepted', 'typ');
    }
  } else if (strict) {
    throw invalid('The access token typ must be at+jwt', 'typ');
  }
  const kid = header.kid;
  if (typeof kid !== 'string' || kid.length === 0 || kid.length > 256) throw invalid('The access token has no usable kid', 'kid');
  return { header, payload, alg: alg as Algorithm, kid };
}

export interface ClaimRules {
  issuer: string;
  audiences: readonly string[];
  clockTolerance: number;
  maxTokenAge: number | undefined;
  strict: boolean;
  now?: number; // seconds
}

/**
 * How signatures are checked — all give the same verdicts (differential test in test/core/fast-verify.test.ts):
 * - `native` (default): `node:crypto.verify` on the imported key as a thread-pool job, so that under load the
 *   signature math runs on another core while the event loop serves requests (measured in bench/);
 * - `native-sync`: the same call on the event loop (lowest latency when idle, lower throughput under load);
 * - `jose`: jose's `compactVerify` (WebCrypto).
 */
export type SignatureVerifier = 'native' | 'native-sync' | 'jose';

/**
 * Verifies the token's signature with `key` (the claims are {@link checkClaims}' job). The validator calls this
 * after the claims already passed, so that expired or foreign tokens cost no key lookup and no signature.
 */
export async function verifyTokenSignature(token: string, decoded: DecodedToken, key: KeyObject, verifier: SignatureVerifier = 'native'): Promise<void> {
  try {
    if (verifier === 'native-sync') verifyCompactSignature(token, decoded.alg, key);
    else if (verifier === 'native') await verifyCompactSignatureAsync(token, decoded.alg, key);
    else await compactVerify(token, key, { algorithms: [decoded.alg] });
  } catch (error) {
    throw signatureError(error);
  }
}

/** Signature, then every claim rule: the whole check of a decoded token in one call. */
export async function verifyAccessToken(
  token: string,
  decoded: DecodedToken,
  key: KeyObject,
  rules: ClaimRules,
  verifier: SignatureVerifier = 'native',
): Promise<AccessTokenClaims> {
  await verifyTokenSignature(token, decoded, key, verifier);
  // The signed payload is exactly `decoded.payload`: decodeAccessToken accepts canonical base64url only.
  return checkClaims(decoded.payload, rules);
}

const isNumericDate = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

/** The claim rules, separate from the signature so that they are testable and reusable. */
export function checkClaims(payload: Record<string, unknown>, rules: ClaimRules): AccessTokenClaims {
  const now = rules.now ?? Math.floor(Date.now() / 1000);
  const skew = rules.clockTolerance;
  if (payload.iss !== rules.issuer) throw invalid('The access token issuer is not accepted', 'iss');
  const aud = payload.aud;
  const audList = typeof aud === 'string' ? [aud] : Array.isArray(aud) && aud.every((a) => typeof a === 'string') ? (aud as string[]) : undefined;
  if (!audList || !audList.some((a) => rules.audiences.includes(a))) throw invalid('The access token audience is not accepted', 'aud');
  if (!isNumericDate(payload.exp)) throw invalid('The access token has no valid exp claim', 'exp_missing');
  if (now - skew >= payload.exp) throw invalid('The access token expired', 'expired');
  if (payload.nbf !== undefined) {
    if (!isNumericDate(payload.nbf)) throw invalid('The access token nbf claim is invalid', 'nbf_invalid');
    if (payload.nbf > now + skew) throw invalid('The access token is not yet valid', 'nbf');
  }
  if (!isNumericDate(payload.iat)) throw invalid('The access token has no valid iat claim', 'iat_missing');
  if (payload.iat > now + skew) throw invalid('The access token was issued in the future', 'iat_future');
  if (rules.maxTokenAge !== undefined && now - payload.iat > rules.maxTokenAge + skew) throw invalid('The access token is too old', 'max_token_age');
  if (typeof payload.sub !== 'string' || payload.sub.length === 0) throw invalid('The access token has no sub claim', 'sub_missing');
  if (rules.strict) {
    if (typeof payload.client_id !== 'string' || payload.client_id.length === 0) throw invalid('The access token has no client_id claim', 'client_id_missing');
    if (typeof payload.jti !== 'string' || payload.jti.length === 0) throw invalid('The access token has no jti claim', 'jti_missing');
  }
  if (payload.scope !== undefined && typeof payload.scope !== 'string' && !(Array.isArray(payload.scope) && payload.scope.every((s) => typeof s === 'string'))) {
    throw invalid('The access token scope claim is malformed', 'scope_malformed');
  }
  if (payload.cnf !== undefined && (payload.cnf === null || typeof payload.cnf !== 'object' || Array.isArray(payload.cnf))) {
    throw invalid('The access token cnf claim is malformed', 'cnf_malformed');
  }
  return payload as AccessTokenClaims;
}

function signatureError(error: unknown): AuthError {
  if ((error instanceof FastVerifyError && error.reason === 'malformed') || error instanceof joseErrors.JWSInvalid) {
    return invalid('The access token is not a compact JWS', 'malformed');
  }
  if (error instanceof joseErrors.JOSEAlgNotAllowed) return invalid('The access token alg is not allowed', 'alg_not_allowed');
  if (error instanceof joseErrors.JOSENotSupported) return invalid('The access token uses unsupported features', 'not_supported');
  return invalid('The access token signature is invalid', 'signature');
}
