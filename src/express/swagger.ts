/**
 * Swagger UI for testing protected operations: Bearer (paste a token), DPoP (paste a DPoP-bound token, or get one
 * through OAuth2; proofs are made in the browser) and OAuth2 (client credentials, authorization code + PKCE with
 * Auth0's `audience`). Built on `swagger-ui-express` (an optional peer dependency, loaded when this is called). The
 * page's settings and the files it serves come from the core (src/core/docs/swagger-ui.ts); this is the Express
 * router for them.
 *
 * @example
 * ```ts
 * app.use('/docs', swaggerUiHandlers(spec, {
 *   oauth: { clientId: 'SPA_CLIENT_ID', audience: 'https://api.example.com', scopes: ['read:messages'] },
 *   dpop: true,
 * }));
 * ```
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { basename, dirname } from 'node:path';
import type { Request, Response, Router } from 'express';
import { assetFiles, loadSwaggerUiExpress, SWAGGER_ASSETS_PATH, swaggerUiOptions, type SwaggerUiHandlerOptions } from '../core/docs/swagger-ui.js';

export type { SwaggerUiDpopOptions, SwaggerUiHandlerOptions, SwaggerUiOAuthOptions } from '../core/docs/swagger-ui.js';

/** Express's Router, loaded when docs are served on Express (express is an optional peer: Koa apps go without it). */
function expressRouter(): Router {
  return (createRequire(import.meta.url)('express') as { Router: () => Router }).Router();
}

/**
 * Express router serving Swagger UI for `spec`, with Bearer, DPoP and OAuth2 token testing. Mount it where the
 * docs live: `app.use('/docs', swaggerUiHandlers(spec, options))`. It serves the page, Swagger UI's files
 * (`swagger-ui-dist`, including `oauth2-redirect.html`) and this package's browser files. Each call has its own
 * page settings (unlike `swaggerUi.serve`, which shares one per process).
 */
export function swaggerUiHandlers(spec: Record<string, unknown>, options: SwaggerUiHandlerOptions = {}): Router {
  const swaggerUi = loadSwaggerUiExpress('swaggerUiHandlers').ui;
  const uiOptions = swaggerUiOptions(spec, options);
  const html = swaggerUi.generateHTML(spec, uiOptions);
  const assets = assetFiles();
  const router = expressRouter();

  router.get(`${SWAGGER_ASSETS_PATH}/:file`, (req, res, next) => {
    const candidates = assets.get(req.params.file);
    if (!candidates) return next();
    const file = candidates.find((path) => existsSync(path));
    if (!file) {
      res.status(500).json({ error: 'server_error', error_description: `${req.params.file} is missing: build the package (npm run build)` });
      return;
    }
    res.setHeader('Cache-Control', 'no-cache');
    // `root` keeps send's dot-file rule to the file name (packages may live under node_modules/.pnpm/…).
    res.type('text/javascript').sendFile(basename(file), { root: dirname(file) });
  });
  const page = (_req: Request, res: Response) => {
    res.type('html').send(html);
  };
  router.get('/index.html', page); // before swagger-ui-dist's own index.html (the Petstore demo)
  // Per-instance swagger-ui-init.js, then swagger-ui-dist's files (which redirect `/docs` to `/docs/`).
  router.use(...swaggerUi.serveFiles(spec, uiOptions));
  router.get('/', page);
  return router;
}
