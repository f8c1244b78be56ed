/**
 * Sender-constrained tokens: the `cnf` claim (RFC 7800). Every confirmation method a token carries is verified or
 * the token is refused — a bound token is never accepted as a bearer token:
 * - `jkt` (RFC 9449 §6): the DPoP proof key's RFC 7638 thumbprint; only with the DPoP scheme;
 * - `x5t#S256` (RFC 8705 §3.1): the SHA-256 thumbprint of the client's TLS certificate, from the connection or a
 *   trusted proxy (RFC 9440); only when certificate-bound tokens are enabled (`mtls.mode`);
 * - anything else (`jwk`, `x5t`, unknown members): refused, since this API cannot verify it.
 */
import { hash } from 'node:crypto';
import { AuthError, type AuthFailureReason, type AuthScheme } from '../errors.js';
import type { AccessTokenClaims } from './access-token.js';

/** Whether certificate-bound access tokens (RFC 8705) are refused, verified when bound, or required. */
export type MtlsMode = 'disabled' | 'allowed' | 'required';

/** What the confirmation of one request is checked against. */
export interface ConfirmationFacts {
  scheme: AuthScheme;
  /** The verified DPoP proof key's thumbprint (DPoP scheme). */
  proofThumbprint?: string | undefined;
  mtlsMode: MtlsMode;
  /** The client certificate (DER), read only when a token is certificate-bound. */
  clientCertificate?: (() => Uint8Array | undefined) | undefined;
}

const KNOWN_METHODS = new Set(['jkt', 'x5t#S256']);

function refuse(reason: AuthFailureReason, description: string, scheme: AuthScheme): AuthError {
  return new AuthError('invalid_token', reason, description, { scheme });
}

/** The RFC 8705 §3.1 `x5t#S256` of a DER certificate: base64url(SHA-256(DER)). */
export function certificateThumbprint(der: Uint8Array): string {
  return hash('sha256', der, 'base64url');
}

/** Applies the confirmation rules to verified claims. Throws 401 `invalid_token` on the scheme used. */
export function checkConfirmation(claims: AccessTokenClaims, facts: ConfirmationFacts): void {
  const { scheme } = facts;
  const cnf = claims.cnf;
  const jkt = cnf?.jkt;
  const x5t = cnf?.['x5t#S256'];
  if (cnf !== undefined) {
    const members = Object.keys(cnf);
    if (members.length === 0 || (jkt !== undefined && typeof jkt !== 'string') || (x5t !== undefined && typeof x5t !== 'string')) {
      throw refuse('token.cnf_malformed', 'The access token cnf claim is malformed', scheme);
    }
    if (members.some((m) => !KNOWN_METHODS.has(m)) || (x5t !== undefined && facts.mtlsMode === 'disabled')) {
      throw refuse('token.cnf_unsupported', 'The access token is bound by a method this API does not accept', scheme);
    }
  }
  // DPoP (RFC 9449 §7.1, §6.1)
  if (scheme === 'bearer' && jkt !== undefined) throw refuse('token.bound_as_bearer', 'A DPoP-bound token requires the DPoP authorization scheme', scheme);
  if (scheme === 'dpop') {
    if (jkt === undefined) throw refuse('token.not_dpop_bound', 'The access token is not DPoP-bound', scheme);
    if (jkt !== facts.proofThumbprint) throw refuse('token.jkt_mismatch', 'The DPoP proof key does not match the token binding', scheme);
  }
  // Mutual TLS (RFC 8705 §3, §6.2: a bound token without the certificate, or with another one, is invalid)
  if (x5t !== undefined) {
    const certificate = facts.clientCertificate?.();
    if (certificate === undefined || certificate.length === 0) throw refuse('token.certificate_missing', 'The access token requires the client certificate it is bound to', scheme);
    if (certificateThumbprint(certificate) !== x5t) throw refuse('token.certificate_mismatch', 'The client certificate does not match the token binding', scheme);
  } else if (facts.mtlsMode === 'required') {
    throw refuse('token.not_certificate_bound', 'This API requires certificate-bound access tokens', scheme);
  }
}
