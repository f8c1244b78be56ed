/**
 * DPoP behind reverse proxies, through the real demo: the `htu` a proof must name is the public URL built from
 * Express's trust-proxy rules (X-Forwarded-Proto/Host first values, validated host, X-Forwarded-Prefix), or the
 * fixed AUTH0_PUBLIC_URL. Forwarded headers from an untrusted peer are ignored.
 */
import { request as httpRequest } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { calculateJwkThumbprint, exportJWK } from 'jose';
import { generateKeyPair, generateProof, type KeyPair } from 'dpop';
import { TestIssuer } from '../support/test-issuer.js';
import { AUDIENCE, describeFrameworks, parseChallenges, startTestDemo } from '../support/demo.js';
import type { RunningDemo } from '../../src/demo/server.js';

const PUBLIC = 'https://api.example.com';
const FORWARDED = { 'x-forwarded-proto': 'https', 'x-forwarded-host': 'api.example.com' };

let issuer: TestIssuer;
let trustLoopback: RunningDemo; // AUTH0_TRUST_PROXY=loopback: the test client (127.0.0.1) is a trusted proxy
let trustAll: RunningDemo; // AUTH0_TRUST_PROXY=true
let trustOther: RunningDemo; // AUTH0_TRUST_PROXY=10.0.0.1: the test client is not that proxy
let noTrust: RunningDemo; // no AUTH0_TRUST_PROXY
let fixedUrl: RunningDemo; // AUTH0_PUBLIC_URL=https://public.example.com/base, proxy trusted too
let client: KeyPair;
let token: string;

describeFrameworks(() => {
  beforeAll(async () => {
    issuer = await TestIssuer.start();
    const domain = { AUTH0_DOMAIN: issuer.origin };
    [trustLoopback, trustAll, trustOther, noTrust, fixedUrl] = await Promise.all([
      startTestDemo({ ...domain, AUTH0_TRUST_PROXY: 'loopback' }),
      startTestDemo({ ...domain, AUTH0_TRUST_PROXY: 'true' }),
      startTestDemo({ ...domain, AUTH0_TRUST_PROXY: '10.0.0.1' }),
      startTestDemo(domain),
      startTestDemo({ ...domain, AUTH0_TRUST_PROXY: 'loopback', AUTH0_PUBLIC_URL: 'https://public.example.com/base' }),
    ]);
    client = await generateKeyPair('ES256', { extractable: true });
    token = await issuer.token(AUDIENCE, { cnf: { jkt: await calculateJwkThumbprint(await exportJWK(client.publicKey)) } });
  });
  afterAll(async () => {
    await Promise.all([trustLoopback, trustAll, trustOther, noTrust, fixedUrl].map((d) => d?.close()));
    await issuer?.close();
  });

  interface Reply {
    status: number;
    body: unknown;
    challenges: ReturnType<typeof parseChallenges>;
  }

  /** GET /api/private on `demo` with a fresh proof for `htu` and the given extra headers. */
  async function callWithProof(demo: RunningDemo, htu: string, headers: Record<string, string> = {}, path = '/api/private'): Promise<Reply> {
    const proof = await generateProof(client, htu, 'GET', undefined, token);
    const res = await fetch(`${demo.url}${path}`, { headers: { authorization: `DPoP ${token}`, dpop: proof, ...headers } });
    return { status: res.status, body: await res.json(), challenges: parseChallenges(res.headers.get('www-authenticate')) };
  }

  /** A GET with a chosen Host header (fetch does not let one set it). */
  async function rawGet(origin: string, path: string, host: string): Promise<{ status: number; body: unknown }> {
    const proof = await generateProof(client, `http://${host}${path}`, 'GET', undefined, token);
    return new Promise((resolve, reject) => {
      const req = httpRequest(`${origin}${path}`, { headers: { host, authorization: `DPoP ${token}`, dpop: proof } }, (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (text += chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) }));
      });
      req.on('error', reject);
      req.end();
    });
  }

  function expectOk(reply: Reply): void {
    expect({ status: reply.status, body: reply.body }).toEqual({ status: 200, body: { user: 'auth0|user-1' } });
  }

  /** 401 invalid_dpop_proof on DPoP, with resource_metadata at `origin` on every challenge. */
  function expectHtuRefused(reply: Reply, origin: string): void {
    expect({ status: reply.status, body: reply.body }).toEqual({ status: 401, body: { error: 'invalid_dpop_proof', error_description: expect.any(String) } });
    const metadata = `${origin}/.well-known/oauth-protected-resource`;
    expect(reply.challenges.map((c) => [c.scheme, c.params.error, c.params.resource_metadata])).toEqual([
      ['Bearer', undefined, metadata],
      ['DPoP', 'invalid_dpop_proof', metadata],
    ]);
  }

  function expectBadRequest(reply: Reply): void {
    expect({ status: reply.status, body: reply.body }).toEqual({ status: 400, body: { error: 'invalid_request', error_description: expect.any(String) } });
    expect(reply.challenges.some((c) => c.params.error === 'invalid_request')).toBe(true);
  }

  describe('trusted proxy (AUTH0_TRUST_PROXY=loopback)', () => {
    it('builds htu from X-Forwarded-Proto and X-Forwarded-Host', async () => {
      expectOk(await callWithProof(trustLoopback, `${PUBLIC}/api/private`, FORWARDED));
    });

    it('refuses a proof for the internal URL once forwarded headers say otherwise', async () => {
      expectHtuRefused(await callWithProof(trustLoopback, `${trustLoopback.url}/api/private`, FORWARDED), PUBLIC);
    });

    it('uses the first value of comma-separated forwarded headers', async () => {
      const lists = { 'x-forwarded-proto': 'https, http', 'x-forwarded-host': 'api.example.com, evil.example' };
      expectOk(await callWithProof(trustLoopback, `${PUBLIC}/api/private`, lists));
      expectHtuRefused(await callWithProof(trustLoopback, 'http://evil.example/api/private', lists), PUBLIC);
    });

    it('honours X-Forwarded-Prefix', async () => {
      const headers = { ...FORWARDED, 'x-forwarded-prefix': '/v1' };
      expectOk(await callWithProof(trustLoopback, `${PUBLIC}/v1/api/private`, headers));
      expectHtuRefused(await callWithProof(trustLoopback, `${PUBLIC}/api/private`, headers), PUBLIC);
    });

    it('ignores an X-Forwarded-Prefix with dot segments', async () => {
      for (const prefix of ['/v1/..', '/..', '/%2e%2e', '/v1/./x']) {
        expectOk(await callWithProof(trustLoopback, `${PUBLIC}/api/private`, { ...FORWARDED, 'x-forwarded-prefix': prefix }));
      }
    });

    it('keeps a non-default forwarded port and drops a default one', async () => {
      expectOk(await callWithProof(trustLoopback, 'https://api.example.com:8443/api/private', { ...FORWARDED, 'x-forwarded-host': 'api.example.com:8443' }));
      expectOk(await callWithProof(trustLoopback, `${PUBLIC}/api/private`, { ...FORWARDED, 'x-forwarded-host': 'api.example.com:443' }));
    });

    it.each([
      ['a space', 'api.example.com evil.example'],
      ['userinfo', 'user@api.example.com'],
      ['a path', 'api.example.com/x'],
      ['a quote', 'api.example.com"'],
      ['an empty label', 'api..example.com'],
    ])('answers an X-Forwarded-Host with %s with 400 invalid_request', async (_name, host) => {
      expectBadRequest(await callWithProof(trustLoopback, `${PUBLIC}/api/private`, { ...FORWARDED, 'x-forwarded-host': host }));
    });

    it('answers an X-Forwarded-Host with a port out of range with 400 invalid_request', async () => {
      const headers = { ...FORWARDED, 'x-forwarded-host': 'api.example.com:99999' };
      expectBadRequest(await callWithProof(trustLoopback, `${PUBLIC}/api/private`, headers));
      expect((await fetch(`${trustLoopback.url}/.well-known/oauth-protected-resource`, { headers })).status).toBe(400);
    });

    it.each(['javascript', 'ftp', 'wss'])('answers X-Forwarded-Proto %s (not http or https) with 400 invalid_request', async (proto) => {
      const headers = { ...FORWARDED, 'x-forwarded-proto': proto };
      expectBadRequest(await callWithProof(trustLoopback, `${PUBLIC}/api/private`, headers));
      // The RFC 9728 document must not advertise a `null` or ftp:// resource either.
      expect((await fetch(`${trustLoopback.url}/.well-known/oauth-protected-resource`, { headers })).status).toBe(400);
    });

    it('puts the public origin in challenges and in the RFC 9728 document', async () => {
      const res = await fetch(`${trustLoopback.url}/api/private`, { headers: FORWARDED });
      expect(res.status).toBe(401);
      const metadata = `${PUBLIC}/.well-known/oauth-protected-resource`;
      expect(parseChallenges(res.headers.get('www-authenticate')).map((c) => c.params.resource_metadata)).toEqual([metadata, metadata]);
      const doc = (await (await fetch(`${trustLoopback.url}/.well-known/oauth-protected-resource`, { headers: FORWARDED })).json()) as { resource: string };
      expect(doc.resource).toBe(PUBLIC);
    });
  });

  describe('trusted proxy (AUTH0_TRUST_PROXY=true)', () => {
    it('builds htu from the forwarded headers', async () => {
      expectOk(await callWithProof(trustAll, `${PUBLIC}/api/private`, FORWARDED));
    });
  });

  describe.each([
    ['no AUTH0_TRUST_PROXY', () => noTrust],
    ['AUTH0_TRUST_PROXY=10.0.0.1 (another peer)', () => trustOther],
  ])('untrusted forwarded headers: %s', (_name, demo) => {
    it('refuses a proof for the forwarded URL: 401 invalid_dpop_proof', async () => {
      expectHtuRefused(await callWithProof(demo(), `${PUBLIC}/api/private`, FORWARDED), demo().url);
    });

    it('accepts a proof for the URL the client actually called', async () => {
      expectOk(await callWithProof(demo(), `${demo().url}/api/private`, FORWARDED));
    });

    it('ignores X-Forwarded-Prefix', async () => {
      const headers = { 'x-forwarded-prefix': '/v1' };
      expectOk(await callWithProof(demo(), `${demo().url}/api/private`, headers));
      expectHtuRefused(await callWithProof(demo(), `${demo().url}/v1/api/private`, headers), demo().url);
    });

    it('ignores an invalid X-Forwarded-Host or X-Forwarded-Proto instead of failing', async () => {
      expectOk(await callWithProof(demo(), `${demo().url}/api/private`, { 'x-forwarded-host': 'user@evil example' }));
      expectOk(await callWithProof(demo(), `${demo().url}/api/private`, { 'x-forwarded-proto': 'javascript' }));
    });

    it.each([
      ['userinfo', 'user@127.0.0.1'],
      ['a port out of range', '127.0.0.1:99999'],
    ])('answers a Host header with %s with 400 invalid_request', async (_name, host) => {
      const reply = await rawGet(demo().url, '/api/private', host);
      expect({ status: reply.status, body: reply.body }).toEqual({ status: 400, body: { error: 'invalid_request', error_description: expect.any(String) } });
    });
  });

  describe('AUTH0_PUBLIC_URL=https://public.example.com/base', () => {
    const base = 'https://public.example.com/base';

    it('builds htu from the public URL, whatever the forwarded headers say', async () => {
      expectOk(await callWithProof(fixedUrl, `${base}/api/private`, { ...FORWARDED, 'x-forwarded-prefix': '/v1' }));
      expectOk(await callWithProof(fixedUrl, `${base}/api/private`));
    });

    it('refuses proofs for the forwarded or the internal URL', async () => {
      expectHtuRefused(await callWithProof(fixedUrl, `${PUBLIC}/api/private`, FORWARDED), 'https://public.example.com');
      expectHtuRefused(await callWithProof(fixedUrl, `${fixedUrl.url}/api/private`), 'https://public.example.com');
    });

    it('refuses a proof made for a spoofed Host header (attack catalogue #33)', async () => {
      const reply = await rawGet(fixedUrl.url, '/api/private', 'evil.example');
      expect({ status: reply.status, body: reply.body }).toEqual({ status: 401, body: { error: 'invalid_dpop_proof', error_description: expect.any(String) } });
    });

    it('does not fail on an invalid X-Forwarded-Host it does not use', async () => {
      expectOk(await callWithProof(fixedUrl, `${base}/api/private`, { 'x-forwarded-host': 'user@evil example' }));
    });
  });
});
