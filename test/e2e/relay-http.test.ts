/**
 * `GET /api/relay` through the real demo (docs/decisions.md D24), with a local issuer (TestIssuer) whose discovery
 * names a real local token endpoint (TokenEndpoint) and a real local downstream API:
 * - the caller is judged as on /api/messages and a refused caller causes no exchange;
 * - the exchange posts the RFC 8693 form with the API's client (HTTP Basic) to the discovered endpoint;
 * - the downstream API gets only `Authorization: Bearer <exchanged>`; its JSON comes back as `downstream`;
 * - reuse per caller token, never across caller tokens of the same user (also concurrently);
 * - the token endpoint 4xx → 502 `token_exchange_failed`; 5xx / unreachable → 503 with Retry-After; the downstream
 *   non-2xx / unreachable / not JSON → 502 `bad_gateway`; no body carries the endpoint's or downstream's text;
 * - no token in any log line or event;
 * - without DOWNSTREAM_URL: 404 with the JSON error body, for every caller.
 */
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { TestIssuer } from '../support/test-issuer.js';
import { TokenEndpoint } from '../support/token-endpoint.js';
import { AUDIENCE, describeFrameworks, startTestDemo } from '../support/demo.js';
import type { RunningDemo } from '../../src/demo/server.js';

const DOWNSTREAM_AUDIENCE = 'https://downstream.example.com';
const LEAK = 'downstream-internal-detail-42';

interface Downstream {
  server: Server;
  url: string;
  seen: IncomingHttpHeaders[];
  answer: { status: number; body: string; contentType?: string };
}

async function startDownstream(): Promise<Downstream> {
  const downstream: Downstream = { server: undefined as unknown as Server, url: '', seen: [], answer: { status: 200, body: '{"items":[1,2]}' } };
  downstream.server = createServer((req, res) => {
    downstream.seen.push(req.headers);
    const { status, body, contentType } = downstream.answer;
    if (status === 0) return void req.socket.destroy(); // no answer: the connection drops
    res.writeHead(status, { 'content-type': contentType ?? 'application/json' }).end(body);
  });
  await new Promise<void>((resolve) => downstream.server.listen(0, '127.0.0.1', resolve));
  downstream.url = `http://127.0.0.1:${(downstream.server.address() as AddressInfo).port}/items`;
  return downstream;
}

let issuer: TestIssuer;
let endpoint: TokenEndpoint;
let downstream: Downstream;
let demo: RunningDemo;
const logged: string[] = [];
const events: string[] = [];

async function relay(authorization?: string) {
  const response = await fetch(`${demo.url}/api/relay`, { headers: authorization ? { authorization } : {} });
  const text = await response.text();
  return { status: response.status, body: JSON.parse(text) as Record<string, unknown>, text, retryAfter: response.headers.get('retry-after'), challenge: response.headers.get('www-authenticate') };
}
const bearer = async (claims: Record<string, unknown> = {}) => `Bearer ${await issuer.token(AUDIENCE, { scope: 'read:messages', ...claims })}`;

describeFrameworks(() => {
  beforeAll(async () => {
    issuer = await TestIssuer.start();
    endpoint = await TokenEndpoint.start();
    downstream = await startDownstream();
    issuer.discoveryOverrides = { token_endpoint: endpoint.url };
    for (const method of ['log', 'info', 'warn', 'error'] as const) {
      vi.spyOn(console, method).mockImplementation((...args: unknown[]) => void logged.push(args.map(String).join(' ')));
    }
    demo = await startTestDemo(
      {
        AUTH0_DOMAIN: issuer.origin,
        AUTH0_CLIENT_ID: 'relay-client',
        AUTH0_CLIENT_SECRET: 'relay-secret',
        DOWNSTREAM_URL: downstream.url,
        DOWNSTREAM_AUDIENCE,
        DOWNSTREAM_SCOPE: 'read:items',
      },
      { onEvent: (event) => void events.push(JSON.stringify(event)) },
    );
  });
  afterAll(async () => {
    vi.restoreAllMocks();
    await demo?.close();
    await Promise.all([issuer?.close(), endpoint?.close(), new Promise((r) => downstream?.server.close(r))]);
  });
  beforeEach(() => {
    endpoint.reset();
    downstream.seen = [];
    downstream.answer = { status: 200, body: '{"items":[1,2]}' };
  });

  describe('GET /api/relay', () => {
    it('exchanges the caller token and returns the downstream JSON; the downstream sees only the exchanged Bearer token', async () => {
      const authorization = await bearer({ sub: 'auth0|alice' });
      const reply = await relay(authorization);
      expect(reply.status).toBe(200);
      expect(reply.body).toEqual({ downstream: { items: [1, 2] } });
      expect(endpoint.requests).toHaveLength(1);
      expect(endpoint.requests[0]!.form).toEqual({
        grant_type: 'urn:ietf:params:oauth:grant-type:token-exchange',
        subject_token: authorization.slice('Bearer '.length),
        subject_token_type: 'urn:ietf:params:oauth:token-type:access_token',
        requested_token_type: 'urn:ietf:params:oauth:token-type:access_token',
        audience: DOWNSTREAM_AUDIENCE,
        scope: 'read:items',
      });
      expect(endpoint.requests[0]!.headers.authorization).toBe(`Basic ${Buffer.from('relay-client:relay-secret').toString('base64')}`);
      expect(downstream.seen).toHaveLength(1);
      expect(downstream.seen[0]!.authorization).toBe(`Bearer ${endpoint.issued[0]}`);
      expect(JSON.stringify(downstream.seen[0])).not.toContain(authorization.slice(7));
      expect(reply.text).not.toContain(endpoint.issued[0]);
    });

    it('reuses the exchange for the same caller token; another token of the same sub gets its own', async () => {
      const first = await bearer({ sub: 'auth0|bob' });
      const second = await bearer({ sub: 'auth0|bob' });
      await relay(first);
      await relay(first);
      await relay(second);
      expect(endpoint.requests.map((r) => r.form.subject_token)).toEqual([first.slice(7), second.slice(7)]);
      expect(downstream.seen.map((h) => h.authorization)).toEqual([`Bearer ${endpoint.issued[0]}`, `Bearer ${endpoint.issued[0]}`, `Bearer ${endpoint.issued[1]}`]);
    });

    it('under concurrency, every downstream call carries the token exchanged for its own caller', async () => {
      endpoint.reset({ kind: 'token', expiresIn: 3600, delayMs: 30 });
      downstream.answer = { status: 200, body: '{}' };
      const callers = await Promise.all(Array.from({ length: 8 }, () => bearer({ sub: 'auth0|same' })));
      const replies = await Promise.all(callers.flatMap((c) => [relay(c), relay(c)]));
      expect(replies.every((r) => r.status === 200)).toBe(true);
      expect(endpoint.requests).toHaveLength(8); // one per caller token, shared by its two concurrent requests
      const sentFor = downstream.seen.map((h) => endpoint.subjectOf.get(h.authorization!.slice(7)));
      expect(sentFor).toHaveLength(16);
      for (const caller of callers) expect(sentFor.filter((s) => s === caller.slice(7))).toHaveLength(2);
    });

    it('a refused caller causes no exchange: missing scope, bad token, no token', async () => {
      expect((await relay(await bearer({ scope: 'read:data' }))).status).toBe(403);
      expect((await relay('Bearer not-a-jwt')).status).toBe(401);
      expect((await relay()).status).toBe(401);
      expect(endpoint.requests).toHaveLength(0);
      expect(downstream.seen).toHaveLength(0);
    });

    it('the token endpoint refusing (4xx) → 502 token_exchange_failed, without its text', async () => {
      endpoint.reset({ kind: 'status', status: 400, body: JSON.stringify({ error: 'invalid_target', error_description: LEAK }) });
      const reply = await relay(await bearer());
      expect(reply.status).toBe(502);
      expect(reply.body.error).toBe('token_exchange_failed');
      expect(reply.text).not.toContain(LEAK);
      expect(downstream.seen).toHaveLength(0);
    });

    it('the token endpoint failing (5xx) → 503 temporarily_unavailable with Retry-After, without its text', async () => {
      endpoint.reset({ kind: 'status', status: 502, body: LEAK });
      const reply = await relay(await bearer());
      expect(reply.status).toBe(503);
      expect(reply.body.error).toBe('temporarily_unavailable');
      expect(Number(reply.retryAfter)).toBeGreaterThan(0);
      expect(reply.text).not.toContain(LEAK);
    });

    it('the token endpoint dropping the connection (no answer) → 503 with Retry-After', async () => {
      endpoint.reset({ kind: 'reset' });
      const reply = await relay(await bearer());
      expect(reply.status).toBe(503);
      expect(reply.body.error).toBe('temporarily_unavailable');
      expect(Number(reply.retryAfter)).toBeGreaterThan(0);
      expect(endpoint.requests).toHaveLength(1);
    });

    it.each<[string, { status: number; body: string; contentType?: string }]>([
      ['500', { status: 500, body: LEAK }],
      ['404', { status: 404, body: JSON.stringify({ error: LEAK }) }],
      ['401', { status: 401, body: '{}' }],
      ['a redirect', { status: 302, body: '' }],
      ['unreachable', { status: 0, body: '' }],
      ['not JSON', { status: 200, body: `<html>${LEAK}</html>`, contentType: 'text/html' }],
    ])('the downstream answering %s → 502 bad_gateway, without its text', async (_what, answer) => {
      downstream.answer = answer;

      const reply = await relay(await bearer());
      expect(reply.status).toBe(502);
      expect(reply.body.error).toBe('bad_gateway');
      expect(reply.text).not.toContain(LEAK);
    });

    it('no token reached a log line or an event', async () => {
      await relay(await bearer());
      const seen = [...logged, ...events].join('\n');
      for (const token of endpoint.issued) expect(seen).not.toContain(token);
      expect(seen).not.toMatch(/eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}/);
    });
  });

  describe('without DOWNSTREAM_URL', () => {
    let plain: RunningDemo;
    beforeAll(async () => {
      await demo.close(); // one relay per process
      plain = await startTestDemo({ AUTH0_DOMAIN: issuer.origin });
    });
    afterAll(async () => plain?.close());

    it('GET /api/relay is 404 with the JSON error body, for every caller', async () => {
      for (const authorization of [undefined, await bearer(), 'Bearer junk']) {
        const response = await fetch(`${plain.url}/api/relay`, { headers: authorization ? { authorization } : {} });
        expect(response.status).toBe(404);
        expect(await response.json()).toEqual({ error: 'not_found', error_description: 'Not found' });
      }
      expect(endpoint.requests).toHaveLength(0);
    });
  });

  describe('start-up', () => {
    it.each<[string, Record<string, string>, string]>([
      ['DOWNSTREAM_AUDIENCE', { AUTH0_CLIENT_ID: 'c', AUTH0_CLIENT_SECRET: 's' }, 'DOWNSTREAM_AUDIENCE'],
      ['AUTH0_CLIENT_ID', { DOWNSTREAM_AUDIENCE, AUTH0_CLIENT_SECRET: 's' }, 'AUTH0_CLIENT_ID'],
      ['AUTH0_CLIENT_SECRET', { DOWNSTREAM_AUDIENCE, AUTH0_CLIENT_ID: 'c' }, 'AUTH0_CLIENT_SECRET'],
    ])('DOWNSTREAM_URL without %s stops the start-up with one line naming it', async (_missing, env, variable) => {
      const error = await startTestDemo({ AUTH0_DOMAIN: issuer.origin, DOWNSTREAM_URL: 'http://127.0.0.1:9/x', ...env }).then(
        () => undefined,
        (e: unknown) => e as Error,
      );
      expect(error).toBeInstanceOf(Error);
      expect(error!.message).toContain(variable);
      expect(error!.message).not.toContain('\n');
    });
  });
});
