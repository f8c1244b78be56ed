/**
 * Access-token verification: the cache, the issuer, the claims, the key, the signature — in that order, so that
 * expired or foreign tokens cost no key lookup and no signature, and a repeated token costs a hash and a lookup.
 */
import { AuthError } from './errors.js';
import { checkClaims, decodeAccessToken, nowSeconds, timeClaimsHold, type AccessTokenClaims } from './access-token.js';
import { verifySignature } from './jws.js';
import { TokenCache, type CachedToken } from './token-cache.js';
import type { IssuerPool, IssuerRequest } from './issuer-pool.js';
import type { ResolvedConfig } from './config.js';

/** A verified token's claims (a fresh shallow copy per request: handlers may add members) and where they came from. */
export interface VerifiedToken {
  claims: AccessTokenClaims;
  cacheHit: boolean;
}

/** Verifies access tokens for one API configuration. */
export class TokenVerifier {
  private readonly cache: TokenCache;

  constructor(
    private readonly config: ResolvedConfig,
    private readonly issuers: IssuerPool,
  ) {
    this.cache = new TokenCache(config.tokenCacheSize);
  }

  /** Verified tokens held. */
  get cacheSize(): number {
    return this.cache.size;
  }

  /** Whether `token` was verified before and is still held (its verdict is re-checked by {@link verify}). */
  readonly known = (token: string): boolean => this.cache.get(token) !== undefined;

  /** Verifies `token` for `request`. Throws `invalid_token` (401) or `temporarily_unavailable` (503) AuthErrors. */
  async verify(token: string, request: IssuerRequest): Promise<VerifiedToken> {
    const cached = this.config.tokenCacheSize > 0;
    if (cached) {
      const hit = this.cache.get(token);
      if (hit !== undefined) {
        // The common case stays synchronous: only a resolver (asked again per request) needs an await.
        if (this.holdsNow(hit) && (this.config.domains.kind !== 'resolver' || (await this.resolverStillAllows(hit, request)))) {
          this.config.telemetry.tokenCacheLookup(true, hit.issuerOrigin);
          return { claims: { ...hit.claims }, cacheHit: true };
        }
        this.cache.delete(token); // expired, too old, key gone or changed, issuer no longer allowed
      }
      this.config.telemetry.tokenCacheLookup(false); // a verdict that no longer holds is a miss
    }
    const decoded = decodeAccessToken(token, this.config.algorithms, this.config.strict);
    const client = await this.issuers.select(decoded.payload.iss, request);
    this.config.telemetry.issuerSelected(client.origin);
    const discovery = await client.getDiscovery();
    const claims = deepFreeze(
      checkClaims(decoded.payload, {
        issuer: discovery.issuer,
        audiences: this.config.audiences,
        clockTolerance: this.config.clockTolerance,
        maxTokenAge: this.config.maxTokenAge,
        strict: this.config.strict,
      }),
    );
    const key = await client.getKey(decoded.kid, decoded.alg);
    if (!verifySignature(decoded.alg, key.key, decoded.signingInput, decoded.signature)) {
      throw new AuthError('invalid_token', 'token.signature', 'The access token signature is invalid');
    }
    if (cached) {
      this.cache.set({ token, claims, issuerOrigin: client.origin, kid: decoded.kid, alg: decoded.alg, thumbprint: key.thumbprint });
    }
    return { claims: { ...claims }, cacheHit: false };
  }

  /**
   * Whether a cached verdict would be given again now: the time claims hold, and the key set (fresh, or stale
   * within `maxStaleness`) still has the same key material under the same `kid` for the same algorithm.
   */
  private holdsNow(hit: CachedToken): boolean {
    if (!timeClaimsHold(hit.claims, this.config, nowSeconds())) return false;
    const current = this.issuers.peek(hit.issuerOrigin)?.currentKey(hit.kid, hit.alg);
    return current !== undefined && current.thumbprint === hit.thumbprint;
  }

  /** A resolver may allow different issuers per request (e.g. per Host): ask it again on every hit. */
  private async resolverStillAllows(hit: CachedToken, request: IssuerRequest): Promise<boolean> {
    try {
      return (await this.issuers.select(hit.claims.iss, request)).origin === hit.issuerOrigin;
    } catch {
      return false;
    }
  }
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const member of Object.values(value)) deepFreeze(member);
  }
  return value;
}
