/**
 * Calling a downstream API on the caller's behalf: OAuth 2.0 Token Exchange (RFC 8693) from a verified request,
 * framework-free (docs/decisions.md D24).
 *
 * - The request goes to the `token_endpoint` of the issuer's discovery document, never to a URL found in a token.
 * - The API authenticates as its own client: a client secret (HTTP Basic, RFC 6749 §2.3.1) or a private-key JWT
 *   assertion (RFC 7523 §2.2, `private_key_jwt`), signed with node:crypto.
 * - Exchanged tokens are cached per (caller token, audience, scope) until 30 s before they expire, in a bounded map
 *   whose keys are an HMAC of that tuple under a per-process random key (fixed length, not chosen by callers). Another
 *   caller token, even of the same user, never shares an entry; concurrent requests with the same caller token share
 *   one exchange in flight.
 * - Failures: the token endpoint unreachable, timing out or answering 5xx → an {@link AuthError}
 *   `temporarily_unavailable` (503 with `Retry-After`); a refusal (4xx) or an unusable answer → a
 *   {@link TokenExchangeError}. Neither carries a token or the endpoint's text. Each failed exchange is one
 *   `token_exchange_failed` event, sent where the failure is decided.
 */
import { readCappedText } from './read-capped.js';
import { createHmac, createPrivateKey, randomBytes, randomUUID, sign, type KeyObject, type JsonWebKey } from 'node:crypto';
import { AuthError, ConfigurationError } from '../errors.js';
import type { Telemetry } from '../observability/telemetry.js';
import type { EventSink, TokenExchangeFailedEvent } from '../observability/events.js';
import type { ClientAssertionAlgorithm, TokenExchangeOptions } from '../options.js';

export type { ClientAssertionAlgorithm, TokenExchangeOptions };

/** RFC 8693 §2.1 and §3. */
const GRANT_TYPE = 'urn:ietf:params:oauth:grant-type:token-exchange';
const ACCESS_TOKEN_TYPE = 'urn:ietf:params:oauth:token-type:access_token';
/** RFC 7523 §2.2. */
const JWT_BEARER_ASSERTION = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';

/** An exchanged token is not reused in its last 30 seconds (docs/decisions.md D24). */
const REFRESH_BEFORE_MS = 30_000;
const DEFAULT_MAX_ENTRIES = 1000;
const DEFAULT_TIMEOUT_MS = 5000;
const DEFAULT_RETRY_AFTER = 5;
const MAX_RETRY_AFTER = 300;
const MAX_RESPONSE_BYTES = 64 * 1024;
/** A client assertion lives one minute (RFC 7523 §3: a short `exp`). */
const ASSERTION_TTL = 60;

/** What to exchange the caller's token for. */
export interface ExchangeRequest {
  /** The downstream API's identifier (RFC 8693 `audience`). */
  audience: string;
  /** Scopes to request (space-separated or a list); none by default. */
  scope?: string | readonly string[] | undefined;
}

/** The caller's verified token: its text and its `exp` (an entry never outlives it). */
export interface SubjectToken {
  /** The caller's access token, as sent. */
  token: string;
  /** Its verified claims: `iss` picks the issuer whose token endpoint exchanges it; `exp` bounds how long an exchanged token is reused for it. */
  claims: { exp?: unknown; iss?: unknown };
}

/** Why the authorization server did not give a usable token (never its raw text). */
export type TokenExchangeFailure = 'refused' | 'invalid_response';

/**
 * The token endpoint refused the exchange (4xx), or answered something unusable. Map it to your answer (the demo
 * answers 502 `token_exchange_failed`); it never carries a token or the endpoint's text.
 */
export class TokenExchangeError extends Error {
  /** The error's class name, TokenExchangeError (stable: safe to compare). */
  override readonly name = 'TokenExchangeError';
  /** Stable code, for response bodies. */
  readonly code = 'token_exchange_failed';
  /** `refused`: a 4xx answer; `invalid_response`: a 2xx without a usable Bearer access token, or a redirect. */
  readonly failure: TokenExchangeFailure;
  /** The token endpoint's HTTP status. */
  readonly upstreamStatus: number;
  /** The RFC 6749 §5.2 `error` code of a refusal when it is a plain code (e.g. `invalid_target`), for logs. */
  readonly upstreamError: string | undefined;
  constructor(failure: TokenExchangeFailure, upstreamStatus: number, upstreamError?: string) {
    super(failure === 'refused' ? 'The authorization server refused the token exchange' : 'The authorization server answered the token exchange with no usable access token');
    this.failure = failure;
    this.upstreamStatus = upstreamStatus;
    this.upstreamError = upstreamError;
  }
}

interface CacheEntry {
  accessToken: string;
  /** Milliseconds: reuse until then (30 s before expiry, and never past the caller token's `exp`). */
  reuseUntil: number;
}

interface Issued {
  accessToken: string;
  /** Milliseconds since the epoch, or undefined when the answer has no `expires_in` (then not cached). */
  expiresAt: number | undefined;
}

type ClientAuthentication = { kind: 'secret'; basic: string } | { kind: 'private_key_jwt'; key: KeyObject; alg: ClientAssertionAlgorithm; keyId: string | undefined };

/** What the exchanger needs from the API it serves. */
export interface TokenExchangeDependencies {
  /**
   * The discovered `token_endpoint` of the issuer of the caller's verified token (undefined when there is none);
   * rejects with a 503 AuthError when discovery fails.
   */
  tokenEndpoint: (subject: SubjectToken) => Promise<string | undefined>;
  /** The fetch of the API's `fetch` option. */
  fetch?: typeof fetch | undefined;
  /** The API's telemetry (the validator's `telemetry`): spans and counts of exchanges. Set by the validator. @internal */
  telemetry?: Telemetry | undefined;
  /** The API's `onEvent` sink: a `token_exchange_failed` event per failed exchange. Set by the validator. @internal */
  emit?: EventSink | undefined;
  /** Milliseconds since the epoch (tests of expiry). */
  now?: () => number;
}

/** Exchanges verified caller tokens for downstream tokens, with a bounded cache. Create it with `createTokenExchanger`. */
export class TokenExchanger {
  private readonly clientId: string;
  private readonly auth: ClientAuthentication;
  private readonly subjectTokenType: string;
  private readonly timeout: number;
  private readonly maxEntries: number;
  private readonly fetch: typeof fetch;
  private readonly now: () => number;
  /** Per-process key of the cache's HMAC: keys cannot be predicted or chosen from outside. */
  private readonly hmacKey = randomBytes(32);
  /** Insertion order is recency order: a hit moves its entry to the end; the first entry is evicted first. */
  private readonly entries = new Map<string, CacheEntry>();
  private readonly inFlight = new Map<string, Promise<Issued>>();

  constructor(
    options: TokenExchangeOptions,
    private readonly dependencies: TokenExchangeDependencies,
  ) {
    const resolved = resolveOptions(options);
    this.clientId = resolved.clientId;
    this.auth = resolved.auth;
    this.subjectTokenType = resolved.subjectTokenType;
    this.timeout = resolved.timeout;
    this.maxEntries = resolved.maxEntries;
    this.fetch = options.fetch ?? dependencies.fetch ?? globalThis.fetch;
    this.now = dependencies.now ?? Date.now;
  }

  /** Entries held (diagnostics and the load run). */
  get size(): number {
    return this.entries.size;
  }

  /**
   * The downstream access token for `subject` (the caller's verified token) and `request`: from the cache, from an
   * exchange already in flight for the same caller token, or from a new exchange.
   */
  async exchange(subject: SubjectToken, request: ExchangeRequest): Promise<string> {
    const audience = checkAudience(request.audience);
    const scope = scopeText(request.scope);
    const key = this.cacheKey(subject.token, audience, scope);
    const record = this.dependencies.telemetry?.startTokenExchange();
    const cached = this.lookup(key);
    if (cached !== undefined) {
      record?.done('cached');
      return cached;
    }
    let pending = this.inFlight.get(key);
    const joined = pending !== undefined;
    if (pending === undefined) {
      pending = this.request(subject, audience, scope).then(
        (issued) => {
          this.inFlight.delete(key);
          this.store(key, issued, subject.claims.exp);
          return issued;
        },
        (error: unknown) => {
          this.inFlight.delete(key);
          throw error;
        },
      );
      this.inFlight.set(key, pending);
    }
    try {
      const issued = await pending;
      record?.done(joined ? 'cached' : 'success');
      return issued.accessToken;
    } catch (error) {
      record?.done('failure', error);
      throw error;
    }
  }

  private cacheKey(token: string, audience: string, scope: string | undefined): string {
    // NUL cannot occur in a token, an audience URI or scopes: the tuple is unambiguous.
    return createHmac('sha256', this.hmacKey)
      .update(`${token}\0${audience}\0${scope ?? ''}`)
      .digest('base64url');
  }

  private lookup(key: string): string | undefined {
    const entry = this.entries.get(key);
    if (entry === undefined) return undefined;
    this.entries.delete(key);
    if (this.now() >= entry.reuseUntil) return undefined;
    this.entries.set(key, entry); // most recently used
    return entry.accessToken;
  }

  private store(key: string, issued: Issued, callerExp: unknown): void {
    if (this.maxEntries === 0 || issued.expiresAt === undefined) return;
    let reuseUntil = issued.expiresAt - REFRESH_BEFORE_MS;
    // The caller cannot present its token after its `exp`: the entry would only take room.
    if (typeof callerExp === 'number' && Number.isFinite(callerExp)) reuseUntil = Math.min(reuseUntil, callerExp * 1000);
    if (reuseUntil <= this.now()) return;
    this.entries.delete(key);
    while (this.entries.size >= this.maxEntries) this.entries.delete(this.entries.keys().next().value!);
    this.entries.set(key, { accessToken: issued.accessToken, reuseUntil });
  }

  /** One exchange at the discovered token endpoint (RFC 8693 §2.1). */
  private async request(subject: SubjectToken, audience: string, scope: string | undefined): Promise<Issued> {
    const endpoint = await this.dependencies.tokenEndpoint(subject);
    if (endpoint === undefined) throw this.failed({ reason: 'no_endpoint' }, unavailable('no_endpoint'));
    const body = new URLSearchParams({
      grant_type: GRANT_TYPE,
      subject_token: subject.token,
      subject_token_type: this.subjectTokenType,
      requested_token_type: ACCESS_TOKEN_TYPE,
      audience,
    });
    if (scope !== undefined) body.set('scope', scope);
    const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' };
    if (this.auth.kind === 'secret') {
      headers.authorization = `Basic ${this.auth.basic}`;
    } else {
      body.set('client_id', this.clientId);
      body.set('client_assertion_type', JWT_BEARER_ASSERTION);
      body.set('client_assertion', clientAssertion(this.clientId, endpoint, this.auth));
    }

    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), this.timeout);
    try {
      let response: Response;
      try {
        response = await this.fetch(endpoint, { method: 'POST', headers, body, redirect: 'manual', signal: controller.signal });
      } catch (cause) {
        throw this.unreachable(endpoint, controller.signal.aborted, cause);
      }
      const { status } = response;
      const text = await readCappedText(response, MAX_RESPONSE_BYTES, controller)
        .then((body) => body ?? '' /* over the cap: not JSON, an unusable answer */)
        .catch((cause: unknown) => {
          throw this.unreachable(endpoint, controller.signal.aborted, cause);
        });
      if (status >= 500) throw this.failed({ reason: 'status', url: endpoint, status }, unavailable('status', retryAfterOf(response.headers.get('retry-after'))));
      const json = parseObject(text);
      try {
        if (status >= 400) throw new TokenExchangeError('refused', status, plainCode(json?.error));
        if (status < 200 || status >= 300 || json === undefined) throw new TokenExchangeError('invalid_response', status);
        return issuedToken(json, status, this.now());
      } catch (error) {
        if (!(error instanceof TokenExchangeError)) throw error;
        throw this.failed({ reason: error.failure, url: endpoint, status, error: error.upstreamError }, error);
      }
    } finally {
      clearTimeout(timer);
    }
  }

  /** A timeout or a network failure: 503 for the caller, a `token_exchange_failed` event with the network error. */
  private unreachable(url: string, timedOut: boolean, cause: unknown): AuthError {
    const reason = timedOut ? 'timeout' : 'network';
    return this.failed({ reason, url, detail: timedOut ? undefined : networkDetail(cause) }, unavailable(reason, undefined, cause));
  }

  /** Reports a failed exchange (one event, where the failure is decided) and returns the error to throw. */
  private failed<E extends Error>(event: Omit<TokenExchangeFailedEvent, 'type'>, error: E): E {
    this.dependencies.emit?.({ type: 'token_exchange_failed', ...event });
    return error;
  }
}

/**
 * Creates an exchanger for an API. Throws a {@link ConfigurationError} naming the option when the options are wrong.
 * The validator calls it with the token endpoint of each caller's issuer, its telemetry and its events.
 */
export function createTokenExchanger(options: TokenExchangeOptions, dependencies: TokenExchangeDependencies): TokenExchanger {
  return new TokenExchanger(options, dependencies);
}

// --- the answer -----------------------------------------------------------------------------------------------------

/** RFC 8693 §2.2.1: `access_token`, `token_type` (usable as Bearer), `expires_in`; `issued_token_type` an access token. */
function issuedToken(json: Record<string, unknown>, status: number, now: number): Issued {
  const { access_token: accessToken, token_type: tokenType, expires_in: expiresIn, issued_token_type: issuedType } = json;
  if (typeof accessToken !== 'string' || accessToken === '' || /[^\x21-\x7e]/.test(accessToken)) throw new TokenExchangeError('invalid_response', status);
  if (typeof tokenType !== 'string' || tokenType.toLowerCase() !== 'bearer') throw new TokenExchangeError('invalid_response', status);
  if (issuedType !== undefined && issuedType !== ACCESS_TOKEN_TYPE) throw new TokenExchangeError('invalid_response', status);
  const seconds = typeof expiresIn === 'number' ? expiresIn : typeof expiresIn === 'string' && /^\d{1,9}$/.test(expiresIn) ? Number(expiresIn) : undefined;
  return { accessToken, expiresAt: seconds !== undefined && Number.isFinite(seconds) && seconds > 0 ? now + seconds * 1000 : undefined };
}

function parseObject(text: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(text);
    return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/** An RFC 6749 §5.2 error code (`%x20-21 / %x23-5B / %x5D-7E`, short), else nothing: no free text leaves. */
function plainCode(value: unknown): string | undefined {
  return typeof value === 'string' && /^[a-z0-9_.:-]{1,64}$/i.test(value) ? value : undefined;
}

/** The message of a fetch failure and of its cause (undici's `fetch failed` says why only in its cause's code). */
function networkDetail(error: unknown): string | undefined {
  if (!(error instanceof Error)) return undefined;
  const cause = error.cause as { code?: unknown; message?: unknown } | undefined;
  const why = typeof cause?.code === 'string' ? cause.code : typeof cause?.message === 'string' ? cause.message : undefined;
  return why === undefined ? error.message : `${error.message}: ${why}`;
}

/** `Retry-After` in seconds (RFC 9110 §10.2.3), bounded; an HTTP date or nonsense gives the default. */
function retryAfterOf(value: string | null): number {
  const seconds = value !== null && /^\d{1,6}$/.test(value.trim()) ? Number(value.trim()) : DEFAULT_RETRY_AFTER;
  return Math.min(MAX_RETRY_AFTER, Math.max(1, seconds));
}

function unavailable(why: string, retryAfter = DEFAULT_RETRY_AFTER, cause?: unknown): AuthError {
  return new AuthError('temporarily_unavailable', 'token_exchange.unavailable', 'The authorization server is unavailable; try again later', {
    retryAfter,
    cause: cause ?? new Error(`token endpoint: ${why}`),
  });
}

// --- client authentication ------------------------------------------------------------------------------------------

/** RFC 6749 §2.3.1: the client ID and secret are form-urlencoded before Basic encoding. */
function formEncode(value: string): string {
  return encodeURIComponent(value).replace(/%20/g, '+');
}

/** RFC 7523 §3: `iss` = `sub` = the client ID, `aud` = the token endpoint, a unique `jti`, a short `exp`. */
function clientAssertion(clientId: string, audience: string, auth: Extract<ClientAuthentication, { kind: 'private_key_jwt' }>): string {
  const now = Math.floor(Date.now() / 1000);
  const header = { alg: auth.alg, typ: 'JWT', ...(auth.keyId !== undefined ? { kid: auth.keyId } : {}) };
  const payload = { iss: clientId, sub: clientId, aud: audience, jti: randomUUID(), iat: now, exp: now + ASSERTION_TTL };
  const input = `${base64url(header)}.${base64url(payload)}`;
  return `${input}.${signWith(auth.alg, auth.key, Buffer.from(input)).toString('base64url')}`;
}

function base64url(value: object): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

/** JWS signatures (RFC 7518 §3.3–3.5, RFC 8037 §3.1) with node:crypto. */
function signWith(alg: ClientAssertionAlgorithm, key: KeyObject, data: Buffer): Buffer {
  switch (alg) {
    case 'RS256':
      return sign('sha256', data, key);
    case 'PS256':
      return sign('sha256', data, { key, padding: 6 /* RSA_PKCS1_PSS_PADDING */, saltLength: 32 });
    case 'ES256':
      return sign('sha256', data, { key, dsaEncoding: 'ieee-p1363' });
    case 'EdDSA':
      return sign(null, data, key);
  }
}

// --- options --------------------------------------------------------------------------------------------------------

const KNOWN = new Set(['clientId', 'clientSecret', 'privateKey', 'signingAlgorithm', 'keyId', 'subjectTokenType', 'timeout', 'cache', 'fetch']);

function resolveOptions(options: TokenExchangeOptions): { clientId: string; auth: ClientAuthentication; subjectTokenType: string; timeout: number; maxEntries: number } {
  const fail = (name: string, message: string): never => {
    throw new ConfigurationError(`tokenExchange${name ? `.${name}` : ''}`, message);
  };
  if (options === null || typeof options !== 'object') fail('', 'expected { clientId, clientSecret } or { clientId, privateKey }');
  for (const key of Object.keys(options)) if (!KNOWN.has(key)) fail(key, `is not an option; the options are ${[...KNOWN].join(', ')}`);
  const { clientId, clientSecret, privateKey } = options;
  if (typeof clientId !== 'string' || clientId.trim() === '') fail('clientId', "expected the API's client ID at the authorization server (e.g. AUTH0_CLIENT_ID)");
  if ((clientSecret === undefined) === (privateKey === undefined)) fail('clientSecret', 'give clientSecret (HTTP Basic) or privateKey (private_key_jwt), exactly one');
  if (clientSecret !== undefined && (typeof clientSecret !== 'string' || clientSecret === '')) fail('clientSecret', 'expected a non-empty string (e.g. AUTH0_CLIENT_SECRET)');
  if (options.fetch !== undefined && typeof options.fetch !== 'function') fail('fetch', 'expected a fetch-compatible function');
  const timeout = options.timeout ?? DEFAULT_TIMEOUT_MS;
  if (typeof timeout !== 'number' || !Number.isFinite(timeout) || timeout <= 0) fail('timeout', 'expected a positive number of milliseconds, e.g. 5000');
  const maxEntries = options.cache === false ? 0 : (options.cache?.maxEntries ?? DEFAULT_MAX_ENTRIES);
  if (!Number.isInteger(maxEntries) || maxEntries < 0) fail('cache.maxEntries', 'expected a non-negative integer, e.g. 1000');
  const subjectTokenType = options.subjectTokenType ?? ACCESS_TOKEN_TYPE;
  if (typeof subjectTokenType !== 'string' || !/^[a-z][a-z0-9+.-]*:[\x21-\x7e]+$/i.test(subjectTokenType)) fail('subjectTokenType', 'expected a URI such as urn:acme:auth0-access-token');
  if (options.keyId !== undefined && (typeof options.keyId !== 'string' || options.keyId === '')) fail('keyId', 'expected the key ID registered with the authorization server');

  let auth: ClientAuthentication;
  if (clientSecret !== undefined) {
    auth = { kind: 'secret', basic: Buffer.from(`${formEncode(clientId)}:${formEncode(clientSecret)}`).toString('base64') };
  } else {
    let key: KeyObject;
    try {
      key =
        privateKey !== null && typeof privateKey === 'object' && 'asymmetricKeyType' in privateKey
          ? (privateKey as KeyObject)
          : typeof privateKey === 'string'
            ? createPrivateKey(privateKey)
            : createPrivateKey({ key: privateKey as JsonWebKey, format: 'jwk' });
    } catch {
      return fail('privateKey', 'expected a private key: PEM text, a JWK with "d", or a KeyObject');
    }
    if (key.type !== 'private') fail('privateKey', 'is a public key; give the private key');
    const alg = options.signingAlgorithm ?? defaultAlgorithm(key);
    if (alg === undefined || !fits(alg, key)) fail('signingAlgorithm', `does not fit the key (${key.asymmetricKeyType}); use RS256 or PS256 for RSA, ES256 for P-256, EdDSA for Ed25519`);
    auth = { kind: 'private_key_jwt', key, alg: alg!, keyId: options.keyId };
  }
  return { clientId, auth, subjectTokenType, timeout, maxEntries };
}

function defaultAlgorithm(key: KeyObject): ClientAssertionAlgorithm | undefined {
  if (key.asymmetricKeyType === 'rsa') return 'RS256';
  if (key.asymmetricKeyType === 'ec' && key.asymmetricKeyDetails?.namedCurve === 'prime256v1') return 'ES256';
  if (key.asymmetricKeyType === 'ed25519') return 'EdDSA';
  return undefined;
}

function fits(alg: ClientAssertionAlgorithm, key: KeyObject): boolean {
  if (alg === 'RS256' || alg === 'PS256') return key.asymmetricKeyType === 'rsa' && (key.asymmetricKeyDetails?.modulusLength ?? 0) >= 2048;
  return defaultAlgorithm(key) === alg;
}

// --- requests -------------------------------------------------------------------------------------------------------

function checkAudience(audience: unknown): string {
  if (typeof audience !== 'string' || audience === '' || /[\x00-\x20\x7f]/.test(audience)) {
    throw new ConfigurationError('audience', 'expected the downstream API identifier, e.g. https://downstream.example.com');
  }
  return audience;
}

/** RFC 6749 §3.3: space-separated, each scope `%x21 / %x23-5B / %x5D-7E`; de-duplicated and sorted (one cache key). */
function scopeText(scope: string | readonly string[] | undefined): string | undefined {
  if (scope === undefined) return undefined;
  const list = typeof scope === 'string' ? scope.split(' ').filter(Boolean) : [...scope];
  if (!list.every((s) => typeof s === 'string' && /^[\x21\x23-\x5b\x5d-\x7e]+$/.test(s))) throw new ConfigurationError('scope', 'expected scope names such as "read:messages"');
  return list.length === 0 ? undefined : [...new Set(list)].sort().join(' ');
}
