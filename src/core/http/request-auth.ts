/**
 * Per-request authentication for adapters, keyed by the request object a framework hands to handlers (Express's
 * `req`, Koa's `ctx.request`, hapi's `request`): one verification per request however many `@Security` alternatives
 * ask (tsoa runs them in parallel), and {@link getAuth} / {@link getOptionalAuth} that read the result from any of
 * those objects, so controllers need not know the framework.
 */
import { AuthError, SetupError, type AuthScheme } from '../errors.js';
import { requirementOf, type AuthorizationRequirement } from '../authorization/policies.js';
import type { AccessTokenClaims } from '../token/access-token.js';
import type { IncomingRequest, RequestSettings, VerifiedRequest } from './request.js';
import type { ApiValidator } from '../validator.js';
import type { ExchangeRequest } from '../issuer/token-exchange.js';
import { checkFraming } from './request-context.js';

/** What an authenticated request carries: the claims, the token, the scheme, the proof (read with {@link getAuth}). */
export type AuthResult<C extends AccessTokenClaims = AccessTokenClaims> = VerifiedRequest<C>;

const results = new WeakMap<object, AuthResult>();
const anonymous = new WeakSet<object>();

/** Records the authentication of `request` (and of each further object that stands for it, e.g. Koa's `ctx`). */
export function recordAuth(result: AuthResult, ...requests: object[]): void {
  for (const request of requests) results.set(request, result);
}

/** Reads the result an adapter keeps itself for a request (undefined for any object it does not know). */
export type AuthReader = (request: object) => AuthResult | undefined;
const readers: AuthReader[] = [];

/**
 * For an adapter that keeps each request's result itself (Express, in its per-request memo): {@link getAuth} asks it
 * too, so the adapter need not {@link recordAuth} — a WeakMap entry per request cost ≈ 1.3 µs with its GC work.
 */
export function readAuthFrom(reader: AuthReader): void {
  if (!readers.includes(reader)) readers.push(reader);
}

function recorded(request: object): AuthResult | undefined {
  const result = results.get(request);
  if (result !== undefined) return result;
  for (const read of readers) {
    const kept = read(request);
    if (kept !== undefined) return kept;
  }
  return undefined;
}

/** Records that an optional operation served `request` anonymously. */
export function recordAnonymous(...requests: object[]): void {
  for (const request of requests) anonymous.add(request);
}

/**
 * The authentication result of a request, typed with your claims: pass the request object your framework gives
 * (Express `req`, Koa `ctx.request` or `ctx`, hapi `request`). Throws a 401 if the route was not protected.
 */
export function getAuth<C extends AccessTokenClaims = AccessTokenClaims>(request: object): AuthResult<C> {
  const result = recorded(request);
  if (!result) throw new AuthError('unauthorized', 'request.not_authenticated', 'Authentication required');
  return result as AuthResult<C>;
}

/**
 * The authentication result of an operation that serves anonymous callers too (`@Security('auth0-optional')`,
 * `requireAuth({ optional: true })`): the result, typed with your claims, or undefined for an anonymous caller.
 *
 * ```ts
 * const user = getOptionalAuth(request)?.claims.sub ?? null;
 * ```
 *
 * Throws (500) on a route with no authentication at all, where undefined would silently mean "nobody".
 */
export function getOptionalAuth<C extends AccessTokenClaims = AccessTokenClaims>(request: object): AuthResult<C> | undefined {
  const result = recorded(request);
  if (result) return result as AuthResult<C>;
  if (anonymous.has(request)) return undefined;
  throw new SetupError("getOptionalAuth: this route has no authentication; use @Security('auth0-optional') or requireAuth({ optional: true })");
}

/** What an operation accepts. */
export interface AuthorizeOptions {
  /** Scopes that must all be granted (added to the policy's). */
  scopes?: string | readonly string[] | undefined;
  /** Schemes the operation accepts (default: whatever the DPoP mode accepts). */
  schemes?: readonly AuthScheme[] | undefined;
  /** A policy of the `policies` option. Unknown names throw a setup error naming the fix. */
  policy?: string | undefined;
  /**
   * Serve anonymous callers: a request without an `Authorization` header (and no `access_token` in its query or
   * body) is let through unauthenticated. Credentials that are sent are judged as usual, never treated as anonymous.
   */
  optional?: boolean | undefined;
}

/** How an adapter reads a request: the request object (the memo's key) and its facts, read when first needed. */
export interface RequestHandle {
  /** The object controllers get (Express `req`, Koa `ctx.request`, hapi `request`). */
  key: object;
  /** Further objects that stand for the same request (e.g. Koa's `ctx`): {@link getAuth} works on them too. */
  aliases?: readonly object[] | undefined;
  /** What the framework exposes, read once. */
  read: () => IncomingRequest;
  /** The route's path parameters (organization rules). */
  params?: (() => Readonly<Record<string, string | undefined>> | undefined) | undefined;
  /** Where successful responses get their headers (e.g. the next `DPoP-Nonce`). */
  setHeader: (name: string, value: string) => void;
}

/**
 * Authentication and authorization for adapters that key requests by object (Koa, hapi): the framework reads the
 * request into a {@link RequestHandle}; everything else is decided here.
 */
export class RequestAuthenticator {
  private readonly pending = new WeakMap<object, Promise<AuthResult>>();

  constructor(
    readonly validator: ApiValidator,
    private readonly settings: () => Omit<RequestSettings, 'publicUrl' | 'clientCertificates'>,
  ) {}

  /** Exchanges the request's verified token (RFC 8693), authenticating it first: a refused caller causes no exchange. */
  async exchangeToken(handle: RequestHandle, request: ExchangeRequest): Promise<string> {
    return this.validator.exchangeToken(results.get(handle.key) ?? (await this.authenticate(handle)), request);
  }

  /** Authenticates a request once; later calls for the same request share the result. */
  authenticate<C extends AccessTokenClaims = AccessTokenClaims>(handle: RequestHandle): Promise<AuthResult<C>> {
    let pending = this.pending.get(handle.key);
    if (!pending) {
      pending = this.authenticateOnce(handle);
      this.pending.set(handle.key, pending);
    }
    return pending as Promise<AuthResult<C>>;
  }

  private async authenticateOnce(handle: RequestHandle): Promise<AuthResult> {
    const result = await this.validator.verifyRequest(this.validator.requestContext(handle.read(), this.settings()));
    recordAuth(result, handle.key, ...(handle.aliases ?? []));
    for (const name in result.responseHeaders) handle.setHeader(name, result.responseHeaders[name]!);
    return result;
  }

  /** The requirement of `options` (the policy looked up now: an unknown name throws a setup error). */
  requirement(options: Pick<AuthorizeOptions, 'policy' | 'scopes'>): AuthorizationRequirement {
    return requirementOf(options.policy === undefined ? undefined : this.validator.policy(options.policy), options.scopes);
  }

  /**
   * Authenticates, then checks the scheme, the scopes and the policy; every 400/401 comes before any 403. With
   * `optional`, a request without credentials resolves undefined.
   */
  async authorize<C extends AccessTokenClaims = AccessTokenClaims>(handle: RequestHandle, requirement: AuthorizationRequirement, options: Pick<AuthorizeOptions, 'schemes' | 'optional'> = {}): Promise<AuthResult<C> | undefined> {
    if (options.optional === true && !results.has(handle.key) && this.isAnonymous(handle)) {
      recordAnonymous(handle.key, ...(handle.aliases ?? []));
      return undefined;
    }
    const result = await this.authenticate<C>(handle);
    if (options.schemes && !options.schemes.includes(result.scheme)) {
      throw this.validator.rejected(new AuthError('unauthorized', 'credentials.scheme_not_accepted', 'This operation does not accept this authentication scheme'), result.url);
    }
    const facts = requirement.organization === undefined ? undefined : { params: handle.params?.() };
    this.validator.authorize(result, requirement, facts);
    return result;
  }

  /** No credentials at all; a request whose framing is bad is not anonymous (authentication answers the 400). */
  private isAnonymous(handle: RequestHandle): boolean {
    try {
      const incoming = handle.read();
      checkFraming(incoming);
      return this.validator.isAnonymous(incoming);
    } catch {
      return false;
    }
  }
}
