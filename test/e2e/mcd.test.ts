/**
 * Multiple custom domains: `AUTH0_DOMAINS` on the demo, and the core `domains` option as a list or a
 * resolver. The token's unverified `iss` must be allowed before ANY request leaves the API: an unlisted issuer gets
 * zero requests. Each issuer has its own discovery and key set, cached separately. Resolver failures are 503s.
 *
 * Three real local issuers, all publishing a key with the same kid "key-1" (so a key of one issuer must never
 * verify a token claiming another).
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import express from 'express';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { TestIssuer } from '../support/test-issuer.js';
import { AUDIENCE, describeFrameworks, parseChallenges, startTestDemo } from '../support/demo.js';
import type { RunningDemo } from '../../src/demo/server.js';
import { ApiValidator, type RequestContext } from '../../src/core/validator.js';
import { errorResponse } from '../../src/core/http/error-response.js';
import { AuthError } from '../../src/core/errors.js';
import type { ApiOptions, DomainsResolver, DomainsResolverContext } from '../../src/core/config.js';
import type { AuthEvent } from '../../src/core/observability/events.js';
import { createAuth0Api, errorHandler } from '../../src/express/index.js';

let a: TestIssuer;
let b: TestIssuer;
let c: TestIssuer; // never listed: must never be contacted
let demo: RunningDemo;
const demoEvents: AuthEvent[] = [];

// The issuers are shared by every framework's demo and the core tests below.
beforeAll(async () => {
  [a, b, c] = await Promise.all([TestIssuer.start(), TestIssuer.start(), TestIssuer.start()]);
});
afterAll(async () => {
  await Promise.all([a?.close(), b?.close(), c?.close()]);
});
beforeEach(() => {
  for (const issuer of [a, b, c]) {
    issuer.discoveryFault = { kind: 'none' };
    issuer.jwksFault = { kind: 'none' };
  }
});

/** Every request an issuer received, whatever the path. */
const totalRequests = (issuer: TestIssuer) => Object.values(issuer.counts).reduce((sum, n) => sum + n, 0);

async function get(token: string, path = '/api/private') {
  const res = await fetch(`${demo.url}${path}`, { headers: { authorization: `Bearer ${token}` } });
  return { status: res.status, body: (await res.json()) as unknown, headers: res.headers };
}

function expectInvalidTokenReply(reply: { status: number; body: unknown; headers: Headers }): void {
  expect(reply.status).toBe(401);
  expect(reply.body).toEqual({ error: 'invalid_token', error_description: expect.any(String) });
  const bearer = parseChallenges(reply.headers.get('www-authenticate')).find((ch) => ch.scheme === 'Bearer');
  expect(bearer?.params.error).toBe('invalid_token');
}

// ===============================================================================================================

describeFrameworks(() => {
  beforeAll(async () => {
    // Each framework's demo is a new client of the shared issuers: count its requests only (the fetch-once test).
    a.resetCounts();
    b.resetCounts();
    demo = await startTestDemo({ AUTH0_DOMAINS: `${a.origin},${b.origin}` }, { onEvent: (e) => demoEvents.push(e) });
  });
  afterAll(async () => {
    await demo?.close();
  });

  describe('demo with AUTH0_DOMAINS=a,b', () => {
    it('accepts tokens from both listed issuers', async () => {
      for (const issuer of [a, b]) {
        const reply = await get(await issuer.token(AUDIENCE, { sub: `user-of-${issuer.origin}` }));
        expect(reply.status).toBe(200);
        expect(reply.body).toEqual({ user: `user-of-${issuer.origin}` });
      }
    });

    it('rejects a token from an unlisted third issuer with 401 and ZERO requests to it', async () => {
      const before = totalRequests(c);
      expectInvalidTokenReply(await get(await c.token(AUDIENCE)));
      expect(totalRequests(c)).toBe(before);
      expect(before).toBe(0);
    });

    it('unlisted-issuer variants (path, query, credentials, other port, https) cause zero requests to it', async () => {
      const variants = [`${c.origin}/`, `${c.origin}/tenant/`, `${c.origin}/?x=1`, c.origin.replace('http://', 'http://user:pw@'), c.origin.replace('http://', 'https://'), c.issuer.replace('127.0.0.1', 'localhost')];
      for (const iss of variants) expectInvalidTokenReply(await get(await c.token(AUDIENCE, { iss })));
      expect(totalRequests(c)).toBe(0);
    });

    it('a token claiming issuer a but signed with the key of c (same kid) is 401 (keys are per issuer)', async () => {
      expectInvalidTokenReply(await get(await c.token(AUDIENCE, { iss: a.issuer })));
    });

    it('a token claiming issuer a but signed with the key of b (listed, same kid) is 401', async () => {
      expectInvalidTokenReply(await get(await b.token(AUDIENCE, { iss: a.issuer })));
    });

    it('a token with a listed origin but a path in iss is 401 (exact issuer match)', async () => {
      expectInvalidTokenReply(await get(await a.token(AUDIENCE, { iss: `${a.origin}/other/` })));
      expectInvalidTokenReply(await get(await a.token(AUDIENCE, { iss: a.origin }))); // no trailing slash
    });

    it.each([[null], [42], [['x']], [undefined]])('iss %j is 401 before any lookup', async (iss) => {
      expectInvalidTokenReply(await get(await a.token(AUDIENCE, { iss })));
    });

    it('discovery and JWKS are fetched once per issuer for many tokens', async () => {
      await Promise.all(Array.from({ length: 10 }, async () => expect((await get(await a.token(AUDIENCE))).status).toBe(200)));
      await Promise.all(Array.from({ length: 10 }, async () => expect((await get(await b.token(AUDIENCE))).status).toBe(200)));
      expect([a.discoveryFetches, b.discoveryFetches]).toEqual([1, 1]);
      expect([a.jwksFetches, b.jwksFetches]).toEqual([1, 1]);
    });

    it('RFC 9728 metadata lists both issuers as authorization servers', async () => {
      const res = await fetch(`${demo.url}/.well-known/oauth-protected-resource`);
      const doc = (await res.json()) as { authorization_servers: string[] };
      expect(doc.authorization_servers).toEqual([a.issuer, b.issuer]);
      expect(totalRequests(c)).toBe(0);
    });

    it('AUTH0_DOMAINS with spaces, a trailing slash and a trailing comma is normalized at startup', async () => {
      const messy = await startTestDemo({ AUTH0_DOMAINS: ` ${a.origin}/ ,  ${b.origin} ,` });
      try {
        for (const issuer of [a, b]) {
          const res = await fetch(`${messy.url}/api/private`, { headers: { authorization: `Bearer ${await issuer.token(AUDIENCE)}` } });
          expect(res.status).toBe(200);
        }
      } finally {
        await messy.close();
      }
    });

    it('AUTH0_DOMAINS with an invalid entry is a startup error naming the variable', async () => {
      await expect(startTestDemo({ AUTH0_DOMAINS: `${a.origin},http://evil.example.com` })).rejects.toThrow(/AUTH0_DOMAINS/);
    });
  });
});

// ---------------------------------------------------------------------------------------------------------------
// Core: the `domains` option as a list and as a resolver.

interface Harness {
  validator: ApiValidator;
  events: AuthEvent[];
}

function harness(domains: ApiOptions['domains'], extra: Partial<ApiOptions> = {}): Harness {
  const events: AuthEvent[] = [];
  const validator = new ApiValidator({ domains, audience: AUDIENCE, timeout: 500, cooldown: 0.2, onEvent: (e) => events.push(e), ...extra });
  return { validator, events };
}

const REQUEST_URL = 'https://api.example.com/api/private?tenant=1';

async function verdict(validator: ApiValidator, token: string, headers: Record<string, string> = {}) {
  const context: RequestContext = { method: 'GET', url: REQUEST_URL, headers: { authorization: `Bearer ${token}`, ...headers } };
  try {
    const verified = await validator.verifyRequest(context);
    return { status: 200, sub: verified.claims.sub, headers: {} as Record<string, string> };
  } catch (error) {
    expect(error).toBeInstanceOf(AuthError); // anything else would be a 500
    const e = error as AuthError;
    return { status: e.status, code: e.code, description: e.description, headers: errorResponse(e, validator.responseFacts(REQUEST_URL)).headers };
  }
}

describe('core: domains as a static list', () => {
  it('accepts listed issuers, rejects others with zero requests, and keeps discovery per issuer', async () => {
    a.resetCounts();
    b.resetCounts();
    const h = harness([a.origin, b.issuer]); // bare origin or issuer URL: both normalized
    for (let i = 0; i < 5; i++) {
      expect((await verdict(h.validator, await a.token(AUDIENCE))).status).toBe(200);
      expect((await verdict(h.validator, await b.token(AUDIENCE))).status).toBe(200);
    }
    expect((await verdict(h.validator, await c.token(AUDIENCE))).status).toBe(401);
    expect([a.discoveryFetches, b.discoveryFetches, totalRequests(c)]).toEqual([1, 1, 0]);
  });

  it('one issuer down does not affect the other', async () => {
    const h = harness([a.origin, b.origin]);
    a.discoveryFault = { kind: 'status', status: 500 };
    const down = await verdict(h.validator, await a.token(AUDIENCE));
    expect(down.status).toBe(503);
    expect(down.headers['Retry-After']).toMatch(/^\d+$/);
    expect((await verdict(h.validator, await b.token(AUDIENCE))).status).toBe(200);
  });

  it('an empty list is a configuration error', () => {
    expect(() => new ApiValidator({ domains: [], audience: AUDIENCE })).toThrow(/domains/);
  });
});

describe('core: domains as a resolver', () => {
  it('a sync resolver: listed issuer accepted; it receives unverifiedIssuer (normalized), url and headers', async () => {
    const seen: DomainsResolverContext[] = [];
    const h = harness((ctx) => {
      seen.push(ctx);
      return [a.origin];
    });
    const result = await verdict(h.validator, await a.token(AUDIENCE), { 'x-tenant': 'acme' });
    expect(result.status).toBe(200);
    expect(seen).toHaveLength(1);
    expect(seen[0]!.unverifiedIssuer).toBe(a.origin); // `http://127.0.0.1:port`, no trailing slash
    expect(seen[0]!.url).toBe(REQUEST_URL);
    expect(seen[0]!.headers['x-tenant']).toBe('acme');
    expect(String(seen[0]!.headers.authorization)).toMatch(/^Bearer /);
  });

  it('an async resolver works the same, and an issuer it does not return gets zero requests', async () => {
    const h = harness(async () => {
      await new Promise((r) => setTimeout(r, 5));
      return [a.origin];
    });
    expect((await verdict(h.validator, await a.token(AUDIENCE))).status).toBe(200);
    const rejected = await verdict(h.validator, await c.token(AUDIENCE));
    expect(rejected).toMatchObject({ status: 401, code: 'invalid_token' });
    expect(totalRequests(c)).toBe(0);
  });

  it('a resolver choosing by request header (tenant routing)', async () => {
    const h = harness(({ headers }) => (headers['x-tenant'] === 'b' ? [b.origin] : [a.origin]));
    expect((await verdict(h.validator, await b.token(AUDIENCE), { 'x-tenant': 'b' })).status).toBe(200);
    expect((await verdict(h.validator, await b.token(AUDIENCE), { 'x-tenant': 'a' })).status).toBe(401);
  });

  it('the resolver is not called for a token whose iss is not an issuer URL', async () => {
    let calls = 0;
    const h = harness(() => {
      calls++;
      return [a.origin];
    });
    for (const iss of [`${a.origin}/path/`, 'not a url', 'ftp://127.0.0.1/', null]) {
      expect((await verdict(h.validator, await a.token(AUDIENCE, { iss }))).status).toBe(401);
    }
    expect(calls).toBe(0);
  });

  it('resolver entries are normalized like AUTH0_DOMAINS (trailing slash, upper-case scheme)', async () => {
    const h = harness(() => [`${a.origin}/`.replace('http://', 'HTTP://')]);
    expect((await verdict(h.validator, await a.token(AUDIENCE))).status).toBe(200);
  });

  it('a resolver returning [] rejects every token with 401 and contacts no one', async () => {
    a.resetCounts();
    const h = harness(() => []);
    expect((await verdict(h.validator, await a.token(AUDIENCE))).status).toBe(401);
    expect(totalRequests(a)).toBe(0);
  });

  it('discovery is cached per issuer behind a resolver: 2 issuers, many tokens, 2 discovery fetches', async () => {
    a.resetCounts();
    b.resetCounts();
    const h = harness(async () => [a.origin, b.origin]);
    const tokens = await Promise.all(Array.from({ length: 20 }, (_, i) => (i % 2 ? a : b).token(AUDIENCE)));
    const results = await Promise.all(tokens.map((t) => verdict(h.validator, t)));
    expect(results.every((r) => r.status === 200)).toBe(true);
    expect(a.discoveryFetches + b.discoveryFetches).toBe(2);
    expect(a.jwksFetches + b.jwksFetches).toBe(2);
  });

  describe('resolver failures: 503 temporarily_unavailable (never 500), a domains_resolver_failed event, no internals', () => {
    const SECRET = 'db password hunter2 at http://10.0.0.7:5432';
    const failing: Array<[string, DomainsResolver]> = [
      [
        'throws',
        () => {
          throw new Error(SECRET);
        },
      ],
      [
        'rejects',
        async () => {
          throw new Error(SECRET);
        },
      ],
      [
        'throws a non-Error',
        () => {
          // eslint-disable-next-line @typescript-eslint/only-throw-error -- a user's resolver may throw a non-Error; this case proves it is still a 503
          throw SECRET;
        },
      ],
      ['returns undefined', () => undefined as unknown as string[]],
      ['returns null', () => null as unknown as string[]],
      ['returns a string', () => a.origin as unknown as string[]],
      ['returns an object', () => ({ 0: a.origin, length: 1 }) as unknown as string[]],
      ['resolves to a string', async () => a.origin as unknown as string[]],
      ['returns a list with a non-string', () => [a.origin, 42] as unknown as string[]],
      ['returns a list with an http non-loopback domain', () => [a.origin.replace('127.0.0.1', 'evil.example.com')]],
      ['returns a list with a path', () => [`${a.origin}/tenant`]],
    ];
    it.each(failing)('resolver %s', async (_name, resolver) => {
      const h = harness(resolver);
      const result = await verdict(h.validator, await a.token(AUDIENCE));
      expect(result).toMatchObject({ status: 503, code: 'temporarily_unavailable' });
      expect(result.headers['Retry-After']).toMatch(/^[1-9]\d*$/);
      expect(result.description).not.toMatch(/hunter2|10\.0\.0\.7|127\.0\.0\.1|https?:|Error/);
      expect(h.events).toContainEqual(expect.objectContaining({ type: 'domains_resolver_failed' }));
      expect(h.events).toContainEqual(expect.objectContaining({ type: 'request_rejected', code: 'temporarily_unavailable', reason: expect.any(String), status: 503 }));
    });
  });
});

describe('over HTTP (Express + requireAuth): a throwing resolver is a 503 JSON answer, not a 500', () => {
  let server: Server;
  let url: string;
  const events: AuthEvent[] = [];

  beforeAll(async () => {
    const api = createAuth0Api({
      audience: AUDIENCE,
      domains: ({ headers }) => {
        if (headers['x-break'] === 'yes') throw new Error('tenant database unreachable at 10.1.2.3');
        return [a.origin];
      },
      onEvent: (e) => events.push(e),
    });
    const app = express();
    api.install(app);
    app.get('/api/private', api.requireAuth(), (req, res) => {
      res.json({ user: req.auth!.claims.sub });
    });
    app.use(errorHandler());
    server = await new Promise<Server>((resolve) => {
      const s = app.listen(0, '127.0.0.1', () => resolve(s));
    });
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    server?.closeAllConnections();
    await new Promise<void>((resolve) => server?.close(() => resolve()));
  });

  it('resolver OK: 200', async () => {
    const res = await fetch(`${url}/api/private`, { headers: { authorization: `Bearer ${await a.token(AUDIENCE)}` } });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ user: 'auth0|user-1' });
  });

  it('resolver throwing: 503 temporarily_unavailable with Retry-After and a clean description', async () => {
    const res = await fetch(`${url}/api/private`, { headers: { authorization: `Bearer ${await a.token(AUDIENCE)}`, 'x-break': 'yes' } });
    expect(res.status).toBe(503);
    expect(res.headers.get('retry-after')).toMatch(/^[1-9]\d*$/);
    const body = (await res.json()) as { error: string; error_description: string };
    expect(body).toEqual({ error: 'temporarily_unavailable', error_description: expect.any(String) });
    expect(body.error_description).not.toMatch(/10\.1\.2\.3|database|Error/);
    expect(events).toContainEqual(expect.objectContaining({ type: 'domains_resolver_failed' }));
  });

  it('an unlisted issuer through the resolver: 401 and zero requests to it', async () => {
    const res = await fetch(`${url}/api/private`, { headers: { authorization: `Bearer ${await c.token(AUDIENCE)}` } });
    expect(res.status).toBe(401);
    expect(((await res.json()) as { error: string }).error).toBe('invalid_token');
    expect(totalRequests(c)).toBe(0);
  });
});
