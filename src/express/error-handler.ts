/**
 * Error responses: every error becomes `{"error": "<code>", "error_description": "<text>"}`.
 *
 * - An {@link AuthError} gets its response from `errorResponse()` (status, challenge, `Retry-After`, `DPoP-Nonce`),
 *   computed here, once, with the facts of the Auth0Api that refused the request (or the app's).
 * - tsoa's `ValidateError` becomes 400 `invalid_request` with the failing fields.
 * - Other errors keep a 4xx status when they carry one (body-parser's 400/413) and become 500 otherwise, without
 *   leaking their message; 5xx errors are logged (they are bugs or outages, and must not vanish).
 */
import type { ErrorRequestHandler, Request, RequestHandler, Response } from 'express';
import type { Server } from 'node:http';
import { AuthError, sanitizeDescription } from '../core/errors.js';
import { errorResponse } from '../core/error-response.js';
import { Auth0Api } from './api.js';
import { alreadyReported, markErrorHandler } from './setup-check.js';

const CODES: Record<number, [string, string]> = {
  400: ['invalid_request', 'The request is malformed'],
  401: ['unauthorized', 'Authentication required'],
  403: ['forbidden', 'Access denied'],
  404: ['not_found', 'Not found'],
  405: ['method_not_allowed', 'Method not allowed'],
  408: ['request_timeout', 'The request took too long'],
  413: ['payload_too_large', 'The request body is too large'],
  415: ['unsupported_media_type', 'Unsupported media type'],
  422: ['invalid_request', 'The request failed validation'],
  431: ['request_header_fields_too_large', 'The request headers are too large'],
};

/** Options of {@link errorHandler}. */
export interface ErrorHandlerOptions {
  /**
   * Called with every unexpected (5xx) error, and with the request. Default: `console.error`. Replace it to use your
   * logger (e.g. `(error, req) => req.log.error({ err: error })`).
   */
  onError?: (error: unknown, req: Request) => void;
}

function statusOf(error: unknown): number {
  const e = error as { status?: unknown; statusCode?: unknown } | null;
  const status = typeof e?.status === 'number' ? e.status : typeof e?.statusCode === 'number' ? e.statusCode : 500;
  return status >= 400 && status < 600 ? status : 500;
}

/** A field error of tsoa's `ValidateError`, as sent to the client: names and messages, never the values sent. */
interface FieldError {
  message: string;
}

const MAX_FIELDS = 20;

/**
 * tsoa's `ValidateError` (name `ValidateError`, status 400, `fields`: `{ "body.name": { message, value } }`). The
 * field names may come from the client (extra properties), so names and messages are cleaned and capped; values
 * are dropped.
 */
function validationFields(error: unknown): Record<string, FieldError> | undefined {
  const fields = (error as { fields?: unknown } | null)?.fields;
  if (fields === null || typeof fields !== 'object' || Array.isArray(fields)) return undefined;
  const out: Record<string, FieldError> = {};
  for (const [name, detail] of Object.entries(fields).slice(0, MAX_FIELDS)) {
    const message = (detail as { message?: unknown } | null)?.message;
    out[sanitizeDescription(name).slice(0, 100)] = { message: sanitizeDescription(typeof message === 'string' ? message : 'invalid') };
  }
  return out;
}

/** The JSON error handler. Mount it after your routes (and after tsoa's `RegisterRoutes`). */
export function errorHandler(options: ErrorHandlerOptions = {}): ErrorRequestHandler {
  const onError = options.onError ?? ((error: unknown) => console.error('auth0-tsoa-api errorHandler:', error));
  return markErrorHandler((error, req, res, next) => {
    if (res.headersSent) {
      next(error);
      return;
    }
    if (error instanceof AuthError) {
      sendAuthError(error, req, res);
      return;
    }
    const status = statusOf(error);
    if (status >= 500 && !alreadyReported(error)) {
      try {
        onError(error, req);
      } catch {
        /* a logger must not turn an error response into a crash */
      }
    }
    const [code, description] = CODES[status] ?? (status >= 500 ? ['server_error', 'Internal server error'] : ['invalid_request', 'The request cannot be processed']);
    const fields = status < 500 ? validationFields(error) : undefined;
    if (status < 500) res.set(clientErrorHeaders(error));
    const detail = fields ? `The request failed validation: ${Object.keys(fields).join(', ')}` : description;
    res.status(status).json({ error: code, error_description: sanitizeDescription(detail), ...(fields ? { fields } : {}) });
  });
}

/**
 * An AuthError from the validator, or thrown by application code (`throw new AuthError('insufficient_scope', …)`,
 * `getAuth()` on a route nobody protected): the Auth0Api that handled the request, or the app's, supplies the facts
 * of the challenge; without one, the defaults (DPoP allowed, ES256, no metadata URL).
 */
function sendAuthError(error: AuthError, req: Request, res: Response): void {
  const api = Auth0Api.forRequest(req);
  const response = api ? api.errorResponse(error, req) : errorResponse(error, { dpopMode: 'allowed', dpopAlgorithms: ['ES256'] });
  res.set(response.headers).status(response.status).json(response.body);
}

/** Headers a client error may ask for through `err.headers` (as Express's own final handler honours them). */
const CLIENT_ERROR_HEADERS = new Set(['www-authenticate', 'retry-after', 'dpop-nonce', 'allow']);

/**
 * The allowed headers of a 4xx error, e.g. the `WWW-Authenticate` of a 401 thrown by other middleware
 * (`createError(401, { headers })`). Only string values of printable ASCII are kept.
 */
function clientErrorHeaders(error: unknown): Record<string, string> {
  const headers = (error as { headers?: unknown } | null)?.headers;
  if (headers === null || typeof headers !== 'object') return {};
  const kept: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (CLIENT_ERROR_HEADERS.has(name.toLowerCase()) && typeof value === 'string' && /^[\x20-\x7e]*$/.test(value)) kept[name] = value;
  }
  return kept;
}

/** A final handler for unmatched routes, in the same JSON shape. */
export function notFoundHandler(): RequestHandler {
  return (_req, res) => {
    res.status(404).json({ error: 'not_found', error_description: 'Not found' });
  };
}

/**
 * Node answers oversized headers (431) and malformed requests (400) itself, before Express, with an empty body.
 * This makes those answers use the JSON error shape too.
 */
export function jsonClientErrors(server: Server): void {
  server.on('clientError', (error: NodeJS.ErrnoException, socket) => {
    if (!socket.writable || (socket as { _httpMessage?: unknown })._httpMessage) {
      socket.destroy();
      return;
    }
    const status = error.code === 'HPE_HEADER_OVERFLOW' ? 431 : error.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 408 : 400;
    const [code, description] = CODES[status] ?? ['invalid_request', 'The request is malformed'];
    const body = JSON.stringify({ error: code, error_description: description });
    socket.end(
      `HTTP/1.1 ${status} ${status === 431 ? 'Request Header Fields Too Large' : status === 408 ? 'Request Timeout' : 'Bad Request'}\r\n` +
        `Content-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    );
  });
}
