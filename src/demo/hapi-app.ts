/**
 * The demo API on hapi 21: the same controllers through tsoa's hapi routes (build/generated/hapi/routes.ts), the same
 * answers as the Express app (app.ts) — JSON errors, body limits, framing, docs, the RFC 9728 route
 * (docs/decisions.md D22). hapi attaches to the Node server the demo already listens on.
 */
import Hapi from '@hapi/hapi';
import Boom from '@hapi/boom';
import { RegisterRoutes } from '../../build/generated/hapi/routes.js';
import { createAuth0Api, serveDocs } from '../hapi/index.js';
import type { AttachApp } from './attach.js';
import { currentRelay } from './relay.js';

/** The hapi demo on a Node server (see frameworks.ts). */
export const attachHapiApp: AttachApp = async (server, { api, spec, trustProxy, docs }) => {
  const auth0 = createAuth0Api({ ...api, ...(trustProxy === undefined ? {} : { trustProxy }) });
  const app = Hapi.server({
    listener: server,
    autoListen: false, // the demo listens already
    // As Express: no Cache-Control unless a route sets one, no Accept-Ranges; paths match case-insensitively.
    routes: { cache: false, response: { ranges: false } },
    router: { isCaseSensitive: false },
  });
  await app.register(auth0.plugin); // the body limit (100 kB), JSON errors, framing, the RFC 9728 route
  serveDocs(app, auth0, spec, docs);
  // Without DOWNSTREAM_URL, GET /api/relay does not exist: 404 for every caller, before authentication.
  app.ext('onRequest', (request, h) => {
    const path = request.path.toLowerCase();
    if (!currentRelay() && (path === '/api/relay' || path.startsWith('/api/relay/'))) throw Boom.notFound();
    // As Express (non-strict routing): `/api/private/` is `/api/private` unless a route ends with the slash (`/docs/`).
    if (path.length > 1 && path.endsWith('/') && !app.match(request.method, request.path)) request.setUrl(request.url.pathname.slice(0, -1) + request.url.search);
    return h.continue;
  });
  RegisterRoutes(app);
  await app.start(); // initializes without listening (autoListen: false)
  return auth0;
};
