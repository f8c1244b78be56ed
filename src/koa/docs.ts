/**
 * `serveDocs` for Koa: the same completed OpenAPI document and Swagger UI page (with the DPoP plugin) as on Express,
 * built by the framework-neutral docs source (src/tsoa/docs-source.ts). The page and its settings come from
 * `swagger-ui-express` (an optional peer, which loads express), Swagger UI's files from its `swagger-ui-dist`.
 */
import type Koa from 'koa';
import { createReadStream, existsSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { extname, join } from 'node:path';
import { documentationSource, swaggerUiOptions, type ServeDocsOptions } from '../tsoa/docs-source.js';
import { assetFiles, loadSwaggerUiExpress, SWAGGER_ASSETS_PATH } from '../express/swagger.js';
import type { KoaAuth0Api } from './api.js';

interface Page {
  html: string;
  init: string;
}

/** The page and its `swagger-ui-init.js` for a completed document, from swagger-ui-express's own templates. */
function swaggerPage(spec: Record<string, unknown>, options: Parameters<typeof swaggerUiOptions>[1]): Page {
  const swaggerUi = loadSwaggerUiExpress();
  const uiOptions = swaggerUiOptions(spec, options);
  let init = '';
  // swagger-ui-express writes the init script through an Express-style response; only `set` and `send` are used.
  const response = { set: () => response, send: (text: string) => void (init = text), sendStatus: () => undefined };
  swaggerUi.serveFiles(spec, uiOptions)[0]!({ url: '/swagger-ui-init.js' } as never, response as never, () => {});
  return { html: swaggerUi.generateHTML(spec, uiOptions), init };
}

/** Swagger UI's own files (swagger-ui-dist, next to swagger-ui-express), by name. */
function distFiles(): Map<string, string> {
  const fromUi = createRequire(createRequire(import.meta.url).resolve('swagger-ui-express'));
  const dir = (fromUi('swagger-ui-dist') as { getAbsoluteFSPath(): string }).getAbsoluteFSPath();
  return new Map(
    readdirSync(dir)
      .filter((name) => /\.(js|css|png|html)$/.test(name) && name !== 'index.html')
      .map((name) => [name, join(dir, name)]),
  );
}

const TYPES: Record<string, string> = { '.js': 'application/javascript', '.css': 'text/css', '.png': 'image/png', '.html': 'text/html' };

/**
 * Serves the completed OpenAPI document at `specPath` and Swagger UI at `path`, and advertises the docs in the
 * RFC 9728 document. Call it after `auth0.install(app)`.
 */
export function serveDocs(app: Koa, auth0: KoaAuth0Api, spec: Record<string, unknown>, options: ServeDocsOptions = {}): void {
  const path = options.path ?? '/docs';
  const specPath = options.specPath ?? '/openapi.json';
  const docs = documentationSource(auth0, spec, options, swaggerPage);
  let files: Map<string, string> | undefined;
  const assets = assetFiles();
  // next() resolves to nothing (koa-compose); typed so instead of Promise<any>.
  app.use(async (ctx, next: () => Promise<void>) => {
    if (ctx.method !== 'GET' && ctx.method !== 'HEAD') return next();
    if (ctx.path === specPath) {
      ctx.body = (await docs()).spec;
      return;
    }
    if (ctx.path === path) {
      // As serve-static does on Express: the page's relative URLs need the trailing slash.
      ctx.status = 301;
      ctx.redirect(`${path}/${ctx.querystring ? `?${ctx.querystring}` : ''}`);
      ctx.status = 301;
      return;
    }
    if (!ctx.path.startsWith(`${path}/`)) return next();
    const name = ctx.path.slice(path.length + 1);
    const { ui } = await docs();
    if (name === '' || name === 'index.html') {
      ctx.type = 'html';
      ctx.body = ui.html;
    } else if (name === 'swagger-ui-init.js') {
      ctx.type = 'application/javascript';
      ctx.body = ui.init;
    } else if (name.startsWith(`${SWAGGER_ASSETS_PATH.slice(1)}/`)) {
      const file = assets.get(name.slice(SWAGGER_ASSETS_PATH.length))?.find((candidate) => existsSync(candidate));
      if (!file) return next();
      ctx.set('Cache-Control', 'no-cache');
      ctx.type = 'text/javascript';
      ctx.body = createReadStream(file);
    } else {
      const file = (files ??= distFiles()).get(name);
      if (!file) return next();
      ctx.type = TYPES[extname(file)] ?? 'application/octet-stream';
      ctx.body = createReadStream(file);
    }
  });
}
