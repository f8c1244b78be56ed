/**
 * The API's documentation on hapi, as `serveDocs` serves it on Express: the OpenAPI document completed by
 * `finalizeSpec` (scopes, DPoP mode, the issuer's endpoints from discovery) at `specPath`, and Swagger UI at `path`
 * with this package's DPoP plugin and Swagger UI's OAuth2 redirect page. Unknown asset names are a JSON 404.
 */
import { readdirSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, extname, join } from 'node:path';
import type { Request, ResponseToolkit, Server } from '@hapi/hapi';
import Boom from '@hapi/boom';
import { assetFiles, swaggerUiOptions, SWAGGER_ASSETS_PATH } from '../express/swagger.js';
import { scopesOfSpec, type ServeDocsOptions } from '../tsoa/docs.js';
import { finalizeSpec } from '../tsoa/security.js';
import type { HapiAuth0Api } from './api.js';

type Json = Record<string, unknown>;
const TYPES: Record<string, string> = { '.js': 'text/javascript; charset=utf-8', '.css': 'text/css; charset=utf-8', '.html': 'text/html; charset=utf-8', '.png': 'image/png', '.map': 'application/json' };

interface SwaggerUiExpress {
  serveFiles(spec: Json, options: Json): Array<(req: unknown, res: unknown, next: () => void) => void>;
  generateHTML(spec: Json, options: Json): string;
}

interface Page {
  spec: Json;
  html: string;
  init: string;
}

/** swagger-ui-express (page and init script, as on Express) and swagger-ui-dist's folder (its files). */
function swaggerUi(): { ui: SwaggerUiExpress; dist: string } {
  const require = createRequire(import.meta.url);
  try {
    const main = require.resolve('swagger-ui-express');
    const dist = (createRequire(main)('swagger-ui-dist/absolute-path') as () => string)();
    return { ui: require(main) as SwaggerUiExpress, dist };
  } catch (error) {
    throw new Error('serveDocs needs the swagger-ui-express package: npm install swagger-ui-express', { cause: error });
  }
}

/** The page's `swagger-ui-init.js` (spec and options), as swagger-ui-express's own middleware writes it. */
function initScript(ui: SwaggerUiExpress, spec: Json, options: Json): string {
  let script = '';
  ui.serveFiles(spec, options)[0]!({ url: '/swagger-ui-init.js' }, { set() {}, send: (body: string) => (script = body) }, () => {});
  return script;
}

/**
 * Serves the completed OpenAPI document at `specPath` (default `/openapi.json`) and Swagger UI at `path` (default
 * `/docs`), and advertises the docs in the RFC 9728 document. Register `auth0.plugin` first.
 */
export function serveDocs(server: Server, auth0: HapiAuth0Api, spec: Json, options: ServeDocsOptions = {}): void {
  const path = options.path ?? '/docs';
  const specPath = options.specPath ?? '/openapi.json';
  const name = options.securityName ?? 'auth0';
  const config = auth0.validator.documentation();
  const scopes = Object.keys(config.scopes).length > 0 ? config.scopes : scopesOfSpec(spec, name, config.policies);
  finalizeSpec(spec, { scopes, dpopMode: config.dpopMode, name, policies: config.policies }); // unknown names fail now
  auth0.describeScopes(scopes).documentedAt(path);
  const { ui, dist } = swaggerUi();
  const distFiles = new Set(readdirSync(dist).filter((file) => Object.hasOwn(TYPES, extname(file)) && file !== 'index.html'));
  const assets = new Map(Object.entries(assetFiles()));

  let built: Page | undefined;
  let pending: Promise<Page> | undefined;
  const build = async (): Promise<Page> => {
    const discovered = await auth0.validator.discovery().catch(() => undefined);
    const origin = config.issuerOrigin;
    const tokenUrl = discovered?.tokenEndpoint ?? (origin ? `${origin}/oauth/token` : undefined);
    const authorizationUrl = discovered?.authorizationEndpoint ?? (origin ? `${origin}/authorize` : undefined);
    const completed = finalizeSpec(spec, { scopes, dpopMode: config.dpopMode, name, policies: config.policies, ...(tokenUrl ? { tokenUrl } : {}), ...(authorizationUrl ? { authorizationUrl } : {}) });
    const uiOptions = swaggerUiOptions(completed, { dpop: { mode: config.dpopMode }, oauth: { audience: config.audience, scopes: Object.keys(scopes), usePkce: true, ...options.oauth } });
    const page = { spec: completed, html: ui.generateHTML(completed, uiOptions), init: initScript(ui, completed, uiOptions) };
    if (discovered) built = page; // without discovery, try again on the next request
    return page;
  };
  const docs = (): Promise<Page> => {
    if (built) return Promise.resolve(built);
    return (pending ??= build().finally(() => (pending = undefined)));
  };
  const send = (h: ResponseToolkit, body: string | Buffer, type: string) => h.response(body).type(type).header('Cache-Control', 'no-cache');
  const page = async (_request: Request, h: ResponseToolkit) => send(h, (await docs()).html, TYPES['.html']!);
  const route = (routePath: string, handler: (request: Request, h: ResponseToolkit) => unknown) =>
    server.route({ method: 'GET', path: routePath, options: { auth: false }, handler: handler as never });

  route(specPath, async (_request, h) => h.response((await docs()).spec));
  route(path, (_request, h) => h.redirect(`${path}/`).code(301)); // the page's relative URLs need the slash
  route(`${path}/`, page);
  route(`${path}/index.html`, page);
  route(`${path}/swagger-ui-init.js`, async (_request, h) => send(h, (await docs()).init, TYPES['.js']!));
  route(`${path}/{file}`, async (request, h) => {
    const file = request.params.file as string;
    if (!distFiles.has(file)) throw Boom.notFound();
    return send(h, await readFile(join(dist, file)), TYPES[extname(file)]!);
  });
  route(`${path}${SWAGGER_ASSETS_PATH}/{file}`, async (request, h) => {
    const candidates = assets.get(request.params.file as string);
    if (!candidates) throw Boom.notFound();
    for (const candidate of candidates) {
      const body = await readFile(candidate).catch(() => undefined);
      if (body) return send(h, body, TYPES['.js']!);
    }
    throw Boom.internal(`${dirname(candidates[0]!)}: ${request.params.file as string} is missing: build the package (npm run build)`);
  });
}
