/**
 * Set-up mistakes reported once, as early as Express allows, with the fix (src/express/setup-check.ts): a missing or
 * misplaced `errorHandler()` at the app's first request (Express 5 and 4), and tsoa's authentication on an app
 * without `auth0.install(app)` (one line, not a stack trace per request).
 */
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, expect, it, vi, type MockInstance } from 'vitest';
import express from 'express';
import { createRequire } from 'node:module';
import { createAuth0Api, errorHandler } from '../../src/express/index.js';
import { createExpressAuthentication } from '../../src/tsoa/index.js';

// `express4` is express@4 under an alias, without types; the calls here exist in both majors.
const express4 = createRequire(import.meta.url)('express4') as typeof express;
type AnyApp = ReturnType<typeof express>;

let warn: MockInstance<(...args: unknown[]) => void>;
let error: MockInstance<(...args: unknown[]) => void>;
beforeEach(() => {
  warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
  error = vi.spyOn(console, 'error').mockImplementation(() => {});
});
afterEach(() => {
  warn.mockRestore();
  error.mockRestore();
});

const MISSING =
  "auth0-tsoa-api: no errorHandler() after your routes: add app.use(errorHandler()) after RegisterRoutes(app) (and your other routes); without it refused requests get Express's HTML error page instead of the JSON error and WWW-Authenticate challenge";
const EARLY = 'auth0-tsoa-api: errorHandler() is mounted before your routes, so it never sees their errors: move app.use(errorHandler()) after RegisterRoutes(app)';

async function served(app: AnyApp, paths: string[]): Promise<number[]> {
  const server = app.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  try {
    const statuses: number[] = [];
    for (const path of paths) statuses.push((await fetch(`${base}${path}`)).status);
    return statuses;
  } finally {
    await new Promise((resolve) => server.close(resolve));
  }
}

const auth0 = () => createAuth0Api({ domain: 'tenant.example.com', audience: 'https://api.example.com', onEvent: () => {} });

describe('errorHandler() after the routes, checked at the first request', () => {
  it.each([
    ['Express 5', express],
    ['Express 4', express4],
  ] as const)('%s: missing → one warning naming the fix, at the first request only', async (_name, make) => {
    const app = make();
    auth0().install(app);
    app.get('/x', (_req, res) => void res.send('x'));
    expect(warn).not.toHaveBeenCalled(); // nothing before the first request: routes may still be added
    await served(app, ['/x', '/x', '/y']);
    expect(warn.mock.calls).toEqual([[MISSING]]);
  });

  it('mounted after the routes (also inside a router) → no warning', async () => {
    const app = express();
    auth0().install(app);
    app.get('/x', (_req, res) => void res.send('x'));
    app.use(errorHandler());
    await served(app, ['/x']);
    const nested = express();
    auth0().install(nested);
    nested.get('/x', (_req, res) => void res.send('x'));
    const errors = express.Router();
    errors.use(errorHandler());
    nested.use(errors);
    await served(nested, ['/x']);
    expect(warn).not.toHaveBeenCalled();
  });

  it('mounted before the routes → one warning saying to move it', async () => {
    const app = express();
    auth0().install(app);
    app.use(errorHandler());
    app.get('/x', (_req, res) => void res.send('x'));
    await served(app, ['/x']);
    expect(warn.mock.calls).toEqual([[EARLY]]);
  });
});

describe('tsoa authentication without auth0.install(app)', () => {
  it('each request gets the 500 naming the fix; the fix is logged once, with no stack trace per request', async () => {
    const expressAuthentication = createExpressAuthentication();
    const app = express();
    app.get('/secured', (req, _res, next) => {
      expressAuthentication(req, 'auth0', []).then(() => next(), next);
    });
    app.use(errorHandler());
    expect(await served(app, ['/secured', '/secured', '/secured'])).toEqual([500, 500, 500]);
    expect(error.mock.calls).toEqual([
      ['auth0-tsoa-api: expressAuthentication found no Auth0Api on this app: call auth0.install(app) before RegisterRoutes(app) (or pass the Auth0Api to createExpressAuthentication); these requests get 500 until then'],
    ]);
  });
});
