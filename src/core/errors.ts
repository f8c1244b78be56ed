/**
 * Every error this library throws, with stable codes.
 *
 * - {@link AuthError}: a request was refused. It carries the HTTP status, the RFC 6750 / RFC 9449 `error` code, a
 *   description that is safe to show to clients, the scheme the client used, and a typed {@link AuthFailureReason}
 *   for logs and metrics. It is built once, with everything it needs; the validator that refuses a request gives it
 *   its {@link AuthError.response} (status, headers, body), which adapters only write.
 * - {@link ConfigurationError}: an option is wrong; thrown at start-up with one line naming the option and the fix.
 * - {@link ReplayStoreError} and {@link ProviderFetchError}: a dependency failed; the validator turns them into 503s.
 */

/** The `error` values used in response bodies and challenges. */
export type AuthErrorCode =
  /** No credentials, or an authentication scheme this API does not support (RFC 6750 §3.1: no `error=`). */
  | 'unauthorized'
  | 'invalid_request'
  | 'invalid_token'
  | 'insufficient_scope'
  | 'invalid_dpop_proof'
  | 'use_dpop_nonce'
  /** RFC 9470 §3: the token is valid but the user's sign-in is not strong or recent enough (step-up). */
  | 'insufficient_user_authentication'
  /** The identity provider or the replay store could not be reached: retry later. */
  | 'temporarily_unavailable';

/** RFC 9470 §3: the challenge attributes of a step-up refusal. */
export interface StepUpChallenge {
  /** Accepted authentication context class references (`acr_values`, space-separated in the challenge). */
  acrValues?: readonly string[] | undefined;
  /** Seconds since the user's sign-in (`max_age`). */
  maxAge?: number | undefined;
}

/** The authentication scheme a request used. */
export type AuthScheme = 'bearer' | 'dpop';

/**
 * Why a request was refused: `<what>.<failure>`, one value per distinct failure. Stable: safe to count, alert and
 * branch on. Never sent to clients (they get the `error` code and a fixed description).
 */
export const AUTH_FAILURE_REASONS = [
  // The request and its Authorization header (RFC 6750 §2.1, RFC 9449 §7.1)
  'credentials.missing',
  'credentials.outside_header',
  'credentials.in_two_places',
  'credentials.unsupported_scheme',
  'credentials.scheme_not_accepted',
  'credentials.malformed',
  'credentials.missing_token',
  'credentials.duplicate_header',
  'credentials.bearer_not_allowed',
  'credentials.dpop_disabled',
  'credentials.proof_with_bearer',
  'request.bad_host',
  'request.bad_proto',
  'request.duplicate_host',
  'request.absolute_form',
  'request.not_authenticated',
  // The access token (RFC 9068, RFC 8725, RFC 7519)
  'token.too_large',
  'token.malformed',
  'token.malformed_header',
  'token.malformed_payload',
  'token.alg_not_allowed',
  'token.unsupported_header',
  'token.encrypted',
  'token.typ',
  'token.kid_missing',
  'token.unknown_kid',
  'token.key_alg_mismatch',
  'token.signature',
  'token.iss',
  'token.iss_not_allowed',
  'token.aud',
  'token.exp_missing',
  'token.expired',
  'token.nbf_invalid',
  'token.not_yet_valid',
  'token.iat_missing',
  'token.iat_future',
  'token.too_old',
  'token.sub_missing',
  'token.client_id_missing',
  'token.jti_missing',
  'token.scope_malformed',
  // Sender constraints (RFC 9449 §6, RFC 8705 §3, RFC 7800)
  'token.cnf_malformed',
  'token.cnf_unsupported',
  'token.bound_as_bearer',
  'token.not_dpop_bound',
  'token.jkt_mismatch',
  'token.certificate_missing',
  'token.certificate_mismatch',
  'token.not_certificate_bound',
  // The DPoP proof (RFC 9449 §4.3)
  'proof.missing',
  'proof.multiple',
  'proof.malformed',
  'proof.malformed_header',
  'proof.malformed_payload',
  'proof.typ',
  'proof.alg_not_allowed',
  'proof.unsupported_header',
  'proof.jwk_missing',
  'proof.jwk_private',
  'proof.jwk_unsupported',
  'proof.jwk_invalid',
  'proof.jwk_alg_mismatch',
  'proof.signature',
  'proof.jti_missing',
  'proof.jti_too_long',
  'proof.htm',
  'proof.htu',
  'proof.iat_missing',
  'proof.iat_future',
  'proof.too_old',
  'proof.expired',
  'proof.ath',
  'proof.replay',
  'proof.nonce',
  // Authorization
  'scope.insufficient',
  'organization.mismatch',
  'claims.rejected',
  // Step-up (RFC 9470 §3): `acr` not one of the required values, `auth_time` missing or older than `max_age`;
  // an `auth_time` that is not a number or lies in the future is a bad token (`invalid_token`).
  'step_up.acr',
  'step_up.auth_time',
  'token.auth_time_invalid',
  // Dependencies (503)
  'provider.unavailable',
  'replay_store.unavailable',
  'replay_store.quota',
  'nonce.unavailable',
  'domains_resolver.failed',
  'token_exchange.unavailable',
  // Anything unexpected (a bug, reported through events with its cause)
  'internal',
] as const;

/** See {@link AUTH_FAILURE_REASONS}. */
export type AuthFailureReason = (typeof AUTH_FAILURE_REASONS)[number];

const STATUS: Readonly<Record<AuthErrorCode, number>> = {
  unauthorized: 401,
  invalid_request: 400,
  invalid_token: 401,
  insufficient_scope: 403,
  invalid_dpop_proof: 401,
  use_dpop_nonce: 401,
  insufficient_user_authentication: 401,
  temporarily_unavailable: 503,
};

/** What an {@link AuthError} is built with, besides its code, reason and description. */
export interface AuthErrorDetails {
  /** The scheme the client used, when known: challenge error attributes go on that scheme only. */
  scheme?: AuthScheme | undefined;
  /** For `insufficient_scope` because of scopes: the scopes the operation requires (the challenge's `scope`). */
  requiredScopes?: readonly string[] | undefined;
  /** Seconds, for `temporarily_unavailable`: the `Retry-After` value. */
  retryAfter?: number | undefined;
  /** For `insufficient_user_authentication`: what the sign-in must meet (the challenge's `acr_values` and `max_age`). */
  stepUp?: StepUpChallenge | undefined;
  /** For `use_dpop_nonce`: the nonce the client must use (the `DPoP-Nonce` header). */
  dpopNonce?: string | undefined;
  /** The underlying error, for logs; never shown to clients. */
  cause?: unknown;
}

/** What to send for a refused request: decided where the request is refused (see `errorResponse()`). */
export interface ErrorResponse {
  /** 400, 401, 403 or 503. */
  status: number;
  /** `WWW-Authenticate`, `Retry-After`, `DPoP-Nonce`, as the error needs. */
  headers: Record<string, string>;
  /** The JSON body. */
  body: { error: AuthErrorCode; error_description: string };
}

/**
 * A refused request. Built once by the step that refuses, with the scheme it was verifying; never changed after.
 * (The fields are plain properties because tsoa's generated routes assign `error.status` of a rejection.)
 */
export class AuthError extends Error {
  /** The error's class name, AuthError (stable: safe to compare). */
  override readonly name = 'AuthError';
  /** The HTTP status: 400, 401, 403 or 503. */
  readonly status: number;
  /** The RFC 6750 / RFC 9449 `error` code. */
  readonly code: AuthErrorCode;
  /** Safe to send to the client: fixed text, printable ASCII, no internals. */
  readonly description: string;
  /** The scheme the client used, when known. */
  readonly scheme: AuthScheme | undefined;
  /** Why, precisely (never sent to clients; see {@link AUTH_FAILURE_REASONS}). */
  readonly reason: AuthFailureReason;
  /** For `insufficient_scope` because of scopes: the scopes the operation requires. */
  readonly requiredScopes: readonly string[] | undefined;
  /** For `temporarily_unavailable`: seconds until a retry can succeed. */
  readonly retryAfter: number | undefined;
  /** For `use_dpop_nonce`: the nonce to use. */
  readonly dpopNonce: string | undefined;
  /** For `insufficient_user_authentication`: the required `acr_values` and `max_age`. */
  readonly stepUp: StepUpChallenge | undefined;
  /** Express's final handler reads `expose` to decide whether the message may be shown. It may. */
  readonly expose = true;
  /**
   * The answer, set once by the validator that refused the request, with that request's facts (its challenges,
   * `resource_metadata`, `DPoP-Nonce`, `Retry-After`). Undefined for an AuthError the application throws itself:
   * adapters then answer with `errorResponse()`'s defaults.
   */
  response: ErrorResponse | undefined;

  constructor(code: AuthErrorCode, reason: AuthFailureReason, description: string, details: AuthErrorDetails = {}) {
    super(sanitizeDescription(description), details.cause === undefined ? undefined : { cause: details.cause });
    this.code = code;
    this.status = STATUS[code];
    this.reason = reason;
    this.description = this.message;
    this.scheme = details.scheme;
    this.requiredScopes = details.requiredScopes;
    this.retryAfter = details.retryAfter;
    this.dpopNonce = details.dpopNonce;
    this.response = undefined;
    this.stepUp = details.stepUp;
  }

  /**
   * Alias used by Express and tsoa. Assigning it does nothing: `http-errors` (Koa's `ctx.throw`, which tsoa's Koa
   * routes call with this error) assigns it, and the status is the code's.
   */
  get statusCode(): number {
    return this.status;
  }

  set statusCode(_status: number) {
    /* never changed after construction */
  }

  /** The same error, for the scheme the client used (checks that do not know the scheme throw without one). */
  onScheme(scheme: AuthScheme): AuthError {
    if (this.scheme !== undefined) return this;
    return new AuthError(this.code, this.reason, this.description, {
      scheme,
      requiredScopes: this.requiredScopes,
      retryAfter: this.retryAfter,
      dpopNonce: this.dpopNonce,
      stepUp: this.stepUp,
      cause: this.cause,
    });
  }

  /** The JSON response body (RFC 6750 §3 parameters). */
  toJSON(): { error: AuthErrorCode; error_description: string } {
    return { error: this.code, error_description: this.description };
  }
}

/** Thrown at construction when an option is wrong. The message is one line naming the option and the fix. */
export class ConfigurationError extends Error {
  /** The error's class name, ConfigurationError (stable: safe to compare). */
  override readonly name = 'ConfigurationError';
  /** The option (or environment variable) at fault. */
  readonly option: string;
  constructor(option: string, message: string) {
    super(`auth0-tsoa-api: invalid option "${option}": ${message}`);
    this.option = option;
  }
}

/**
 * A programming error in how a route uses authentication, found when a request reaches it (e.g. `getOptionalAuth` on
 * a route without optional authentication, tsoa's authentication module before `install(app)`, an unknown security
 * name). Never the client's fault: status 500; the message names the fix. The error handlers log it and answer a
 * generic 500.
 */
export class SetupError extends Error {
  /** The error's class name, SetupError (stable: safe to compare). */
  override readonly name = 'SetupError';
  /** Always 500 (tsoa and the error handlers keep the status they find on an error). */
  readonly status = 500;
}

/** Thrown by a replay store that cannot decide (full for this client, or its backend unreachable). */
export class ReplayStoreError extends Error {
  /** The error's class name, ReplayStoreError (stable: safe to compare). */
  override readonly name = 'ReplayStoreError';
  /** Seconds until trying again can succeed: the `Retry-After` of the 503. */
  readonly retryAfter: number;
  /** True when this client (not the store) is over its share: the others are still served. */
  readonly quota: boolean;
  constructor(message: string, options: { retryAfter?: number; quota?: boolean; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.retryAfter = Math.max(1, Math.ceil(options.retryAfter ?? 1));
    this.quota = options.quota ?? false;
  }
}

/** Why a discovery or key-set fetch failed; safe to log. */
export type ProviderFetchFailure = 'timeout' | 'network' | 'redirect' | 'status' | 'too_large' | 'not_json' | 'invalid';

/** A discovery or key-set request failed. The validator answers 503 (or serves the last good keys). */
export class ProviderFetchError extends Error {
  /** The error's class name, ProviderFetchError (stable: safe to compare). */
  override readonly name = 'ProviderFetchError';
  /** The discovery or key-set URL that failed. */
  readonly url: string;
  /** Why it failed; safe to log. */
  readonly reason: ProviderFetchFailure;
  constructor(url: string, reason: ProviderFetchFailure, detail: string) {
    super(detail);
    this.url = url;
    this.reason = reason;
  }
}

/**
 * RFC 6750 §3: `error_description` uses %x20-21 / %x23-5B / %x5D-7E only. Quotes become apostrophes, backslashes
 * slashes, anything else outside the set is dropped; long text is cut.
 */
export function sanitizeDescription(text: string): string {
  const cleaned = text
    .replace(/"/g, "'")
    .replace(/\\/g, '/')
    .replace(/[^\x20-\x7e]/g, '');
  return cleaned.length > 200 ? `${cleaned.slice(0, 197)}...` : cleaned;
}
