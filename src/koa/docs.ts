/**
 * `serveDocs` for Koa: the same completed OpenAPI document and Swagger UI page (with the DPoP plugin) as on Express,
 * from the framework-neutral docs site (src/core/docs/site.ts); this only routes. The page and its settings come
 * from `swagger-ui-express` (an optional peer, which loads express), Swagger UI's files from its `swagger-ui-dist`.
 */
import type Koa from 'koa';
import { createReadStream, existsSync } from 'node:fs';
import { extname, join } from 'node:path';
import { docsSite, DOCS_CONTENT_TYPES as TYPES, type ServeDocsOptions } from '../core/docs/site.js';
import { SWAGGER_ASSETS_PATH } from '../core/docs/swagger-ui.js';
import type { KoaAuth0Api } from './api.js';

/**
 * Serves the completed OpenAPI document at `specPath` and Swagger UI at `path`, and advertises the docs in the
 * RFC 9728 document. Call it after `auth0.install(app)`.
 */
export function serveDocs(app: Koa, auth0: KoaAuth0Api, spec: Record<string, unknown>, options: ServeDocsOptions = {}): void {
  const path = options.path ?? '/docs';
  const specPath = options.specPath ?? '/openapi.json';
  const site = docsSite(auth0, spec, options);
  // next() resolves to nothing (koa-compose); typed so instead of Promise<any>.
  app.use(async (ctx, next: () => Promise<void>) => {
    if (ctx.method !== 'GET' && ctx.method !== 'HEAD') return next();
    if (ctx.path === specPath) {
      ctx.body = (await site.page()).spec;
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
    if (name === '' || name === 'index.html') {
      const { html } = await site.page();
      ctx.type = TYPES['.html']!;
      ctx.body = html;
    } else if (name === 'swagger-ui-init.js') {
      const { init } = await site.page();
      ctx.type = TYPES['.js']!;
      ctx.body = init;
    } else if (name.startsWith(`${SWAGGER_ASSETS_PATH.slice(1)}/`)) {
      const file = site.assets.get(name.slice(SWAGGER_ASSETS_PATH.length))?.find((candidate) => existsSync(candidate));
      if (!file) return next();
      ctx.set('Cache-Control', 'no-cache');
      ctx.type = TYPES['.js']!;
      ctx.body = createReadStream(file);
    } else {
      if (!site.distFiles.has(name)) return next();
      ctx.type = TYPES[extname(name)]!;
      ctx.body = createReadStream(join(site.dist, name));
    }
  });
}
