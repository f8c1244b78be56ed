/**
 * Express request → the core's {@link IncomingRequest}: each property read once, the app's `trust proxy` function
 * handed over as it is. Framing, the public URL, proxies and certificates are decided in core/http/request-context.ts.
 */
import type { Request } from 'express';
import type { TLSSocket } from 'node:tls';
import type { RequestHeaders } from '../core/http/credentials.js';
import type { IncomingRequest, RequestSettings } from '../core/http/request.js';
import { checkClientCertificateTrust, trustsEveryAddress } from '../core/http/request-context.js';
import { bodyMayCarryToken, queryHasTokenParam } from '../core/http/token-params.js';
import type { TrustProxyFunction, TrustProxySetting } from '../core/http/trust-proxy.js';

/**
 * True when the request carries `access_token` in its query string or body, in any spelling the framework's parsers
 * produce (core/http/token-params.ts). The raw query is read, not `req.query`: no parser setting can hide a parameter.
 * A request without `Content-Length` or `Transfer-Encoding` has no body (RFC 9112 §6.3), so `req.body` is not read
 * for it: on a GET, where body parsers leave it unset, that read is a lookup through the request's whole prototype chain.
 */
function tokenOutsideHeader(req: Request, target: string, headers: Request['headers']): boolean {
  if (queryHasTokenParam(target)) return true;
  const contentLength = headers['content-length'];
  const transferEncoding = headers['transfer-encoding'];
  if (contentLength === undefined && transferEncoding === undefined) return false;
  // `_body` is set by Express's body parsers once they consumed the stream.
  const unread = (req as { _body?: unknown })._body !== true && req.readableEnded !== true;
  return bodyMayCarryToken({ contentLength, transferEncoding, contentType: headers['content-type'], body: req.body as unknown, unread });
}

/**
 * What the core needs of an Express request, each property read once. Why once: every request object that goes
 * through Express has a V8 map of its own (bench/express-request-maps.mjs), so no property read on a request is ever
 * cached — each one is a full lookup (≈ 0.3–1 µs, `req.headers` being a getter).
 */
export function incomingRequest(req: Request): IncomingRequest {
  const target = req.originalUrl || req.url || '/';
  const headers = req.headers;
  const socket = req.socket as Partial<TLSSocket> | undefined;
  return {
    method: req.method,
    target,
    headers: headers as RequestHeaders,
    rawHeaders: req.rawHeaders ?? [],
    remoteAddress: socket?.remoteAddress,
    encrypted: socket?.encrypted === true,
    peerCertificate: () => (typeof socket?.getPeerCertificate === 'function' ? socket.getPeerCertificate(false)?.raw : undefined),
    tokenOutsideHeader: tokenOutsideHeader(req, target, headers),
  };
}

/** The app's `trust proxy` setting, as the core takes it (Express's own compiled function). */
export function proxySettings(req: Request): Pick<RequestSettings, 'trustProxy' | 'proxiesNamed'> {
  const app = req.app;
  const trust = app?.get('trust proxy fn') as TrustProxyFunction | undefined;
  return { trustProxy: typeof trust === 'function' ? trust : undefined, proxiesNamed: !trustsEveryAddress(trust) };
}

/** Refuses (ConfigurationError) an Express `trust proxy` setting that would believe `Client-Cert` from anyone. */
export function checkExpressClientCertificateTrust(app: Request['app']): void {
  const setting = app.get('trust proxy') as TrustProxySetting | undefined;
  const described = typeof setting === 'function' ? 'a function' : `app.set('trust proxy', ${JSON.stringify(setting)})`;
  checkClientCertificateTrust(app.get('trust proxy fn') as TrustProxyFunction | undefined, described);
}
