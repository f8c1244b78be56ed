/**
 * The token-exchange rules every adapter's `exchangeToken(request, { audience, scope })` must keep
 * (docs/decisions.md D24), run against a local issuer whose discovery names a real local token endpoint: the verified
 * caller's token is exchanged with the `tokenExchange` client; a route without authentication authenticates first (a
 * refused caller causes no exchange); the authorization server failing → 503 with Retry-After from the framework's
 * error handling; a refusal → a TokenExchangeError the app maps (here 502); each failure one `token_exchange_failed`
 * event through the API's `onEvent`; the option checked at start-up.
 *
 * Each framework's test file gives `start`: an app with `/protected` (scope read:messages) and `/unprotected` (no
 * authentication) routes answering `{ token }` from `exchangeToken` and mapping a TokenExchangeError to 502.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ConfigurationError, createValidator, type ApiOptions, type AuthEvent } from '../../src/core/index.js';
import { TestIssuer } from './test-issuer.js';
import { TokenEndpoint } from './token-endpoint.js';

export const AUDIENCE = 'https://api.example.com';
export const DOWNSTREAM = 'https://downstream.example.com';

/** A running app of one framework: its base URL and how to stop it. */
export interface ExchangeApp {
  base: string;
  close: () => Promise<void>;
}

export function describeTokenExchange(framework: string, start: (options: ApiOptions) => Promise<ExchangeApp>): void {
  describe(`${framework}: exchangeToken`, () => {
    let issuer: TestIssuer;
    let endpoint: TokenEndpoint;
    let app: ExchangeApp;
    const events: AuthEvent[] = [];
    const exchangeEvents = () => events.filter((event) => event.type === 'token_exchange_failed');

    beforeAll(async () => {
      issuer = await TestIssuer.start();
      endpoint = await TokenEndpoint.start();
      issuer.discoveryOverrides = { token_endpoint: endpoint.url };
      app = await start({ domain: issuer.origin, audience: AUDIENCE, tokenExchange: { clientId: 'api-client', clientSecret: 'api-secret' }, onEvent: (event) => events.push(event) });
    });
    afterAll(async () => {
      await app?.close();
      await Promise.all([issuer?.close(), endpoint?.close()]);
    });
    beforeEach(() => {
      endpoint.reset();
      events.length = 0;
    });

    const get = async (path: string, token?: string) => {
      const response = await fetch(`${app.base}${path}`, { headers: token ? { authorization: `Bearer ${token}` } : {} });
      return { status: response.status, body: (await response.json()) as Record<string, string>, retryAfter: response.headers.get('retry-after') };
    };

    it.each(['/protected', '/unprotected'])('%s: exchanges the verified caller token with the API client', async (path) => {
      const caller = await issuer.token(AUDIENCE, { scope: 'read:messages' });
      const reply = await get(path, caller);
      expect(reply.status).toBe(200);
      expect(reply.body.token).toBe(endpoint.issued[0]);
      expect(endpoint.requests[0]!.form).toMatchObject({ subject_token: caller, audience: DOWNSTREAM, scope: 'read:items' });
      expect(endpoint.requests[0]!.headers.authorization).toBe(`Basic ${Buffer.from('api-client:api-secret').toString('base64')}`);
      expect(exchangeEvents()).toEqual([]);
    });

    it('a second call with the same caller token is served from the cache; another caller token gets its own exchange', async () => {
      const first = await issuer.token(AUDIENCE, { scope: 'read:messages', sub: 'auth0|same' });
      const second = await issuer.token(AUDIENCE, { scope: 'read:messages', sub: 'auth0|same' });
      const a = await get('/protected', first);
      expect((await get('/protected', first)).body.token).toBe(a.body.token);
      const b = await get('/protected', second);
      expect(b.body.token).not.toBe(a.body.token);
      expect(endpoint.requests.map((r) => r.form.subject_token)).toEqual([first, second]);
    });

    it('a refused caller causes no exchange, with or without route authentication', async () => {
      expect((await get('/unprotected', 'not-a-token')).status).toBe(401);
      expect((await get('/unprotected')).status).toBe(401);
      expect((await get('/protected', await issuer.token(AUDIENCE, { scope: 'other' }))).status).toBe(403);
      expect(endpoint.requests).toHaveLength(0);
    });

    it('the authorization server failing → 503 temporarily_unavailable with Retry-After', async () => {
      endpoint.reset({ kind: 'status', status: 500, body: 'boom' });
      const reply = await get('/protected', await issuer.token(AUDIENCE, { scope: 'read:messages' }));
      expect(reply.status).toBe(503);
      expect(reply.body.error).toBe('temporarily_unavailable');
      expect(reply.retryAfter).toBe('5');
      expect(exchangeEvents()).toEqual([{ type: 'token_exchange_failed', reason: 'status', url: endpoint.url, status: 500 }]);
    });

    it('a refusal is a TokenExchangeError the app maps (here 502)', async () => {
      endpoint.reset({ kind: 'status', status: 403, body: '{"error":"unauthorized_client"}' });
      const reply = await get('/protected', await issuer.token(AUDIENCE, { scope: 'read:messages' }));
      expect(reply).toMatchObject({ status: 502, body: { error: 'token_exchange_failed' } });
      expect(exchangeEvents()).toEqual([{ type: 'token_exchange_failed', reason: 'refused', url: endpoint.url, status: 403, error: 'unauthorized_client' }]);
    });

    it('checks the option at start-up, and says how when it is missing', async () => {
      await expect(start({ domain: issuer.origin, audience: AUDIENCE, tokenExchange: { clientId: 'c' } })).rejects.toThrow(ConfigurationError);
      const plain = createValidator({ domain: issuer.origin, audience: AUDIENCE });
      await expect(plain.exchangeToken({ token: 't', claims: {} } as never, { audience: DOWNSTREAM })).rejects.toThrow(/tokenExchange/);
    });
  });
}
