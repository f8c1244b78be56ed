/**
 * Swagger UI's settings and files, for every adapter: the options of the page (OAuth2 dialog, DPoP in the browser),
 * the swagger-ui-express options they become, swagger-ui-express itself (an optional peer dependency, loaded when
 * docs are served, never imported) with Swagger UI's files (`swagger-ui-dist`), and this package's browser files
 * (`<mount>/auth0-tsoa-api/swagger-dpop-plugin.js` from static/, `<mount>/auth0-tsoa-api/dpop.js` the compiled
 * `auth0-tsoa-api/client` DPoP helper). Adapters route requests to them; no CDN.
 */
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { DpopMode } from '../options.js';
import { securityRequirements, securitySchemes } from '../openapi.js';
import { ConfigurationError } from '../errors.js';

/** OAuth2 settings of the "Authorize" dialog (Swagger UI's `initOAuth`). */
export interface SwaggerUiOAuthOptions {
  /**
   * The client the dialog starts with: for authorization code + PKCE a public (SPA) client whose allowed callback
   * URL is `<origin><mount>/oauth2-redirect.html` (e.g. `https://api.example.com/docs/oauth2-redirect.html`).
   */
  clientId?: string;
  /** The API identifier, sent as Auth0's `audience` parameter so the token is issued for this API. */
  audience?: string;
  /** Scopes checked by default. */
  scopes?: readonly string[];
  /** Use PKCE (S256) with the authorization code flow. Default true. */
  usePkce?: boolean;
  /** Shown on the authorization server's login page when it supports it. */
  appName?: string;
  /**
   * Pre-fills the client credentials flow (its client id, and secret). **Development only**: anyone who can load
   * the docs page can read the secret. The demo sets it for its embedded development issuer.
   */
  clientCredentials?: { clientId: string; clientSecret?: string };
}

/** DPoP settings of the docs page. */
export interface SwaggerUiDpopOptions {
  /**
   * The API's DPoP mode, as configured in `createAuth0Api({ dpop: { mode } })`. `required`: tokens from the
   * OAuth2 flows are always bound to the browser's key (the switch is shown locked on). `disabled`: the page does no
   * DPoP. Default: read from the spec — `required` when its operations offer an `http` `DPoP` scheme and never an
   * `http` `bearer` one, `disabled` when they offer no DPoP scheme, else `allowed`.
   */
  mode?: DpopMode;
  /**
   * In `allowed` mode: whether "Bind the token to this browser's DPoP key" starts switched on for the OAuth2 flows
   * (the user's choice is then remembered in the browser). Default true: tokens got through the page are
   * sender-constrained unless the user opts out. Cannot be false in `required` mode.
   */
  oauth2?: boolean;
}

/** Options of {@link swaggerUiHandlers}. */
export interface SwaggerUiHandlerOptions {
  /** OAuth2 flows of the dialog; leave out when the spec has no `oauth2` scheme or you do not want to prefill it. */
  oauth?: SwaggerUiOAuthOptions;
  /**
   * DPoP in the browser: the `http` `DPoP` scheme gets a token field and every request to an operation accepting
   * it gets `Authorization: DPoP <token>` and a fresh proof; tokens from the OAuth2 flows are bound to the browser's
   * key. Default: on when the spec's operations offer an `http` DPoP scheme (see {@link SwaggerUiDpopOptions.mode}).
   */
  dpop?: boolean | SwaggerUiDpopOptions;
  /** Keep authorizations across reloads (in localStorage; the DPoP key stays in IndexedDB). Default true. */
  persistAuthorization?: boolean;
  /** The page title. Default "<spec title> – Swagger UI". */
  title?: string;
  /**
   * More Swagger UI options, merged last. Functions are sent to the browser as source text (swagger-ui-express
   * serializes them with `toString`), so they cannot use variables of your server code. A custom
   * `requestInterceptor` replaces the DPoP one: call `window.auth0TsoaApiSwagger.requestInterceptor(request)` from it.
   */
  swaggerOptions?: Record<string, unknown>;
}

/** The path, under the mount point, of the package's browser files. */
export const SWAGGER_ASSETS_PATH = '/auth0-tsoa-api';

/**
 * What this package uses of `swagger-ui-express`. Its handlers are Express middleware; typed without Express here
 * (the core imports no framework), an Express router mounts them as they are.
 */
export interface SwaggerUiExpress {
  serveFiles(spec: Record<string, unknown>, options: Record<string, unknown>): ((req: unknown, res: unknown, next: () => void) => void)[];
  generateHTML(spec: Record<string, unknown>, options: Record<string, unknown>): string;
}

/**
 * `swagger-ui-express`, an optional peer, loaded when docs are served (it loads express itself), with the folder of
 * Swagger UI's files (its `swagger-ui-dist`). `caller` names the function in the error when it is not installed.
 */
export function loadSwaggerUiExpress(caller: string): { ui: SwaggerUiExpress; dist: string } {
  const require = createRequire(import.meta.url);
  try {
    const main = require.resolve('swagger-ui-express');
    return { ui: require(main) as SwaggerUiExpress, dist: (createRequire(main)('swagger-ui-dist/absolute-path') as () => string)() };
  } catch (error) {
    throw new Error(`${caller} needs the swagger-ui-express package: npm install swagger-ui-express`, { cause: error });
  }
}

/** The folder of this package: the nearest package.json named auth0-tsoa-api above this file (src/ or build/). */
function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const manifest = join(dir, 'package.json');
    if (existsSync(manifest)) {
      try {
        if ((JSON.parse(readFileSync(manifest, 'utf8')) as { name?: string }).name === 'auth0-tsoa-api') return dir;
      } catch {
        /* not ours */
      }
    }
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`auth0-tsoa-api: package.json not found above ${fileURLToPath(import.meta.url)}`);
    dir = parent;
  }
}

/**
 * The browser files, by URL name. `dpop.js` is the compiled client helper, which imports nothing. A Map: the name
 * comes from the request, and a plain object would also answer `constructor`, `__proto__` or `toString`.
 */
export function assetFiles(): Map<string, string[]> {
  const root = packageRoot();
  return new Map([
    ['swagger-dpop-plugin.js', [join(root, 'static/swagger-dpop-plugin.js')]],
    // Next to this file once compiled (build/dist/src/core/docs → ../../client); from the build when run from src/.
    ['dpop.js', [fileURLToPath(new URL('../../client/dpop.js', import.meta.url)), join(root, 'build/dist/src/client/dpop.js')]],
  ]);
}

/**
 * The DPoP mode the spec describes. `finalizeSpec` defines every scheme whatever the mode and lets the operations
 * offer the ones the mode allows, so the operations decide; a spec whose operations name no http scheme at all
 * falls back to which schemes are defined.
 */
function specDpopMode(spec: Record<string, unknown>): DpopMode {
  const schemes = securitySchemes(spec);
  const namesOf = (scheme: string) => new Set(Object.keys(schemes).filter((name) => schemes[name]?.type === 'http' && String(schemes[name]?.scheme).toLowerCase() === scheme));
  const dpop = namesOf('dpop');
  const bearer = namesOf('bearer');
  const offered = new Set(securityRequirements(spec).flatMap((r) => Object.keys(r)));
  const offers = (names: Set<string>) => [...names].some((name) => offered.has(name));
  const decided = offers(dpop) || offers(bearer);
  const hasDpop = decided ? offers(dpop) : dpop.size > 0;
  const hasBearer = decided ? offers(bearer) : bearer.size > 0;
  if (!hasDpop) return 'disabled';
  return hasBearer ? 'allowed' : 'required';
}

/** Whether the page does DPoP, and how OAuth2 tokens are bound: the `auth0TsoaApi` settings the plugin reads. */
function dpopSettings(spec: Record<string, unknown>, option: SwaggerUiHandlerOptions['dpop']): { dpop: boolean; dpopOAuth2: boolean; dpopOAuth2Required: boolean } {
  const detailed = typeof option === 'object' ? option : {};
  let mode: DpopMode;
  if (option === false) mode = 'disabled';
  else if (detailed.mode !== undefined) mode = detailed.mode;
  else {
    mode = specDpopMode(spec);
    if (option !== undefined && mode === 'disabled') mode = 'allowed'; // asked for DPoP explicitly
  }
  if (mode !== 'allowed' && mode !== 'required' && mode !== 'disabled') {
    throw new ConfigurationError('dpop.mode', `the docs' DPoP mode must be 'allowed', 'required' or 'disabled', got ${JSON.stringify(mode)}`);
  }
  if (mode === 'required' && detailed.oauth2 === false) {
    throw new ConfigurationError('dpop.oauth2', "the docs' dpop.oauth2 is false but DPoP is required (the API would refuse unbound tokens): remove dpop.oauth2, or set dpop.mode to allowed");
  }
  if (mode === 'disabled') return { dpop: false, dpopOAuth2: false, dpopOAuth2Required: false };
  return { dpop: true, dpopOAuth2: mode === 'required' || detailed.oauth2 !== false, dpopOAuth2Required: mode === 'required' };
}

/**
 * A browser function for Swagger UI options. swagger-ui-express writes functions into the page with `toString()`,
 * so the page gets exactly the given source text: nothing from this module (nor any build-tool helper) leaks into
 * it, and no string is ever evaluated on the server (no Function constructor).
 */
function browserFunction(params: string, body: string): (...args: unknown[]) => unknown {
  const source = `function anonymous(${params}\n) {\n${body}\n}`;
  const inBrowserOnly = (): never => {
    throw new Error('a Swagger UI option function runs in the browser page only');
  };
  return Object.assign(inBrowserOnly, { toString: () => source });
}

/** The swagger-ui-express options for a spec; exported for tests and custom setups. */
export function swaggerUiOptions(spec: Record<string, unknown>, options: SwaggerUiHandlerOptions = {}): Record<string, unknown> {
  const dpop = dpopSettings(spec, options.dpop);
  const oauth = options.oauth;
  const info = spec.info as Record<string, unknown> | undefined;

  const swaggerOptions: Record<string, unknown> = {
    persistAuthorization: options.persistAuthorization ?? true,
    // Our plugin next to the download-URL plugin that swagger-ui-express installs by default.
    plugins: [browserFunction('system', 'return SwaggerUIBundle.plugins.DownloadUrl(system);'), browserFunction('system', 'return window.auth0TsoaApiSwagger.plugin(system);')],
    requestInterceptor: browserFunction('request', 'return window.auth0TsoaApiSwagger.requestInterceptor(request);'),
    auth0TsoaApi: {
      ...dpop,
      ...(oauth?.clientCredentials ? { clientCredentials: oauth.clientCredentials } : {}),
    },
  };
  if (oauth) {
    swaggerOptions.oauth = {
      ...(oauth.clientId ? { clientId: oauth.clientId } : {}),
      ...(oauth.scopes ? { scopes: [...oauth.scopes] } : {}),
      ...(oauth.appName ? { appName: oauth.appName } : {}),
      usePkceWithAuthorizationCodeGrant: oauth.usePkce ?? true,
      ...(oauth.audience ? { additionalQueryStringParams: { audience: oauth.audience } } : {}),
    };
  }
  Object.assign(swaggerOptions, options.swaggerOptions);

  return {
    swaggerOptions,
    customJs: [`.${SWAGGER_ASSETS_PATH}/swagger-dpop-plugin.js`],
    customSiteTitle: options.title ?? `${typeof info?.title === 'string' ? info.title : 'API'} – Swagger UI`,
  };
}
