/** hapi request → the core's {@link IncomingRequest}; framing, URL, proxies, certificates: core/http/request-context.ts. */
import Boom from '@hapi/boom';
import type { Request } from '@hapi/hapi';
import type { IncomingMessage, Server as NodeServer } from 'node:http';
import type { IncomingRequest } from '../core/http/request.js';
import { nodeIncomingRequest } from '../core/http/request-context.js';
import { isTokenParamName } from '../core/http/token-params.js';
import { BodyTooLargeError, readBodyText } from '../core/http/read-body.js';

/**
 * True when the parsed body (hapi parses it after authentication, before `pre` methods) carries `access_token` in any
 * spelling a parser produces (docs/decisions.md D3).
 */
export function bodyCarriesToken(request: Request): boolean {
  const body = request.payload;
  return body !== null && typeof body === 'object' && !Array.isArray(body) && Object.keys(body).some(isTokenParamName);
}

/**
 * hapi never reads a GET's body; Express and Koa parse a JSON or form body whatever the method, so a token sent there
 * is seen and refused (RFC 6750 §2), an oversized one is 413 and malformed JSON 400. This reads it the same way.
 */
export async function readGetBody(request: Request, limit: number): Promise<void> {
  const req = request.raw.req;
  if (request.route.settings.payload || (req.headers['content-length'] === undefined && req.headers['transfer-encoding'] === undefined)) return;
  const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
  const json = type === 'application/json' || type.endsWith('+json');
  if (!json && type !== 'application/x-www-form-urlencoded') return;
  if (Number(req.headers['content-length']) > limit) throw Boom.entityTooLarge();
  const text = await readBodyText(req, limit).catch((error: unknown) => {
    throw error instanceof BodyTooLargeError ? Boom.entityTooLarge() : error;
  });
  if (text.trim() === '') return;
  try {
    (request as { payload: unknown }).payload = json ? JSON.parse(text) : Object.fromEntries(new URLSearchParams(text));
  } catch {
    throw Boom.badRequest('Invalid request payload JSON format');
  }
}

/**
 * What the core needs of a hapi request: Node's (`raw.req`: the target as sent, before any `setUrl`), and whether the
 * body carries a token once hapi has parsed it (core/http/request-context.ts).
 */
export function incomingRequest(request: Request): IncomingRequest {
  return nodeIncomingRequest(request.raw.req, bodyCarriesToken(request));
}

/** The Host values hapi accepts (lib/request.js); it answers any other with a bare 400 before every extension. */
const HAPI_HOST = /^(?:\[[\w:.%~-]+\]|[\w.~!$&'()*+,;=%-]*)(?::\d*)?$/;
const deferred = new WeakSet<NodeServer>();

/**
 * Leaves the Host check to the core, as on Express: a route that does not build URLs (GET /api/public) serves a
 * request with a bad Host, and authentication answers 400 with its challenge (docs/decisions.md D22). hapi sees an
 * empty Host while it builds the request (it reads it once, synchronously); the core reads the one sent.
 */
export function deferHostCheck(listener: NodeServer): void {
  if (deferred.has(listener)) return;
  deferred.add(listener);
  for (const event of ['request', 'checkContinue'] as const) {
    for (const handler of listener.listeners(event) as Array<(req: IncomingMessage, ...rest: unknown[]) => void>) {
      listener.off(event, handler);
      listener.on(event, (req: IncomingMessage, ...rest: unknown[]) => {
        const host = req.headers.host;
        if (host === undefined || HAPI_HOST.test(host.trim())) return handler(req, ...rest);
        req.headers.host = '';
        try {
          handler(req, ...rest);
        } finally {
          req.headers.host = host;
        }
      });
    }
  }
}
