/**
 * The one error type of the validator, and the configuration error.
 *
 * Every rejection is an {@link AuthError}: it carries the HTTP status, the RFC 6750 / RFC 9449 error code, a
 * description that is safe to show to clients, and (once the validator has decorated it) the response headers,
 * including the `WWW-Authenticate` challenge. Framework adapters only copy these fields onto the response.
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
  /** The identity provider or the replay store could not be reached: retry later. */
  | 'temporarily_unavailable';

/** The authentication scheme a request used. */
export type AuthScheme = 'bearer' | 'dpop';

const STATUS: Record<AuthErrorCode, number> = {
  unauthorized: 401,
  invalid_request: 400,
  invalid_token: 401,
  insufficient_scope: 403,
  invalid_dpop_proof: 401,
  use_dpop_nonce: 401,
  temporarily_unavailable: 503,
};

export interface AuthErrorDetails {
  /** The scheme the client used, when known: challenge error attributes go on that scheme only. */
  scheme?: AuthScheme;
  /** For `insufficient_scope`: the scopes the operation requires. */
  requiredScopes?: readonly string[];
  /** A stable, machine-readable reason for logs and events (never shown to clients), e.g. `token_expired`. */
  reason?: string;
  /** Seconds, for `temporarily_unavailable`. */
  retryAfter?: number;
  cause?: unknown;
}

export class AuthError extends Error {
  override readonly name = 'AuthError';
  readonly status: number;
  readonly code: AuthErrorCode;
  /** Safe to send to the client: fixed text, printable ASCII, no internals. */
  readonly description: string;
  /** Set by the validator when the failing step knows the scheme. */
  scheme: AuthScheme | undefined;
  readonly requiredScopes: readonly string[] | undefined;
  readonly reason: string;
  readonly retryAfter: number | undefined;
  /** Response headers (`WWW-Authenticate`, `Retry-After`, `DPoP-Nonce`), filled in by the validator. */
  headers: Record<string, string> = {};
  /** Express's final handler reads `expose` to decide whether the message may be shown. It may. */
  readonly expose = true;

  constructor(code: AuthErrorCode, description: string, details: AuthErrorDetails = {}) {
    super(sanitizeDescription(description), details.cause === undefined ? undefined : { cause: details.cause });
    this.code = code;
    this.status = STATUS[code];
    this.description = this.message;
    this.scheme = details.scheme;
    this.requiredScopes = details.requiredScopes;
    this.reason = details.reason ?? code;
    this.retryAfter = details.retryAfter;
  }

  /** Alias used by Express and tsoa. */
  get statusCode(): number {
    return this.status;
  }

  /** The JSON response body. */
  toJSON(): { error: AuthErrorCode; error_description: string } {
    return { error: this.code, error_description: this.description };
  }
}

/** Thrown at construction when an option is wrong. The message is one line naming the option and the fix. */
export class ConfigurationError extends Error {
  override readonly name = 'ConfigurationError';
  readonly option: string;
  constructor(option: string, message: string) {
    super(`auth0-tsoa-api: invalid option "${option}": ${message}`);
    this.option = option;
  }
}

/**
 * RFC 6750 §3: `error_description` uses %x20-21 / %x23-5B / %x5D-7E only. Quotes become apostrophes, backslashes
 * slashes, anything else outside the set is dropped; long text is cut.
 */
export function sanitizeDescription(text: string): string {
  const cleaned = text.replace(/"/g, "'").replace(/\\/g, '/').replace(/[^\x20-\x7e]/g, '');
  return cleaned.length > 200 ? `${cleaned.slice(0, 197)}...` : cleaned;
}

export const isAuthError = (e: unknown): e is AuthError => e instanceof AuthError;
