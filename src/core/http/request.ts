/** What an adapter tells the validator about a request, and what it gets back. */
import type { AuthScheme } from '../errors.js';
import type { RequestHeaders } from './credentials.js';
import type { AccessTokenClaims } from '../token/access-token.js';
import type { VerifiedProof } from '../dpop/dpop-proof.js';
import type { TrustProxyFunction } from './trust-proxy.js';

/** What an adapter tells the validator about a request. */
export interface RequestContext {
  /** HTTP method, as sent (methods are case-sensitive). */
  method: string;
  /** The absolute public URL of the request (what the client called, proxies taken into account). */
  url: string;
  /** The request headers (names in any case; Node and the Fetch API give them lower-cased). */
  headers: RequestHeaders;
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

/**
 * What every framework exposes about an incoming request, handed to `ApiValidator.requestContext` once per request. The
 * adapter reads each property once; everything else (framing, the public URL, proxies, certificates) is decided here.
 */
export interface IncomingRequest {
  /** HTTP method, as sent. */
  method: string;
  /** The request target as received (before any router rewrote it): `/path?query`. */
  target: string;
  /** Node's header object (lower-cased names; Node keeps only the first of repeated `Authorization`/`Host` lines). */
  headers: RequestHeaders;
  /** Node's raw header list (`[name, value, …]`): repeated `Host` and `Authorization` lines are found here. */
  rawHeaders: readonly string[];
  /** The connected peer's address (`socket.remoteAddress`). */
  remoteAddress: string | undefined;
  /** True over TLS (`socket.encrypted`). */
  encrypted: boolean;
  /** The TLS peer's certificate (DER), read only when a token is certificate-bound. */
  peerCertificate?: (() => Uint8Array | undefined) | undefined;
  /** True when an `access_token` was found in the parsed query string or body (never accepted). */
  tokenOutsideHeader: boolean;
}

/** What a request's facts are judged with: the API's settings and the application's proxies. */
export interface RequestSettings {
  /** Fixed public URL (overrides Host and every forwarded header). */
  publicUrl?: URL | undefined;
  /** Which peers are trusted proxies (compiled `trust proxy` setting); default: none. */
  trustProxy?: TrustProxyFunction | undefined;
  /**
   * Whether trusted proxies are named by address (not `true` or a hop count): only then is a proxy's `Client-Cert`
   * header believed. See `proxiesNamed` (core/http/request-context.ts).
   */
  proxiesNamed?: boolean | undefined;
  /** Read the client certificate (RFC 8705); false when certificate-bound tokens are disabled. */
  clientCertificates?: boolean | undefined;
}
