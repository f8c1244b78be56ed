/**
 * "Tests and proof" (browser): an app other than the demo, on its own port, gets a DPoP-bound token through
 * its own Swagger UI from the packaged development issuer and calls a protected operation — 200, sent as DPoP.
 *
 * Everything is real and in the order a user meets it:
 * - the package as it ships: build/lib (built under the adoption tests' lock, see below);
 * - the issuer: the package's bin (`"bin"` in package.json: build/lib/esm/dev/cli.js, what `npx auth0-tsoa-api`
 *   runs) spawned as its own process, `dev --port 0 --origin <the app's origin> --audience … --scopes …`; its printed
 *   `AUTH0_DOMAIN=` / `AUTH0_AUDIENCE=` lines configure the app, which therefore starts after it;
 * - the app: ./fixtures/notes-app — a tsoa controller of its own (`@Security('auth0', ['read:notes'])`), wired as the
 *   README's quick start (`createAuth0Api`, `auth0.install`, tsoa's `RegisterRoutes`, `serveDocs` with the
 *   `demo-spa` PKCE client, `errorHandler`) from `auth0-tsoa-api` itself (the package's self-reference → build/lib).
 *   The tsoa CLI generates its routes and spec into a temporary folder under build/ at test time, so the protected
 *   operation goes through tsoa's generated route and the package's `expressAuthentication`, as in a user's app;
 * - headless Chromium (Debian `chromium` via playwright-core; helpers in ./swagger-page.ts).
 *
 * What is asserted: through the app's /docs, authorization code + PKCE (the issuer's login popup) and client
 * credentials each give a token bound to the page's DPoP key by default; "Try it out" on GET /notes is 200; the app
 * received `Authorization: DPoP <that token>` with a proof for the request made with the page's key; the token's
 * `cnf.jkt` is the page's thumbprint, its `iss` the spawned issuer's, and its signature checks against that issuer's
 * JWKS. CORS: the issuer answers the app's origin (the page read the token responses) and refuses another origin
 * (a page on another port cannot read a token response).
 *
 * Screenshots: test-artifacts/cross-app-*.png.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { createRemoteJWKSet, decodeProtectedHeader, jwtVerify, type JWK } from 'jose';
import type express from 'express';
import { exec, packedTarball, ROOT, seconds, startProcess, type Running } from '../adoption/support.js';
import {
  ARTIFACTS,
  authorizeClientCredentials,
  bindSwitch,
  closeDialog,
  evaluate,
  freePort,
  launchChromium,
  oauth2Flow,
  openAuthorizeDialog,
  openDocs,
  recordRequests,
  settled,
  shownThumbprint,
  thumbprintOf,
  tryItOut,
  verifyProof,
  type Exchange,
  type Received,
} from './swagger-page.js';

const AUDIENCE = 'https://notes.example.test';
const SCOPES = 'read:notes write:notes';
const FIXTURE = 'test/browser/fixtures/notes-app';

/** What a shell gives a user: no AUTH0_* or NODE_ENV inherited from the test runner. */
const shellEnv = (): NodeJS.ProcessEnv => ({ PATH: process.env.PATH, HOME: process.env.HOME });

let browser: Browser | undefined;
let issuerProcess: Running | undefined;
let appServer: Server | undefined;
let otherServer: Server | undefined;
let generated: string | undefined;
/** Set-up steps running alongside others: awaited before cleaning up, so a failed set-up leaks no browser. */
const started: Promise<unknown>[] = [];

/** From the issuer's output: the lines a user copies into `.env`, and the confidential client. */
let domain: string;
let audience: string;
let clientId: string;
let clientSecret: string;
/** The app's origin (given to the issuer as --origin) and a page origin the issuer was not told about. */
let appUrl: string;
let otherUrl: string;
let received: Received[];
const timings: Record<string, number> = {};

/** tsoa's CLI on the fixture controller, with the README's tsoa.json settings; resolves to the output folder. */
async function generateRoutes(): Promise<string> {
  mkdirSync(join(ROOT, 'build'), { recursive: true });
  // Under the checkout (not /tmp), so the generated routes resolve @tsoa/runtime and auth0-tsoa-api as the app does.
  const dir = mkdtempSync(join(ROOT, 'build/cross-app-'));
  const out = relative(ROOT, dir);
  const config = {
    controllerPathGlobs: [`${FIXTURE}/*-controller.ts`],
    noImplicitAdditionalProperties: 'throw-on-extras',
    spec: {
      outputDirectory: out,
      specVersion: 3,
      name: 'Notes API',
      description: 'Not the demo: a tsoa app of its own.',
      version: '1.0.0',
      securityDefinitions: { auth0: { type: 'oauth2', flows: {} } },
    },
    routes: { routesDir: out, authenticationModule: `./${FIXTURE}/authentication.ts`, esm: true },
  };
  writeFileSync(join(dir, 'tsoa.json'), JSON.stringify(config, null, 2));
  await exec(process.execPath, [join(ROOT, 'node_modules/@tsoa/cli/dist/cli.js'), 'spec-and-routes', '-c', join(out, 'tsoa.json')], { cwd: ROOT, env: shellEnv() });
  return dir;
}

/** A page on an origin the issuer was not given: a blank HTML page on another port. */
async function startOtherOrigin(): Promise<Server> {
  const server = createServer((_req, res) => res.writeHead(200, { 'content-type': 'text/html' }).end('<!doctype html><title>another app</title>'));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return server;
}

const listeningPort = (server: Server): number => (server.address() as { port: number }).port;

async function closeServer(server: Server | undefined): Promise<void> {
  if (!server?.listening) return;
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
}

beforeAll(async () => {
  const began = Date.now();
  // `npx auth0-tsoa-api` runs build/lib; build it when stale. packedTarball() does that under the lock the adoption
  // tests hold while they build and pack, so this test never reads build/lib while another file rewrites it (the
  // tarball it packs when stale is the one those tests install).
  await packedTarball();
  timings.package = seconds(began);

  let step = Date.now();
  const chromium = launchChromium().then((b) => (browser = b));
  const routes = generateRoutes().then((dir) => {
    generated = dir;
    timings.tsoa = seconds(step);
  });
  started.push(chromium, routes);
  otherServer = await startOtherOrigin();
  otherUrl = `http://127.0.0.1:${listeningPort(otherServer)}`;

  // The issuer first, told the app's origin; then the app, configured from the issuer's printed lines.
  const appPort = await freePort();
  appUrl = `http://127.0.0.1:${appPort}`;
  const bin = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { bin: Record<string, string> }).bin['auth0-tsoa-api']!;
  issuerProcess = startProcess(process.execPath, [join(ROOT, bin), 'dev', '--port', '0', '--origin', appUrl, '--audience', AUDIENCE, '--scopes', SCOPES], { cwd: ROOT, env: shellEnv() });
  domain = (await issuerProcess.waitFor(/^AUTH0_DOMAIN=(\S+)$/m))[1]!;
  audience = (await issuerProcess.waitFor(/^AUTH0_AUDIENCE=(\S+)$/m))[1]!;
  const client = await issuerProcess.waitFor(/client_id=(\S+) client_secret=(\S+)/);
  clientId = client[1]!;
  clientSecret = client[2]!;
  timings.issuer = seconds(step);

  await Promise.all([chromium, routes]);
  step = Date.now();
  // Imported only now: both load auth0-tsoa-api from build/lib, which packedTarball() made current.
  const { createNotesApp } = await import('./fixtures/notes-app/app.js');
  const { RegisterRoutes } = (await import(/* @vite-ignore */ join(generated!, 'routes.ts'))) as { RegisterRoutes: (app: express.Router) => void };
  const spec = JSON.parse(readFileSync(join(generated!, 'swagger.json'), 'utf8')) as Record<string, unknown>;
  const app = createNotesApp({ domain, audience, registerRoutes: RegisterRoutes, spec });
  appServer = await new Promise<Server>((resolve, reject) => {
    const server = app.listen(appPort, '127.0.0.1', () => resolve(server)).once('error', reject);
  });
  received = recordRequests(appServer);
  timings.app = seconds(step);
  timings.setUp = seconds(began);
  console.log(
    `cross-app set-up: ${Object.entries(timings)
      .map(([k, v]) => `${k} ${v} s`)
      .join(', ')}`,
  );
}, 120_000);

afterAll(async () => {
  await Promise.allSettled(started);
  await browser?.close();
  await closeServer(appServer);
  await closeServer(otherServer);
  await issuerProcess?.stop(); // the whole process group
  if (generated) rmSync(generated, { recursive: true, force: true });
});

/** The issuer's JSON answer to a token request the page made. */
function tokenResponse(exchange: Exchange | undefined): { token_type?: string; access_token?: string; scope?: string } {
  expect(exchange?.body).toEqual(expect.any(String));
  return JSON.parse(exchange!.body!) as { token_type?: string; access_token?: string; scope?: string };
}

/**
 * What both flows must show: the page's token request went to the spawned issuer with a proof and came back bound
 * (`token_type` DPoP); the app received that token as `Authorization: DPoP` with a proof for GET /notes made with the
 * page's key; the token is bound to that key, was issued by the spawned issuer for this app's audience and is signed
 * with that issuer's key. Returns the token's claims and the app's answer.
 */
async function expectBoundCallFromSpawnedIssuer(exchanges: Exchange[], jkt: string) {
  const tokenEndpoint = `${domain}/oauth/token`;
  await settled(exchanges);
  const tokenRequests = exchanges.filter((e) => e.url.startsWith(tokenEndpoint));
  expect(tokenRequests).toHaveLength(1);
  const [tokenRequest] = tokenRequests;
  expect(tokenRequest).toMatchObject({ method: 'POST', status: 200 });
  expect(await verifyProof(tokenRequest!.dpop)).toMatchObject({ htm: 'POST', htu: tokenEndpoint });
  const answer = tokenResponse(tokenRequest);
  expect(answer.token_type).toBe('DPoP'); // RFC 9449 §5: the issuer bound it
  const token = answer.access_token!;

  // What the app itself received (recorded on its server, not in the browser).
  const atApp = received.filter((r) => r.path === '/notes');
  expect(atApp).toEqual([{ method: 'GET', path: '/notes', authorization: `DPoP ${token}`, dpop: expect.any(String) }]);
  const proof = atApp[0]!.dpop!;
  const apiCall = exchanges.find((e) => e.url === `${appUrl}/notes`);
  expect(apiCall).toMatchObject({ status: 200, authorization: `DPoP ${token}` }); // as the browser sent it
  expect(await verifyProof(proof)).toMatchObject({ htm: 'GET', htu: `${appUrl}/notes` });
  expect(await thumbprintOf(decodeProtectedHeader(proof).jwk as JWK)).toBe(jkt); // signed with the page's key

  // The token: bound to the page's key, from the spawned issuer (its iss, and its signature against its JWKS).
  const { payload } = await jwtVerify(token, createRemoteJWKSet(new URL(`${domain}/.well-known/jwks.json`)), { issuer: `${domain}/`, audience: AUDIENCE });
  expect(payload.cnf).toEqual({ jkt });
  expect(String(payload.scope).split(' ')).toContain('read:notes');
  return { claims: payload, body: JSON.parse(apiCall!.body!) as unknown };
}

describe('another app (tsoa, not the demo) with the packaged development issuer (`auth0-tsoa-api dev --origin …`)', () => {
  it('the issuer printed the lines the app is configured from', () => {
    expect(domain).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(domain).not.toBe(appUrl);
    expect(audience).toBe(AUDIENCE);
    expect(issuerProcess!.output()).toContain(`client_id=demo-spa, for ${appUrl}`);
  });

  it('authorization code + PKCE (demo-spa, the issuer’s login popup) through the app’s Swagger UI: DPoP-bound by default → GET /notes 200, sent as DPoP', { timeout: 45_000 }, async () => {
    const { context, page, exchanges } = await openDocs(browser!, appUrl, [`${appUrl}/notes`, `${domain}/`]);
    try {
      const jkt = await shownThumbprint(page);
      expect(jkt).toMatch(/^[A-Za-z0-9_-]{43}$/);

      const dialog = await openAuthorizeDialog(page);
      const code = oauth2Flow(dialog, 'authorizationCode');
      expect(await code.locator('input[data-name="clientId"]').inputValue()).toBe('demo-spa');
      expect(await bindSwitch(code).isChecked()).toBe(true); // the default in allowed mode; not touched
      const [popup] = await Promise.all([page.waitForEvent('popup'), code.locator('button.authorize').click()]);
      await popup.locator('input[name=login]').waitFor();
      // The popup is the spawned issuer's login page, reached with this app's redirect URI (registered by --origin).
      const authorize = new URL(exchanges.find((e) => e.url.startsWith(`${domain}/authorize`))!.url);
      expect(authorize.searchParams.get('client_id')).toBe('demo-spa');
      expect(authorize.searchParams.get('redirect_uri')).toBe(`${appUrl}/docs/oauth2-redirect.html`);
      expect(authorize.searchParams.get('audience')).toBe(AUDIENCE);
      expect(authorize.searchParams.get('code_challenge_method')).toBe('S256');
      await popup.locator('input[name=login]').fill('carol');
      await popup.locator('input[name=password]').fill('any password');
      await popup.screenshot({ path: `${ARTIFACTS}cross-app-pkce-login.png` });
      await popup.locator('button[type=submit]').click();
      await popup.waitForEvent('close', { timeout: 15_000 });
      // The page read the issuer's token response: the issuer allowed the app's origin (CORS).
      await expect(code.locator('button', { hasText: 'Logout' })).toBeVisibleSoon();
      await closeDialog(page);

      received.length = 0;
      const result = await tryItOut(page, 'get', '/notes');
      expect(result.status).toBe('200');
      expect(result.body).toContain('"for": "carol"');
      await page.screenshot({ path: `${ARTIFACTS}cross-app-pkce-dpop-200.png`, fullPage: true });

      const { claims, body } = await expectBoundCallFromSpawnedIssuer(exchanges, jkt);
      expect(claims).toMatchObject({ sub: 'carol', client_id: 'demo-spa' });
      expect(body).toEqual({ notes: ['Buy milk'], for: 'carol' });
    } finally {
      await context.close();
    }
  });

  it('client credentials (typed in from the issuer’s output) through the app’s Swagger UI: DPoP-bound by default → GET /notes 200, sent as DPoP', { timeout: 45_000 }, async () => {
    const { context, page, exchanges } = await openDocs(browser!, appUrl, [`${appUrl}/notes`, `${domain}/`]);
    try {
      const jkt = await shownThumbprint(page);
      await authorizeClientCredentials(page, { clientId, clientSecret, screenshot: 'cross-app-client-credentials-authorized' });
      received.length = 0;
      const result = await tryItOut(page, 'get', '/notes');
      expect(result.status).toBe('200');
      await page.screenshot({ path: `${ARTIFACTS}cross-app-client-credentials-dpop-200.png`, fullPage: true });
      const { claims, body } = await expectBoundCallFromSpawnedIssuer(exchanges, jkt);
      expect(claims).toMatchObject({ sub: clientId, client_id: clientId });
      expect(body).toEqual({ notes: ['Buy milk'], for: clientId });
    } finally {
      await context.close();
    }
  });

  it('CORS: the issuer lets the app’s origin read a token response and refuses a page on another port', { timeout: 30_000 }, async () => {
    // The same request from both pages: a client-credentials token request, as Swagger UI makes it.
    const request = `fetch(${JSON.stringify(`${domain}/oauth/token`)}, {
      method: 'POST',
      headers: { authorization: 'Basic ' + btoa(${JSON.stringify(`${clientId}:${clientSecret}`)}), 'content-type': 'application/x-www-form-urlencoded' },
      body: ${JSON.stringify(`grant_type=client_credentials&audience=${encodeURIComponent(AUDIENCE)}`)},
    }).then(async (r) => ({ status: r.status, tokenType: (await r.json()).token_type }), (e) => ({ error: e.name }))`;

    const context = await browser!.newContext();
    try {
      const page = await context.newPage();
      const logs: string[] = [];
      page.on('console', (message) => logs.push(message.text()));

      await page.goto(`${appUrl}/openapi.json`);
      expect(await evaluate(page, request)).toEqual({ status: 200, tokenType: 'Bearer' });

      await page.goto(`${otherUrl}/`);
      expect(await evaluate(page, request)).toEqual({ error: 'TypeError' });
      expect(logs.join('\n')).toContain(`from origin '${otherUrl}' has been blocked by CORS policy`);
    } finally {
      await context.close();
    }
  });
});
