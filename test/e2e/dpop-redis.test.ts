/**
 * DPoP replay protection shared through Redis, with real demo instances: two instances on one Redis refuse each
 * other's used proofs (two instances with in-memory stores do not, which shows what the shared store adds), from the
 * first request on (the demo serves once its Redis connection is ready); and a store outage (our own redis-server,
 * killed or frozen, or down at start-up) fails closed with 503, never 200.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { calculateJwkThumbprint, exportJWK } from 'jose';
import { generateKeyPair, generateProof, type KeyPair } from 'dpop';
import { TestIssuer } from '../support/test-issuer.js';
import { AUDIENCE, describeFrameworks, parseChallenges, startTestDemo } from '../support/demo.js';
import type { RunningDemo } from '../../src/demo/server.js';
import type { AuthEvent } from '../../src/core/observability/events.js';

// Instances behind one load balancer share the public URL, so one proof is valid on each of them.
const PUBLIC = 'https://api.example.com';
const HTU = `${PUBLIC}/api/private`;

let issuer: TestIssuer;
let client: KeyPair;
let token: string;

beforeAll(async () => {
  issuer = await TestIssuer.start();
  client = await generateKeyPair('ES256', { extractable: true });
  token = await issuer.token(AUDIENCE, { cnf: { jkt: await calculateJwkThumbprint(await exportJWK(client.publicKey)) } });
});
afterAll(async () => {
  await issuer?.close();
});

interface Reply {
  status: number;
  body: unknown;
  headers: Headers;
}

const newProof = () => generateProof(client, HTU, 'GET', undefined, token);

async function call(demo: RunningDemo, proof: string): Promise<Reply> {
  const res = await fetch(`${demo.url}/api/private`, { headers: { authorization: `DPoP ${token}`, dpop: proof } });
  return { status: res.status, body: await res.json(), headers: res.headers };
}

function expectOk(reply: Reply): void {
  expect({ status: reply.status, body: reply.body }).toEqual({ status: 200, body: { user: 'auth0|user-1' } });
}

function expectReplayRefused(reply: Reply): void {
  expect({ status: reply.status, body: reply.body }).toEqual({ status: 401, body: { error: 'invalid_dpop_proof', error_description: expect.any(String) } });
  const dpop = parseChallenges(reply.headers.get('www-authenticate')).find((c) => c.scheme === 'DPoP');
  expect(dpop?.params).toMatchObject({ error: 'invalid_dpop_proof', algs: 'ES256', resource_metadata: `${PUBLIC}/.well-known/oauth-protected-resource` });
}

function expectUnavailable(reply: Reply): void {
  expect({ status: reply.status, body: reply.body }).toEqual({ status: 503, body: { error: 'temporarily_unavailable', error_description: expect.any(String) } });
  expect(Number(reply.headers.get('retry-after'))).toBeGreaterThan(0);
}

// --- our own redis-server, to take it down -------------------------------------------------------------------------

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

async function startRedisServer(port: number): Promise<ChildProcess> {
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: ['ignore', 'pipe', 'pipe'] });
  await new Promise<void>((resolve, reject) => {
    let output = '';
    const timer = setTimeout(() => reject(new Error(`redis-server did not start: ${output}`)), 10_000);
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes('Ready to accept connections')) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`redis-server exited with ${code}: ${output}`));
    });
  });
  child.stdout.resume();
  child.stderr.resume();
  return child;
}

async function kill(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGKILL');
  await exited;
}

/** Polls until `check` passes or `ms` elapse (ioredis reconnects with a back-off). */
async function eventually(check: () => Promise<boolean>, ms = 10_000): Promise<boolean> {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    if (await check()) return true;
    await new Promise((r) => setTimeout(r, 100));
  }
  return false;
}

describeFrameworks(() => {
  describe('two instances sharing the real Redis on 127.0.0.1:6379', () => {
    let a: RunningDemo;
    let b: RunningDemo;
    const rejectedBy: Record<'a' | 'b', string[]> = { a: [], b: [] };
    const record = (who: 'a' | 'b') => (event: AuthEvent) => void (event.type === 'request_rejected' && rejectedBy[who].push(event.reason));

    beforeAll(async () => {
      const env = { AUTH0_DOMAIN: issuer.origin, REDIS_URL: 'redis://127.0.0.1:6379', AUTH0_PUBLIC_URL: PUBLIC };
      [a, b] = await Promise.all([startTestDemo(env, { onEvent: record('a') }), startTestDemo(env, { onEvent: record('b') })]);
    });
    afterAll(async () => {
      await Promise.all([a?.close(), b?.close()]);
    });

    it('a proof accepted by instance A is refused by instance B', async () => {
      const proof = await newProof();
      expectOk(await call(a, proof));
      expectReplayRefused(await call(b, proof));
      expect(rejectedBy.b.at(-1)).toBe('proof.replay');
    });

    it('and the other way round, and again on A', async () => {
      const proof = await newProof();
      expectOk(await call(b, proof));
      expectReplayRefused(await call(a, proof));
      expectReplayRefused(await call(a, proof));
    });

    it('a proof sent to both instances at once is accepted exactly once', async () => {
      const proof = await newProof();
      const replies = await Promise.all(Array.from({ length: 10 }, (_, i) => call(i % 2 ? a : b, proof)));
      expect(replies.filter((r) => r.status === 200)).toHaveLength(1);
      for (const reply of replies.filter((r) => r.status !== 200)) expectReplayRefused(reply);
    });

    it('fresh proofs keep working on both', async () => {
      for (const demo of [a, b, a, b]) expectOk(await call(demo, await newProof()));
    });
  });

  describe('two instances with in-memory stores (the contrast)', () => {
    let a: RunningDemo;
    let b: RunningDemo;

    beforeAll(async () => {
      const env = { AUTH0_DOMAIN: issuer.origin, AUTH0_PUBLIC_URL: PUBLIC };
      [a, b] = await Promise.all([startTestDemo(env), startTestDemo(env)]);
    });
    afterAll(async () => {
      await Promise.all([a?.close(), b?.close()]);
    });

    it("each refuses its own replays but cannot see the other's", async () => {
      const proof = await newProof();
      expectOk(await call(a, proof));
      expectReplayRefused(await call(a, proof));
      expectOk(await call(b, proof));
    });
  });

  describe('Redis down at start-up', () => {
    it('the demo still starts, after a bounded wait, and DPoP answers 503 (not 200) while Redis is unreachable', async () => {
      const port = await freePort(); // nothing listens there
      const started = Date.now();
      const demo = await startTestDemo({ AUTH0_DOMAIN: issuer.origin, REDIS_URL: `redis://127.0.0.1:${port}`, AUTH0_PUBLIC_URL: PUBLIC });
      try {
        expect(Date.now() - started).toBeLessThan(8_000);
        expectUnavailable(await call(demo, await newProof()));
      } finally {
        await demo.close();
      }
    });
  });

  describe('store outage (own redis-server)', () => {
    let port: number;
    let redis: ChildProcess | undefined;
    let demo: RunningDemo;
    const storeFailures: AuthEvent[] = [];

    beforeAll(async () => {
      port = await freePort();
      redis = await startRedisServer(port);
      demo = await startTestDemo({ AUTH0_DOMAIN: issuer.origin, REDIS_URL: `redis://127.0.0.1:${port}`, AUTH0_PUBLIC_URL: PUBLIC }, { onEvent: (event) => void (event.type === 'replay_store_failed' && storeFailures.push(event)) });
    });
    afterAll(async () => {
      await demo?.close();
      if (redis) await kill(redis);
    });

    it('accepts a proof while Redis is up', async () => {
      expect(await eventually(async () => (await call(demo, await newProof())).status === 200)).toBe(true);
      expectOk(await call(demo, await newProof()));
    });

    it('answers 503 (not 200) while Redis is frozen, within the command timeout', async () => {
      redis!.kill('SIGSTOP');
      try {
        const started = Date.now();
        expectUnavailable(await call(demo, await newProof()));
        expect(Date.now() - started).toBeLessThan(5_000);
      } finally {
        redis!.kill('SIGCONT');
      }
      expect(await eventually(async () => (await call(demo, await newProof())).status === 200)).toBe(true);
    });

    it('answers 503 temporarily_unavailable with Retry-After once Redis is gone, and never 200', async () => {
      const usedBefore = await newProof();
      expectOk(await call(demo, usedBefore));
      await kill(redis!);
      const failuresBefore = storeFailures.length;
      for (let i = 0; i < 5; i++) expectUnavailable(await call(demo, await newProof()));
      expectUnavailable(await call(demo, usedBefore)); // a replay is not waved through either
      expect(storeFailures.length).toBeGreaterThan(failuresBefore);
    });

    it('recovers once Redis is back', async () => {
      redis = await startRedisServer(port);
      expect(await eventually(async () => (await call(demo, await newProof())).status === 200)).toBe(true);
      const proof = await newProof();
      expectOk(await call(demo, proof));
      expectReplayRefused(await call(demo, proof));
    });
  });
});
