/**
 * One identity provider: its discovery document and its key set (JWKS), fetched over HTTPS, cached, refreshed,
 * and served stale while the provider is down. Keys are imported once and kept by `kid`.
 */
import { createPublicKey, type KeyObject } from 'node:crypto';
import { AuthError } from './errors.js';
import { CachedResource, Unavailable } from './cached-resource.js';
import { fetchJson, ProviderFetchError } from './fetch-json.js';
import { isLoopbackHost, type Algorithm, type ResolvedConfig } from './config.js';
import type { EventSink } from './events.js';

export interface Discovery {
  issuer: string;
  jwksUri: string;
  tokenEndpoint: string | undefined;
  authorizationEndpoint: string | undefined;
}

interface KeyEntry {
  kid: string;
  key: KeyObject;
  alg: string | undefined;
}

export interface KeySetSnapshot {
  byKid: Map<string, KeyEntry[]>;
}

const MAX_KEYS = 100;

function httpsOrLoopback(value: unknown): URL | undefined {
  if (typeof value !== 'string') return undefined;
  try {
    const url = new URL(value);
    if (url.username || url.password || url.hash) return undefined;
    if (url.protocol === 'https:' || (url.protocol === 'http:' && isLoopbackHost(url.hostname))) return url;
  } catch {
    /* not a URL */
  }
  return undefined;
}

/** Whether a key can verify a given JWS algorithm (RFC 7518 §3): key type, curve and RSA size. */
export function keyFitsAlgorithm(key: KeyObject, alg: string): boolean {
  const type = key.asymmetricKeyType;
  const details = key.asymmetricKeyDetails;
  if (alg.startsWith('RS') || alg.startsWith('PS')) return (type === 'rsa' || (type === 'rsa-pss' && alg.startsWith('PS'))) && (details?.modulusLength ?? 0) >= 2048;
  if (alg === 'ES256') return type === 'ec' && details?.namedCurve === 'prime256v1';
  if (alg === 'ES384') return type === 'ec' && details?.namedCurve === 'secp384r1';
  if (alg === 'ES512') return type === 'ec' && details?.namedCurve === 'secp521r1';
  if (alg === 'EdDSA' || alg === 'Ed25519') return type === 'ed25519';
  return false;
}

function parseKeySet(body: Record<string, unknown>, url: string): KeySetSnapshot {
  if (!Array.isArray(body.keys)) throw new ProviderFetchError(url, 'invalid', 'no "keys" array');
  const byKid = new Map<string, KeyEntry[]>();
  for (const jwk of body.keys.slice(0, MAX_KEYS)) {
    if (jwk === null || typeof jwk !== 'object') continue;
    const { kid, use, key_ops: ops, alg, kty } = jwk as Record<string, unknown>;
    if (typeof kid !== 'string' || kid.length === 0) continue; // tokens must name their key
    if (use !== undefined && use !== 'sig') continue;
    if (ops !== undefined && !(Array.isArray(ops) && ops.includes('verify'))) continue;
    if (kty !== 'RSA' && kty !== 'EC' && kty !== 'OKP') continue; // never symmetric ("oct") keys
    if ('d' in jwk) continue; // a private key published by mistake is not trusted either
    let key: KeyObject;
    try {
      key = createPublicKey({ key: jwk as import('node:crypto').JsonWebKey, format: 'jwk' });
    } catch {
      continue; // one malformed key does not spoil the others
    }
    const list = byKid.get(kid) ?? [];
    list.push({ kid, key, alg: typeof alg === 'string' ? alg : undefined });
    byKid.set(kid, list);
  }
  return { byKid };
}

export class IssuerClient {
  private readonly discovery: CachedResource<Discovery>;
  private readonly keys: CachedResource<KeySetSnapshot>;

  constructor(
    /** Normalized origin of the domain, e.g. `https://tenant.us.auth0.com`. */
    readonly origin: string,
    private readonly config: ResolvedConfig,
    private readonly emit: EventSink,
  ) {
    const timing = {
      maxAge: config.cacheMaxAge * 1000,
      maxStaleness: config.maxStaleness * 1000,
      minInterval: config.cooldown * 1000,
      retryInterval: Math.min(config.cooldown * 1000, 5000),
    };
    const discoveryUrl = `${origin}/.well-known/openid-configuration`;
    this.discovery = new CachedResource(() => this.loadDiscovery(discoveryUrl), timing, (age) =>
      this.emit({ type: 'stale_keys_served', url: discoveryUrl, ageSeconds: Math.round(age / 1000) }),
    );
    this.keys = new CachedResource(() => this.loadKeys(), timing, (age) =>
      this.emit({ type: 'stale_keys_served', url: this.discovery.peek()?.jwksUri ?? origin, ageSeconds: Math.round(age / 1000) }),
    );
  }

  /** The discovery document (cached). Throws a 503 AuthError when it cannot be had. */
  async getDiscovery(): Promise<Discovery> {
    try {
      return await this.discovery.get();
    } catch (error) {
      throw unavailable(error);
    }
  }

  /** The verification key for `kid` and `alg`. Unknown kids trigger at most one refetch per cooldown. */
  async getKey(kid: string, alg: Algorithm): Promise<KeyObject> {
    let snapshot: KeySetSnapshot;
    try {
      snapshot = await this.keys.get();
    } catch (error) {
      throw unavailable(error);
    }
    let candidates = snapshot.byKid.get(kid);
    if (!candidates) {
      let refreshed: boolean;
      try {
        refreshed = await this.keys.refreshIfAllowed();
      } catch (error) {
        throw unavailable(error);
      }
      if (refreshed) candidates = this.keys.peek()?.byKid.get(kid);
    }
    if (!candidates) throw new AuthError('invalid_token', 'No key matches the token kid', { reason: 'unknown_kid' });
    const fitting = candidates.filter((c) => (c.alg === undefined || c.alg === alg) && keyFitsAlgorithm(c.key, alg));
    if (fitting.length !== 1) throw new AuthError('invalid_token', 'The token alg does not match its key', { reason: 'key_alg_mismatch' });
    return fitting[0]!.key;
  }

  /**
   * True while `kid` is in a key set that may still be served (fresh, or stale within `maxStaleness`). The token
   * cache asks this on every hit: cached verdicts drop when their key leaves the set, and do not outlive the
   * staleness bound during an outage. A due refresh starts in the background, as for {@link getKey}.
   */
  hasKid(kid: string): boolean {
    return this.keys.usable()?.byKid.has(kid) ?? false;
  }

  private async loadDiscovery(url: string): Promise<Discovery> {
    try {
      const body = await fetchJson(url, this.fetchOptions());
      const issuer = httpsOrLoopback(body.issuer);
      // The issuer must be the configured domain itself (Auth0: `https://host/`): a document naming another
      // issuer is unusable, not a reason to trust that other issuer.
      if (!issuer || issuer.origin !== this.origin || (issuer.pathname !== '/' && issuer.pathname !== '') || issuer.search) {
        throw new ProviderFetchError(url, 'invalid', 'discovery "issuer" does not match the configured domain');
      }
      const jwksUri = httpsOrLoopback(body.jwks_uri);
      if (!jwksUri) throw new ProviderFetchError(url, 'invalid', 'discovery "jwks_uri" is missing or not https');
      const optionalUrl = (v: unknown) => httpsOrLoopback(v)?.href;
      return {
        issuer: body.issuer as string,
        jwksUri: jwksUri.href,
        tokenEndpoint: optionalUrl(body.token_endpoint),
        authorizationEndpoint: optionalUrl(body.authorization_endpoint),
      };
    } catch (error) {
      this.fault(url, error);
      throw error;
    }
  }

  private async loadKeys(): Promise<KeySetSnapshot> {
    const { jwksUri } = await this.discovery.get();
    try {
      const snapshot = parseKeySet(await fetchJson(jwksUri, this.fetchOptions()), jwksUri);
      this.emit({ type: 'keys_refreshed', url: jwksUri, keys: snapshot.byKid.size });
      return snapshot;
    } catch (error) {
      this.fault(jwksUri, error);
      throw error;
    }
  }

  private fetchOptions() {
    return { fetch: this.config.fetch, timeout: this.config.timeout, maxBytes: this.config.maxResponseBytes };
  }

  private fault(url: string, error: unknown): void {
    const reason = error instanceof ProviderFetchError ? error.reason : 'network';
    this.emit({ type: 'provider_fetch_failed', url, reason, detail: String((error as Error)?.message ?? error) });
  }
}

function unavailable(error: unknown): AuthError {
  if (error instanceof AuthError) return error;
  const retryMs = error instanceof Unavailable ? error.retryAfterMs : 5000;
  return new AuthError('temporarily_unavailable', 'The authorization server is unavailable; try again later', {
    reason: 'provider_unavailable',
    retryAfter: Math.max(1, Math.ceil(retryMs / 1000)),
    cause: error,
  });
}
