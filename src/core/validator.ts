/**
 * The request validator: credentials → access token → DPoP proof → scopes, with RFC 6750 / RFC 9449 errors.
 * Framework-free: adapters pass the method, the public URL and the headers, and copy the result onto the response.
 */
import { createHash } from 'node:crypto';
import { AuthError, type AuthScheme } from './errors.js';
import { buildChallenge } from './challenge.js';
import { resolveConfig, normalizeDomain, isLoopbackHost, type ApiOptions, type ResolvedConfig } from './config.js';
import { parseAuthorization, getDpopProof, hasDpopHeader, type Headers } from './authorization.js';
import { IssuerClient } from './issuer.js';
import { decodeAccessToken, verifyTokenSignature, checkClaims, type AccessTokenClaims } from './jwt.js';
import { verifyProof, type VerifiedProof } from './dpop.js';
import { grantedScopes, missingScopes, toScopeList } from './scopes.js';
import { MemoryReplayStore, type ReplayStore } from './replay-store.js';
import { NonceManager } from './nonce.js';
import { TokenCache, type CachedToken } from './token-cache.js';
import { safeSink, type EventSink } from './events.js';

/** What an adapter tells the validator about a request. */
export interface RequestContext {
  /** HTTP method, as sent (methods are case-sensitive). */
  method: string;
  /** The absolute public URL of the request (what the client called, proxies taken into account). */
  url: string;
  headers: Headers;
  /** True when an `access_token` was also found in the query string or form body (never accepted). */
  tokenOutsideHeader?: boolean;
}

export interface VerifiedRequest<C extends AccessTokenClaims = AccessTokenClaims> {
  claims: C;
  token: string;
  scheme: AuthScheme;
  /** The public URL the request was verified for. */
  url: string;
  /** The verified DPoP proof, for the DPoP scheme. */
  proof?: VerifiedProof;
  /** Headers to add to the successful response (e.g. the next `DPoP-Nonce`). */
  responseHeaders: Record<string, string>;
}

/** RFC 9728 protected resource metadata. */
export interface ProtectedResourceMetadata {
  resource: string;
  authorization_servers: string[];
  scopes_supported: string[];
  bearer_methods_supported: string[];
  resource_documentation?: string;
  dpop_signing_alg_values_supported?: string[];
  dpop_bound_access_tokens_required?: boolean;
}

export class ApiValidator {
  readonly config: ResolvedConfig;
  private readonly issuers = new Map<string, IssuerClient>();
  private readonly emit: EventSink;
  private readonly replayStore: ReplayStore;
  private readonly nonces: NonceManager | undefined;
  private readonly tokens: TokenCache<AccessTokenClaims>;

  constructor(options: ApiOptions) {
    this.config = resolveConfig(options);
    this.emit = safeSink(options.onEvent);
    this.replayStore = options.dpop?.replayStore ?? new MemoryReplayStore();
    const nonce = options.dpop?.nonce;
    this.nonces = nonce ? new NonceManager(nonce === true ? {} : nonce) : undefined;
    this.tokens = new TokenCache(this.config.tokenCacheSize);
  }

  /** Authenticates a request. Resolves with the claims; rejects with an {@link AuthError} carrying its headers. */
  async verifyRequest<C extends AccessTokenClaims = AccessTokenClaims>(request: RequestContext): Promise<VerifiedRequest<C>> {
    try {
      return (await this.authenticate(request)) as VerifiedRequest<C>;
    } catch (error) {
      throw await this.decorateError(error, request);
    }
  }

  /** Checks that a verified request grants every scope in `required`; throws a decorated 403 otherwise. */
  async assertScopes(verified: VerifiedRequest, required: string | readonly string[] | undefined, request: Pick<RequestContext, 'url'>): Promise<void> {
    const list = toScopeList(required);
    if (list.length === 0) return;
    if (missingScopes(list, grantedScopes(verified.claims, this.config.scopeClaim)).length === 0) return;
    const error = new AuthError('insufficient_scope', 'The access token lacks a required scope', {
      scheme: verified.scheme,
      requiredScopes: list,
      reason: 'insufficient_scope',
    });
    throw await this.decorateError(error, request);
  }

  /** Verifies an access token alone (signature, claims, issuer selection), as for a Bearer request. */
  async verifyAccessToken<C extends AccessTokenClaims = AccessTokenClaims>(token: string, request?: Partial<RequestContext>): Promise<C> {
    return (await this.verifyToken(token, { method: 'GET', url: '', headers: {}, ...request })) as C;
  }

  /** Absolute URL of the RFC 9728 document for a request URL, or undefined when metadata is turned off. */
  resourceMetadataUrl(requestUrl: string): string | undefined {
    const path = this.config.resourceMetadataPath;
    if (path === undefined) return undefined;
    const base = this.publicBase(requestUrl);
    return base ? `${base}${path}` : undefined;
  }

  /** The RFC 9728 document for the API at `requestUrl`'s origin (or `publicUrl`). */
  async protectedResourceMetadata(requestUrl: string): Promise<ProtectedResourceMetadata> {
    const servers: string[] = [];
    if (Array.isArray(this.config.domains)) {
      for (const origin of this.config.domains as readonly string[]) {
        try {
          servers.push((await this.issuer(origin).getDiscovery()).issuer);
        } catch {
          servers.push(`${origin}/`);
        }
      }
    }
    const { mode, algorithms } = this.config.dpop;
    return {
      resource: this.publicBase(requestUrl) ?? requestUrl,
      authorization_servers: servers,
      scopes_supported: Object.keys(this.config.scopes),
      bearer_methods_supported: ['header'],
      ...(mode !== 'disabled' ? { dpop_signing_alg_values_supported: [...algorithms] } : {}),
      ...(mode !== 'disabled' ? { dpop_bound_access_tokens_required: mode === 'required' } : {}),
    };
  }

  /** The discovery document of the (first) configured domain: token and authorize endpoints for docs. */
  async discovery(origin?: string) {
    const first = origin ?? (Array.isArray(this.config.domains) ? (this.config.domains as readonly string[])[0] : undefined);
    if (!first) return undefined;
    return this.issuer(first).getDiscovery();
  }

  // ---------------------------------------------------------------------------------------------------------------

  private async authenticate(request: RequestContext): Promise<VerifiedRequest> {
    const { mode } = this.config.dpop;
    const credentials = this.parseCredentials(request);
    if (credentials.kind === 'none') {
      throw new AuthError('unauthorized', 'Authentication required', { reason: request.tokenOutsideHeader ? 'token_outside_header' : 'no_credentials' });
    }
    if (request.tokenOutsideHeader) {
      throw new AuthError('invalid_request', 'Send the access token in the Authorization header only', { reason: 'token_in_two_places' });
    }
    if (credentials.kind === 'unsupported') throw new AuthError('unauthorized', 'Unsupported authentication scheme', { reason: 'unsupported_scheme' });

    if (credentials.scheme === 'bearer') {
      if (mode === 'required') throw new AuthError('unauthorized', 'This API requires DPoP-bound access tokens', { reason: 'bearer_not_allowed' });
      if (mode === 'allowed' && hasDpopHeader(request.headers)) {
        throw new AuthError('invalid_request', 'A DPoP proof requires the DPoP authorization scheme', { scheme: 'bearer', reason: 'proof_with_bearer' });
      }
      const claims = await this.verifyToken(credentials.token, request, 'bearer');
      if (claims.cnf?.jkt !== undefined) {
        throw new AuthError('invalid_token', 'A DPoP-bound token requires the DPoP authorization scheme', { scheme: 'bearer', reason: 'bound_token_as_bearer' });
      }
      return { claims, token: credentials.token, scheme: 'bearer', url: request.url, responseHeaders: {} };
    }

    if (mode === 'disabled') throw new AuthError('unauthorized', 'The DPoP scheme is not supported', { reason: 'dpop_disabled' });
    const proofText = getDpopProof(request.headers);
    const { algorithms, iatLeeway, iatOffset } = this.config.dpop;
    const proof = await verifyProof(proofText, { method: request.method, url: request.url, accessToken: credentials.token, algorithms, iatLeeway, iatOffset });
    const claims = await this.verifyToken(credentials.token, request, 'dpop');
    const jkt = claims.cnf?.jkt;
    if (typeof jkt !== 'string') throw new AuthError('invalid_token', 'The access token is not DPoP-bound', { scheme: 'dpop', reason: 'token_not_bound' });
    if (jkt !== proof.thumbprint) throw new AuthError('invalid_token', 'The DPoP proof key does not match the token binding', { scheme: 'dpop', reason: 'jkt_mismatch' });

    const responseHeaders: Record<string, string> = {};
    if (this.nonces) {
      const verdict = await this.nonceVerdict(proof.nonce);
      if (verdict === 'invalid') throw new AuthError('use_dpop_nonce', 'A fresh DPoP nonce is required', { scheme: 'dpop', reason: 'nonce' });
      if (verdict === 'previous') responseHeaders['DPoP-Nonce'] = await this.nonces.current();
    }
    await this.rememberProof(proof);
    return { claims, token: credentials.token, scheme: 'dpop', url: request.url, proof, responseHeaders };
  }

  /** A malformed header of a scheme the mode refuses is "unsupported scheme" (401), not a malformed request (400). */
  private parseCredentials(request: RequestContext) {
    try {
      return parseAuthorization(request.headers);
    } catch (error) {
      const { mode } = this.config.dpop;
      const refused = error instanceof AuthError && ((mode === 'required' && error.scheme === 'bearer') || (mode === 'disabled' && error.scheme === 'dpop'));
      if (refused) throw new AuthError('unauthorized', 'Unsupported authentication scheme', { reason: 'unsupported_scheme' });
      throw error;
    }
  }

  private async nonceVerdict(nonce: unknown) {
    try {
      return await this.nonces!.verify(nonce);
    } catch (error) {
      this.emit({ type: 'replay_store_failed', detail: String((error as Error)?.message ?? error) });
      throw new AuthError('temporarily_unavailable', 'DPoP nonces are unavailable; try again later', { reason: 'nonce_store', retryAfter: 5 });
    }
  }

  private async rememberProof(proof: VerifiedProof): Promise<void> {
    const key = createHash('sha256').update(`${proof.thumbprint}\n${proof.jti}`).digest('base64url');
    const ttl = this.config.dpop.iatOffset + this.config.dpop.iatLeeway + this.config.clockTolerance;
    let fresh: boolean;
    try {
      fresh = await this.replayStore.checkAndRemember(key, ttl);
    } catch (error) {
      this.emit({ type: 'replay_store_failed', detail: String((error as Error)?.message ?? error) });
      if (this.config.dpop.onStoreError === 'accept') return;
      throw new AuthError('temporarily_unavailable', 'DPoP replay protection is unavailable; try again later', { reason: 'replay_store', retryAfter: 5 });
    }
    if (!fresh) throw new AuthError('invalid_dpop_proof', 'The DPoP proof was already used', { scheme: 'dpop', reason: 'replay' });
  }

  private async verifyToken(token: string, request: RequestContext, scheme?: AuthScheme): Promise<AccessTokenClaims> {
    try {
      return await this.verifyTokenUncaught(token, request);
    } catch (error) {
      if (error instanceof AuthError && scheme && error.scheme === undefined) error.scheme = scheme;
      throw error;
    }
  }

  private async verifyTokenUncaught(token: string, request: RequestContext): Promise<AccessTokenClaims> {
    const cacheKey = this.config.tokenCacheSize > 0 ? TokenCache.keyOf(token) : undefined;
    if (cacheKey !== undefined) {
      const hit = this.tokens.get(cacheKey);
      // Each request gets its own (shallow) copy of the frozen cached claims: tsoa's @RequestProp validation and
      // handlers may set top-level members; nested values stay frozen.
      if (hit && this.cachedTokenFresh(hit) && (typeof this.config.domains !== 'function' || (await this.resolverStillAllows(hit, request)))) {
        return { ...hit.value };
      }
      if (hit) this.tokens.delete(cacheKey); // expired, too old, key left the key set, issuer no longer allowed
    }
    const decoded = decodeAccessToken(token, this.config.algorithms, this.config.strict);
    const client = await this.selectIssuer(decoded.payload.iss, request);
    const discovery = await client.getDiscovery();
    // Claims first, so that expired or foreign tokens cost no key lookup or signature.
    const rules = {
      issuer: discovery.issuer,
      audiences: this.config.audiences,
      clockTolerance: this.config.clockTolerance,
      maxTokenAge: this.config.maxTokenAge,
      strict: this.config.strict,
    };
    const claims = deepFreeze(checkClaims(decoded.payload, rules));
    const key = await client.getKey(decoded.kid, decoded.alg);
    await verifyTokenSignature(token, decoded, key, this.config.signatureVerifier);
    if (cacheKey !== undefined) {
      // The frozen claims are cached; every request (this one included) gets a shallow copy.
      this.tokens.set(cacheKey, { value: claims, exp: claims.exp, kid: decoded.kid, issuerOrigin: client.origin });
    }
    return { ...claims };
  }

  /** A cache hit is used only while everything time-dependent still holds (checked synchronously: the hot path). */
  private cachedTokenFresh(hit: CachedToken<AccessTokenClaims>): boolean {
    const now = Math.floor(Date.now() / 1000);
    const skew = this.config.clockTolerance;
    if (now - skew >= hit.exp) return false;
    if (this.config.maxTokenAge !== undefined && now - hit.value.iat > this.config.maxTokenAge + skew) return false;
    return this.issuers.get(hit.issuerOrigin)?.hasKid(hit.kid) ?? false;
  }

  /** A resolver may allow different issuers per request (e.g. per Host): ask it again on every hit. */
  private async resolverStillAllows(hit: CachedToken<AccessTokenClaims>, request: RequestContext): Promise<boolean> {
    try {
      return (await this.selectIssuer(hit.value.iss, request)).origin === hit.issuerOrigin;
    } catch {
      return false;
    }
  }

  /** Picks the identity provider from configuration; with several domains, the unverified `iss` must be listed first. */
  private async selectIssuer(unverifiedIss: unknown, request: RequestContext): Promise<IssuerClient> {
    const { domains, multipleDomains } = this.config;
    if (!multipleDomains) return this.issuer((domains as readonly string[])[0]!);
    const origin = issuerOrigin(unverifiedIss);
    if (!origin) throw new AuthError('invalid_token', 'The access token issuer is not accepted', { reason: 'iss_format' });
    let allowed: readonly string[];
    if (typeof domains === 'function') {
      try {
        const result = await withTimeout(
          Promise.resolve(domains({ url: request.url, headers: request.headers, unverifiedIssuer: origin })),
          this.config.timeout,
        );
        if (!Array.isArray(result)) throw new Error('resolver did not return a list');
        allowed = result.map((d) => normalizeDomain(d, 'domains'));
      } catch (error) {
        this.emit({ type: 'domains_resolver_failed', detail: String((error as Error)?.message ?? error) });
        throw new AuthError('temporarily_unavailable', 'The API cannot check the token issuer right now; try again later', { reason: 'domains_resolver', retryAfter: 5 });
      }
    } else {
      allowed = domains;
    }
    if (!allowed.includes(origin)) throw new AuthError('invalid_token', 'The access token issuer is not accepted', { reason: 'iss_not_allowed' });
    return this.issuer(origin);
  }

  private issuer(origin: string): IssuerClient {
    let client = this.issuers.get(origin);
    if (!client) {
      // Bounded: with a resolver, the set of issuers is whatever it allows; refuse to grow past a sane number.
      if (this.issuers.size >= 100) this.issuers.delete(this.issuers.keys().next().value as string);
      client = new IssuerClient(origin, this.config, this.emit);
      this.issuers.set(origin, client);
    }
    return client;
  }

  private publicBase(requestUrl: string): string | undefined {
    if (this.config.publicUrl) return this.config.publicUrl.origin;
    try {
      return new URL(requestUrl).origin;
    } catch {
      return undefined;
    }
  }

  /** Turns anything thrown into a decorated AuthError (challenge, Retry-After, DPoP-Nonce) and reports it. */
  async decorateError(error: unknown, request: Pick<RequestContext, "url">): Promise<AuthError> {
    const authError =
      error instanceof AuthError
        ? error
        : new AuthError('invalid_token', 'The access token could not be verified', { reason: 'internal', cause: error });
    const { mode, algorithms } = this.config.dpop;
    const headers: Record<string, string> = {};
    if (authError.code === 'temporarily_unavailable') {
      headers['Retry-After'] = String(authError.retryAfter ?? 5);
    } else {
      headers['WWW-Authenticate'] = buildChallenge({
        mode,
        dpopAlgorithms: algorithms,
        error: authError.code === 'unauthorized' ? undefined : { code: authError.code, description: authError.description, scope: authError.requiredScopes },
        scheme: authError.scheme,
        resourceMetadata: this.resourceMetadataUrl(request.url),
      });
    }
    if (authError.code === 'use_dpop_nonce' && this.nonces) {
      try {
        headers['DPoP-Nonce'] = await this.nonces.current();
      } catch {
        /* the verdict stands; the client will get a nonce on the next try */
      }
    }
    authError.headers = headers;
    this.emit({ type: 'request_rejected', code: authError.code, reason: authError.reason, status: authError.status });
    return authError;
  }
}

/** Rejects when `promise` does not settle within `ms` (a resolver that hangs must not hang requests). */
function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const member of Object.values(value)) deepFreeze(member);
  }
  return value;
}

function issuerOrigin(iss: unknown): string | undefined {
  if (typeof iss !== 'string' || iss.length > 2048) return undefined;
  try {
    const url = new URL(iss);
    if (url.protocol !== 'https:' && !(url.protocol === 'http:' && isLoopbackHost(url.hostname))) return undefined;
    if (url.username || url.password || url.search || url.hash || (url.pathname !== '/' && url.pathname !== '')) return undefined;
    return url.origin;
  } catch {
    return undefined;
  }
}

/** Creates a validator. Throws a {@link ConfigurationError} naming the option when the configuration is wrong. */
export function createValidator(options: ApiOptions): ApiValidator {
  return new ApiValidator(options);
}
