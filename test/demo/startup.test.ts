/**
 * Start-up of the built demo as a user runs it (`node build/dist/src/demo/server.js`): a bad environment stops the
 * process with a non-zero exit and ONE line naming the variable; a good one prints the listening line and serves
 * within 5 s.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TestIssuer } from '../support/test-issuer.js';
import { CLI } from '../dev/cli-support.js';
import { readConfig } from '../../src/demo/config.js';
import { ConfigurationError } from '../../src/core/index.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const SERVER = 'build/dist/src/demo/server.js';
const AUDIENCE = 'https://api.example.com';

let issuer: TestIssuer;
const children: ChildProcess[] = [];

beforeAll(async () => {
  // No-op when the build is up to date (npm test builds first); builds when run alone after a change.
  execFileSync(process.execPath, ['scripts/build.mjs'], { cwd: ROOT, stdio: 'pipe' });
  expect(existsSync(`${ROOT}/${SERVER}`)).toBe(true);
  issuer = await TestIssuer.start();
}, 120_000);
afterAll(async () => {
  for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
  await issuer?.close();
});

/** A clean environment: only what the shell would give, plus the variables under test (no inherited AUTH0_*). */
function cleanEnv(vars: Record<string, string>): NodeJS.ProcessEnv {
  return { PATH: process.env.PATH, HOME: process.env.HOME, HOST: '127.0.0.1', PORT: '0', ...vars };
}

function start(vars: Record<string, string>): { child: ChildProcess; stdout: () => string; stderr: () => string } {
  const child = spawn(process.execPath, [SERVER], { cwd: ROOT, env: cleanEnv(vars), stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  let out = '';
  let err = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
  return { child, stdout: () => out, stderr: () => err };
}

describe('a bad environment stops the process with one line naming the variable', () => {
  // Spawned concurrently: each process loads the whole demo before it reads its configuration.
  it.concurrent.each([
    ['AUTH0_DOMAIN with a path', { AUTH0_DOMAIN: 'https://tenant.us.auth0.com/api', AUTH0_AUDIENCE: AUDIENCE }, 'AUTH0_DOMAIN'],
    ['AUTH0_DOMAIN with http:// for a public host', { AUTH0_DOMAIN: 'http://tenant.us.auth0.com', AUTH0_AUDIENCE: AUDIENCE }, 'AUTH0_DOMAIN'],
    ['AUTH0_DOMAIN set but no AUTH0_AUDIENCE', { AUTH0_DOMAIN: 'tenant.us.auth0.com' }, 'AUTH0_AUDIENCE'],
    ['NODE_ENV=production and no domain', { NODE_ENV: 'production', AUTH0_AUDIENCE: AUDIENCE }, 'AUTH0_DOMAIN'],
    ['an unknown DEMO_FRAMEWORK', { DEMO_FRAMEWORK: 'fastify', AUTH0_DOMAIN: 'tenant.us.auth0.com', AUTH0_AUDIENCE: AUDIENCE }, 'DEMO_FRAMEWORK'],
    ['an AUTH0_TRUST_PROXY that is not an address', { AUTH0_TRUST_PROXY: '10.0.0.0/33', DEMO_FRAMEWORK: 'koa', AUTH0_DOMAIN: 'tenant.us.auth0.com', AUTH0_AUDIENCE: AUDIENCE }, 'AUTH0_TRUST_PROXY'],
    ['an AUTH0_TRUST_PROXY that is not an address (hapi)', { AUTH0_TRUST_PROXY: '10.0.0.0/33', DEMO_FRAMEWORK: 'hapi', AUTH0_DOMAIN: 'tenant.us.auth0.com', AUTH0_AUDIENCE: AUDIENCE }, 'AUTH0_TRUST_PROXY'],
  ])('%s', async (_what, vars, variable) => {
    const run = start(vars);
    const [code] = (await once(run.child, 'close')) as [number | null];
    expect(code).not.toBe(0);
    expect(code).not.toBeNull();
    const lines = run.stderr().trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain(`"${variable}"`);
    expect(lines[0]).not.toMatch(/\bat \S+:\d+|Error:/); // no stack trace
    expect(run.stdout()).not.toMatch(/listening/);
  });
});

describe('readConfig names the variable and the fix (in process)', () => {
  const domain = { AUTH0_DOMAIN: 'tenant.us.auth0.com', AUTH0_AUDIENCE: AUDIENCE };
  it.each([
    ['AUTH0_DOMAIN with a path', { ...domain, AUTH0_DOMAIN: 'tenant.us.auth0.com/api' }, 'AUTH0_DOMAIN', /has a path; use the bare host/],
    ['AUTH0_DOMAIN with http:// for a public host', { ...domain, AUTH0_DOMAIN: 'http://tenant.us.auth0.com' }, 'AUTH0_DOMAIN', /use https:\/\//],
    ['AUTH0_DOMAIN with credentials', { ...domain, AUTH0_DOMAIN: 'https://u:p@tenant.us.auth0.com' }, 'AUTH0_DOMAIN', /credentials/],
    ['AUTH0_DOMAIN with a query', { ...domain, AUTH0_DOMAIN: 'tenant.us.auth0.com?x=1' }, 'AUTH0_DOMAIN', /query/],
    ['no AUTH0_AUDIENCE', { AUTH0_DOMAIN: 'tenant.us.auth0.com' }, 'AUTH0_AUDIENCE', /required when a domain is set/],
    ['AUTH0_AUDIENCE left as "undefined"', { ...domain, AUTH0_AUDIENCE: 'undefined' }, 'AUTH0_AUDIENCE', /required when a domain is set/],
    ['production without a domain', { NODE_ENV: 'production' }, 'AUTH0_DOMAIN', /required when NODE_ENV is "production" .*: set AUTH0_DOMAIN/],
    ['a bad AUTH0_DOMAINS entry', { AUTH0_DOMAINS: 'a.example.com,http://b.example.com', AUTH0_AUDIENCE: AUDIENCE }, 'AUTH0_DOMAINS', /use https:\/\//],
    ['an empty AUTH0_DOMAINS list', { AUTH0_DOMAINS: ' , ', AUTH0_AUDIENCE: AUDIENCE }, 'AUTH0_DOMAINS', /comma-separated list/],
    ['an unknown AUTH0_DPOP mode', { ...domain, AUTH0_DPOP: 'sometimes' }, 'AUTH0_DPOP', /allowed, required, disabled/],
    ['an unknown AUTH0_SCOPE_CLAIM', { ...domain, AUTH0_SCOPE_CLAIM: 'roles' }, 'AUTH0_SCOPE_CLAIM', /scope, permissions, scope,permissions/],
    ['AUTH0_STRICT not a boolean', { ...domain, AUTH0_STRICT: 'maybe' }, 'AUTH0_STRICT', /true or false/],
    ['AUTH0_DPOP_NONCE not a boolean', { ...domain, AUTH0_DPOP_NONCE: 'on' }, 'AUTH0_DPOP_NONCE', /true or false/],
    ['AUTH0_PUBLIC_URL not a URL', { ...domain, AUTH0_PUBLIC_URL: 'api.example.com' }, 'AUTH0_PUBLIC_URL', /not an absolute URL/],
    ['AUTH0_PUBLIC_URL with a query', { ...domain, AUTH0_PUBLIC_URL: 'https://api.example.com/?a=1' }, 'AUTH0_PUBLIC_URL', /query/],
    ['PORT not a number', { ...domain, PORT: 'http' }, 'PORT', /port number/],
    ['PORT out of range', { ...domain, PORT: '70000' }, 'PORT', /port number/],
    ['an unknown DEMO_FRAMEWORK', { ...domain, DEMO_FRAMEWORK: 'Koa ' }, 'DEMO_FRAMEWORK', /express, koa, hapi/],
    ['an AUTH0_TRUST_PROXY Express would refuse', { ...domain, AUTH0_TRUST_PROXY: 'loopback, nowhere' }, 'AUTH0_TRUST_PROXY', /invalid IP address: nowhere; use true, false, a hop count/],
  ])('%s', (_what, env, variable, fix) => {
    let error: unknown;
    try {
      readConfig(env);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigurationError);
    const message = (error as ConfigurationError).message;
    expect(message).toContain(`"${variable}"`);
    expect(message).toMatch(fix);
    expect(message).not.toMatch(/\n/);
  });

  it('reads a good environment', () => {
    expect(readConfig({ ...domain, AUTH0_STRICT: 'TRUE', AUTH0_SCOPE_CLAIM: 'scope,permissions', PORT: ' ', AUTH0_PUBLIC_URL: 'https://api.example.com/v1' })).toMatchObject({
      domains: ['https://tenant.us.auth0.com'],
      audience: AUDIENCE,
      strict: true,
      scopeClaim: 'scope,permissions',
      port: 3000,
      publicUrl: 'https://api.example.com/v1',
      dpop: 'allowed',
      devIssuer: undefined,
    });
  });
});

describe('a good environment', () => {
  /** Waits for the listening line, then for the first 200 from /api/public; returns the URL and the time taken. */
  async function startAndServe(vars: Record<string, string>): Promise<{ url: string; ms: number; child: ChildProcess }> {
    const began = Date.now();
    const run = start(vars);
    let url: string | undefined;
    while (!url) {
      if (run.child.exitCode !== null) throw new Error(`exited ${run.child.exitCode}: ${run.stderr()}`);
      if (Date.now() - began > 10_000) throw new Error(`no listening line: ${run.stdout()} ${run.stderr()}`);
      url = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(run.stdout())?.[1];
      if (!url) await new Promise((r) => setTimeout(r, 25));
    }
    const response = await fetch(`${url}/api/public`);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ message: expect.any(String) });
    return { url, ms: Date.now() - began, child: run.child };
  }

  it('with AUTH0_DOMAIN and AUTH0_AUDIENCE: listens, serves within 5 s and verifies tokens', async () => {
    const { url, ms, child } = await startAndServe({ AUTH0_DOMAIN: issuer.origin, AUTH0_AUDIENCE: AUDIENCE });
    expect(ms).toBeLessThan(5000);
    const ok = await fetch(`${url}/api/private`, { headers: { authorization: `Bearer ${await issuer.token(AUDIENCE)}` } });
    expect(ok.status).toBe(200);
    expect(await ok.json()).toEqual({ user: 'auth0|user-1' });
    child.kill('SIGTERM');
    const [code] = (await once(child, 'exit')) as [number | null];
    expect(code).toBe(0);
  });

  it.each(['koa', 'hapi'])('DEMO_FRAMEWORK=%s: listens, serves within 5 s and verifies tokens', async (framework) => {
    const { url, ms, child } = await startAndServe({ AUTH0_DOMAIN: issuer.origin, AUTH0_AUDIENCE: AUDIENCE, DEMO_FRAMEWORK: framework });
    expect(ms).toBeLessThan(5000);
    const ok = await fetch(`${url}/api/private`, { headers: { authorization: `Bearer ${await issuer.token(AUDIENCE)}` } });
    expect(await ok.json()).toEqual({ user: 'auth0|user-1' });
    expect((await fetch(`${url}/api/private`)).status).toBe(401);
    child.kill('SIGTERM');
    expect(((await once(child, 'exit')) as [number | null])[0]).toBe(0);
  });

  it('with no domain outside production: starts the development issuer and serves within 5 s', async () => {
    const { ms, child } = await startAndServe({ NODE_ENV: 'development', AUTH0_DEV_ISSUER_PORT: '0' });
    expect(ms).toBeLessThan(5000);
    child.kill('SIGTERM');
    await once(child, 'exit');
  });
});

describe('the development issuer never starts in a production-like setting (docs/decisions.md D16)', () => {
  // NODE_ENV is compared trimmed and ignoring case; production and prod count; an https:// public URL counts too.
  const VARIANTS: [string, Record<string, string>, RegExp][] = [
    ['NODE_ENV="production " (trailing space)', { NODE_ENV: 'production ' }, /NODE_ENV is "production "/],
    ['NODE_ENV=Production', { NODE_ENV: 'Production' }, /NODE_ENV is "Production"/],
    ['NODE_ENV=prod', { NODE_ENV: 'prod' }, /NODE_ENV is "prod"/],
    ['an https:// AUTH0_PUBLIC_URL', { NODE_ENV: 'development', AUTH0_PUBLIC_URL: 'https://api.example.com' }, /AUTH0_PUBLIC_URL is an https:\/\/ URL \(https:\/\/api\.example\.com\)/],
  ];

  /** Exit code and stderr of a process that must stop by itself. */
  async function refused(child: ChildProcess, stderr: () => string, stdout: () => string): Promise<string> {
    // 'close', not 'exit': under load 'exit' can come before the last stderr chunk has been read.
    const [code] = (await once(child, 'close')) as [number | null];
    expect(code).not.toBeNull(); // exited by itself
    expect(code).not.toBe(0);
    const lines = stderr().trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain('AUTH0_DOMAIN');
    expect(lines[0]).not.toMatch(/\bat \S+:\d+|Error:/); // no stack trace
    expect(stdout()).not.toMatch(/listening|AUTH0_DOMAIN=/);
    return lines[0]!;
  }

  it.concurrent.each(VARIANTS)('the demo without a domain refuses with %s: non-zero exit, one line naming AUTH0_DOMAIN', async (_what, vars, reason) => {
    const run = start({ AUTH0_DEV_ISSUER_PORT: '0', ...vars });
    const line = await refused(run.child, run.stderr, run.stdout);
    expect(line).toContain('"AUTH0_DOMAIN"');
    expect(line).toMatch(reason);
  });

  it.concurrent.each(VARIANTS)('npx auth0-tsoa-api dev refuses with %s: non-zero exit, one line naming AUTH0_DOMAIN', async (_what, vars, reason) => {
    const child = spawn(process.execPath, [CLI, 'dev', '--port', '0', '--scopes', 'read:messages'], { cwd: ROOT, env: cleanEnv(vars), stdio: ['ignore', 'pipe', 'pipe'] });
    children.push(child);
    let out = '';
    let err = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
    const line = await refused(
      child,
      () => err,
      () => out,
    );
    expect(line).toMatch(reason);
    expect(line).toMatch(/^auth0-tsoa-api: the development issuer does not run when .*: set AUTH0_DOMAIN/);
  });

  it('a real domain in production still starts (only the development issuer is refused)', async () => {
    const run = start({ NODE_ENV: ' Production', AUTH0_DOMAIN: issuer.origin, AUTH0_AUDIENCE: AUDIENCE, AUTH0_PUBLIC_URL: 'https://api.example.com' });
    const began = Date.now();
    while (!/listening on/.test(run.stdout())) {
      if (run.child.exitCode !== null) throw new Error(`exited ${run.child.exitCode}: ${run.stderr()}`);
      if (Date.now() - began > 10_000) throw new Error('no listening line');
      await new Promise((r) => setTimeout(r, 25));
    }
    run.child.kill('SIGTERM');
    await once(run.child, 'exit');
  });
});

describe('the demo loads the development issuer and ioredis only when used', () => {
  /** Starts the built demo in a fresh process with `env`, and reports which optional packages got loaded. */
  function probe(env: Record<string, string>): { oidcProvider: boolean; ioredis: boolean; typescript: boolean; rssMiB: number } {
    const script = `
      import { createRequire } from 'node:module';
      const require = createRequire(import.meta.url);
      const { startDemo } = await import(${JSON.stringify(`${ROOT}/${SERVER}`)});
      const demo = await startDemo({ env: ${JSON.stringify({ HOST: '127.0.0.1', PORT: '0', ...env })}, quiet: true });
      // oidc-provider is an ES module; its CommonJS dependency koa shows in require.cache once it is loaded.
      const loaded = Object.keys(require.cache);
      const report = { oidcProvider: loaded.some((p) => p.includes('/node_modules/koa/')), ioredis: loaded.some((p) => p.includes('/node_modules/ioredis/')), typescript: loaded.some((p) => p.includes('/node_modules/typescript/')), rssMiB: Math.round(process.memoryUsage().rss / 2 ** 20) };
      await demo.close();
      console.log(JSON.stringify(report));
      process.exit(0);`;
    const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], { cwd: ROOT, env: cleanEnv({}), encoding: 'utf8', timeout: 30_000 });
    return JSON.parse(out.trim().split('\n').pop()!) as { oidcProvider: boolean; ioredis: boolean; typescript: boolean; rssMiB: number };
  }

  it('with a real domain and no Redis: neither oidc-provider nor ioredis is loaded', () => {
    const lean = probe({ AUTH0_DOMAIN: issuer.origin, AUTH0_AUDIENCE: AUDIENCE });
    expect(lean).toMatchObject({ oidcProvider: false, ioredis: false });
    // Controllers import their decorators from @tsoa/runtime: the `tsoa` package would load its CLI and the TypeScript
    // compiler (tens of MB) into the server.
    expect(lean.typescript).toBe(false);
    // The control: the same probe does see them when the demo uses them.
    const full = probe({ NODE_ENV: 'test', AUTH0_DEV_ISSUER_PORT: '0', REDIS_URL: 'redis://127.0.0.1:6379' });
    expect(full).toMatchObject({ oidcProvider: true, ioredis: true });
    console.log(`demo RSS after start: ${lean.rssMiB} MiB with a domain and no Redis, ${full.rssMiB} MiB with the dev issuer and Redis`);
  });
});
