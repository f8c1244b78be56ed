/**
 * `auth0.exchangeToken(req, { audience, scope })` on plain Express (docs/decisions.md D24), against a local issuer
 * whose discovery names a real local token endpoint: the verified caller's token is exchanged with the `tokenExchange`
 * client; a route without requireAuth authenticates first (a refused caller causes no exchange); the authorization
 * server down → errorHandler answers 503 with Retry-After; a refusal → TokenExchangeError for the app to map; the
 * option is checked at start-up.
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import express from 'express';
import { createAuth0Api, errorHandler, type Auth0Api } from '../../src/express/index.js';
import { ConfigurationError, TokenExchangeError } from '../../src/core/index.js';
import { TestIssuer } from '../support/test-issuer.js';
import { TokenEndpoint } from '../support/token-endpoint.js';

const AUDIENCE = 'https://api.example.com';
const DOWNSTREAM = 'https://downstream.example.com';
let issuer: TestIssuer;
let endpoint: TokenEndpoint;
let auth0: Auth0Api;
let server: Server;
let base: string;

beforeAll(async () => {
  issuer = await TestIssuer.start();
  endpoint = await TokenEndpoint.start();
  issuer.discoveryOverrides = { token_endpoint: endpoint.url };
  auth0 = createAuth0Api({ domain: issuer.origin, audience: AUDIENCE, tokenExchange: { clientId: 'api-client', clientSecret: 'api-secret' } });
  const app = express();
  auth0.install(app);
  const relay: express.RequestHandler = async (req, res, next) => {
    try {
      res.json({ token: await auth0.exchangeToken(req, { audience: DOWNSTREAM, scope: 'read:items' }) });
    } catch (error) {
      if (error instanceof TokenExchangeError) return void res.status(502).json({ error: error.code });
      next(error);
    }
  };
  app.get('/protected', auth0.requireAuth({ scopes: 'read:messages' }), relay);
  app.get('/unprotected', relay);
  app.use(errorHandler({ onError: () => {} }));
  server = app.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  server?.close();
  await Promise.all([issuer?.close(), endpoint?.close()]);
});
beforeEach(() => endpoint.reset());

const get = async (path: string, token?: string) => {
  const response = await fetch(`${base}${path}`, { headers: token ? { authorization: `Bearer ${token}` } : {} });
  return { status: response.status, body: (await response.json()) as Record<string, string>, retryAfter: response.headers.get('retry-after') };
};

describe('auth0.exchangeToken', () => {
  it.each(['/protected', '/unprotected'])('%s: exchanges the verified caller token with the API client', async (path) => {
    const caller = await issuer.token(AUDIENCE, { scope: 'read:messages' });
    const reply = await get(path, caller);
    expect(reply.status).toBe(200);
    expect(reply.body.token).toBe(endpoint.issued[0]);
    expect(endpoint.requests[0]!.form).toMatchObject({ subject_token: caller, audience: DOWNSTREAM, scope: 'read:items' });
    expect(endpoint.requests[0]!.headers.authorization).toBe(`Basic ${Buffer.from('api-client:api-secret').toString('base64')}`);
  });

  it('a refused caller causes no exchange, with or without requireAuth', async () => {
    expect((await get('/unprotected', 'not-a-token')).status).toBe(401);
    expect((await get('/unprotected')).status).toBe(401);
    expect((await get('/protected', await issuer.token(AUDIENCE, { scope: 'other' }))).status).toBe(403);
    expect(endpoint.requests).toHaveLength(0);
  });

  it('the authorization server failing → 503 temporarily_unavailable with Retry-After (errorHandler)', async () => {
    endpoint.reset({ kind: 'status', status: 500, body: 'boom' });
    const reply = await get('/protected', await issuer.token(AUDIENCE, { scope: 'read:messages' }));
    expect(reply.status).toBe(503);
    expect(reply.body.error).toBe('temporarily_unavailable');
    expect(reply.retryAfter).toBe('5');
  });

  it('a refusal is a TokenExchangeError the app maps (here 502)', async () => {
    endpoint.reset({ kind: 'status', status: 403, body: '{"error":"unauthorized_client"}' });
    const reply = await get('/protected', await issuer.token(AUDIENCE, { scope: 'read:messages' }));
    expect(reply).toMatchObject({ status: 502, body: { error: 'token_exchange_failed' } });
  });

  it('checks the option at start-up, and says how when it is missing', async () => {
    expect(() => createAuth0Api({ domain: issuer.origin, audience: AUDIENCE, tokenExchange: { clientId: 'c' } })).toThrow(ConfigurationError);
    const plain = createAuth0Api({ domain: issuer.origin, audience: AUDIENCE });
    const req = { auth: { token: 't', claims: {} } } as unknown as express.Request;
    await expect(plain.exchangeToken(req, { audience: DOWNSTREAM })).rejects.toThrow(/tokenExchange/);
  });
});
