/**
 * `serveDocs(app, auth0, spec)` (one place for each fact): the document tsoa generated is served
 * completed with the Auth0Api's scopes (or the operations' scopes when none are configured), its DPoP mode, its
 * audience and the issuer's endpoints from discovery; Swagger UI is served next to it; the RFC 9728 document then
 * names the docs (and only then). Against a bare Express app and a real local issuer.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import express from 'express';
import { createAuth0Api } from '../../src/express/index.js';
import { serveDocs } from '../../src/express/docs.js';
import { scopesOfSpec } from '../../src/core/docs/spec.js';
import { projectRoot } from '../../src/demo/openapi.js';
import { POLICIES } from '../../src/demo/policies.js';
import type { ApiOptions } from '../../src/core/index.js';
import { TestIssuer } from '../support/test-issuer.js';
import { appServers } from '../support/helpers.js';

const AUDIENCE = 'https://api.example.com';
type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any -- tests walk untyped OpenAPI documents

let issuer: TestIssuer;
const servers = appServers();
/** The raw document tsoa generates for the demo's controllers (before any post-processing). */
const generated = (): Json => JSON.parse(readFileSync(`${projectRoot()}/build/tsoa/swagger.json`, 'utf8')) as Json;

async function serve(options: Partial<ApiOptions>, docs: boolean): Promise<string> {
  const app = express();
  // The demo's controllers use its policies (@Security('orgMember', …)): serveDocs resolves them at start-up.
  const auth0 = createAuth0Api({ domain: issuer.origin, audience: AUDIENCE, policies: POLICIES, ...options });
  auth0.install(app);
  if (docs) serveDocs(app, auth0, generated());
  return servers.listen(app);
}

const json = async (url: string): Promise<Json> => (await (await fetch(url)).json()) as Json;

beforeAll(async () => {
  issuer = await TestIssuer.start();
});
afterAll(async () => {
  await servers.close();
  await issuer?.close();
});

describe('serveDocs reads every fact from the Auth0Api', () => {
  it('completes the spec with the configured scopes, the DPoP mode and the endpoints from discovery', async () => {
    const base = await serve({ scopes: { 'read:messages': 'Read your messages', 'read:data': 'Read', 'write:data': 'Write' }, dpop: { mode: 'required' } }, true);
    const spec = await json(`${base}/openapi.json`);
    const flows = spec.components.securitySchemes.auth0.flows;
    expect(flows.clientCredentials).toEqual({ tokenUrl: `${issuer.origin}/oauth/token`, scopes: { 'read:messages': 'Read your messages', 'read:data': 'Read', 'write:data': 'Write' } });
    expect(flows.authorizationCode.authorizationUrl).toBe(`${issuer.origin}/authorize`);
    // DPoP required: operations offer the DPoP scheme and not Bearer.
    expect(spec.paths['/api/messages'].get.security).toEqual([{ auth0: ['read:messages'] }, { dpop: [] }]);
  });

  it('uses the issuer endpoints discovery reports, wherever they are', async () => {
    issuer.discoveryOverrides = { token_endpoint: `${issuer.origin}/custom/token`, authorization_endpoint: `${issuer.origin}/custom/authorize` };
    try {
      const base = await serve({}, true);
      const flows = (await json(`${base}/openapi.json`)).components.securitySchemes.auth0.flows;
      expect(flows.clientCredentials.tokenUrl).toBe(`${issuer.origin}/custom/token`);
      expect(flows.authorizationCode.authorizationUrl).toBe(`${issuer.origin}/custom/authorize`);
    } finally {
      issuer.discoveryOverrides = {};
    }
  });

  it('derives the scopes from the operations when none are configured, for the spec and RFC 9728', async () => {
    expect(scopesOfSpec(generated())).toEqual({ 'read:messages': 'read:messages', 'read:data': 'read:data', 'write:data': 'write:data' });
    const base = await serve({}, true);
    const spec = await json(`${base}/openapi.json`);
    expect(Object.keys(spec.components.securitySchemes.auth0.flows.clientCredentials.scopes).sort()).toEqual(['read:data', 'read:messages', 'write:data']);
    const metadata = await json(`${base}/.well-known/oauth-protected-resource`);
    expect([...metadata.scopes_supported].sort()).toEqual(['read:data', 'read:messages', 'write:data']);
  });

  it('serves Swagger UI with the DPoP mode and the audience of the Auth0Api', async () => {
    const base = await serve({ dpop: { mode: 'required' } }, true);
    const page = await fetch(`${base}/docs/`);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('swagger-ui');
    const init = await (await fetch(`${base}/docs/swagger-ui-init.js`)).text();
    expect(init).toContain(`"audience": "${AUDIENCE}"`);
    expect(init).toContain('"dpopOAuth2Required": true');
    const disabled = await (await fetch(`${await serve({ dpop: { mode: 'disabled' } }, true)}/docs/swagger-ui-init.js`)).text();
    expect(disabled).toContain('"dpop": false');
  });

  it('names the docs in the RFC 9728 document only when they are served', async () => {
    const withDocs = await json(`${await serve({}, true)}/.well-known/oauth-protected-resource`);
    expect(withDocs.resource_documentation).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/docs$/);
    const withoutDocs = await json(`${await serve({}, false)}/.well-known/oauth-protected-resource`);
    expect(withoutDocs).not.toHaveProperty('resource_documentation');
  });
});

describe('each documented error shows a fitting example', () => {
  it('400 invalid_request, 401 invalid_token, 403 insufficient_scope, 503 temporarily_unavailable', async () => {
    const spec = await json(`${await serve({}, true)}/openapi.json`);
    const responses = spec.paths['/api/messages'].get.responses;
    const example = (status: string) => responses[status].content['application/json'].example.error;
    expect([example('400'), example('401'), example('403'), example('503')]).toEqual(['invalid_request', 'invalid_token', 'insufficient_scope', 'temporarily_unavailable']);
  });
});
