/**
 * runCommand (src/dev/commands.ts), in process: the help texts, every mistake as one line on stderr with exit 1
 * (bad options, conflicting options, specs, a taken port, no issuer), the token request the shared options describe,
 * and where `dev` keeps its signing key. The built bin, run as a user runs it, is tested in ./cli.test.ts and
 * ./cli-step-up.test.ts.
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer, type IncomingMessage } from 'node:http';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCommand } from '../../src/dev/commands.js';
import { cleanEnv, ROOT, type Finished } from './cli-support.js';

const temp = mkdtempSync(join(tmpdir(), 'auth0-tsoa-api-commands-'));
afterAll(() => rmSync(temp, { recursive: true, force: true }));

/** Runs `auth0-tsoa-api <args>` in process, as ./cli-support.ts's runCli runs the bin: same defaults (cwd, clean env). */
async function runCli(args: string[], options: { env?: NodeJS.ProcessEnv; cwd?: string; stopped?: Promise<void> } = {}): Promise<Finished> {
  let stdout = '';
  let stderr = '';
  const code = await runCommand(args, {
    cwd: options.cwd ?? ROOT,
    env: options.env ?? cleanEnv(),
    stdout: (text) => void (stdout += text),
    stderr: (text) => void (stderr += text),
    stopped: options.stopped ?? Promise.resolve(),
  });
  return { code, stdout, stderr };
}

/** A port nothing listens on. */
async function closedPort(): Promise<number> {
  const closed = createServer();
  await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
  const port = (closed.address() as { port: number }).port;
  await new Promise<void>((resolve) => closed.close(() => resolve()));
  return port;
}

describe('--help', () => {
  it.each([
    [['--help'], ['dev', 'token', 'setup']],
    [
      ['dev', '--help'],
      ['--port N', '--audience URL', '--scopes "a b c"', '--spec openapi.json', '--origin URL', '--client-id ID', '--client-secret SECRET', '--org ID[:NAME]'],
    ],
    [
      ['token', '--help'],
      ['--issuer URL', '--audience URL', '--scope "a b"', '--client-id ID', '--client-secret SECRET', '--org'],
    ],
    [
      ['setup', '--help'],
      ['--audience URL', '--spec openapi.json', 'Auth0 CLI'],
    ],
  ])('auth0-tsoa-api %j lists its options and exits 0', async (args, expected) => {
    const run = await runCli(args);
    expect(run.code).toBe(0);
    for (const text of expected) expect(run.stdout).toContain(text);
    expect(run.stderr).toBe('');
  });

  it('without a command: the usage on stderr, exit 1', async () => {
    const run = await runCli([]);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('Usage: npx auth0-tsoa-api <command>');
  });

  it('help and -h: the usage on stdout, exit 0; call --help lists its own options', async () => {
    for (const args of [['help'], ['-h']]) {
      const run = await runCli(args);
      expect(run.code).toBe(0);
      expect(run.stdout).toContain('Usage: npx auth0-tsoa-api <command>');
    }
    const call = await runCli(['call', '--help']);
    expect(call.code).toBe(0);
    expect(call.stdout).toContain('Usage: npx auth0-tsoa-api call [options] URL');
    expect(call.stdout).toContain('--dpop');
  });

  it('an unknown command: one line naming the commands, exit 1', async () => {
    const run = await runCli(['deploy']);
    expect(run.code).toBe(1);
    expect(run.stdout).toBe('');
    expect(run.stderr).toBe('auth0-tsoa-api deploy: unknown command "deploy": use dev, token, call or setup (see --help)\n');
  });
});

describe('dev: mistakes are one line and exit 1', () => {
  let taken: Server;
  let takenPort: number;
  beforeAll(async () => {
    taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    takenPort = (taken.address() as { port: number }).port;
  });
  afterAll(() => new Promise<void>((resolve) => taken.close(() => resolve())));

  it.each([
    ['a port that is not a number', ['--port', 'http'], /--port expects a port number/],
    ['an origin with a path', ['--scopes', 'a', '--origin', 'http://127.0.0.1:3000/docs'], /--origin expects an origin without a path/],
    ['--scopes and --spec together', ['--scopes', 'a', '--spec', 'x.json'], /--scopes or --spec, not both/],
    ['a spec that does not exist', ['--spec', 'nowhere.json'], /cannot read the OpenAPI document nowhere\.json/],
    ['no tsoa.json and no scopes', [], /no tsoa\.json in .*: pass --spec/],
    ['an unknown option', ['--scope', 'a'], /Unknown option '--scope'.*see --help/],
    ['a bad --org', ['--scopes', 'a', '--org', 'acme'], /--org expects ID or ID:NAME/],
    ['an audience that is not a URI', ['--scopes', 'a', '--audience', 'my api'], /absolute URI/],
    ['--client-id without --client-secret', ['--scopes', 'a', '--client-id', 'x'], /--client-id needs --client-secret/],
  ])('%s', async (_what, args, message) => {
    const run = await runCli(['dev', '--port', '0', ...args], { cwd: temp });
    expect(run.code).toBe(1);
    expect(run.stdout).toBe('');
    const lines = run.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^auth0-tsoa-api dev: /);
    expect(lines[0]).toMatch(message);
  });

  it.each([
    ['a port out of range', ['--port', '65536', '--scopes', 'a'], '--port expects a port number, got "65536"'],
    ['--key-file and --ephemeral-key together', ['--scopes', 'a', '--key-file', 'k.json', '--ephemeral-key'], 'give --key-file or --ephemeral-key, not both'],
    ['an empty --key-file', ['--scopes', 'a', '--key-file', ' '], '--key-file expects a file name'],
    ['an origin that is not a URL', ['--scopes', 'a', '--origin', '127.0.0.1:3000'], `--origin expects your app's origin such as http://127.0.0.1:3000, got "127.0.0.1:3000"`],
    ['an --org name with a space', ['--scopes', 'a', '--org', 'org_abc:my org'], '--org expects ID or ID:NAME such as org_abc123:acme, got "org_abc:my org"'],
  ])('%s', async (_what, args, message) => {
    const run = await runCli(['dev', ...args], { cwd: temp });
    expect(run.code).toBe(1);
    expect(run.stdout).toBe('');
    expect(run.stderr).toBe(`auth0-tsoa-api dev: ${message}\n`);
  });

  it('before the first build (tsoa.json, no spec yet): one line saying to build first or pass --scopes', async () => {
    const app = join(temp, 'unbuilt');
    mkdirSync(app, { recursive: true });
    writeFileSync(join(app, 'tsoa.json'), JSON.stringify({ spec: { outputDirectory: 'build', specVersion: 3 } }));
    const run = await runCli(['dev', '--port', '0'], { cwd: app });
    expect(run.code).toBe(1);
    expect(run.stderr).toBe('auth0-tsoa-api dev: build/swagger.json not found: build first ("npm run build", or "npx tsoa spec"), or pass --scopes "a b" (or --spec path/to/openapi.json)\n');
  });

  it('a port already taken', async () => {
    const run = await runCli(['dev', '--port', String(takenPort), '--scopes', 'a']);
    expect(run.code).toBe(1);
    expect(run.stderr.trim()).toBe(`auth0-tsoa-api dev: port ${takenPort} is taken on 127.0.0.1 (another development issuer?): pass --port N`);
  });

  it('production-like: the refusal alone, without the command prefix, before any option is read', async () => {
    const run = await runCli(['dev', '--port', 'http'], { cwd: temp, env: cleanEnv({ NODE_ENV: 'production' }) });
    expect(run.code).toBe(1);
    expect(run.stdout).toBe('');
    expect(run.stderr.trim().split('\n')).toHaveLength(1);
    expect(run.stderr).not.toMatch(/^auth0-tsoa-api dev: /);
    expect(run.stderr).toMatch(/NODE_ENV/);
  });

  it('token with no issuer running: one line saying how to start one', async () => {
    const run = await runCli(['token', '--issuer', `http://127.0.0.1:${await closedPort()}`]);
    expect(run.code).toBe(1);
    expect(run.stdout).toBe('');
    expect(run.stderr.trim().split('\n')).toHaveLength(1);
    expect(run.stderr).toMatch(/no issuer answers at http:\/\/127\.0\.0\.1:\d+ .*npx auth0-tsoa-api dev/);
  });
});

describe('dev: the signing key', () => {
  it('without node_modules in the working folder: kept in $XDG_CACHE_HOME/auth0-tsoa-api, and said so', async () => {
    const app = join(temp, 'no-modules');
    mkdirSync(app, { recursive: true });
    const cache = join(temp, 'xdg-cache');
    const run = await runCli(['dev', '--port', '0', '--scopes', 'a'], { cwd: app, env: cleanEnv({ XDG_CACHE_HOME: cache }) });
    expect(run.code).toBe(0);
    const file = join(cache, 'auth0-tsoa-api', 'dev-issuer-key.json');
    expect(existsSync(file)).toBe(true);
    expect(run.stdout).toContain(`  signing key: ${file} (kept across restarts`);
  });

  it('--key-file: relative to the working folder, shown as given', async () => {
    const app = join(temp, 'key-file');
    mkdirSync(app, { recursive: true });
    const run = await runCli(['dev', '--port', '0', '--scopes', 'a', '--key-file', 'keys/dev.json'], { cwd: app });
    expect(run.code).toBe(0);
    expect(existsSync(join(app, 'keys', 'dev.json'))).toBe(true);
    expect(run.stdout).toContain('  signing key: keys/dev.json (kept across restarts');
  });
});

describe('token and call: the options become the token request', () => {
  /** A stand-in OpenID provider that records the token request's form and Authorization header. */
  let provider: ReturnType<typeof createHttpServer>;
  let issuer: string;
  let requests: { form: URLSearchParams; authorization: string | undefined }[];
  beforeAll(async () => {
    provider = createHttpServer((req: IncomingMessage, res) => {
      if (req.url === '/.well-known/openid-configuration') return void res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ token_endpoint: `${issuer}/oauth/token` }));
      let body = '';
      req.setEncoding('utf8').on('data', (chunk: string) => (body += chunk));
      req.on('end', () => {
        requests.push({ form: new URLSearchParams(body), authorization: req.headers.authorization });
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ access_token: 'header.payload.signature', token_type: 'Bearer' }));
      });
    });
    await new Promise<void>((resolve) => provider.listen(0, '127.0.0.1', resolve));
    issuer = `http://127.0.0.1:${(provider.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((resolve) => provider.close(() => resolve())));

  it('token prints the access token alone, and sends every option', async () => {
    requests = [];
    const run = await runCli([
      'token',
      '--issuer',
      issuer,
      '--audience',
      'https://api.example.com',
      '--scope',
      'read:a  write:b',
      '--org',
      'acme',
      '--acr',
      'mfa',
      '--auth-time',
      '1700000000',
      '--claim',
      'roles=["admin"]',
      '--claim',
      'level=2',
      '--claim',
      'note=plain text',
      '--client-id',
      'me',
      '--client-secret',
      's3cret',
    ]);
    expect(run).toEqual({ code: 0, stdout: 'header.payload.signature\n', stderr: '' });
    const [{ form, authorization }] = requests as [(typeof requests)[0]];
    expect(Object.fromEntries(form)).toEqual({
      grant_type: 'client_credentials',
      audience: 'https://api.example.com',
      scope: 'read:a write:b',
      organization: 'acme',
      acr: 'mfa',
      auth_time: '1700000000',
      extra_claims: JSON.stringify({ roles: ['admin'], level: 2, note: 'plain text' }),
    });
    expect(authorization).toBe(`Basic ${Buffer.from('me:s3cret').toString('base64')}`);
  });

  it('without options: the default client and no optional parameters', async () => {
    requests = [];
    expect((await runCli(['token', '--issuer', issuer])).code).toBe(0);
    expect(Object.fromEntries(requests[0]!.form)).toEqual({ grant_type: 'client_credentials' });
    expect(requests[0]!.authorization).toBe(`Basic ${Buffer.from('demo-client:demo-secret').toString('base64')}`);
  });

  it('--claim acr and auth_time name the options to use instead; other reserved claims are refused', async () => {
    expect((await runCli(['token', '--issuer', issuer, '--claim', 'auth_time=1'])).stderr).toBe('auth0-tsoa-api token: --claim cannot set "auth_time" (the issuer decides it; use --auth-time)\n');
    expect((await runCli(['token', '--issuer', issuer, '--claim', 'cnf={}'])).stderr).toBe('auth0-tsoa-api token: --claim cannot set "cnf" (the issuer decides it)\n');
    expect((await runCli(['token', '--issuer', issuer, '--claim', '__proto__={}'])).stderr).toMatch(/^auth0-tsoa-api token: --claim expects NAME=VALUE/);
  });

  // Moved from ./cli-step-up.test.ts: each is refused before any request, so no issuer is needed.
  it.each([
    [['--claim', 'sub=admin'], 'sub'],
    [['--claim', 'acr=x'], '--acr'],
    [['--claim', 'novalue'], 'NAME=VALUE'],
    [['--auth-time', 'yesterday'], '--auth-time'],
    [['--acr', 'has space'], '--acr'],
  ])('%s: exit 1, one line naming the problem', async (args, named) => {
    requests = [];
    const run = await runCli(['token', '--issuer', issuer, ...args]);
    expect(run.code).toBe(1);
    expect(run.stdout).toBe('');
    expect(run.stderr.trim().split('\n')).toHaveLength(1);
    expect(run.stderr).toContain(named);
    expect(requests).toEqual([]);
  });

  it('call: no URL: one line, exit 1', async () => {
    const run = await runCli(['call', '--issuer', issuer]);
    expect(run.code).toBe(1);
    expect(run.stderr.trim().split('\n')).toHaveLength(1);
  });

  it.each([
    ['a URL that is not http(s)', ['ftp://127.0.0.1/x'], 'expected an http(s) URL to call, got "ftp://127.0.0.1/x"'],
    ['a bad --method', ['-X', 'GET /', 'http://127.0.0.1/x'], '--method expects an HTTP method such as GET, got "GET /"'],
    ['--data that is not JSON', ['--data', '{name: x}', 'http://127.0.0.1/x'], `--data expects JSON, e.g. '{"name": "x"}'`],
    ['two URLs', ['http://127.0.0.1/a', 'http://127.0.0.1/b'], 'give one URL to call, e.g. http://127.0.0.1:3000/api/messages (see --help)'],
  ])('call with %s: one line, exit 1, no token requested', async (_what, args, message) => {
    requests = [];
    const run = await runCli(['call', '--issuer', issuer, ...args]);
    expect(run).toEqual({ code: 1, stdout: '', stderr: `auth0-tsoa-api call: ${message}\n` });
    expect(requests).toEqual([]);
  });

  it('call: an API that cannot be reached is one line after the token was had', async () => {
    requests = [];
    const port = await closedPort();
    const run = await runCli(['call', '--issuer', issuer, `http://127.0.0.1:${port}/api`]);
    expect(run).toEqual({ code: 1, stdout: '', stderr: `auth0-tsoa-api call: cannot reach http://127.0.0.1:${port}/api: ECONNREFUSED\n` });
    expect(requests).toHaveLength(1);
  });
});
