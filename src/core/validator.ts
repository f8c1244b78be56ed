/**
 * The request validator: the RFC 6750 / RFC 9449 decision table as a pipeline.
 *
 *   credentials (header only, per DPoP mode) → DPoP proof (§4.3) → access token (cache, issuer, claims, key,
 *   signature) → confirmation (`cnf`: DPoP `jkt`, mTLS `x5t#S256`) → nonce (§9) and replay (§11.1) → scopes.
 *
 * Framework-free: adapters hand in what they read of a request once ({@link ApiValidator.requestContext}), or the
 * method, the public URL and the headers; each refusal is an {@link AuthError} built once by the step that refuses,
 * and answered here, with this request's facts (`AuthError.response`): adapters only write that response.
 */
import { warnAboutDomains } from './observability/diagnostics.js';
import { AuthError, ConfigurationError, type AuthScheme } from './errors.js';
import { resolveConfig, type ResolvedConfig } from './config.js';
import { buildServices } from './services.js';
import type { ApiOptions, DpopMode } from './options.js';
import { acceptedCredentials, carriesNoCredentials, getDpopProof, type RequestHeaders } from './http/credentials.js';
import type { IssuerPool } from './issuer/issuer-pool.js';
import type { TokenVerifier } from './token/token-verifier.js';
import type { DpopVerifier } from './dpop/dpop.js';
import { checkConfirmation } from './token/confirmation.js';
import { denialError, evaluateAuthorization, findPolicy, type AuthorizationRequirement, type RequestFacts, type ResolvedPolicy } from './authorization/policies.js';
import { protectedResourceMetadata, resourceMetadataUrl, type ProtectedResourceMetadata } from './http/resource-metadata.js';
import { errorResponse, type ResponseFacts } from './http/error-response.js';
import type { AccessTokenClaims } from './token/access-token.js';
import { accessTokenHash } from './dpop/dpop-proof.js';
import { rejectionEvent, type EventSink } from './observability/events.js';
import type { Telemetry } from './observability/telemetry.js';
import type { Discovery } from './issuer/issuer.js';
import { createTokenExchanger, type ExchangeRequest, type TokenExchanger } from './issuer/token-exchange.js';
import type { IncomingRequest, RequestContext, RequestSettings, VerifiedRequest } from './http/request.js';
import { toRequestContext } from './http/request-context.js';

export type { RequestContext, VerifiedRequest };

/** What API documentation shows of a configuration: {@link ApiValidator.documentation}. */
export interface ApiDocumentation {
  /** The `scopes` option (name → description); empty when not given. */
  scopes: Readonly<Record<string, string>>;
  /** The `policies` option, checked. */
  policies: ReadonlyMap<string, ResolvedPolicy>;
  /** Which schemes operations offer. */
  dpopMode: DpopMode;
  /** The first accepted audience. */
  audience: string;
  /** The first configured issuer origin (none with a domains resolver). */
  issuerOrigin: string | undefined;
}

const NO_HEADERS: Readonly<Record<string, string>> = Object.freeze({});

/** Validates requests for one API configuration. Create it with `createValidator`. */
export class ApiValidator {
  /** Every option, resolved once: plain data (read-only). For the adapters: not part of the public API. @internal */
  readonly config: ResolvedConfig;
  /** This API's OpenTelemetry metrics and spans, which token exchanges share. For the adapters: not part of the public API. @internal */
  readonly telemetry: Telemetry;
  private readonly emit: EventSink;
  private readonly issuers: IssuerPool;
  private readonly tokens: TokenVerifier;
  private readonly dpop: DpopVerifier;
  private readonly exchanger: TokenExchanger | undefined;

  constructor(options: ApiOptions) {
    this.config = resolveConfig(options);
    warnAboutDomains(options);
    // Built once, here: the validator's own telemetry, event sink, stores, issuer pool and verifiers.
    const services = buildServices(this.config);
    this.telemetry = services.telemetry;
    this.emit = services.emit;
    this.issuers = services.issuers;
    this.tokens = services.tokens;
    this.dpop = services.dpop;
    this.exchanger =
      options.tokenExchange === undefined
        ? undefined
        : createTokenExchanger(options.tokenExchange, {
            // The discovered endpoint of the caller's issuer, never a URL from a token (docs/decisions.md D24).
            tokenEndpoint: async (subject) => (await this.issuers.verifiedClient(subject.claims.iss)?.getDiscovery())?.tokenEndpoint,
            fetch: this.config.issuer.fetch,
            telemetry: this.telemetry,
            emit: this.emit,
          });
  }

  /**
   * Exchanges a verified caller's access token for one for a downstream API (RFC 8693), with the `tokenExchange`
   * client; cached per caller token, audience and scope. Every adapter's `exchangeToken(request, …)` comes here after
   * authenticating the request, so a refused caller causes no exchange. Rejects with a 503 AuthError when the
   * authorization server is unreachable, with a `TokenExchangeError` when it refuses.
   */
  exchangeToken(verified: VerifiedRequest, request: ExchangeRequest): Promise<string> {
    if (this.exchanger === undefined) return Promise.reject(new ConfigurationError('tokenExchange', 'exchangeToken() needs the tokenExchange option, e.g. { tokenExchange: { clientId, clientSecret } }'));
    return this.exchanger.exchange(verified, request);
  }

  /** Authenticates a request. Resolves with the claims; rejects with an {@link AuthError}. */
  verifyRequest<C extends AccessTokenClaims = AccessTokenClaims>(request: RequestContext): Promise<VerifiedRequest<C>> {
    return this.measured(() => this.authenticate(request), request.url, request.headers) as Promise<VerifiedRequest<C>>;
  }

  /**
   * The request context of what an adapter read of a request (framing, public URL, trusted proxies, certificate);
   * throws the 400 AuthError, reported and answered, for ambiguous framing or a bad Host.
   */
  requestContext(incoming: IncomingRequest, settings: Omit<RequestSettings, 'publicUrl' | 'clientCertificates'> = {}): RequestContext {
    // Named, not `{ ...settings }`: that spread cost ≈ 4 µs per request on Express, and its garbage (bench/auth-path-ab.mjs).
    const { trustProxy, proxiesNamed } = settings;
    try {
      return toRequestContext(incoming, { trustProxy, proxiesNamed, publicUrl: this.config.publicUrl, clientCertificates: this.config.mtls.mode !== 'disabled' });
    } catch (error) {
      throw this.rejected(error);
    }
  }

  /** One authentication in its telemetry record (a no-op unless an OpenTelemetry SDK is registered); refusals reported once. */
  private async measured<T extends { scheme: AuthScheme }>(authenticate: () => Promise<T>, url: string, headers?: RequestHeaders): Promise<T> {
    const recorded = this.telemetry.startAuthentication();
    let result: T;
    try {
      result = await (recorded.traced ? recorded.run(authenticate) : authenticate());
    } catch (error) {
      const refused = this.rejected(error, url);
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

  /**
   * After authentication (every 401/400 comes first): scopes, then organization and claim rules (403
   * `insufficient_scope`, with `scope="…"` only for scopes). `facts`: the path parameters. A `PolicySetupError` (500)
   * when the requirement cannot apply to this route.
   */
  authorize(verified: Pick<VerifiedRequest, 'claims' | 'scheme'> & { url?: string }, requirement: AuthorizationRequirement, facts?: RequestFacts): void {
    const denial = evaluateAuthorization(verified.claims, requirement, { scopeClaim: this.config.scopeClaim, facts, clockTolerance: this.config.clockTolerance });
    if (!denial) return this.telemetry.authorization(true);
    const refused = this.rejected(denialError(denial, verified.scheme), verified.url);
    this.telemetry.authorization(false, refused);
    throw refused;
  }

  /** The policy named `name` of the `policies` option; throws a `PolicySetupError` naming the fix when there is none. */
  policy(name: string): ResolvedPolicy {
    return findPolicy(this.config.policies, name);
  }

  /** True when the `policies` option defines `name`. */
  hasPolicy(name: string): boolean {
    return this.config.policies.has(name);
  }

  /** What API documentation (OpenAPI, Swagger UI) shows of this configuration. */
  documentation(): ApiDocumentation {
    const { domains, dpop, audiences, scopes, policies } = this.config;
    const issuerOrigin = domains.kind === 'single' ? domains.origin : domains.kind === 'list' ? domains.origins[0] : undefined;
    return { scopes, policies, dpopMode: dpop.mode, audience: audiences[0]!, issuerOrigin };
  }

  /** True when a request carries no credentials at all (see `carriesNoCredentials`): it may be served anonymously. */
  isAnonymous(request: Pick<RequestContext, 'headers' | 'tokenOutsideHeader'>): boolean {
    return carriesNoCredentials(request.headers, request.tokenOutsideHeader === true);
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
    }, request.url ?? '');
    return claims as C;
  }

  /**
   * Reports a refusal of a request to `requestUrl` and returns it as an answered AuthError (an unexpected error
   * becomes a 401 `internal`, logged). An error answered before keeps its answer.
   */
  rejected(error: unknown, requestUrl = ''): AuthError {
    const refused = error instanceof AuthError ? error : new AuthError('invalid_token', 'internal', 'The access token could not be verified', { cause: error });
    this.emit(rejectionEvent(refused));
    return this.answered(refused, requestUrl);
  }

  /**
   * Gives an AuthError its response for a request to `requestUrl` (this API's challenges, its RFC 9728 URL) unless it
   * has one, without reporting it; returns it.
   */
  answered(error: AuthError, requestUrl = ''): AuthError {
    error.response ??= errorResponse(error, this.responseFacts(requestUrl));
    return error;
  }

  /** What an error response for a request to `requestUrl` depends on, besides the error. */
  responseFacts(requestUrl: string): ResponseFacts {
    return { dpopMode: this.config.dpop.mode, dpopAlgorithms: this.config.dpop.algorithms, resourceMetadataUrl: resourceMetadataUrl(this.config, requestUrl) };
  }

  /** The RFC 9728 document for the API at `requestUrl`'s origin (or `publicUrl`), with its docs URL and scopes when known. */
  protectedResourceMetadata(requestUrl: string, extra: { documentationUrl?: string | undefined; scopes?: readonly string[] | undefined } = {}): Promise<ProtectedResourceMetadata> {
    return protectedResourceMetadata(this.config, this.issuers, requestUrl, extra);
  }

  /**
   * The discovery document of the first configured domain (token and authorize endpoints for docs), if loadable.
   * For the adapters and the demo: not part of the public API. @internal
   */
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
}

/** Creates a validator. Throws a {@link ConfigurationError} naming the option when the configuration is wrong. */
export function createValidator(options: ApiOptions): ApiValidator {
  return new ApiValidator(options);
}
