/**
 * Every hapi error answer in the Express error handler's shape (docs/decisions.md D22): `{"error", "error_description"}`
 * instead of hapi's `{statusCode, error, message}`. An {@link AuthError} (refused by the validator, or thrown by a
 * handler) is answered with its own response: status, challenges, `Retry-After`, `DPoP-Nonce`. Other errors keep
 * their status and a fixed description; 5xx are logged and never show their message.
 */
import type { Boom } from '@hapi/boom';
import type { Lifecycle, Request, ResponseObject, ResponseToolkit } from '@hapi/hapi';
import { AuthError } from '../core/errors.js';
import { responseOf } from '../core/error-response.js';
import { clientErrorBody } from '../core/client-errors.js';

/** How errors are reported. */
export interface ErrorRenderingOptions {
  /** Called with every 5xx error and its request. Default: `console.error`. */
  onError?: ((error: unknown, request: Request) => void) | undefined;
}

/** Headers a client error may keep (as Express's error handler keeps them). */
const CLIENT_ERROR_HEADERS = new Set(['www-authenticate', 'retry-after', 'dpop-nonce', 'allow']);

function keptHeaders(headers: Record<string, unknown>): Record<string, string> {
  const kept: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (CLIENT_ERROR_HEADERS.has(name.toLowerCase()) && typeof value === 'string' && /^[\x20-\x7e]*$/.test(value)) kept[name] = value;
  }
  return kept;
}

/**
 * The `onPreResponse` step: rewrites an error response (a Boom) to the JSON shape, adds `extraHeaders` (the next
 * `DPoP-Nonce` of a verified request) to every response. An AuthError thrown by a handler (no response of its own)
 * gets `errorResponse()`'s defaults, as on Express.
 */
export function renderError(request: Request, h: ResponseToolkit, extraHeaders: Readonly<Record<string, string>> | undefined, options: ErrorRenderingOptions): Lifecycle.ReturnValue {
  const response = request.response as (ResponseObject & { isBoom?: false }) | Boom | null;
  if (!response?.isBoom) {
    if (response && extraHeaders) for (const name in extraHeaders) (response as ResponseObject).header(name, extraHeaders[name]!);
    return h.continue;
  }
  const data: unknown = response.data;
  const auth = response instanceof AuthError ? response : data instanceof AuthError ? data : undefined;
  let status: number;
  let headers: Record<string, string>;
  let body: unknown;
  if (auth) {
    const answered = responseOf(auth);
    ({ status, body } = answered);
    headers = { ...answered.headers };
  } else {
    status = response.output.statusCode;
    if (status >= 500) {
      try {
        (options.onError ?? ((error) => console.error('auth0-tsoa-api:', error)))(response, request);
      } catch {
        /* a logger must not turn an error response into a crash */
      }
    }
    body = clientErrorBody(status, response);
    headers = status < 500 ? keptHeaders(response.output.headers) : {};
  }
  response.output.statusCode = status;
  response.output.payload = body as Boom['output']['payload'];
  response.output.headers = { ...headers, ...extraHeaders };
  return h.continue;
}
