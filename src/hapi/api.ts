/**
 * The hapi face of the library, answering exactly as the Express one (docs/decisions.md D22): a plugin per API
 * configuration, the memoized authorization tsoa's `hapiAuthentication` uses, {@link getAuth}/{@link getOptionalAuth}.
 */
import Boom from '@hapi/boom';
import type { Plugin, Request, RequestRoute, ResponseObject, ResponseToolkit, Server, ServerAuthSchemeObject } from '@hapi/hapi';
import { AuthError, ConfigurationError } from '../core/errors.js';
import { ApiValidator, type VerifiedRequest } from '../core/validator.js';
import { errorReply, onlyJsonClientErrors } from '../core/http/error-reply.js';
import { toScopeList } from '../core/authorization/scopes.js';
import type { ApiOptions } from '../core/options.js';
import type { AccessTokenClaims } from '../core/token/access-token.js';
import type { IncomingRequest, RequestSettings } from '../core/http/request.js';
import { checkFraming, publicRequestUrl, trustProxyOption } from '../core/http/request-context.js';
import type { TrustProxySetting } from '../core/http/trust-proxy.js';
import { RequestAuthenticator, type AuthorizeOptions, type RequestHandle } from '../core/http/request-auth.js';
import type { ExchangeRequest } from '../core/issuer/token-exchange.js';
import { bodyCarriesToken, deferHostCheck, incomingRequest, readGetBody } from './request.js';
import { renderError, type ErrorRenderingOptions } from './errors.js';
import { resourceMetadataResponse } from '../core/http/metadata-response.js';

// getAuth(request) / getOptionalAuth(request) are the core's, the same for every framework (the demo's controllers).
export { getAuth, getOptionalAuth } from '../core/http/request-auth.js';

/** The plugin's and the auth scheme's name; `route.options.plugins[PLUGIN_NAME]` holds a route's requirement. */
export const PLUGIN_NAME = 'auth0-tsoa-api';
/** Express's `express.json()` default limit (100 kB), so both refuse the same bodies with 413. */
export const DEFAULT_BODY_LIMIT = 102_400;
const HAPI_DEFAULT_MAX_BYTES = 1024 * 1024;

/** Options of {@link createAuth0Api}: the core's, plus what Express reads from the app. */
export interface HapiApiOptions extends ApiOptions, ErrorRenderingOptions {
  /** Which peers are trusted proxies, in Express's `trust proxy` forms (`true`, a hop count, `'loopback'`, subnets…). Default: none. */
  trustProxy?: TrustProxySetting;
  /** Body limit (bytes) of every route that keeps hapi's default `payload.maxBytes`. Default 102400, as Express. */
  bodyLimit?: number;
}

/** What a strategy (`server.auth.strategy(name, 'auth0-tsoa-api', options)`) or a route (`plugins['auth0-tsoa-api']`) requires. */
export interface HapiRequirement {
  /** Scopes that must all be granted (a route's are added to its strategy's). */
  scopes?: string | readonly string[];
  /** A policy of the `policies` option (a route's replaces its strategy's). */
  policy?: string;
}

/** What {@link HapiAuth0Api.authorize} checks: scopes, schemes, a policy, and whether anonymous callers are served. */
export type HapiAuthorizeOptions = AuthorizeOptions;

/** Per request (`request.plugins`): the headers a verification adds to the response, whether the body is checked. */
type State = { headers?: Record<string, string>; checkBody?: true };

function stateOf(request: Request): State {
  const plugins = request.plugins as Record<string, State | undefined>;
  return (plugins[PLUGIN_NAME] ??= {});
}

/** An error as the Boom hapi (and tsoa's hapi routes) answer with; an AuthError keeps its response. */
export function toBoom(error: unknown): Boom.Boom {
  if (error instanceof AuthError) {
    const reply = errorReply(error);
    const boom = new Boom.Boom(error.message, { statusCode: reply.status, data: error });
    boom.output.payload = reply.body as unknown as Boom.Payload;
    Object.assign(boom.output.headers, reply.headers);
    return boom;
  }
  if (Boom.isBoom(error)) return error;
  const status = (error as { status?: unknown } | null)?.status;
  return Boom.boomify(error instanceof Error ? error : new Error(String(error)), { statusCode: typeof status === 'number' && status >= 400 && status < 600 ? status : 500 });
}

/** The hapi integration of one API configuration. Create it with {@link createAuth0Api}. */
export class HapiAuth0Api {
  /** The framework-free validator doing the work. */
  readonly validator: ApiValidator;
  /** `await server.register(auth0.plugin)`: see {@link HapiAuth0Api.register}. */
  readonly plugin: Plugin<void>;
  private readonly proxies: Pick<RequestSettings, 'trustProxy' | 'proxiesNamed'>;
  private readonly auth: RequestAuthenticator;
  private readonly bodyLimit: number;
  private readonly rendering: ErrorRenderingOptions;
  private documentationPath: string | undefined;
  private scopeNames: readonly string[] | undefined;

  constructor(options: HapiApiOptions) {
    const { trustProxy, bodyLimit, onError, ...core } = options;
    this.validator = new ApiValidator(core);
    this.proxies = trustProxyOption(trustProxy);
    this.auth = new RequestAuthenticator(this.validator, () => this.proxies);
    if (bodyLimit !== undefined && !(Number.isInteger(bodyLimit) && bodyLimit > 0)) throw new ConfigurationError('bodyLimit', 'must be a positive integer (bytes)');
    this.bodyLimit = bodyLimit ?? DEFAULT_BODY_LIMIT;
    this.rendering = { onError };
    this.plugin = { name: PLUGIN_NAME, register: (server: Server) => this.register(server) };
  }

  /**
   * The plugin: the `auth0-tsoa-api` scheme and `auth0` strategy; 400 for ambiguous framing (docs/decisions.md D20);
   * the RFC 9728 route; every error as JSON (oversized headers: 431); the body limit on routes with hapi's default.
   */
  register(server: Server): void {
    server.expose('api', this);
    server.auth.scheme(PLUGIN_NAME, (_server, options) => this.scheme((options ?? {}) as HapiRequirement));
    server.auth.strategy('auth0', PLUGIN_NAME);
    // hapi answers every parse error, oversized headers too, with an empty 400; Express (Node) says 431, in JSON here.
    onlyJsonClientErrors(server.listener);
    deferHostCheck(server.listener);
    server.ext('onRequest', (request, h) => {
      try {
        checkFraming({ rawHeaders: request.raw.req.rawHeaders ?? [], target: request.raw.req.url || '/' });
      } catch (error) {
        throw toBoom(error instanceof AuthError ? this.validator.answered(error) : error);
      }
      return h.continue;
    });
    server.ext('onPreAuth', async (request, h) => {
      await readGetBody(request, this.bodyLimit);
      return h.continue;
    });
    // The body is parsed after authentication: a token in it is refused now, as Express refuses it (RFC 6750 §2).
    server.ext('onPostAuth', async (request, h) => {
      // No body is `undefined`, as on Express and Koa: tsoa's optional `@Body()` refuses hapi's `null`.
      if (request.payload === null) (request as { payload: unknown }).payload = undefined;
      // verifyRequest refuses a body token before verifying anything (core/http/credentials.ts).
      if (stateOf(request).checkBody && bodyCarriesToken(request)) await this.validator.verifyRequest(this.validator.requestContext(incomingRequest(request), this.proxies)).catch((e: unknown) => Promise.reject(toBoom(e)));
      return h.continue;
    });
    server.ext('onPreResponse', (request, h) => renderError(request, h, stateOf(request).headers, this.rendering));
    const path = this.validator.config.resourceMetadataPath;
    if (path) server.route({ method: 'GET', path, options: { auth: false }, handler: (request, h) => this.metadata(request, h) });
    const limit = (route: RequestRoute) => {
      const payload = route.settings.payload;
      if (payload && payload.maxBytes === HAPI_DEFAULT_MAX_BYTES) payload.maxBytes = this.bodyLimit;
    };
    for (const route of server.table()) limit(route);
    server.events.on('route', limit);
  }

  /** The request as the core handles it (its facts read once, when first needed); response headers wait in its state. */
  private handle(request: Request): RequestHandle {
    let incoming: IncomingRequest | undefined;
    return {
      key: request,
      read: () => (incoming ??= incomingRequest(request)),
      params: () => request.params as Record<string, string | undefined>,
      setHeader: (name, value) => void ((stateOf(request).headers ??= {})[name] = value),
    };
  }

  private scheme(strategy: HapiRequirement): ServerAuthSchemeObject {
    const base = this.auth.requirement(strategy); // an unknown policy fails at start-up
    return {
      authenticate: async (request, h) => {
        stateOf(request).checkBody = true;
        const route = (request.route.settings.plugins as Record<string, HapiRequirement | undefined>)[PLUGIN_NAME];
        let result: VerifiedRequest | undefined;
        try {
          // A route's policy replaces its strategy's (looked up first: an unknown one is a 500 even for an anonymous caller, as on Express).
          const requirement = route ? this.auth.requirement({ policy: route.policy ?? strategy.policy, scopes: [...toScopeList(strategy.scopes), ...toScopeList(route.scopes)] }) : base;
          result = await this.auth.authorize(this.handle(request), requirement, { optional: request.auth.mode !== 'required' });
        } catch (error) {
          throw toBoom(error);
        }
        // hapi's `mode: 'optional'` serves a request whose credentials are missing (a Boom with `isMissing`).
        if (!result) throw Boom.unauthorized(null, 'Bearer');
        return h.authenticated({ credentials: result.claims as never, artifacts: result as unknown as Record<string, unknown> });
      },
    };
  }

  /**
   * Authenticates a request once (tsoa runs OR'd `@Security` alternatives in parallel: one DPoP `jti` record), then
   * checks scheme, scopes and policy (organization from `request.params`); rejects with a Boom carrying the response.
   */
  async authorize<C extends AccessTokenClaims = AccessTokenClaims>(request: Request, options: HapiAuthorizeOptions = {}): Promise<VerifiedRequest<C> | undefined> {
    try {
      return await this.auth.authorize<C>(this.handle(request), this.auth.requirement(options), options);
    } catch (error) {
      throw toBoom(error);
    }
  }

  /** The RFC 9728 document; cached publicly only with a fixed `publicUrl` (docs/decisions.md D19). */
  private async metadata(request: Request, h: ResponseToolkit): Promise<ResponseObject> {
    let url: string;
    try {
      url = publicRequestUrl(incomingRequest(request), { publicUrl: this.validator.config.publicUrl, ...this.proxies });
    } catch (error) {
      throw toBoom(error instanceof AuthError ? this.validator.answered(error) : error);
    }
    const { body, headers } = await resourceMetadataResponse(this.validator, url, this.documentationPath, this.scopeNames);
    const response = h.response(body as object);
    for (const name in headers) response.header(name, headers[name]!);
    return response;
  }

  /** Exchanges the caller's token for a downstream API's (RFC 8693), as `exchangeToken` on Express (a handler's thrown AuthError is answered). */
  exchangeToken(request: Request, exchange: ExchangeRequest): Promise<string> {
    return this.auth.exchangeToken(this.handle(request), exchange);
  }

  /** True when the `policies` option defines `name` (tsoa's security names). */
  hasPolicy(name: string): boolean {
    return this.validator.hasPolicy(name);
  }

  /** Advertise the API documentation at `path` in the RFC 9728 document. */
  documentedAt(path: string): this {
    this.documentationPath = path;
    return this;
  }

  /** The scopes the API defines, for `scopes_supported` in the RFC 9728 document (default: the `scopes` option). */
  describeScopes(scopes: Readonly<Record<string, string>>): this {
    this.scopeNames = Object.keys(scopes);
    return this;
  }
}

/** Creates the hapi integration for one API configuration. Throws a ConfigurationError on bad options. */
export function createAuth0Api(options: HapiApiOptions): HapiAuth0Api {
  return new HapiAuth0Api(options);
}
