/**
 * Every hapi error answer in the Express error handler's shape (docs/decisions.md D22), not hapi's `{statusCode, error,
 * message}`: the core's errorReply decides status, headers and body; this only reads hapi's Boom and writes its output.
 */
import type { Boom } from '@hapi/boom';
import type { Lifecycle, Request, ResponseObject, ResponseToolkit } from '@hapi/hapi';
import { AuthError } from '../core/errors.js';
import { errorReply } from '../core/http/error-reply.js';

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
  // A Boom's status and headers are its output's (hapi boomifies what a handler throws: 500 unless it is a Boom).
  const reply = errorReply(auth ?? { status: response.output.statusCode, headers: response.output.headers, fields: (response as { fields?: unknown }).fields });
  if (reply.unexpected) {
    try {
      (options.onError ?? ((error) => console.error('auth0-tsoa-api:', error)))(response, request);
    } catch {
      /* a logger must not turn an error response into a crash */
    }
  }
  response.output.statusCode = reply.status;
  response.output.payload = reply.body as unknown as Boom['output']['payload'];
  response.output.headers = { ...reply.headers, ...extraHeaders };
  return h.continue;
}
