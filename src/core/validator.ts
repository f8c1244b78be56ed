/**
 * The request validator: the RFC 6750 / RFC 9449 decision table as a pipeline.
 *
 *   credentials (header only, per DPoP mode) → DPoP proof (§4.3) → access token (cache, issuer, claims, key,
 *   signature) → confirmation (`cnf`: DPoP `jkt`, mTLS `x5t#S256`) → nonce (§9) and replay (§11.1) → scopes.
 *
 * Framework-free: adapters pass the method, the public URL and the headers; each refusal is an {@link AuthError}
 * built once by the step that refuses, which adapters turn into a response with `errorResponse()`.
 */
import { AuthError, type AuthScheme } from './errors.js';
import { resolveConfig, type ApiOptions, type ResolvedConfig } from './config.js';
import { acceptedCredentials, getDpopProof, type Headers } from './credentials.js';
import { IssuerPool } from './issuer-pool.js';
import { TokenVerifier } from './token-verifier.js';
import { DpopVerifier } from './dpop.js';
import { checkConfirmation } from './confirmation.js';
import { toScopeList } from './scopes.js';
import { evaluateAuthorization, findPolicy, type AuthorizationRequirement, type RequestFacts, type ResolvedPolicy } from './policies.js';
import { parseAuthorization } from './credentials.js';
import { protectedResourceMetadata, resourceMetadataUrl, type ProtectedResourceMetadata } from './resource-metadata.js';
import type { ResponseFacts } from './error-response.js';
import type { AccessTokenClaims } from './access-token.js';
import { accessTokenHash, type VerifiedProof } from './dpop-proof.js';

/** What an adapter tells the validator about a request. */
export interface RequestContext {
  /** HTTP method, as sent (methods are case-sensitive). */
  method: string;
  /** The absolute public URL of the request (what the client called, proxies taken into account). */
  url: string;
  headers: Headers;
  /** True when an `access_token` was also found in the query string or form body (never accepted). */
  tokenOutsideHeader?: boolean;
  /** The client's TLS certificate (DER), for certificate-bound tokens; called only when a token is bound to one. */
  clientCertificate?: () => Uint8Array | undefined;
}

/** An authenticated request. */
export interface VerifiedRequest<C extends AccessTokenClaims = AccessTokenClaims> {
  claims: C;
  token: string;
  scheme: AuthScheme;
  /** The public URL the request was verified for. */
  url: string;
  /** The verified DPoP proof, for the DPoP scheme. */
  proof?: VerifiedProof;
  /** Headers to add to the successful response (e.g. the next `DPoP-Nonce`). */
  responseHeaders: Readonly<Record<string, string>>;
}

const NO_HEADERS: Readonly<Record<string, string>> = Object.freeze({});

/** Validates requests for one API configuration. Create it with {@link createValidator}. */
export class ApiValidator {
  readonly config: ResolvedConfig;
  private readonly issuers: IssuerPool;
  private readonly tokens: TokenVerifier;
  private readonly dpop: DpopVerifier;

  constructor(options: ApiOptions) {
    this.config = resolveConfig(options);
    this.issuers = new IssuerPool(this.config);
    this.tokens = new TokenVerifier(this.config, this.issuers);
    this.dpop = new DpopVerifier(this.config);
  }

  /** Authenticates a request. Resolves with the claims; rejects with an {@link AuthError}. */
  async verifyRequest<C extends AccessTokenClaims = AccessTokenClaims>(request: RequestContext): Promise<VerifiedRequest<C>> {
    // Telemetry: a shared no-op unless an OpenTelemetry SDK is registered (then the pipeline runs in its span).
    const recorded = this.config.telemetry.startAuthentication();
    let verified: VerifiedRequest;
    try {
      verified = await (recorded.traced ? recorded.run(() => this.authenticate(request)) : this.authenticate(request));
    } catch (error) {
      const refused = this.rejected(error);
      recorded.failed(refused, request.headers);
      throw refused;
    }
    recorded.succeeded(verified.scheme);
    return verified as VerifiedRequest<C>;
  }

  private async authenticate(request: RequestContext): Promise<VerifiedRequest> {
    const { scheme, token } = acceptedCredentials(request.headers, request.tokenOutsideHeader === true, this.config.dpop.mode, this.tokens.known);
    const proof = scheme === 'dpop' ? this.dpop.checkProof(getDpopProof(request.headers), request, accessTokenHash(token)) : undefined;
    let claims: AccessTokenClaims;
    try {
      claims = (await this.tokens.verify(token, request)).claims;
    } catch (error) {
      throw error instanceof AuthError ? error.onScheme(scheme) : error;
    }
    checkConfirmation(claims, { scheme, proofThumbprint: proof?.thumbprint, mtlsMode: this.config.mtls.mode, clientCertificate: request.clientCertificate });
    const responseHeaders = proof ? await this.dpop.accept(proof, claims) : NO_HEADERS;
    return { claims, token, scheme, url: request.url, ...(proof ? { proof } : {}), responseHeaders };
  }

  /** Checks that a verified request grants every scope in `required` (AND). Throws 403 `insufficient_scope`. */
  assertScopes(verified: Pick<VerifiedRequest, 'claims' | 'scheme'>, required: string | readonly string[] | undefined): void {
    this.authorize(verified, { scopes: toScopeList(required) });
  }

  // --- Authorization (after authentication: every 401/400 comes before any 403) -------------------------------------

  /**
   * Checks that a verified request satisfies a requirement: its scopes (403 `insufficient_scope` with `scope="…"`),
   * then its organization and claim rules (403 `insufficient_scope` without `scope`: the token is valid and has its
   * scopes, so asking for a scope would not help). `facts` supplies the request's path parameters.
   * Throws an {@link AuthError}, or a `PolicySetupError` (500) when the requirement cannot apply to this route.
   */
  authorize(verified: Pick<VerifiedRequest, 'claims' | 'scheme'>, requirement: AuthorizationRequirement, facts?: RequestFacts): void {
    const denial = evaluateAuthorization(verified.claims, requirement, { scopeClaim: this.config.scopeClaim, facts });
    if (!denial) return this.config.telemetry.authorization(true);
    const refused = this.rejected(denialError(denial, verified.scheme));
    this.config.telemetry.authorization(false, refused);
    throw refused;
  }

  /** The policy named `name` of the `policies` option; throws a `PolicySetupError` naming the fix when there is none. */
  policy(name: string): ResolvedPolicy {
    return findPolicy(this.config.policies, name);
  }

  /**
   * True when a request carries no credentials at all: no `Authorization` header (or a blank one) and no
   * `access_token` in its query or body. Such a request may be served anonymously where an operation allows it;
   * anything else (a token only in the query, an unsupported scheme, a malformed header) is judged as usual.
   */
  isAnonymous(request: Pick<RequestContext, 'headers' | 'tokenOutsideHeader'>): boolean {
    if (request.tokenOutsideHeader === true) return false;
    try {
      return parseAuthorization(request.headers).kind === 'none';
    } catch {
      return false; // malformed: verifyRequest answers 400
    }
  }

  /**
   * Authenticates a request that may be anonymous: resolves undefined when it carries no credentials
   * ({@link ApiValidator.isAnonymous}), else exactly as {@link ApiValidator.verifyRequest} (credentials that fail are
   * refused, never downgraded to anonymous).
   */
  async verifyOptionalRequest<C extends AccessTokenClaims = AccessTokenClaims>(request: RequestContext): Promise<VerifiedRequest<C> | undefined> {
    return this.isAnonymous(request) ? undefined : this.verifyRequest<C>(request);
  }

  /**
   * Verifies an access token alone, as for a Bearer request (e.g. a WebSocket handshake): signature, claims,
   * issuer; a sender-constrained token is refused, since no proof or certificate comes with it.
   */
  async verifyAccessToken<C extends AccessTokenClaims = AccessTokenClaims>(token: string, request: Partial<RequestContext> = {}): Promise<C> {
    const recorded = this.config.telemetry.startAuthentication();
    let claims: AccessTokenClaims;
    try {
      claims = await (recorded.traced ? recorded.run(() => this.bearerClaims(token, request)) : this.bearerClaims(token, request));
    } catch (error) {
      const refused = this.rejected(error instanceof AuthError ? error.onScheme('bearer') : error);
      recorded.failed(refused);
      throw refused;
    }
    recorded.succeeded('bearer');
    return claims as C;
  }

  private async bearerClaims(token: string, request: Partial<RequestContext>): Promise<AccessTokenClaims> {
    const { claims } = await this.tokens.verify(token, { url: request.url ?? '', headers: request.headers ?? {} });
    checkConfirmation(claims, { scheme: 'bearer', mtlsMode: this.config.mtls.mode, clientCertificate: request.clientCertificate });
    return claims;
  }

  /** Reports a refusal and returns it as an AuthError (an unexpected error becomes a 401 `internal`, logged). */
  rejected(error: unknown): AuthError {
    const authError = error instanceof AuthError ? error : new AuthError('invalid_token', 'internal', 'The access token could not be verified', { cause: error });
    this.config.emit({
      type: 'request_rejected',
      code: authError.code,
      reason: authError.reason,
      status: authError.status,
      scheme: authError.scheme,
      ...(authError.reason === 'internal' ? { cause: error } : {}),
    });
    return authError;
  }

  /** What an error response for a request to `requestUrl` depends on, besides the error. */
  responseFacts(requestUrl: string): ResponseFacts {
    return { dpopMode: this.config.dpop.mode, dpopAlgorithms: this.config.dpop.algorithms, resourceMetadataUrl: resourceMetadataUrl(this.config, requestUrl) };
  }

  /** Absolute URL of the RFC 9728 document for a request URL, or undefined when metadata is turned off. */
  resourceMetadataUrl(requestUrl: string): string | undefined {
    return resourceMetadataUrl(this.config, requestUrl);
  }

  /** The RFC 9728 document for the API at `requestUrl`'s origin (or `publicUrl`), with its docs URL and scopes when known. */
  protectedResourceMetadata(requestUrl: string, extra: { documentationUrl?: string | undefined; scopes?: readonly string[] | undefined } = {}): Promise<ProtectedResourceMetadata> {
    return protectedResourceMetadata(this.config, this.issuers, requestUrl, extra);
  }

  /** The discovery document of the first configured domain (token and authorize endpoints for docs), if loadable. */
  async discovery(): Promise<{ issuer: string; tokenEndpoint?: string | undefined; authorizationEndpoint?: string | undefined } | undefined> {
    const first = this.issuers.configuredOrigins()[0];
    return first === undefined ? undefined : this.issuers.client(first).getDiscovery();
  }

  /** Sizes of the bounded caches (diagnostics and benchmarks). */
  stats(): { tokenCache: number } {
    return { tokenCache: this.tokens.cacheSize };
  }
}

/** The 403 of an authorization denial: only a missing scope names the scopes (the other denials are not about scopes). */
function denialError(denial: NonNullable<ReturnType<typeof evaluateAuthorization>>, scheme: AuthScheme): AuthError {
  switch (denial.reason) {
    case 'scope.insufficient':
      return new AuthError('insufficient_scope', 'scope.insufficient', 'The access token lacks a required scope', { scheme, requiredScopes: denial.requiredScopes });
    case 'organization.mismatch':
      return new AuthError('insufficient_scope', 'organization.mismatch', 'The access token is not for this organization', { scheme });
    case 'claims.rejected':
      return new AuthError('insufficient_scope', 'claims.rejected', 'The access token does not grant access to this operation', { scheme, cause: denial.cause });
  }
}

/** Creates a validator. Throws a {@link ConfigurationError} naming the option when the configuration is wrong. */
export function createValidator(options: ApiOptions): ApiValidator {
  return new ApiValidator(options);
}
