/**
 * The API's documentation on hapi, as `serveDocs` serves it on Express (the neutral part: src/core/docs/site.ts): the
 * completed OpenAPI document at `specPath`, Swagger UI at `path` with this package's DPoP plugin and Swagger UI's
 * OAuth2 redirect page. Unknown file names (`constructor`, `__proto__` too) are a JSON 404.
 */
import { readFile } from 'node:fs/promises';
import { extname, join } from 'node:path';
import type { Request, ResponseToolkit, Server } from '@hapi/hapi';
import Boom from '@hapi/boom';
import { docsSite, DOCS_CONTENT_TYPES as TYPES, type ServeDocsOptions } from '../core/docs/site.js';
import { SWAGGER_ASSETS_PATH } from '../core/docs/swagger-ui.js';
import type { HapiAuth0Api } from './api.js';

/**
 * Serves the completed OpenAPI document at `specPath` (default `/openapi.json`) and Swagger UI at `path` (default
 * `/docs`), and advertises the docs in the RFC 9728 document. Register `auth0.plugin` first.
 */
export function serveDocs(server: Server, auth0: HapiAuth0Api, spec: Record<string, unknown>, options: ServeDocsOptions = {}): void {
  const path = options.path ?? '/docs';
  const site = docsSite(auth0, spec, options);
  const send = (h: ResponseToolkit, body: string | Buffer, type: string) => h.response(body).type(type).header('Cache-Control', 'no-cache');
  const page = async (_request: Request, h: ResponseToolkit) => send(h, (await site.page()).html, TYPES['.html']!);
  const route = (routePath: string, handler: (request: Request, h: ResponseToolkit) => unknown) => server.route({ method: 'GET', path: routePath, options: { auth: false }, handler: handler as never });

  route(options.specPath ?? '/openapi.json', async (_request, h) => h.response((await site.page()).spec));
  route(path, (_request, h) => h.redirect(`${path}/`).code(301)); // the page's relative URLs need the slash
  route(`${path}/`, page);
  route(`${path}/index.html`, page);
  route(`${path}/swagger-ui-init.js`, async (_request, h) => send(h, (await site.page()).init, TYPES['.js']!));
  route(`${path}/{file}`, async (request, h) => {
    const file = request.params.file as string;
    if (!site.distFiles.has(file)) throw Boom.notFound();
    return send(h, await readFile(join(site.dist, file)), TYPES[extname(file)]!);
  });
  route(`${path}${SWAGGER_ASSETS_PATH}/{file}`, async (request, h) => {
    const candidates = site.assets.get(request.params.file as string);
    if (!candidates) throw Boom.notFound();
    for (const candidate of candidates) {
      const body = await readFile(candidate).catch(() => undefined);
      if (body) return send(h, body, TYPES['.js']!);
    }
    throw Boom.internal(`${request.params.file as string} is missing: build the package (npm run build)`);
  });
}
