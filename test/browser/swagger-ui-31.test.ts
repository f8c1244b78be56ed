/**
 * Swagger UI in headless Chromium on an OpenAPI 3.1 document: the one tsoa 7.0.0-alpha.0 generates from the demo's
 * controllers (test/tsoa/fixtures/demo-openapi-3.1.json), served by `serveDocs` with the demo's routes. Its Bearer and
 * DPoP requirements list the operation's scopes (3.1 allows it); the page must still offer both schemes and send
 * each token the way the server accepts it.
 */
import { readFileSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import type { Browser } from 'playwright-core';
import { TestIssuer } from '../support/test-issuer.js';
import { AUDIENCE } from '../support/demo.js';
import { createApp } from '../../src/demo/app.js';
import { SCOPES } from '../../src/demo/scopes.js';
import { POLICIES } from '../../src/demo/policies.js';
import { createAuth0Api } from '../../src/express/index.js';
import { ARTIFACTS, authorizeHttp, evaluate, launchChromium, openDocs, settled, tryItOut, verifyProof } from './swagger-page.js';

const spec = JSON.parse(readFileSync(new URL('../tsoa/fixtures/demo-openapi-3.1.json', import.meta.url), 'utf8')) as Record<string, unknown>;

let browser: Browser;
let issuer: TestIssuer;
let server: Server;
let url: string;

beforeAll(async () => {
  browser = await launchChromium();
  issuer = await TestIssuer.start();
  const auth0 = createAuth0Api({ domain: issuer.origin, audience: AUDIENCE, scopes: SCOPES, policies: POLICIES });
  server = createApp({ auth0, spec }).listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await browser?.close();
  await new Promise((resolve) => server?.close(resolve));
  await issuer?.close();
});

describe('Swagger UI on an OpenAPI 3.1 document (tsoa 7)', () => {
  it('serves the 3.1 document; a pasted Bearer token gets 200, a DPoP token bound to the page’s key gets 200', { timeout: 60_000 }, async () => {
    const served = (await (await fetch(`${url}/openapi.json`)).json()) as { openapi: string; paths: Record<string, Record<string, { security: unknown }>> };
    expect(served.openapi).toBe('3.1.0');
    expect(served.paths['/api/messages']!.get!.security).toEqual([{ auth0: ['read:messages'] }, { bearer: ['read:messages'] }, { dpop: ['read:messages'] }]);

    const { context, page, exchanges } = await openDocs(browser, url, [`${url}/api/`]);
    try {
      const bearer = await issuer.token(AUDIENCE, { scope: 'read:messages' });
      await authorizeHttp(page, 'bearer', bearer);
      const ok = await tryItOut(page, 'get', '/api/messages');
      expect(ok.status).toBe('200');
      expect(await settled(exchanges)).toEqual([expect.objectContaining({ status: 200, authorization: `Bearer ${bearer}`, dpop: undefined })]);
      await page.screenshot({ path: `${ARTIFACTS}swagger-ui-31-bearer-200.png`, fullPage: true });
    } finally {
      await context.close();
    }

    const second = await openDocs(browser, url, [`${url}/api/`]);
    try {
      const jkt = await evaluate<string>(second.page, 'window.auth0TsoaApiSwagger.thumbprint()');
      const token = await issuer.token(AUDIENCE, { cnf: { jkt }, scope: 'read:messages' });
      await authorizeHttp(second.page, 'dpop', token);
      const result = await tryItOut(second.page, 'get', '/api/messages');
      expect(result.status).toBe('200');
      const [exchange] = await settled(second.exchanges);
      expect(exchange).toMatchObject({ status: 200, authorization: `DPoP ${token}` });
      expect(await verifyProof(exchange!.dpop)).toMatchObject({ htm: 'GET', htu: `${url}/api/messages` });
      await second.page.screenshot({ path: `${ARTIFACTS}swagger-ui-31-dpop-200.png`, fullPage: true });
    } finally {
      await second.context.close();
    }
  });
});
