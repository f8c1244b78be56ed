/**
 * Access-token verification: the cache, the issuer, the claims, the key, the signature — in that order, so that
 * expired or foreign tokens cost no key lookup and no signature, and a repeated token costs a hash and a lookup.
 *
 * The common cases finish without waiting: a cache hit resolves with a promise made when the token was cached, and a
 * new token whose issuer's discovery and keys are loaded is verified synchronously (an `await` per step would cost a
 * promise and a microtask each). Only a load from the provider, or a domains resolver, waits.
 */
import { AuthError } from '../errors.js';
import { checkClaims, decodeAccessToken, nowSeconds, type AccessTokenClaims, type DecodedToken } from './access-token.js';
import { deepFreeze, verifySignature } from './jws.js';
import { TokenCache, type Admission, type CachedToken } from './token-cache.js';
import type { IssuerPool, IssuerRequest } from '../issuer/issuer-pool.js';
import type { IssuerClient, IssuerKey } from '../issuer/issuer.js';
import type { DomainSource } from '../issuer/domain.js';
import type { Algorithm } from './jws.js';
import type { Telemetry } from '../observability/telemetry.js';

/**
 * A verified token's claims and where they came from. The claims of a cached token are deeply frozen and shared by
 * every request that presents it (a hit allocates nothing): copy them to add members.
 */
export interface VerifiedToken {
  claims: AccessTokenClaims;
  cacheHit: boolean;
}

/** The token verifier's slice of the configuration. */
export interface TokenVerifierSettings {
  /** A single domain is looked up without waiting; a resolver is asked again on every cache hit. */
  domains: DomainSource;
  audiences: readonly string[];
  algorithms: readonly Algorithm[];
  clockTolerance: number;
  maxTokenAge: number | undefined;
  strict: boolean;
  /** Verified tokens held at most; 0 turns the cache off. */
  tokenCacheSize: number;
}

/** Verifies access tokens for one API configuration. */
export class TokenVerifier {
  private readonly cache: TokenCache;

  constructor(
    private readonly settings: TokenVerifierSettings,
    private readonly issuers: IssuerPool,
    /** Counts cache lookups and names the selected issuer. */
    private readonly telemetry: Telemetry,
    /** Cache admission (bench/token-cache-ab.mjs compares both; second use won). */
    admission: Admission = 'second-use',
  ) {
    this.cache = new TokenCache(settings.tokenCacheSize, admission);
  }

  /** Verified tokens held. */
  get cacheSize(): number {
    return this.cache.size;
  }

  /** Whether `token` was verified before and is still held (its verdict is re-checked by {@link verify}). */
  readonly known = (token: string): boolean => this.cache.get(token) !== undefined;

  /** Verifies `token` for `request`. Rejects with `invalid_token` (401) or `temporarily_unavailable` (503) AuthErrors. */
  verify(token: string, request: IssuerRequest): Promise<VerifiedToken> {
    if (this.settings.tokenCacheSize > 0) {
      const hit = this.cache.get(token);
      if (hit !== undefined) {
        if (this.holdsNow(hit)) {
          if (this.settings.domains.kind === 'resolver') return this.verifyResolved(hit, token, request);
          this.telemetry.tokenCacheLookup(true, hit.issuerOrigin);
          return hit.result;
        }
        this.cache.delete(token); // expired, too old, key gone or changed
      }
      this.telemetry.tokenCacheLookup(false); // a verdict that no longer holds is a miss
    }
    try {
      const decoded = decodeAccessToken(token, this.settings.algorithms, this.settings.strict);
      // A static domain with its discovery and keys loaded: no await at all.
      const { domains } = this.settings;
      const client = domains.kind === 'single' ? this.issuers.client(domains.origin) : undefined;
      const discovery = client?.discoveryNow();
      if (discovery !== undefined) {
        this.telemetry.issuerSelected(client!.origin);
        // Claims before the key: an expired or foreign token costs no key lookup.
        const claims = this.checkClaims(decoded, discovery.issuer);
        const key = client!.currentKey(decoded.kid, decoded.alg);
        if (key !== undefined) return Promise.resolve(this.finish(token, decoded, claims, client!, key));
      }
      return this.verifyLoading(token, decoded, request);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /** A new token whose issuer client, discovery or key has to be loaded (or a resolver asked) first. */
  private async verifyLoading(token: string, decoded: DecodedToken, request: IssuerRequest): Promise<VerifiedToken> {
    const client = await this.issuers.select(decoded.payload.iss, request);
    this.telemetry.issuerSelected(client.origin);
    const discovery = await client.getDiscovery();
    // Claims before the key: an expired or foreign token costs no key lookup (and no refetch for an unknown kid).
    const claims = this.checkClaims(decoded, discovery.issuer);
    const key = await client.getKey(decoded.kid, decoded.alg);
    return this.finish(token, decoded, claims, client, key);
  }

  /** Signature, then cache admission, for a token whose claims passed. */
  private finish(token: string, decoded: DecodedToken, claims: AccessTokenClaims, client: IssuerClient, key: IssuerKey): VerifiedToken {
    if (!verifySignature(decoded.alg, key.key, decoded.signingInput, decoded.signature)) {
      throw new AuthError('invalid_token', 'token.signature', 'The access token signature is invalid');
    }
    // A token seen once is handed out as parsed (its object belongs to this request alone); a cached one is frozen,
    // since every later request shares it.
    if (this.cache.admits(token)) {
      const frozen = deepFreeze(claims);
      const result = Object.freeze({ claims: frozen, cacheHit: true });
      const entry: CachedToken = {
        token,
        claims: frozen,
        exp: frozen.exp,
        iat: frozen.iat,
        nbf: typeof frozen.nbf === 'number' ? frozen.nbf : Number.NEGATIVE_INFINITY,
        issuerOrigin: client.origin,
        kid: decoded.kid,
        alg: decoded.alg,
        thumbprint: key.thumbprint,
        result: Promise.resolve(result),
      };
      this.cache.set(entry);
      return { claims: frozen, cacheHit: false };
    }
    return { claims, cacheHit: false };
  }

  private checkClaims(decoded: DecodedToken, issuer: string): AccessTokenClaims {
    const { audiences, clockTolerance, maxTokenAge, strict } = this.settings;
    return checkClaims(decoded.payload, { issuer, audiences, clockTolerance, maxTokenAge, strict });
  }

  /**
   * Whether a cached verdict would be given again now: the time claims hold (`exp`, `nbf`, and `iat` within
   * `maxTokenAge`, with the same skew as {@link checkClaims}), and the key set (fresh, or stale within
   * `maxStaleness`) still has the same key material under the same `kid` for the same algorithm.
   */
  private holdsNow(hit: CachedToken): boolean {
    const now = nowSeconds();
    const { clockTolerance: skew, maxTokenAge } = this.settings;
    if (now - skew >= hit.exp || hit.nbf > now + skew) return false;
    if (maxTokenAge !== undefined && now - hit.iat > maxTokenAge + skew) return false;
    const current = this.issuers.peek(hit.issuerOrigin)?.currentKey(hit.kid, hit.alg);
    return current !== undefined && current.thumbprint === hit.thumbprint;
  }

  /** A resolver may allow different issuers per request (e.g. per Host): ask it again on every hit. */
  private async verifyResolved(hit: CachedToken, token: string, request: IssuerRequest): Promise<VerifiedToken> {
    let allowed: boolean;
    try {
      allowed = (await this.issuers.select(hit.claims.iss, request)).origin === hit.issuerOrigin;
    } catch {
      allowed = false;
    }
    if (allowed) {
      this.telemetry.tokenCacheLookup(true, hit.issuerOrigin);
      return hit.result;
    }
    this.cache.delete(token); // issuer no longer allowed for this request
    this.telemetry.tokenCacheLookup(false);
    const decoded = decodeAccessToken(token, this.settings.algorithms, this.settings.strict);
    return this.verifyLoading(token, decoded, request);
  }
}
