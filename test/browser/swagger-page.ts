/**
 * Driving the package's Swagger UI page in headless Chromium (Debian `chromium`, through playwright-core), for any
 * app that mounts `swaggerUiHandlers` at `/docs`: the demo, a test app, or another app with its own issuer.
 *
 * Scripts for the page are source strings (page.evaluate), so nothing of the test's transpiled code reaches it.
 * Importing this module registers the `toBeVisibleSoon` matcher.
 */
import { mkdirSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { expect } from 'vitest';
import { chromium, type Browser, type BrowserContext, type Locator, type Page, type Request as PwRequest } from 'playwright-core';
import { EmbeddedJWK, calculateJwkThumbprint, importJWK, jwtVerify, type JWK, type JWTPayload } from 'jose';

/** Where screenshots go (git-ignored). */
export const ARTIFACTS = fileURLToPath(new URL('../../test-artifacts/', import.meta.url));

const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

/** Starts headless Chromium (close it in afterAll) and makes sure the screenshot folder exists. */
export async function launchChromium(): Promise<Browser> {
  mkdirSync(ARTIFACTS, { recursive: true });
  return chromium.launch({ executablePath: '/usr/bin/chromium', headless: true, args: CHROMIUM_ARGS });
}

/** A request the page (or one of its popups) made, as the browser sent it. */
export interface Exchange {
  url: string;
  method: string;
  status: number;
  authorization: string | undefined;
  dpop: string | undefined;
  /** The response body (text), filled in when the request finished. */
  body: string | undefined;
}

/** An open docs page in its own fresh browser profile. */
export interface DocsPage {
  context: BrowserContext;
  page: Page;
  /** Requests to the watched URL prefixes, in the order they started (OPTIONS preflights left out). */
  exchanges: Exchange[];
  /** Every `console.warn`/`console.error` text of the page. */
  console: string[];
}

/** A fresh browser profile with `<baseUrl>/docs` open, recording the requests to `watch` (URL prefixes). */
export async function openDocs(browser: Browser, baseUrl: string, watch: string[]): Promise<DocsPage> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 1000 } });
  const page = await context.newPage();
  const exchanges: Exchange[] = [];
  const errors: string[] = [];
  const consoleLines: string[] = [];
  page.on('pageerror', (error) => errors.push(error.message));
  page.on('console', (message) => {
    if (message.type() === 'warning' || message.type() === 'error') consoleLines.push(message.text());
  });
  // Entries are added when a request starts (so in request order) and completed when it finishes.
  const started = new Map<PwRequest, Exchange>();
  context.on('request', (request) => {
    if (!watch.some((prefix) => request.url().startsWith(prefix)) || request.method() === 'OPTIONS') return;
    const entry: Exchange = { url: request.url(), method: request.method(), status: 0, authorization: undefined, dpop: undefined, body: undefined };
    started.set(request, entry);
    exchanges.push(entry);
  });
  context.on('requestfinished', async (request) => {
    const entry = started.get(request);
    if (!entry) return;
    const headers = await request.allHeaders();
    const response = await request.response();
    entry.authorization = headers.authorization;
    entry.dpop = headers.dpop;
    entry.body = await response?.text().catch(() => undefined);
    entry.status = response?.status() ?? 0; // last: settled() waits for it
  });
  await page.goto(`${baseUrl}/docs`);
  await page.locator('.auth-wrapper button.authorize').waitFor();
  expect(errors).toEqual([]);
  return { context, page, exchanges, console: consoleLines };
}

/** Reloads the page and waits for Swagger UI to be ready again. */
export async function reloadDocs(page: Page): Promise<void> {
  await page.reload();
  await page.locator('.auth-wrapper button.authorize').waitFor();
}

export async function openAuthorizeDialog(page: Page): Promise<Locator> {
  await page.locator('.auth-wrapper button.authorize').click();
  const dialog = page.locator('.modal-ux');
  await dialog.waitFor();
  return dialog;
}

/** The dialog section of one OAuth2 flow (the plugin wraps each in a marked div). */
export function oauth2Flow(dialog: Locator, flow: 'clientCredentials' | 'authorizationCode'): Locator {
  return dialog.locator(`.auth0-tsoa-api-oauth2-flow[data-flow="${flow}"]`);
}

/** The "Bind the token to this browser's DPoP key" switch of a flow. */
export function bindSwitch(flow: Locator): Locator {
  return flow.locator('input[aria-label="dpop-bind-oauth2"]');
}

export async function closeDialog(page: Page): Promise<void> {
  await page.locator('.modal-ux button.close-modal').click();
  await page.locator('.modal-ux').waitFor({ state: 'detached' });
}

/** The key thumbprint the `dpop` scheme's dialog shows (opens and closes the dialog). */
export async function shownThumbprint(page: Page): Promise<string> {
  const dialog = await openAuthorizeDialog(page);
  const shown = dialog.locator('.auth0-tsoa-api-jkt');
  await expect(dialog.locator('.auth0-tsoa-api-jkt[data-jkt]:not([data-jkt=""])')).toBeVisibleSoon();
  const jkt = (await shown.getAttribute('data-jkt')) ?? '';
  await closeDialog(page);
  return jkt;
}

/** Pastes a token into an http scheme (bearer or dpop) and authorizes it. */
export async function authorizeHttp(page: Page, scheme: 'bearer' | 'dpop', token: string): Promise<void> {
  const dialog = await openAuthorizeDialog(page);
  const container = httpScheme(page, dialog, scheme);
  await container.locator('input[type=text]').fill(token);
  await container.getByRole('button', { name: 'Apply credentials' }).click();
  await expect(container.locator('h6', { hasText: 'Authorized' })).toBeVisibleSoon();
  await closeDialog(page);
}

/** Removes the authorization of an http scheme. */
export async function logoutHttp(page: Page, scheme: 'bearer' | 'dpop'): Promise<void> {
  const dialog = await openAuthorizeDialog(page);
  await httpScheme(page, dialog, scheme).getByRole('button', { name: 'Remove authorization' }).click();
  await closeDialog(page);
}

function httpScheme(page: Page, dialog: Locator, scheme: 'bearer' | 'dpop'): Locator {
  return dialog.locator('.auth-container').filter({ has: page.locator('h4 code', { hasText: new RegExp(`^${scheme}$`) }) });
}

/**
 * Client credentials through the dialog. `dpop` true/false sets the bind switch first; left out, the switch is
 * not touched (its default applies). Screenshot of the authorized dialog as `<screenshot>.png` when given.
 */
export async function authorizeClientCredentials(page: Page, options: { dpop?: boolean; clientId?: string; clientSecret?: string; screenshot?: string }): Promise<void> {
  const dialog = await openAuthorizeDialog(page);
  const flow = oauth2Flow(dialog, 'clientCredentials');
  if (options.clientId !== undefined) await flow.locator('input[data-name="clientId"]').fill(options.clientId);
  if (options.clientSecret !== undefined) await flow.locator('input[data-name="clientSecret"]').fill(options.clientSecret);
  const bind = bindSwitch(flow);
  if (options.dpop !== undefined && (await bind.isChecked()) !== options.dpop) await bind.click();
  await flow.locator('button.authorize').click();
  await expect(flow.locator('button', { hasText: 'Logout' })).toBeVisibleSoon();
  if (options.screenshot) await page.screenshot({ path: `${ARTIFACTS}${options.screenshot}.png` });
  await closeDialog(page);
}

/** Logs out of an OAuth2 flow. */
export async function logoutOAuth2(page: Page, flowName: 'clientCredentials' | 'authorizationCode'): Promise<void> {
  const dialog = await openAuthorizeDialog(page);
  await oauth2Flow(dialog, flowName).locator('button', { hasText: 'Logout' }).click();
  await closeDialog(page);
}

/** "Try it out" + "Execute" on an operation; returns the status and body shown in the response panel. */
export async function tryItOut(page: Page, method: string, path: string): Promise<{ status: string; body: string }> {
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

/** Waits until every recorded request has finished (headers, body and status are filled in asynchronously). */
export async function settled(exchanges: Exchange[]): Promise<Exchange[]> {
  for (let i = 0; i < 100 && exchanges.some((e) => e.status === 0); i++) await new Promise((r) => setTimeout(r, 50));
  return exchanges;
}

export const evaluate = <T>(page: Page, source: string): Promise<T> => page.evaluate<T>(source);

/** Verifies a DPoP proof with the key in its own header (what a server does first); returns the claims. */
export async function verifyProof(proof: string | undefined): Promise<JWTPayload> {
  expect(proof).toEqual(expect.any(String));
  return (await jwtVerify(proof!, EmbeddedJWK, { typ: 'dpop+jwt', algorithms: ['ES256'] })).payload;
}

/** Verifies a DPoP proof with a given public key (e.g. the one stored in the page's IndexedDB). */
export async function verifyProofWith(proof: string, publicJwk: JWK): Promise<JWTPayload> {
  return (await jwtVerify(proof, await importJWK(publicJwk, 'ES256'), { typ: 'dpop+jwt', algorithms: ['ES256'] })).payload;
}

export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** What a server received: method, path, and the two headers DPoP is about. */
export interface Received {
  method: string;
  path: string;
  authorization: string | undefined;
  dpop: string | undefined;
}

/** Records every request `server` receives (a second 'request' listener next to the app's). */
export function recordRequests(server: Server): Received[] {
  const received: Received[] = [];
  server.on('request', (req: IncomingMessage) => {
    const header = (name: string) => {
      const value = req.headers[name];
      return Array.isArray(value) ? value.join(', ') : value;
    };
    received.push({ method: req.method ?? '', path: (req.url ?? '').split('?')[0]!, authorization: header('authorization'), dpop: header('dpop') });
  });
  return received;
}

// ---------------------------------------------------------------------------------------------
// The page's DPoP key in IndexedDB (database "auth0-tsoa-api", store "keys", key "dpop-es256")
// ---------------------------------------------------------------------------------------------

const OPEN_KEY_STORE = `new Promise((resolve, reject) => {
  const request = indexedDB.open('auth0-tsoa-api');
  request.onupgradeneeded = () => request.result.createObjectStore('keys');
  request.onsuccess = () => resolve(request.result);
  request.onerror = () => reject(request.error);
})`;

/**
 * Writes a record into the page's key store, as a script of the page's origin (an XSS) could. `makeRecord` is the
 * source of an async function run in the page that returns the record; the result of `describe` (source of a
 * function of the record, run in the page) is returned, e.g. the planted public key as a JWK.
 */
export async function plantKeyRecord<T = undefined>(page: Page, makeRecord: string, describe = 'async () => undefined'): Promise<T> {
  return evaluate<T>(
    page,
    `(async () => {
      const record = await (${makeRecord})();
      const db = await ${OPEN_KEY_STORE};
      await new Promise((resolve, reject) => {
        const tx = db.transaction('keys', 'readwrite');
        tx.objectStore('keys').put(record, 'dpop-es256');
        tx.oncomplete = resolve;
        tx.onerror = () => reject(tx.error);
      });
      db.close();
      return (${describe})(record);
    })()`,
  );
}

/** A CryptoKey as the tests see it. */
export interface KeyFacts {
  type: string;
  extractable: boolean;
  algorithm: { name: string; namedCurve?: string };
  usages: string[];
}

/** What the page's key store holds now: both keys' properties and the public key as a JWK. */
export interface StoredKey {
  privateKey: KeyFacts;
  publicKey: KeyFacts;
  publicJwk: JWK;
}

export async function storedKey(page: Page): Promise<StoredKey | undefined> {
  return evaluate<StoredKey | undefined>(
    page,
    `(async () => {
      const db = await ${OPEN_KEY_STORE};
      const record = await new Promise((resolve, reject) => {
        const request = db.transaction('keys').objectStore('keys').get('dpop-es256');
        request.onsuccess = () => resolve(request.result);
        request.onerror = () => reject(request.error);
      });
      db.close();
      if (!record) return undefined;
      const facts = (key) => ({ type: key.type, extractable: key.extractable, algorithm: { ...key.algorithm }, usages: [...key.usages] });
      const { kty, crv, x, y } = await crypto.subtle.exportKey('jwk', record.publicKey);
      return { privateKey: facts(record.privateKey), publicKey: facts(record.publicKey), publicJwk: { kty, crv, x, y } };
    })()`,
  );
}

/** A proof made by the page's plugin with the key it uses (through the served DPoP helper). */
export async function pageProof(page: Page, url: string, method = 'GET'): Promise<string> {
  return evaluate<string>(
    page,
    `(async () => {
      const dpop = await import(new URL('auth0-tsoa-api/dpop.js', location.href).href);
      return dpop.createDpopProof(await window.auth0TsoaApiSwagger.keyPair(), { url: ${JSON.stringify(url)}, method: ${JSON.stringify(method)} });
    })()`,
  );
}

/** RFC 7638 thumbprint of a public JWK (what `cnf.jkt` holds). */
export const thumbprintOf = (jwk: JWK): Promise<string> => calculateJwkThumbprint(jwk, 'sha256');

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
