/**
 * serveDocs on hapi serves what it serves on Express: the same completed OpenAPI document, Swagger UI with this
 * package's DPoP plugin and the OAuth2 redirect page, the docs advertised in the RFC 9728 document; and a JSON 404 for
 * unknown asset names, object-prototype names included.
 */
import type { Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import express from 'express';
import Hapi from '@hapi/hapi';
import { createAuth0Api as createExpressApi, errorHandler, notFoundHandler } from '../../src/express/index.js';
import { serveDocs as serveExpressDocs } from '../../src/tsoa/index.js';
import { createAuth0Api, serveDocs } from '../../src/hapi/index.js';
import type { ApiOptions } from '../../src/core/index.js';
import { TestIssuer } from '../support/test-issuer.js';
import { send } from '../support/http.js';

const spec = () => ({
  openapi: '3.0.0',
  info: { title: 'Items', version: '1.0.0' },
  paths: { '/items': { get: { operationId: 'list', security: [{ auth0: ['read:x'] }], responses: { 200: { description: 'ok' } } } } },
  components: { securitySchemes: { auth0: { type: 'oauth2', flows: {} } } },
});

let issuer: TestIssuer;
let expressServer: HttpServer;
let hapiServer: Hapi.Server;
let bases: { express: string; hapi: string };

beforeAll(async () => {
  issuer = await TestIssuer.start();
  const options: ApiOptions = { domain: issuer.origin, audience: 'https://api.example.com' };
  const app = express();
  const auth0e = createExpressApi(options).install(app);
  serveExpressDocs(app, auth0e, spec());
  app.use(notFoundHandler(), errorHandler());
  expressServer = app.listen(0, '127.0.0.1');
  await new Promise((resolve) => expressServer.once('listening', resolve));

  hapiServer = Hapi.server({ host: '127.0.0.1', port: 0, debug: false });
  const auth0h = createAuth0Api(options);
  await hapiServer.register(auth0h.plugin);
  serveDocs(hapiServer, auth0h, spec());
  await hapiServer.start();
  bases = { express: `http://127.0.0.1:${(expressServer.address() as AddressInfo).port}`, hapi: hapiServer.info.uri };
});

afterAll(async () => {
  expressServer?.closeAllConnections();
  expressServer?.close();
  await hapiServer?.stop();
  await issuer?.close();
});

const both = (path: string) => Promise.all([send(bases.express, path), send(bases.hapi, path)]);

describe('serveDocs on hapi', () => {
  it('the same completed OpenAPI document, with the issuer’s discovered endpoints', async () => {
    const [e, h] = await both('/openapi.json');
    expect(h.status).toBe(200);
    expect(h.body).toEqual(e.body);
    expect(JSON.stringify(h.body)).toContain(`${issuer.origin}/`);
    expect((h.body as { components: { securitySchemes: Record<string, unknown> } }).components.securitySchemes).toHaveProperty('auth0');
  });

  it('Swagger UI: /docs redirects to /docs/, the page loads the DPoP plugin, the init script holds the spec', async () => {
    const redirect = await send(bases.hapi, '/docs');
    expect(redirect.status).toBe(301);
    expect(redirect.headers.location).toBe('/docs/');
    const page = await send(bases.hapi, '/docs/');
    expect(page.status).toBe(200);
    expect(page.headers['content-type']).toMatch(/^text\/html/);
    expect(page.text).toContain('./auth0-tsoa-api/swagger-dpop-plugin.js');
    expect(page.text).toContain('./swagger-ui-init.js');
    const [e, h] = await both('/docs/swagger-ui-init.js');
    expect(h.status).toBe(200);
    expect(h.text).toBe(e.text);
    expect(h.text).toContain('auth0TsoaApi');
  });

  it('Swagger UI’s files, the OAuth2 redirect page and the DPoP plugin', async () => {
    for (const path of ['/docs/swagger-ui-bundle.js', '/docs/swagger-ui.css', '/docs/oauth2-redirect.html', '/docs/auth0-tsoa-api/swagger-dpop-plugin.js']) {
      const [e, h] = await both(path);
      expect([path, h.status]).toEqual([path, 200]);
      expect(h.text).toBe(e.text);
    }
  });

  it('unknown asset names are a JSON 404 (object-prototype names too)', async () => {
    for (const path of ['/docs/auth0-tsoa-api/constructor', '/docs/auth0-tsoa-api/__proto__', '/docs/auth0-tsoa-api/hasOwnProperty', '/docs/package.json', '/docs/constructor', '/docs/..%2Fpackage.json']) {
      const h = await send(bases.hapi, path);
      expect([path, h.status, h.body]).toEqual([path, 404, { error: 'not_found', error_description: 'Not found' }]);
    }
  });

  it('the RFC 9728 document names the docs', async () => {
    const { body } = await send(bases.hapi, '/.well-known/oauth-protected-resource');
    expect(body).toMatchObject({ resource_documentation: `${bases.hapi}/docs`, scopes_supported: ['read:x'] });
  });
});
