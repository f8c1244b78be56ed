/**
 * The docs of one API, for every adapter: the OpenAPI document completed with what the API knows (its scopes or the
 * operations', its policies, its DPoP mode, its audience, its issuer's endpoints from discovery), the Swagger UI
 * settings for it, built on the first request and kept once discovery answered; and the site around it: Swagger UI's
 * page and init script (swagger-ui-express's own output), where Swagger UI's and this package's browser files are,
 * and their content types. Adapters only route requests to it.
 */
import { readdirSync } from 'node:fs';
import { extname } from 'node:path';
import { finalizeSpec, scopesOfSpec, withPolicyScopes } from './spec.js';
import { assetFiles, loadSwaggerUiExpress, swaggerUiOptions, type SwaggerUiExpress, type SwaggerUiHandlerOptions, type SwaggerUiOAuthOptions } from './swagger-ui.js';
import type { ApiValidator } from '../validator.js';

/** Options of `serveDocs` (Express, Koa and hapi). */
export interface ServeDocsOptions {
  /** Where Swagger UI is served. Default `/docs`. */
  path?: string;
  /** Where the OpenAPI document is served. Default `/openapi.json`. */
  specPath?: string;
  /**
   * The OAuth2 clients of Swagger UI's "Authorize" dialog: `clientId` of a public (SPA) client for authorization code +
   * PKCE, whose callback is `<origin><path>/oauth2-redirect.html`; `clientCredentials` for development issuers only
   * (anyone who can load the page can read the secret).
   */
  oauth?: Pick<SwaggerUiOAuthOptions, 'clientId' | 'clientCredentials' | 'appName'>;
  /** The security name of `@Security(…)` that carries scopes. Default `auth0`. */
  securityName?: string;
}

/** What `serveDocs` needs of an API object (Express `Auth0Api`, `KoaAuth0Api`, hapi's `HapiAuth0Api`). */
export interface DocumentedApi {
  readonly validator: Pick<ApiValidator, 'documentation' | 'discovery'>;
  describeScopes(scopes: Readonly<Record<string, string>>): unknown;
  documentedAt(path: string): unknown;
}

/** The completed document and what the adapter built to serve Swagger UI for it. */
export interface BuiltDocs<Ui> {
  spec: Record<string, unknown>;
  ui: Ui;
}

/**
 * Checks the spec now (unknown security names fail at start-up), advertises the docs path and the scopes, and
 * returns the builder of the served document and UI. `makeUi(spec, options)` is Swagger UI for the completed
 * document (Express: its router; {@link docsSite}: the page and init script).
 */
export function documentationSource<Ui>(api: DocumentedApi, spec: Record<string, unknown>, options: ServeDocsOptions, makeUi: (completed: Record<string, unknown>, ui: SwaggerUiHandlerOptions) => Ui): () => Promise<BuiltDocs<Ui>> {
  const path = options.path ?? '/docs';
  const name = options.securityName ?? 'auth0';
  const config = api.validator.documentation();
  const scopes = withPolicyScopes(Object.keys(config.scopes).length > 0 ? config.scopes : scopesOfSpec(spec, name, config.policies), config.policies);
  finalizeSpec(spec, { scopes, dpopMode: config.dpopMode, name, policies: config.policies });
  api.describeScopes(scopes);
  api.documentedAt(path);

  let built: BuiltDocs<Ui> | undefined;
  let pending: Promise<BuiltDocs<Ui>> | undefined;
  const build = async (): Promise<BuiltDocs<Ui>> => {
    const discovered = await api.validator.discovery().catch(() => undefined);
    const origin = config.issuerOrigin;
    const tokenUrl = discovered?.tokenEndpoint ?? (origin ? `${origin}/oauth/token` : undefined);
    const authorizationUrl = discovered?.authorizationEndpoint ?? (origin ? `${origin}/authorize` : undefined);
    const completed = finalizeSpec(spec, { scopes, dpopMode: config.dpopMode, name, policies: config.policies, ...(tokenUrl ? { tokenUrl } : {}), ...(authorizationUrl ? { authorizationUrl } : {}) });
    const ui = makeUi(completed, {
      dpop: { mode: config.dpopMode },
      oauth: { audience: config.audience, scopes: Object.keys(scopes), usePkce: true, ...options.oauth },
    });
    const result = { spec: completed, ui };
    if (discovered) built = result; // without discovery, try again on the next request
    return result;
  };
  return () => {
    if (built) return Promise.resolve(built);
    pending ??= build().finally(() => {
      pending = undefined;
    });
    return pending;
  };
}

/** Content types of the files the docs serve, by extension. */
export const DOCS_CONTENT_TYPES: Readonly<Record<string, string>> = Object.freeze({
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.html': 'text/html; charset=utf-8',
  '.png': 'image/png',
  '.map': 'application/json',
});

/** What a docs request is answered with. */
export interface DocsPage {
  spec: Record<string, unknown>;
  html: string;
  init: string;
}

/** The docs of one API: the page (built on first use, again until discovery answers) and the files next to it. */
export interface DocsSite {
  page(): Promise<DocsPage>;
  /** Swagger UI's folder and its servable file names (not its demo index.html nor package.json). */
  dist: string;
  distFiles: ReadonlySet<string>;
  /** This package's browser files: name → candidate paths. */
  assets: ReadonlyMap<string, readonly string[]>;
}

/** The page's `swagger-ui-init.js` (spec and options), as swagger-ui-express's own middleware writes it. */
function initScript(ui: SwaggerUiExpress, spec: Record<string, unknown>, options: Record<string, unknown>): string {
  let script = '';
  // It writes through an Express-style response; only `set` and `send` are used.
  ui.serveFiles(spec, options)[0]!({ url: '/swagger-ui-init.js' }, { set() {}, send: (body: string) => (script = body) }, () => {});
  return script;
}

/**
 * The docs site of `spec` for `api`, for adapters that route each file themselves (Koa, hapi): swagger-ui-express is
 * loaded now, and unknown security names throw now, at start-up.
 */
export function docsSite(api: DocumentedApi, spec: Record<string, unknown>, options: ServeDocsOptions = {}): DocsSite {
  const { ui, dist } = loadSwaggerUiExpress('serveDocs');
  const source = documentationSource(api, spec, options, (completed, settings) => {
    const uiOptions = swaggerUiOptions(completed, settings);
    return { html: ui.generateHTML(completed, uiOptions), init: initScript(ui, completed, uiOptions) };
  });
  return {
    page: async () => {
      const { spec: completed, ui: page } = await source();
      return { spec: completed, ...page };
    },
    dist,
    distFiles: new Set(readdirSync(dist).filter((file) => Object.hasOwn(DOCS_CONTENT_TYPES, extname(file)) && file !== 'index.html')),
    assets: assetFiles(),
  };
}
