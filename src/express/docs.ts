/**
 * `serveDocs` on Express (exported by `auth0-tsoa-api/tsoa`): the API's documentation in one call. The OpenAPI
 * document tsoa generated, completed by {@link finalizeSpec} with what the {@link Auth0Api} already knows — its scopes
 * (or, when none were configured, the scopes the operations require), its DPoP mode, its audience and its issuer's
 * real token and authorize endpoints (from discovery) — served as JSON, with Swagger UI next to it and advertised as
 * `resource_documentation` in the RFC 9728 document. The neutral part is src/core/docs/site.ts; this only routes.
 *
 * ```ts
 * serveDocs(app, auth0, spec);   // GET /openapi.json and /docs
 * ```
 */
import type { Application, Request, Response, NextFunction } from 'express';
import type { Auth0Api } from './api.js';
import { swaggerUiHandlers } from './swagger.js';
import { documentationSource, type ServeDocsOptions } from '../core/docs/site.js';

export type { ServeDocsOptions } from '../core/docs/site.js';

/**
 * Serves the completed OpenAPI document at `specPath` and Swagger UI at `path` (Bearer, DPoP and OAuth2 token
 * testing), and advertises the docs in the RFC 9728 document. Call it after `auth0.install(app)`.
 *
 * The issuer's endpoints come from its discovery document, fetched on the first request for the docs; until it
 * answers, Auth0's paths on the configured domain are used (`/oauth/token`, `/authorize`).
 */
export function serveDocs(app: Application, auth0: Auth0Api, spec: Record<string, unknown>, options: ServeDocsOptions = {}): void {
  const path = options.path ?? '/docs';
  const specPath = options.specPath ?? '/openapi.json';
  const docs = documentationSource(auth0, spec, options, (completed, ui) => swaggerUiHandlers(completed, ui));

  app.get(specPath, (_req: Request, res: Response, next: NextFunction) => {
    docs().then((d) => res.json(d.spec), next);
  });
  app.use(path, (req: Request, res: Response, next: NextFunction) => {
    docs().then((d) => d.ui(req, res, next), next);
  });
}
