/**
 * The Express face of the library: one {@link Auth0Api} per API configuration, holding the validator, with the
 * `requireAuth` middleware, the per-request memoized authentication used by tsoa, authorization (scopes and named
 * policies, with the route's path parameters as facts), optional authentication, and the RFC 9728 route.
 */
import { resourceMetadataResponse } from '../core/http/metadata-response.js';
import type { Application, NextFunction, Request, RequestHandler, Response } from 'express';
import { AuthError, ConfigurationError, type AuthScheme } from '../core/errors.js';
import { ApiValidator, type ApiDocumentation, type VerifiedRequest } from '../core/validator.js';
import { responseOf, type ErrorResponse } from '../core/http/error-response.js';
import { requirementOf, resolveStepUp, type AuthorizationRequirement, type StepUpRule } from '../core/authorization/policies.js';
import type { ApiOptions } from '../core/options.js';
import type { ExchangeRequest } from '../core/issuer/token-exchange.js';
import type { AccessTokenClaims } from '../core/token/access-token.js';
import { checkFraming, publicRequestUrl } from '../core/http/request-context.js';
import { checkExpressClientCertificateTrust, incomingRequest, proxySettings } from './request.js';
import { readAuthFrom, recordAnonymous, recordAuth, type AuthResult, type AuthorizeOptions } from '../core/http/request-auth.js';
export type { AuthorizeOptions } from '../core/http/request-auth.js';
import { errorHandlerCheck } from './setup-check.js';

export { getAuth, getOptionalAuth, type AuthResult } from '../core/http/request-auth.js';

declare global {
  // eslint-disable-next-line @typescript-eslint/no-namespace -- augmenting Express's global Request type needs its namespace
  namespace Express {
    interface Request {
      /** Set by `requireAuth()` and by the tsoa `expressAuthentication` once the request is authenticated. */
      auth?: AuthResult;
    }
  }
}

const APP_KEY = Symbol.for('auth0-tsoa-api');
const MEMO = Symbol('auth0-tsoa-api.authentication');

interface Memo {
  api: Auth0Api;
  /** Set as soon as the authentication starts. */
  pending: Promise<VerifiedRequest> | undefined;
  /** The result once verified: what getAuth(req) reads (readAuthFrom below). */
  result: VerifiedRequest | undefined;
}
type MemoStore = Record<symbol, Memo | undefined>;

/**
 * Where a request's memo lives: Express's per-request `res.locals` (Express 4 and 5) when there is one, else the
 * request. Why not always the request: every request object that goes through Express has a V8 map of its own, so
 * adding a property to one is a map transition in the runtime every time (≈ 1.1 µs), while `res.locals` is a
 * dictionary object where adding a key costs ≈ 0.3 µs (both measured on real requests: bench/express-request-maps.mjs).
 */
function memoStore(req: Request): MemoStore {
  return ((req.res as { locals?: object } | undefined)?.locals ?? req) as MemoStore;
}

// getAuth(req), the same for every framework: read from the memo (MEMO is this module's own symbol, so no other
// framework's request object has one).
readAuthFrom((request) => memoStore(request as Request)[MEMO]?.result);

/** Options of {@link Auth0Api.requireAuth}. */
export interface RequireAuthOptions {
  /** Scopes that must all be granted (added to the policy's). */
  scopes?: string | readonly string[];
  /** A policy of the `policies` option (scopes, organization, claim rules). Unknown names throw at once. */
  policy?: string;
  /**
   * Step-up (RFC 9470): how the user must have signed in, e.g. `{ acr: ['http://schemas.openid.net/pape/policies/2007/06/multi-factor'], maxAge: 300 }`.
   * Refused with 401 `insufficient_user_authentication` after every 403. Give it here or in the policy, not both.
   */
  stepUp?: StepUpRule;
  /**
   * Serve anonymous callers: a request without an `Authorization` header (and no `access_token` in its query or
   * body) reaches the handler unauthenticated ({@link getOptionalAuth} returns undefined). Credentials that are sent
   * are judged as usual: invalid ones are refused, never treated as anonymous.
   */
  optional?: boolean;
}

/** The Express integration of one API configuration. Create it with `createAuth0Api`. */
export class Auth0Api {
  /** The framework-free validator doing the work. */
  readonly validator: ApiValidator;
  private documentationPath: string | undefined;
  private scopeNames: readonly string[] | undefined;

  constructor(options: ApiOptions) {
    this.validator = new ApiValidator(options);
  }

  /**
   * Exchanges the caller's verified access token for one for a downstream API (RFC 8693 token exchange), with the
   * `tokenExchange` client; cached per caller token, audience and scope until 30 s before it expires.
   *
   * ```ts
   * const token = await auth0.exchangeToken(req, { audience: 'https://downstream.example.com', scope: 'read:items' });
   * await fetch(url, { headers: { authorization: `Bearer ${token}` } });
   * ```
   *
   * Authenticates the request first (a refused caller causes no exchange). Rejects with an AuthError 503
   * `temporarily_unavailable` (with `retryAfter`) when the authorization server is unreachable or failing, and with a
   * `TokenExchangeError` when it refuses (map it to your answer, e.g. 502).
   */
  async exchangeToken(req: Request, request: ExchangeRequest): Promise<string> {
    return this.validator.exchangeToken(req.auth ?? (await this.authenticate(req)), request);
  }

  /** The Auth0Api installed on an app with {@link Auth0Api.install}, if any. */
  static fromApp(app: Application | undefined): Auth0Api | undefined {
    return (app?.locals as Record<symbol, Auth0Api> | undefined)?.[APP_KEY];
  }

  /** The Auth0Api that authenticated a request, else the one installed on its app. */
  static forRequest(req: Request): Auth0Api | undefined {
    return memoStore(req)[MEMO]?.api ?? Auth0Api.fromApp(req.app);
  }

  /** Loads discovery and keys before the first request (see `ApiValidator.ready`); rejects with a 503 AuthError while the provider is down. */
  ready = (): Promise<void> => this.validator.ready();

  /**
   * Registers this API on an Express app: tsoa's `expressAuthentication` finds it there, requests with ambiguous
   * framing (two Host lines, absolute-form targets) are refused with 400, and the RFC 9728 metadata document is
   * served. Call it before your routes and `RegisterRoutes(app)`. With `mtls` enabled, throws a ConfigurationError
   * when the app's `trust proxy` setting trusts every address (a `Client-Cert` header would be believed from anyone).
   */
  install(app: Application): this {
    if (this.validator.config.mtls.mode !== 'disabled') checkExpressClientCertificateTrust(app);
    (app.locals as Record<symbol, Auth0Api>)[APP_KEY] = this;
    app.use(this.framingCheck());
    app.use(errorHandlerCheck(app)); // at the first request: is errorHandler() mounted after the routes?
    const path = this.validator.config.resourceMetadataPath;
    if (path) app.get(path, this.metadataHandler());
    return this;
  }

  /**
   * Authenticates a request once: later calls for the same request (tsoa's OR'd `@Security` alternatives run in
   * parallel) share the result, so a token is verified and a DPoP `jti` recorded only once.
   */
  authenticate<C extends AccessTokenClaims = AccessTokenClaims>(req: Request): Promise<AuthResult<C>> {
    const store = memoStore(req);
    const memo = store[MEMO];
    if (memo?.api === this) return memo.pending as Promise<AuthResult<C>>;
    if (memo !== undefined) return this.authenticateOnce(req, undefined) as Promise<AuthResult<C>>; // another Auth0Api's request
    const mine: Memo = { api: this, pending: undefined, result: undefined };
    const pending = this.authenticateOnce(req, mine);
    mine.pending = pending;
    store[MEMO] = mine;
    return pending as Promise<AuthResult<C>>;
  }

  private async authenticateOnce(req: Request, memo: Memo | undefined): Promise<VerifiedRequest> {
    const context = this.validator.requestContext(incomingRequest(req), proxySettings(req));
    const result = await this.validator.verifyRequest(context);
    req.auth = result;
    // getAuth(req), the same for every framework: from the memo, else (another Auth0Api's memo) recorded.
    if (memo) memo.result = result;
    else recordAuth(result, req);
    for (const name in result.responseHeaders) req.res?.setHeader(name, result.responseHeaders[name]!);
    return result;
  }

  /**
   * Authenticates, then checks the scheme, the scopes and the policy (organization from the route's path
   * parameters, claim rules). Rejects with an AuthError; every 400/401 comes before any 403. With `optional`, a
   * request without credentials resolves undefined. An unknown policy rejects with a 500 error naming the fix.
   */
  authorize<C extends AccessTokenClaims = AccessTokenClaims>(req: Request, options: AuthorizeOptions & { optional: true }): Promise<AuthResult<C> | undefined>;
  /** {@inheritDoc Auth0Api.(authorize:1)} */
  authorize<C extends AccessTokenClaims = AccessTokenClaims>(req: Request, options?: AuthorizeOptions & { optional?: false | undefined }): Promise<AuthResult<C>>;
  /** {@inheritDoc Auth0Api.(authorize:1)} */
  authorize<C extends AccessTokenClaims = AccessTokenClaims>(req: Request, options?: AuthorizeOptions): Promise<AuthResult<C> | undefined>;
  async authorize<C extends AccessTokenClaims = AccessTokenClaims>(req: Request, options: AuthorizeOptions = {}): Promise<AuthResult<C> | undefined> {
    const requirement = requirementOf(options.policy === undefined ? undefined : this.validator.policy(options.policy), options.scopes);
    return this.authorizeRequirement<C>(req, requirement, options.schemes, options.optional === true);
  }

  private async authorizeRequirement<C extends AccessTokenClaims>(req: Request, requirement: AuthorizationRequirement, schemes: readonly AuthScheme[] | undefined, optional: boolean): Promise<AuthResult<C> | undefined> {
    if (optional && !req.auth && this.isAnonymous(req)) {
      recordAnonymous(req);
      return undefined;
    }
    const result = await this.authenticate<C>(req);
    if (schemes && !schemes.includes(result.scheme)) {
      throw this.validator.rejected(new AuthError('unauthorized', 'credentials.scheme_not_accepted', 'This operation does not accept this authentication scheme'), result.url);
    }
    // The path parameters only matter to an organization rule (and a read on an Express request is not free).
    const facts = requirement.organization === undefined ? undefined : { params: req.params as Record<string, string | undefined> | undefined };
    this.validator.authorize(result, requirement, facts);
    return result;
  }

  /** No credentials at all (see `ApiValidator.isAnonymous`); a request whose URL or framing is bad is not anonymous. */
  private isAnonymous(req: Request): boolean {
    try {
      const incoming = incomingRequest(req);
      checkFraming(incoming);
      return this.validator.isAnonymous(incoming);
    } catch {
      return false; // authenticate() answers with the 400
    }
  }

  /**
   * Middleware for plain Express routes:
   *
   * ```ts
   * app.get('/x', auth0.requireAuth({ scopes: ['read:x'] }), handler);
   * app.get('/admin/x', auth0.requireAuth({ policy: 'admin' }), handler);
   * app.get('/feed', auth0.requireAuth({ optional: true }), (req, res) => res.json({ user: getOptionalAuth(req)?.claims.sub ?? null }));
   * ```
   *
   * The policy is looked up now: an unknown name throws a ConfigurationError at start-up.
   */
  requireAuth(options: RequireAuthOptions = {}): RequestHandler {
    const requirement = withStepUp(requirementOf(options.policy === undefined ? undefined : this.validator.policy(options.policy), options.scopes), options.stepUp);
    const optional = options.optional === true;
    return (req: Request, _res: Response, next: NextFunction) => {
      this.authorizeRequirement(req, requirement, undefined, optional).then(() => next(), next);
    };
  }

  /**
   * The response for a refused request: the error's own (decided where it was refused), else this API's answer for
   * `req` (its challenges and RFC 9728 URL).
   */
  errorResponse(error: AuthError, req: Request): ErrorResponse {
    if (error.response) return error.response;
    let url = '';
    try {
      url = publicRequestUrl(incomingRequest(req), { publicUrl: this.validator.config.publicUrl, ...proxySettings(req) });
    } catch {
      /* a bad Host only costs the resource_metadata parameter */
    }
    return responseOf(this.validator.answered(error, url));
  }

  /** Refuses ambiguous framing (docs/decisions.md D20) with this API's answer (400, its challenges). */
  private framingCheck(): RequestHandler {
    return (req, _res, next) => {
      try {
        checkFraming({ rawHeaders: req.rawHeaders ?? [], target: req.originalUrl || req.url || '/' });
        next();
      } catch (error) {
        next(error instanceof AuthError ? this.validator.answered(error) : error);
      }
    };
  }

  /** True when the `policies` option defines `name` (tsoa's security names). */
  hasPolicy(name: string): boolean {
    return this.validator.hasPolicy(name);
  }

  /** What API documentation shows of this configuration (see `ApiValidator.documentation`). */
  documentation(): ApiDocumentation {
    return this.validator.documentation();
  }

  /** Advertise the API documentation at `path` (relative to the public origin) in the RFC 9728 document. */
  documentedAt(path: string): this {
    this.documentationPath = path;
    return this;
  }

  /** The scopes the API defines, for `scopes_supported` in the RFC 9728 document (default: the `scopes` option). */
  describeScopes(scopes: Readonly<Record<string, string>>): this {
    this.scopeNames = Object.keys(scopes);
    return this;
  }

  /**
   * GET handler for the RFC 9728 protected resource metadata document. Its `resource` follows the request's host
   * unless `publicUrl` is set, so it may be cached publicly only then (docs/decisions.md D19).
   */
  metadataHandler(): RequestHandler {
    return (req: Request, res: Response, next: NextFunction) => {
      let url: string;
      try {
        url = publicRequestUrl(incomingRequest(req), { publicUrl: this.validator.config.publicUrl, ...proxySettings(req) });
      } catch (error) {
        next(error instanceof AuthError ? this.validator.answered(error) : error);
        return;
      }
      resourceMetadataResponse(this.validator, url, this.documentationPath, this.scopeNames).then(({ body, headers }) => {
        res.setHeader('Cache-Control', headers['Cache-Control']!);
        if (headers.Vary) res.vary(headers.Vary);
        res.json(body);
      }, next);
    };
  }
}

/** A requirement with `requireAuth`'s own step-up rule, checked now (a ConfigurationError at start-up). */
function withStepUp(requirement: AuthorizationRequirement, stepUp: StepUpRule | undefined): AuthorizationRequirement {
  if (stepUp === undefined) return requirement;
  if (requirement.stepUp !== undefined) throw new ConfigurationError('requireAuth.stepUp', `policy "${requirement.policy}" has a stepUp rule already; give stepUp in the policy or in requireAuth, not both`);
  return { ...requirement, stepUp: resolveStepUp(stepUp, 'requireAuth.stepUp') };
}

/** Creates the Express integration for one API configuration. Throws a ConfigurationError on bad options. */
export function createAuth0Api(options: ApiOptions): Auth0Api {
  return new Auth0Api(options);
}
