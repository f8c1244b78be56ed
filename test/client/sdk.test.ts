/**
 * Client SDKs against the real demo: a client generated from the spec by @hey-api/openapi-ts (scripts/sdk.mjs),
 * used with Bearer (its auth callback) and with DPoP (heyApiDpopInterceptor), and openapi-fetch with
 * openapiFetchDpopMiddleware. The generated code is imported as it is written, and type-checked together with the
 * helper's adapters.
 */
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { EmbeddedJWK, jwtVerify } from 'jose';
import createOpenapiFetchClient from 'openapi-fetch';
import { createDpopKeyPair, DpopNonceStore, heyApiDpopInterceptor, jwkThumbprint, openapiFetchDpopMiddleware, type DpopKeyPair } from '../../src/client/index.js';
import { TestIssuer } from '../support/test-issuer.js';
import { finalizeSpec } from '../../src/tsoa/index.js';
import { SCOPES } from '../../src/demo/scopes.js';
import { POLICIES } from '../../src/demo/policies.js';
import { AUDIENCE, startTestDemo } from '../support/demo.js';
import type { RunningDemo } from '../../src/demo/server.js';
// @ts-expect-error: a plain .mjs script without type declarations
import { generateSdk } from '../../scripts/sdk.mjs';

const root = fileURLToPath(new URL('../..', import.meta.url));

/* eslint-disable @typescript-eslint/no-explicit-any -- the SDK is generated and imported at run time: its types are unknown here */
type Generated = {
  sdk: Record<string, (options?: any) => Promise<{ data?: any; error?: any; response: Response; request: Request }>>;
  client: { createClient: (config?: any) => any; createConfig: (config?: any) => any };
};
/* eslint-enable @typescript-eslint/no-explicit-any */

/** The demo's paths, in the shape openapi-fetch expects (openapi-typescript is not a dependency here). */
interface Paths {
  '/api/messages': {
    get: { responses: { 200: { content: { 'application/json': { messages: Array<{ id: number; text: string }> } } } } };
  };
  '/api/data': {
    post: {
      requestBody?: { content: { 'application/json': Record<string, unknown> } };
      responses: { 200: { content: { 'application/json': { created: boolean } } } };
    };
  };
}

let outDir: string;
let generated: Generated;
let issuer: TestIssuer;
let demo: RunningDemo;
let nonceDemo: RunningDemo;
let keys: DpopKeyPair;
let jkt: string;

/** fetch that records what went out. */
function recorder() {
  const sent: Array<{ url: string; method: string; authorization: string | null; dpop: string | null; status: number }> = [];
  const fetchFn = async (input: Request) => {
    const response = await fetch(input);
    sent.push({ url: input.url, method: input.method, authorization: input.headers.get('authorization'), dpop: input.headers.get('dpop'), status: response.status });
    return response;
  };
  return { sent, fetch: fetchFn };
}

beforeAll(async () => {
  // Inside the repository (test-artifacts/ is git-ignored) so that the type check below resolves packages.
  await mkdir(join(root, 'test-artifacts'), { recursive: true });
  outDir = await mkdtemp(join(root, 'test-artifacts', 'sdk-'));
  await generateSdk({ input: 'spec/openapi.json', output: join(outDir, 'sdk'), quiet: true });
  generated = {
    sdk: await import(pathToFileURL(join(outDir, 'sdk/sdk.gen.ts')).href),
    client: await import(pathToFileURL(join(outDir, 'sdk/client/index.ts')).href),
  };
  issuer = await TestIssuer.start();
  demo = await startTestDemo({ AUTH0_DOMAIN: issuer.origin });
  nonceDemo = await startTestDemo({ AUTH0_DOMAIN: issuer.origin, AUTH0_DPOP_NONCE: 'true' });
  keys = await createDpopKeyPair();
  jkt = await jwkThumbprint(keys);
}, 120_000);

afterAll(async () => {
  await demo?.close();
  await nonceDemo?.close();
  await issuer?.close();
  if (outDir) await rm(outDir, { recursive: true, force: true });
});

describe('@hey-api/openapi-ts 0.95 generated client', () => {
  it('is self-contained: the fetch client is bundled into the output, imports end in .js', async () => {
    const sdkSource = await readFile(join(outDir, 'sdk/sdk.gen.ts'), 'utf8');
    expect(sdkSource).toContain("from './client.gen.js'");
    expect(sdkSource).not.toMatch(/from '@hey-api\//);
    // DPoP is dropped by the generator, Bearer kept: the reason the interceptor exists.
    expect(sdkSource).toContain("scheme: 'bearer'");
    expect(sdkSource).not.toMatch(/dpop/i);
    expect(Object.keys(generated.sdk)).toEqual(expect.arrayContaining(['getMessages', 'postData', 'getPublic']));
  });

  it('Bearer through the auth callback → 200; a token without the scope → 403', async () => {
    const token = await issuer.token(AUDIENCE, { scope: 'read:messages' });
    const { sent, fetch } = recorder();
    const client = generated.client.createClient(generated.client.createConfig({ baseUrl: demo.url, auth: () => token, fetch }));
    const ok = await generated.sdk.getMessages!({ client });
    expect(ok.response.status).toBe(200);
    expect(ok.data).toEqual({ messages: expect.any(Array) });
    expect(sent[0]!.authorization).toBe(`Bearer ${token}`);

    const noScope = await issuer.token(AUDIENCE, { scope: 'read:data' });
    const denied = await generated.sdk.getMessages!({ client: generated.client.createClient(generated.client.createConfig({ baseUrl: demo.url, auth: () => noScope })) });
    expect(denied.response.status).toBe(403);
    expect(denied.error).toMatchObject({ error: 'insufficient_scope' });
  });

  it('DPoP through heyApiDpopInterceptor → 200, with a proof for the request', async () => {
    const token = await issuer.token(AUDIENCE, { cnf: { jkt }, scope: 'read:messages read:data write:data' });
    const { sent, fetch } = recorder();
    const client = generated.client.createClient(generated.client.createConfig({ baseUrl: demo.url, fetch }));
    const dpop = heyApiDpopInterceptor(keys, () => token);
    client.interceptors.request.use(dpop.request);
    client.interceptors.response.use(dpop.response);

    const messages = await generated.sdk.getMessages!({ client });
    expect(messages.response.status).toBe(200);
    expect(messages.data).toEqual({ messages: expect.any(Array) });
    expect(sent[0]!.authorization).toBe(`DPoP ${token}`);
    const { payload } = await jwtVerify(sent[0]!.dpop!, EmbeddedJWK, { typ: 'dpop+jwt' });
    expect(payload).toMatchObject({ htm: 'GET', htu: `${demo.url}/api/messages` });

    const created = await generated.sdk.postData!({ client, body: { name: 'from the SDK' } });
    expect(created.response.status).toBe(200);
    expect(created.data).toEqual({ created: true });
  });

  it('DPoP replaces the Bearer header the auth callback set', async () => {
    const token = await issuer.token(AUDIENCE, { cnf: { jkt } });
    const { sent, fetch } = recorder();
    const client = generated.client.createClient(generated.client.createConfig({ baseUrl: demo.url, auth: () => token, fetch }));
    client.interceptors.request.use(heyApiDpopInterceptor(keys, () => token).request);
    const result = await generated.sdk.getMessages!({ client });
    expect(result.response.status).toBe(200);
    expect(sent[0]!.authorization).toBe(`DPoP ${token}`);
  });

  it('retries once on use_dpop_nonce (POST body sent again), then reuses the nonce', async () => {
    const token = await issuer.token(AUDIENCE, { cnf: { jkt }, scope: 'read:messages read:data write:data' });
    const { sent, fetch } = recorder();
    const client = generated.client.createClient(generated.client.createConfig({ baseUrl: nonceDemo.url, fetch }));
    const dpop = heyApiDpopInterceptor(keys, async () => token);
    client.interceptors.request.use(dpop.request);
    client.interceptors.response.use(dpop.response);

    const created = await generated.sdk.postData!({ client, body: { name: 'x' } });
    expect(created.response.status).toBe(200);
    expect(created.data).toEqual({ created: true });
    expect(sent.map((s) => s.status)).toEqual([401, 200]);
    const messages = await generated.sdk.getMessages!({ client });
    expect(messages.response.status).toBe(200);
    expect(sent.map((s) => s.status)).toEqual([401, 200, 200]);
  });
});

describe('@hey-api/openapi-ts from an OpenAPI 3.1 document (tsoa 7.0.0-alpha.0, completed by finalizeSpec)', () => {
  let sdk31: Generated;

  beforeAll(async () => {
    const raw = JSON.parse(await readFile(join(root, 'test/tsoa/fixtures/demo-openapi-3.1.json'), 'utf8')) as Record<string, unknown>;
    const completed = finalizeSpec(raw, { scopes: SCOPES, policies: POLICIES });
    expect(completed.openapi).toBe('3.1.0');
    await writeFile(join(outDir, 'openapi-3.1.json'), JSON.stringify(completed));
    await generateSdk({ input: join(outDir, 'openapi-3.1.json'), output: join(outDir, 'sdk31'), quiet: true });
    sdk31 = {
      sdk: await import(pathToFileURL(join(outDir, 'sdk31/sdk.gen.ts')).href),
      client: await import(pathToFileURL(join(outDir, 'sdk31/client/index.ts')).href),
    };
  }, 120_000);

  it('generates the operations with Bearer auth (scopes on the http schemes do not confuse it)', async () => {
    const source = await readFile(join(outDir, 'sdk31/sdk.gen.ts'), 'utf8');
    expect(source).toContain("scheme: 'bearer'");
    expect(Object.keys(sdk31.sdk)).toEqual(expect.arrayContaining(['getMessages', 'postData', 'getPublic']));
  });

  it('Bearer through the auth callback → 200; DPoP through heyApiDpopInterceptor → 200', async () => {
    const bearer = await issuer.token(AUDIENCE, { scope: 'read:messages' });
    const ok = await sdk31.sdk.getMessages!({ client: sdk31.client.createClient(sdk31.client.createConfig({ baseUrl: demo.url, auth: () => bearer })) });
    expect(ok.response.status).toBe(200);
    expect(ok.data).toEqual({ messages: expect.any(Array) });

    const token = await issuer.token(AUDIENCE, { cnf: { jkt }, scope: 'read:data write:data' });
    const { sent, fetch } = recorder();
    const client = sdk31.client.createClient(sdk31.client.createConfig({ baseUrl: demo.url, fetch }));
    const dpop = heyApiDpopInterceptor(keys, () => token);
    client.interceptors.request.use(dpop.request);
    client.interceptors.response.use(dpop.response);
    const created = await sdk31.sdk.postData!({ client, body: { name: 'from the 3.1 SDK' } });
    expect(created.response.status).toBe(200);
    expect(sent[0]!.authorization).toBe(`DPoP ${token}`);
  });
});

describe('openapi-fetch 0.17', () => {
  it('DPoP through openapiFetchDpopMiddleware → 200', async () => {
    const token = await issuer.token(AUDIENCE, { cnf: { jkt } });
    const { sent, fetch } = recorder();
    const client = createOpenapiFetchClient<Paths>({ baseUrl: demo.url, fetch });
    client.use(openapiFetchDpopMiddleware(keys, () => token));
    const { data, response } = await client.GET('/api/messages');
    expect(response.status).toBe(200);
    expect(data).toEqual({ messages: expect.any(Array) });
    expect(sent[0]!.authorization).toBe(`DPoP ${token}`);
    expect(sent[0]!.dpop).toEqual(expect.any(String));
  });

  it('retries once on use_dpop_nonce through the client’s fetch; the nonce is shared through a DpopNonceStore', async () => {
    const token = await issuer.token(AUDIENCE, { cnf: { jkt }, scope: 'read:messages read:data write:data' });
    const { sent, fetch } = recorder();
    const nonces = new DpopNonceStore();
    const client = createOpenapiFetchClient<Paths>({ baseUrl: nonceDemo.url, fetch });
    client.use(openapiFetchDpopMiddleware(keys, () => token, { nonces }));
    const { data, response } = await client.POST('/api/data', { body: { name: 'y' } });
    expect(response.status).toBe(200);
    expect(data).toEqual({ created: true });
    expect(sent.map((s) => s.status)).toEqual([401, 200]);
    expect(nonces.get(nonceDemo.url)).toEqual(expect.any(String));
  });

  it('a wrong key is refused: the proof really is checked', async () => {
    const token = await issuer.token(AUDIENCE, { cnf: { jkt } });
    const client = createOpenapiFetchClient<Paths>({ baseUrl: demo.url });
    client.use(openapiFetchDpopMiddleware(await createDpopKeyPair(), () => token));
    const { response, error } = await client.GET('/api/messages');
    expect(response.status).toBe(401);
    expect(error).toMatchObject({ error: 'invalid_token' });
  });
});

describe('types', () => {
  it('the adapters type-check against the generated client and openapi-fetch (tsc, strict)', async () => {
    const clientIndex = join(root, 'src/client/index.js').replace(/\\/g, '/');
    await writeFile(
      join(outDir, 'usage.ts'),
      `import createClient from 'openapi-fetch';
import { client } from './sdk/client.gen.js';
import { createClient as createHeyClient, createConfig } from './sdk/client/index.js';
import { getMessages } from './sdk/sdk.gen.js';
import { createDpopKeyPair, heyApiDpopInterceptor, openapiFetchDpopMiddleware } from '${clientIndex}';

export async function run(token: string): Promise<unknown> {
  const keys = await createDpopKeyPair();
  const dpop = heyApiDpopInterceptor(keys, () => token);
  client.interceptors.request.use(dpop.request);
  client.interceptors.response.use(dpop.response);
  const other = createHeyClient(createConfig({ baseUrl: 'http://127.0.0.1:3000', auth: () => token }));
  other.interceptors.request.use(dpop.request);
  const result = await getMessages({ client: other });
  const messages: Array<{ id: number; text: string }> | undefined = result.data?.messages;
  const api = createClient<Record<string, never>>({ baseUrl: 'http://127.0.0.1:3000' });
  api.use(openapiFetchDpopMiddleware(keys, async () => token));
  return messages;
}
`,
    );
    await writeFile(
      join(outDir, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          target: 'ES2022',
          module: 'NodeNext',
          moduleResolution: 'NodeNext',
          lib: ['ES2023', 'DOM', 'DOM.Iterable'],
          strict: true,
          noEmit: true,
          skipLibCheck: true,
          types: [],
        },
        files: ['usage.ts'],
      }),
    );
    const tsc = join(root, 'node_modules/.bin/tsc');
    const result = await promisify(execFile)(tsc, ['-p', join(outDir, 'tsconfig.json')], { cwd: outDir }).catch((e: { stdout: string; stderr: string }) => e);
    expect(`${result.stdout}${result.stderr}`).toBe('');
  }, 60_000);
});
