/**
 * The docs site every adapter serves (src/core/docs/site.ts), against a real validator and a local issuer: the document
 * completed once at start-up (unknown security names refused then) and again when served, with the issuer's discovered
 * endpoints; built once and kept once discovery answered, rebuilt while it does not; concurrent first requests share
 * one build; the page and init script are swagger-ui-express's own output for the completed document; the files next
 * to it.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createValidator, ConfigurationError, type ApiOptions } from '../../../src/core/index.js';
import { DOCS_CONTENT_TYPES, docsSite, documentationSource, type DocumentedApi } from '../../../src/core/docs/site.js';
import { TestIssuer } from '../../support/test-issuer.js';

const AUDIENCE = 'https://api.example.com';
type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any -- tests walk untyped OpenAPI documents

/** A tsoa-like document: one operation requiring read:items through @Security('auth0'). */
const spec = (security: Json[] = [{ auth0: ['read:items'] }]): Json => ({
  openapi: '3.0.0',
  info: { title: 'Items', version: '1.0.0' },
  paths: { '/items': { get: { operationId: 'list', security, responses: { 200: { description: 'Ok' } } } } },
  components: { securitySchemes: {} },
});

let issuer: TestIssuer;
beforeAll(async () => {
  issuer = await TestIssuer.start();
});
afterAll(async () => {
  await issuer?.close();
});
beforeEach(() => {
  issuer.discoveryFault = { kind: 'none' };
  issuer.discoveryOverrides = {};
});

/** An API object as the adapters hand one in, recording what the docs told it. */
function api(options: Partial<ApiOptions> = {}): DocumentedApi & { scopes?: Readonly<Record<string, string>>; path?: string } {
  const recorded: { scopes?: Readonly<Record<string, string>>; path?: string } = {};
  return Object.assign(recorded, {
    validator: createValidator({ domain: issuer.origin, audience: AUDIENCE, cooldown: 0, ...options }),
    describeScopes: (scopes: Readonly<Record<string, string>>) => (recorded.scopes = scopes),
    documentedAt: (path: string) => (recorded.path = path),
  });
}

describe('documentationSource', () => {
  it('tells the API its docs path and scopes at once (the operations’ scopes when none are configured)', () => {
    const documented = api();
    documentationSource(documented, spec(), { path: '/reference' }, () => 'ui');
    expect(documented.path).toBe('/reference');
    expect(Object.keys(documented.scopes!)).toEqual(['read:items']);
  });

  it('refuses an unknown security name at start-up, before any request', () => {
    expect(() => documentationSource(api(), spec([{ auth0: [] }, { nosuch: [] }]), {}, () => 'ui')).toThrow(ConfigurationError);
  });

  it('serves the document with the issuer’s discovered endpoints, built once and kept; concurrent first calls share the build', async () => {
    issuer.discoveryOverrides = { token_endpoint: `${issuer.origin}/discovered/token` };
    let builds = 0;
    const source = documentationSource(api({ scopes: { 'read:items': 'Read items' } }), spec(), {}, (completed, ui) => ({ n: ++builds, completed, ui }));
    const [a, b] = await Promise.all([source(), source()]);
    expect(a).toBe(b);
    expect(await source()).toBe(a);
    expect(builds).toBe(1);
    const flows = (a.spec as Json).components.securitySchemes.auth0.flows;
    expect(flows.authorizationCode.tokenUrl).toBe(`${issuer.origin}/discovered/token`);
    expect(flows.authorizationCode.scopes).toEqual({ 'read:items': 'Read items' });
    expect(a.ui.ui).toMatchObject({ dpop: { mode: 'allowed' }, oauth: { audience: AUDIENCE, scopes: ['read:items'], usePkce: true } });
  });

  it('without discovery: the issuer origin’s Auth0 paths, and a new build on the next call until discovery answers', async () => {
    issuer.discoveryFault = { kind: 'status', status: 500 };
    let builds = 0;
    const source = documentationSource(api(), spec(), {}, () => ++builds);
    const first = await source();
    expect((first.spec as Json).components.securitySchemes.auth0.flows.authorizationCode.authorizationUrl).toBe(`${issuer.origin}/authorize`);
    await source();
    expect(builds).toBe(2);
    issuer.discoveryFault = { kind: 'none' };
    const kept = await source();
    expect(await source()).toBe(kept);
    expect(builds).toBe(3);
  });
});

describe('docsSite', () => {
  it('the page and init script are swagger-ui-express’s output for the completed document', async () => {
    const site = docsSite(api(), spec(), { oauth: { clientId: 'spa-client' } });
    const page = await site.page();
    expect(page.html).toContain('swagger-ui-init.js');
    expect(page.init).toContain(JSON.stringify((page.spec as Json).paths['/items'].get.operationId));
    expect(page.init).toContain('spa-client');
  });

  it('lists Swagger UI’s servable files (not its demo index.html) and this package’s browser files', () => {
    const site = docsSite(api(), spec());
    expect(site.distFiles.has('swagger-ui-bundle.js')).toBe(true);
    expect(site.distFiles.has('index.html')).toBe(false);
    expect([...site.distFiles].every((file) => Object.hasOwn(DOCS_CONTENT_TYPES, file.slice(file.lastIndexOf('.'))))).toBe(true);
    expect(site.assets.size).toBeGreaterThan(0);
    expect(Object.isFrozen(DOCS_CONTENT_TYPES)).toBe(true);
  });
});
