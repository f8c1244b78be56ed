/**
 * Incoming request → core request context (src/core/http/request-context.ts): ambiguous framing refused with 400
 * (docs/decisions.md D20: two Host lines, an absolute-form target); the public URL from the `publicUrl` setting, or
 * from Host and — only from a trusted proxy — validated X-Forwarded-Host/Proto/Prefix; a bad host or protocol is a
 * 400 with its reason, never a 500. mTLS (RFC 8705, RFC 9440): a `Client-Cert` header is believed only from a
 * trusted proxy named by address (docs/decisions.md D27), and a `trust proxy` that trusts everyone is refused at
 * start-up. Trust functions are the real compiled `trust proxy` settings.
 */
import { describe, expect, it } from 'vitest';
import { AuthError, ConfigurationError, type AuthFailureReason } from '../../../src/core/errors.js';
import { checkClientCertificateTrust, checkFraming, clientCertificate, nodeIncomingRequest, publicRequestUrl, toRequestContext, trustProxyOption, trustsEveryAddress } from '../../../src/core/http/request-context.js';
import type { IncomingMessage } from 'node:http';
import type { IncomingRequest, RequestSettings } from '../../../src/core/http/request.js';
import { compileTrustProxy } from '../../../src/core/http/trust-proxy.js';

/** A request as an adapter reads it: `raw` are the header lines as received (name, value, …). */
function request(raw: string[], overrides: Partial<IncomingRequest> = {}): IncomingRequest {
  const headers: Record<string, string | string[]> = {};
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!.toLowerCase();
    const existing = headers[name];
    if (existing === undefined) headers[name] = raw[i + 1]!;
    else if (name !== 'host' && name !== 'authorization') headers[name] = [...(Array.isArray(existing) ? existing : [existing]), raw[i + 1]!];
  }
  return { method: 'GET', target: '/orders?id=1', headers, rawHeaders: raw, remoteAddress: '127.0.0.1', encrypted: false, tokenOutsideHeader: false, ...overrides };
}

function refusal(fn: () => unknown): AuthError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(AuthError);
    return error as AuthError;
  }
  throw new Error('not refused');
}

function expectBadRequest(fn: () => unknown, reason: AuthFailureReason): void {
  const error = refusal(fn);
  expect(error.status).toBe(400);
  expect(error.code).toBe('invalid_request');
  expect(error.reason).toBe(reason);
}

const trustLoopback: RequestSettings = { trustProxy: compileTrustProxy('loopback'), proxiesNamed: true };

describe('checkFraming (docs/decisions.md D20)', () => {
  it('accepts one Host line and an origin-form target', () => {
    expect(() => checkFraming({ rawHeaders: ['Host', 'api.example.com'], target: '/orders' })).not.toThrow();
  });

  it.each([
    [['Host', 'a.example', 'Host', 'b.example']],
    [['host', 'a.example', 'HOST', 'a.example']], // the same value twice is still two lines
    [['Host', 'a.example', 'Accept', '*/*', 'hOsT', 'b.example']],
  ])('refuses two Host lines %j', (raw) => {
    expectBadRequest(() => checkFraming({ rawHeaders: raw, target: '/' }), 'request.duplicate_host');
  });

  it('does not count headers merely starting with "host"', () => {
    expect(() => checkFraming({ rawHeaders: ['Host', 'a', 'Hosts', 'b', 'X-Host', 'c', 'Hos', 'd'], target: '/' })).not.toThrow();
  });

  it.each(['http://evil.example/orders', 'https://api.example.com/', '*', 'orders', ''])('refuses the target %j (not origin-form)', (target) => {
    expectBadRequest(() => checkFraming({ rawHeaders: ['Host', 'api.example.com'], target }), 'request.absolute_form');
  });
});

describe('publicRequestUrl: Host and the connection', () => {
  it('is http://Host + target on a plain connection, https:// on TLS', () => {
    expect(publicRequestUrl(request(['Host', 'api.example.com']))).toBe('http://api.example.com/orders?id=1');
    expect(publicRequestUrl(request(['Host', 'api.example.com:8443'], { encrypted: true }))).toBe('https://api.example.com:8443/orders?id=1');
  });

  it.each(['my_api:3000', '[::1]:8080', '127.0.0.1', 'a.b-c.example:65535', 'localhost:1'])('accepts the host %j', (host) => {
    expect(publicRequestUrl(request(['Host', host]))).toBe(`http://${host}/orders?id=1`);
  });

  it.each(['', 'a b', 'user@api.example.com', 'api.example.com/path', 'api.example.com:0', 'api.example.com:65536', 'api.example.com:', '-a.example', 'a..example', '[::1', 'a.example:12345678'])(
    'refuses the host %j with 400 request.bad_host',
    (host) => {
      expectBadRequest(() => publicRequestUrl(request(['Host', host])), 'request.bad_host');
    },
  );

  it('refuses a missing Host with 400 request.bad_host', () => {
    expectBadRequest(() => publicRequestUrl(request([])), 'request.bad_host');
  });

  it('checks the framing first', () => {
    expectBadRequest(() => publicRequestUrl(request(['Host', 'a.example', 'Host', 'a.example'])), 'request.duplicate_host');
    expectBadRequest(() => publicRequestUrl(request(['Host', 'a.example'], { target: 'http://a.example/' })), 'request.absolute_form');
  });
});

describe('publicRequestUrl: the publicUrl setting', () => {
  it('is the configured origin and path + target, whatever the Host says', () => {
    const settings = { publicUrl: new URL('https://api.example.com/v1/') };
    expect(publicRequestUrl(request(['Host', 'internal:3000']), settings)).toBe('https://api.example.com/v1/orders?id=1');
    expect(publicRequestUrl(request([]), settings)).toBe('https://api.example.com/v1/orders?id=1');
    expect(publicRequestUrl(request(['Host', 'a b', 'X-Forwarded-Host', 'evil.example']), { ...settings, ...trustLoopback })).toBe('https://api.example.com/v1/orders?id=1');
  });

  it('still refuses ambiguous framing', () => {
    expectBadRequest(() => publicRequestUrl(request(['Host', 'a', 'Host', 'b']), { publicUrl: new URL('https://api.example.com') }), 'request.duplicate_host');
  });
});

describe('publicRequestUrl: X-Forwarded-* headers', () => {
  const forwarded = ['Host', 'internal:3000', 'X-Forwarded-Host', 'api.example.com', 'X-Forwarded-Proto', 'https', 'X-Forwarded-Prefix', '/shop/'];

  it('ignores them from an untrusted peer', () => {
    expect(publicRequestUrl(request(forwarded, { remoteAddress: '203.0.113.9' }), trustLoopback)).toBe('http://internal:3000/orders?id=1');
    expect(publicRequestUrl(request(forwarded))).toBe('http://internal:3000/orders?id=1'); // no trust proxy at all
  });

  it('honours them from a trusted proxy', () => {
    expect(publicRequestUrl(request(forwarded), trustLoopback)).toBe('https://api.example.com/shop/orders?id=1');
  });

  it('takes the first of comma-separated values, trimmed', () => {
    const raw = ['Host', 'internal', 'X-Forwarded-Host', ' api.example.com , proxy.internal', 'X-Forwarded-Proto', ' HTTPS , http'];
    expect(publicRequestUrl(request(raw), trustLoopback)).toBe('https://api.example.com/orders?id=1');
  });

  it('falls back to Host and the connection when a trusted proxy sends none', () => {
    expect(publicRequestUrl(request(['Host', 'internal:3000'], { encrypted: true }), trustLoopback)).toBe('https://internal:3000/orders?id=1');
  });

  it('refuses an invalid forwarded host from a trusted proxy (400 request.bad_host)', () => {
    expectBadRequest(() => publicRequestUrl(request(['Host', 'internal', 'X-Forwarded-Host', 'evil.example/x']), trustLoopback), 'request.bad_host');
  });

  it.each(['ftp', 'javascript', 'https:', 'ws'])('refuses the forwarded protocol %j from a trusted proxy (400 request.bad_proto)', (proto) => {
    expectBadRequest(() => publicRequestUrl(request(['Host', 'internal', 'X-Forwarded-Proto', proto]), trustLoopback), 'request.bad_proto');
  });

  it('ignores an invalid forwarded protocol from an untrusted peer', () => {
    expect(publicRequestUrl(request(['Host', 'internal', 'X-Forwarded-Proto', 'ftp'], { remoteAddress: '203.0.113.9' }), trustLoopback)).toBe('http://internal/orders?id=1');
  });

  it.each(['shop', '/a/../b', '/..', '/./x', '/%2e%2e/x', '/a b', '/a?x', '//', '/a#b'])('ignores the unsafe prefix %j', (prefix) => {
    expect(publicRequestUrl(request(['Host', 'internal', 'X-Forwarded-Prefix', prefix]), trustLoopback)).toBe('http://internal/orders?id=1');
  });

  it.each([
    ['/shop', '/shop'],
    ['/shop/', '/shop'],
    ['/a/b.c~d/', '/a/b.c~d'],
  ])('keeps the safe prefix %j as %j', (prefix, kept) => {
    expect(publicRequestUrl(request(['Host', 'internal', 'X-Forwarded-Prefix', prefix]), trustLoopback)).toBe(`http://internal${kept}/orders?id=1`);
  });
});

describe('trustsEveryAddress and trustProxyOption’s proxiesNamed', () => {
  it.each([
    ['true', true, true],
    ['a hop count', 1, true],
    ['every IPv4 address (two /1 ranges; /0 is refused as Express refuses it)', '0.0.0.0/1, 128.0.0.0/1', true],
    ['every IPv6 address', ['::/1', '8000::/1'], true],
    ['half of IPv4', '0.0.0.0/1', false],
    ['a function trusting everyone', () => true, true],
    ['false', false, false],
    ['loopback', 'loopback', false],
    ['a named proxy', '10.0.0.2', false],
    ['private ranges', ['loopback', 'linklocal', 'uniquelocal'], false],
    ['a function trusting one address', (address: string | undefined) => address === '10.0.0.2', false],
  ] as const)('%s → trusts every address: %s', (_what, setting, everyone) => {
    expect(trustsEveryAddress(compileTrustProxy(setting))).toBe(everyone);
    expect(trustProxyOption(setting).proxiesNamed).toBe(!everyone);
  });

  it('is false without a trust function, and proxiesNamed is true without a setting', () => {
    expect(trustsEveryAddress(undefined)).toBe(false);
    expect(trustProxyOption(undefined).proxiesNamed).toBe(true);
  });
});

describe('checkClientCertificateTrust (docs/decisions.md D27)', () => {
  it('refuses a trust proxy that trusts everyone with one line naming mtls.mode, the setting and the fix', () => {
    let error: unknown;
    try {
      checkClientCertificateTrust(compileTrustProxy(true), 'true');
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigurationError);
    expect((error as ConfigurationError).option).toBe('mtls.mode');
    expect((error as Error).message).toContain('(true) trusts every address');
    expect((error as Error).message).toContain('name your proxies (e.g. \'10.0.0.2\') or set mtls.mode "disabled"');
    expect((error as Error).message).not.toMatch(/\n/);
  });

  it('accepts named proxies and no trust proxy', () => {
    expect(() => checkClientCertificateTrust(compileTrustProxy('10.0.0.2'), "'10.0.0.2'")).not.toThrow();
    expect(() => checkClientCertificateTrust(undefined, 'unset')).not.toThrow();
  });
});

describe('clientCertificate (RFC 8705, RFC 9440)', () => {
  const der = Buffer.from('certificate DER bytes');
  const header = `:${der.toString('base64')}:`;
  const connectionCert = Buffer.from('the connection certificate');
  const peerCertificate = () => new Uint8Array(connectionCert);

  it("from an untrusted peer: the TLS connection's certificate, never the header", () => {
    const req = request(['Client-Cert', header], { remoteAddress: '203.0.113.9', peerCertificate });
    expect(Buffer.from(clientCertificate(req, trustLoopback)!)).toEqual(connectionCert);
    expect(clientCertificate(request(['Client-Cert', header], { remoteAddress: '203.0.113.9' }), trustLoopback)).toBeUndefined();
    expect(clientCertificate(request(['Client-Cert', header], { peerCertificate: () => new Uint8Array(0) }), {})).toBeUndefined();
  });

  it("from a named trusted proxy: the Client-Cert header, never the connection's (the proxy's)", () => {
    const req = request(['Client-Cert', `  ${header} `], { peerCertificate });
    expect(Buffer.from(clientCertificate(req, trustLoopback)!)).toEqual(der);
    expect(clientCertificate(request([], { peerCertificate }), trustLoopback)).toBeUndefined();
  });

  it.each([der.toString('base64'), `:${der.toString('base64')}`, ':not base64!:', '::', `:${der.toString('base64')}===:`])('ignores the malformed header %j', (value) => {
    expect(clientCertificate(request(['Client-Cert', value]), trustLoopback)).toBeUndefined();
  });

  it('ignores a repeated header', () => {
    expect(clientCertificate(request(['Client-Cert', header, 'Client-Cert', header]), trustLoopback)).toBeUndefined();
  });

  it('ignores the header when the trust proxy setting does not name its proxies', () => {
    expect(clientCertificate(request(['Client-Cert', header], { peerCertificate }), { trustProxy: compileTrustProxy(true), proxiesNamed: false })).toBeUndefined();
  });
});

describe('toRequestContext', () => {
  it('keeps every Authorization line (Node keeps only the first)', () => {
    const context = toRequestContext(request(['Host', 'api.example.com', 'Authorization', 'Bearer a', 'authorization', 'DPoP b']));
    expect(context.headers.authorization).toEqual(['Bearer a', 'DPoP b']);
    expect(context.url).toBe('http://api.example.com/orders?id=1');
    expect(context.method).toBe('GET');
  });

  it('leaves one Authorization line as it is', () => {
    const context = toRequestContext(request(['Host', 'api.example.com', 'Authorization', 'Bearer a']));
    expect(context.headers.authorization).toBe('Bearer a');
  });

  it('offers the client certificate only when client certificates are in use', () => {
    const req = request(['Host', 'api.example.com'], { peerCertificate: () => new Uint8Array([1, 2, 3]) });
    expect(toRequestContext(req).clientCertificate).toBeUndefined();
    expect([...toRequestContext(req, { clientCertificates: true }).clientCertificate!()!]).toEqual([1, 2, 3]);
  });
});

describe('trustProxyOption: an adapter option in Express’s forms', () => {
  it('none trusts no peer; named proxies are named; true and hop counts are not', () => {
    const none = trustProxyOption(undefined);
    expect([none.trustProxy('127.0.0.1', 0), none.proxiesNamed]).toEqual([false, true]);
    const loopback = trustProxyOption('loopback');
    expect([loopback.trustProxy('127.0.0.1', 0), loopback.trustProxy('10.0.0.1', 0), loopback.proxiesNamed]).toEqual([true, false, true]);
    expect(trustProxyOption(true).proxiesNamed).toBe(false);
    expect(trustProxyOption(1).proxiesNamed).toBe(false);
  });

  it('a form Express refuses: a ConfigurationError naming the option', () => {
    expect(() => trustProxyOption('not-an-ip')).toThrow(ConfigurationError);
    expect(() => trustProxyOption('10.0.0.0/99')).toThrow(/invalid option "trustProxy": invalid range/);
  });
});

describe('nodeIncomingRequest: a Node request read once', () => {
  const req = (url: string | undefined, extra: object = {}) =>
    ({ method: 'POST', url, headers: { host: 'api.example' }, rawHeaders: ['Host', 'api.example'], socket: { remoteAddress: '10.0.0.7', encrypted: true }, ...extra }) as unknown as IncomingMessage;

  it('the target as sent, Node’s headers, the peer and the TLS flag', () => {
    const incoming = nodeIncomingRequest(req('/orders?id=1'), false);
    expect(incoming).toMatchObject({ method: 'POST', target: '/orders?id=1', headers: { host: 'api.example' }, rawHeaders: ['Host', 'api.example'], remoteAddress: '10.0.0.7', encrypted: true, tokenOutsideHeader: false });
    expect(incoming.peerCertificate?.()).toBeUndefined();
    expect(nodeIncomingRequest(req(undefined), false).target).toBe('/');
  });

  it('a token in the raw query in any spelling, or in the body as the framework says', () => {
    expect(nodeIncomingRequest(req('/x?access_token=t'), false).tokenOutsideHeader).toBe(true);
    expect(nodeIncomingRequest(req('/x?acc%65ss_token=t'), false).tokenOutsideHeader).toBe(true);
    expect(nodeIncomingRequest(req('/x?a=1'), true).tokenOutsideHeader).toBe(true);
  });

  it('the peer certificate, read only when asked', () => {
    let reads = 0;
    const raw = Buffer.from([1, 2, 3]);
    const incoming = nodeIncomingRequest(req('/', { socket: { encrypted: true, getPeerCertificate: () => (reads++, { raw }) } }), false);
    expect(reads).toBe(0);
    expect(incoming.peerCertificate?.()).toBe(raw);
    expect(reads).toBe(1);
  });
});
