/**
 * Adoption: five fresh apps in temporary folders, made only from README.md's "Use it in your tsoa app" section —
 * on TypeScript 5.9, CommonJS + Express 4 + `moduleResolution: node` (node10) and ES modules + Express 5 + `nodenext`;
 * on TypeScript 7 (no node10 any more), CommonJS and ES modules, both `nodenext`, Express 5; and ES modules + Koa 3
 * and hapi 21 (the README's Koa or hapi files over the shared ones) — install the
 * packed tarball (pinned versions, the shared npm cache), build with tsoa and tsc, start the packaged development
 * issuer with `npx auth0-tsoa-api dev`, get tokens with `npx auth0-tsoa-api token`, and call the app over HTTP.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exec, freePort, npm, packedTarball, PINNED, PINNED_EXPRESS4, PINNED_TYPESCRIPT7, PINNED_KOA, PINNED_HAPI, readmeInstall, readmeSnippets, seconds, startProcess, type Running } from './support.js';

interface AppKind {
  /** Unique per app (folder names, logs). */
  id: string;
  name: string;
  /** The module system the app compiles to. */
  variant: 'cjs' | 'esm';
  /** The README's `tsconfig.json (…)` variant it uses. */
  tsconfig: 'cjs' | 'cjs-node10' | 'esm';
  /** A framework other than Express: its README files (`(koa)`) replace the shared ones, its install line is used. */
  framework?: 'koa' | 'hapi';
  pins: Record<string, string>;
}

const TS7 = { typescript: PINNED_TYPESCRIPT7 };

const ALL_APPS: AppKind[] = [
  { id: 'cjs-ts5', name: 'CommonJS + Express 4 + TypeScript 5.9 + moduleResolution node (node10)', variant: 'cjs', tsconfig: 'cjs-node10', pins: { ...PINNED, ...PINNED_EXPRESS4 } },
  { id: 'esm-ts5', name: 'ES modules + Express 5 + TypeScript 5.9 + moduleResolution nodenext', variant: 'esm', tsconfig: 'esm', pins: PINNED },
  { id: 'cjs-ts7', name: 'CommonJS + Express 5 + TypeScript 7 + moduleResolution nodenext', variant: 'cjs', tsconfig: 'cjs', pins: { ...PINNED, ...TS7 } },
  { id: 'esm-ts7', name: 'ES modules + Express 5 + TypeScript 7 + moduleResolution nodenext', variant: 'esm', tsconfig: 'esm', pins: { ...PINNED, ...TS7 } },
  { id: 'koa', name: 'ES modules + Koa 3 (tsoa middleware koa)', variant: 'esm', tsconfig: 'esm', framework: 'koa', pins: { ...PINNED, ...PINNED_KOA } },
  { id: 'hapi', name: 'ES modules + hapi 21 (tsoa middleware hapi)', variant: 'esm', tsconfig: 'esm', framework: 'hapi', pins: { ...PINNED, ...PINNED_HAPI } },
];
/** ADOPTION_APPS=koa,hapi runs only those apps (a developer's quick check); CI runs them all. */
const APPS = ALL_APPS.filter((kind) => !process.env.ADOPTION_APPS || process.env.ADOPTION_APPS.split(',').includes(kind.id));

/** What a shell gives a user: no inherited AUTH0_* or NODE_ENV from the test runner. */
const shellEnv = (): NodeJS.ProcessEnv => ({ PATH: process.env.PATH, HOME: process.env.HOME });

describe('the README install line', () => {
  it('installs swagger-ui-express (Swagger UI) and not jose; the tsoa CLI and oidc-provider only for development', () => {
    const { dependencies, devDependencies } = readmeInstall();
    expect(dependencies).toEqual(expect.arrayContaining(['express', '@tsoa/runtime', 'swagger-ui-express']));
    // `tsoa` re-exports its CLI, which loads the TypeScript compiler (tens of MB) into the server: build time only.
    expect(devDependencies).toContain('tsoa');
    expect(dependencies).not.toContain('tsoa');
    expect([...dependencies, ...devDependencies]).not.toContain('jose');
    expect(devDependencies).toContain('oidc-provider');
    expect(dependencies).not.toContain('oidc-provider');
  });
});

/** One app, built and running: its folder, the packaged issuer and the app's processes, tokens and timings. */
interface AppRun {
  dir: string;
  dev: Running;
  app: Running;
  domain: string;
  audience: string;
  url: string;
  readToken: string;
  writeOnlyToken: string;
  readWriteToken: string;
  timings: Record<string, number>;
}

/** Makes, installs, builds and starts one app the README's way; stops what it started if a step fails. */
async function setUpApp(kind: AppKind): Promise<AppRun> {
  const timings: Record<string, number> = {};
  const began = Date.now();
  const tarball = await packedTarball();
  timings.pack = seconds(began);
  const dir = mkdtempSync(join(tmpdir(), `adoption-${kind.id}-`));
  made.push(dir);

  // The README's files for this kind of app: tsconfig.json in the kind's variant, other variant files by module system.
  // A framework's files come after the shared ones in the README, so they replace them.
  const snippets = readmeSnippets().filter((s) =>
    s.path === 'tsconfig.json' ? s.variant === kind.tsconfig : s.variant === undefined || s.variant === kind.variant || (kind.framework !== undefined && s.variant === kind.framework) || s.path === 'package.json',
  );
  let scripts: Record<string, string> = {};
  for (const snippet of snippets) {
    if (snippet.path === 'package.json') {
      scripts = (JSON.parse(snippet.code) as { scripts: Record<string, string> }).scripts;
      continue;
    }
    mkdirSync(dirname(join(dir, snippet.path)), { recursive: true });
    writeFileSync(join(dir, snippet.path), snippet.code);
  }
  const { dependencies, devDependencies } = readmeInstall(kind.framework);
  const pin = (name: string) => {
    const version = kind.pins[name];
    if (!version) throw new Error(`the README installs ${name}: pin its version in test/adoption/support.ts`);
    return [name, version];
  };
  writeFileSync(
    join(dir, 'package.json'),
    JSON.stringify(
      {
        name: `adoption-${kind.id}`,
        version: '1.0.0',
        private: true,
        ...(kind.variant === 'esm' ? { type: 'module' } : {}),
        scripts,
        dependencies: { 'auth0-tsoa-api': `file:${tarball}`, ...Object.fromEntries(dependencies.map(pin)) },
        devDependencies: Object.fromEntries(devDependencies.map(pin)),
      },
      null,
      2,
    ),
  );

  let step = Date.now();
  await npm(['install'], dir);
  timings.install = seconds(step);

  step = Date.now();
  await exec('npm', ['run', 'build'], { cwd: dir, env: shellEnv() });
  timings.build = seconds(step);

  // `npx auth0-tsoa-api dev` as the README says (a free port here, so runs never collide), then .env from its lines.
  step = Date.now();
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const dev = startProcess('npx', ['auth0-tsoa-api', 'dev', '--port', '0', '--origin', url], { cwd: dir, env: shellEnv() });
  started.push(dev);
  const domain = (await dev.waitFor(/^AUTH0_DOMAIN=(\S+)$/m))[1]!;
  const audience = (await dev.waitFor(/^AUTH0_AUDIENCE=(\S+)$/m))[1]!;
  await dev.waitFor(/curl/);
  writeFileSync(join(dir, '.env'), `AUTH0_DOMAIN=${domain}\nAUTH0_AUDIENCE=${audience}\nPORT=${port}\n`);
  const token = async (scope: string) => (await exec('npx', ['auth0-tsoa-api', 'token', '--issuer', domain, '--scope', scope], { cwd: dir, env: shellEnv() })).trim();
  const [readToken, writeOnlyToken, readWriteToken] = await Promise.all([token('read:messages'), token('write:messages'), token('read:messages write:messages')]);
  timings.devAndTokens = seconds(step);

  // `npm start`'s command line, run directly so the test stops the very process it started.
  step = Date.now();
  const [command, ...args] = scripts.start!.split(' ');
  if (command !== 'node') throw new Error(`the README's start script should run node, got ${scripts.start}`);
  const app = startProcess(process.execPath, args, { cwd: dir, env: shellEnv() });
  started.push(app);
  await app.waitFor(/listening on/);
  timings.start = seconds(step);
  timings.total = seconds(began);
  return { dir, dev, app, domain, audience, url, readToken, writeOnlyToken, readWriteToken, timings };
}

const made: string[] = [];
const started: Running[] = [];
const runs = new Map<string, Promise<AppRun>>();

// Both apps are set up at once (npm and tsc wait on different things), each test then awaits its own.
beforeAll(async () => {
  const began = Date.now();
  for (const kind of APPS) runs.set(kind.id, setUpApp(kind));
  const settled = await Promise.allSettled(runs.values());
  for (const [index, result] of settled.entries()) {
    if (result.status === 'fulfilled') {
      const t = result.value.timings;
      console.log(
        `adoption ${APPS[index]!.id}: ${Object.entries(t)
          .map(([k, v]) => `${k} ${v} s`)
          .join(', ')}`,
      );
    }
  }
  console.log(`adoption: ${APPS.length} apps ready in ${seconds(began)} s`);
}, 900_000);

afterAll(async () => {
  await Promise.all(started.map((process) => process.stop()));
  for (const dir of made) rmSync(dir, { recursive: true, force: true });
});

describe.each(APPS)('a fresh $name app from the README', (kind) => {
  let dir: string;
  let domain: string;
  let url: string;
  let readToken: string;
  let writeOnlyToken: string;
  let readWriteToken: string;

  beforeAll(async () => {
    ({ dir, domain, url, readToken, writeOnlyToken, readWriteToken } = await runs.get(kind.id)!);
  });

  const call = (path: string, token?: string, init: RequestInit = {}) => fetch(`${url}${path}`, { ...init, headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(init.headers as Record<string, string>) } });

  it(`compiles with TypeScript ${kind.pins.typescript} (the app's tsc) while the tsoa CLI uses the TypeScript 5 it depends on`, async () => {
    const appTsc = await exec(process.execPath, [join(dir, 'node_modules/typescript/bin/tsc'), '--version'], { cwd: dir });
    expect(appTsc.trim()).toBe(`Version ${kind.pins.typescript}`);
    // The TypeScript the tsoa CLI resolves from its own folder (a nested copy when the app has 7).
    const cliTs = await exec(process.execPath, ['-p', "require(require.resolve('typescript/package.json', { paths: [require.resolve('@tsoa/cli/package.json')] })).version"], { cwd: dir });
    expect(cliTs.trim()).toMatch(/^5\./);
  });

  it(`runs the package's ${kind.variant === 'cjs' ? 'CommonJS' : 'ES module'} build`, async () => {
    const resolved =
      kind.variant === 'cjs'
        ? await exec(process.execPath, ['-p', "require.resolve('auth0-tsoa-api/tsoa')"], { cwd: dir })
        : await exec(process.execPath, ['--input-type=module', '-e', "console.log(import.meta.resolve('auth0-tsoa-api/tsoa'))"], { cwd: dir });
    expect(resolved).toContain(`/node_modules/auth0-tsoa-api/build/lib/${kind.variant}/tsoa/index.js`);
    const compiled = readFileSync(join(dir, 'dist/src/app.js'), 'utf8');
    if (kind.variant === 'cjs') expect(compiled).toMatch(/require\("auth0-tsoa-api"\)/);
    else expect(compiled).toMatch(kind.framework ? new RegExp(`from 'auth0-tsoa-api/${kind.framework}'`) : /from 'auth0-tsoa-api'/);
  });

  it('no token → 401 unauthorized with a Bearer challenge', async () => {
    const response = await call('/api/messages');
    expect(response.status).toBe(401);
    expect(await response.json()).toMatchObject({ error: 'unauthorized' });
    expect(response.headers.get('www-authenticate')).toMatch(/^Bearer /);
  });

  it('a token with read:messages → 200, with the claims from getAuth', async () => {
    const response = await call('/api/messages', readToken);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ messages: ['Hello'], for: 'demo-client' });
  });

  it('a token without read:messages → 403 insufficient_scope naming the scope', async () => {
    const response = await call('/api/messages', writeOnlyToken);
    expect(response.status).toBe(403);
    expect(await response.json()).toMatchObject({ error: 'insufficient_scope' });
    expect(response.headers.get('www-authenticate')).toMatch(/error="insufficient_scope".*scope="read:messages"/);
  });

  it('POST needs both scopes: 200 with both, 403 with read:messages only', async () => {
    const post = (token: string) => call('/api/messages', token, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ text: 'hi' }) });
    const both = await post(readWriteToken);
    expect(both.status).toBe(200);
    expect(await both.json()).toEqual({ created: 'hi' });
    const readOnly = await post(readToken);
    expect(readOnly.status).toBe(403);
    expect(readOnly.headers.get('www-authenticate')).toMatch(/scope="read:messages write:messages"/);
  });

  it('a public route needs no token', async () => {
    const response = await call('/api/public');
    expect(response.status).toBe(200);
  });

  it("the generated spec's security: tsoa's per-operation scopes, completed with Bearer and DPoP and the issuer's endpoints", async () => {
    const generated = JSON.parse(readFileSync(join(dir, 'build/swagger.json'), 'utf8')) as { paths: Record<string, Record<string, { security?: unknown }>> };
    expect(generated.paths['/api/messages']!.get!.security).toEqual([{ auth0: ['read:messages'] }]);
    expect(generated.paths['/api/messages']!.post!.security).toEqual([{ auth0: ['read:messages', 'write:messages'] }]);

    const served = (await (await call('/openapi.json')).json()) as {
      paths: Record<string, Record<string, { security?: unknown }>>;
      components: { securitySchemes: Record<string, { type: string; scheme?: string; flows?: Record<string, { tokenUrl?: string; authorizationUrl?: string; scopes?: unknown }> }> };
    };
    expect(served.paths['/api/messages']!.get!.security).toEqual([{ auth0: ['read:messages'] }, { bearer: [] }, { dpop: [] }]);
    expect(served.paths['/api/public']!.get!.security ?? []).toEqual([]); // no requirement: anonymous
    const { auth0, bearer, dpop } = served.components.securitySchemes;
    expect(bearer).toMatchObject({ type: 'http', scheme: 'bearer' });
    expect(dpop).toMatchObject({ type: 'http', scheme: 'DPoP' });
    expect(auth0!.flows!.clientCredentials).toEqual({
      tokenUrl: `${domain}/oauth/token`,
      scopes: { 'read:messages': 'Read messages', 'write:messages': 'Write messages' },
    });
    expect(auth0!.flows!.authorizationCode!.authorizationUrl).toBe(`${domain}/authorize`);
  });

  it('the spec URLs are the packaged issuer’s real endpoints', async () => {
    const discovery = (await (await fetch(`${domain}/.well-known/openid-configuration`)).json()) as Record<string, string>;
    expect(discovery.token_endpoint).toBe(`${domain}/oauth/token`);
    expect(discovery.authorization_endpoint).toBe(`${domain}/authorize`);
    const metadata = (await (await call('/.well-known/oauth-protected-resource')).json()) as { authorization_servers: string[] };
    expect(metadata.authorization_servers).toEqual([`${domain}/`]);
  });

  // Only ES-module apps have the snippet (it uses top-level await): defined, not skipped, for them alone.
  if (kind.variant === 'esm')
    it('the README’s "from code" snippet starts an issuer, gets a token and stops', async () => {
      const out = await exec(process.execPath, ['dist/src/dev-token.js'], { cwd: dir, env: shellEnv(), timeout: 30_000 });
      const token = /^Authorization: Bearer (\S+)$/m.exec(out)?.[1];
      expect(token).toBeDefined();
      const claims = JSON.parse(Buffer.from(token!.split('.')[1]!, 'base64url').toString('utf8')) as Record<string, unknown>;
      expect(claims).toMatchObject({ aud: 'https://api.example.com', scope: 'read:messages', sub: 'demo-client' });
    });

  it('Swagger UI is served at /docs with the package’s DPoP plugin', async () => {
    const page = await call('/docs/');
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('swagger-ui');
    const plugin = await call('/docs/auth0-tsoa-api/swagger-dpop-plugin.js');
    expect(plugin.status).toBe(200);
    const helper = await call('/docs/auth0-tsoa-api/dpop.js');
    expect(helper.status).toBe(200);
    expect(await helper.text()).toMatch(/^export /m); // the ES module browsers import, also for a CommonJS app
  });
});
