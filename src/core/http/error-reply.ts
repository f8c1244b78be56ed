/**
 * Every error as the JSON error shape `{"error": "<code>", "error_description": "<text>"}`, for every framework:
 *
 * - an {@link AuthError} is answered with its own response (decided where the request was refused), or the defaults;
 * - tsoa's `ValidateError` becomes 400 `invalid_request` with the failing fields (names and messages, never values);
 * - other errors keep a 4xx status when they carry one (body parsers' 400/413) and become 500 otherwise, without
 *   leaking their message. `unexpected` marks the 5xx answers, which adapters log (bugs or outages must not vanish).
 */
import type { Server } from 'node:http';
import { AuthError, sanitizeDescription } from '../errors.js';
import { responseOf } from './error-response.js';

export const ERROR_CODES: Record<number, [string, string]> = {
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

/** What to send for an error. */
export interface ErrorReply {
  status: number;
  headers: Record<string, string>;
  body: { error: string; error_description: string; fields?: Record<string, FieldError> };
  /** A 5xx: log it. */
  unexpected: boolean;
}

/** The answer to any error a route or middleware threw. */
export function errorReply(error: unknown): ErrorReply {
  if (error instanceof AuthError) {
    const response = responseOf(error);
    return { ...response, unexpected: false };
  }
  const status = statusOf(error);
  const [code, description] = ERROR_CODES[status] ?? (status >= 500 ? ['server_error', 'Internal server error'] : ['invalid_request', 'The request cannot be processed']);
  const fields = status < 500 ? validationFields(error) : undefined;
  const detail = fields ? `The request failed validation: ${Object.keys(fields).join(', ')}` : description;
  return {
    status,
    headers: status < 500 ? clientErrorHeaders(error) : {},
    body: { error: code, error_description: sanitizeDescription(detail), ...(fields ? { fields } : {}) },
    unexpected: status >= 500,
  };
}

/** The 404 for a request no route matched. */
export const NOT_FOUND_BODY = Object.freeze({ error: 'not_found', error_description: 'Not found' });

const answering = new WeakSet<Server>();

/**
 * Node answers oversized headers (431) and malformed requests (400) itself, before Express, with an empty body.
 * This makes those answers use the JSON error shape too.
 */
export function jsonClientErrors(server: Server): void {
  // Once per server: an adapter (hapi's plugin) and the app may both ask; a second listener would destroy the socket
  // before the first one's answer is flushed.
  if (answering.has(server)) return;
  answering.add(server);
  server.on('clientError', (error: NodeJS.ErrnoException, socket) => {
    if (!socket.writable || (socket as { _httpMessage?: unknown })._httpMessage) {
      socket.destroy();
      return;
    }
    const status = error.code === 'HPE_HEADER_OVERFLOW' ? 431 : error.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 408 : 400;
    const [code, description] = ERROR_CODES[status] ?? ['invalid_request', 'The request is malformed'];
    const body = JSON.stringify({ error: code, error_description: description });
    socket.end(
      `HTTP/1.1 ${status} ${status === 431 ? 'Request Header Fields Too Large' : status === 408 ? 'Request Timeout' : 'Bad Request'}\r\n` +
        `Content-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    );
  });
}
