/**
 * Error responses: every error becomes `{"error": "<code>", "error_description": "<text>"}`.
 * AuthErrors keep their status and headers (`WWW-Authenticate`, `Retry-After`, `DPoP-Nonce`); other errors keep a
 * 4xx status when they carry one (body-parser's 400/413, tsoa's validation 400) and become 500 otherwise, without
 * leaking their message.
 */
import type { ErrorRequestHandler, RequestHandler } from 'express';
import type { Server } from 'node:http';
import { AuthError } from '../core/index.js';

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
  return (error, _req, res, next) => {
    if (res.headersSent) {
      next(error);
      return;
    }
    if (error instanceof AuthError) {
      res.set(error.headers).status(error.status).json(error.toJSON());
      return;
    }
    const status = statusOf(error);
    if (status >= 500) options.onError?.(error);
    const [code, description] = CODES[status] ?? (status >= 500 ? ['server_error', 'Internal server error'] : ['invalid_request', 'The request cannot be processed']);
    // tsoa validation errors name the failing fields; those names come from our own spec, so they are safe.
    const fields = (error as { fields?: unknown })?.fields;
    const detail = fields && typeof fields === 'object' ? `${description}: ${Object.keys(fields).slice(0, 5).join(', ')}` : description;
    res.status(status).json({ error: code, error_description: detail.replace(/[^\x20-\x7e]/g, '').replace(/"/g, "'") });
  };
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
