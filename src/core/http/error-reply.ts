/**
 * Every error as the JSON error shape `{"error": "<code>", "error_description": "<text>"}`, for every framework:
 *
 * - an {@link AuthError} is answered with its own response (decided where the request was refused), or the defaults;
 * - tsoa's `ValidateError` becomes 400 `invalid_request` with the failing fields (names and messages, never values);
 * - other errors keep a 4xx status when they carry one (body parsers' 400/413) and become 500 otherwise, without
 *   leaking their message. `unexpected` marks the 5xx answers, which adapters log (bugs or outages must not vanish).
 */
import type { Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { AuthError } from '../errors.js';
import { CLIENT_ERROR_CODES, clientErrorBody, clientErrorHeaders, type ClientErrorBody } from './client-errors.js';
import { responseOf } from './error-response.js';

function statusOf(error: unknown): number {
  const e = error as { status?: unknown; statusCode?: unknown } | null;
  const status = typeof e?.status === 'number' ? e.status : typeof e?.statusCode === 'number' ? e.statusCode : 500;
  return status >= 400 && status < 600 ? status : 500;
}

/** What to send for an error. */
export interface ErrorReply {
  status: number;
  headers: Record<string, string>;
  body: ClientErrorBody;
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
  return {
    status,
    headers: status < 500 ? clientErrorHeaders((error as { headers?: unknown } | null)?.headers) : {},
    body: clientErrorBody(status, error),
    unexpected: status >= 500,
  };
}

/** The 404 for a request no route matched. */
export const NOT_FOUND_BODY = Object.freeze({ error: 'not_found', error_description: 'Not found' });

/** The listener {@link jsonClientErrors} added to each server. */
const answering = new WeakMap<Server, (error: NodeJS.ErrnoException, socket: Duplex) => void>();

/**
 * Node answers oversized headers (431) and malformed requests (400) itself, before Express, with an empty body.
 * This makes those answers use the JSON error shape too.
 */
export function jsonClientErrors(server: Server): void {
  // Once per server: an adapter (hapi's plugin) and the app may both ask; a second listener would destroy the socket
  // before the first one's answer is flushed.
  if (answering.has(server)) return;
  const listener = (error: NodeJS.ErrnoException, socket: Duplex) => {
    if (!socket.writable || (socket as { _httpMessage?: unknown })._httpMessage) {
      socket.destroy();
      return;
    }
    const status = error.code === 'HPE_HEADER_OVERFLOW' ? 431 : error.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 408 : 400;
    const [code, description] = CLIENT_ERROR_CODES[status] ?? ['invalid_request', 'The request is malformed'];
    const body = JSON.stringify({ error: code, error_description: description });
    socket.end(
      `HTTP/1.1 ${status} ${status === 431 ? 'Request Header Fields Too Large' : status === 408 ? 'Request Timeout' : 'Bad Request'}\r\n` +
        `Content-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    );
  };
  answering.set(server, listener);
  server.on('clientError', listener);
}

/**
 * {@link jsonClientErrors} as the server's only `clientError` answer: a framework's own listener (hapi's empty 400)
 * is removed, the JSON one kept or added — also when the application added it first.
 */
export function onlyJsonClientErrors(server: Server): void {
  const ours = answering.get(server);
  for (const listener of server.listeners('clientError')) if (listener !== ours) server.off('clientError', listener as (...args: unknown[]) => void);
  jsonClientErrors(server);
}
