/**
 * Express request → core request context: the method, the public URL (trust-proxy aware), the headers
 * (with repeated Authorization headers kept, which Node would silently drop), and whether a token was also sent
 * in the query string or body.
 */
import type { Request } from 'express';
import { AuthError, type RequestContext, type Headers } from '../core/index.js';

export interface PublicUrlOptions {
  /** Fixed public URL (overrides Host and every forwarded header). */
  publicUrl?: URL | undefined;
}

// host = reg-name / IPv4 / [IPv6], optional port (RFC 3986 §3.2.2). No userinfo, path or spaces. Underscores are
// valid in a reg-name and common in container service names (`http://my_api:3000`).
const HOST = /^(?:[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,62}[A-Za-z0-9_])?(?:\.[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,62}[A-Za-z0-9_])?)*|\[[0-9A-Fa-f:.]+\])(?::\d{1,5})?$/;
const PREFIX = /^(?:\/[A-Za-z0-9\-._~!$&'()*+,;=@]+)+\/?$/;
const TRAILING_PORT = /:(\d{1,5})$/; // after HOST matched, only a port can end in ":digits" (IPv6 ends in "]")

/** A syntactically valid host with, if any, a port in 1–65535. */
function validHost(host: string): boolean {
  if (!HOST.test(host)) return false;
  const port = TRAILING_PORT.exec(host)?.[1];
  return port === undefined || (Number(port) >= 1 && Number(port) <= 65535);
}

function first(value: string | string[] | undefined): string | undefined {
  const raw = Array.isArray(value) ? value[0] : value;
  return raw?.split(',')[0]?.trim() || undefined;
}

/** Whether Express's `trust proxy` setting trusts the peer that sent this request. */
function proxyTrusted(req: Request): boolean {
  const trust = req.app.get('trust proxy fn') as ((addr: string | undefined, i: number) => boolean) | undefined;
  return typeof trust === 'function' && trust(req.socket?.remoteAddress, 0);
}

/**
 * The absolute URL the client called. With a trusted proxy, `X-Forwarded-Proto` (via `req.protocol`),
 * `X-Forwarded-Host` and `X-Forwarded-Prefix` (first values, validated) are honoured; otherwise they are ignored.
 */
export function publicRequestUrl(req: Request, options: PublicUrlOptions = {}): string {
  const path = req.originalUrl || req.url || '/';
  if (options.publicUrl) {
    const base = options.publicUrl.href.replace(/\/+$/, '');
    return base + (path.startsWith('/') ? path : `/${path}`);
  }
  const trusted = proxyTrusted(req);
  const host = (trusted && first(req.headers['x-forwarded-host'])) || req.headers.host;
  if (!host || !validHost(host)) throw new AuthError('invalid_request', 'The Host header is missing or invalid', { reason: 'bad_host' });
  // A trusted X-Forwarded-Proto reaches req.protocol verbatim: only http(s) can be a public URL.
  const protocol = req.protocol.toLowerCase();
  if (protocol !== 'http' && protocol !== 'https') {
    throw new AuthError('invalid_request', 'The forwarded protocol is invalid', { reason: 'bad_proto' });
  }
  let prefix = '';
  const forwardedPrefix = trusted ? first(req.headers['x-forwarded-prefix']) : undefined;
  if (forwardedPrefix && PREFIX.test(forwardedPrefix) && !/(^|\/)\.\.?(\/|$)|%2e/i.test(forwardedPrefix)) {
    prefix = forwardedPrefix.replace(/\/+$/, '');
  }
  return `${protocol}://${host}${prefix}${path}`;
}

/** Headers for the core: Node keeps only the first Authorization header, so restore duplicates from rawHeaders. */
function coreHeaders(req: Request): Headers {
  let authorizations: string[] | undefined;
  const raw = req.rawHeaders ?? [];
  for (let i = 0; i < raw.length; i += 2) {
    if (raw[i]!.length === 13 && raw[i]!.toLowerCase() === 'authorization') (authorizations ??= []).push(raw[i + 1]!);
  }
  if (!authorizations || authorizations.length < 2) return req.headers as Headers;
  return { ...(req.headers as Headers), authorization: authorizations };
}

function hasAccessTokenParam(source: unknown): boolean {
  return source !== null && typeof source === 'object' && Object.prototype.hasOwnProperty.call(source, 'access_token');
}

/**
 * True when the request carries `access_token` in its query string or (parsed) body. The parsed query is checked
 * (not the raw URL): its names are percent-decoded, so `acc%65ss_token` counts too.
 */
function tokenOutsideHeader(req: Request): boolean {
  const query = (req.originalUrl ?? req.url ?? '').includes('?') ? req.query : undefined;
  return hasAccessTokenParam(query) || hasAccessTokenParam(req.body);
}

export function toRequestContext(req: Request, options: PublicUrlOptions = {}): RequestContext {
  return {
    method: req.method,
    url: publicRequestUrl(req, options),
    headers: coreHeaders(req),
    tokenOutsideHeader: tokenOutsideHeader(req),
  };
}
