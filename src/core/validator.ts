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
import { acceptedCredentials, carriesNoCredentials, getDpopProof, type Headers } from './credentials.js';
import { IssuerPool } from './issuer-pool.js';
import { TokenVerifier } from './token-verifier.js';
import { DpopVerifier } from './dpop.js';
import { checkConfirmation } from './confirmation.js';
import { toScopeList } from './scopes.js';
import { denialError, evaluateAuthorization, findPolicy, type AuthorizationRequirement, type RequestFacts, type ResolvedPolicy } from './policies.js';
import { protectedResourceMetadata, resourceMetadataUrl, type ProtectedResourceMetadata } from './resource-metadata.js';
import type { ResponseFacts } from './error-response.js';
import type { AccessTokenClaims } from './access-token.js';
import { accessTokenHash } from './dpop-proof.js';
import { rejectionEvent } from './events.js';
import type { Discovery } from './issuer.js';
import type { RequestContext, VerifiedRequest } from './request.js';

export type { RequestContext, VerifiedRequest };

const NO_HEADERS: Readonly<Record<string, string>> = Object.freeze({});

/** Validates requests for one API configuration. Create it with {@link createValidator}. */
export class ApiValidator {
  /** Every option, resolved once (read-only). */
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
  verifyRequest<C extends AccessTokenClaims = AccessTokenClaims>(request: RequestContext): Promise<VerifiedRequest<C>> {
    return this.measured(() => this.authenticate(request), request.headers) as Promise<VerifiedRequest<C>>;
  }

  /** One authentication in its telemetry record (a no-op unless an OpenTelemetry SDK is registered); refusals reported once. */
  private async measured<T extends { scheme: AuthScheme }>(authenticate: () => Promise<T>, headers?: Headers): Promise<T> {
    const recorded = this.config.telemetry.startAuthentication();
    let result: T;
    try {
      result = await (recorded.traced ? recorded.run(authenticate) : authenticate());
    } catch (error) {
      const refused = this.rejected(error);
      recorded.failed(refused, headers);
      throw refused;
    }
    recorded.succeeded(result.scheme);
    return result;
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
    if (!proof) return { claims, token, scheme, url: request.url, responseHeaders: NO_HEADERS };
    const responseHeaders = await this.dpop.accept(proof, claims);
    return { claims, token, scheme, url: request.url, proof, responseHeaders };
  }

  /** Checks that a verified request grants every scope in `required` (AND). Throws 403 `insufficient_scope`. */
  assertScopes(verified: Pick<VerifiedRequest, 'claims' | 'scheme'>, required: string | readonly string[] | undefined): void {
    this.authorize(verified, { scopes: toScopeList(required) });
  }

  /**
   * After authentication (every 401/400 comes first): scopes, then organization and claim rules (403
   * `insufficient_scope`, with `scope="…"` only for scopes). `facts`: the path parameters. A `PolicySetupError` (500)
   * when the requirement cannot apply to this route.
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

  /** True when a request carries no credentials at all (see `carriesNoCredentials`): it may be served anonymously. */
  isAnonymous(request: Pick<RequestContext, 'headers' | 'tokenOutsideHeader'>): boolean {
    return carriesNoCredentials(request.headers, request.tokenOutsideHeader === true);
  }

  /** Undefined for a request with no credentials at all; else exactly {@link ApiValidator.verifyRequest} (never a downgrade). */
  async verifyOptionalRequest<C extends AccessTokenClaims = AccessTokenClaims>(request: RequestContext): Promise<VerifiedRequest<C> | undefined> {
    return this.isAnonymous(request) ? undefined : this.verifyRequest<C>(request);
  }

  /**
   * Verifies an access token alone, as for a Bearer request (e.g. a WebSocket handshake): signature, claims,
   * issuer; a sender-constrained token is refused, since no proof or certificate comes with it.
   */
  async verifyAccessToken<C extends AccessTokenClaims = AccessTokenClaims>(token: string, request: Partial<RequestContext> = {}): Promise<C> {
    const { claims } = await this.measured(async () => {
      try {
        const verified = await this.tokens.verify(token, { url: request.url ?? '', headers: request.headers ?? {} });
        checkConfirmation(verified.claims, { scheme: 'bearer', mtlsMode: this.config.mtls.mode, clientCertificate: request.clientCertificate });
        return { scheme: 'bearer' as const, claims: verified.claims };
      } catch (error) {
        throw error instanceof AuthError ? error.onScheme('bearer') : error;
      }
    });
    return claims as C;
  }

  /** Reports a refusal and returns it as an AuthError (an unexpected error becomes a 401 `internal`, logged). */
  rejected(error: unknown): AuthError {
    const refused = error instanceof AuthError ? error : new AuthError('invalid_token', 'internal', 'The access token could not be verified', { cause: error });
    this.config.emit(rejectionEvent(refused));
    return refused;
  }

  /** What an error response for a request to `requestUrl` depends on, besides the error. */
  responseFacts(requestUrl: string): ResponseFacts {
    return { dpopMode: this.config.dpop.mode, dpopAlgorithms: this.config.dpop.algorithms, resourceMetadataUrl: resourceMetadataUrl(this.config, requestUrl) };
  }

  /** The RFC 9728 document for the API at `requestUrl`'s origin (or `publicUrl`), with its docs URL and scopes when known. */
  protectedResourceMetadata(requestUrl: string, extra: { documentationUrl?: string | undefined; scopes?: readonly string[] | undefined } = {}): Promise<ProtectedResourceMetadata> {
    return protectedResourceMetadata(this.config, this.issuers, requestUrl, extra);
  }

  /** The discovery document of the first configured domain (token and authorize endpoints for docs), if loadable. */
  async discovery(): Promise<Discovery | undefined> {
    const first = this.issuers.configuredOrigins()[0];
    return first === undefined ? undefined : this.issuers.client(first).getDiscovery();
  }

  /**
   * Loads discovery and keys of every configured domain now, so that the first request fetches nothing. Resolves
   * when loaded; rejects with a 503 AuthError (`provider.unavailable`) when a provider cannot be reached — requests
   * then answer 503 until it is back, so an app may log the rejection and serve anyway.
   */
  ready(): Promise<void> {
    return this.issuers.ready();
  }

  /** Sizes of the bounded caches (diagnostics and benchmarks). */
  stats(): { tokenCache: number } {
    return { tokenCache: this.tokens.cacheSize };
  }
}

/** Creates a validator. Throws a {@link ConfigurationError} naming the option when the configuration is wrong. */
export function createValidator(options: ApiOptions): ApiValidator {
  return new ApiValidator(options);
}
