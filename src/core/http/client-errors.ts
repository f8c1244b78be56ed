/**
 * The JSON body of an error that is not an {@link AuthError} (404, 413, a parse error, tsoa's `ValidateError`, a
 * 5xx), for every framework: `{"error": "<code>", "error_description": "<text>"}` (docs/decisions.md D22). The same
 * codes and texts as the Express error handler; framework-neutral so other adapters answer identically.
 */
import { sanitizeDescription } from '../errors.js';

/** Status → the error code and the fixed description sent for it. */
export const CLIENT_ERROR_CODES: Readonly<Record<number, readonly [string, string]>> = Object.freeze({
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
});

const MAX_FIELDS = 20;

/**
 * tsoa's `ValidateError` fields (`{ "body.name": { message, value } }`): names and messages cleaned and capped (names
 * may come from the client), values dropped. Undefined when the error has none.
 */
export function validationFields(error: unknown): Record<string, { message: string }> | undefined {
  const fields = (error as { fields?: unknown } | null)?.fields;
  if (fields === null || typeof fields !== 'object' || Array.isArray(fields)) return undefined;
  const out: Record<string, { message: string }> = {};
  for (const [name, detail] of Object.entries(fields).slice(0, MAX_FIELDS)) {
    const message = (detail as { message?: unknown } | null)?.message;
    out[sanitizeDescription(name).slice(0, 100)] = { message: sanitizeDescription(typeof message === 'string' ? message : 'invalid') };
  }
  return out;
}

/** The JSON error body of a non-AuthError answer. */
export interface ClientErrorBody {
  error: string;
  error_description: string;
  /** tsoa's validation failures: field names and messages, never the values sent. */
  fields?: Record<string, { message: string }>;
}

/** The JSON body for an error of `status` (never the error's own message: it may hold internals). */
export function clientErrorBody(status: number, error?: unknown): ClientErrorBody {
  const [code, description] = CLIENT_ERROR_CODES[status] ?? (status >= 500 ? ['server_error', 'Internal server error'] : ['invalid_request', 'The request cannot be processed']);
  const fields = status < 500 ? validationFields(error) : undefined;
  const detail = fields ? `The request failed validation: ${Object.keys(fields).join(', ')}` : description;
  return { error: code, error_description: sanitizeDescription(detail), ...(fields ? { fields } : {}) };
}

/** Headers a client error may keep (as Express's own final handler honours `err.headers`). */
const CLIENT_ERROR_HEADERS = new Set(['www-authenticate', 'retry-after', 'dpop-nonce', 'allow']);

/** The headers of a 4xx error that may be sent (e.g. another middleware's `WWW-Authenticate`): string values of printable ASCII. */
export function clientErrorHeaders(headers: unknown): Record<string, string> {
  if (headers === null || typeof headers !== 'object') return {};
  const kept: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (CLIENT_ERROR_HEADERS.has(name.toLowerCase()) && typeof value === 'string' && /^[\x20-\x7e]*$/.test(value)) kept[name] = value;
  }
  return kept;
}
