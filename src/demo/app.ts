/**
 * The demo API: an Express app with tsoa's generated routes, protected by auth0-tsoa-api.
 * This is the wiring to copy into your own app.
 */
import express, { type Express } from 'express';
import { RegisterRoutes } from '../../build/generated/routes.js';
import { errorHandler, notFoundHandler, swaggerUiHandlers, type Auth0Api, type SwaggerUiHandlerOptions } from '../express/index.js';

export interface AppOptions {
  auth0: Auth0Api;
  spec: Record<string, unknown>;
  /** Express `trust proxy` value; leave undefined when no reverse proxy sits in front. */
  trustProxy?: boolean | number | string | undefined;
  /** Swagger UI at /docs: OAuth2 client, audience and scopes of the Authorize dialog, DPoP. */
  docs?: SwaggerUiHandlerOptions;
}

export function createApp({ auth0, spec, trustProxy, docs }: AppOptions): Express {
  const app = express();
  app.disable('x-powered-by');
  if (trustProxy !== undefined) app.set('trust proxy', trustProxy);
  app.use(express.json());
  app.use(express.urlencoded({ extended: false }));

  auth0.install(app); // tsoa's expressAuthentication finds it; serves /.well-known/oauth-protected-resource

  app.get('/openapi.json', (_req, res) => {
    res.json(spec);
  });
  app.use('/docs', swaggerUiHandlers(spec, docs));
  auth0.documentedAt('/docs'); // advertised as resource_documentation in the RFC 9728 document

  RegisterRoutes(app);

  app.use(notFoundHandler());
  app.use(errorHandler());
  return app;
}
