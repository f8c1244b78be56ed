/**
 * The client-side DPoP helper (src/client/dpop.ts): proofs checked with jose, keys with WebCrypto, and requests
 * against the real demo API (test issuer tokens bound to the helper's key).
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { EmbeddedJWK, calculateJwkThumbprint, decodeProtectedHeader, exportJWK, jwtVerify } from 'jose';
import { accessTokenHash, createDpopFetch, createDpopKeyPair, createDpopProof, dpopHtu, DpopNonceStore, jwkThumbprint, nonceToRetryWith, publicJwk, type DpopKeyPair } from '../../src/client/index.js';
import { TestIssuer } from '../support/test-issuer.js';
import { AUDIENCE, startTestDemo } from '../support/demo.js';
import type { RunningDemo } from '../../src/demo/server.js';

const sha256 = (text: string) => createHash('sha256').update(text, 'ascii').digest('base64url');

async function verifyProof(proof: string) {
  return jwtVerify(proof, EmbeddedJWK, { typ: 'dpop+jwt', algorithms: ['ES256'] });
}

describe('keys and proofs', () => {
  let keys: DpopKeyPair;
  beforeAll(async () => {
    keys = await createDpopKeyPair();
  });

  it('creates a P-256 key pair whose private key cannot be exported', async () => {
    const privateKey = keys.privateKey as CryptoKey;
    expect(privateKey.extractable).toBe(false);
    expect(privateKey.type).toBe('private');
    expect(privateKey.algorithm).toMatchObject({ name: 'ECDSA', namedCurve: 'P-256' });
    await expect(crypto.subtle.exportKey('jwk', privateKey)).rejects.toThrow();
    await expect(crypto.subtle.exportKey('pkcs8', privateKey)).rejects.toThrow();
    // The public key is exportable (WebCrypto always makes it so); that is what goes into proofs.
    expect(await publicJwk(keys)).toEqual({ kty: 'EC', crv: 'P-256', x: expect.any(String), y: expect.any(String) });
  });

  it('gives a stable RFC 7638 thumbprint, equal to jose’s, and different per key', async () => {
    const jkt = await jwkThumbprint(keys);
    expect(jkt).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(await jwkThumbprint(keys)).toBe(jkt);
    expect(await calculateJwkThumbprint(await exportJWK(keys.publicKey as CryptoKey))).toBe(jkt);
    expect(await jwkThumbprint(await createDpopKeyPair())).not.toBe(jkt);
  });

  it('keeps working after a structured clone (what IndexedDB stores)', async () => {
    const cloned = structuredClone<DpopKeyPair>(keys);
    expect(await jwkThumbprint(cloned)).toBe(await jwkThumbprint(keys));
    const { protectedHeader } = await verifyProof(await createDpopProof(cloned, { url: 'https://api.example.com/x', method: 'GET' }));
    expect(await calculateJwkThumbprint(protectedHeader.jwk!)).toBe(await jwkThumbprint(keys));
  });

  it('signs a proof that jose verifies with the embedded key: typ, alg, jwk, jti, iat, htm, htu, ath, nonce', async () => {
    const token = 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln';
    const before = Math.floor(Date.now() / 1000);
    const proof = await createDpopProof(keys, {
      url: 'https://API.example.com:443/api/messages?page=2#top',
      method: 'POST',
      accessToken: token,
      nonce: 'n-1',
    });
    const { payload, protectedHeader } = await verifyProof(proof);
    expect(protectedHeader).toEqual({ typ: 'dpop+jwt', alg: 'ES256', jwk: await publicJwk(keys) });
    expect(protectedHeader.jwk).not.toHaveProperty('d');
    expect(await calculateJwkThumbprint(protectedHeader.jwk!)).toBe(await jwkThumbprint(keys));
    expect(payload.htm).toBe('POST');
    expect(payload.htu).toBe('https://api.example.com/api/messages');
    expect(payload.ath).toBe(sha256(token));
    expect(await accessTokenHash(token)).toBe(sha256(token));
    expect(payload.nonce).toBe('n-1');
    expect(payload.iat).toBeGreaterThanOrEqual(before);
    expect(payload.iat).toBeLessThanOrEqual(Math.floor(Date.now() / 1000));
    expect(payload.jti).toMatch(/^[A-Za-z0-9_-]{32}$/);
    expect(Object.keys(payload).sort()).toEqual(['ath', 'htm', 'htu', 'iat', 'jti', 'nonce']);
  });

  it('leaves ath and nonce out when not given, and never repeats a jti', async () => {
    const proofs = await Promise.all(Array.from({ length: 50 }, () => createDpopProof(keys, { url: new URL('http://127.0.0.1:4000/oauth/token'), method: 'POST' })));
    const payloads = await Promise.all(proofs.map(async (p) => (await verifyProof(p)).payload));
    expect(Object.keys(payloads[0]!).sort()).toEqual(['htm', 'htu', 'iat', 'jti']);
    expect(new Set(payloads.map((p) => p.jti)).size).toBe(50);
    expect(decodeProtectedHeader(proofs[0]!).typ).toBe('dpop+jwt');
  });

  it('htu keeps the path (trailing slash included) and drops query, fragment and credentials', () => {
    expect(dpopHtu('http://127.0.0.1:3000/api/x/?a=1#f')).toBe('http://127.0.0.1:3000/api/x/');
    expect(dpopHtu('https://user:pw@example.com/a')).toBe('https://example.com/a');
    expect(dpopHtu('https://example.com')).toBe('https://example.com/');
  });

  it('recognises use_dpop_nonce answers of a resource server (401) and of an authorization server (400)', async () => {
    const rs = new Response('{}', { status: 401, headers: { 'WWW-Authenticate': 'DPoP error="use_dpop_nonce", algs="ES256"', 'DPoP-Nonce': 'abc' } });
    const as = new Response('{"error":"use_dpop_nonce","error_description":"nonce"}', { status: 400, headers: { 'DPoP-Nonce': 'def' } });
    expect(await nonceToRetryWith(rs)).toBe('abc');
    expect(await nonceToRetryWith(as)).toBe('def');
    expect(await as.json()).toMatchObject({ error: 'use_dpop_nonce' }); // the body is still readable
    const otherError = new Response('{}', { status: 401, headers: { 'WWW-Authenticate': 'DPoP error="invalid_token"', 'DPoP-Nonce': 'x' } });
    expect(await nonceToRetryWith(otherError)).toBeUndefined();
    expect(await nonceToRetryWith(new Response('{}', { status: 401, headers: { 'WWW-Authenticate': 'DPoP error="use_dpop_nonce"' } }))).toBeUndefined();
    expect(await nonceToRetryWith(new Response('ok', { status: 200, headers: { 'DPoP-Nonce': 'n' } }))).toBeUndefined();
    const store = new DpopNonceStore();
    store.remember('https://a.example/x', new Response('ok', { headers: { 'DPoP-Nonce': 'n1' } }));
    expect(store.get('https://a.example/other?q')).toBe('n1');
    expect(store.get('https://b.example/x')).toBeUndefined();
  });

  it('imports nothing, so its compiled form can be served to browsers as is', () => {
    const source = readFileSync(new URL('../../src/client/dpop.ts', import.meta.url), 'utf8');
    expect(source).not.toMatch(/^\s*import\s/m);
    expect(source).not.toMatch(/\brequire\(|\bimport\(/);
  });
});

describe('against the demo API', () => {
  let issuer: TestIssuer;
  let demo: RunningDemo;
  let nonceDemo: RunningDemo;
  let keys: DpopKeyPair;
  let jkt: string;

  beforeAll(async () => {
    issuer = await TestIssuer.start();
    demo = await startTestDemo({ AUTH0_DOMAIN: issuer.origin });
    nonceDemo = await startTestDemo({ AUTH0_DOMAIN: issuer.origin, AUTH0_DPOP_NONCE: 'true' });
    keys = await createDpopKeyPair();
    jkt = await jwkThumbprint(keys);
  });

  afterAll(async () => {
    await demo?.close();
    await nonceDemo?.close();
    await issuer?.close();
  });

  /** fetch that records what was sent and received. */
  function recordingFetch() {
    const calls: Array<{ authorization: string | null; proof: string | null; status: number; url: string }> = [];
    const send = async (request: Request) => {
      const response = await fetch(request);
      calls.push({ authorization: request.headers.get('authorization'), proof: request.headers.get('dpop'), status: response.status, url: request.url });
      return response;
    };
    return { calls, send };
  }

  it('sends Authorization: DPoP and a proof with ath; a bound token gets 200', async () => {
    const token = await issuer.token(AUDIENCE, { cnf: { jkt } });
    const { calls, send } = recordingFetch();
    const dpopFetch = createDpopFetch(keys, () => token, { fetch: send });
    const response = await dpopFetch(`${demo.url}/api/messages?x=1`);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ messages: expect.any(Array) });
    expect(calls).toHaveLength(1);
    expect(calls[0]!.authorization).toBe(`DPoP ${token}`);
    const { payload } = await verifyProof(calls[0]!.proof!);
    expect(payload).toMatchObject({ htm: 'GET', htu: `${demo.url}/api/messages`, ath: sha256(token) });
  });

  it('a token bound to another key is refused (the binding is really checked)', async () => {
    const token = await issuer.token(AUDIENCE, { cnf: { jkt: await jwkThumbprint(await createDpopKeyPair()) } });
    const response = await createDpopFetch(keys, token)(`${demo.url}/api/messages`);
    expect(response.status).toBe(401);
    expect(await response.json()).toMatchObject({ error: 'invalid_token' });
  });

  it('retries once with the server’s nonce on use_dpop_nonce, and reuses the remembered nonce afterwards', async () => {
    const token = await issuer.token(AUDIENCE, { cnf: { jkt }, scope: 'read:messages read:data write:data' });
    const { calls, send } = recordingFetch();
    const dpopFetch = createDpopFetch(keys, async () => token, { fetch: send });

    // A POST with a body: the retry must send the body again.
    const first = await dpopFetch(`${nonceDemo.url}/api/data`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'x' }),
    });
    expect(first.status).toBe(200);
    expect(await first.json()).toEqual({ created: true });
    expect(calls.map((c) => c.status)).toEqual([401, 200]);
    const [p1, p2] = await Promise.all(calls.map(async (c) => (await verifyProof(c.proof!)).payload));
    expect(p1!.nonce).toBeUndefined();
    expect(p2!.nonce).toEqual(expect.any(String));
    expect(p2!.jti).not.toBe(p1!.jti);

    const second = await dpopFetch(`${nonceDemo.url}/api/messages`);
    expect(second.status).toBe(200);
    expect(calls.map((c) => c.status)).toEqual([401, 200, 200]); // no second challenge: the nonce was remembered
  });

  it('retries only once: a second use_dpop_nonce is returned to the caller', async () => {
    const token = await issuer.token(AUDIENCE, { cnf: { jkt } });
    let sent = 0;
    // A server that always wants a new nonce (a real response of the demo, replayed with a fresh nonce header).
    const alwaysNonce = async (request: Request) => {
      sent++;
      const real = await fetch(request);
      return new Response(await real.text(), {
        status: 401,
        headers: { 'WWW-Authenticate': 'DPoP error="use_dpop_nonce"', 'DPoP-Nonce': `n${sent}` },
      });
    };
    const response = await createDpopFetch(keys, token, { fetch: alwaysNonce })(`${demo.url}/api/messages`);
    expect(response.status).toBe(401);
    expect(sent).toBe(2);
  });
});
