/**
 * The demo API: an Express app with tsoa's generated routes, protected by auth0-tsoa-api.
 * This is the wiring to copy into your own app.
 */
import express, { type Express } from 'express';
import { RegisterRoutes } from '../../build/generated/routes.js';
import { createAuth0Api, errorHandler, notFoundHandler, type Auth0Api } from '../express/index.js';
import { serveDocs, type ServeDocsOptions } from '../tsoa/index.js';
import { currentRelay } from './relay.js';
import type { AttachApp } from './attach.js';
import type { TrustProxySetting } from '../core/http/trust-proxy.js';

export interface AppOptions {
  auth0: Auth0Api;
  /** The OpenAPI document tsoa generated (build/tsoa/swagger.json). */
  spec: Record<string, unknown>;
  /** Express `trust proxy` value; leave undefined when no reverse proxy sits in front. */
  trustProxy?: TrustProxySetting | undefined;
  /** The OAuth2 clients of Swagger UI's Authorize dialog (the rest comes from `auth0`). */
  docs?: ServeDocsOptions;
}

export function createApp({ auth0, spec, trustProxy, docs }: AppOptions): Express {
  const app = express();
  app.disable('x-powered-by');
  if (trustProxy !== undefined) app.set('trust proxy', trustProxy);
  app.use(express.json());
  app.use(express.urlencoded({ extended: false }));

  auth0.install(app); // tsoa's expressAuthentication finds it; serves /.well-known/oauth-protected-resource

  // GET /openapi.json (completed with the scopes, DPoP mode and issuer endpoints) and Swagger UI at /docs.
  serveDocs(app, auth0, spec, docs);

  // Without DOWNSTREAM_URL, GET /api/relay does not exist: 404 for every caller, before authentication.
  app.use('/api/relay', (req, res, next) => (currentRelay() ? next() : notFoundHandler()(req, res, next)));

  RegisterRoutes(app);

  app.use(notFoundHandler());
  app.use(errorHandler());
  return app;
}

/** The Express demo on a Node server (see frameworks.ts). */
export const attachExpressApp: AttachApp = async (server, { api, spec, trustProxy, docs }) => {
  const auth0 = createAuth0Api(api);
  server.on('request', createApp({ auth0, spec, trustProxy, docs }));
  return auth0;
};
