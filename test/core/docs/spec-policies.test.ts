/**
 * `finalizeSpec` with policies and optional names: a policy name becomes the `oauth2` requirement with the
 * policy's scopes plus the decorator's, next to Bearer/DPoP per mode; a `-optional` name adds the empty requirement
 * `{}` last; a scheme the document defines itself stays; an unknown name is a start-up ConfigurationError (in
 * finalizeSpec and in serveDocs); the 403 says what the policy checks; the result validates against the OpenAPI 3.0
 * schema and finalizing twice changes nothing.
 */
import { describe, expect, it } from 'vitest';
import express from 'express';
import { Validator } from '@seriousme/openapi-schema-validator';
import { finalizeSpec, scopesOfSpec } from '../../../src/core/docs/spec.js';
import { serveDocs } from '../../../src/express/docs.js';
import { createAuth0Api } from '../../../src/express/index.js';
import { claimIncludes, ConfigurationError, type Policy } from '../../../src/core/index.js';
import { resolvePolicies } from '../../../src/core/authorization/policies.js';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any -- tests walk untyped OpenAPI documents

const POLICIES: Record<string, Policy> = {
  admin: { scopes: ['read:admin'], claims: [claimIncludes('roles', 'admin')] },
  orgMember: { organization: { param: 'orgId' } },
  acmeOnly: { organization: 'acme' },
};
const SCOPES = { 'read:admin': 'Read admin', 'write:admin': 'Write admin', 'read:x': 'Read x' };

const op = (security: Array<Record<string, string[]>>, parameters: Json[] = []) => ({
  operationId: `op_${JSON.stringify(security).replace(/\W+/g, '_')}`,
  security,
  parameters,
  responses: { '200': { description: 'OK' } },
});
const orgIdParam = { in: 'path', name: 'orgId', required: true, schema: { type: 'string' } };

/** A tsoa-shaped 3.0 document: what `@Security(…)` on controllers produces. */
function generated(): Json {
  return {
    openapi: '3.0.0',
    info: { title: 'API', version: '1' },
    components: { securitySchemes: { auth0: { type: 'oauth2', flows: { clientCredentials: { tokenUrl: '/oauth/token', scopes: {} } } }, api_key: { type: 'apiKey', in: 'header', name: 'X-Key' } } },
    paths: {
      '/feed': { get: op([{ 'auth0-optional': [] }]) },
      '/feed/scoped': { get: op([{ 'auth0-optional': ['read:x'] }]) },
      '/bearer-feed': { get: op([{ 'bearer-optional': [] }]) },
      '/admin': { get: op([{ admin: ['write:admin'] }]) },
      '/admin/maybe': { get: op([{ 'admin-optional': [] }]) },
      '/orgs/{orgId}/x': { get: op([{ orgMember: ['read:x'] }], [orgIdParam]) },
      '/acme': { get: op([{ acmeOnly: [] }]) },
      '/dpop-admin': { get: op([{ dpop: [], admin: [] }]) },
      '/admin/other': { get: op([{ admin: ['read:x'] }]) },
      '/key': { get: op([{ api_key: [] }]) },
      '/public': { get: { operationId: 'pub', responses: { '200': { description: 'OK' } } } },
    },
  };
}

const finalize = (doc: Json, mode: 'allowed' | 'required' | 'disabled' = 'allowed') => finalizeSpec<Json>(doc, { scopes: SCOPES, policies: POLICIES, dpopMode: mode });
const security = (doc: Json, path: string) => doc.paths[path].get.security as Array<Record<string, string[]>>;

describe('finalizeSpec: optional names and policies', () => {
  const doc = finalize(generated());

  it("'<name>-optional' → the token schemes, then {} (anonymous allowed), last", () => {
    expect(security(doc, '/feed')).toEqual([{ auth0: [] }, { bearer: [] }, { dpop: [] }, {}]);
    expect(security(doc, '/feed/scoped')).toEqual([{ auth0: ['read:x'] }, { bearer: [] }, { dpop: [] }, {}]);
    expect(security(doc, '/bearer-feed')).toEqual([{ bearer: [] }, {}]);
  });

  it('a policy → the oauth2 requirement with its scopes plus the decorator’s', () => {
    expect(security(doc, '/admin')).toEqual([{ auth0: ['read:admin', 'write:admin'] }, { bearer: [] }, { dpop: [] }]);
    expect(security(doc, '/admin/maybe')).toEqual([{ auth0: ['read:admin'] }, { bearer: [] }, { dpop: [] }, {}]);
    expect(security(doc, '/orgs/{orgId}/x')).toEqual([{ auth0: ['read:x'] }, { bearer: [] }, { dpop: [] }]);
    expect(security(doc, '/acme')).toEqual([{ auth0: [] }, { bearer: [] }, { dpop: [] }]);
  });

  it('an AND requirement keeps its other member; a scheme the document defines stays as it is; public stays public', () => {
    expect(security(doc, '/dpop-admin')[0]).toEqual({ dpop: [], auth0: ['read:admin'] });
    expect(security(doc, '/key')).toEqual([{ api_key: [] }]);
    expect(doc.paths['/public'].get.security).toBeUndefined();
  });

  it('follows the DPoP mode', () => {
    expect(security(finalize(generated(), 'required'), '/feed')).toEqual([{ auth0: [] }, { dpop: [] }, {}]);
    expect(security(finalize(generated(), 'disabled'), '/admin')).toEqual([{ auth0: ['read:admin', 'write:admin'] }, { bearer: [] }]);
  });

  it('documents 401 on optional operations (bad credentials) and 403 only where something can be refused', () => {
    expect(doc.paths['/feed'].get.responses['401'].description).toMatch(/anonymous requests send no `Authorization` header/);
    expect(doc.paths['/feed'].get.responses['403']).toBeUndefined();
    expect(doc.paths['/feed/scoped'].get.responses['403'].description).toBe('The token lacks a required scope (read:x).');
    expect(doc.paths['/admin'].get.responses['403'].description).toBe('The token lacks a required scope (read:admin, write:admin), or fails the claim rule `roles includes "admin"`.');
    expect(doc.paths['/orgs/{orgId}/x'].get.responses['403'].description).toMatch(/read:x.*not for the organization in the path \(`\{orgId\}`/);
    expect(doc.paths['/acme'].get.responses['403'].description).toBe('The token is not for the organization `acme`.');
    expect(doc.paths['/key'].get.responses['401']).toBeUndefined();
    expect(security(doc, '/admin/other')).toEqual([{ auth0: ['read:admin', 'read:x'] }, { bearer: [] }, { dpop: [] }]);
  });

  it('validates against the official OpenAPI 3.0 schema', async () => {
    const validator = new Validator();
    const result = await validator.validate(structuredClone(doc));
    expect(result.errors ?? [], JSON.stringify(result.errors, null, 2)).toEqual([]);
    expect(validator.version).toBe('3.0');
  });

  it('is idempotent (policies already resolved keep their 403) and leaves its input untouched', () => {
    const input = generated();
    const before = JSON.stringify(input);
    const once = finalize(input);
    expect(finalize(once)).toEqual(once);
    expect(JSON.stringify(input)).toBe(before);
  });

  it('accepts the resolved policies of an Auth0Api as well as the option object', () => {
    expect(finalizeSpec(generated(), { scopes: SCOPES, policies: resolvePolicies(POLICIES) })).toEqual(doc);
  });
});

describe('unknown security names fail at start-up', () => {
  it('finalizeSpec: one line naming the operation and the fix', () => {
    const doc = generated();
    doc.paths['/typo'] = { get: op([{ amdin: [] }]) };
    let caught: unknown;
    try {
      finalizeSpec(doc, { scopes: SCOPES, policies: POLICIES });
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(ConfigurationError);
    expect((caught as Error).message).toBe(
      'auth0-tsoa-api: invalid option "policies": @Security(\'amdin\') on GET /typo names no security scheme or policy; define the policy in createAuth0Api({ policies }) and pass the same policies to finalizeSpec',
    );
  });

  it('finalizeSpec without the policies the controllers use', () => {
    expect(() => finalizeSpec(generated(), { scopes: SCOPES })).toThrow(/@Security\('admin'\) on GET \/admin names no security scheme or policy/);
  });

  it('serveDocs throws when called, not on the first request for the docs', () => {
    const app = express();
    const auth0 = createAuth0Api({ domain: 'tenant.example.com', audience: 'https://api.example.com', policies: { admin: POLICIES.admin! } });
    expect(() => serveDocs(app, auth0, generated())).toThrow(/@Security\('orgMember'\) on GET \/orgs\/\{orgId\}\/x names no security scheme or policy/);
    const complete = createAuth0Api({ domain: 'tenant.example.com', audience: 'https://api.example.com', policies: POLICIES });
    expect(() => serveDocs(express(), complete, generated())).not.toThrow();
  });
});

describe('scopesOfSpec (scopes for the docs when none are configured)', () => {
  it('collects the scopes of the general name, its -optional variant and the policies', () => {
    expect(Object.keys(scopesOfSpec(generated(), 'auth0', resolvePolicies(POLICIES))).sort()).toEqual(['read:admin', 'read:x', 'write:admin']);
    expect(Object.keys(scopesOfSpec(generated())).sort()).toEqual(['read:x']);
  });
});
