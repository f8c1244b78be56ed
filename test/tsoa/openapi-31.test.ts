/**
 * OpenAPI 3.0 and 3.1 documents through `finalizeSpec` and `serveDocs`: each keeps its version and validates against
 * the official schema of that version. The 3.1 document is what tsoa 7.0.0-alpha.0 generates from the demo's
 * controllers (test/tsoa/fixtures/demo-openapi-3.1.json, written by scripts/openapi-3.1-fixture.mjs); the 3.0 one is
 * tsoa 6's (build/tsoa/swagger.json). On 3.1 the Bearer and DPoP requirements list the operation's scopes
 * (OpenAPI 3.1 §4.8.30.2); on 3.0 their lists stay empty. The policies' scopes are offered by the OAuth2 scheme, by
 * `scopes_supported` and found by the development issuer's scope discovery.
 */
import { POLICIES as DEMO_POLICIES } from '../../src/demo/policies.js';
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import express from 'express';
import { Validator } from '@seriousme/openapi-schema-validator';
import { finalizeSpec, serveDocs } from '../../src/tsoa/index.js';
import { createAuth0Api } from '../../src/express/index.js';
import { ConfigurationError, type Policy } from '../../src/core/index.js';
import { scopesFromSpec } from '../../src/dev/spec.js';
import { generatedSpec } from '../../src/demo/openapi.js';
import { SCOPES } from '../../src/demo/scopes.js';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any -- tests walk untyped OpenAPI documents

const FIXTURE = new URL('./fixtures/demo-openapi-3.1.json', import.meta.url);
const tsoa7 = (): Json => JSON.parse(readFileSync(FIXTURE, 'utf8')) as Json;
/** The demo's policy, with a scope of its own: the issuer, the scheme and the metadata must know it. */
const POLICIES: Record<string, Policy> = { ...DEMO_POLICIES, orgMember: { organization: { param: 'orgId' }, scopes: ['read:org'] } };

async function validate(doc: Json): Promise<{ valid: boolean; version: string; errors: unknown }> {
  const validator = new Validator();
  const result = await validator.validate(structuredClone(doc));
  return { valid: result.valid, version: validator.version, errors: result.errors };
}

describe('finalizeSpec keeps the document’s version', () => {
  it('tsoa 7 wrote OpenAPI 3.1.0 (the fixture is what it generates)', async () => {
    const raw = tsoa7();
    expect(raw.openapi).toBe('3.1.0');
    expect(raw.paths['/api/messages'].get.security).toEqual([{ auth0: ['read:messages'] }]);
    expect(await validate(raw)).toMatchObject({ valid: true, version: '3.1' });
  });

  it('3.1: completed document is 3.1.0, valid against the 3.1 schema; Bearer and DPoP list the operation’s scopes', async () => {
    const doc = finalizeSpec(tsoa7(), { scopes: SCOPES, policies: POLICIES });
    expect(doc.openapi).toBe('3.1.0');
    const result = await validate(doc);
    expect(result.errors ?? []).toEqual([]);
    expect(result).toMatchObject({ valid: true, version: '3.1' });
    expect(doc.paths['/api/messages'].get.security).toEqual([{ auth0: ['read:messages'] }, { bearer: ['read:messages'] }, { dpop: ['read:messages'] }]);
    expect(doc.paths['/api/data'].post.security).toEqual([{ auth0: ['read:data', 'write:data'] }, { bearer: ['read:data', 'write:data'] }, { dpop: ['read:data', 'write:data'] }]);
    // A policy's scopes come first, then the decorator's; all three alternatives need them.
    expect(doc.paths['/api/orgs/{orgId}/messages'].get.security).toEqual([{ auth0: ['read:org', 'read:messages'] }, { bearer: ['read:org', 'read:messages'] }, { dpop: ['read:org', 'read:messages'] }]);
    // Optional authentication: the token schemes, then anonymous.
    expect(doc.paths['/api/feed'].get.security).toEqual([{ auth0: [] }, { bearer: [] }, { dpop: [] }, {}]);
    // Finalizing twice changes nothing.
    expect(finalizeSpec(doc, { scopes: SCOPES, policies: POLICIES })).toEqual(doc);
  });

  it('3.1 in DPoP-required mode: only the OAuth2 and DPoP requirements, with the scopes', () => {
    const doc = finalizeSpec(tsoa7(), { scopes: SCOPES, policies: POLICIES, dpopMode: 'required' });
    expect(doc.paths['/api/messages'].get.security).toEqual([{ auth0: ['read:messages'] }, { dpop: ['read:messages'] }]);
  });

  it('3.0 (tsoa 6): completed document is 3.0.0, valid against the 3.0 schema; Bearer and DPoP have empty lists', async () => {
    const doc = finalizeSpec(generatedSpec() as Json, { scopes: SCOPES, policies: POLICIES });
    expect(doc.openapi).toBe('3.0.0');
    const result = await validate(doc);
    expect(result.errors ?? []).toEqual([]);
    expect(result).toMatchObject({ valid: true, version: '3.0' });
    expect(doc.paths['/api/messages'].get.security).toEqual([{ auth0: ['read:messages'] }, { bearer: [] }, { dpop: [] }]);
  });

  it('the OAuth2 scheme offers the policies’ scopes, on 3.0 and 3.1', () => {
    for (const spec of [tsoa7(), generatedSpec() as Json]) {
      const doc = finalizeSpec(spec, { scopes: SCOPES, policies: POLICIES });
      const flows = doc.components.securitySchemes.auth0.flows;
      expect(flows.clientCredentials.scopes).toEqual({ ...SCOPES, 'read:org': 'read:org' });
      expect(flows.authorizationCode.scopes).toEqual({ ...SCOPES, 'read:org': 'read:org' });
    }
  });

  it('refuses a Swagger 2.0 document with one line naming the setting', () => {
    const call = () => finalizeSpec({ swagger: '2.0', info: { title: 'T', version: '1' }, paths: {} }, { scopes: SCOPES });
    expect(call).toThrow(ConfigurationError);
    expect(call).toThrow(`finalizeSpec needs an OpenAPI 3.0 or 3.1 document, got version "2.0": set tsoa.json's spec.specVersion to 3 (or 3.1 with tsoa 7)`);
  });
});

describe('serveDocs and the development issuer on a 3.1 document', () => {
  it('GET /openapi.json serves a valid 3.1 document; scopes_supported and dev scope discovery include the policies’ scopes', async () => {
    // An issuer that is not there: the document is served with Auth0's default paths on the domain.
    const auth0 = createAuth0Api({ domain: 'http://127.0.0.1:9', audience: 'https://api.example.com', scopes: SCOPES, policies: POLICIES, onEvent: () => {} });
    const app = express();
    auth0.install(app);
    serveDocs(app, auth0, tsoa7());
    const server = app.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    try {
      const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      const served = (await (await fetch(`${base}/openapi.json`)).json()) as Json;
      expect(served.openapi).toBe('3.1.0');
      expect(await validate(served)).toMatchObject({ valid: true, version: '3.1' });
      expect(served.paths['/api/messages'].get.security).toContainEqual({ bearer: ['read:messages'] });
      const metadata = (await (await fetch(`${base}/.well-known/oauth-protected-resource`)).json()) as Json;
      expect(metadata.scopes_supported).toEqual([...Object.keys(SCOPES), 'read:org']);
      // `dev --spec` with the served document grants every scope the app can require.
      expect(Object.keys(scopesFromSpec(served))).toEqual([...Object.keys(SCOPES), 'read:org'].sort());
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
