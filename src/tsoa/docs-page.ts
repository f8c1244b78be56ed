/**
 * The framework-neutral half of the docs: the OpenAPI document completed with what an API knows (its scopes, DPoP
 * mode, the issuer's endpoints from discovery), Swagger UI's page and init script for it (swagger-ui-express's own
 * output), and where Swagger UI's and this package's browser files are. Adapters only route requests to it.
 */
import { readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { extname } from 'node:path';
import { assetFiles, swaggerUiOptions } from '../express/swagger.js';
import { scopesOfSpec, type ServeDocsOptions } from './docs.js';
import { finalizeSpec } from './security.js';
import type { ApiValidator } from '../core/validator.js';

/** Content types of the files the docs serve, by extension. */
export const DOCS_CONTENT_TYPES: Readonly<Record<string, string>> = Object.freeze({
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.html': 'text/html; charset=utf-8',
  '.png': 'image/png',
  '.map': 'application/json',
});

interface SwaggerUiExpress {
  serveFiles(spec: Record<string, unknown>, options: Record<string, unknown>): Array<(req: unknown, res: unknown, next: () => void) => void>;
  generateHTML(spec: Record<string, unknown>, options: Record<string, unknown>): string;
}

/** What a docs request is answered with. */
export interface DocsPage {
  spec: Record<string, unknown>;
  html: string;
  init: string;
}

/** The docs of one API: the page (built on first use, again until discovery answers) and the files next to it. */
export interface DocsSite {
  /** The scopes shown (the `scopes` option, else those the operations require). */
  scopes: Record<string, string>;
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
  ui.serveFiles(spec, options)[0]!({ url: '/swagger-ui-init.js' }, { set() {}, send: (body: string) => (script = body) }, () => {});
  return script;
}

/** The docs of `spec` for `validator`'s API; unknown security names throw now, at start-up. */
export function docsSite(validator: ApiValidator, spec: Record<string, unknown>, options: ServeDocsOptions = {}): DocsSite {
  const name = options.securityName ?? 'auth0';
  const config = validator.documentation();
  const scopes = Object.keys(config.scopes).length > 0 ? { ...config.scopes } : scopesOfSpec(spec, name, config.policies);
  finalizeSpec(spec, { scopes, dpopMode: config.dpopMode, name, policies: config.policies });
  const require = createRequire(import.meta.url);
  let ui: SwaggerUiExpress;
  let dist: string;
  try {
    const main = require.resolve('swagger-ui-express');
    ui = require(main) as SwaggerUiExpress;
    dist = (createRequire(main)('swagger-ui-dist/absolute-path') as () => string)();
  } catch (error) {
    throw new Error('serveDocs needs the swagger-ui-express package: npm install swagger-ui-express', { cause: error });
  }
  let built: DocsPage | undefined;
  let pending: Promise<DocsPage> | undefined;
  const build = async (): Promise<DocsPage> => {
    const discovered = await validator.discovery().catch(() => undefined);
    const origin = config.issuerOrigin;
    const tokenUrl = discovered?.tokenEndpoint ?? (origin ? `${origin}/oauth/token` : undefined);
    const authorizationUrl = discovered?.authorizationEndpoint ?? (origin ? `${origin}/authorize` : undefined);
    const completed = finalizeSpec(spec, { scopes, dpopMode: config.dpopMode, name, policies: config.policies, ...(tokenUrl ? { tokenUrl } : {}), ...(authorizationUrl ? { authorizationUrl } : {}) });
    const uiOptions = swaggerUiOptions(completed, { dpop: { mode: config.dpopMode }, oauth: { audience: config.audience, scopes: Object.keys(scopes), usePkce: true, ...options.oauth } });
    const page = { spec: completed, html: ui.generateHTML(completed, uiOptions), init: initScript(ui, completed, uiOptions) };
    if (discovered) built = page; // without discovery, try again on the next request
    return page;
  };
  return {
    scopes,
    page: () => (built ? Promise.resolve(built) : (pending ??= build().finally(() => (pending = undefined)))),
    dist,
    distFiles: new Set(readdirSync(dist).filter((file) => Object.hasOwn(DOCS_CONTENT_TYPES, extname(file)) && file !== 'index.html')),
    assets: assetFiles(),
  };
}
