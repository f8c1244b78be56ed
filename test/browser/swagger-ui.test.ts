/**
 * Swagger UI at /docs in headless Chromium (Debian `chromium`, driven by playwright-core; page helpers in
 * ./swagger-page.ts): Authorize, then "Try it out" against the real demo.
 *
 * (a) Bearer: a pasted token → 200; a token without the scope → 403.
 * (b) DPoP: a token bound to the key the page made (its thumbprint read from the page) → 200, with proofs the
 *     server checked (it asked for a nonce first: AUTH0_DPOP_NONCE=true, and the page retried).
 * (c) A reload keeps the key (IndexedDB) and the authorization (persistAuthorization): still 200.
 * a key planted in the page's IndexedDB (extractable, wrong curve, RSA, mismatched halves,
 *     malformed) is discarded on reload; the page makes, stores and signs with a new non-extractable P-256 key.
 * development issuer (real oidc-provider); OAuth2 tokens (client credentials,
 *     authorization code + PKCE with `audience` through the login popup) are DPoP-bound by default; in allowed mode
 *     the switch turns binding off (Bearer); in required mode it is locked on.
 *
 * Plus, without a browser: what the router serves (the DPoP settings it derives from the spec:
 * test/core/docs/swagger-ui.test.ts).
 *
 * Screenshots go to test-artifacts/swagger-ui-*.png.
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { decodeJwt, decodeProtectedHeader, type JWK } from 'jose';
import { TestIssuer } from '../support/test-issuer.js';
import { AUDIENCE, startTestDemo } from '../support/demo.js';
import { startDemo, type RunningDemo } from '../../src/demo/server.js';
import type { AuthEvent } from '../../src/core/index.js';
import { startDevIssuer, SPA_CLIENT_ID, type DevIssuer } from '../../src/dev/index.js';
import { createApp } from '../../src/demo/app.js';
import { loadSpec } from '../../src/demo/openapi.js';
import { SCOPES } from '../../src/demo/scopes.js';
import { createAuth0Api, swaggerUiHandlers } from '../../src/express/index.js';
import express from 'express';
import {
  ARTIFACTS,
  authorizeClientCredentials,
  authorizeHttp,
  bindSwitch,
  closeDialog,
  evaluate,
  freePort,
  launchChromium,
  logoutHttp,
  logoutOAuth2,
  oauth2Flow,
  openAuthorizeDialog,
  openDocs,
  pageProof,
  plantKeyRecord,
  recordRequests,
  reloadDocs,
  settled,
  shownThumbprint,
  storedKey,
  thumbprintOf,
  tryItOut,
  verifyProof,
  verifyProofWith,
  type Exchange,
  type Received,
  type StoredKey,
} from './swagger-page.js';

let browser: Browser;

beforeAll(async () => {
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
});

/** The stored key is what item 6 accepts: a non-extractable ECDSA P-256 signing key and its public key. */
function expectSoundStoredKey(stored: StoredKey | undefined): void {
  expect(stored?.privateKey).toEqual({ type: 'private', extractable: false, algorithm: { name: 'ECDSA', namedCurve: 'P-256' }, usages: ['sign'] });
  expect(stored?.publicKey).toMatchObject({ type: 'public', algorithm: { name: 'ECDSA', namedCurve: 'P-256' }, usages: ['verify'] });
}

/** A proof made by the page now is signed by the stored key: it verifies with the stored public key and carries it. */
async function expectPageSignsWith(page: Page, stored: StoredKey, url: string): Promise<void> {
  const proof = await pageProof(page, url);
  expect(decodeProtectedHeader(proof).jwk).toEqual(stored.publicJwk);
  expect(await verifyProofWith(proof, stored.publicJwk)).toMatchObject({ htm: 'GET', htu: url });
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
    const { context, page, exchanges } = await openDocs(browser, demo.url, [`${demo.url}/api/`]);
    try {
      const token = await issuer.token(AUDIENCE, { scope: 'read:messages' });
      await authorizeHttp(page, 'bearer', token);
      const ok = await tryItOut(page, 'get', '/api/messages');
      expect(ok.status).toBe('200');
      expect(ok.body).toContain('"messages"');
      expect(await settled(exchanges)).toEqual([expect.objectContaining({ status: 200, authorization: `Bearer ${token}`, dpop: undefined })]);
      await page.screenshot({ path: `${ARTIFACTS}swagger-ui-bearer-200.png`, fullPage: true });

      // Swap the token for one without the scope.
      await logoutHttp(page, 'bearer');
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
    const { context, page, exchanges } = await openDocs(browser, demo.url, [`${demo.url}/api/`]);
    try {
      const jkt = await evaluate<string>(page, 'window.auth0TsoaApiSwagger.thumbprint()');
      expect(jkt).toMatch(/^[A-Za-z0-9_-]{43}$/);
      expect(await evaluate<boolean>(page, 'window.auth0TsoaApiSwagger.keyPair().then((k) => k.privateKey.extractable)')).toBe(false);
      expect(await evaluate<string>(page, "window.auth0TsoaApiSwagger.keyPair().then((k) => crypto.subtle.exportKey('jwk', k.privateKey)).then(() => 'exported', (e) => e.name)")).toBe('InvalidAccessError');

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

  //. A script of the page's origin (an XSS, once) can write IndexedDB. Had it planted a key it can
  // read, every token later bound through this page would be usable from the attacker's machine.
  it('an extractable P-256 key planted in IndexedDB is discarded on reload; the page makes, stores and signs with a new non-extractable key', { timeout: 45_000 }, async () => {
    const { context, page, exchanges, console: logs } = await openDocs(browser, demo.url, [`${demo.url}/api/`]);
    try {
      const original = await shownThumbprint(page);

      // The attack: an extractable ECDSA P-256 pair whose private key the script exports (it could send it home).
      const planted = await plantKeyRecord<{ publicJwk: JWK; d: string }>(
        page,
        "async () => crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, true, ['sign', 'verify'])",
        `async (pair) => {
          const { kty, crv, x, y, d } = await crypto.subtle.exportKey('jwk', pair.privateKey);
          return { publicJwk: { kty, crv, x, y }, d };
        }`,
      );
      expect(planted.d).toMatch(/^[A-Za-z0-9_-]{43}$/); // the attacker holds the private key
      expect((await storedKey(page))?.privateKey.extractable).toBe(true); // and it is what the store now holds
      const plantedJkt = await thumbprintOf(planted.publicJwk);

      await reloadDocs(page);
      const renewed = await shownThumbprint(page);
      expect(renewed).toMatch(/^[A-Za-z0-9_-]{43}$/);
      expect(renewed).not.toBe(plantedJkt);
      expect(renewed).not.toBe(original);
      expect(logs).toContainEqual(expect.stringContaining('discarding the stored DPoP key (the private key is extractable)'));
      const stored = await storedKey(page);
      expectSoundStoredKey(stored);
      expect(await thumbprintOf(stored!.publicJwk)).toBe(renewed);
      await page.screenshot({ path: `${ARTIFACTS}swagger-ui-planted-key-replaced.png`, fullPage: true });

      // The API accepts the page's requests with a token bound to the new key; every proof is signed by the stored
      // key and none by the planted one.
      const token = await issuer.token(AUDIENCE, { cnf: { jkt: renewed }, scope: 'read:messages' });
      await authorizeHttp(page, 'dpop', token);
      const result = await tryItOut(page, 'get', '/api/messages');
      expect(result.status).toBe('200');
      const sent = (await settled(exchanges)).filter((e) => e.dpop);
      expect(sent.length).toBeGreaterThan(0);
      for (const exchange of sent) {
        expect(await verifyProofWith(exchange.dpop!, stored!.publicJwk)).toMatchObject({ htm: 'GET', htu: `${demo.url}/api/messages` });
        await expect(verifyProofWith(exchange.dpop!, planted.publicJwk)).rejects.toThrow();
      }
      expect(sent.at(-1)).toMatchObject({ status: 200, authorization: `DPoP ${token}` });

      // The new key is kept: the next reload uses it without a word.
      logs.length = 0;
      await reloadDocs(page);
      expect(await shownThumbprint(page)).toBe(renewed);
      expect(logs.filter((line) => line.includes('discarding'))).toEqual([]);
    } finally {
      await context.close();
    }
  });

  it('wrong curve, RSA, mismatched halves, swapped or wrong-algorithm keys, JWKs, strings, null and a database without the key store are each replaced by a new non-extractable P-256 key', { timeout: 90_000 }, async () => {
    const { context, page, console: logs } = await openDocs(browser, demo.url, [`${demo.url}/api/`]);
    const ecdsa = (curve: string, extractable = false) => `crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: '${curve}' }, ${extractable}, ['sign', 'verify'])`;
    // Each record is made in the page (source text); `reason` is what the page logs when it discards it.
    const records: Array<{ name: string; make: string; reason: string }> = [
      { name: 'non-extractable P-384', make: `async () => ${ecdsa('P-384')}`, reason: 'the private key is not an ECDSA P-256 key' },
      {
        name: 'non-extractable RSA',
        make: "async () => crypto.subtle.generateKey({ name: 'RSASSA-PKCS1-v1_5', modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]), hash: 'SHA-256' }, false, ['sign', 'verify'])",
        reason: 'the private key is not an ECDSA P-256 key',
      },
      {
        name: 'halves of two different P-256 pairs',
        make: `async () => { const a = await ${ecdsa('P-256')}; const b = await ${ecdsa('P-256')}; return { privateKey: a.privateKey, publicKey: b.publicKey }; }`,
        reason: 'the public key does not match the private key',
      },
      {
        name: 'the public key in both places',
        make: `async () => { const a = await ${ecdsa('P-256')}; return { privateKey: a.publicKey, publicKey: a.publicKey }; }`,
        reason: 'privateKey is a public key',
      },
      {
        name: 'an ECDH P-256 public key',
        make: `async () => {
          const a = await ${ecdsa('P-256')};
          const e = await crypto.subtle.generateKey({ name: 'ECDH', namedCurve: 'P-256' }, false, ['deriveBits']);
          return { privateKey: a.privateKey, publicKey: e.publicKey };
        }`,
        reason: 'the public key is not an ECDSA P-256 verification key',
      },
      {
        name: 'JWKs instead of CryptoKeys',
        make: `async () => {
          const a = await ${ecdsa('P-256', true)};
          return { privateKey: await crypto.subtle.exportKey('jwk', a.privateKey), publicKey: await crypto.subtle.exportKey('jwk', a.publicKey) };
        }`,
        reason: 'the record does not hold two CryptoKey objects',
      },
      { name: 'a string', make: "async () => 'not a key'", reason: 'the record is not a key pair' },
      { name: 'null', make: 'async () => null', reason: 'the record is not a key pair' },
    ];
    try {
      let previous = await shownThumbprint(page);
      for (const record of records) {
        await plantKeyRecord(page, record.make);
        logs.length = 0;
        await reloadDocs(page);
        const shown = await shownThumbprint(page);
        expect(shown, record.name).not.toBe(previous);
        expect(logs, record.name).toContainEqual(expect.stringContaining(`discarding the stored DPoP key (${record.reason})`));
        const stored = await storedKey(page);
        expectSoundStoredKey(stored);
        expect(await thumbprintOf(stored!.publicJwk), record.name).toBe(shown);
        await expectPageSignsWith(page, stored!, `${demo.url}/api/messages`);
        previous = shown;
      }

      // A database someone rebuilt without the key store (a higher version, other stores): the page adds the store
      // back, makes a key and keeps it across reloads.
      await evaluate(
        page,
        `(async () => {
          await new Promise((resolve, reject) => { const r = indexedDB.deleteDatabase('auth0-tsoa-api'); r.onsuccess = resolve; r.onerror = () => reject(r.error); });
          await new Promise((resolve, reject) => {
            const r = indexedDB.open('auth0-tsoa-api', 7);
            r.onupgradeneeded = () => r.result.createObjectStore('other');
            r.onsuccess = () => { r.result.close(); resolve(); };
            r.onerror = () => reject(r.error);
          });
        })()`,
      );
      await reloadDocs(page);
      const rebuilt = await shownThumbprint(page);
      expect(rebuilt).not.toBe(previous);
      const stored = await storedKey(page);
      expectSoundStoredKey(stored);
      expect(await thumbprintOf(stored!.publicJwk)).toBe(rebuilt);
      await expectPageSignsWith(page, stored!, `${demo.url}/api/messages`);
      await reloadDocs(page);
      expect(await shownThumbprint(page)).toBe(rebuilt);
    } finally {
      await context.close();
    }
  });
});

// ---------------------------------------------------------------------------------------------
// Against the demo's development issuer (real oidc-provider)
// ---------------------------------------------------------------------------------------------

/** The demo's default audience in development mode, which Swagger UI sends with token requests. */
const AUDIENCE_FOR_DOCS = 'https://api.example.com';

/** The issuer's answer to a token request the page made (its JSON body). */
function tokenResponse(exchange: Exchange | undefined): { token_type?: string; access_token?: string } {
  expect(exchange?.body).toEqual(expect.any(String));
  return JSON.parse(exchange!.body!) as { token_type?: string; access_token?: string };
}

/** Starts the demo as `npm start` does without AUTH0_DOMAIN: its development issuer on a free port. */
async function startDevDemo(env: Record<string, string> = {}): Promise<RunningDemo> {
  const port = await freePort();
  const issuerPort = await freePort();
  return startDemo({ env: { PORT: String(port), AUTH0_DEV_ISSUER_PORT: String(issuerPort), NODE_ENV: 'test', ...env }, quiet: true });
}

describe('Swagger UI with OAuth2 against the development issuer (demo as wired, DPoP allowed)', () => {
  let demo: RunningDemo;

  beforeAll(async () => {
    demo = await startDevDemo();
  });

  afterAll(async () => {
    await demo?.close();
  });

  it('(d) client credentials are DPoP-bound by default → 200 as DPoP; with the switch off → Bearer → 200', { timeout: 45_000 }, async () => {
    const issuer = demo.issuer!;
    const { context, page, exchanges } = await openDocs(browser, demo.url, [`${demo.url}/api/`, issuer.issuer]);
    try {
      const jkt = await shownThumbprint(page);
      // Both flows show the switch, on and changeable.
      const dialog = await openAuthorizeDialog(page);
      for (const flowName of ['clientCredentials', 'authorizationCode'] as const) {
        const bind = bindSwitch(oauth2Flow(dialog, flowName));
        expect(await bind.isVisible(), flowName).toBe(true);
        expect(await bind.isChecked(), flowName).toBe(true);
        expect(await bind.isEnabled(), flowName).toBe(true);
      }
      await closeDialog(page);

      // Default: the switch is not touched (the demo pre-fills the development client).
      await authorizeClientCredentials(page, { screenshot: 'swagger-ui-client-credentials-default-authorized' });
      const bound = await tryItOut(page, 'get', '/api/messages');
      expect(bound.status).toBe('200');
      expect(bound.body).toContain('"messages"');
      await page.screenshot({ path: `${ARTIFACTS}swagger-ui-client-credentials-dpop-200.png`, fullPage: true });
      const [boundTokenRequest, boundApiRequest] = await settled(exchanges);
      // Swagger UI appends additionalQueryStringParams (the Auth0-style audience) to the token URL.
      expect(boundTokenRequest).toMatchObject({ url: `${issuer.tokenEndpoint}?audience=${encodeURIComponent(AUDIENCE_FOR_DOCS)}`, status: 200 });
      expect(await verifyProof(boundTokenRequest!.dpop)).toMatchObject({ htm: 'POST', htu: issuer.tokenEndpoint });
      const boundAnswer = tokenResponse(boundTokenRequest);
      expect(boundAnswer.token_type).toBe('DPoP'); // the issuer bound it (RFC 9449 §5)
      expect(decodeJwt(boundAnswer.access_token!)).toMatchObject({ cnf: { jkt }, aud: AUDIENCE });
      expect(boundApiRequest).toMatchObject({ status: 200, authorization: `DPoP ${boundAnswer.access_token}` });
      expect(await verifyProof(boundApiRequest!.dpop)).toMatchObject({ htm: 'GET', htu: `${demo.url}/api/messages` });

      // Log out, switch binding off, get a new token: a plain Bearer token, sent as Bearer without a proof.
      await logoutOAuth2(page, 'clientCredentials');
      exchanges.length = 0;
      await authorizeClientCredentials(page, { dpop: false, screenshot: 'swagger-ui-client-credentials-bearer-authorized' });
      const plain = await tryItOut(page, 'get', '/api/messages');
      expect(plain.status).toBe('200');
      const [tokenRequest, apiRequest] = await settled(exchanges);
      expect(tokenRequest).toMatchObject({ url: `${issuer.tokenEndpoint}?audience=${encodeURIComponent(AUDIENCE_FOR_DOCS)}`, status: 200, dpop: undefined });
      const answer = tokenResponse(tokenRequest);
      expect(answer.token_type).toBe('Bearer');
      expect(decodeJwt(answer.access_token!).cnf).toBeUndefined();
      expect(apiRequest).toMatchObject({ status: 200, dpop: undefined, authorization: `Bearer ${answer.access_token}` });
      expect(await evaluate<string | null>(page, "localStorage.getItem('auth0-tsoa-api:dpop-oauth2')")).toBe('0'); // remembered
    } finally {
      await context.close();
    }
  });
});

describe('Swagger UI with OAuth2 against the development issuer (demo as wired, DPoP required)', () => {
  let demo: RunningDemo;

  beforeAll(async () => {
    demo = await startDevDemo({ AUTH0_DPOP: 'required' });
  });

  afterAll(async () => {
    await demo?.close();
  });

  it('in required mode the switch is locked on, even with "off" remembered in the browser; client credentials → DPoP-bound → 200', { timeout: 45_000 }, async () => {
    const issuer = demo.issuer!;
    const { context, page, exchanges } = await openDocs(browser, demo.url, [`${demo.url}/api/`, issuer.issuer]);
    try {
      // A choice made on an allowed-mode page of the same origin does not weaken a required-mode one.
      await evaluate(page, "localStorage.setItem('auth0-tsoa-api:dpop-oauth2', '0')");
      await reloadDocs(page);
      expect(await evaluate<boolean>(page, 'window.auth0TsoaApiSwagger.dpopForOAuth2()')).toBe(true);
      const jkt = await shownThumbprint(page);

      const dialog = await openAuthorizeDialog(page);
      for (const flowName of ['clientCredentials', 'authorizationCode'] as const) {
        const flow = oauth2Flow(dialog, flowName);
        expect(await bindSwitch(flow).isChecked(), flowName).toBe(true);
        expect(await bindSwitch(flow).isDisabled(), flowName).toBe(true);
        expect(await flow.locator('.auth0-tsoa-api-dpop-oauth2').innerText()).toContain('required by this API');
      }
      await page.screenshot({ path: `${ARTIFACTS}swagger-ui-required-switch-locked.png` });
      await closeDialog(page);

      await authorizeClientCredentials(page, {});
      const result = await tryItOut(page, 'get', '/api/messages');
      expect(result.status).toBe('200'); // required mode: only a DPoP request gets here
      const [tokenRequest, apiRequest] = await settled(exchanges);
      expect(await verifyProof(tokenRequest!.dpop)).toMatchObject({ htm: 'POST', htu: issuer.tokenEndpoint });
      const answer = tokenResponse(tokenRequest);
      expect(answer.token_type).toBe('DPoP');
      expect(decodeJwt(answer.access_token!)).toMatchObject({ cnf: { jkt } });
      expect(apiRequest).toMatchObject({ status: 200, authorization: `DPoP ${answer.access_token}` });
      expect(await verifyProof(apiRequest!.dpop)).toMatchObject({ htm: 'GET', htu: `${demo.url}/api/messages` });
      await page.screenshot({ path: `${ARTIFACTS}swagger-ui-required-dpop-200.png`, fullPage: true });
    } finally {
      await context.close();
    }
  });
});

describe('Swagger UI configured for the development issuer (AppOptions.docs)', () => {
  let devIssuer: DevIssuer;
  let server: Server;
  let origin: string;
  let received: Received[];

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
        // The audience, scopes and DPoP mode come from auth0; OAuth2 tokens are bound to the page's key by default.
        oauth: { clientId: SPA_CLIENT_ID, clientCredentials: { clientId: devIssuer.clientId, clientSecret: devIssuer.clientSecret } },
      },
    });
    server = await new Promise<Server>((resolve) => {
      const s = app.listen(port, '127.0.0.1', () => resolve(s));
    });
    received = recordRequests(server);
  });

  afterAll(async () => {
    server?.closeAllConnections();
    await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
    await devIssuer?.close();
  });

  it('(e) authorization code + PKCE with audience through the login popup is DPoP-bound by default → the API receives DPoP → 200; client credentials pre-filled', { timeout: 45_000 }, async () => {
    const { context, page, exchanges } = await openDocs(browser, origin, [`${origin}/api/`, devIssuer.issuer]);
    try {
      const jkt = await shownThumbprint(page);
      const dialog = await openAuthorizeDialog(page);

      const cc = oauth2Flow(dialog, 'clientCredentials');
      expect(await cc.locator('input[data-name="clientId"]').inputValue()).toBe(devIssuer.clientId);
      expect(await cc.locator('input[data-name="clientSecret"]').inputValue()).toBe(devIssuer.clientSecret);

      const code = oauth2Flow(dialog, 'authorizationCode');
      expect(await code.locator('input[data-name="clientId"]').inputValue()).toBe(SPA_CLIENT_ID);
      expect(await bindSwitch(code).isChecked()).toBe(true); // the default; not touched
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
      received.length = 0;
      const result = await tryItOut(page, 'get', '/api/profile');
      expect(result.status).toBe('200');
      expect(result.body).toContain('"sub": "alice"');
      await page.screenshot({ path: `${ARTIFACTS}swagger-ui-pkce-dpop-200.png`, fullPage: true });

      await settled(exchanges);
      const tokenRequest = exchanges.find((e) => e.url.startsWith(devIssuer.tokenEndpoint));
      expect(await verifyProof(tokenRequest?.dpop)).toMatchObject({ htm: 'POST', htu: devIssuer.tokenEndpoint });
      expect(tokenResponse(tokenRequest).token_type).toBe('DPoP');
      const apiRequest = exchanges.find((e) => e.url === `${origin}/api/profile`)!;
      expect(apiRequest).toMatchObject({ status: 200, authorization: expect.stringMatching(/^DPoP /) });
      expect(decodeJwt(apiRequest.authorization!.slice(5))).toMatchObject({ sub: 'alice', aud: AUDIENCE, cnf: { jkt } });
      // What the server itself received: the bound token as DPoP, with a proof for this request.
      const atServer = received.filter((r) => r.path === '/api/profile');
      expect(atServer).toEqual([expect.objectContaining({ method: 'GET', authorization: apiRequest.authorization, dpop: expect.any(String) })]);
      expect(await verifyProof(atServer[0]!.dpop)).toMatchObject({ htm: 'GET', htu: `${origin}/api/profile` });
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
    expect(first).toContain('"dpopOAuth2": true');
    expect(first).toContain('window.auth0TsoaApiSwagger.requestInterceptor(request)');
    expect(second).toContain('"title": "Second API"');
    expect(second).toContain('"dpop": false');
    expect(second).not.toContain('"clientId"');
  });
});
