/**
 * Incoming request → core request context, for every framework: the framing checks (docs/decisions.md D20), the
 * public URL (trusted proxies as Express's `trust proxy` decides them, trust-proxy.ts), the headers (repeated
 * `Authorization` lines kept, which Node drops) and the client certificate (RFC 8705, RFC 9440). Adapters read a
 * request once into an {@link IncomingRequest}; nothing here knows a framework.
 */
import type { IncomingMessage } from 'node:http';
import type { TLSSocket } from 'node:tls';
import { AuthError, ConfigurationError } from '../errors.js';
import type { RequestHeaders } from './credentials.js';
import type { IncomingRequest, RequestContext, RequestSettings } from './request.js';
import { queryHasTokenParam } from './token-params.js';
import { compileTrustProxy, type TrustProxyFunction, type TrustProxySetting } from './trust-proxy.js';

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
  if (!HOST.test(host)) return false;
  const port = TRAILING_PORT.exec(host)?.[1];
  if (port !== undefined && (Number(port) < 1 || Number(port) > 65535)) return false;
  lastValidHost = host;
  return true;
}

function first(value: string | readonly string[] | undefined): string | undefined {
  const raw = typeof value === 'string' ? value : value?.[0];
  return raw?.split(',')[0]?.trim() || undefined;
}

function badRequest(reason: 'request.bad_host' | 'request.bad_proto' | 'request.duplicate_host' | 'request.absolute_form', description: string): AuthError {
  return new AuthError('invalid_request', reason, description);
}

/** `name` equals `lower` (lower-case ASCII letters) ignoring case, without making a lower-cased copy of `name`. */
function isHeaderName(name: string, lower: string): boolean {
  if (name.length !== lower.length) return false;
  // For a target letter, `c | 0x20` equals it only for that letter in either case.
  for (let i = 0; i < lower.length; i++) if ((name.charCodeAt(i) | 0x20) !== lower.charCodeAt(i)) return false;
  return true;
}

/**
 * Refuses requests whose framing is ambiguous (docs/decisions.md D20): more than one `Host` line (RFC 9112 §3.2: 400),
 * or an absolute-form target (`GET http://host/path`), which names an authority of its own — a server that is not a
 * proxy has no business judging it against its Host header. Throws a 400 AuthError.
 */
export function checkFraming(request: Pick<IncomingRequest, 'rawHeaders' | 'target'>): void {
  const { rawHeaders } = request;
  let hosts = 0;
  for (let i = 0; i < rawHeaders.length; i += 2) if (isHeaderName(rawHeaders[i]!, 'host')) hosts++;
  if (hosts > 1) throw badRequest('request.duplicate_host', 'The request has more than one Host header');
  if (!request.target.startsWith('/')) throw badRequest('request.absolute_form', 'The request target must be a path (origin-form)');
}

/**
 * The absolute URL the client called. From a trusted proxy, `X-Forwarded-Proto`, `X-Forwarded-Host` and
 * `X-Forwarded-Prefix` (first values, validated) are honoured; otherwise they are ignored. Checks the framing first.
 */
export function publicRequestUrl(request: Omit<IncomingRequest, 'method' | 'tokenOutsideHeader'>, settings: RequestSettings = {}): string {
  checkFraming(request);
  const { target, headers } = request;
  if (settings.publicUrl) return settings.publicUrl.href.replace(/\/+$/, '') + target;
  const trusted = settings.trustProxy?.(request.remoteAddress, 0) === true;
  const host = (trusted && first(headers['x-forwarded-host'])) || (headers.host as string | undefined);
  if (!host || !validHost(host)) throw badRequest('request.bad_host', 'The Host header is missing or invalid');
  // A trusted X-Forwarded-Proto is taken as Express's req.protocol takes it (first value, trimmed): only http(s) can
  // be a public URL. Untrusted, the connection decides.
  const connection = request.encrypted ? 'https' : 'http';
  const protocol = trusted ? forwardedProtocol(headers['x-forwarded-proto'], connection) : connection;
  if (protocol !== 'http' && protocol !== 'https') throw badRequest('request.bad_proto', 'The forwarded protocol is invalid');
  let prefix = '';
  const forwardedPrefix = trusted ? first(headers['x-forwarded-prefix']) : undefined;
  if (forwardedPrefix && PREFIX.test(forwardedPrefix) && !/(^|\/)\.\.?(\/|$)|%2e/i.test(forwardedPrefix)) {
    prefix = forwardedPrefix.replace(/\/+$/, '');
  }
  return `${protocol}://${host}${prefix}${target}`;
}

function forwardedProtocol(value: string | readonly string[] | undefined, connection: string): string {
  const header = (typeof value === 'string' ? value : value?.[0]) || connection;
  const comma = header.indexOf(',');
  return (comma === -1 ? header : header.substring(0, comma)).trim().toLowerCase();
}

/** Headers for the core: Node keeps only the first Authorization header, so restore duplicates from rawHeaders. */
function coreHeaders(rawHeaders: readonly string[], headers: RequestHeaders): RequestHeaders {
  let authorizations: string[] | undefined;
  for (let i = 0; i < rawHeaders.length; i += 2) {
    if (isHeaderName(rawHeaders[i]!, 'authorization')) (authorizations ??= []).push(rawHeaders[i + 1]!);
  }
  if (!authorizations || authorizations.length < 2) return headers;
  return { ...headers, authorization: authorizations };
}

// Addresses spread over each family (documentation, public, unique-local and link-local ranges): a `trust proxy`
// setting that trusts all of one family's is `true`, a hop count, subnets covering a whole family (e.g. two /1 ranges;
// `/0` itself is refused by the compiler, as by Express) or a function saying yes to all.
const IPV4_PROBES = ['1.2.3.4', '64.1.2.3', '128.1.2.3', '198.51.100.7', '203.0.113.7', '223.255.255.254'];
const IPV6_PROBES = ['2001:db8::7', '2606:4700::1111', '3fff::1', 'fd12:3456::1', 'fe80::1', '::2'];

/**
 * Whether a compiled `trust proxy` function trusts whoever connects (`true`, a hop count, subnets covering a family, a
 * function that trusts everyone): then anyone who can reach the app directly is "a trusted proxy", and a
 * `Client-Cert` header is a claim anyone can make with a victim's (public) certificate.
 */
export function trustsEveryAddress(trust: TrustProxyFunction | undefined): boolean {
  if (typeof trust !== 'function') return false;
  const all = (addresses: string[]) => addresses.every((address) => trust(address, 0) === true);
  return all(IPV4_PROBES) || all(IPV6_PROBES);
}

/**
 * An adapter's `trustProxy` option (Express's `trust proxy` forms), compiled once: the same setting means the same
 * thing on every framework. `proxiesNamed`: the setting names its proxies (see {@link trustsEveryAddress}), and only
 * then is `Client-Cert` believed. Throws a ConfigurationError naming the option for a form Express would refuse.
 */
export function trustProxyOption(setting: TrustProxySetting | undefined): { trustProxy: TrustProxyFunction; proxiesNamed: boolean } {
  let trust: TrustProxyFunction;
  try {
    trust = compileTrustProxy(setting ?? false);
  } catch (error) {
    throw new ConfigurationError('trustProxy', `${(error as Error).message}; use Express's trust proxy forms (true, a hop count, 'loopback', '10.0.0.0/8', …)`);
  }
  return { trustProxy: trust, proxiesNamed: !trustsEveryAddress(trust) };
}

/**
 * What the core needs of a Node request (Koa's `ctx.req`, hapi's `request.raw.req`), each property read once: the
 * target as the client sent it (`req.url`, before any router rewrote it), Node's headers, the socket's peer and
 * certificate. The raw query is scanned for `access_token` in any spelling (docs/decisions.md D3, D28);
 * `tokenInBody` says whether the framework's parsed body carries one.
 */
export function nodeIncomingRequest(req: IncomingMessage, tokenInBody: boolean): IncomingRequest {
  const target = req.url || '/';
  const socket = req.socket as Partial<TLSSocket> | undefined;
  return {
    method: req.method ?? 'GET',
    target,
    headers: req.headers,
    rawHeaders: req.rawHeaders ?? [],
    remoteAddress: socket?.remoteAddress,
    encrypted: socket?.encrypted === true,
    peerCertificate: () => (typeof socket?.getPeerCertificate === 'function' ? socket.getPeerCertificate(false)?.raw : undefined),
    tokenOutsideHeader: queryHasTokenParam(target) || tokenInBody,
  };
}

/**
 * Refuses at start-up an mTLS configuration whose `Client-Cert` header (RFC 9440) would be believed from any address
 * (docs/decisions.md D27). Requests are safe anyway (the header is then ignored), but certificate-bound tokens would
 * all fail, and the setting is a mistake to fix, not to run with. `described`: the setting as the user wrote it.
 */
export function checkClientCertificateTrust(trust: TrustProxyFunction | undefined, described: string): void {
  if (!trustsEveryAddress(trust)) return;
  throw new ConfigurationError('mtls.mode', `the "trust proxy" setting (${described}) trusts every address, so anyone could send a Client-Cert header; name your proxies (e.g. '10.0.0.2') or set mtls.mode "disabled"`);
}

/**
 * The client certificate (DER) for RFC 8705: from a trusted proxy named by address, its `Client-Cert` header
 * (RFC 9440) and never the connection's (which is the proxy's); from anyone else, the TLS connection's and never a
 * header (a client could write any header). Undefined when there is none, or when the header is repeated or
 * malformed, or comes through a `trust proxy` of `true` or a hop count.
 */
export function clientCertificate(request: Pick<IncomingRequest, 'headers' | 'remoteAddress' | 'peerCertificate'>, settings: RequestSettings): Uint8Array | undefined {
  if (settings.trustProxy?.(request.remoteAddress, 0) === true) {
    if (settings.proxiesNamed === false) return undefined;
    const header = request.headers['client-cert'];
    if (typeof header !== 'string') return undefined;
    const match = CLIENT_CERT.exec(header.trim());
    return match ? Buffer.from(match[1]!, 'base64') : undefined;
  }
  const raw = request.peerCertificate?.();
  return raw && raw.length > 0 ? raw : undefined;
}

/** The core's view of a request, built once. Throws a 400 AuthError for a bad Host or ambiguous framing. */
export function toRequestContext(request: IncomingRequest, settings: RequestSettings = {}): RequestContext {
  return {
    method: request.method,
    url: publicRequestUrl(request, settings),
    headers: coreHeaders(request.rawHeaders, request.headers),
    tokenOutsideHeader: request.tokenOutsideHeader,
    ...(settings.clientCertificates ? { clientCertificate: () => clientCertificate(request, settings) } : {}),
  };
}
