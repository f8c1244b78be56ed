/**
 * An {@link AuthError} as an HTTP response: status, headers and JSON body (RFC 6750 §3, RFC 9449 §7.1 and §9,
 * RFC 9728 §5.1). Pure: the error and a few facts about the API and the request in, the response out. The validator
 * calls it once per refused request and puts the result on the error (`AuthError.response`).
 */
import type { AuthError, ErrorResponse } from '../errors.js';
import type { DpopMode } from '../options.js';

export type { ErrorResponse };
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

/** Facts for an AuthError no validator answered (thrown by application code): Bearer and DPoP, ES256, no metadata URL. */
export const DEFAULT_RESPONSE_FACTS: ResponseFacts = Object.freeze({ dpopMode: 'allowed', dpopAlgorithms: Object.freeze(['ES256']) });

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

/** What to send for an AuthError: its own response, else the defaults (Bearer and DPoP, ES256, no metadata URL). */
export function responseOf(error: AuthError): ErrorResponse {
  return error.response ?? errorResponse(error, DEFAULT_RESPONSE_FACTS);
}
