/**
 * RFC 8705 for real: certificate-bound access tokens over a real TLS connection (node:https with
 * `requestCert`), with client certificates made by the openssl CLI in the test, and through a reverse proxy's
 * RFC 9440 `Client-Cert` header from a trusted and an untrusted peer.
 *
 * Each app is a fresh Express app: `createAuth0Api({ mtls: { mode } })`, `install`, `requireAuth()`, `errorHandler()`.
 * The refusal reason is read from the `onEvent` hook, so a 401 is shown to be the certificate check and nothing else.
 */
import { createServer as createHttpsServer, request as httpsRequest, type Server as HttpsServer } from 'node:https';
import { createServer as createHttpServer, request as httpRequest, type Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import express from 'express';
import * as dpop from 'dpop';
import { calculateJwkThumbprint, exportJWK } from 'jose';
import { createAuth0Api, errorHandler, getAuth, notFoundHandler } from '../../src/express/index.js';
import { ConfigurationError, type AuthEvent, type MtlsMode } from '../../src/core/index.js';
import { TestIssuer } from '../support/test-issuer.js';
import { parseChallenges } from '../support/demo.js';
import { makeCertificate, type TestCertificate } from '../support/certificates.js';

const AUDIENCE = 'https://api.example.com';

let issuer: TestIssuer;
let serverCert: TestCertificate;
let certA: TestCertificate;
let certB: TestCertificate;
let proofKeys: dpop.KeyPair;
let jkt: string;
const servers: Array<HttpsServer | HttpServer> = [];

beforeAll(async () => {
  issuer = await TestIssuer.start();
  serverCert = makeCertificate('api.test', { server: true });
  certA = makeCertificate('client-a');
  certB = makeCertificate('client-b');
  proofKeys = await dpop.generateKeyPair('ES256');
  jkt = await calculateJwkThumbprint(await exportJWK(proofKeys.publicKey));
});
afterAll(async () => {
  for (const server of servers) {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
  await issuer?.close();
});

interface App {
  url: string;
  /** Refusal reasons reported through onEvent, in order. */
  reasons: string[];
}

function expressApp(mode: MtlsMode | undefined, trustProxy: unknown, reasons: string[]): express.Express {
  const app = express();
  app.disable('x-powered-by');
  if (trustProxy !== undefined) app.set('trust proxy', trustProxy);
  const auth0 = createAuth0Api({
    domain: issuer.origin,
    audience: AUDIENCE,
    ...(mode ? { mtls: { mode } } : {}),
    onEvent: (event: AuthEvent) => {
      if (event.type === 'request_rejected') reasons.push(event.reason);
    },
  });
  auth0.install(app);
  app.get('/api/private', auth0.requireAuth(), (req, res) => {
    const { claims, scheme } = getAuth(req);
    res.json({ sub: claims.sub, scheme });
  });
  app.use(notFoundHandler());
  app.use(errorHandler());
  return app;
}

/** A real TLS server asking for (not requiring) a client certificate: the token decides whether one is needed. */
async function startTlsApp(mode: MtlsMode | undefined, trustProxy?: string): Promise<App> {
  const reasons: string[] = [];
  const server = createHttpsServer({ key: serverCert.keyPem, cert: serverCert.certPem, requestCert: true, rejectUnauthorized: false }, expressApp(mode, trustProxy, reasons));
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `https://127.0.0.1:${(server.address() as AddressInfo).port}`, reasons };
}

/** A plain HTTP app behind a (simulated) TLS-terminating proxy. */
async function startProxiedApp(mode: MtlsMode, trustProxy: string, trustProxyAfterInstall?: unknown): Promise<App> {
  const reasons: string[] = [];
  const app = expressApp(mode, trustProxy, reasons);
  if (trustProxyAfterInstall !== undefined) app.set('trust proxy', trustProxyAfterInstall);
  const server = createHttpServer(app);
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, reasons };
}

interface Reply {
  status: number;
  body: Record<string, unknown>;
  headers: Record<string, string | string[] | undefined>;
}

interface CallOptions {
  /** Client certificate presented in the TLS handshake. */
  cert?: TestCertificate;
  headers?: Record<string, string | string[]>;
  /** Local (source) address: 127.0.0.1 is the trusted proxy, 127.0.0.2 a stranger. */
  from?: string;
}

/** One request on a fresh connection (agent: false: no TLS session or socket is reused between certificates). */
function call(app: App, options: CallOptions = {}, path = '/api/private'): Promise<Reply> {
  const url = new URL(path, app.url);
  const tls = url.protocol === 'https:';
  const send = tls ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const req = send(
      {
        host: url.hostname,
        port: url.port,
        path: url.pathname,
        method: 'GET',
        headers: options.headers ?? {},
        agent: false,
        ...(options.from ? { localAddress: options.from } : {}),
        ...(tls ? { ca: serverCert.certPem, ...(options.cert ? { key: options.cert.keyPem, cert: options.cert.certPem } : {}) } : {}),
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let body: Record<string, unknown>;
          try {
            body = JSON.parse(text) as Record<string, unknown>;
          } catch {
            body = { text };
          }
          resolve({ status: res.statusCode ?? 0, body, headers: res.headers });
        });
      },
    );
    req.on('error', reject);
    req.end();
  });
}

const bound = (x5t: string, extra: Record<string, unknown> = {}) => issuer.token(AUDIENCE, { cnf: { 'x5t#S256': x5t, ...extra } });
const bearer = (token: string, headers: Record<string, string> = {}) => ({ authorization: `Bearer ${token}`, ...headers });

/** 401 invalid_token on `scheme`, refused for `reason` (and for nothing else). */
function expectRefused(reply: Reply, app: App, reason: string, scheme: 'Bearer' | 'DPoP' = 'Bearer'): void {
  expect(reply.status, JSON.stringify(reply.body)).toBe(401);
  expect(reply.body).toEqual({ error: 'invalid_token', error_description: expect.any(String) });
  const challenge = parseChallenges((reply.headers['www-authenticate'] as string | undefined) ?? null).find((c) => c.scheme === scheme);
  expect(challenge?.params.error).toBe('invalid_token');
  expect(app.reasons.at(-1)).toBe(reason);
}

function expectAccepted(reply: Reply, scheme: 'bearer' | 'dpop' = 'bearer'): void {
  expect(reply.status, JSON.stringify(reply.body)).toBe(200);
  expect(reply.body).toEqual({ sub: 'auth0|user-1', scheme });
}

describe('certificate-bound tokens over a real TLS connection (RFC 8705 §3)', () => {
  let allowed: App;
  let required: App;
  let disabled: App;

  beforeAll(async () => {
    allowed = await startTlsApp('allowed');
    required = await startTlsApp('required');
    disabled = await startTlsApp(undefined); // the default: certificate-bound tokens are refused
  });

  it('control: the certificates are distinct and the thumbprints come from openssl', () => {
    expect(certA.x5tS256).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(certA.x5tS256).not.toBe(certB.x5tS256);
  });

  it('allowed: a token bound to the presented certificate is accepted', async () => {
    expectAccepted(await call(allowed, { cert: certA, headers: bearer(await bound(certA.x5tS256)) }));
    expectAccepted(await call(allowed, { cert: certB, headers: bearer(await bound(certB.x5tS256)) }));
  });

  it('allowed: another certificate is 401 invalid_token (token.certificate_mismatch)', async () => {
    expectRefused(await call(allowed, { cert: certB, headers: bearer(await bound(certA.x5tS256)) }), allowed, 'token.certificate_mismatch');
  });

  it('allowed: no certificate is 401 invalid_token (token.certificate_missing)', async () => {
    expectRefused(await call(allowed, { headers: bearer(await bound(certA.x5tS256)) }), allowed, 'token.certificate_missing');
  });

  it('allowed: an unbound token is accepted with or without a certificate', async () => {
    expectAccepted(await call(allowed, { headers: bearer(await issuer.token(AUDIENCE)) }));
    expectAccepted(await call(allowed, { cert: certA, headers: bearer(await issuer.token(AUDIENCE)) }));
  });

  it('allowed: the verdict of a cached bound token still depends on the certificate of each request', async () => {
    const token = await bound(certA.x5tS256);
    expectAccepted(await call(allowed, { cert: certA, headers: bearer(token) }));
    expectRefused(await call(allowed, { cert: certB, headers: bearer(token) }), allowed, 'token.certificate_mismatch');
    expectRefused(await call(allowed, { headers: bearer(token) }), allowed, 'token.certificate_missing');
    expectAccepted(await call(allowed, { cert: certA, headers: bearer(token) }));
  });

  it('allowed: the RFC 9728 document says certificate-bound tokens are supported', async () => {
    const reply = await call(allowed, {}, '/.well-known/oauth-protected-resource');
    expect(reply.status).toBe(200);
    expect(reply.body.tls_client_certificate_bound_access_tokens).toBe(true);
  });

  it('required: an unbound token is 401 invalid_token (token.not_certificate_bound), even with a certificate', async () => {
    expectRefused(await call(required, { cert: certA, headers: bearer(await issuer.token(AUDIENCE)) }), required, 'token.not_certificate_bound');
  });

  it('required: a bound token with its certificate is accepted; with another one it is 401', async () => {
    expectAccepted(await call(required, { cert: certA, headers: bearer(await bound(certA.x5tS256)) }));
    expectRefused(await call(required, { cert: certB, headers: bearer(await bound(certA.x5tS256)) }), required, 'token.certificate_mismatch');
  });

  it('disabled (default): a certificate-bound token is 401 even with the right certificate, on Bearer and DPoP', async () => {
    expectRefused(await call(disabled, { cert: certA, headers: bearer(await bound(certA.x5tS256)) }), disabled, 'token.cnf_unsupported');
    const token = await bound(certA.x5tS256, { jkt });
    const proof = await dpop.generateProof(proofKeys, `${disabled.url}/api/private`, 'GET', undefined, token);
    expectRefused(await call(disabled, { cert: certA, headers: { authorization: `DPoP ${token}`, dpop: proof } }), disabled, 'token.cnf_unsupported', 'DPoP');
    const metadata = await call(disabled, {}, '/.well-known/oauth-protected-resource');
    expect(metadata.body).not.toHaveProperty('tls_client_certificate_bound_access_tokens');
  });

  describe('DPoP and mTLS bindings on one token are both checked', () => {
    const dpopCall = async (app: App, token: string, cert: TestCertificate | undefined, keys = proofKeys) => {
      const proof = await dpop.generateProof(keys, `${app.url}/api/private`, 'GET', undefined, token);
      return call(app, { ...(cert ? { cert } : {}), headers: { authorization: `DPoP ${token}`, dpop: proof } });
    };

    it('right proof key and right certificate: accepted', async () => {
      expectAccepted(await dpopCall(allowed, await bound(certA.x5tS256, { jkt }), certA), 'dpop');
    });
    it('right proof key, wrong certificate: 401 on DPoP (token.certificate_mismatch)', async () => {
      expectRefused(await dpopCall(allowed, await bound(certA.x5tS256, { jkt }), certB), allowed, 'token.certificate_mismatch', 'DPoP');
    });
    it('right proof key, no certificate: 401 on DPoP (token.certificate_missing)', async () => {
      expectRefused(await dpopCall(allowed, await bound(certA.x5tS256, { jkt }), undefined), allowed, 'token.certificate_missing', 'DPoP');
    });
    it('wrong proof key, right certificate: 401 on DPoP (token.jkt_mismatch)', async () => {
      const other = await dpop.generateKeyPair('ES256');
      expectRefused(await dpopCall(allowed, await bound(certA.x5tS256, { jkt }), certA, other), allowed, 'token.jkt_mismatch', 'DPoP');
    });
    it('the same token as Bearer with the right certificate: 401 (token.bound_as_bearer)', async () => {
      expectRefused(await call(allowed, { cert: certA, headers: bearer(await bound(certA.x5tS256, { jkt })) }), allowed, 'token.bound_as_bearer');
    });
    it('a proof refused for its certificate is not burnt: the same proof then passes with the right certificate', async () => {
      const token = await bound(certA.x5tS256, { jkt });
      const proof = await dpop.generateProof(proofKeys, `${allowed.url}/api/private`, 'GET', undefined, token);
      expectRefused(await call(allowed, { cert: certB, headers: { authorization: `DPoP ${token}`, dpop: proof } }), allowed, 'token.certificate_mismatch', 'DPoP');
      expectAccepted(await call(allowed, { cert: certA, headers: { authorization: `DPoP ${token}`, dpop: proof } }), 'dpop');
    });
  });
});

describe('the certificate from a trusted proxy (RFC 9440 Client-Cert), trust proxy = 127.0.0.1', () => {
  let proxied: App;
  let tlsBehindProxy: App;

  beforeAll(async () => {
    proxied = await startProxiedApp('allowed', '127.0.0.1');
    tlsBehindProxy = await startTlsApp('allowed', '127.0.0.1');
  });

  it('from the trusted peer (127.0.0.1): the header certificate is used', async () => {
    expectAccepted(await call(proxied, { from: '127.0.0.1', headers: bearer(await bound(certA.x5tS256), { 'client-cert': certA.clientCertHeader }) }));
    expectRefused(await call(proxied, { from: '127.0.0.1', headers: bearer(await bound(certA.x5tS256), { 'client-cert': certB.clientCertHeader }) }), proxied, 'token.certificate_mismatch');
  });

  it('from the trusted peer: no header, or a malformed or repeated one, is token.certificate_missing', async () => {
    const token = await bound(certA.x5tS256);
    for (const header of [undefined, 'garbage', certA.der.toString('base64'), `:${certA.der.toString('base64url')}:`, [certA.clientCertHeader, certA.clientCertHeader]]) {
      const headers = bearer(token) as Record<string, string | string[]>;
      if (header !== undefined) headers['client-cert'] = header;
      expectRefused(await call(proxied, { from: '127.0.0.1', headers }), proxied, 'token.certificate_missing');
    }
  });

  it('from an untrusted peer (127.0.0.2): the header is ignored, token.certificate_missing', async () => {
    const reply = await call(proxied, { from: '127.0.0.2', headers: bearer(await bound(certA.x5tS256), { 'client-cert': certA.clientCertHeader }) });
    expectRefused(reply, proxied, 'token.certificate_missing');
  });

  it("never mixed: the trusted proxy's own TLS certificate is not the client's (header only)", async () => {
    // The proxy (127.0.0.1) connects with certificate A and forwards no Client-Cert: missing, not A.
    expectRefused(await call(tlsBehindProxy, { from: '127.0.0.1', cert: certA, headers: bearer(await bound(certA.x5tS256)) }), tlsBehindProxy, 'token.certificate_missing');
    // With A on the connection and B in the header, B is the client's certificate.
    expectAccepted(await call(tlsBehindProxy, { from: '127.0.0.1', cert: certA, headers: bearer(await bound(certB.x5tS256), { 'client-cert': certB.clientCertHeader }) }));
    expectRefused(await call(tlsBehindProxy, { from: '127.0.0.1', cert: certA, headers: bearer(await bound(certA.x5tS256), { 'client-cert': certB.clientCertHeader }) }), tlsBehindProxy, 'token.certificate_mismatch');
  });

  it('never mixed: for an untrusted peer the connection certificate counts and a Client-Cert header does not', async () => {
    expectAccepted(await call(tlsBehindProxy, { from: '127.0.0.2', cert: certA, headers: bearer(await bound(certA.x5tS256), { 'client-cert': certB.clientCertHeader }) }));
    expectRefused(await call(tlsBehindProxy, { from: '127.0.0.2', cert: certA, headers: bearer(await bound(certB.x5tS256), { 'client-cert': certB.clientCertHeader }) }), tlsBehindProxy, 'token.certificate_mismatch');
    expectRefused(await call(tlsBehindProxy, { from: '127.0.0.2', headers: bearer(await bound(certB.x5tS256), { 'client-cert': certB.clientCertHeader }) }), tlsBehindProxy, 'token.certificate_missing');
  });
});

describe('a Client-Cert header is believed only from proxies named by address', () => {
  const TRUST_EVERYONE = [
    ['true', true],
    ['a hop count', 1],
    ['all of IPv4 (0.0.0.0/1 + 128.0.0.0/1)', ['10.0.0.2', '0.0.0.0/1', '128.0.0.0/1']],
    ['all of IPv6 (::/1 + 8000::/1)', ['::/1', '8000::/1']],
    ['a function trusting everyone', () => true],
  ] as const;

  it.each(TRUST_EVERYONE)('mtls enabled with trust proxy = %s: install() throws a one-line ConfigurationError naming mtls.mode', (_what, trustProxy) => {
    // Old code accepted the setting and silently ignored every Client-Cert header at request time.
    for (const mode of ['allowed', 'required'] as const) {
      let error: unknown;
      try {
        expressApp(mode, trustProxy, []);
      } catch (thrown) {
        error = thrown;
      }
      expect(error).toBeInstanceOf(ConfigurationError);
      expect((error as ConfigurationError).option).toBe('mtls.mode');
      expect((error as Error).message).toMatch(/trusts every address.*name your proxies/);
      expect((error as Error).message).not.toContain('\n');
    }
  });

  it.each([
    ['an address', '127.0.0.1'],
    ['loopback', 'loopback'],
    ['a private subnet', '10.0.0.0/8'],
    ['0.0.0.0/1 (half, not all)', '0.0.0.0/1'],
  ] as const)('trust proxy = %s is accepted', (_what, trustProxy) => {
    expect(() => expressApp('allowed', trustProxy, [])).not.toThrow();
  });

  it('0.0.0.0/0 and ::/0 themselves are refused by Express (proxy-addr) when set', () => {
    for (const everyone of ['0.0.0.0/0', '::/0']) expect(() => express().set('trust proxy', everyone)).toThrow(/invalid range/);
  });

  it('mtls disabled: any trust proxy is accepted (no header is read)', () => {
    expect(() => expressApp('disabled', true, [])).not.toThrow();
  });

  it.each(TRUST_EVERYONE)('trust proxy = %s set after install(): the header is ignored at request time', async (_what, trustProxy) => {
    const app = await startProxiedApp('allowed', '127.0.0.1', trustProxy);
    const reply = await call(app, { from: '127.0.0.1', headers: bearer(await bound(certA.x5tS256), { 'client-cert': certA.clientCertHeader }) });
    expectRefused(reply, app, 'token.certificate_missing');
  });
});
