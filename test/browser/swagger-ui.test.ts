/**
 * Swagger UI at /docs in headless Chromium (Debian `chromium`, driven by playwright-core): Authorize, then
 * "Try it out" against the real demo.
 *
 * (a) Bearer: a pasted token → 200; a token without the scope → 403.
 * (b) DPoP: a token bound to the key the page made (its thumbprint read from the page) → 200, with proofs the
 *     server checked (it asked for a nonce first: AUTH0_DPOP_NONCE=true, and the page retried).
 * (c) A reload keeps the key (IndexedDB) and the authorization (persistAuthorization): still 200.
 * (d) Development issuer: OAuth2 client credentials from the browser, as Bearer and as a DPoP-bound token → 200.
 * (e) Development issuer, docs configured as the demo should (`AppOptions.docs`): authorization code + PKCE with
 *     `audience` through the login popup, DPoP-bound → 200; client credentials pre-filled.
 *
 * Plus, without a browser: what the router serves.
 *
 * Screenshots go to test-artifacts/swagger-ui-*.png.
 */
import { mkdirSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { chromium, type Browser, type BrowserContext, type Locator, type Page, type Request as PwRequest } from 'playwright-core';
import { EmbeddedJWK, decodeJwt, jwtVerify } from 'jose';
import { TestIssuer } from '../support/test-issuer.js';
import { AUDIENCE, startTestDemo } from '../support/demo.js';
import { startDemo, type RunningDemo } from '../../src/demo/server.js';
import type { AuthEvent } from '../../src/core/index.js';
import { startDevIssuer, SPA_CLIENT_ID, type DevIssuer } from '../../src/demo/dev-issuer.js';
import { createApp } from '../../src/demo/app.js';
import { loadSpec } from '../../src/demo/openapi.js';
import { SCOPES } from '../../src/demo/scopes.js';
import { createAuth0Api, swaggerUiHandlers } from '../../src/express/index.js';
import express from 'express';

const ARTIFACTS = fileURLToPath(new URL('../../test-artifacts/', import.meta.url));
const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

let browser: Browser;

beforeAll(async () => {
  mkdirSync(ARTIFACTS, { recursive: true });
  browser = await chromium.launch({ executablePath: '/usr/bin/chromium', headless: true, args: CHROMIUM_ARGS });
});

afterAll(async () => {
  await browser?.close();
});

// ---------------------------------------------------------------------------------------------
// Page helpers (page.evaluate gets source strings: nothing of the test's transpiled code goes to the page)
// ---------------------------------------------------------------------------------------------

interface Exchange {
  url: string;
  method: string;
  status: number;
  authorization: string | undefined;
  dpop: string | undefined;
}

/** A fresh browser profile with a /docs page, recording the requests to `watch` (URL prefixes). */
async function openDocs(baseUrl: string, watch: string[]): Promise<{ context: BrowserContext; page: Page; exchanges: Exchange[] }> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 1000 } });
  const page = await context.newPage();
  // Requests of the page and of its popups (the OAuth2 login), in the order they start.
  const exchanges: Exchange[] = [];
  const errors: string[] = [];
  page.on('pageerror', (error) => errors.push(error.message));
  // Entries are added when a request starts (so in request order) and completed when it finishes.
  const started = new Map<PwRequest, Exchange>();
  context.on('request', (request) => {
    if (!watch.some((prefix) => request.url().startsWith(prefix)) || request.method() === 'OPTIONS') return;
    const entry: Exchange = { url: request.url(), method: request.method(), status: 0, authorization: undefined, dpop: undefined };
    started.set(request, entry);
    exchanges.push(entry);
  });
  context.on('requestfinished', async (request) => {
    const entry = started.get(request);
    if (!entry) return;
    const headers = await request.allHeaders();
    entry.authorization = headers.authorization;
    entry.dpop = headers.dpop;
    entry.status = (await request.response())?.status() ?? 0;
  });
  await page.goto(`${baseUrl}/docs`);
  await page.locator('.auth-wrapper button.authorize').waitFor();
  expect(errors).toEqual([]);
  return { context, page, exchanges };
}

async function openAuthorizeDialog(page: Page): Promise<Locator> {
  await page.locator('.auth-wrapper button.authorize').click();
  const dialog = page.locator('.modal-ux');
  await dialog.waitFor();
  return dialog;
}

/** The dialog section of one OAuth2 flow (the plugin wraps each in a marked div). */
function oauth2Flow(dialog: Locator, flow: 'clientCredentials' | 'authorizationCode'): Locator {
  return dialog.locator(`.auth0-tsoa-api-oauth2-flow[data-flow="${flow}"]`);
}

async function closeDialog(page: Page): Promise<void> {
  await page.locator('.modal-ux button.close-modal').click();
  await page.locator('.modal-ux').waitFor({ state: 'detached' });
}

/** Pastes a token into an http scheme (bearer or dpop) and authorizes it. */
async function authorizeHttp(page: Page, scheme: 'bearer' | 'dpop', token: string): Promise<void> {
  const dialog = await openAuthorizeDialog(page);
  const container = dialog.locator('.auth-container').filter({ has: page.locator('h4 code', { hasText: new RegExp(`^${scheme}$`) }) });
  await container.locator('input[type=text]').fill(token);
  await container.getByRole('button', { name: 'Apply credentials' }).click();
  await expect(container.locator('h6', { hasText: 'Authorized' })).toBeVisibleSoon();
  await closeDialog(page);
}

/** "Try it out" + "Execute" on an operation; returns the status and body shown in the response panel. */
async function tryItOut(page: Page, method: string, path: string): Promise<{ status: string; body: string }> {
  const block = page.locator(`.opblock-${method}`).filter({ has: page.locator(`.opblock-summary-path[data-path="${path}"]`) });
  if (!(await block.locator('.opblock-body').isVisible())) await block.locator('.opblock-summary').click();
  const tryOut = block.locator('button.try-out__btn');
  if ((await tryOut.textContent())?.includes('Try it out')) await tryOut.click();
  const previous = block.locator('.live-responses-table');
  if (await previous.isVisible()) await block.locator('button.btn-clear').click();
  await block.locator('button.execute').click();
  const row = block.locator('.live-responses-table tbody .response');
  await row.waitFor();
  return {
    status: (await row.locator('.response-col_status').innerText()).trim(),
    body: await row.locator('.response-col_description').innerText(),
  };
}

/** Waits until every recorded request has finished (headers and status are filled in asynchronously). */
async function settled(exchanges: Exchange[]): Promise<Exchange[]> {
  for (let i = 0; i < 100 && exchanges.some((e) => e.status === 0); i++) await new Promise((r) => setTimeout(r, 50));
  return exchanges;
}

const evaluate = <T>(page: Page, source: string): Promise<T> => page.evaluate(source) as Promise<T>;

async function verifyProof(proof: string | undefined) {
  expect(proof).toEqual(expect.any(String));
  return (await jwtVerify(proof!, EmbeddedJWK, { typ: 'dpop+jwt', algorithms: ['ES256'] })).payload;
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

// A tiny polling matcher for locators: vitest has no auto-retrying DOM assertions.
expect.extend({
  async toBeVisibleSoon(received: Locator) {
    try {
      await received.waitFor({ state: 'visible', timeout: 10_000 });
      return { pass: true, message: () => 'visible' };
    } catch (error) {
      return { pass: false, message: () => `not visible: ${(error as Error).message.split('\n')[0]}` };
    }
  },
});
declare module 'vitest' {
  interface Assertion {
    toBeVisibleSoon(): Promise<void>;
  }
}

// ---------------------------------------------------------------------------------------------
// Against the demo with a test issuer (tokens minted by the test), nonces on
// ---------------------------------------------------------------------------------------------

describe('Swagger UI with pasted tokens (demo + test issuer)', () => {
  let issuer: TestIssuer;
  let demo: RunningDemo;
  const events: AuthEvent[] = [];

  beforeAll(async () => {
    issuer = await TestIssuer.start();
    demo = await startTestDemo({ AUTH0_DOMAIN: issuer.origin, AUTH0_DPOP_NONCE: 'true' }, { onEvent: (event) => events.push(event) });
  });

  afterAll(async () => {
    await demo?.close();
    await issuer?.close();
  });

  it('(a) Bearer: a pasted token gets 200; a token without read:messages gets 403', { timeout: 45_000 }, async () => {
    const { context, page, exchanges } = await openDocs(demo.url, [`${demo.url}/api/`]);
    try {
      const token = await issuer.token(AUDIENCE, { scope: 'read:messages' });
      await authorizeHttp(page, 'bearer', token);
      const ok = await tryItOut(page, 'get', '/api/messages');
      expect(ok.status).toBe('200');
      expect(ok.body).toContain('"messages"');
      expect(await settled(exchanges)).toEqual([expect.objectContaining({ status: 200, authorization: `Bearer ${token}`, dpop: undefined })]);
      await page.screenshot({ path: `${ARTIFACTS}swagger-ui-bearer-200.png`, fullPage: true });

      // Swap the token for one without the scope.
      const dialog = await openAuthorizeDialog(page);
      const bearer = dialog.locator('.auth-container').filter({ has: page.locator('h4 code', { hasText: /^bearer$/ }) });
      await bearer.getByRole('button', { name: 'Remove authorization' }).click();
      await closeDialog(page);
      await authorizeHttp(page, 'bearer', await issuer.token(AUDIENCE, { scope: 'read:data' }));
      const denied = await tryItOut(page, 'get', '/api/messages');
      expect(denied.status).toBe('403');
      expect(denied.body).toContain('insufficient_scope');
      await page.screenshot({ path: `${ARTIFACTS}swagger-ui-bearer-403.png`, fullPage: true });
    } finally {
      await context.close();
    }
  });

  it('(b) DPoP: a token bound to the page’s key gets 200, with a fresh proof per request and the nonce retry; (c) a reload keeps the key', { timeout: 45_000 }, async () => {
    const { context, page, exchanges } = await openDocs(demo.url, [`${demo.url}/api/`]);
    try {
      const jkt = await evaluate<string>(page, 'window.auth0TsoaApiSwagger.thumbprint()');
      expect(jkt).toMatch(/^[A-Za-z0-9_-]{43}$/);
      expect(await evaluate<boolean>(page, 'window.auth0TsoaApiSwagger.keyPair().then((k) => k.privateKey.extractable)')).toBe(false);
      expect(
        await evaluate<string>(page, "window.auth0TsoaApiSwagger.keyPair().then((k) => crypto.subtle.exportKey('jwk', k.privateKey)).then(() => 'exported', (e) => e.name)"),
      ).toBe('InvalidAccessError');

      const dialog = await openAuthorizeDialog(page);
      // The dialog shows the DPoP scheme (not "unsupported scheme") with the key thumbprint to bind tokens to.
      await expect(dialog.locator(`.auth0-tsoa-api-jkt[data-jkt="${jkt}"]`)).toBeVisibleSoon();
      expect(await dialog.innerText()).not.toContain('unsupported scheme');
      await closeDialog(page);

      const token = await issuer.token(AUDIENCE, { cnf: { jkt }, scope: 'read:messages' });
      await authorizeHttp(page, 'dpop', token);
      events.length = 0;
      const result = await tryItOut(page, 'get', '/api/messages');
      expect(result.status).toBe('200');
      expect(result.body).toContain('"messages"');
      await page.screenshot({ path: `${ARTIFACTS}swagger-ui-dpop-200.png`, fullPage: true });

      // The server wanted a nonce, the page retried with it: both requests carried a DPoP token and a proof.
      expect((await settled(exchanges)).map((e) => e.status)).toEqual([401, 200]);
      expect(events).toContainEqual(expect.objectContaining({ type: 'request_rejected', code: 'use_dpop_nonce' }));
      const proofs = [];
      for (const exchange of exchanges) {
        expect(exchange.authorization).toBe(`DPoP ${token}`);
        proofs.push(await verifyProof(exchange.dpop));
      }
      expect(proofs[0]).toMatchObject({ htm: 'GET', htu: `${demo.url}/api/messages` });
      expect(proofs[0]!.nonce).toBeUndefined();
      expect(proofs[1]!.nonce).toEqual(expect.any(String));
      expect(proofs[1]!.jti).not.toBe(proofs[0]!.jti);
      expect(proofs[1]!.ath).toBe(proofs[0]!.ath);

      // Only operations that accept DPoP get the token: the public route gets neither header.
      exchanges.length = 0;
      expect((await tryItOut(page, 'get', '/api/public')).status).toBe('200');
      expect(await settled(exchanges)).toEqual([expect.objectContaining({ status: 200, authorization: undefined, dpop: undefined })]);

      // (c) After a reload: same key from IndexedDB, the token still there, and still accepted.
      await page.reload();
      await page.locator('.auth-wrapper button.authorize').waitFor();
      expect(await evaluate<string>(page, 'window.auth0TsoaApiSwagger.thumbprint()')).toBe(jkt);
      exchanges.length = 0;
      const again = await tryItOut(page, 'get', '/api/messages');
      expect(again.status).toBe('200');
      expect((await settled(exchanges)).at(-1)).toMatchObject({ status: 200, authorization: `DPoP ${token}` });
      await page.screenshot({ path: `${ARTIFACTS}swagger-ui-dpop-after-reload.png`, fullPage: true });
    } finally {
      await context.close();
    }
  });
});

// ---------------------------------------------------------------------------------------------
// Against the demo's development issuer (real oidc-provider)
// ---------------------------------------------------------------------------------------------

async function authorizeClientCredentials(page: Page, options: { dpop: boolean; clientId?: string; clientSecret?: string }): Promise<void> {
  const dialog = await openAuthorizeDialog(page);
  const flow = oauth2Flow(dialog, 'clientCredentials');
  if (options.clientId !== undefined) await flow.locator('input[data-name="clientId"]').fill(options.clientId);
  if (options.clientSecret !== undefined) await flow.locator('input[data-name="clientSecret"]').fill(options.clientSecret);
  const bind = flow.locator('input[aria-label="dpop-bind-oauth2"]');
  if ((await bind.isChecked()) !== options.dpop) await bind.click();
  await flow.locator('button.authorize').click();
  await expect(flow.locator('button', { hasText: 'Logout' })).toBeVisibleSoon();
  await page.screenshot({ path: `${ARTIFACTS}swagger-ui-client-credentials-${options.dpop ? 'dpop' : 'bearer'}-authorized.png` });
  await closeDialog(page);
}

/** The demo's default audience in development mode, which Swagger UI sends with token requests. */
const AUDIENCE_FOR_DOCS = 'https://api.example.com';

describe('Swagger UI with OAuth2 against the development issuer', () => {
  let demo: RunningDemo;
  let issuerUrl: string;

  beforeAll(async () => {
    const port = await freePort();
    const issuerPort = await freePort();
    demo = await startDemo({ env: { PORT: String(port), AUTH0_DEV_ISSUER_PORT: String(issuerPort), NODE_ENV: 'test' }, quiet: true });
    issuerUrl = demo.issuer!.issuer;
  });

  afterAll(async () => {
    await demo?.close();
  });

  it('(d) client credentials from the browser, as a Bearer token, then as a DPoP-bound token → 200', { timeout: 45_000 }, async () => {
    const { context, page, exchanges } = await openDocs(demo.url, [`${demo.url}/api/`, issuerUrl]);
    try {
      await authorizeClientCredentials(page, { dpop: false, clientId: 'demo-client', clientSecret: 'demo-secret' });
      expect((await tryItOut(page, 'get', '/api/messages')).status).toBe('200');
      const [tokenRequest, apiRequest] = await settled(exchanges);
      // Swagger UI appends additionalQueryStringParams (the Auth0-style audience) to the token URL.
      expect(tokenRequest).toMatchObject({ url: `${demo.issuer!.tokenEndpoint}?audience=${encodeURIComponent(AUDIENCE_FOR_DOCS)}`, status: 200, dpop: undefined });
      expect(apiRequest).toMatchObject({ status: 200, dpop: undefined, authorization: expect.stringMatching(/^Bearer /) });

      // Log out, switch "Bind the token to this browser's DPoP key" on, and get a new token.
      const dialog = await openAuthorizeDialog(page);
      await oauth2Flow(dialog, 'clientCredentials').locator('button', { hasText: 'Logout' }).click();
      await closeDialog(page);
      exchanges.length = 0;
      const jkt = await evaluate<string>(page, 'window.auth0TsoaApiSwagger.thumbprint()');
      await authorizeClientCredentials(page, { dpop: true, clientId: 'demo-client', clientSecret: 'demo-secret' });
      expect((await tryItOut(page, 'get', '/api/messages')).status).toBe('200');
      await page.screenshot({ path: `${ARTIFACTS}swagger-ui-client-credentials-dpop-200.png`, fullPage: true });

      const [boundTokenRequest, boundApiRequest] = await settled(exchanges);
      expect(boundTokenRequest).toMatchObject({ url: `${demo.issuer!.tokenEndpoint}?audience=${encodeURIComponent(AUDIENCE_FOR_DOCS)}`, status: 200 });
      expect(await verifyProof(boundTokenRequest!.dpop)).toMatchObject({ htm: 'POST', htu: demo.issuer!.tokenEndpoint });
      expect(boundApiRequest).toMatchObject({ status: 200, authorization: expect.stringMatching(/^DPoP /) });
      const token = boundApiRequest!.authorization!.slice('DPoP '.length);
      expect(decodeJwt(token)).toMatchObject({ cnf: { jkt }, aud: AUDIENCE });
      expect(await verifyProof(boundApiRequest!.dpop)).toMatchObject({ htm: 'GET', htu: `${demo.url}/api/messages` });
    } finally {
      await context.close();
    }
  });
});

describe('Swagger UI configured for the development issuer (AppOptions.docs)', () => {
  let devIssuer: DevIssuer;
  let server: Server;
  let origin: string;

  beforeAll(async () => {
    // The demo app wired as server.ts should wire it (see AppOptions.docs), on fixed ports for the redirect URI.
    const port = await freePort();
    origin = `http://127.0.0.1:${port}`;
    devIssuer = await startDevIssuer({
      port: await freePort(),
      audience: AUDIENCE,
      scopes: { ...SCOPES },
      spaRedirectUris: [`${origin}/docs/oauth2-redirect.html`],
      corsOrigins: [origin],
    });
    const auth0 = createAuth0Api({ domain: devIssuer.issuer, audience: AUDIENCE, scopes: SCOPES, dpop: { mode: 'allowed' } });
    const spec = loadSpec({ dpopMode: 'allowed', tokenUrl: devIssuer.tokenEndpoint, authorizationUrl: devIssuer.authorizationEndpoint });
    const app = createApp({
      auth0,
      spec,
      docs: {
        oauth: {
          clientId: SPA_CLIENT_ID,
          audience: AUDIENCE,
          scopes: Object.keys(SCOPES),
          usePkce: true,
          clientCredentials: { clientId: devIssuer.clientId, clientSecret: devIssuer.clientSecret },
        },
        dpop: true,
      },
    });
    server = await new Promise<Server>((resolve) => {
      const s = app.listen(port, '127.0.0.1', () => resolve(s));
    });
  });

  afterAll(async () => {
    server?.closeAllConnections();
    await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
    await devIssuer?.close();
  });

  it('(e) authorization code + PKCE with audience through the login popup, DPoP-bound → 200; client credentials pre-filled', { timeout: 45_000 }, async () => {
    const { context, page, exchanges } = await openDocs(origin, [`${origin}/api/`, devIssuer.issuer]);
    try {
      const jkt = await evaluate<string>(page, 'window.auth0TsoaApiSwagger.thumbprint()');
      const dialog = await openAuthorizeDialog(page);

      const cc = oauth2Flow(dialog, 'clientCredentials');
      expect(await cc.locator('input[data-name="clientId"]').inputValue()).toBe(devIssuer.clientId);
      expect(await cc.locator('input[data-name="clientSecret"]').inputValue()).toBe(devIssuer.clientSecret);

      const code = oauth2Flow(dialog, 'authorizationCode');
      expect(await code.locator('input[data-name="clientId"]').inputValue()).toBe(SPA_CLIENT_ID);
      await code.locator('input[aria-label="dpop-bind-oauth2"]').check();
      const [popup] = await Promise.all([page.waitForEvent('popup'), code.locator('button.authorize').click()]);
      await popup.locator('input[name=login]').waitFor();
      const authorizeUrl = new URL(exchanges.find((e) => e.url.startsWith(devIssuer.authorizationEndpoint))!.url);
      expect(authorizeUrl.searchParams.get('audience')).toBe(AUDIENCE);
      expect(authorizeUrl.searchParams.get('code_challenge_method')).toBe('S256');
      await popup.locator('input[name=login]').fill('alice');
      await popup.locator('input[name=password]').fill('anything');
      await popup.screenshot({ path: `${ARTIFACTS}swagger-ui-pkce-login.png` });
      await popup.locator('button[type=submit]').click();
      await popup.waitForEvent('close', { timeout: 15_000 });

      await expect(code.locator('button', { hasText: 'Logout' })).toBeVisibleSoon();
      await closeDialog(page);
      const result = await tryItOut(page, 'get', '/api/profile');
      expect(result.status).toBe('200');
      expect(result.body).toContain('"sub": "alice"');
      await page.screenshot({ path: `${ARTIFACTS}swagger-ui-pkce-dpop-200.png`, fullPage: true });

      await settled(exchanges);
      const tokenRequest = exchanges.find((e) => e.url.startsWith(devIssuer.tokenEndpoint));
      expect(await verifyProof(tokenRequest?.dpop)).toMatchObject({ htm: 'POST', htu: devIssuer.tokenEndpoint });
      const apiRequest = exchanges.find((e) => e.url === `${origin}/api/profile`)!;
      expect(apiRequest).toMatchObject({ status: 200, authorization: expect.stringMatching(/^DPoP /) });
      expect(decodeJwt(apiRequest.authorization!.slice(5))).toMatchObject({ sub: 'alice', aud: AUDIENCE, cnf: { jkt } });
    } finally {
      await context.close();
    }
  });
});

// ---------------------------------------------------------------------------------------------
// What the router serves (plain HTTP, no browser)
// ---------------------------------------------------------------------------------------------

describe('swaggerUiHandlers: served files', () => {
  let server: Server;
  let base: string;
  const spec = (title: string) => ({
    openapi: '3.0.0',
    info: { title, version: '1' },
    paths: {},
    components: { securitySchemes: { dpop: { type: 'http', scheme: 'DPoP' }, bearer: { type: 'http', scheme: 'bearer' } } },
  });

  beforeAll(async () => {
    const app = express();
    app.use('/docs', swaggerUiHandlers(spec('First API'), { oauth: { clientId: 'spa', audience: 'https://a.example', scopes: ['read:x'] } }));
    app.use('/other-docs', swaggerUiHandlers(spec('Second API'), { dpop: false }));
    server = await new Promise<Server>((resolve) => {
      const s = app.listen(0, '127.0.0.1', () => resolve(s));
    });
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    server?.closeAllConnections();
    await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  });

  it('redirects /docs to /docs/ (relative asset URLs) and serves the page with the plugin script, no CDN', async () => {
    const redirect = await fetch(`${base}/docs`, { redirect: 'manual' });
    expect(redirect.status).toBe(301);
    expect(redirect.headers.get('location')).toBe('/docs/');
    const page = await fetch(`${base}/docs/`);
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).toContain(`<script src='./auth0-tsoa-api/swagger-dpop-plugin.js'></script>`);
    expect(html).toContain('<title>First API – Swagger UI</title>');
    expect(html).not.toMatch(/https?:\/\/(?!www\.w3\.org)/); // every script and style comes from this server
    expect(await (await fetch(`${base}/docs/index.html`)).text()).toBe(html); // not swagger-ui-dist's Petstore page
  });

  it('serves the plugin and the compiled DPoP helper as JavaScript; the helper imports nothing', async () => {
    const plugin = await fetch(`${base}/docs/auth0-tsoa-api/swagger-dpop-plugin.js`);
    expect(plugin.status).toBe(200);
    expect(plugin.headers.get('content-type')).toMatch(/^text\/javascript/);
    expect(await plugin.text()).toContain('window.auth0TsoaApiSwagger');
    const helper = await fetch(`${base}/docs/auth0-tsoa-api/dpop.js`);
    expect(helper.status).toBe(200);
    expect(helper.headers.get('content-type')).toMatch(/^text\/javascript/);
    const source = await helper.text();
    expect(source).toContain('export async function createDpopProof');
    expect(source).not.toMatch(/^\s*import\s|\brequire\(/m);
    expect((await fetch(`${base}/docs/auth0-tsoa-api/../package.json`)).status).not.toBe(200);
    expect((await fetch(`${base}/docs/auth0-tsoa-api/unknown.js`)).status).toBe(404);
  });

  it('each mount has its own settings (swagger-ui-express shares one init script per process with `serve`)', async () => {
    const first = await (await fetch(`${base}/docs/swagger-ui-init.js`)).text();
    const second = await (await fetch(`${base}/other-docs/swagger-ui-init.js`)).text();
    expect(first).toContain('"title": "First API"');
    expect(first).toContain('"clientId": "spa"');
    expect(first).toContain('"audience": "https://a.example"');
    expect(first).toContain('"usePkceWithAuthorizationCodeGrant": true');
    expect(first).toContain('"dpop": true');
    expect(first).toContain('"dpopOAuth2": false');
    expect(first).toContain('window.auth0TsoaApiSwagger.requestInterceptor(request)');
    expect(second).toContain('"title": "Second API"');
    expect(second).toContain('"dpop": false');
    expect(second).not.toContain('"clientId"');
  });
});
