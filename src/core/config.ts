/**
 * Options, their defaults, and the checks that make misconfiguration fail at start-up with one clear line.
 * Configuration is data: nothing is built here (services.ts builds the stores, the nonces, the event sink and the
 * telemetry from it, once per validator).
 */
import { ConfigurationError } from './errors.js';
import { SUPPORTED_ALGORITHMS, type Algorithm } from './token/jws.js';
import type { ReplayStore } from './dpop/replay-store.js';
import { nonceSecret, type NonceOptions } from './dpop/nonce.js';
import type { AuthEvent } from './observability/events.js';
import type { IssuerClientSettings } from './issuer/issuer.js';
import type { MtlsMode } from './token/confirmation.js';
import type { TokenVerifierSettings } from './token/token-verifier.js';
import type { DpopSettings } from './dpop/dpop.js';
import { resolvePolicies, type ResolvedPolicy } from './authorization/policies.js';
import type { ApiOptions, DpopMode, ScopeClaim } from './options.js';
import { describe, normalizeDomain, type DomainSource } from './issuer/domain.js';

export { SUPPORTED_ALGORITHMS, type Algorithm };
export type { ApiOptions, DomainsResolver, DomainsResolverContext, DpopMode, DpopOptions, MtlsOptions, ScopeClaim } from './options.js';
export { isLoopbackHost, normalizeDomain, type DomainSource } from './issuer/domain.js';

/** DPoP settings with defaults applied: the verifier's (dpop.ts) and what services.ts builds its parts from. */
export interface ResolvedDpop extends Omit<DpopSettings, 'clockTolerance'> {
  mode: DpopMode;
  /** The application's replay store, checked; undefined for the default (an in-memory store, built by services.ts). */
  replayStore: ReplayStore | undefined;
  /** The `dpop.nonce` option, checked (`true` is `{}`); undefined when nonces are off. */
  nonce: NonceOptions | undefined;
}

/**
 * Every option resolved once, with defaults applied: plain data, what the validator and the adapters read. The token
 * verifier's settings (domains, audiences, algorithms, clock, strictness, cache size) are declared with it.
 */
export interface ResolvedConfig extends TokenVerifierSettings {
  scopeClaim: ScopeClaim;
  scopes: Readonly<Record<string, string>>;
  /** What issuer clients use (fetch, timeouts, cache timing). */
  issuer: IssuerClientSettings;
  dpop: ResolvedDpop;
  mtls: { mode: MtlsMode };
  publicUrl: URL | undefined;
  resourceMetadataPath: string | undefined;
  /** The `policies` option, checked. */
  policies: ReadonlyMap<string, ResolvedPolicy>;
  /** The `onEvent` hook, checked (services.ts makes it safe: a throwing hook never changes a verdict). */
  onEvent: ((event: AuthEvent) => void) | undefined;
}

/** A static list is held whole (no eviction, see issuer-pool.ts); beyond this, use a resolver. */
export const MAX_STATIC_DOMAINS = 1000;

type Unit = 'seconds' | 'milliseconds' | 'bytes';

function positive(option: string, value: number | undefined, fallback: number, allowZero = false, unit: Unit = 'seconds'): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || (!allowZero && value === 0)) {
    throw new ConfigurationError(option, `expected a ${allowZero ? 'non-negative' : 'positive'} number of ${unit}, got ${describe(value)}`);
  }
  return value;
}

// Array.isArray narrows a readonly array to any[]; this keeps the element type.
const isList = Array.isArray as (value: unknown) => value is readonly unknown[];

function algorithmList(option: string, value: readonly string[] | undefined, fallback: Algorithm[]): Algorithm[] {
  if (value === undefined) return fallback;
  if (!isList(value) || value.length === 0) throw new ConfigurationError(option, `expected a non-empty list such as ["${fallback[0]}"]`);
  for (const alg of value) {
    if (typeof alg !== 'string' || /^(none|HS\d+)$/i.test(alg)) {
      throw new ConfigurationError(option, `"${String(alg)}" is refused: only asymmetric algorithms (e.g. RS256, ES256) are allowed`);
    }
    if (!(SUPPORTED_ALGORITHMS as readonly string[]).includes(alg)) {
      throw new ConfigurationError(option, `"${alg}" is not supported; use one of ${SUPPORTED_ALGORITHMS.join(', ')}`);
    }
  }
  return [...value] as Algorithm[];
}

const KNOWN_OPTIONS = new Set([
  'domain',
  'domains',
  'audience',
  'algorithms',
  'clockTolerance',
  'maxTokenAge',
  'strict',
  'scopeClaim',
  'scopes',
  'fetch',
  'timeout',
  'cooldown',
  'cacheMaxAge',
  'maxStaleness',
  'maxResponseBytes',
  'dpop',
  'mtls',
  'publicUrl',
  'resourceMetadataPath',
  'tokenCache',
  'onEvent',
  'policies',
  'tokenExchange',
]);
const KNOWN_DPOP_OPTIONS = new Set(['mode', 'algorithms', 'iatLeeway', 'iatOffset', 'replayStore', 'nonce', 'onStoreError']);

/** A misspelt or removed option must not be silently ignored: a security setting that does nothing is worse than an error. */
function checkKnown(options: object, known: ReadonlySet<string>, prefix: string): void {
  for (const name of Object.keys(options)) {
    if (known.has(name)) continue;
    throw new ConfigurationError(`${prefix}${name}`, `is not an option; the options are ${[...known].join(', ')}`);
  }
}

function domainSource(options: ApiOptions): DomainSource {
  if (options.domains === undefined) return { kind: 'single', origin: normalizeDomain(options.domain, 'domain') };
  if (typeof options.domains !== 'function' && (!Array.isArray(options.domains) || options.domains.length === 0)) {
    throw new ConfigurationError('domains', 'expected a non-empty list of domains or a resolver function (is AUTH0_DOMAINS set?)');
  }
  if (options.domain !== undefined) throw new ConfigurationError('domains', 'give either "domain" or "domains", not both');
  if (typeof options.domains === 'function') return { kind: 'resolver', resolve: options.domains };
  if (options.domains.length > MAX_STATIC_DOMAINS) {
    throw new ConfigurationError('domains', `lists ${options.domains.length} domains; at most ${MAX_STATIC_DOMAINS} are held at once: use a resolver function`);
  }
  return { kind: 'list', origins: [...new Set(options.domains.map((d) => normalizeDomain(d, 'domains')))] };
}

function nonceOptions(nonce: NonceOptions | boolean | undefined): NonceOptions | undefined {
  if (nonce === undefined || nonce === false) return undefined;
  if (nonce !== true && (nonce === null || typeof nonce !== 'object')) throw new ConfigurationError('dpop.nonce', 'expected true, false or { secret } / { redis }');
  if (nonce === true) return {};
  if (nonce.secret !== undefined) nonceSecret(nonce.secret);
  return nonce;
}

function replayStore(store: ReplayStore | undefined): ReplayStore | undefined {
  if (store === undefined) return undefined;
  if (store === null || typeof store.checkAndRemember !== 'function') {
    throw new ConfigurationError('dpop.replayStore', 'expected a replay store such as new RedisReplayStore(redis) (an object with checkAndRemember(record))');
  }
  return store;
}

/** Validates options and applies defaults. Throws {@link ConfigurationError} naming the option and the fix. */
export function resolveConfig(options: ApiOptions): ResolvedConfig {
  if (options === null || typeof options !== 'object') throw new ConfigurationError('options', 'expected an object with at least "domain" and "audience"');
  checkKnown(options, KNOWN_OPTIONS, '');
  const domains = domainSource(options);

  const audienceList = typeof options.audience === 'string' ? [options.audience] : options.audience;
  if (!isList(audienceList) || audienceList.length === 0 || audienceList.some((a) => typeof a !== 'string' || a.trim() === '' || a === 'undefined')) {
    throw new ConfigurationError('audience', `expected your API identifier such as "https://api.example.com", got ${describe(options.audience)} (is AUTH0_AUDIENCE set?)`);
  }

  const scopeClaim = options.scopeClaim ?? 'scope';
  if (!['scope', 'permissions', 'scope,permissions'].includes(scopeClaim)) {
    throw new ConfigurationError('scopeClaim', `expected "scope", "permissions" or "scope,permissions", got ${describe(scopeClaim)}`);
  }
  if (options.scopes !== undefined && (options.scopes === null || typeof options.scopes !== 'object' || Object.values(options.scopes).some((d) => typeof d !== 'string'))) {
    throw new ConfigurationError('scopes', 'expected an object of scope name → description, e.g. { "read:messages": "Read messages" }');
  }

  const dpop = options.dpop ?? {};
  if (dpop === null || typeof dpop !== 'object') throw new ConfigurationError('dpop', 'expected an object such as { mode: "allowed" }');
  checkKnown(dpop, KNOWN_DPOP_OPTIONS, 'dpop.');
  const mode = dpop.mode ?? 'allowed';
  if (!['allowed', 'required', 'disabled'].includes(mode)) {
    throw new ConfigurationError('dpop.mode', `expected "allowed", "required" or "disabled", got ${describe(mode)}`);
  }
  const onStoreError = dpop.onStoreError ?? 'reject';
  if (onStoreError !== 'reject' && onStoreError !== 'accept') throw new ConfigurationError('dpop.onStoreError', 'expected "reject" or "accept"');

  const mtlsMode = options.mtls?.mode ?? 'disabled';
  if (!['allowed', 'required', 'disabled'].includes(mtlsMode)) {
    throw new ConfigurationError('mtls.mode', `expected "allowed", "required" or "disabled", got ${describe(mtlsMode)}`);
  }

  let publicUrl: URL | undefined;
  if (options.publicUrl !== undefined) {
    try {
      publicUrl = new URL(options.publicUrl);
    } catch {
      throw new ConfigurationError('publicUrl', `"${options.publicUrl}" is not an absolute URL; use e.g. "https://api.example.com"`);
    }
    if (publicUrl.protocol !== 'https:' && publicUrl.protocol !== 'http:') throw new ConfigurationError('publicUrl', 'expected an http(s) URL');
    if (publicUrl.search || publicUrl.hash) throw new ConfigurationError('publicUrl', 'must not have a query or fragment');
  }

  if (options.fetch !== undefined && typeof options.fetch !== 'function') throw new ConfigurationError('fetch', 'expected a fetch-compatible function');
  if (options.onEvent !== undefined && typeof options.onEvent !== 'function') throw new ConfigurationError('onEvent', 'expected a function');
  const metadataPath = options.resourceMetadataPath === false ? undefined : (options.resourceMetadataPath ?? '/.well-known/oauth-protected-resource');
  if (metadataPath !== undefined && (typeof metadataPath !== 'string' || !metadataPath.startsWith('/'))) {
    throw new ConfigurationError('resourceMetadataPath', 'expected a path starting with "/" (or false)');
  }

  const tokenCache = options.tokenCache ?? true;
  // 2,000 tokens (≈ 3 MB): the tokens in active use by a few thousand clients; a miss costs one signature check.
  const tokenCacheSize = tokenCache === false ? 0 : typeof tokenCache === 'object' ? (tokenCache.maxEntries ?? 2_000) : 2_000;
  if (!Number.isInteger(tokenCacheSize) || tokenCacheSize < 0) throw new ConfigurationError('tokenCache.maxEntries', 'expected a non-negative integer');

  return {
    domains,
    audiences: audienceList.map((a) => a.trim()),
    algorithms: algorithmList('algorithms', options.algorithms, ['RS256']),
    clockTolerance: positive('clockTolerance', options.clockTolerance, 5, true),
    maxTokenAge: options.maxTokenAge === undefined ? undefined : positive('maxTokenAge', options.maxTokenAge, 0),
    strict: options.strict === true,
    scopeClaim,
    scopes: { ...(options.scopes ?? {}) },
    issuer: {
      fetch: options.fetch ?? globalThis.fetch,
      timeout: positive('timeout', options.timeout, 5000, false, 'milliseconds'),
      cooldown: positive('cooldown', options.cooldown, 30, true),
      cacheMaxAge: positive('cacheMaxAge', options.cacheMaxAge, 600),
      maxStaleness: positive('maxStaleness', options.maxStaleness, 3600, true),
      maxResponseBytes: positive('maxResponseBytes', options.maxResponseBytes, 1024 * 1024, false, 'bytes'),
    },
    dpop: {
      mode,
      algorithms: algorithmList('dpop.algorithms', dpop.algorithms, ['ES256']),
      iatLeeway: positive('dpop.iatLeeway', dpop.iatLeeway, 30, true),
      iatOffset: positive('dpop.iatOffset', dpop.iatOffset, 300),
      onStoreError,
      replayStore: replayStore(dpop.replayStore),
      nonce: nonceOptions(dpop.nonce),
    },
    mtls: { mode: mtlsMode },
    publicUrl,
    resourceMetadataPath: metadataPath,
    tokenCacheSize,
    policies: resolvePolicies(options.policies),
    onEvent: options.onEvent,
  };
}
