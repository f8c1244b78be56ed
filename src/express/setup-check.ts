/**
 * Express set-up mistakes reported as early as Express allows, once, with the fix:
 *
 * - no `errorHandler()` after the routes (refused requests would get Express's HTML error page, without the JSON
 *   error and the `WWW-Authenticate` challenge): checked at the app's first request, when every route is mounted;
 * - tsoa's authentication function used on an app without `auth0.install(app)`: logged once (the request still gets
 *   the 500 naming the fix), not a stack trace per request.
 */
import type { Application, ErrorRequestHandler, NextFunction, Request, RequestHandler, Response } from 'express';

const OURS = Symbol.for('auth0-tsoa-api.errorHandler');
/** Errors whose cause was already logged once: the error handler does not log them again per request. */
const REPORTED = Symbol.for('auth0-tsoa-api.reported');

/** Marks a handler made by `errorHandler()`, so that the set-up check can find it. */
export function markErrorHandler<T extends ErrorRequestHandler>(handler: T): T {
  (handler as unknown as Record<symbol, boolean>)[OURS] = true;
  return handler;
}

/** The line of a missing or misplaced `errorHandler()`. */
export const MISSING_ERROR_HANDLER =
  "auth0-tsoa-api: no errorHandler() after your routes: add app.use(errorHandler()) after RegisterRoutes(app) (and your other routes); without it refused requests get Express's HTML error page instead of the JSON error and WWW-Authenticate challenge";
export const EARLY_ERROR_HANDLER = 'auth0-tsoa-api: errorHandler() is mounted before your routes, so it never sees their errors: move app.use(errorHandler()) after RegisterRoutes(app)';

interface Layer {
  handle?: unknown;
  route?: unknown;
}

/** The app's router layers (Express 4: `app._router`; Express 5: `app.router`, whose getter throws on Express 4). */
function layersOf(app: Application): Layer[] {
  const internal = app as unknown as { _router?: { stack?: Layer[] }; router?: { stack?: Layer[] } };
  const router = internal._router ?? internal.router;
  return Array.isArray(router?.stack) ? router.stack : [];
}

function isOurs(handle: unknown): boolean {
  if (typeof handle !== 'function') return false;
  if ((handle as unknown as Record<symbol, unknown>)[OURS] === true) return true;
  // A sub-router (app.use(router)) with our handler inside.
  const stack = (handle as { stack?: Layer[] }).stack;
  return Array.isArray(stack) && stack.some((layer) => isOurs(layer.handle));
}

/** What is wrong with the app's error handling, as the line to log; undefined when `errorHandler()` follows the routes. */
export function errorHandlerProblem(app: Application): string | undefined {
  const layers = layersOf(app);
  if (layers.length === 0) return undefined; // an Express we cannot inspect: say nothing rather than guess
  const ours = layers.map((layer, index) => (isOurs(layer.handle) ? index : -1)).filter((index) => index >= 0);
  if (ours.length === 0) return MISSING_ERROR_HANDLER;
  let lastRoute = -1;
  layers.forEach((layer, index) => {
    if (layer.route) lastRoute = index;
  });
  return Math.max(...ours) > lastRoute ? undefined : EARLY_ERROR_HANDLER;
}

/**
 * A middleware for `install()`: at the app's first request, checks that an `errorHandler()` follows the routes and
 * logs one line if not; afterwards it only calls `next()`.
 */
export function errorHandlerCheck(app: Application, log: (line: string) => void = (line) => console.warn(line)): RequestHandler {
  let checked = false;
  return (_req: Request, _res: Response, next: NextFunction) => {
    if (!checked) {
      checked = true;
      const problem = errorHandlerProblem(app);
      if (problem) log(problem);
    }
    next();
  };
}

/** The line logged (once per authentication function) when tsoa's authentication finds no `auth0.install(app)`. */
export const MISSING_INSTALL =
  'auth0-tsoa-api: expressAuthentication found no Auth0Api on this app: call auth0.install(app) before RegisterRoutes(app) (or pass the Auth0Api to createExpressAuthentication); these requests get 500 until then';

/**
 * A reporter for a missing `install()`: logs {@link MISSING_INSTALL} the first time, and marks each error as
 * reported so that `errorHandler()` does not log it again per request.
 */
export function missingInstallReporter(log: (line: string) => void = (line) => console.error(line)): <E extends Error>(error: E) => E {
  let logged = false;
  return (error) => {
    if (!logged) {
      logged = true;
      log(MISSING_INSTALL);
    }
    (error as unknown as Record<symbol, boolean>)[REPORTED] = true;
    return error;
  };
}

/** Whether an error's cause was already logged once (see {@link reportMissingInstall}). */
export function alreadyReported(error: unknown): boolean {
  return typeof error === 'object' && error !== null && (error as Record<symbol, unknown>)[REPORTED] === true;
}
