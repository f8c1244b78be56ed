/**
 * Error responses: every error becomes `{"error": "<code>", "error_description": "<text>"}`.
 * AuthErrors keep their status and headers (`WWW-Authenticate`, `Retry-After`, `DPoP-Nonce`); other errors keep a
 * 4xx status when they carry one (body-parser's 400/413, tsoa's validation 400) and become 500 otherwise, without
 * leaking their message.
 */
import type { ErrorRequestHandler, Request, RequestHandler, Response } from 'express';
import type { Server } from 'node:http';
import { AuthError, sanitizeDescription } from '../core/index.js';
import { Auth0Api } from './api.js';
import { publicRequestUrl } from './request.js';

const CODES: Record<number, [string, string]> = {
  400: ['invalid_request', 'The request is malformed'],
  401: ['unauthorized', 'Authentication required'],
  403: ['forbidden', 'Access denied'],
  404: ['not_found', 'Not found'],
  405: ['method_not_allowed', 'Method not allowed'],
  413: ['payload_too_large', 'The request body is too large'],
  415: ['unsupported_media_type', 'Unsupported media type'],
  422: ['invalid_request', 'The request failed validation'],
  431: ['request_header_fields_too_large', 'The request headers are too large'],
};

function statusOf(error: unknown): number {
  const e = error as { status?: unknown; statusCode?: unknown } | null;
  const status = typeof e?.status === 'number' ? e.status : typeof e?.statusCode === 'number' ? e.statusCode : 500;
  return status >= 400 && status < 600 ? status : 500;
}

/** The JSON error handler. Mount it after your routes (and after tsoa's `RegisterRoutes`). */
export function errorHandler(options: { onError?: (error: unknown) => void } = {}): ErrorRequestHandler {
  return (error, req, res, next) => {
    if (res.headersSent) {
      next(error);
      return;
    }
    if (error instanceof AuthError) {
      withChallenge(error, req).then((decorated) => sendAuthError(res, decorated));
      return;
    }
    const status = statusOf(error);
    if (status >= 500) options.onError?.(error);
    const [code, description] = CODES[status] ?? (status >= 500 ? ['server_error', 'Internal server error'] : ['invalid_request', 'The request cannot be processed']);
    // tsoa validation errors name the failing fields. Names of extra body properties come from the client, so the
    // text is cleaned and shortened like every other description.
    const fields = (error as { fields?: unknown })?.fields;
    const detail = fields && typeof fields === 'object' ? `${description}: ${Object.keys(fields).slice(0, 5).join(', ')}` : description;
    if (status < 500) res.set(clientErrorHeaders(error));
    res.status(status).json({ error: code, error_description: sanitizeDescription(detail) });
  };
}

function sendAuthError(res: Response, error: AuthError): void {
  if (!res.headersSent) res.set(error.headers).status(error.status).json(error.toJSON());
}

/**
 * An AuthError thrown by application code (`throw new AuthError('insufficient_scope', …)`, or `getAuth()` on a
 * route nobody protected) has no challenge yet: a 401/403 must carry one (RFC 9110 §15.5.2), so the Auth0Api
 * installed on the app decorates it like its own errors. Never rejects.
 */
async function withChallenge(error: AuthError, req: Request): Promise<AuthError> {
  const needsChallenge = (error.status === 401 || error.status === 403) && !error.headers['WWW-Authenticate'];
  const api = needsChallenge ? Auth0Api.fromApp(req.app) : undefined;
  if (!api) return error;
  let url = '';
  try {
    url = publicRequestUrl(req, { publicUrl: api.validator.config.publicUrl });
  } catch {
    /* a bad Host only costs the resource_metadata parameter */
  }
  try {
    return await api.validator.decorateError(error, { url });
  } catch {
    return error;
  }
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
