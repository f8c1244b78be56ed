/**
 * `errorHandler()` against bare Express apps: unexpected (5xx) errors are logged
 * by default and `onError` replaces the logger; tsoa's real `ValidateError` becomes 400 `invalid_request` with its
 * field details; an AuthError gets its response once, from the facts of the Auth0Api that refused the request.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import express, { type Express } from 'express';
import { ValidateError } from '@tsoa/runtime';
import { createAuth0Api, errorHandler, getAuth } from '../../src/express/index.js';
import { AuthError } from '../../src/core/index.js';
import { TestIssuer } from '../support/test-issuer.js';
import { appServers } from '../support/helpers.js';
import { parseChallenges } from '../support/challenges.js';

const AUDIENCE = 'https://api.example.com';
let issuer: TestIssuer;
const servers = appServers();

beforeAll(async () => {
  issuer = await TestIssuer.start();
});
afterAll(async () => {
  await servers.close();
  await issuer?.close();
});
afterEach(() => {
  vi.restoreAllMocks();
});

function appWith(handler: ReturnType<typeof errorHandler>): Express {
  const app = express();
  app.get('/boom', () => {
    throw new Error('connect ECONNREFUSED 10.0.0.7:5432');
  });
  app.get('/validate', (_req, _res, next) => {
    next(new ValidateError({ 'body.name': { message: "'name' is required" }, 'body.age': { message: 'invalid float number', value: 'secret-value' } }, 'Validation failed'));
  });
  app.use(handler);
  return app;
}

describe('unexpected errors are logged, never swallowed', () => {
  it('logs a 500 with console.error by default, and answers without leaking the message', async () => {
    const logged = vi.spyOn(console, 'error').mockImplementation(() => {});
    const base = await servers.listen(appWith(errorHandler()));
    const reply = await fetch(`${base}/boom`);
    expect(reply.status).toBe(500);
    const body = await reply.text();
    expect(JSON.parse(body)).toEqual({ error: 'server_error', error_description: 'Internal server error' });
    expect(body).not.toMatch(/ECONNREFUSED|10\.0\.0\.7/);
    expect(logged).toHaveBeenCalledTimes(1);
    expect(String(logged.mock.calls[0]!.slice(1).map(String))).toMatch(/ECONNREFUSED/);
  });

  it('onError replaces the default logger and receives the request', async () => {
    const logged = vi.spyOn(console, 'error').mockImplementation(() => {});
    const seen: Array<{ message: string; path: string }> = [];
    const base = await servers.listen(appWith(errorHandler({ onError: (error, req) => seen.push({ message: (error as Error).message, path: req.path }) })));
    expect((await fetch(`${base}/boom`)).status).toBe(500);
    expect(seen).toEqual([{ message: 'connect ECONNREFUSED 10.0.0.7:5432', path: '/boom' }]);
    expect(logged).not.toHaveBeenCalled();
  });

  it('does not log client errors (4xx)', async () => {
    const logged = vi.spyOn(console, 'error').mockImplementation(() => {});
    const base = await servers.listen(appWith(errorHandler()));
    expect((await fetch(`${base}/validate`)).status).toBe(400);
    expect(logged).not.toHaveBeenCalled();
  });
});

describe("tsoa's ValidateError keeps its field details", () => {
  it('400 invalid_request naming the fields, with their messages and never the values sent', async () => {
    const base = await servers.listen(appWith(errorHandler()));
    const reply = await fetch(`${base}/validate`);
    expect(reply.status).toBe(400);
    const body = (await reply.json()) as Record<string, unknown>;
    expect(body).toEqual({
      error: 'invalid_request',
      error_description: 'The request failed validation: body.name, body.age',
      fields: { 'body.name': { message: "'name' is required" }, 'body.age': { message: 'invalid float number' } },
    });
    expect(JSON.stringify(body)).not.toContain('secret-value');
  });
});

describe('AuthError responses come from the Auth0Api that refused the request', () => {
  it('uses the facts of the refusing API (DPoP disabled: a Bearer challenge only), not another one installed on the app', async () => {
    const app = express();
    createAuth0Api({ domain: issuer.origin, audience: AUDIENCE, dpop: { mode: 'required' } }).install(app);
    const bearerOnly = createAuth0Api({ domain: issuer.origin, audience: AUDIENCE, dpop: { mode: 'disabled' } });
    app.get('/bearer-only', bearerOnly.requireAuth(), (_req, res) => res.json({ ok: true }));
    app.use(errorHandler());
    const base = await servers.listen(app);
    const reply = await fetch(`${base}/bearer-only`);
    expect(reply.status).toBe(401);
    expect(parseChallenges(reply.headers.get('www-authenticate')).map((c) => c.scheme)).toEqual(['Bearer']);
  });

  it('an AuthError thrown by app code on an app with no Auth0Api still gets a challenge (defaults: DPoP allowed)', async () => {
    const app = express();
    app.get('/mine', () => {
      throw new AuthError('insufficient_scope', 'scope.insufficient', 'Administrators only', { scheme: 'bearer', requiredScopes: ['admin'] });
    });
    app.get('/unprotected', (req, res) => res.json(getAuth(req).claims));
    app.use(errorHandler());
    const base = await servers.listen(app);
    const mine = await fetch(`${base}/mine`);
    expect(mine.status).toBe(403);
    const [bearer, dpop] = parseChallenges(mine.headers.get('www-authenticate'));
    expect(bearer).toMatchObject({ scheme: 'Bearer', params: { error: 'insufficient_scope', scope: 'admin' } });
    expect(dpop).toMatchObject({ scheme: 'DPoP', params: { algs: 'ES256' } });
    const unprotected = await fetch(`${base}/unprotected`);
    expect(unprotected.status).toBe(401);
    expect(await unprotected.json()).toEqual({ error: 'unauthorized', error_description: 'Authentication required' });
  });
});
