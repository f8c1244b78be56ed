/**
 * An {@link AuthError} as an HTTP response: status, headers and JSON body (RFC 6750 §3, RFC 9449 §7.1 and §9,
 * RFC 9728 §5.1). Pure: the error and a few facts about the API and the request in, the response out. Adapters call
 * it once per refused request.
 */
import type { AuthError, AuthErrorCode } from './errors.js';
import type { DpopMode } from './config.js';
import { buildChallenge } from './challenge.js';

/** The facts a response depends on besides the error. */
export interface ResponseFacts {
  /** Which challenges to send (Bearer, DPoP, or both). */
  dpopMode: DpopMode;
  /** Proof algorithms, advertised in `DPoP algs="…"`. */
  dpopAlgorithms: readonly string[];
  /** Absolute URL of the RFC 9728 document for this request, added to every challenge. */
  resourceMetadataUrl?: string | undefined;
}

/** What to send. */
export interface ErrorResponse {
  /** 400, 401, 403 or 503. */
  status: number;
  /** `WWW-Authenticate`, `Retry-After`, `DPoP-Nonce`, as the error needs. */
  headers: Record<string, string>;
  /** The JSON body. */
  body: { error: AuthErrorCode; error_description: string };
}

/** The response for a refused request. */
export function errorResponse(error: AuthError, facts: ResponseFacts): ErrorResponse {
  const headers: Record<string, string> = {};
  if (error.code === 'temporarily_unavailable') {
    headers['Retry-After'] = String(error.retryAfter ?? 5);
  } else {
    headers['WWW-Authenticate'] = buildChallenge({
      mode: facts.dpopMode,
      dpopAlgorithms: facts.dpopAlgorithms,
      error: error.code === 'unauthorized' ? undefined : { code: error.code, description: error.description, scope: error.requiredScopes, stepUp: error.stepUp },
      scheme: error.scheme,
      resourceMetadata: facts.resourceMetadataUrl,
    });
  }
  if (error.code === 'use_dpop_nonce' && error.dpopNonce !== undefined) headers['DPoP-Nonce'] = error.dpopNonce;
  return { status: error.status, headers, body: error.toJSON() };
}
