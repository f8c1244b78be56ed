/**
 * OpenAPI quality of spec/openapi.json and of the /openapi.json the real demo serves (each DPoP mode, dev-issuer
 * mode and AUTH0_DOMAIN mode): validation against the official schema of the declared version
 * (@seriousme/openapi-schema-validator), security schemes with the real issuer endpoints and the scope descriptions
 * of src/demo/scopes.ts, per-operation security alternatives and the documented 401/403 error responses.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Validator } from '@seriousme/openapi-schema-validator';
import { TestIssuer } from '../support/test-issuer.js';
import { startTestDemo } from '../support/demo.js';
import { startDemo, type RunningDemo } from '../../src/demo/server.js';
import { projectRoot } from '../../src/demo/openapi.js';
import { SCOPES } from '../../src/demo/scopes.js';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any -- tests walk untyped OpenAPI documents
const MODES = ['allowed', 'required', 'disabled'] as const;
type Mode = (typeof MODES)[number];
const HTTP_METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];
const AUTH_ERROR_REF = '#/components/schemas/AuthError';

/** The demo's route table (README, docs/errors.md): secured operations and the scopes each requires (all of them). */
const SECURED: Record<string, string[]> = {
  'GET /api/private': [],
  'GET /api/protected': [],
  'GET /api/profile': [],
  'GET /api/messages': ['read:messages'],
  'POST /api/data': ['read:data', 'write:data'],
  'GET /api/feed': [], // optional: also lists the empty requirement {} (checked below)
  'GET /api/orgs/{orgId}/messages': ['read:messages'], // and the organization of the path (policy orgMember)
  'GET /api/payments': ['read:data'], // and a recent multi-factor sign-in (policy recentMfa, step-up)
  'GET /api/relay': ['read:messages'], // token exchange for the downstream API (404 without DOWNSTREAM_URL)
};
/** Operations that serve anonymous callers: their security ends with the empty requirement `{}`. */
const OPTIONAL = ['GET /api/feed'];
const PUBLIC = ['GET /api/public'];

interface Endpoints {
  tokenUrl: string;
  authorizationUrl: string;
}

function operations(doc: Json): Array<{ key: string; op: Json }> {
  const out: Array<{ key: string; op: Json }> = [];
  for (const [path, item] of Object.entries((doc.paths ?? {}) as Json)) {
    for (const method of HTTP_METHODS) {
      if (item[method]) out.push({ key: `${method.toUpperCase()} ${path}`, op: item[method] });
    }
  }
  return out;
}

function isSecured(op: Json): boolean {
  return Array.isArray(op.security) && op.security.length > 0 && op.security.some((r: Json) => Object.keys(r).length > 0);
}

/** Every `$ref` in the document, with where it was found. */
function refs(node: unknown, at = '#', out: Array<[string, string]> = []): Array<[string, string]> {
  if (Array.isArray(node)) node.forEach((v, i) => refs(v, `${at}/${i}`, out));
  else if (node !== null && typeof node === 'object') {
    for (const [k, v] of Object.entries(node)) {
      if (k === '$ref' && typeof v === 'string') out.push([at, v]);
      else refs(v, `${at}/${k.replace(/~/g, '~0').replace(/\//g, '~1')}`, out);
    }
  }
  return out;
}

function resolvePointer(doc: Json, ref: string): unknown {
  if (!ref.startsWith('#/')) return undefined;
  let node: unknown = doc;
  for (const raw of ref.slice(2).split('/')) {
    const key = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (node === null || typeof node !== 'object' || !(key in (node as Json))) return undefined;
    node = (node as Json)[key];
  }
  return node;
}

/**
 * Runs every quality check on one document. Each check is its own `it`, so one failure does not hide the others.
 * `load` is called lazily (documents served by demos exist only after beforeAll).
 */
function describeDocument(load: () => { doc: Json; mode: Mode; endpoints: () => Endpoints | undefined }) {
  it('validates against the official OpenAPI schema of the version it declares', async () => {
    const { doc } = load();
    expect(doc.openapi).toMatch(/^3\.[01]\.\d+$/);
    const validator = new Validator();
    const result = await validator.validate(structuredClone(doc));
    expect(result.errors ?? [], JSON.stringify(result.errors, null, 2)).toEqual([]);
    expect(result.valid).toBe(true);
    expect(validator.version).toBe((doc.openapi as string).split('.').slice(0, 2).join('.'));
  });

  it('every $ref resolves inside the document, operationIds are unique', () => {
    const { doc } = load();
    for (const [at, ref] of refs(doc)) expect(resolvePointer(doc, ref), `${ref} at ${at}`).toBeDefined();
    const ids = operations(doc).map(({ op }) => op.operationId as string);
    expect(ids.every((id) => typeof id === 'string' && id !== '')).toBe(true);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('securitySchemes: bearer (http bearer), dpop (http DPoP) and auth0 (oauth2) as the mode allows', () => {
    const { doc, mode } = load();
    const schemes = doc.components?.securitySchemes as Json;
    expect(schemes).toBeDefined();
    if (mode !== 'required') expect(schemes.bearer).toMatchObject({ type: 'http', scheme: 'bearer' });
    if (mode !== 'disabled') expect(schemes.dpop).toMatchObject({ type: 'http', scheme: 'DPoP' });
    expect(schemes.auth0).toMatchObject({ type: 'oauth2' });
  });

  it('the auth0 oauth2 flows carry the issuer token/authorize URLs and the scope descriptions of src/demo/scopes.ts', () => {
    const { doc, endpoints } = load();
    const flows = doc.components.securitySchemes.auth0.flows as Json;
    const expected = endpoints();
    expect(flows.clientCredentials).toEqual({ tokenUrl: expect.any(String), scopes: SCOPES });
    expect(flows.authorizationCode).toEqual({ authorizationUrl: expect.any(String), tokenUrl: expect.any(String), scopes: SCOPES });
    for (const url of [flows.clientCredentials.tokenUrl, flows.authorizationCode.tokenUrl, flows.authorizationCode.authorizationUrl]) {
      expect(URL.canParse(url), `${url} is an absolute URL`).toBe(true);
      expect(new URL(url).protocol).toMatch(/^https?:$/);
    }
    if (expected) {
      expect(flows.clientCredentials.tokenUrl).toBe(expected.tokenUrl);
      expect(flows.authorizationCode.tokenUrl).toBe(expected.tokenUrl);
      expect(flows.authorizationCode.authorizationUrl).toBe(expected.authorizationUrl);
    }
  });

  it('secured operations are exactly those of the route table; each lists its scopes in an oauth2 requirement', () => {
    const { doc } = load();
    const all = operations(doc);
    const secured = all
      .filter(({ op }) => isSecured(op))
      .map(({ key }) => key)
      .sort();
    expect(secured).toEqual(Object.keys(SECURED).sort());
    for (const key of PUBLIC) {
      const found = all.find((o) => o.key === key);
      expect(found, key).toBeDefined();
      expect(isSecured(found!.op), key).toBe(false);
    }
    for (const { key, op } of all.filter(({ op }) => isSecured(op))) {
      const scoped = (op.security as Json[]).filter((r) => 'auth0' in r);
      expect(scoped.length, key).toBeGreaterThan(0);
      expect(
        scoped.some((r) => [...r.auth0].sort().join(' ') === [...SECURED[key]!].sort().join(' ')),
        `${key}: ${JSON.stringify(op.security)}`,
      ).toBe(true);
    }
  });

  it('security alternatives follow the DPoP mode, and name only defined schemes', () => {
    const { doc, mode } = load();
    const schemes = doc.components.securitySchemes as Json;
    for (const { key, op } of operations(doc).filter(({ op }) => isSecured(op))) {
      const names = new Set((op.security as Json[]).flatMap((r) => Object.keys(r)));
      for (const name of names) expect(schemes[name], `${key} requires undefined scheme ${name}`).toBeDefined();
      expect(names.has('bearer'), `${key} offers bearer`).toBe(mode !== 'required');
      expect(names.has('dpop'), `${key} offers dpop`).toBe(mode !== 'disabled');
      const empty = (op.security as Json[]).filter((r) => Object.keys(r).length === 0);
      expect(empty.length, `${key} anonymous alternative {}`).toBe(OPTIONAL.includes(key) ? 1 : 0);
      if (OPTIONAL.includes(key)) expect(Object.keys((op.security as Json[]).at(-1)!), `${key}: {} comes last`).toEqual([]);
    }
  });

  it('under OpenAPI 3.0, requirements of non-oauth2 schemes have empty scope arrays', () => {
    const { doc } = load();
    if (!(doc.openapi as string).startsWith('3.0.')) return;
    const schemes = doc.components.securitySchemes as Json;
    for (const { key, op } of operations(doc)) {
      for (const requirement of (op.security ?? []) as Json[]) {
        for (const [name, scopes] of Object.entries(requirement)) {
          expect(Array.isArray(scopes), `${key} ${name}`).toBe(true);
          const type = schemes[name]?.type;
          if (type !== 'oauth2' && type !== 'openIdConnect') expect(scopes, `${key} ${name}`).toEqual([]);
        }
      }
    }
  });

  it('secured operations document 401 (and 403 when scoped) with the AuthError schema and WWW-Authenticate', () => {
    const { doc } = load();
    const authError = doc.components?.schemas?.AuthError as Json;
    expect(authError).toMatchObject({
      type: 'object',
      properties: { error: { type: 'string' }, error_description: { type: 'string' } },
    });
    expect([...authError.required].sort()).toEqual(['error', 'error_description']);

    for (const { key, op } of operations(doc)) {
      const statuses = isSecured(op) ? (SECURED[key]!.length > 0 ? ['401', '403'] : ['401']) : [];
      for (const status of statuses) {
        const response = op.responses?.[status] as Json | undefined;
        expect(response, `${key} ${status}`).toBeDefined();
        expect(response!.content?.['application/json']?.schema, `${key} ${status}`).toEqual({ $ref: AUTH_ERROR_REF });
        expect(
          Object.keys(response!.headers ?? {}).map((h) => h.toLowerCase()),
          `${key} ${status}`,
        ).toContain('www-authenticate');
      }
      if (!isSecured(op)) expect(op.responses?.['401'], `${key} is public`).toBeUndefined();
    }
  });
}

// -------------------------------------------------------------------------------------------------------------------

const DEV_ENV = { PORT: '0', AUTH0_DEV_ISSUER_PORT: '0', NODE_ENV: 'test' };

async function getServedSpec(demo: RunningDemo): Promise<Json> {
  const response = await fetch(`${demo.url}/openapi.json`);
  expect(response.status).toBe(200);
  expect(response.headers.get('content-type')).toMatch(/^application\/json/);
  return (await response.json()) as Json;
}

describe('spec/openapi.json', () => {
  const doc = JSON.parse(readFileSync(join(projectRoot(), 'spec/openapi.json'), 'utf8')) as Json;
  // Built for `npm start` defaults: PORT 3000, so the dev issuer on 3001 (see scripts/build.mjs).
  describeDocument(() => ({ doc, mode: 'allowed', endpoints: () => undefined }));

  describe('compared with what the demo serves (dev-issuer mode, DPoP allowed)', () => {
    let demo: RunningDemo;
    let served: Json;
    beforeAll(async () => {
      demo = await startDemo({ env: { ...DEV_ENV }, quiet: true });
      served = await getServedSpec(demo);
    });
    afterAll(async () => {
      await demo?.close();
    });

    it("its OAuth2 URLs are the default dev issuer's (127.0.0.1:3001) endpoints", () => {
      const flows = doc.components.securitySchemes.auth0.flows as Json;
      const devIssuerOrigin = 'http://127.0.0.1:3001';
      expect(flows.clientCredentials.tokenUrl).toBe(`${devIssuerOrigin}${new URL(demo.issuer!.tokenEndpoint).pathname}`);
      expect(flows.authorizationCode.authorizationUrl).toBe(`${devIssuerOrigin}${new URL(demo.issuer!.authorizationEndpoint).pathname}`);
    });

    it('is the served document, up to the issuer URLs (spec/ is not stale)', () => {
      const normalise = (d: Json) => {
        const copy = structuredClone(d);
        const flows = copy.components.securitySchemes.auth0.flows as Json;
        for (const flow of Object.values(flows) as Json[]) {
          if ('tokenUrl' in flow) flow.tokenUrl = '<token>';
          if ('authorizationUrl' in flow) flow.authorizationUrl = '<authorize>';
        }
        return copy;
      };
      expect(normalise(doc)).toEqual(normalise(served));
    });
  });
});

describe.each(MODES)('GET /openapi.json in dev-issuer mode, AUTH0_DPOP=%s', (mode) => {
  let demo: RunningDemo;
  let doc: Json;
  let discovery: Json;
  beforeAll(async () => {
    demo = await startDemo({ env: { ...DEV_ENV, AUTH0_DPOP: mode }, quiet: true });
    doc = await getServedSpec(demo);
    discovery = (await (await fetch(demo.issuer!.discoveryUrl)).json()) as Json;
  });
  afterAll(async () => {
    await demo?.close();
  });

  it("the dev issuer's endpoints are the ones its discovery document reports", () => {
    expect(demo.issuer!.tokenEndpoint).toBe(discovery.token_endpoint);
    expect(demo.issuer!.authorizationEndpoint).toBe(discovery.authorization_endpoint);
  });

  describeDocument(() => ({
    doc,
    mode,
    endpoints: () => ({ tokenUrl: demo.issuer!.tokenEndpoint, authorizationUrl: demo.issuer!.authorizationEndpoint }),
  }));
});

describe('GET /openapi.json with AUTH0_DOMAIN (loopback http test issuer)', () => {
  let issuer: TestIssuer;
  beforeAll(async () => {
    issuer = await TestIssuer.start();
  });
  afterAll(async () => {
    await issuer?.close();
  });

  describe.each(MODES)('AUTH0_DPOP=%s', (mode) => {
    let demo: RunningDemo;
    let doc: Json;
    beforeAll(async () => {
      demo = await startTestDemo({ AUTH0_DOMAIN: issuer.origin, AUTH0_DPOP: mode });
      doc = await getServedSpec(demo);
    });
    afterAll(async () => {
      await demo?.close();
    });

    describeDocument(() => ({
      doc,
      mode,
      endpoints: () => ({ tokenUrl: `${issuer.origin}/oauth/token`, authorizationUrl: `${issuer.origin}/authorize` }),
    }));
  });
});
