/**
 * The `auth0-tsoa-api` command as a user runs it (the built bin in a child process): `dev` prints the app's
 * settings and serves tokens until stopped, `token` prints one token alone on stdout, every mistake is one line.
 * Production-like refusals are in test/demo/startup.test.ts; `setup` in ./setup.test.ts; the help texts and each
 * mistake's one line, run in process, in ./commands.test.ts.
 */
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import express from 'express';
import type { AddressInfo } from 'node:net';
import { createAuth0Api, errorHandler } from '../../src/express/index.js';
import { buildOnce, cleanEnv, jwtPayload, ROOT, runCli, startDevCommand, type RunningDev } from './cli-support.js';

const AUDIENCE = 'https://api.cli.test';
const APP_ORIGIN = 'http://127.0.0.1:5999';
const temp = mkdtempSync(join(tmpdir(), 'auth0-tsoa-api-cli-'));

beforeAll(() => buildOnce(), 120_000);
afterAll(() => rmSync(temp, { recursive: true, force: true }));

describe('dev, then token', () => {
  let dev: RunningDev;
  beforeAll(async () => {
    dev = await startDevCommand(['--port', '0', '--audience', AUDIENCE, '--scopes', 'read:messages write:messages', '--origin', APP_ORIGIN, '--org', 'org_abc123:acme', '--client-id', 'my-client', '--client-secret', 'my-secret']);
  });
  afterAll(async () => {
    await dev?.stop();
  });

  it('prints AUTH0_DOMAIN and AUTH0_AUDIENCE on lines of their own, then the client credentials and a curl', () => {
    const lines = dev.stdout().split('\n');
    expect(lines[0]).toMatch(/^AUTH0_DOMAIN=http:\/\/127\.0\.0\.1:\d+$/);
    expect(lines[1]).toBe(`AUTH0_AUDIENCE=${AUDIENCE}`);
    expect(dev.stdout()).toContain('client_id=my-client client_secret=my-secret');
    expect(dev.stdout()).toContain('scopes: read:messages write:messages');
    expect(dev.stdout()).toContain(`curl -s -u my-client:my-secret -d grant_type=client_credentials -d audience=${AUDIENCE} ${dev.domain}/oauth/token`);
    expect(dev.stdout()).toContain(`npx auth0-tsoa-api token --issuer ${dev.domain} --scope "read:messages write:messages"`);
  });

  it('the printed curl works: a token for the audience with every scope', async () => {
    const response = await fetch(`${dev.domain}/oauth/token`, {
      method: 'POST',
      headers: { authorization: `Basic ${Buffer.from('my-client:my-secret').toString('base64')}`, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'client_credentials', audience: AUDIENCE }),
    });
    expect(response.status).toBe(200);
    const { access_token } = (await response.json()) as { access_token: string };
    expect(jwtPayload(access_token)).toMatchObject({ aud: AUDIENCE, scope: 'read:messages write:messages', iss: `${dev.domain}/` });
  });

  it('token prints one access token, alone on stdout, that verifies against the issuer for the audience', async () => {
    const run = await runCli(['token', '--issuer', dev.domain, '--scope', 'read:messages', '--client-id', 'my-client', '--client-secret', 'my-secret']);
    expect(run.code).toBe(0);
    expect(run.stderr).toBe('');
    expect(run.stdout).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+\n$/);
    const { payload } = await jwtVerify(run.stdout.trim(), createRemoteJWKSet(new URL(`${dev.domain}/.well-known/jwks.json`)), {
      issuer: `${dev.domain}/`,
      audience: AUDIENCE,
    });
    expect(payload).toMatchObject({ scope: 'read:messages', sub: 'my-client', gty: 'client-credentials' });
  });

  it('token --org (ID or name) gets the organization claims', async () => {
    for (const org of ['org_abc123', 'acme']) {
      const run = await runCli(['token', '--issuer', dev.domain, '--org', org, '--client-id', 'my-client', '--client-secret', 'my-secret']);
      expect(run.code).toBe(0);
      expect(jwtPayload(run.stdout.trim())).toMatchObject({ org_id: 'org_abc123', org_name: 'acme' });
    }
  });

  it('token with a scope the API does not define: exit 1, one line with the issuer’s answer, nothing on stdout', async () => {
    const run = await runCli(['token', '--issuer', dev.domain, '--scope', 'delete:everything', '--client-id', 'my-client', '--client-secret', 'my-secret']);
    expect(run.code).toBe(1);
    expect(run.stdout).toBe('');
    expect(run.stderr.trim().split('\n')).toHaveLength(1);
    expect(run.stderr).toMatch(/^auth0-tsoa-api token: .*invalid_scope/);
  });

  it('token with the default client (demo-client) is refused by an issuer started with another client', async () => {
    const run = await runCli(['token', '--issuer', dev.domain]);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/invalid_client/);
  });

  it('each --origin may call the issuer from a browser and has <origin>/docs/oauth2-redirect.html registered for demo-spa', async () => {
    const preflight = await fetch(`${dev.domain}/oauth/token`, {
      method: 'OPTIONS',
      headers: { Origin: APP_ORIGIN, 'Access-Control-Request-Method': 'POST', 'Access-Control-Request-Headers': 'content-type,dpop' },
    });
    expect(preflight.headers.get('access-control-allow-origin')).toBe(APP_ORIGIN);

    const authorize = (redirectUri: string) =>
      fetch(
        `${dev.domain}/authorize?${new URLSearchParams({
          client_id: 'demo-spa',
          response_type: 'code',
          redirect_uri: redirectUri,
          scope: 'openid read:messages',
          code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
          code_challenge_method: 'S256',
          audience: AUDIENCE,
        })}`,
        { redirect: 'manual' },
      );
    const registered = await authorize(`${APP_ORIGIN}/docs/oauth2-redirect.html`);
    expect([302, 303]).toContain(registered.status);
    expect(registered.headers.get('location')).toMatch(/\/interaction\//); // on to the login page
    const other = await authorize('http://127.0.0.1:6000/docs/oauth2-redirect.html');
    expect(other.status).toBe(400);
  });

  it('SIGTERM stops it with exit 0 and frees the port', async () => {
    const second = await startDevCommand(['--port', '0', '--scopes', 'a']);
    const code = await second.stop();
    expect(code).toBe(0);
    await expect(fetch(`${second.domain}/.well-known/openid-configuration`)).rejects.toThrow();
  });
});

describe('dev keeps its signing key across restarts', () => {
  /** A free port, so that the restarted issuer has the same domain. */
  async function freePort(): Promise<number> {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as { port: number };
    await new Promise<void>((resolve) => server.close(() => resolve()));
    return port;
  }

  /**
   * An app (real Express + createAuth0Api) that verified a token of the first issuer, then a token of the restarted
   * one: the status of the second call.
   */
  async function statusAfterRestart(extra: string[]): Promise<{ first: number; second: number; kids: string[]; stdout: string }> {
    const app = join(temp, `restart-${extra.length}`);
    mkdirSync(join(app, 'node_modules'), { recursive: true });
    const port = String(await freePort());
    const args = ['--port', port, '--scopes', 'read:messages', '--audience', AUDIENCE, ...extra];
    let dev = await startDevCommand(args, { cwd: app });
    const auth0 = createAuth0Api({ domain: dev.domain, audience: AUDIENCE, onEvent: () => {} });
    const api = express();
    auth0.install(api);
    api.get('/m', auth0.requireAuth({ scopes: ['read:messages'] }), (_req, res) => void res.json({ ok: true }));
    api.use(errorHandler());
    const server = api.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/m`;
    const call = async (token: string) => (await fetch(url, { headers: { authorization: `Bearer ${token}` } })).status;
    const kid = (token: string) => JSON.parse(Buffer.from(token.split('.')[0]!, 'base64url').toString('utf8')).kid as string;
    try {
      const before = (await runCli(['token', '--issuer', dev.domain, '--scope', 'read:messages'])).stdout.trim();
      const first = await call(before);
      const stdout = dev.stdout();
      await dev.stop();
      dev = await startDevCommand(args, { cwd: app });
      const after = (await runCli(['token', '--issuer', dev.domain, '--scope', 'read:messages'])).stdout.trim();
      return { first, second: await call(after), kids: [kid(before), kid(after)], stdout };
    } finally {
      await dev.stop();
      await new Promise((resolve) => server.close(resolve));
    }
  }

  it('by default: the key is kept in node_modules/.cache (owner-only), the restarted issuer signs with it, the app keeps answering 200', async () => {
    const { first, second, kids, stdout } = await statusAfterRestart([]);
    expect([first, second]).toEqual([200, 200]);
    expect(kids[1]).toBe(kids[0]);
    expect(stdout).toContain('  signing key: node_modules/.cache/auth0-tsoa-api/dev-issuer-key.json (kept across restarts; --ephemeral-key for a new one each start)');
    const file = join(temp, 'restart-0', 'node_modules/.cache/auth0-tsoa-api/dev-issuer-key.json');
    expect(statSync(file).mode & 0o777).toBe(0o600);
  });

  it('--ephemeral-key: a new key each start, nothing written; the app, which fetched the key set moments ago, refuses the new kid (the reason for the default)', async () => {
    const { first, second, kids, stdout } = await statusAfterRestart(['--ephemeral-key']);
    expect(kids[1]).not.toBe(kids[0]);
    expect([first, second]).toEqual([200, 401]);
    expect(stdout).toContain('  signing key: in memory (a new one each start)');
    expect(existsSync(join(temp, 'restart-1', 'node_modules/.cache'))).toBe(false);
  });
});

describe('dev finds the scopes', () => {
  const SPEC = {
    openapi: '3.0.0',
    info: { title: 't', version: '1' },
    paths: {
      '/messages': {
        get: { security: [{ auth0: ['read:messages'] }], responses: {} },
        post: { security: [{ auth0: ['write:messages', 'read:messages'] }, { bearer: [] }], responses: {} },
      },
      '/public': { get: { responses: {} } },
    },
    components: { securitySchemes: { auth0: { type: 'oauth2', flows: { clientCredentials: { tokenUrl: '/t', scopes: { 'read:messages': 'Read messages' } } } } } },
  };

  it('--spec: every scope the operations require', async () => {
    const file = join(temp, 'openapi.json');
    writeFileSync(file, JSON.stringify(SPEC));
    const dev = await startDevCommand(['--port', '0', '--spec', file]);
    try {
      expect(dev.stdout()).toContain('scopes: read:messages write:messages');
      const run = await runCli(['token', '--issuer', dev.domain]);
      expect(jwtPayload(run.stdout.trim()).scope).toBe('read:messages write:messages');
    } finally {
      await dev.stop();
    }
  });

  it("without --scopes or --spec: tsoa's spec, found through tsoa.json in the working folder", async () => {
    const app = join(temp, 'app');
    mkdirSync(join(app, 'build'), { recursive: true });
    writeFileSync(join(app, 'tsoa.json'), JSON.stringify({ spec: { outputDirectory: 'build', specVersion: 3 }, routes: { routesDir: 'build' } }));
    writeFileSync(join(app, 'build/swagger.json'), JSON.stringify(SPEC));
    const dev = await startDevCommand(['--port', '0'], { cwd: app, env: cleanEnv({ AUTH0_AUDIENCE: 'https://from-env.example' }) });
    try {
      expect(dev.stdout()).toContain('scopes: read:messages write:messages');
      expect(dev.audience).toBe('https://from-env.example'); // --audience defaults to $AUTH0_AUDIENCE
    } finally {
      await dev.stop();
    }
  });
});

describe('dev: mistakes are one line and exit 1', () => {
  it('without oidc-provider installed: one line saying npm install --save-dev oidc-provider', async () => {
    // The command's files alone in a folder with no node_modules above it, as in an app that did not install it.
    const lonely = join(temp, 'no-oidc-provider');
    cpSync(join(ROOT, 'build/dist/src/dev'), lonely, { recursive: true, filter: (path) => !path.endsWith('.map') });
    // The framework-neutral core next to it (the OpenAPI walker), as in the package.
    cpSync(join(ROOT, 'build/dist/src/core'), join(temp, 'core'), { recursive: true, filter: (path) => !path.endsWith('.map') });
    writeFileSync(join(lonely, 'package.json'), '{"type":"module"}');
    expect(readdirSync(lonely)).toContain('cli.js');
    const run = await runCli(['dev', '--port', '0', '--scopes', 'a'], { command: join(lonely, 'cli.js'), cwd: lonely });
    expect(run.code).toBe(1);
    expect(run.stderr.trim()).toBe('auth0-tsoa-api: the development issuer needs the oidc-provider package: npm install --save-dev oidc-provider');
  });
});
