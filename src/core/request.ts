/** What an adapter tells the validator about a request, and what it gets back. */
import type { AuthScheme } from './errors.js';
import type { Headers } from './credentials.js';
import type { AccessTokenClaims } from './access-token.js';
import type { VerifiedProof } from './dpop-proof.js';

/** What an adapter tells the validator about a request. */
export interface RequestContext {
  /** HTTP method, as sent (methods are case-sensitive). */
  method: string;
  /** The absolute public URL of the request (what the client called, proxies taken into account). */
  url: string;
  /** The request headers (names in any case; Node and the Fetch API give them lower-cased). */
  headers: Headers;
  /** True when an `access_token` was also found in the query string or form body (never accepted). */
  tokenOutsideHeader?: boolean;
  /** The client's TLS certificate (DER), for certificate-bound tokens; called only when a token is bound to one. */
  clientCertificate?: () => Uint8Array | undefined;
}

/** An authenticated request. */
export interface VerifiedRequest<C extends AccessTokenClaims = AccessTokenClaims> {
  /** The verified claims; deeply frozen when they come from the verified-token cache (shared by every request that presents the token, so a hit allocates nothing): copy them to add members. */
  claims: C;
  /** The access token as sent. */
  token: string;
  /** The scheme the client used. */
  scheme: AuthScheme;
  /** The public URL the request was verified for. */
  url: string;
  /** The verified DPoP proof, for the DPoP scheme. */
  proof?: VerifiedProof;
  /** Headers to add to the successful response (e.g. the next `DPoP-Nonce`). */
  responseHeaders: Readonly<Record<string, string>>;
}
