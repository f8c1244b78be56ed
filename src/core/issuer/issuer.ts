/**
 * One identity provider: its discovery document and its key set (JWKS), fetched over HTTPS, cached, refreshed,
 * and served stale while the provider is down. Keys are imported once (bounded, see jws.ts) and kept by `kid`, each
 * with the RFC 7638 thumbprint of its material.
 */
import type { KeyObject } from 'node:crypto';
import { AuthError, ProviderFetchError } from '../errors.js';
import { CachedResource, Unavailable } from './cached-resource.js';
import { fetchJson } from './fetch-json.js';
import { importPublicJwk, ISSUER_KEY_BOUNDS, keyFitsAlgorithm, type Algorithm } from '../token/jws.js';
import { isLoopbackHost } from './domain.js';
import type { EventSink } from '../observability/events.js';
import { loopbackIssuerFix } from '../observability/diagnostics.js';
import type { Telemetry } from '../observability/telemetry.js';

/** What a resource server uses of a discovery document. */
export interface Discovery {
  issuer: string;
  jwksUri: string;
  tokenEndpoint: string | undefined;
  authorizationEndpoint: string | undefined;
}

/** A verification key from the key set. */
export interface IssuerKey {
  kid: string;
  key: KeyObject;
  /** RFC 7638 thumbprint: identifies the key material (a reused `kid` with new material has a new thumbprint). */
  thumbprint: string;
  alg: string | undefined;
}

interface KeySetSnapshot {
  byKid: Map<string, IssuerKey[]>;
}

/** The settings an issuer client uses (resolved from the API options): data only. */
export interface IssuerClientSettings {
  fetch: typeof fetch;
  /** ms per request. */
  timeout: number;
  maxResponseBytes: number;
  /** Seconds: refresh after, serve stale up to, and refetch for unknown kids at most once per. */
  cacheMaxAge: number;
  maxStaleness: number;
  cooldown: number;
}

/** The settings and the telemetry of an issuer client. */
export interface IssuerClientOptions extends IssuerClientSettings {
  /** Counts key-set fetches (`auth.jwks.fetches`) and traces them. */
  telemetry: Telemetry;
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

function parseKeySet(body: Record<string, unknown>, url: string): KeySetSnapshot {
  if (!Array.isArray(body.keys)) throw new ProviderFetchError(url, 'invalid', 'no "keys" array');
  const byKid = new Map<string, IssuerKey[]>();
  for (const jwk of body.keys.slice(0, MAX_KEYS)) {
    if (jwk === null || typeof jwk !== 'object') continue;
    const { kid, use, key_ops: ops, alg } = jwk as Record<string, unknown>;
    if (typeof kid !== 'string' || kid.length === 0) continue; // tokens must name their key
    if (use !== undefined && use !== 'sig') continue;
    if (ops !== undefined && !(Array.isArray(ops) && ops.includes('verify'))) continue;
    let imported;
    try {
      // Never symmetric ("oct") keys, never a private key published by mistake, bounded sizes.
      imported = importPublicJwk(jwk, ISSUER_KEY_BOUNDS);
    } catch {
      continue; // one unusable key does not spoil the others
    }
    const list = byKid.get(kid) ?? [];
    list.push({ kid, key: imported.key, thumbprint: imported.thumbprint, alg: typeof alg === 'string' ? alg : undefined });
    byKid.set(kid, list);
  }
  return { byKid };
}

/** The one key of `candidates` that may verify `alg`, or undefined (none, or ambiguous). */
function fittingKey(candidates: IssuerKey[] | undefined, alg: Algorithm): IssuerKey | undefined {
  if (candidates === undefined) return undefined;
  let found: IssuerKey | undefined;
  for (const c of candidates) {
    if ((c.alg === undefined || c.alg === alg) && keyFitsAlgorithm(c.key, alg)) {
      if (found !== undefined) return undefined;
      found = c;
    }
  }
  return found;
}

/** Discovery and keys of one identity provider. */
export class IssuerClient {
  private readonly discovery: CachedResource<Discovery>;
  private readonly keys: CachedResource<KeySetSnapshot>;

  constructor(
    /** Normalized origin of the domain, e.g. `https://tenant.us.auth0.com`. */
    readonly origin: string,
    private readonly options: IssuerClientOptions,
    private readonly emit: EventSink,
  ) {
    const timing = {
      maxAge: options.cacheMaxAge * 1000,
      maxStaleness: options.maxStaleness * 1000,
      minInterval: options.cooldown * 1000,
      retryInterval: Math.min(options.cooldown * 1000, 5000),
    };
    const discoveryUrl = `${origin}/.well-known/openid-configuration`;
    this.discovery = new CachedResource(
      () => this.loadDiscovery(discoveryUrl),
      timing,
      (age) => this.emit({ type: 'stale_keys_served', url: discoveryUrl, ageSeconds: Math.round(age / 1000) }),
    );
    this.keys = new CachedResource(
      () => this.loadKeys(),
      timing,
      (age) => this.emit({ type: 'stale_keys_served', url: this.discovery.peek()?.jwksUri ?? origin, ageSeconds: Math.round(age / 1000) }),
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

  /**
   * The discovery document {@link getDiscovery} would give now without waiting (fresh, or stale within
   * `maxStaleness`), or undefined when it has to be loaded. Never waits.
   */
  discoveryNow(): Discovery | undefined {
    return this.discovery.usable();
  }

  /**
   * Loads the discovery document and the key set now (the `ready()` of an API), so that the first request waits for
   * neither. Rejects with the same 503 AuthError a request would get while the provider cannot be reached.
   */
  async ready(): Promise<void> {
    try {
      await this.discovery.get();
      await this.keys.get();
    } catch (error) {
      throw unavailable(error);
    }
  }

  /** The discovery document if one is loaded (fresh or stale); never fetches. */
  peekDiscovery(): Discovery | undefined {
    return this.discovery.peek();
  }

  /** The verification key for `kid` and `alg`. Unknown kids trigger at most one refetch per cooldown. */
  async getKey(kid: string, alg: Algorithm): Promise<IssuerKey> {
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
    if (!candidates) throw new AuthError('invalid_token', 'token.unknown_kid', 'No key matches the token kid');
    const key = fittingKey(candidates, alg);
    if (key === undefined) throw new AuthError('invalid_token', 'token.key_alg_mismatch', 'The token alg does not match its key');
    return key;
  }

  /**
   * The key {@link getKey} would pick now, from a key set that may still be served (fresh, or stale within
   * `maxStaleness`), without waiting: the token cache compares it with the key a cached verdict was made with, so
   * that a verdict drops when its key leaves the set or its material changes under the same `kid`. A due refresh
   * starts in the background.
   */
  currentKey(kid: string, alg: Algorithm): IssuerKey | undefined {
    return fittingKey(this.keys.usable()?.byKid.get(kid), alg);
  }

  private async loadDiscovery(url: string): Promise<Discovery> {
    try {
      const body = await fetchJson(url, this.fetchOptions());
      const issuer = httpsOrLoopback(body.issuer);
      // The issuer must be the configured domain itself (Auth0: `https://host/`): a document naming another
      // issuer is unusable, not a reason to trust that other issuer.
      if (!issuer || issuer.origin !== this.origin || (issuer.pathname !== '/' && issuer.pathname !== '') || issuer.search) {
        const fix = issuer ? loopbackIssuerFix(this.origin, issuer) : undefined;
        throw new ProviderFetchError(url, 'invalid', fix ?? 'discovery "issuer" does not match the configured domain');
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
    const fetched = this.options.telemetry.startJwksFetch(jwksUri);
    try {
      const snapshot = parseKeySet(await fetchJson(jwksUri, this.fetchOptions()), jwksUri);
      fetched.done(true);
      this.emit({ type: 'keys_refreshed', url: jwksUri, keys: snapshot.byKid.size });
      return snapshot;
    } catch (error) {
      fetched.done(false, error);
      this.fault(jwksUri, error);
      throw error;
    }
  }

  private fetchOptions() {
    return { fetch: this.options.fetch, timeout: this.options.timeout, maxBytes: this.options.maxResponseBytes };
  }

  private fault(url: string, error: unknown): void {
    const reason = error instanceof ProviderFetchError ? error.reason : 'network';
    this.emit({ type: 'provider_fetch_failed', url, reason, detail: String((error as Error)?.message ?? error) });
  }
}

/** The 503 for an identity provider that cannot be used, with the real wait as `Retry-After`. */
export function unavailable(error: unknown, retryMs?: number): AuthError {
  if (error instanceof AuthError) return error;
  const wait = retryMs ?? (error instanceof Unavailable ? error.retryAfterMs : 5000);
  return new AuthError('temporarily_unavailable', 'provider.unavailable', 'The authorization server is unavailable; try again later', {
    retryAfter: Math.max(1, Math.ceil(wait / 1000)),
    cause: error,
  });
}
