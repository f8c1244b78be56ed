/**
 * Error responses: every error becomes `{"error": "<code>", "error_description": "<text>"}`.
 *
 * - An {@link AuthError} is answered with its own response (status, challenge, `Retry-After`, `DPoP-Nonce`), decided
 *   where the request was refused; an AuthError the application throws itself (no response) gets `errorResponse()`'s
 *   defaults: Bearer and DPoP challenges, `algs="ES256"`, no `resource_metadata`.
 * - tsoa's `ValidateError` becomes 400 `invalid_request` with the failing fields.
 * - Other errors keep a 4xx status when they carry one (body-parser's 400/413) and become 500 otherwise, without
 *   leaking their message; 5xx errors are logged (they are bugs or outages, and must not vanish).
 */
import type { ErrorRequestHandler, Request, RequestHandler } from 'express';
import { errorReply, NOT_FOUND_BODY } from '../core/http/error-reply.js';
import { alreadyReported, markErrorHandler } from './setup-check.js';

export { jsonClientErrors } from '../core/http/error-reply.js';

/** Options of {@link errorHandler}. */
export interface ErrorHandlerOptions {
  /**
   * Called with every unexpected (5xx) error, and with the request. Default: `console.error`. Replace it to use your
   * logger (e.g. `(error, req) => req.log.error({ err: error })`).
   */
  onError?: (error: unknown, req: Request) => void;
}

/** The JSON error handler. Mount it after your routes (and after tsoa's `RegisterRoutes`). */
export function errorHandler(options: ErrorHandlerOptions = {}): ErrorRequestHandler {
  const onError = options.onError ?? ((error: unknown) => console.error('auth0-tsoa-api errorHandler:', error));
  return markErrorHandler((error, req, res, next) => {
    if (res.headersSent) {
      next(error);
      return;
    }
    const reply = errorReply(error);
    if (reply.unexpected && !alreadyReported(error)) {
      try {
        onError(error, req);
      } catch {
        /* a logger must not turn an error response into a crash */
      }
    }
    res.set(reply.headers).status(reply.status).json(reply.body);
  });
}

/** A final handler for unmatched routes, in the same JSON shape. */
export function notFoundHandler(): RequestHandler {
  return (_req, res) => {
    res.status(404).json(NOT_FOUND_BODY);
  };
}
