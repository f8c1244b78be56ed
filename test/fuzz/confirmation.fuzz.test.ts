/**
 * property-based tests (fast-check) throwing random `cnf`
 * shapes (signed by the real issuer, so only the shape is wrong) and random RFC 9440 `Client-Cert` headers at real
 * apps over HTTP — the demo (mtls disabled), an Express app with mtls allowed behind a trusted proxy, and a real TLS
 * app with client certificates. Never a 5xx (503 is for real unavailability only, and nothing here is unavailable),
 * always the JSON error body, and a token is accepted only when every binding it carries is satisfied.
 */
import { createServer as createHttpServer, request as httpRequest, type Server } from 'node:http';
import { createServer as createHttpsServer, request as httpsRequest } from 'node:https';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import express from 'express';
import { createAuth0Api, errorHandler, getAuth, jsonClientErrors, notFoundHandler } from '../../src/express/index.js';
import type { AuthEvent } from '../../src/core/index.js';
import { TestIssuer } from '../support/test-issuer.js';
import { AUDIENCE, startTestDemo } from '../support/demo.js';
import { makeCertificate, type TestCertificate } from '../support/certificates.js';
import type { RunningDemo } from '../../src/demo/server.js';

const RUNS = { numRuns: Number(process.env.FUZZ_RUNS ?? 150) };

let issuer: TestIssuer;
let demo: RunningDemo;
let cert: TestCertificate;
let serverCert: TestCertificate;
let proxied: { url: string; server: Server; internal: unknown[] };
let tls: { url: string; server: Server; internal: unknown[] };

function app(internal: unknown[]): express.Express {
  const a = express();
  a.set('trust proxy', 'loopback');
  const auth0 = createAuth0Api({
    domain: issuer.origin,
    audience: AUDIENCE,
    mtls: { mode: 'allowed' },
    onEvent: (e: AuthEvent) => {
      if (e.type === 'request_rejected' && e.reason === 'internal') internal.push(e.cause);
    },
  });
  auth0.install(a);
  a.get('/api/private', auth0.requireAuth(), (req, res) => {
    res.json({ sub: getAuth(req).claims.sub });
  });
  a.use(notFoundHandler());
  a.use(errorHandler({ onError: (error) => internal.push(error) }));
  return a;
}

beforeAll(async () => {
  issuer = await TestIssuer.start();
  demo = await startTestDemo({ AUTH0_DOMAIN: issuer.origin });
  cert = makeCertificate('fuzz-client');
  serverCert = makeCertificate('fuzz-server', { server: true });
  const internalProxied: unknown[] = [];
  const p = createHttpServer(app(internalProxied));
  jsonClientErrors(p); // as a user wires it: Node's own 400/431 answers get the JSON body too
  await new Promise<void>((resolve) => p.listen(0, '127.0.0.1', resolve));
  proxied = { url: `http://127.0.0.1:${(p.address() as AddressInfo).port}`, server: p, internal: internalProxied };
  const internalTls: unknown[] = [];
  const t = createHttpsServer({ key: serverCert.keyPem, cert: serverCert.certPem, requestCert: true, rejectUnauthorized: false }, app(internalTls));
  jsonClientErrors(t);
  await new Promise<void>((resolve) => t.listen(0, '127.0.0.1', resolve));
  tls = { url: `https://127.0.0.1:${(t.address() as AddressInfo).port}`, server: t, internal: internalTls };
});
afterAll(async () => {
  for (const server of [proxied?.server, tls?.server]) {
    if (!server) continue;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
  await demo?.close();
  await issuer?.close();
});

// ---------------------------------------------------------------------------------------------------------------
// Arbitraries

const member = fc.oneof(fc.constantFrom('jkt', 'x5t#S256', 'jwk', 'x5t', 'jku', 'kid', '__proto__', 'constructor', 'toString', ''), fc.string({ maxLength: 12 }));
const memberValue = fc.oneof(fc.constant(undefined), fc.constantFrom<unknown>(null, true, 0, -1, 1e308, '', 'x', [], {}, [1, 2]), fc.string({ unit: 'binary', maxLength: 60 }), fc.jsonValue({ maxDepth: 2 }));
/** `cnf` values: objects of plausible and random members, or not an object at all. */
const cnfValue = fc.oneof(fc.dictionary(member, memberValue, { maxKeys: 4 }), fc.jsonValue({ maxDepth: 2 }), fc.constant<unknown>({}));

/** Client-Cert header values: random text, RFC 9440-looking byte sequences, near misses, big ones. */
const clientCertValue = (real: () => TestCertificate) =>
  fc.oneof(
    fc.string({ unit: 'grapheme-ascii', maxLength: 200 }),
    fc.uint8Array({ maxLength: 400 }).map((b) => `:${Buffer.from(b).toString('base64')}:`),
    fc.constantFrom(':', '::', ':=:', ':AA==:', ':====:', ': :', '*', ',', `:${'A'.repeat(20_000)}:`),
    fc.constant(null).map(() => real().clientCertHeader),
    fc.constant(null).map(() => `${real().clientCertHeader}, ${real().clientCertHeader}`),
    fc.constant(null).map(() => real().clientCertHeader.slice(0, -5) + ':'),
  );

interface Reply {
  status: number;
  body: unknown;
}

function send(base: string, headers: Record<string, string>, withCert = false): Promise<Reply> {
  const url = new URL('/api/private', base);
  const tlsRequest = url.protocol === 'https:';
  return new Promise((resolve, reject) => {
    const req = (tlsRequest ? httpsRequest : httpRequest)(
      {
        host: url.hostname,
        port: url.port,
        path: url.pathname,
        headers,
        agent: false,
        ...(tlsRequest ? { ca: serverCert.certPem, ...(withCert ? { key: cert.keyPem, cert: cert.certPem } : {}) } : {}),
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let body: unknown = text;
          try {
            body = JSON.parse(text);
          } catch {
            /* the assertion shows it */
          }
          resolve({ status: res.statusCode ?? 0, body });
        });
      },
    );
    req.on('error', reject);
    req.end();
  });
}

function expectClear4xxOr200(reply: Reply, context: unknown): void {
  expect(reply.status, JSON.stringify(context)).toBeLessThan(500);
  if (reply.status !== 200) expect(reply.body, JSON.stringify(context)).toEqual({ error: expect.any(String), error_description: expect.any(String) });
}

/** A cnf that is satisfied by a Bearer request with `certificate` (x5t#S256 only, exactly). */
const satisfiedBy = (cnf: unknown, thumbprint: string | undefined) => cnf !== null && typeof cnf === 'object' && !Array.isArray(cnf) && Object.keys(cnf).length === 1 && (cnf as Record<string, unknown>)['x5t#S256'] === thumbprint;

describe('random cnf shapes and Client-Cert headers are never a 5xx', () => {
  it('the demo (mtls disabled): any cnf on a Bearer token is a 401 invalid_token, never accepted', async () => {
    await fc.assert(
      fc.asyncProperty(cnfValue, async (cnf) => {
        const token = await issuer.token(AUDIENCE, { cnf });
        const payload = JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()) as { cnf?: unknown };
        const reply = await send(demo.url, { authorization: `Bearer ${token}` });
        expectClear4xxOr200(reply, { cnf });
        // A token with a cnf claim (as serialized) is sender-constrained or malformed: never a plain bearer token.
        if (payload.cnf !== undefined) expect(reply.status, JSON.stringify(cnf)).toBe(401);
      }),
      RUNS,
    );
  });

  it('behind a trusted proxy (mtls allowed): random cnf × random Client-Cert is a clear 4xx, 200 only for the bound certificate', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          cnfValue,
          fc.constant(null).map(() => ({ 'x5t#S256': cert.x5tS256 })),
        ),
        clientCertValue(() => cert),
        async (cnf, header) => {
          const token = await issuer.token(AUDIENCE, { cnf });
          const payload = JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()) as { cnf?: unknown };
          const reply = await send(proxied.url, { authorization: `Bearer ${token}`, 'client-cert': header });
          expectClear4xxOr200(reply, { cnf, header: header.slice(0, 80) });
          if (reply.status === 200 && payload.cnf !== undefined) {
            expect(satisfiedBy(payload.cnf, cert.x5tS256)).toBe(true);
            expect(header.trim()).toBe(cert.clientCertHeader);
          }
        },
      ),
      RUNS,
    );
    expect(proxied.internal).toEqual([]);
  });

  it('over TLS behind a trusted proxy: random Client-Cert headers, with or without a TLS certificate, are never a 5xx', async () => {
    // 127.0.0.1 is trusted here ('loopback'), so the header is what counts; the property is the absence of 5xx (and
    // of internal errors). Which certificate counts for whom is test/express/mtls.test.ts' job.
    await fc.assert(
      fc.asyncProperty(
        clientCertValue(() => cert),
        fc.boolean(),
        async (header, withCert) => {
          const token = await issuer.token(AUDIENCE, { cnf: { 'x5t#S256': cert.x5tS256 } });
          const reply = await send(tls.url, { authorization: `Bearer ${token}`, 'client-cert': header }, withCert);
          expectClear4xxOr200(reply, { header: header.slice(0, 80), withCert });
        },
      ),
      { numRuns: 60 },
    );
    expect(tls.internal).toEqual([]);
  });
});
