/**
 * Which identity provider a token may come from, and one {@link IssuerClient} per provider.
 *
 * Tokens never choose which server is contacted: with several domains, the token's unverified `iss` must be on the
 * list (or allowed by the resolver for this request) before any request is made. Pool size: a static list is held
 * whole, so tokens naming different issuers cannot evict each other's keys and cooldowns; with a resolver, at most
 * {@link MAX_RESOLVED_ISSUERS} clients are kept, and the time each origin was last loaded from cold is remembered
 * outside that cache, so churn cannot bypass the JWKS cooldown (issue churn → 503 with the real wait, not a fetch).
 */
import { AuthError } from '../errors.js';
import { IssuerClient, unavailable, type IssuerClientOptions, type IssuerClientSettings } from './issuer.js';
import { isLoopbackHost, normalizeDomain, type DomainSource } from './domain.js';
import type { RequestHeaders } from '../http/credentials.js';
import type { EventSink } from '../observability/events.js';
import type { Telemetry } from '../observability/telemetry.js';

/** Issuer clients kept at once when a resolver supplies the domains. */
export const MAX_RESOLVED_ISSUERS = 100;

/** The pool's slice of the configuration: where issuers come from, and how their clients fetch. */
export interface IssuerPoolSettings {
  domains: DomainSource;
  issuer: IssuerClientSettings;
}

/** Where the pool and its clients report: provider faults and resolver failures (`onEvent`), JWKS fetches (telemetry). */
export interface IssuerReporting {
  emit: EventSink;
  telemetry: Telemetry;
}

/** What a domains resolver is told about the request. */
export interface IssuerRequest {
  url: string;
  headers: RequestHeaders;
}

/** Rejects when `promise` does not settle within `ms` (a resolver that hangs must not hang requests). */
function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** The origin of an `iss` value that could name an allowed domain (https, or http on loopback; no path). */
export function issuerOrigin(iss: unknown): string | undefined {
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

/** Selects and holds issuer clients. */
export class IssuerPool {
  private readonly clients = new Map<string, IssuerClient>();
  /** Resolver mode: origin → when its client was last created (ms), kept beyond the client's eviction. */
  private readonly coldLoads = new Map<string, number>();
  private readonly domains: DomainSource;
  private readonly clientOptions: IssuerClientOptions;
  private readonly emit: EventSink;

  constructor(settings: IssuerPoolSettings, reporting: IssuerReporting) {
    this.domains = settings.domains;
    this.clientOptions = { ...settings.issuer, telemetry: reporting.telemetry };
    this.emit = reporting.emit;
  }

  /** The origins of the configured domains (none with a resolver). */
  configuredOrigins(): readonly string[] {
    const { domains } = this;
    return domains.kind === 'single' ? [domains.origin] : domains.kind === 'list' ? domains.origins : [];
  }

  /** The client for the issuer a token names, if it may be used for this request. Throws 401 or 503. */
  async select(unverifiedIss: unknown, request: IssuerRequest): Promise<IssuerClient> {
    const { domains } = this;
    if (domains.kind === 'single') return this.client(domains.origin);
    const origin = issuerOrigin(unverifiedIss);
    if (!origin) throw new AuthError('invalid_token', 'token.iss_not_allowed', 'The access token issuer is not accepted');
    const allowed = domains.kind === 'list' ? domains.origins : await this.resolve(origin, request);
    if (!allowed.includes(origin)) throw new AuthError('invalid_token', 'token.iss_not_allowed', 'The access token issuer is not accepted');
    return this.client(origin);
  }

  /**
   * The client of a verified token's `iss` (its signature and issuer already checked): the only domain; the configured
   * domain it names; with a resolver, the client the pool holds since the resolver accepted that issuer. Undefined for
   * any other `iss`: unlike {@link select}, this never asks the resolver nor creates a client for a new issuer.
   */
  verifiedClient(iss: unknown): IssuerClient | undefined {
    const { domains } = this;
    if (domains.kind === 'single') return this.client(domains.origin);
    const origin = issuerOrigin(iss);
    if (origin === undefined) return undefined;
    if (domains.kind === 'list') return domains.origins.includes(origin) ? this.client(origin) : undefined;
    return this.peek(origin);
  }

  /**
   * Loads discovery and keys of every configured domain (none with a resolver: its domains are known per request).
   * Rejects with the first 503 AuthError when a provider cannot be reached; the others are still loaded.
   */
  async ready(): Promise<void> {
    const results = await Promise.allSettled(this.configuredOrigins().map((origin) => this.client(origin).ready()));
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
  }

  /** The client for `origin` if one exists (never creates one). */
  peek(origin: string): IssuerClient | undefined {
    return this.used(origin, this.clients.get(origin));
  }

  /** The client for a configured origin, created on first use. */
  client(origin: string): IssuerClient {
    const existing = this.used(origin, this.clients.get(origin));
    if (existing) return existing;
    if (this.domains.kind === 'resolver') this.admitResolved(origin);
    const created = new IssuerClient(origin, this.clientOptions, this.emit);
    this.clients.set(origin, created);
    return created;
  }

  /**
   * Resolver mode: a client in use moves to the back of the eviction order (least recently used goes first), so
   * tokens naming many other allowed issuers — forged ones need no valid signature — cannot evict a busy issuer.
   */
  private used(origin: string, client: IssuerClient | undefined): IssuerClient | undefined {
    if (client !== undefined && this.domains.kind === 'resolver') {
      this.clients.delete(origin);
      this.clients.set(origin, client);
    }
    return client;
  }

  /** Resolver mode: bounded pool, and no cold reload of an origin within the cooldown. */
  private admitResolved(origin: string): void {
    const now = Date.now();
    const cooldownMs = this.clientOptions.cooldown * 1000;
    const last = this.coldLoads.get(origin);
    if (last !== undefined && now - last < cooldownMs) {
      throw unavailable(new Error(`issuer ${origin} was loaded ${now - last} ms ago (cooldown)`), cooldownMs - (now - last));
    }
    if (this.clients.size >= MAX_RESOLVED_ISSUERS) this.clients.delete(this.clients.keys().next().value as string);
    this.coldLoads.set(origin, now);
    // Bounded too: entries older than the cooldown no longer matter.
    if (this.coldLoads.size > 4 * MAX_RESOLVED_ISSUERS) {
      for (const [o, at] of this.coldLoads) if (now - at >= cooldownMs) this.coldLoads.delete(o);
    }
  }

  private async resolve(origin: string, request: IssuerRequest): Promise<readonly string[]> {
    const { domains } = this;
    if (domains.kind !== 'resolver') return [];
    try {
      const result = await withTimeout(Promise.resolve(domains.resolve({ url: request.url, headers: request.headers, unverifiedIssuer: origin })), this.clientOptions.timeout);
      if (!Array.isArray(result)) throw new Error('resolver did not return a list');
      return result.map((d) => normalizeDomain(d, 'domains'));
    } catch (error) {
      this.emit({ type: 'domains_resolver_failed', detail: String((error as Error)?.message ?? error) });
      throw new AuthError('temporarily_unavailable', 'domains_resolver.failed', 'The API cannot check the token issuer right now; try again later', { retryAfter: 5, cause: error });
    }
  }
}
