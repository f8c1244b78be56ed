/**
 * The OpenAPI document: tsoa's generated spec (build/tsoa/swagger.json) completed by `finalizeSpec` has the
 * security schemes (auth0 oauth2 with the scope descriptions, bearer, DPoP) and each secured operation lists its
 * scopes; the demo serves exactly the finalized document for its DPoP mode.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { finalizeSpec, securityDefinitions } from '../../../src/core/docs/spec.js';
import { projectRoot } from '../../../src/demo/openapi.js';
import { SCOPES } from '../../../src/demo/scopes.js';
import { POLICIES } from '../../../src/demo/policies.js';
import { TestIssuer } from '../../support/test-issuer.js';
import { startTestDemo } from '../../support/demo.js';
import type { RunningDemo } from '../../../src/demo/server.js';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any -- tests walk untyped OpenAPI documents
type Requirement = Record<string, string[]>;
const MODES = ['allowed', 'required', 'disabled'] as const;

const generated = JSON.parse(readFileSync(join(projectRoot(), 'build/tsoa/swagger.json'), 'utf8')) as Json;
const ENDPOINTS = { tokenUrl: 'https://tenant.example.com/oauth/token', authorizationUrl: 'https://tenant.example.com/authorize' };

/** The controllers' `@Security('auth0', [...])` scopes, per operation. */
const SECURED: Array<[string, string, string[]]> = [
  ['get', '/api/private', []],
  ['get', '/api/protected', []],
  ['get', '/api/profile', []],
  ['get', '/api/messages', ['read:messages']],
  ['post', '/api/data', ['read:data', 'write:data']],
];

const BEARER = { type: 'http', scheme: 'bearer' };
const DPOP = { type: 'http', scheme: 'DPoP' };

describe('tsoa generated the per-operation scopes from the controllers', () => {
  it.each(SECURED)('%s %s → auth0 %j', (method, path, scopes) => {
    expect(generated.paths[path][method].security).toEqual([{ auth0: scopes }]);
  });

  it('leaves /api/public unsecured', () => {
    expect(generated.paths['/api/public'].get.security ?? []).toEqual([]);
  });

  it('names the optional variant and the policy as written on the controllers (finalizeSpec resolves them)', () => {
    expect(generated.paths['/api/feed'].get.security).toEqual([{ 'auth0-optional': [] }]);
    expect(generated.paths['/api/orgs/{orgId}/messages'].get.security).toEqual([{ orgMember: ['read:messages'] }]);
  });
});

describe.each(MODES)('finalizeSpec, DPoP %s', (mode) => {
  const spec = finalizeSpec<Json>(generated, { scopes: SCOPES, policies: POLICIES, dpopMode: mode, ...ENDPOINTS });
  const schemes = spec.components.securitySchemes as Json;

  it('has the auth0 oauth2 scheme with every scope description and the issuer endpoints', () => {
    expect(schemes.auth0.type).toBe('oauth2');
    expect(schemes.auth0.flows.clientCredentials).toEqual({ tokenUrl: ENDPOINTS.tokenUrl, scopes: SCOPES });
    expect(schemes.auth0.flows.authorizationCode).toEqual({ ...ENDPOINTS, scopes: SCOPES });
  });

  it('defines the bearer and DPoP http schemes in every mode (docs/decisions.md D10)', () => {
    expect(Object.keys(schemes).sort()).toEqual(['auth0', 'bearer', 'dpop']);
    expect(schemes.bearer).toMatchObject(BEARER);
    expect(schemes.dpop).toMatchObject(DPOP);
  });

  it('offers only the schemes the mode accepts: required drops bearer, disabled drops DPoP', () => {
    const offered = new Set(Object.values(spec.paths as Json).flatMap((item: Json) => Object.values(item).flatMap((op: Json) => (op.security ?? []).flatMap((r: Requirement) => Object.keys(r)))));
    expect([...offered].sort()).toEqual({ allowed: ['auth0', 'bearer', 'dpop'], required: ['auth0', 'dpop'], disabled: ['auth0', 'bearer'] }[mode]);
  });

  it.each(SECURED)('%s %s lists its scopes in the auth0 requirement, with bearer/DPoP alternatives', (method, path, scopes) => {
    const alternatives: Requirement[] = [{ auth0: scopes }];
    if (mode !== 'required') alternatives.push({ bearer: [] });
    if (mode !== 'disabled') alternatives.push({ dpop: [] });
    expect(spec.paths[path][method].security).toEqual(alternatives);
  });

  it('documents 401 on every secured operation and 403 on the scoped ones', () => {
    for (const [method, path, scopes] of SECURED) {
      const responses = spec.paths[path][method].responses as Json;
      expect(responses['401'], `${method} ${path}`).toBeDefined();
      expect(responses['403'] !== undefined, `${method} ${path} 403`).toBe(scopes.length > 0);
    }
    expect(spec.paths['/api/public'].get.responses['401']).toBeUndefined();
  });

  it('is idempotent and leaves its input untouched', () => {
    const before = JSON.stringify(generated);
    expect(finalizeSpec(spec, { scopes: SCOPES, policies: POLICIES, dpopMode: mode, ...ENDPOINTS })).toEqual(spec);
    expect(JSON.stringify(generated)).toBe(before);
  });
});

describe('securityDefinitions', () => {
  it('gives the three schemes for tsoa.json, with the scope descriptions once', () => {
    const defs = securityDefinitions({ scopes: { 'read:x': 'Read x' }, tokenUrl: 'https://t/oauth/token', name: 'api' }) as Json;
    expect(Object.keys(defs).sort()).toEqual(['api', 'bearer', 'dpop']);
    expect(defs.api.flows.clientCredentials).toEqual({ tokenUrl: 'https://t/oauth/token', scopes: { 'read:x': 'Read x' } });
    expect(defs.bearer).toMatchObject(BEARER);
    expect(defs.dpop).toMatchObject(DPOP);
  });
});

describe('GET /openapi.json serves the finalized spec for the mode', () => {
  let issuer: TestIssuer;
  const demos = new Map<string, RunningDemo>();

  beforeAll(async () => {
    issuer = await TestIssuer.start();
    for (const mode of MODES) demos.set(mode, await startTestDemo({ AUTH0_DOMAIN: issuer.origin, AUTH0_DPOP: mode }));
  });
  afterAll(async () => {
    for (const demo of demos.values()) await demo.close();
    await issuer?.close();
  });

  it.each(MODES)('AUTH0_DPOP=%s', async (mode) => {
    const response = await fetch(`${demos.get(mode)!.url}/openapi.json`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^application\/json/);
    const served = (await response.json()) as Json;
    const expected = finalizeSpec(generated, {
      scopes: SCOPES,
      policies: POLICIES,
      dpopMode: mode,
      tokenUrl: `${issuer.origin}/oauth/token`,
      authorizationUrl: `${issuer.origin}/authorize`,
    });
    expect(served).toEqual(expected);
    const messages = served.paths['/api/messages'].get.security as Requirement[];
    expect(messages.some((r) => 'bearer' in r)).toBe(mode !== 'required');
    expect(messages.some((r) => 'dpop' in r)).toBe(mode !== 'disabled');
  });
});
