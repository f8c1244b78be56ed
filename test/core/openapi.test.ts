/**
 * The shared OpenAPI walker (src/core/openapi.ts): versions, operations, security requirements (top level and per
 * operation, cleaned), schemes and described scopes, for OpenAPI 3.0, 3.1 and Swagger 2.0.
 */
import { describe, expect, it } from 'vitest';
import { describedScopes, openApiVersion, operations, requirementsOf, scopesOnAnyScheme, securityRequirements, securitySchemes } from '../../src/core/openapi.js';

const doc31 = {
  openapi: '3.1.0',
  info: { title: 'T', version: '1' },
  security: [{ global: [] }],
  components: { securitySchemes: { auth0: { type: 'oauth2', flows: { clientCredentials: { tokenUrl: '/t', scopes: { 'read:a': 'Read A', 'read:b': '' } } } }, broken: 'x' } },
  paths: {
    '/a': { parameters: [], get: { security: [{ auth0: ['read:a'] }, { bearer: ['read:a', 7] }] }, summary: 'not an operation', post: { responses: {} } },
    '/b': 'not a path item',
    '/c': { delete: { security: [null, { dpop: 'not a list' }] } },
  },
};

describe('the OpenAPI walker', () => {
  it('tells 3.0, 3.1 and Swagger 2.0 apart; a document without a version is 3.0; others are unknown', () => {
    expect(openApiVersion(doc31)).toBe('3.1');
    expect(openApiVersion({ openapi: '3.0.3' })).toBe('3.0');
    expect(openApiVersion({ swagger: '2.0' })).toBe('2.0');
    expect(openApiVersion({ paths: {} })).toBe('3.0');
    expect(openApiVersion({ openapi: '4.0.0' })).toBeUndefined();
    expect(openApiVersion({ swagger: '1.2' })).toBeUndefined();
    expect(openApiVersion('x')).toBeUndefined();
    expect(scopesOnAnyScheme(doc31)).toBe(true);
    expect(scopesOnAnyScheme({ openapi: '3.0.0' })).toBe(false);
  });

  it('keeps every declared scope; the first non-empty description wins over an empty one', () => {
    const flows = (scopes: Record<string, unknown>) => ({ type: 'oauth2', flows: { implicit: { authorizationUrl: '/a', scopes } } });
    const doc = { openapi: '3.0.0', components: { securitySchemes: { a: flows({ x: '', y: 'Y first', z: 7 }), b: flows({ x: 'X later', y: 'Y later' }) } } };
    expect(Object.fromEntries(describedScopes(doc))).toEqual({ x: 'X later', y: 'Y first' });
  });

  it('walks the operations of every path item, methods only', () => {
    expect([...operations(doc31)].map(({ path, method }) => `${method} ${path}`)).toEqual(['get /a', 'post /a', 'delete /c']);
  });

  it('collects the top-level requirements, then each operation’s, keeping only requirement objects and string scopes', () => {
    expect(securityRequirements(doc31)).toEqual([{ global: [] }, { auth0: ['read:a'] }, { bearer: ['read:a'] }, { dpop: [] }]);
    expect(requirementsOf('nope')).toEqual([]);
  });

  it('reads schemes of OpenAPI 3 and Swagger 2, and the scopes their OAuth2 flows describe', () => {
    expect(Object.keys(securitySchemes(doc31))).toEqual(['auth0']);
    expect(Object.keys(securitySchemes({ swagger: '2.0', securityDefinitions: { o: { type: 'oauth2', scopes: { s: 'S' } } } }))).toEqual(['o']);
    expect([...describedScopes(doc31)]).toEqual([
      ['read:a', 'Read A'],
      ['read:b', ''],
    ]);
    expect([...describedScopes({ swagger: '2.0', securityDefinitions: { o: { type: 'oauth2', scopes: { s: 'S' } } } })]).toEqual([['s', 'S']]);
  });
});
