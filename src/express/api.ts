/**
 * The Express face of the library: one object per API configuration, holding the validator, with the
 * `requireAuth` middleware, the per-request memoized `authenticate` used by tsoa, the RFC 9728 route and the
 * error handler.
 */
import type { Application, NextFunction, Request, RequestHandler, Response } from 'express';
import {
  ApiValidator,
  AuthError,
  toScopeList,
  type AccessTokenClaims,
  type ApiOptions,
  type VerifiedRequest,
} from '../core/index.js';
import { toRequestContext } from './request.js';

/** What `requireAuth` and tsoa put on the request. */
export type AuthResult<C extends AccessTokenClaims = AccessTokenClaims> = VerifiedRequest<C>;

declare global {
  // eslint-disable-next-line @typescript-eslint/no-namespace
  namespace Express {
    interface Request {
      /** Set by `requireAuth()` and by the tsoa `expressAuthentication` once the request is authenticated. */
      auth?: AuthResult;
    }
  }
}

const API_KEY = Symbol.for('auth0-tsoa-api');
const MEMO = Symbol('auth0-tsoa-api.authentication');

export interface RequireAuthOptions {
  /** Scopes that must all be granted. */
  scopes?: string | readonly string[];
}

export class Auth0Api {
  readonly validator: ApiValidator;

  constructor(options: ApiOptions) {
    this.validator = new ApiValidator(options);
  }

  /** The Auth0Api installed on an app with {@link Auth0Api.install}, if any. */
  static fromApp(app: Application | undefined): Auth0Api | undefined {
    return (app?.locals as Record<symbol, Auth0Api> | undefined)?.[API_KEY];
  }

  /**
   * Registers this API on an Express app: tsoa's `expressAuthentication` finds it there, and the RFC 9728
   * metadata document is served. Call it before `RegisterRoutes(app)`.
   */
  install(app: Application): this {
    (app.locals as Record<symbol, Auth0Api>)[API_KEY] = this;
    const path = this.validator.config.resourceMetadataPath;
    if (path) app.get(path, this.metadataHandler());
    return this;
  }

  /**
   * Authenticates a request once: later calls for the same request (tsoa's OR'd `@Security` alternatives run in
   * parallel) share the result, so a token is verified and a DPoP `jti` recorded only once.
   */
  authenticate<C extends AccessTokenClaims = AccessTokenClaims>(req: Request): Promise<AuthResult<C>> {
    // A symbol-keyed property of the request (cheaper than a WeakMap lookup on the hot path).
    const holder = req as Request & { [MEMO]?: { api: Auth0Api; pending: Promise<VerifiedRequest> } };
    const memo = holder[MEMO];
    if (memo?.api === this) return memo.pending as Promise<AuthResult<C>>;
    const pending = this.authenticateUncached(req);
    if (!memo) holder[MEMO] = { api: this, pending };
    return pending as Promise<AuthResult<C>>;
  }

  private async authenticateUncached(req: Request): Promise<VerifiedRequest> {
    let context;
    try {
      context = toRequestContext(req, { publicUrl: this.validator.config.publicUrl });
    } catch (error) {
      throw await this.validator.decorateError(error, { url: '' });
    }
    const result = await this.validator.verifyRequest(context);
    req.auth = result;
    for (const [name, value] of Object.entries(result.responseHeaders)) req.res?.setHeader(name, value);
    return result;
  }

  /** Authenticates and checks scopes; rejects with a decorated AuthError. */
  async authorize<C extends AccessTokenClaims = AccessTokenClaims>(req: Request, scopes?: string | readonly string[]): Promise<AuthResult<C>> {
    const result = await this.authenticate<C>(req);
    await this.validator.assertScopes(result, scopes, { url: result.url }); // no-op when no scope is required
    return result;
  }

  /** Middleware for plain Express routes: `app.get('/x', auth0.requireAuth({ scopes: ['read:x'] }), handler)`. */
  requireAuth(options: RequireAuthOptions = {}): RequestHandler {
    const scopes = toScopeList(options.scopes);
    return (req: Request, _res: Response, next: NextFunction) => {
      this.authorize(req, scopes).then(() => next(), next);
    };
  }

  /** GET handler for the RFC 9728 protected resource metadata document. */
  metadataHandler(): RequestHandler {
    return (req: Request, res: Response, next: NextFunction) => {
      let url: string;
      try {
        url = safeUrl(req, this);
      } catch (error) {
        next(error);
        return;
      }
      this.validator.protectedResourceMetadata(url).then((doc) => {
        res.setHeader('Cache-Control', 'public, max-age=300');
        res.json({ ...doc, resource_documentation: `${doc.resource}/docs` });
      }, next);
    };
  }
}

function safeUrl(req: Request, api: Auth0Api): string {
  return toRequestContext(req, { publicUrl: api.validator.config.publicUrl }).url;
}

/** Creates the Express integration for one API configuration. Throws a ConfigurationError on bad options. */
export function createAuth0Api(options: ApiOptions): Auth0Api {
  return new Auth0Api(options);
}

/** Reads the authentication result of a request, typed with your claims. Throws if the route was not protected. */
export function getAuth<C extends AccessTokenClaims = AccessTokenClaims>(req: Request): AuthResult<C> {
  if (!req.auth) throw new AuthError('unauthorized', 'Authentication required', { reason: 'no_auth_on_request' });
  return req.auth as AuthResult<C>;
}
