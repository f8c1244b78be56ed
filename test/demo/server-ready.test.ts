/**
 * The demo's start-up loads discovery and keys (`auth0.ready()` in src/demo/server.ts): the first authenticated request
 * fetches nothing; a provider down at start-up does not stop the demo — it starts, answers 503 while the provider is
 * down, and 200 once it is back. Fetches counted through startDemo's `fetch` option, against the real test issuer.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AUDIENCE, startTestDemo } from '../support/demo.js';
import { TestIssuer } from '../support/test-issuer.js';

let issuer: TestIssuer;
beforeAll(async () => {
  issuer = await TestIssuer.start();
});
afterAll(async () => {
  await issuer?.close();
});

function countingFetch() {
  const fetched: string[] = [];
  const counted: typeof fetch = (input, init) => {
    fetched.push(new URL(String(input instanceof Request ? input.url : input)).pathname);
    return fetch(input, init);
  };
  return { fetched, counted };
}

describe('demo start-up: discovery and keys before the first request', () => {
  it('has fetched discovery and the JWKS when startDemo resolves; the first request fetches nothing', async () => {
    const { fetched, counted } = countingFetch();
    const demo = await startTestDemo({ AUTH0_DOMAIN: issuer.origin }, { fetch: counted });
    try {
      expect(fetched).toEqual(['/.well-known/openid-configuration', '/.well-known/jwks.json']);
      const res = await fetch(`${demo.url}/api/private`, { headers: { authorization: `Bearer ${await issuer.token(AUDIENCE)}` } });
      expect(res.status).toBe(200);
      expect(fetched).toHaveLength(2);
    } finally {
      await demo.close();
    }
  });

  it('provider down at start-up: the demo starts, answers 503 with Retry-After, and 200 once the provider is back', async () => {
    issuer.discoveryFault = { kind: 'status', status: 503 };
    const demo = await startTestDemo({ AUTH0_DOMAIN: issuer.origin });
    try {
      const down = await fetch(`${demo.url}/api/private`, { headers: { authorization: `Bearer ${await issuer.token(AUDIENCE)}` } });
      expect(down.status).toBe(503);
      expect(down.headers.get('retry-after')).toMatch(/^[1-9]\d*$/);
      issuer.discoveryFault = { kind: 'none' };
      const wait = Number(down.headers.get('retry-after'));
      await new Promise((r) => setTimeout(r, wait * 1000 + 100));
      const back = await fetch(`${demo.url}/api/private`, { headers: { authorization: `Bearer ${await issuer.token(AUDIENCE)}` } });
      expect(back.status).toBe(200);
    } finally {
      issuer.discoveryFault = { kind: 'none' };
      await demo.close();
    }
  }, 20_000);
});
