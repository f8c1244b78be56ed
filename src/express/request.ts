/**
 * Express request → core request context: the method, the public URL (trust-proxy aware), the headers (with
 * repeated Authorization headers kept, which Node would silently drop), whether a token was also sent in the query
 * string or body, and the client certificate (from the TLS connection or a trusted proxy) for RFC 8705.
 */
import type { Request } from 'express';
import type { TLSSocket } from 'node:tls';
import { AuthError, ConfigurationError } from '../core/errors.js';
import type { Headers } from '../core/credentials.js';
import type { RequestContext } from '../core/validator.js';

/** How the public URL is found. */
export interface PublicUrlOptions {
  /** Fixed public URL (overrides Host and every forwarded header). */
  publicUrl?: URL | undefined;
}

/** How the client certificate is found (only read when a token is certificate-bound). */
export interface RequestContextOptions extends PublicUrlOptions {
  /** Read the client certificate (RFC 8705); false when certificate-bound tokens are disabled. */
  clientCertificates?: boolean;
}

// host = reg-name / IPv4 / [IPv6], optional port (RFC 3986 §3.2.2). No userinfo, path or spaces. Underscores are
// valid in a reg-name and common in container service names (`http://my_api:3000`).
const HOST = /^(?:[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,62}[A-Za-z0-9_])?(?:\.[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,62}[A-Za-z0-9_])?)*|\[[0-9A-Fa-f:.]+\])(?::\d{1,5})?$/;
const PREFIX = /^(?:\/[A-Za-z0-9\-._~!$&'()*+,;=@]+)+\/?$/;
const TRAILING_PORT = /:(\d{1,5})$/; // after HOST matched, only a port can end in ":digits" (IPv6 ends in "]")
// RFC 9440 §2.2: the DER certificate as a Structured Field byte sequence, `:base64:`.
const CLIENT_CERT = /^:([A-Za-z0-9+/]+={0,2}):$/;

/** The last Host value found valid: hosts repeat from request to request, and the pattern costs ≈ 1 µs. */
let lastValidHost = '';

/** A syntactically valid host with, if any, a port in 1–65535. */
function validHost(host: string): boolean {
  if (host === lastValidHost) return true;
  if (!checkHost(host)) return false;
  lastValidHost = host;
  return true;
}

function checkHost(host: string): boolean {
  if (!HOST.test(host)) return false;
  const port = TRAILING_PORT.exec(host)?.[1];
  return port === undefined || (Number(port) >= 1 && Number(port) <= 65535);
}

function first(value: string | string[] | undefined): string | undefined {
  const raw = Array.isArray(value) ? value[0] : value;
  return raw?.split(',')[0]?.trim() || undefined;
}

/**
 * What the adapter reads of a request, each property read once. Why: every request object that goes through Express
 * has a V8 map of its own (bench/express-request-maps.mjs; not the prototype change alone, which keeps maps shared),
 * so no property read on a request is ever cached — each one is a full lookup (≈ 0.3–1 µs, `req.headers` being a
 * getter), and a cache hit's whole budget is a few µs.
 */
interface RequestView {
  req: Request;
  /** The request target as received (`originalUrl`: before any router rewrote `url`). */
  target: string;
  rawHeaders: readonly string[];
}

function viewOf(req: Request): RequestView {
  return { req, target: req.originalUrl || req.url || '/', rawHeaders: req.rawHeaders ?? [] };
}

/** Whether Express's `trust proxy` setting trusts the peer on `socket`. */
function proxyTrusted(req: Request, socket: { remoteAddress?: string | undefined } | undefined): boolean {
  const trust = req.app?.get('trust proxy fn') as ((addr: string | undefined, i: number) => boolean) | undefined;
  return typeof trust === 'function' && trust(socket?.remoteAddress, 0);
}

function badRequest(reason: 'request.bad_host' | 'request.bad_proto' | 'request.duplicate_host' | 'request.absolute_form', description: string): AuthError {
  return new AuthError('invalid_request', reason, description);
}

/**
 * Refuses requests whose framing is ambiguous (contract decision 20): more than one `Host` line (RFC 9112 §3.2:
 * 400), or an absolute-form target (`GET http://host/path`), which names an authority of its own — a server that is
 * not a proxy has no business judging it against its Host header. Throws a 400 AuthError.
 */
export function checkFraming(req: Request): void {
  checkViewFraming(viewOf(req));
}

/** `name` equals `lower` (lower-case ASCII letters) ignoring case, without making a lower-cased copy of `name`. */
function isHeaderName(name: string, lower: string): boolean {
  if (name.length !== lower.length) return false;
  // For a target letter, `c | 0x20` equals it only for that letter in either case.
  for (let i = 0; i < lower.length; i++) if ((name.charCodeAt(i) | 0x20) !== lower.charCodeAt(i)) return false;
  return true;
}

function checkViewFraming({ rawHeaders, target }: RequestView): void {
  let hosts = 0;
  for (let i = 0; i < rawHeaders.length; i += 2) if (isHeaderName(rawHeaders[i]!, 'host')) hosts++;
  if (hosts > 1) throw badRequest('request.duplicate_host', 'The request has more than one Host header');
  if (!target.startsWith('/')) throw badRequest('request.absolute_form', 'The request target must be a path (origin-form)');
}

/**
 * The absolute URL the client called. With a trusted proxy, `X-Forwarded-Proto` (via `req.protocol`),
 * `X-Forwarded-Host` and `X-Forwarded-Prefix` (first values, validated) are honoured; otherwise they are ignored.
 */
export function publicRequestUrl(req: Request, options: PublicUrlOptions = {}): string {
  const view = viewOf(req);
  return publicUrlOf(view, req.headers, options);
}

function publicUrlOf(view: RequestView, headers: Request['headers'], options: PublicUrlOptions): string {
  checkViewFraming(view);
  const { req, target } = view;
  if (options.publicUrl) return options.publicUrl.href.replace(/\/+$/, '') + target;
  const socket = req.socket as Partial<TLSSocket> | undefined;
  const trusted = proxyTrusted(req, socket);
  const host = (trusted && first(headers['x-forwarded-host'])) || headers.host;
  if (!host || !validHost(host)) throw badRequest('request.bad_host', 'The Host header is missing or invalid');
  // A trusted X-Forwarded-Proto reaches req.protocol verbatim: only http(s) can be a public URL. Untrusted, the
  // connection decides, as in Express's own getter (not called: see RequestView).
  const protocol = trusted ? req.protocol.toLowerCase() : socket?.encrypted ? 'https' : 'http';
  if (protocol !== 'http' && protocol !== 'https') throw badRequest('request.bad_proto', 'The forwarded protocol is invalid');
  let prefix = '';
  const forwardedPrefix = trusted ? first(headers['x-forwarded-prefix']) : undefined;
  if (forwardedPrefix && PREFIX.test(forwardedPrefix) && !/(^|\/)\.\.?(\/|$)|%2e/i.test(forwardedPrefix)) {
    prefix = forwardedPrefix.replace(/\/+$/, '');
  }
  return `${protocol}://${host}${prefix}${target}`;
}

/** Headers for the core: Node keeps only the first Authorization header, so restore duplicates from rawHeaders. */
function coreHeaders(rawHeaders: readonly string[], headers: Request['headers']): Headers {
  let authorizations: string[] | undefined;
  for (let i = 0; i < rawHeaders.length; i += 2) {
    if (isHeaderName(rawHeaders[i]!, 'authorization')) (authorizations ??= []).push(rawHeaders[i + 1]!);
  }
  if (!authorizations || authorizations.length < 2) return headers as Headers;
  return { ...(headers as Headers), authorization: authorizations };
}

const TOKEN_PARAM = 'access_token';

/**
 * Whether a parameter name (already decoded) is `access_token` in a spelling some parser turns into it: itself, or
 * qs's nested forms `access_token[]`, `access_token[x]` and (with `allowDots`) `access_token.x`.
 */
function isTokenParamName(name: string): boolean {
  if (!name.startsWith(TOKEN_PARAM)) return false;
  const next = name.charCodeAt(TOKEN_PARAM.length);
  return Number.isNaN(next) || next === 0x5b /* [ */ || next === 0x2e /* . */;
}

/** Percent-decoding as query parsers do it (`+` is a space); an undecodable name stays as it is, as in qs. */
function decodeParamName(name: string): string {
  const spaced = name.includes('+') ? name.replace(/\+/g, ' ') : name;
  if (!spaced.includes('%')) return spaced;
  try {
    return decodeURIComponent(spaced);
  } catch {
    return spaced;
  }
}

/**
 * Whether a raw `application/x-www-form-urlencoded` string (a query string or a form body) has an `access_token`
 * parameter in any spelling. Read raw, whatever parser the app uses (Express 5's `simple` keeps `access_token[]` as
 * a name of its own, qs nests it, and qs stops after 1,000 parameters), and split on `&` and `;` (the separators
 * parsers accept). Names only: values are never decoded.
 */
export function hasTokenParam(raw: string): boolean {
  // Fast path: the name cannot be there without its text or a percent-encoding.
  if (!raw.includes(TOKEN_PARAM) && !raw.includes('%')) return false;
  for (const pair of raw.split(/[&;]/)) {
    const equals = pair.indexOf('=');
    if (isTokenParamName(decodeParamName(equals === -1 ? pair : pair.slice(0, equals)))) return true;
  }
  return false;
}

const FORM = /^\s*application\/x-www-form-urlencoded\s*(?:;|$)/i;

/**
 * Whether the body may carry `access_token` (RFC 6750 §2.2), for a request that has a body (RFC 9112 §6.3: it has
 * `Content-Length` or `Transfer-Encoding`; `req.body` is not read otherwise — on a GET, where parsers leave it unset,
 * that read is a lookup through the request's whole prototype chain):
 *
 * - parsed into an object: any own key that is the parameter in any spelling;
 * - parsed into text or bytes (`express.text()`, `express.raw()`) of a form: the raw form, scanned like a query;
 * - not read by anyone yet (no parser took it: `req._body` unset and the stream not consumed) while its type is a
 *   form: counted, since the form may carry a token the app merely does not parse. The request cannot be told
 *   apart without reading a body the app chose not to read, so it fails closed: an anonymous client posting a form
 *   to an optional route of an app that does not parse forms gets 401, never an anonymous answer.
 */
function bodyMayCarryToken(req: Request, headers: Request['headers']): boolean {
  if (headers['content-length'] === undefined && headers['transfer-encoding'] === undefined) return false;
  if (headers['content-length'] === '0') return false;
  const form = FORM.test(headers['content-type'] ?? '');
  const body = req.body as unknown;
  if (typeof body === 'string') return form && hasTokenParam(body);
  if (body instanceof Uint8Array) return form && hasTokenParam(Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString('latin1'));
  if (body !== null && typeof body === 'object' && !Array.isArray(body)) {
    if (Object.keys(body).some(isTokenParamName)) return true;
  }
  const unread = (req as { _body?: unknown })._body !== true && req.readableEnded !== true;
  return form && unread;
}

/**
 * True when the request carries `access_token` in its query string or body, in any spelling the framework's
 * parsers produce (see {@link hasTokenParam} and bodyMayCarryToken). The raw query is read, not `req.query`: its
 * names are percent-decoded here, so `acc%65ss_token` counts too, and no parser setting can hide one.
 */
function tokenOutsideHeader({ req, target }: RequestView, headers: Request['headers']): boolean {
  const question = target.indexOf('?');
  if (question !== -1 && hasTokenParam(target.slice(question + 1))) return true;
  return bodyMayCarryToken(req, headers);
}

// Addresses spread over each family (documentation, public, unique-local and link-local ranges): a `trust proxy`
// setting that trusts all of one family's is `true`, a hop count, 0.0.0.0/0, ::/0 or a function saying yes to all.
const IPV4_PROBES = ['1.2.3.4', '64.1.2.3', '128.1.2.3', '198.51.100.7', '203.0.113.7', '223.255.255.254'];
const IPV6_PROBES = ['2001:db8::7', '2606:4700::1111', '3fff::1', 'fd12:3456::1', 'fe80::1', '::2'];

/**
 * Whether Express's `trust proxy` setting would trust whoever connects (`true`, a hop count, `0.0.0.0/0`, `::/0`, a
 * function that trusts everyone): then anyone who can reach the app directly is "a trusted proxy", and a
 * `Client-Cert` header is a claim anyone can make with a victim's (public) certificate.
 */
function trustsEveryAddress(app: Request['app'] | undefined): boolean {
  const trust = app?.get('trust proxy fn') as ((addr: string, i: number) => boolean) | undefined;
  if (typeof trust !== 'function') return false;
  const all = (addresses: string[]) => addresses.every((address) => trust(address, 0) === true);
  return all(IPV4_PROBES) || all(IPV6_PROBES);
}

/**
 * Refuses at start-up (`install`) an mTLS configuration whose `Client-Cert` header (RFC 9440) would be believed
 * from any address. Requests are safe anyway (the header is then ignored), but certificate-bound tokens would all
 * fail, and the setting is a mistake to fix, not to run with.
 */
export function checkClientCertificateTrust(app: Request['app']): void {
  if (!trustsEveryAddress(app)) return;
  const setting = app.get('trust proxy') as unknown;
  throw new ConfigurationError(
    'mtls.mode',
    `the Express "trust proxy" setting (${typeof setting === 'function' ? 'a function' : JSON.stringify(setting)}) trusts every address, so anyone could send a Client-Cert header; name your proxies (app.set('trust proxy', '10.0.0.2')) or set mtls.mode "disabled"`,
  );
}

/**
 * The client certificate (DER) for RFC 8705: from a trusted proxy named by address, its `Client-Cert` header
 * (RFC 9440) and never the connection's (which is the proxy's); from anyone else, the TLS connection's and never a
 * header (a client could write any header). Undefined when there is none, or when the header is repeated or
 * malformed, or comes through a `trust proxy` of `true` or a hop count.
 */
export function clientCertificate(req: Request): Uint8Array | undefined {
  if (proxyTrusted(req, req.socket)) {
    if (trustsEveryAddress(req.app)) return undefined;
    const header = req.headers['client-cert'];
    if (typeof header !== 'string') return undefined;
    const match = CLIENT_CERT.exec(header.trim());
    return match ? Buffer.from(match[1]!, 'base64') : undefined;
  }
  const socket = req.socket as Partial<TLSSocket> | undefined;
  if (typeof socket?.getPeerCertificate !== 'function') return undefined;
  const raw = socket.getPeerCertificate(false)?.raw;
  return raw && raw.length > 0 ? raw : undefined;
}

/** The core's view of an Express request. Throws a 400 AuthError for a bad Host or ambiguous framing. */
export function toRequestContext(req: Request, options: RequestContextOptions = {}): RequestContext {
  const view = viewOf(req);
  const headers = req.headers;
  return {
    method: req.method,
    url: publicUrlOf(view, headers, options),
    headers: coreHeaders(view.rawHeaders, headers),
    tokenOutsideHeader: tokenOutsideHeader(view, headers),
    ...(options.clientCertificates ? { clientCertificate: () => clientCertificate(req) } : {}),
  };
}
