/**
 * The demo API on Koa 3: the same controllers through tsoa's Koa routes (build/generated/koa/routes.ts), the same
 * answers as the Express app (app.ts) — JSON errors, body limits, framing, docs, the RFC 9728 route.
 */
import Koa from 'koa';
import Router from '@koa/router';
import { bodyParser } from '@koa/bodyparser';
import { RegisterRoutes } from '../../build/generated/koa/routes.js';
import { createKoaAuth0Api, errorHandler, serveDocs } from '../koa/index.js';
import type { AttachApp } from './attach.js';
import { currentRelay } from './relay.js';

/** The Koa demo on a Node server (see frameworks.ts). */
export const attachKoaApp: AttachApp = async (server, { api, spec, trustProxy, docs }) => {
  const auth0 = createKoaAuth0Api(api, trustProxy === undefined ? {} : { trustProxy });
  const app = new Koa();
  app.silent = true; // errorHandler() answers and logs every error
  app.use(errorHandler());
  // As Express's express.json() and express.urlencoded(): 100 kB (413 beyond), malformed JSON 400, and a body is
  // parsed whatever the method (a token in a GET's body must be seen: it is never accepted, RFC 6750 §2).
  app.use(bodyParser({ enableTypes: ['json', 'form'], jsonLimit: '100kb', formLimit: '100kb', parsedMethods: ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'] }));
  auth0.install(app); // koaAuthentication finds it; serves /.well-known/oauth-protected-resource
  serveDocs(app, auth0, spec, docs);
  // Without DOWNSTREAM_URL, GET /api/relay does not exist: 404 for every caller, before authentication.
  app.use(async (ctx, next) => {
    if (!currentRelay() && (ctx.path === '/api/relay' || ctx.path.startsWith('/api/relay/'))) ctx.throw(404);
    await next();
  });
  const router = new Router();
  RegisterRoutes(router);
  app.use(router.routes());
  const handle = app.callback();
  server.on('request', (req, res) => void handle(req, res)); // void: Koa's handler answers its own errors, it never rejects
  return auth0;
};
