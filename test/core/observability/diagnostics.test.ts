/**
 * No silent failure (src/core/observability/diagnostics.ts), against the real local test issuer and its fault switches:
 * without `onEvent`, an identity-provider problem is logged once per cause and once on recovery, never with the token;
 * a failed token exchange is logged once per cause (reason, endpoint, status, error code); a domain that cannot be right
 * is named at start-up (no scheme but a port) or at the first discovery (another
 * loopback name than the issuer's), each with the value to use.
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi, type MockInstance } from 'vitest';
import { TestIssuer } from '../../support/test-issuer.js';
import { createValidator } from '../../../src/core/validator.js';
import type { ApiOptions } from '../../../src/core/config.js';
import { closedPort as findClosedPort } from '../../support/helpers.js';
import { TokenEndpoint } from '../../support/token-endpoint.js';

const AUDIENCE = 'https://api.example.com';
let issuer: TestIssuer;
let closedPort: number;
let warn: MockInstance<(...args: unknown[]) => void>;

beforeAll(async () => {
  issuer = await TestIssuer.start();
  closedPort = await findClosedPort();
});
afterAll(() => issuer?.close());
beforeEach(() => {
  issuer.discoveryFault = { kind: 'none' };
  issuer.jwksFault = { kind: 'none' };
  issuer.discoveryOverrides = {};
  warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
});
afterEach(() => warn.mockRestore());

/** The lines written with console.warn. */
const lines = () => warn.mock.calls.map((call) => String(call[0]));

/** A validator with no onEvent and short timings. */
const validator = (options: Partial<ApiOptions> = {}) => createValidator({ domain: issuer.origin, audience: AUDIENCE, timeout: 300, cooldown: 0.05, cacheMaxAge: 0.05, maxStaleness: 0, tokenCache: false, ...options });

async function status(v: ReturnType<typeof createValidator>, token: string): Promise<number> {
  try {
    await v.verifyRequest({ method: 'GET', url: 'http://api.test/x', headers: { authorization: `Bearer ${token}` } });
    return 200;
  } catch (error) {
    return (error as { status: number }).status;
  }
}

const wait = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('provider problems without onEvent: once per cause, once on recovery', () => {
  it('a failing key set: one line for three 503s, one line when keys are fetched again; the token never appears', async () => {
    const v = validator();
    const token = await issuer.token(AUDIENCE, {});
    issuer.jwksFault = { kind: 'status', status: 500 };
    for (let i = 0; i < 3; i++) {
      expect(await status(v, token)).toBe(503);
      await wait(60); // past the cooldown: each request fetches again, and fails again
    }
    const jwks = `${issuer.origin}/.well-known/jwks.json`;
    expect(lines()).toEqual([`auth0-tsoa-api: identity provider problem (status) at ${jwks}: HTTP 500; requests that need it get 503 until it recovers (logged once; pass onEvent to handle provider events yourself)`]);
    issuer.jwksFault = { kind: 'none' };
    // The next fetch may wait out the retry interval: ask until the keys are back (bounded).
    let recovered = 0;
    for (const began = Date.now(); recovered !== 200 && Date.now() - began < 5000; await wait(60)) recovered = await status(v, token);
    expect(recovered).toBe(200);
    expect(await status(v, token)).toBe(200);
    expect(lines().slice(1)).toEqual([`auth0-tsoa-api: identity provider recovered: keys fetched from ${jwks}`]);
    expect(lines().join('\n')).not.toContain(token.split('.')[1]!);
  });

  it('discovery unreachable: one line naming the discovery URL and the reason', async () => {
    const origin = `http://127.0.0.1:${closedPort}`;
    const v = validator({ domain: origin });
    const token = await issuer.token(AUDIENCE, {});
    expect(await status(v, token)).toBe(503);
    await wait(60);
    expect(await status(v, token)).toBe(503);
    expect(lines()).toHaveLength(1);
    expect(lines()[0]).toMatch(
      new RegExp(
        `^auth0-tsoa-api: identity provider problem \\(network\\) at ${origin}/\\.well-known/openid-configuration: .+; requests that need it get 503 until it recovers \\(logged once; pass onEvent to handle provider events yourself\\)$`,
      ),
    );
  });

  it('an issuer mismatch: one line saying the discovery issuer does not match', async () => {
    issuer.discoveryOverrides = { issuer: 'https://elsewhere.example/' };
    const v = validator();
    expect(await status(v, await issuer.token(AUDIENCE, {}))).toBe(503);
    expect(lines()).toEqual([
      `auth0-tsoa-api: identity provider problem (invalid) at ${issuer.origin}/.well-known/openid-configuration: discovery "issuer" does not match the configured domain; requests that need it get 503 until it recovers (logged once; pass onEvent to handle provider events yourself)`,
    ]);
  });

  it('with onEvent, nothing is logged (the application handles the events)', async () => {
    issuer.jwksFault = { kind: 'status', status: 500 };
    const events: unknown[] = [];
    const v = validator({ onEvent: (event) => events.push(event) });
    expect(await status(v, await issuer.token(AUDIENCE, {}))).toBe(503);
    expect(events).toContainEqual(expect.objectContaining({ type: 'provider_fetch_failed' }));
    expect(lines()).toEqual([]);
  });
});

describe('token exchange failures without onEvent: once per cause', () => {
  let endpoint: TokenEndpoint;
  beforeAll(async () => {
    endpoint = await TokenEndpoint.start();
  });
  afterAll(() => endpoint?.close());

  it('two 503s are one line, a refusal another; never the caller token or the endpoint text', async () => {
    issuer.discoveryOverrides = { token_endpoint: endpoint.url };
    const v = validator({ tokenExchange: { clientId: 'api-client', clientSecret: 'api-secret' }, tokenCache: false });
    const exchange = (token: string) => v.exchangeToken({ token, claims: {} } as never, { audience: 'https://downstream.example.com' }).catch((error: unknown) => error);
    endpoint.reset({ kind: 'status', status: 503, body: 'stack trace of the authorization server' });
    await exchange('caller-token-one');
    await exchange('caller-token-two');
    endpoint.reset({ kind: 'status', status: 401, body: '{"error":"invalid_client"}' });
    await exchange('caller-token-three');
    expect(lines()).toEqual([
      `auth0-tsoa-api: token exchange failed (status) at ${endpoint.url}: HTTP 503 (logged once per cause; pass onEvent to handle token exchange events yourself)`,
      `auth0-tsoa-api: token exchange failed (refused) at ${endpoint.url}: HTTP 401, invalid_client (logged once per cause; pass onEvent to handle token exchange events yourself)`,
    ]);
    expect(lines().join('\n')).not.toMatch(/caller-token|stack trace/);
  });
});

describe('a domain that cannot be right', () => {
  it('127.0.0.1:4001 (a port, no scheme): a start-up warning naming http://127.0.0.1:4001', () => {
    createValidator({ domain: '127.0.0.1:4001', audience: AUDIENCE });
    createValidator({ domains: ['tenant.example.com', 'localhost:4001'], audience: AUDIENCE });
    expect(lines()).toEqual([
      'auth0-tsoa-api: domain "127.0.0.1:4001" has no scheme, so https://127.0.0.1:4001 is used; a local development issuer serves http: set domain (AUTH0_DOMAIN) to http://127.0.0.1:4001',
      'auth0-tsoa-api: domains "localhost:4001" has no scheme, so https://localhost:4001 is used; a local development issuer serves http: set domains (AUTH0_DOMAIN) to http://localhost:4001',
    ]);
  });

  it('no warning for a scheme, a tenant host or a custom domain with a port', () => {
    for (const domain of ['http://127.0.0.1:4001', 'tenant.us.auth0.com', 'https://localhost:4001', 'auth.example.com:8443']) createValidator({ domain, audience: AUDIENCE });
    expect(lines()).toEqual([]);
  });

  it('http://localhost:PORT when the issuer calls itself 127.0.0.1: at the first discovery, one line with the exact value to use', async () => {
    const port = new URL(issuer.origin).port;
    const v = validator({ domain: `http://localhost:${port}` });
    expect(await status(v, await issuer.token(AUDIENCE, {}))).toBe(503);
    expect(lines()).toEqual([
      `auth0-tsoa-api: identity provider problem (invalid) at http://localhost:${port}/.well-known/openid-configuration: discovery "issuer" is http://127.0.0.1:${port}/, not http://localhost:${port}: set the domain (AUTH0_DOMAIN) to http://127.0.0.1:${port}; requests that need it get 503 until it recovers (logged once; pass onEvent to handle provider events yourself)`,
    ]);
  });
});
