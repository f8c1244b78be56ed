/**
 * Token location on optional routes (src/express/request.ts `tokenOutsideHeader`): an `access_token` query or body
 * parameter in any spelling the framework's parsers produce counts as credentials, so an optional route judges the
 * request instead of serving it anonymously — header-less: 401 `unauthorized`; with an Authorization header too: 400
 * `invalid_request` (a token in two places).
 *
 * Real Express 5 (query parser `simple`, its default, and `extended`) and Express 4 (qs, its default) apps, each with
 * `express.json()` only on `/feed`, plus routes whose body is parsed as a simple form, as text, or not at all.
 */
import { createRequire } from 'node:module';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import express from 'express';
import { createAuth0Api, errorHandler, getOptionalAuth } from '../../src/express/index.js';
import { TestIssuer } from '../support/test-issuer.js';

const require = createRequire(import.meta.url);
const express4 = require('express4') as typeof express;

const AUDIENCE = 'https://api.example.com';
let issuer: TestIssuer;
let token: string;
const servers: Server[] = [];
const bases: Record<string, string> = {};

function build(make: typeof express, queryParser?: string): express.Express {
  const app = make();
  if (queryParser) app.set('query parser', queryParser);
  const auth0 = createAuth0Api({ domain: issuer.origin, audience: AUDIENCE }).install(app);
  const optional = auth0.requireAuth({ optional: true });
  const answer = (req: express.Request, res: express.Response) => void res.json({ user: getOptionalAuth(req)?.claims.sub ?? null });
  app.all('/feed', make.json(), optional, answer);
  app.post('/feed/simple-form', make.urlencoded({ extended: false }), optional, answer);
  app.post('/feed/text', make.text({ type: 'application/x-www-form-urlencoded' }), optional, answer);
  app.use(errorHandler());
  return app;
}

beforeAll(async () => {
  issuer = await TestIssuer.start();
  token = await issuer.token(AUDIENCE, { sub: 'auth0|ann' });
  for (const [name, app] of [
    ['express 5 (simple)', build(express)],
    ['express 5 (extended)', build(express, 'extended')],
    ['express 4 (qs)', build(express4)],
  ] as const) {
    const server = app.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    servers.push(server);
    bases[name] = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }
});
afterAll(async () => {
  for (const server of servers) {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
  await issuer?.close();
});

async function call(base: string, path: string, init: { method?: string; headers?: Record<string, string>; body?: string } = {}) {
  const res = await fetch(`${base}${path}`, init);
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

const APPS = ['express 5 (simple)', 'express 5 (extended)', 'express 4 (qs)'] as const;
const SPELLINGS = [
  'access_token=x',
  'access_token[]=x',
  'access_token[0]=x',
  'access_token[x]=1',
  'access_token.x=1',
  'access_token=a&access_token=b',
  'acc%65ss_token=x',
  'access%5Ftoken%5B%5D=x',
  'access_token',
  'a=1;access_token=x',
  `${Array.from({ length: 1001 }, (_, i) => `p${i}=1`).join('&')}&access_token=x`, // past qs's 1,000-parameter limit
];

describe.each(APPS)('%s: an optional route', (app) => {
  it.each(SPELLINGS.map((q) => [q.length > 60 ? '1,001 parameters, then access_token' : q, q]))('?%s without a header → 401 unauthorized', async (_what, query) => {
    // Old code read the parsed query's own `access_token` only: every spelling but the plain ones was served anonymously.
    expect(await call(bases[app]!, `/feed?${query}`)).toEqual({ status: 401, body: { error: 'unauthorized', error_description: expect.any(String) } });
  });

  it.each(SPELLINGS.slice(0, 4))('?%s with an Authorization header → 400 invalid_request', async (query) => {
    const reply = await call(bases[app]!, `/feed?${query}`, { headers: { authorization: `Bearer ${token}` } });
    expect(reply).toEqual({ status: 400, body: { error: 'invalid_request', error_description: expect.any(String) } });
  });

  it.each(['access_tokens=x', 'my_access_token=x', 'x=access_token', 'access_token_hint=1', '', 'q=%E0%A4%A'])('control: ?%s is anonymous (200)', async (query) => {
    expect(await call(bases[app]!, `/feed?${query}`)).toEqual({ status: 200, body: { user: null } });
  });

  it('control: a valid header token alone is served', async () => {
    expect(await call(bases[app]!, '/feed', { headers: { authorization: `Bearer ${token}` } })).toEqual({ status: 200, body: { user: 'auth0|ann' } });
  });

  it('a JSON body with access_token (or access_token[x]) → 401', async () => {
    for (const body of ['{"access_token":"x"}', '{"access_token[x]":"x"}']) {
      expect((await call(bases[app]!, '/feed', { method: 'POST', headers: { 'content-type': 'application/json' }, body })).status).toBe(401);
    }
    expect(await call(bases[app]!, '/feed', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"a":1}' })).toEqual({ status: 200, body: { user: null } });
  });

  it('a form body the app does not parse (JSON-only route) may carry a token: 401, never anonymous', async () => {
    // Old code: req.body was unset (or {}), so the form's access_token went unnoticed and the caller was anonymous.
    const form = { 'content-type': 'application/x-www-form-urlencoded' };
    expect((await call(bases[app]!, '/feed', { method: 'POST', headers: form, body: 'access_token=x' })).status).toBe(401);
    expect((await call(bases[app]!, '/feed', { method: 'POST', headers: { ...form, authorization: `Bearer ${token}` }, body: 'access_token=x' })).status).toBe(400);
    // Control: an empty form body carries nothing.
    expect(await call(bases[app]!, '/feed', { method: 'POST', headers: form, body: '' })).toEqual({ status: 200, body: { user: null } });
  });

  it('a form parsed by urlencoded({ extended: false }) or as text: every spelling counts, other fields do not', async () => {
    const form = { 'content-type': 'application/x-www-form-urlencoded' };
    for (const path of ['/feed/simple-form', '/feed/text']) {
      for (const body of ['access_token=x', 'access_token[]=x', 'a=1&access_token%5Bx%5D=y']) {
        expect((await call(bases[app]!, path, { method: 'POST', headers: form, body })).status, `${path} ${body}`).toBe(401);
      }
      expect(await call(bases[app]!, path, { method: 'POST', headers: form, body: 'a=1&b=access_token' })).toEqual({ status: 200, body: { user: null } });
    }
  });
});
