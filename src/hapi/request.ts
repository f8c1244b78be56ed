/** hapi request → the core's {@link IncomingRequest}; framing, URL, proxies, certificates: core/http/request-context.ts. */
import type { Request } from '@hapi/hapi';
import type { TLSSocket } from 'node:tls';
import type { RequestHeaders } from '../core/http/credentials.js';
import type { IncomingRequest } from '../core/http/request.js';

function hasAccessToken(source: unknown): boolean {
  return source !== null && typeof source === 'object' && Object.prototype.hasOwnProperty.call(source, 'access_token');
}

/** True when the parsed body (hapi parses it after authentication, before `pre` methods) carries `access_token`. */
export function bodyCarriesToken(request: Request): boolean {
  return hasAccessToken(request.payload);
}

/**
 * What the core needs of a hapi request. The target is Node's (`raw.req.url`: what the client sent, before any
 * `setUrl`), the headers Node's, the peer the socket's. The parsed query is checked for `access_token` (names are
 * percent-decoded, so `acc%65ss_token` counts), and the body once hapi has parsed it.
 */
export function incomingRequest(request: Request): IncomingRequest {
  const req = request.raw.req;
  const target = req.url || '/';
  const socket = req.socket as Partial<TLSSocket> | undefined;
  return {
    method: req.method ?? request.method.toUpperCase(),
    target,
    headers: req.headers as RequestHeaders,
    rawHeaders: req.rawHeaders ?? [],
    remoteAddress: socket?.remoteAddress,
    encrypted: socket?.encrypted === true,
    peerCertificate: () => (typeof socket?.getPeerCertificate === 'function' ? socket.getPeerCertificate(false)?.raw : undefined),
    tokenOutsideHeader: (target.includes('?') && hasAccessToken(request.query)) || bodyCarriesToken(request),
  };
}
