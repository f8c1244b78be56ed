/**
 * The Koa face of the library: one {@link KoaAuth0Api} per API configuration, with `install(app)` (framing checks
 * and the RFC 9728 route), the `requireAuth` middleware, the JSON `errorHandler`, and what tsoa's
 * `koaAuthentication` calls. Everything is decided in the core (request-auth.ts, request-context.ts); this file only
 * reads Koa's context and writes Koa's response.
 */
import { resourceMetadataResponse } from '../core/http/metadata-response.js';
import { bodyMayCarryToken } from '../core/http/token-params.js';
import type Koa from 'koa';
import type { Context, Middleware, Next } from 'koa';
import { AuthError } from '../core/errors.js';
import { ApiValidator, type ApiDocumentation } from '../core/validator.js';
import type { ApiOptions } from '../core/options.js';
import type { ExchangeRequest } from '../core/issuer/token-exchange.js';
import type { AccessTokenClaims } from '../core/token/access-token.js';
import type { IncomingRequest, RequestSettings } from '../core/http/request.js';
import { checkFraming, nodeIncomingRequest, publicRequestUrl, trustProxyOption } from '../core/http/request-context.js';
import type { TrustProxySetting } from '../core/http/trust-proxy.js';
import { RequestAuthenticator, type AuthorizeOptions, type AuthResult, type RequestHandle } from '../core/http/request-auth.js';
import { errorReply, NOT_FOUND_BODY } from '../core/http/error-reply.js';

/** Options of `createKoaAuth0Api` besides the API options. */
export interface KoaAdapterOptions {
  /**
   * Which peers are trusted proxies, in Express's `trust proxy` forms (`true`, `'loopback'`, `'10.0.0.0/8, ::1'`, a
   * hop count, a function): the same setting means the same thing on every framework. Default: the app's
   * `app.proxy` (`true` trusts every peer), else no proxy.
   */
  trustProxy?: TrustProxySetting;
}

/** Options of {@link KoaAuth0Api.requireAuth}. */
export interface KoaRequireAuthOptions {
  /** Scopes that must all be granted (added to the policy's). */
  scopes?: string | readonly string[];
  /** A policy of the `policies` option. Unknown names throw at once. */
  policy?: string;
  /** Serve anonymous callers (`getOptionalAuth(ctx)` is then undefined); sent credentials are judged as usual. */
  optional?: boolean;
}

declare module 'koa' {
  interface DefaultState {
    /** Set once the request is authenticated (`requireAuth()`, tsoa's `koaAuthentication`). */
    auth?: AuthResult;
  }
}

const apps = new WeakMap<object, KoaAuth0Api>();

/** What the core needs of a Koa request, read once (`ctx.req` is Node's request: Koa's getters are not used). */
function incomingRequest(ctx: Context): IncomingRequest {
  const req = ctx.req;
  const body = (ctx.request as { body?: unknown }).body;
  // Any spelling a parser produces (docs/decisions.md D3, D28); an unparsed form fails closed.
  const { 'content-length': contentLength, 'transfer-encoding': transferEncoding, 'content-type': contentType } = req.headers;
  return nodeIncomingRequest(req, bodyMayCarryToken({ contentLength, transferEncoding, contentType, body, unread: body === undefined && !req.readableEnded }));
}

/** The Koa integration of one API configuration. Create it with `createKoaAuth0Api`. */
export class KoaAuth0Api {
  /** The framework-free validator doing the work. */
  readonly validator: ApiValidator;
  private readonly auth: RequestAuthenticator;
  private proxies: Pick<RequestSettings, 'trustProxy' | 'proxiesNamed'>;
  private readonly trustGiven: boolean;
  private documentationPath: string | undefined;
  private scopeNames: readonly string[] | undefined;

  constructor(options: ApiOptions, adapter: KoaAdapterOptions = {}) {
    this.validator = new ApiValidator(options);
    this.trustGiven = adapter.trustProxy !== undefined;
    this.proxies = trustProxyOption(adapter.trustProxy);
    this.auth = new RequestAuthenticator(this.validator, () => this.proxies);
  }

  /** The KoaAuth0Api installed on an app with {@link KoaAuth0Api.install}, if any. */
  static fromApp(app: object | undefined): KoaAuth0Api | undefined {
    return app === undefined ? undefined : apps.get(app);
  }

  /**
   * Registers this API on a Koa app: tsoa's `koaAuthentication` finds it there, requests with ambiguous framing
   * are refused with 400, and the RFC 9728 document is served. Call it after `app.use(errorHandler())` and before
   * the routes.
   */
  install(app: Koa): this {
    apps.set(app, this);
    if (!this.trustGiven && app.proxy) this.proxies = trustProxyOption(true);
    const path = this.validator.config.resourceMetadataPath;
    // next() resolves to nothing (koa-compose); typed so instead of Promise<any>.
    app.use(async (ctx, next: () => Promise<void>) => {
      try {
        checkFraming({ rawHeaders: ctx.req.rawHeaders ?? [], target: ctx.req.url || '/' });
      } catch (error) {
        throw error instanceof AuthError ? this.validator.answered(error) : error;
      }
      if (path !== undefined && ctx.path === path && (ctx.method === 'GET' || ctx.method === 'HEAD')) return this.sendMetadata(ctx);
      return next();
    });
    return this;
  }

  /** The request as the core handles it (its facts read once, when first needed). */
  private handle(ctx: Context): RequestHandle {
    let incoming: IncomingRequest | undefined;
    return {
      key: ctx.request,
      aliases: [ctx],
      read: () => (incoming ??= incomingRequest(ctx)),
      params: () => (ctx as { params?: Record<string, string | undefined> }).params,
      setHeader: (name, value) => ctx.set(name, value),
    };
  }

  /** Authenticates a request once (tsoa's OR'd alternatives share the result); sets `ctx.state.auth`. */
  async authenticate<C extends AccessTokenClaims = AccessTokenClaims>(ctx: Context): Promise<AuthResult<C>> {
    const result = await this.auth.authenticate<C>(this.handle(ctx));
    ctx.state.auth = result;
    return result;
  }

  /**
   * Authenticates, then checks the scheme, the scopes and the policy (organization from `ctx.params`). Rejects with
   * an answered AuthError; with `optional`, a request without credentials resolves undefined.
   */
  async authorize<C extends AccessTokenClaims = AccessTokenClaims>(ctx: Context, options: AuthorizeOptions = {}): Promise<AuthResult<C> | undefined> {
    const result = await this.auth.authorize<C>(this.handle(ctx), this.auth.requirement(options), options);
    if (result) ctx.state.auth = result;
    return result;
  }

  /**
   * Middleware for Koa routes: `router.get('/x', auth0.requireAuth({ scopes: ['read:x'] }), handler)`. The policy is
   * looked up now: an unknown name throws at start-up.
   */
  requireAuth(options: KoaRequireAuthOptions = {}): Middleware {
    const requirement = this.auth.requirement(options);
    const optional = options.optional === true;
    return async (ctx: Context, next: Next) => {
      const result = await this.auth.authorize(this.handle(ctx), requirement, { optional });
      if (result) ctx.state.auth = result;
      await next();
    };
  }

  /**
   * Exchanges the caller's verified token for one for a downstream API (RFC 8693), as `exchangeToken` on Express:
   * authenticates first; rejects with a 503 AuthError when the authorization server is down, a `TokenExchangeError`
   * when it refuses (map it, e.g. to 502).
   */
  exchangeToken(ctx: Context, request: ExchangeRequest): Promise<string> {
    return this.auth.exchangeToken(this.handle(ctx), request);
  }

  /** True when the `policies` option defines `name` (tsoa's security names). */
  hasPolicy(name: string): boolean {
    return this.validator.hasPolicy(name);
  }

  /** What API documentation shows of this configuration. */
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

  /** The public URL of a request, as the core computes it (trusted proxies included). */
  publicUrl(ctx: Context): string {
    return publicRequestUrl(this.handle(ctx).read(), { publicUrl: this.validator.config.publicUrl, ...this.proxies });
  }

  /** The RFC 9728 document; publicly cacheable only with `publicUrl` (docs/decisions.md D19). */
  private async sendMetadata(ctx: Context): Promise<void> {
    let url: string;
    try {
      url = this.publicUrl(ctx);
    } catch (error) {
      throw error instanceof AuthError ? this.validator.answered(error) : error;
    }
    const { body, headers } = await resourceMetadataResponse(this.validator, url, this.documentationPath, this.scopeNames);
    ctx.set('Cache-Control', headers['Cache-Control']!);
    if (headers.Vary) ctx.vary(headers.Vary);
    ctx.body = body;
  }
}

/** Creates the Koa integration for one API configuration. Throws a ConfigurationError on bad options. */
export function createKoaAuth0Api(options: ApiOptions, adapter: KoaAdapterOptions = {}): KoaAuth0Api {
  return new KoaAuth0Api(options, adapter);
}

/** Options of {@link errorHandler}. */
export interface KoaErrorHandlerOptions {
  /** Called with every unexpected (5xx) error and the context. Default: `console.error`. */
  onError?: (error: unknown, ctx: Context) => void;
}

/**
 * The JSON error middleware: mount it first (`app.use(errorHandler())`). Every error becomes
 * `{"error", "error_description"}` with the status, challenge and headers the Express adapter sends; a request no
 * route answered becomes the JSON 404.
 */
export function errorHandler(options: KoaErrorHandlerOptions = {}): Middleware {
  const onError = options.onError ?? ((error: unknown) => console.error('auth0-tsoa-api errorHandler:', error));
  return async (ctx: Context, next: Next) => {
    try {
      await next();
      if (ctx.status === 404 && ctx.body == null) {
        ctx.status = 404;
        ctx.body = { ...NOT_FOUND_BODY };
      }
    } catch (error) {
      if (ctx.headerSent || !ctx.writable) throw error;
      const reply = errorReply(error);
      if (reply.unexpected) {
        try {
          onError(error, ctx);
        } catch {
          /* a logger must not turn an error response into a crash */
        }
      }
      ctx.status = reply.status;
      ctx.set(reply.headers);
      ctx.body = reply.body;
    }
  };
}
