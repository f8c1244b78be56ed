/**
 * Every hapi error answer in the Express error handler's shape (docs/decisions.md D22), not hapi's `{statusCode, error,
 * message}`: an AuthError with its own response (challenges, `Retry-After`, `DPoP-Nonce`); 5xx logged, message hidden.
 */
import type { Boom } from '@hapi/boom';
import type { Lifecycle, Request, ResponseObject, ResponseToolkit } from '@hapi/hapi';
import { AuthError } from '../core/errors.js';
import { responseOf } from '../core/http/error-response.js';
import { clientErrorBody, clientErrorHeaders } from '../core/http/client-errors.js';

/** How errors are reported. */
export interface ErrorRenderingOptions {
  /** Called with every 5xx error and its request. Default: `console.error`. */
  onError?: ((error: unknown, request: Request) => void) | undefined;
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
    headers = status < 500 ? clientErrorHeaders(response.output.headers) : {};
  }
  response.output.statusCode = status;
  response.output.payload = body as Boom['output']['payload'];
  response.output.headers = { ...headers, ...extraHeaders };
  return h.continue;
}
