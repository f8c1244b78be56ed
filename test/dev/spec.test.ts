/**
 * The scopes an OpenAPI document requires (src/dev/spec.ts), for the development issuer and `setup`: every scope of
 * the document's and the operations' security requirements plus every scope its OAuth2 schemes describe (OpenAPI
 * 3.0, 3.1, Swagger 2); tsoa's spec found through tsoa.json; and each unusable input as a SpecError saying what to do.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { findTsoaSpec, readSpecScopes, scopesFromSpec, SpecError } from '../../src/dev/spec.js';

const temp = mkdtempSync(join(tmpdir(), 'auth0-tsoa-api-spec-'));
afterAll(() => rmSync(temp, { recursive: true, force: true }));

/** A new folder under the temporary one, with `files` (name → text, or an object written as JSON). */
function folder(name: string, files: Record<string, unknown> = {}): string {
  const dir = join(temp, name);
  mkdirSync(dir, { recursive: true });
  for (const [file, content] of Object.entries(files)) {
    mkdirSync(join(dir, file, '..'), { recursive: true });
    writeFileSync(join(dir, file), typeof content === 'string' ? content : JSON.stringify(content));
  }
  return dir;
}

const OPENAPI_30 = {
  openapi: '3.0.3',
  info: { title: 't', version: '1' },
  security: [{ auth0: ['read:profile'] }],
  paths: {
    '/messages': {
      get: { security: [{ auth0: ['read:messages'] }], responses: {} },
      post: { security: [{ auth0: ['write:messages', 'read:messages'] }, { bearer: [] }], responses: {} },
    },
    '/public': { get: { security: [], responses: {} } },
  },
  components: {
    securitySchemes: {
      auth0: { type: 'oauth2', flows: { clientCredentials: { tokenUrl: '/t', scopes: { 'read:messages': 'Read messages', 'admin:all': 'Everything (a policy)' } } } },
      bearer: { type: 'http', scheme: 'bearer' },
    },
  },
};

describe('scopesFromSpec', () => {
  it('OpenAPI 3.0: required and described scopes, sorted, each with its description or ""', () => {
    expect(scopesFromSpec(OPENAPI_30)).toEqual({
      'admin:all': 'Everything (a policy)',
      'read:messages': 'Read messages',
      'read:profile': '',
      'write:messages': '',
    });
    expect(Object.keys(scopesFromSpec(OPENAPI_30))).toEqual(['admin:all', 'read:messages', 'read:profile', 'write:messages']);
  });

  it('OpenAPI 3.1: scopes listed on any scheme (roles on a bearer requirement) are required too', () => {
    const spec = {
      openapi: '3.1.0',
      info: { title: 't', version: '1' },
      paths: { '/items': { delete: { security: [{ bearer: ['delete:items'] }], responses: {} } } },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
    };
    expect(scopesFromSpec(spec)).toEqual({ 'delete:items': '' });
  });

  it('a scope a scheme declares without a description is granted too, even when no operation requires it yet', () => {
    const spec = {
      openapi: '3.0.0',
      info: { title: 't', version: '1' },
      paths: {},
      components: { securitySchemes: { auth0: { type: 'oauth2', flows: { implicit: { authorizationUrl: '/a', scopes: { 'export:reports': '' } } } } } },
    };
    expect(scopesFromSpec(spec)).toEqual({ 'export:reports': '' });
  });

  it('Swagger 2.0: securityDefinitions scopes and operation requirements', () => {
    const spec = {
      swagger: '2.0',
      info: { title: 't', version: '1' },
      paths: { '/items': { get: { security: [{ auth0: ['read:items'] }], responses: {} } } },
      securityDefinitions: { auth0: { type: 'oauth2', flow: 'application', tokenUrl: '/t', scopes: { 'read:items': 'Read items', 'write:items': 'Write items' } } },
    };
    expect(scopesFromSpec(spec)).toEqual({ 'read:items': 'Read items', 'write:items': 'Write items' });
  });

  it('an empty scope name in a requirement is not a scope', () => {
    expect(scopesFromSpec({ openapi: '3.1.0', paths: { '/': { get: { security: [{ auth0: ['', 'a'] }] } } } })).toEqual({ a: '' });
  });

  it('a document requiring and describing no scopes: none', () => {
    expect(scopesFromSpec({ openapi: '3.0.0', info: { title: 't', version: '1' }, paths: { '/': { get: { responses: {} } } } })).toEqual({});
  });

  it.each([
    ['an array', [], 'the OpenAPI document is not a JSON object'],
    ['null', null, 'the OpenAPI document is not a JSON object'],
    ['a string', 'openapi', 'the OpenAPI document is not a JSON object'],
    ['OpenAPI 4.0', { openapi: '4.0.0', paths: {} }, 'unsupported document version "4.0.0": give an OpenAPI 3.0 or 3.1 (or Swagger 2.0) document'],
    ['Swagger 1.2', { swagger: '1.2', paths: {} }, 'unsupported document version "1.2": give an OpenAPI 3.0 or 3.1 (or Swagger 2.0) document'],
  ])('%s: a SpecError saying so', (_what, spec, message) => {
    expect(() => scopesFromSpec(spec)).toThrow(SpecError);
    expect(() => scopesFromSpec(spec)).toThrow(message);
  });

  it('SpecError is named SpecError', () => {
    expect(new SpecError('x').name).toBe('SpecError');
  });
});

describe('findTsoaSpec', () => {
  it('<spec.outputDirectory>/swagger.json by default', () => {
    const app = folder('default-name', { 'tsoa.json': { spec: { outputDirectory: 'build', specVersion: 3 } }, 'build/swagger.json': OPENAPI_30 });
    expect(findTsoaSpec(app)).toBe(join(app, 'build', 'swagger.json'));
  });

  it('<spec.outputDirectory>/<spec.specFileBaseName>.json when tsoa.json names it', () => {
    const app = folder('base-name', { 'tsoa.json': { spec: { outputDirectory: 'public/api', specFileBaseName: 'openapi' } }, 'public/api/openapi.json': OPENAPI_30 });
    expect(findTsoaSpec(app)).toBe(join(app, 'public', 'api', 'openapi.json'));
  });

  it.each([
    ['no tsoa.json', {}, (app: string) => `no tsoa.json in ${app}: pass --spec path/to/openapi.json (or --scopes "a b")`],
    ['a tsoa.json that is not JSON', { 'tsoa.json': '{ spec: ' }, (app: string) => `${join(app, 'tsoa.json')} is not valid JSON: pass --spec path/to/openapi.json instead`],
    ['a tsoa.json without spec.outputDirectory', { 'tsoa.json': { routes: { routesDir: 'build' } } }, (app: string) => `${join(app, 'tsoa.json')} has no spec.outputDirectory: pass --spec path/to/openapi.json instead`],
    ['a spec not built yet', { 'tsoa.json': { spec: { outputDirectory: 'build' } } }, () => 'build/swagger.json not found: build first ("npm run build", or "npx tsoa spec"), or pass --scopes "a b" (or --spec path/to/openapi.json)'],
  ])('%s: a SpecError saying what to pass instead', (what, files, message) => {
    const app = folder(what.replace(/\W+/g, '-'), files);
    expect(() => findTsoaSpec(app)).toThrow(SpecError);
    expect(() => findTsoaSpec(app)).toThrow(message(app));
  });
});

describe('readSpecScopes', () => {
  const app = folder('read', { 'docs/openapi.json': OPENAPI_30, 'docs/openapi.yaml': 'openapi: 3.0.0\n', 'docs/list.json': '[]' });

  it('a path relative to the working folder, or absolute', () => {
    expect(Object.keys(readSpecScopes('docs/openapi.json', app))).toEqual(['admin:all', 'read:messages', 'read:profile', 'write:messages']);
    expect(readSpecScopes(join(app, 'docs', 'openapi.json'), '/nowhere')).toEqual(readSpecScopes('docs/openapi.json', app));
  });

  it('a file that cannot be read: a SpecError naming it as given', () => {
    expect(() => readSpecScopes('docs/missing.json', app)).toThrow(new SpecError('cannot read the OpenAPI document docs/missing.json'));
  });

  it('a file that is not JSON (e.g. YAML): a SpecError asking for the JSON document', () => {
    expect(() => readSpecScopes('docs/openapi.yaml', app)).toThrow(new SpecError('docs/openapi.yaml is not JSON: give the JSON OpenAPI document (tsoa writes swagger.json)'));
  });

  it('JSON that is not a document: the SpecError of scopesFromSpec', () => {
    expect(() => readSpecScopes('docs/list.json', app)).toThrow(new SpecError('the OpenAPI document is not a JSON object'));
  });
});
