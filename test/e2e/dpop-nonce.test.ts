/**
 * Resource-server DPoP nonces (RFC 9449 §9, AUTH0_DPOP_NONCE=true) through the real demo: 401 use_dpop_nonce with
 * a DPoP-Nonce header, retry with that nonce → 200; forged, foreign and expired nonces refused; instances sharing
 * Redis accept each other's nonces. Window arithmetic itself is covered in test/core/nonce.test.ts.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { calculateJwkThumbprint, exportJWK } from 'jose';
import { generateKeyPair, generateProof, type KeyPair } from 'dpop';
import { Redis } from 'ioredis';
import { TestIssuer } from '../support/test-issuer.js';
import { AUDIENCE, describeFrameworks, parseChallenges, startTestDemo } from '../support/demo.js';
import type { RunningDemo } from '../../src/demo/server.js';
import { NonceManager } from '../../src/core/dpop/nonce.js';

const PUBLIC = 'https://api.example.com';
const HTU = `${PUBLIC}/api/private`;
const NONCE_FORMAT = /^[0-9a-z]+\.[A-Za-z0-9_-]{32}$/;
const DEMO_WINDOW = 60; // the demo's nonce window (library default)

let issuer: TestIssuer;
let client: KeyPair;
let token: string;
let memory: RunningDemo; // nonces on, in-memory secret
let shared1: RunningDemo; // nonces on, secret in the real Redis
let shared2: RunningDemo;
let redis: Redis;

interface Reply {
  status: number;
  body: unknown;
  headers: Headers;
}

async function call(demo: RunningDemo, nonce?: string): Promise<Reply> {
  const proof = await generateProof(client, HTU, 'GET', nonce, token);
  return callWithProof(demo, proof);
}

async function callWithProof(demo: RunningDemo, proof: string): Promise<Reply> {
  const res = await fetch(`${demo.url}/api/private`, { headers: { authorization: `DPoP ${token}`, dpop: proof } });
  return { status: res.status, body: await res.json(), headers: res.headers };
}

function expectOk(reply: Reply): void {
  expect({ status: reply.status, body: reply.body }).toEqual({ status: 200, body: { user: 'auth0|user-1' } });
}

/** 401 use_dpop_nonce, `DPoP error="use_dpop_nonce"` next to a plain Bearer challenge, and a fresh DPoP-Nonce. */
function expectNonceDemanded(reply: Reply): string {
  expect({ status: reply.status, body: reply.body }).toEqual({ status: 401, body: { error: 'use_dpop_nonce', error_description: expect.any(String) } });
  const metadata = `${PUBLIC}/.well-known/oauth-protected-resource`;
  const challenges = parseChallenges(reply.headers.get('www-authenticate'));
  expect(challenges.map((c) => [c.scheme, c.params.error, c.params.resource_metadata])).toEqual([
    ['Bearer', undefined, metadata],
    ['DPoP', 'use_dpop_nonce', metadata],
  ]);
  expect(challenges[1]!.params.algs).toBe('ES256');
  const nonce = reply.headers.get('dpop-nonce');
  expect(nonce).toMatch(NONCE_FORMAT);
  return nonce!;
}

/** The first request of a client: no nonce, so the server hands one out. */
async function fetchNonce(demo: RunningDemo): Promise<string> {
  return expectNonceDemanded(await call(demo));
}

/** Waits out the last 2 s of a nonce window so that a test's requests fall in one window. */
async function awayFromWindowEdge(): Promise<void> {
  const intoWindow = (Date.now() / 1000) % DEMO_WINDOW;
  if (intoWindow > DEMO_WINDOW - 2) await new Promise((r) => setTimeout(r, (DEMO_WINDOW - intoWindow + 0.1) * 1000));
}

/** A nonce minted with the shared Redis secret as of `secondsAgo` in the past (how an old nonce looks). */
function sharedNonceFrom(secondsAgo: number): Promise<string> {
  return new NonceManager({ redis, now: () => Date.now() - secondsAgo * 1000 }).current();
}

describeFrameworks(() => {
  beforeAll(async () => {
    issuer = await TestIssuer.start();
    const env = { AUTH0_DOMAIN: issuer.origin, AUTH0_DPOP_NONCE: 'true', AUTH0_PUBLIC_URL: PUBLIC };
    const withRedis = { ...env, REDIS_URL: 'redis://127.0.0.1:6379' };
    [memory, shared1, shared2] = await Promise.all([startTestDemo(env), startTestDemo(withRedis), startTestDemo(withRedis)]);
    client = await generateKeyPair('ES256', { extractable: true });
    token = await issuer.token(AUDIENCE, { cnf: { jkt: await calculateJwkThumbprint(await exportJWK(client.publicKey)) } });
    redis = new Redis({ host: '127.0.0.1', port: 6379, lazyConnect: true });
    await redis.connect();
  });
  afterAll(async () => {
    await Promise.all([memory, shared1, shared2].map((d) => d?.close()));
    redis?.disconnect();
    await issuer?.close();
  });

  describe('nonce flow (in-memory secret)', () => {
    it('demands a nonce, then accepts the retry carrying it', async () => {
      const nonce = await fetchNonce(memory);
      expectOk(await call(memory, nonce));
    });

    it('keeps accepting the same nonce with fresh proofs within its window', async () => {
      await awayFromWindowEdge();
      const nonce = await fetchNonce(memory);
      for (let i = 0; i < 3; i++) expectOk(await call(memory, nonce));
    });

    it('still refuses a replayed proof that carries a valid nonce', async () => {
      const proof = await generateProof(client, HTU, 'GET', await fetchNonce(memory), token);
      expectOk(await callWithProof(memory, proof));
      const replay = await callWithProof(memory, proof);
      expect({ status: replay.status, body: replay.body }).toEqual({ status: 401, body: { error: 'invalid_dpop_proof', error_description: expect.any(String) } });
    });

    it('refuses a forged nonce with use_dpop_nonce and a new nonce', async () => {
      const nonce = await fetchNonce(memory);
      const [index, mac] = nonce.split('.') as [string, string];
      const forged = `${index}.${mac[0] === 'A' ? 'B' : 'A'}${mac.slice(1)}`;
      const fresh = expectNonceDemanded(await call(memory, forged));
      expectOk(await call(memory, fresh));
    });

    it.each([
      ['garbage', 'garbage'],
      ['empty', ''],
      ['oversized', 'x'.repeat(100)],
      ['a future window', `${'z'.repeat(8)}.${'A'.repeat(32)}`],
    ])('refuses a %s nonce with use_dpop_nonce', async (_name, nonce) => {
      expectNonceDemanded(await call(memory, nonce));
    });

    it('refuses a non-string nonce claim with use_dpop_nonce', async () => {
      const proof = await generateProof(client, HTU, 'GET', undefined, token, { nonce: 12345 });
      expectNonceDemanded(await callWithProof(memory, proof));
    });

    it('checks the proof before the nonce: a broken proof is invalid_dpop_proof, not use_dpop_nonce', async () => {
      const proof = await generateProof(client, `${PUBLIC}/api/profile`, 'GET', undefined, token);
      const reply = await callWithProof(memory, proof);
      expect({ status: reply.status, body: reply.body }).toEqual({ status: 401, body: { error: 'invalid_dpop_proof', error_description: expect.any(String) } });
    });

    it('refuses a nonce issued by an instance with another secret', async () => {
      await awayFromWindowEdge();
      expectNonceDemanded(await call(memory, await fetchNonce(shared1)));
      expectNonceDemanded(await call(shared1, await fetchNonce(memory)));
    });

    it('does not demand nonces from Bearer requests', async () => {
      const bearer = await issuer.token(AUDIENCE);
      const res = await fetch(`${memory.url}/api/private`, { headers: { authorization: `Bearer ${bearer}` } });
      expect(res.status).toBe(200);
    });
  });

  describe('nonces shared through Redis', () => {
    it('a nonce handed out by instance 1 is accepted by instance 2, and the other way round', async () => {
      await awayFromWindowEdge();
      expectOk(await call(shared2, await fetchNonce(shared1)));
      expectOk(await call(shared1, await fetchNonce(shared2)));
    });

    it('both instances hand out the same nonce within a window', async () => {
      await awayFromWindowEdge();
      expect(await fetchNonce(shared1)).toBe(await fetchNonce(shared2));
    });

    it('accepts a nonce of the previous window and sends the current one with the 200', async () => {
      await awayFromWindowEdge();
      const reply = await call(shared1, await sharedNonceFrom(DEMO_WINDOW));
      expectOk(reply);
      expect(reply.headers.get('dpop-nonce')).toBe(await sharedNonceFrom(0));
    });

    it('refuses an expired nonce (two windows old) with use_dpop_nonce and the current nonce', async () => {
      await awayFromWindowEdge();
      const fresh = expectNonceDemanded(await call(shared2, await sharedNonceFrom(2 * DEMO_WINDOW)));
      expect(fresh).toBe(await sharedNonceFrom(0));
      expectOk(await call(shared2, fresh));
    });
  });
});
