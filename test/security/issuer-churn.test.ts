/**
 * issuer churn cannot bypass the JWKS cooldown. 105 real loopback issuers (one server per
 * 127.0.0.k address), fetches counted server-side per origin.
 *
 * What the old code did: one pool of at most 100 issuer clients for lists and resolvers alike, evicting the oldest,
 * and each client held its own cooldown. Tokens naming 101+ allowed issuers in rotation evicted each other's
 * clients, and every request re-created one and fetched discovery and JWKS again — the cooldown never applied.
 * Now a static list is held whole (at most MAX_STATIC_DOMAINS, refused at start-up beyond), and with a resolver the
 * time each origin was loaded from cold is remembered outside the evictable pool: a request that would reload an
 * origin within its cooldown gets 503 with Retry-After = the remaining cooldown, not a fetch.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import express from 'express';
import { createAuth0Api, errorHandler, getAuth } from '../../src/express/index.js';
import { ConfigurationError, createValidator } from '../../src/core/index.js';
import { MAX_STATIC_DOMAINS } from '../../src/core/config.js';
import { MAX_RESOLVED_ISSUERS } from '../../src/core/issuer/issuer-pool.js';
import { startManyIssuers, type ManyIssuers } from '../support/many-issuers.js';
import { AUDIENCE, startTestDemo } from '../support/demo.js';

const COUNT = 105;
let issuers: ManyIssuers;

beforeAll(async () => {
  issuers = await startManyIssuers(COUNT);
  expect(COUNT).toBeGreaterThan(MAX_RESOLVED_ISSUERS);
}, 60_000);
afterAll(async () => {
  await issuers?.close();
});

/** A fresh Express app whose domains resolver allows every test issuer. */
async function startResolverApp(cooldown: number): Promise<{ url: string; server: Server }> {
  const app = express();
  const auth0 = createAuth0Api({ domains: () => issuers.origins, audience: AUDIENCE, cooldown });
  auth0.install(app);
  app.get('/api/private', auth0.requireAuth(), (req, res) => {
    res.json({ iss: getAuth(req).claims.iss });
  });
  app.use(errorHandler());
  const server = createServer(app);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}

async function callWith(url: string, origin: string): Promise<{ status: number; retryAfter: string | null; body: Record<string, unknown> }> {
  const res = await fetch(`${url}/api/private`, { headers: { authorization: `Bearer ${await issuers.token(origin, AUDIENCE)}` } });
  return { status: res.status, retryAfter: res.headers.get('retry-after'), body: (await res.json()) as Record<string, unknown> };
}

function expectFetchedAtMostOnce(): void {
  for (const origin of issuers.origins) {
    expect(issuers.discoveryFetches(origin), origin).toBeLessThanOrEqual(1);
    expect(issuers.jwksFetches(origin), origin).toBeLessThanOrEqual(1);
  }
}

describe('issuer churn cannot bypass the JWKS cooldown', () => {
  it(`resolver allowing ${COUNT} issuers, tokens in rotation: each origin fetched at most once per cooldown; beyond the pool, 503 with the remaining cooldown`, async () => {
    const COOLDOWN = 20;
    const { url, server } = await startResolverApp(COOLDOWN);
    try {
      const loadedAt = new Map<string, number>();
      const before = issuers.totalFetches();
      // Round 1: every issuer once, in order. 105 cold loads (the pool keeps the last 100).
      for (const origin of issuers.origins) {
        loadedAt.set(origin, Date.now());
        const reply = await callWith(url, origin);
        expect(reply.status, JSON.stringify(reply.body)).toBe(200);
        expect(reply.body.iss).toBe(`${origin}/`);
      }
      expect(issuers.totalFetches() - before).toBe(2 * COUNT);

      // Rounds 2 and 3: the same rotation. The 5 evicted issuers are refused with the real wait, never fetched.
      for (let round = 0; round < 2; round++) {
        for (const [i, origin] of issuers.origins.entries()) {
          const reply = await callWith(url, origin);
          if (i < COUNT - MAX_RESOLVED_ISSUERS) {
            expect(reply.status).toBe(503);
            expect(reply.body).toEqual({ error: 'temporarily_unavailable', error_description: expect.any(String) });
            const remaining = (COOLDOWN * 1000 - (Date.now() - loadedAt.get(origin)!)) / 1000;
            const retryAfter = Number(reply.retryAfter);
            expect(retryAfter).toBeGreaterThanOrEqual(1);
            expect(retryAfter).toBeLessThanOrEqual(COOLDOWN);
            expect(Math.abs(retryAfter - remaining)).toBeLessThanOrEqual(2); // the remaining cooldown (ceil), not a constant
          } else {
            expect(reply.status, JSON.stringify(reply.body)).toBe(200);
          }
        }
      }
      expectFetchedAtMostOnce();
      expect(issuers.totalFetches() - before).toBe(2 * COUNT);
    } finally {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });

  it('after the cooldown an evicted issuer is loaded again, once, and accepted', async () => {
    const COOLDOWN = 5; // longer than loading 101 issuers takes, even on a busy machine
    const { url, server } = await startResolverApp(COOLDOWN);
    try {
      const started = Date.now();
      const subset = issuers.origins.slice(0, MAX_RESOLVED_ISSUERS + 1); // one more than the pool holds
      const counts = () => subset.map((o) => issuers.discoveryFetches(o) + issuers.jwksFetches(o));
      const initial = counts();
      for (const origin of subset) expect((await callWith(url, origin)).status).toBe(200);
      const first = subset[0]!;
      expect((await callWith(url, first)).status).toBe(503); // evicted by the 101st, within its cooldown
      await new Promise((r) => setTimeout(r, Math.max(0, COOLDOWN * 1000 - (Date.now() - started)) + 200));
      const reply = await callWith(url, first);
      expect(reply.status, JSON.stringify(reply.body)).toBe(200);
      const now = counts();
      expect(now[0]! - initial[0]!).toBe(4); // two cold loads of discovery + JWKS, one per cooldown
      for (let i = 1; i < subset.length; i++) expect(now[i]! - initial[i]!).toBe(2);
    } finally {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });

  it('an issuer in use is not the one evicted: forged tokens naming 100 other allowed issuers do not turn its users away', async () => {
    // The attacker needs no valid token: a JWT naming an allowed `iss` makes the pool load that issuer before any
    // signature can be checked. With first-in-first-out eviction, 100 such requests evicted the busiest issuer, and its
    // users then got 503 until the cooldown ran out. Eviction is least-recently-used: a client in use stays.
    const { url, server } = await startResolverApp(30);
    try {
      const [legit, ...others] = issuers.origins;
      expect((await callWith(url, legit!)).status).toBe(200);
      const forged = (origin: string) =>
        `${Buffer.from(JSON.stringify({ alg: 'RS256', typ: 'at+jwt', kid: issuers.key.kid })).toString('base64url')}.${Buffer.from(JSON.stringify({ iss: `${origin}/`, sub: 'x', aud: AUDIENCE, iat: Math.floor(Date.now() / 1000), exp: Math.floor(Date.now() / 1000) + 60 })).toString('base64url')}.c2ln`;
      for (const [i, origin] of others.entries()) {
        const res = await fetch(`${url}/api/private`, { headers: { authorization: `Bearer ${forged(origin)}` } });
        expect(res.status).toBe(401); // a bad signature, after the issuer was loaded
        if (i % 10 === 9) expect((await callWith(url, legit!)).status, `legit user after ${i + 1} forged issuers`).toBe(200);
      }
      expect((await callWith(url, legit!)).status).toBe(200);
      expect(issuers.jwksFetches(legit!)).toBeGreaterThanOrEqual(1);
    } finally {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });

  it(`a static list of ${COUNT} domains (the real demo, AUTH0_DOMAINS) is held whole: two rounds, every origin fetched once, all 200`, async () => {
    // Counted from before the start: the demo's start-up (`ready()`) may load the first issuer, once, too.
    const discovery = issuers.origins.map((o) => issuers.discoveryFetches(o));
    const jwks = issuers.origins.map((o) => issuers.jwksFetches(o));
    const demo = await startTestDemo({ AUTH0_DOMAINS: issuers.origins.join(',') });
    try {
      for (let round = 0; round < 2; round++) {
        for (const origin of issuers.origins) {
          const res = await fetch(`${demo.url}/api/private`, { headers: { authorization: `Bearer ${await issuers.token(origin, AUDIENCE)}` } });
          expect(res.status, origin).toBe(200);
        }
      }
      for (const [i, origin] of issuers.origins.entries()) {
        // The demo's RFC 9728 route may have loaded discovery at most once too; the JWKS exactly once.
        expect(issuers.discoveryFetches(origin) - discovery[i]!).toBe(1);
        expect(issuers.jwksFetches(origin) - jwks[i]!).toBe(1);
      }
    } finally {
      await demo.close();
    }
  });

  it(`a static list over MAX_STATIC_DOMAINS (${MAX_STATIC_DOMAINS}) is refused at start-up with one line; exactly ${MAX_STATIC_DOMAINS} is fine`, async () => {
    const list = (n: number) => Array.from({ length: n }, (_, i) => `tenant-${i}.example.com`);
    expect(() => createValidator({ domains: list(MAX_STATIC_DOMAINS), audience: AUDIENCE })).not.toThrow();
    const attempt = () => createValidator({ domains: list(MAX_STATIC_DOMAINS + 1), audience: AUDIENCE });
    expect(attempt).toThrow(ConfigurationError);
    expect(attempt).toThrow(new RegExp(`^auth0-tsoa-api: invalid option "domains": lists ${MAX_STATIC_DOMAINS + 1} domains; at most ${MAX_STATIC_DOMAINS} [^\\n]*resolver[^\\n]*$`));
    // The demo, configured through AUTH0_DOMAINS, refuses to start with that one line too.
    const started = startTestDemo({ AUTH0_DOMAINS: list(MAX_STATIC_DOMAINS + 1).join(',') });
    await expect(started).rejects.toThrow(ConfigurationError);
    const message = await started.then(
      () => '',
      (e: Error) => e.message,
    );
    expect(message.split('\n')).toHaveLength(1);
    expect(message).toContain(String(MAX_STATIC_DOMAINS));
  });
});
