/**
 * `npx auth0-tsoa-api setup` (the built command, in an app folder).
 *
 * The real Auth0 CLI needs an Auth0 account and a logged-in tenant, which a test machine does not have, so `auth0`
 * here is a stand-in executable put first on PATH: it records its arguments and answers like the real CLI's `--json`
 * output (auth0/auth0-cli: `tenants list` → `[{"name": <domain>, "active": true}]`; `apis show|create|update` → the
 * Management API resource server object; a missing API → exit 1 with "404 Not Found"). It keeps its APIs in a
 * state file, so a second run sees what the first created.
 */
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { parse as parseDotenv } from 'dotenv';
import { buildOnce, cleanEnv, runCli } from './cli-support.js';
import { readEnvValue, writeEnvValues } from '../../src/dev/setup.js';

const TENANT = 'dev-tenant.eu.auth0.com';
const AUDIENCE = 'https://api.setup.test';
const temp = mkdtempSync(join(tmpdir(), 'auth0-tsoa-api-setup-'));
const binDir = join(temp, 'bin');
const stateFile = join(temp, 'auth0-state.json');
const logFile = join(temp, 'auth0-calls.log');
const app = join(temp, 'my-app');

/** The stand-in Auth0 CLI (see the file comment). */
const FAKE_AUTH0 = `#!/usr/bin/env node
const fs = require('node:fs');
const args = process.argv.slice(2);
fs.appendFileSync(process.env.FAKE_AUTH0_LOG, JSON.stringify(args) + '\\n');
const state = JSON.parse(fs.readFileSync(process.env.FAKE_AUTH0_STATE, 'utf8'));
const save = () => fs.writeFileSync(process.env.FAKE_AUTH0_STATE, JSON.stringify(state));
const flag = (name) => { const i = args.indexOf(name); return i === -1 ? undefined : args[i + 1]; };
const out = (value) => process.stdout.write(JSON.stringify(value, null, 2) + '\\n');
const [group, command, target] = args;
if (!args.includes('--no-input')) { process.stderr.write('would prompt: --no-input missing\\n'); process.exit(2); }
if (!state.loggedIn) { process.stderr.write("=== error: Not logged in. Try 'auth0 login'.\\n"); process.exit(1); }
if (group === 'tenants' && command === 'list' && args.includes('--json')) {
  out([{ name: 'other-tenant.us.auth0.com', active: false }, { name: state.tenant, active: true }]);
} else if (group === 'apis' && command === 'show') {
  const api = state.apis.find((a) => a.identifier === target || a.id === target);
  if (!api) { process.stderr.write('=== ' + state.tenant + ' error\\n\\n ▸    failed to read API with ID "' + target + '": 404 Not Found: The resource server does not exist\\n'); process.exit(1); }
  out(api);
} else if (group === 'apis' && command === 'create') {
  if (state.failCreate) { process.stderr.write('failed to create API with name "' + flag('--name') + '" and identifier "' + flag('--identifier') + '": 409 Conflict: A resource server with the same identifier already exists\\n'); process.exit(1); }
  const api = {
    id: 'rs_' + String(state.apis.length + 1).padStart(22, '0'),
    name: flag('--name'),
    identifier: flag('--identifier'),
    allow_offline_access: false,
    skip_consent_for_verifiable_first_party_clients: true,
    token_lifetime: 86400,
    token_lifetime_for_web: 7200,
    signing_alg: 'RS256',
    scopes: (flag('--scopes') || '').split(',').filter(Boolean).map((value) => ({ value })),
  };
  state.apis.push(api); save(); out(api);
} else if (group === 'apis' && command === 'update') {
  const api = state.apis.find((a) => a.id === target || a.identifier === target);
  if (!api) { process.stderr.write('failed to find API with ID "' + target + '": 404 Not Found\\n'); process.exit(1); }
  if (flag('--scopes') !== undefined) api.scopes = flag('--scopes').split(',').filter(Boolean).map((value) => ({ value }));
  save(); out(api);
} else { process.stderr.write('unknown command ' + args.join(' ') + '\\n'); process.exit(1); }
`;

/** What tsoa wrote for the app: operations requiring read:messages, and write:messages with read:messages. */
const SPEC = {
  openapi: '3.0.0',
  info: { title: 'my-app', version: '1.0.0' },
  paths: {
    '/messages': {
      get: { security: [{ auth0: ['read:messages'] }], responses: {} },
      post: { security: [{ auth0: ['read:messages', 'write:messages'] }], responses: {} },
    },
  },
  components: { securitySchemes: { auth0: { type: 'oauth2', flows: {} } } },
};

interface State {
  loggedIn: boolean;
  failCreate: boolean;
  tenant: string;
  apis: { id: string; identifier: string; name: string; scopes: { value: string }[] }[];
}

function setState(state: Partial<State>): void {
  writeFileSync(stateFile, JSON.stringify({ loggedIn: true, tenant: TENANT, apis: [], ...state }));
}
const state = (): State => JSON.parse(readFileSync(stateFile, 'utf8')) as State;
const calls = (): string[][] =>
  readFileSync(logFile, 'utf8')
    .trim()
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as string[]);
const envFile = () => readFileSync(join(app, '.env'), 'utf8');

/** Runs setup in the app folder with the stand-in first on PATH (or with no auth0 at all). */
function setup(args: string[], options: { withAuth0?: boolean } = {}) {
  const path = options.withAuth0 === false ? '/usr/bin:/bin' : `${binDir}${delimiter}${process.env.PATH}`;
  return runCli(['setup', ...args], { cwd: app, env: cleanEnv({ PATH: path, FAKE_AUTH0_STATE: stateFile, FAKE_AUTH0_LOG: logFile }) });
}

beforeAll(() => {
  buildOnce();
  mkdirSync(binDir, { recursive: true });
  writeFileSync(join(binDir, 'auth0'), FAKE_AUTH0);
  chmodSync(join(binDir, 'auth0'), 0o755);
}, 120_000);
afterAll(() => rmSync(temp, { recursive: true, force: true }));

beforeEach(() => {
  rmSync(app, { recursive: true, force: true });
  mkdirSync(join(app, 'build'), { recursive: true });
  writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'my-app', version: '1.0.0' }));
  writeFileSync(join(app, 'tsoa.json'), JSON.stringify({ spec: { outputDirectory: 'build', specVersion: 3 }, routes: { routesDir: 'build' } }));
  writeFileSync(join(app, 'build/swagger.json'), JSON.stringify(SPEC));
  writeFileSync(logFile, '');
  setState({});
});

describe('with the Auth0 CLI installed and logged in (a stand-in: the real one needs an account)', () => {
  it('creates the API with the scopes the spec requires and writes AUTH0_DOMAIN / AUTH0_AUDIENCE to .env, keeping other lines', async () => {
    writeFileSync(join(app, '.env'), '# my settings\nPORT=4000\nAUTH0_DOMAIN=old-tenant.us.auth0.com\nexport OTHER="x y"\n');
    const run = await setup(['--audience', AUDIENCE]);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);

    expect(calls()).toEqual([
      ['tenants', 'list', '--json', '--no-input'],
      ['apis', 'show', AUDIENCE, '--json', '--no-input'],
      ['apis', 'create', '--name', 'my-app API', '--identifier', AUDIENCE, '--json', '--scopes', 'read:messages,write:messages', '--no-input'],
    ]);
    expect(state().apis).toEqual([expect.objectContaining({ identifier: AUDIENCE, name: 'my-app API', scopes: [{ value: 'read:messages' }, { value: 'write:messages' }] })]);
    expect(envFile()).toBe(`# my settings\nPORT=4000\nAUTH0_DOMAIN=${TENANT}\nexport OTHER="x y"\nAUTH0_AUDIENCE=${AUDIENCE}\n`);
    expect(run.stdout).toContain(`Created the Auth0 API "my-app API" (${AUDIENCE}) on ${TENANT} with the scopes read:messages, write:messages.`);
    expect(run.stdout).toContain(`npx auth0-tsoa-api token --issuer https://${TENANT} --audience ${AUDIENCE}`);
  });

  it('a second run finds the API up to date: nothing created or updated, .env the same', async () => {
    expect((await setup(['--audience', AUDIENCE])).code).toBe(0);
    const first = envFile();
    writeFileSync(logFile, '');
    const run = await setup([]); // the audience now comes from .env
    expect(run.code).toBe(0);
    expect(calls().map((args) => args.slice(0, 2).join(' '))).toEqual(['tenants list', 'apis show']);
    expect(run.stdout).toContain(`Auth0 API ${AUDIENCE} already has the scopes read:messages, write:messages`);
    expect(envFile()).toBe(first);
  });

  it('an existing API without some of the scopes is updated with them, keeping its own', async () => {
    setState({ apis: [{ id: 'rs_existing', identifier: AUDIENCE, name: 'Mine', scopes: [{ value: 'admin' }, { value: 'read:messages' }] }] });
    const run = await setup(['--audience', AUDIENCE]);
    expect(run.code).toBe(0);
    expect(calls()[2]).toEqual(['apis', 'update', 'rs_existing', '--scopes', 'admin,read:messages,write:messages', '--json', '--no-input']);
    expect(state().apis[0]!.scopes.map((s) => s.value)).toEqual(['admin', 'read:messages', 'write:messages']);
    expect(run.stdout).toContain('added the scopes write:messages');
    expect(envFile()).toBe(`AUTH0_DOMAIN=${TENANT}\nAUTH0_AUDIENCE=${AUDIENCE}\n`);
  });

  it('--spec and --name are honoured', async () => {
    writeFileSync(join(app, 'other.json'), JSON.stringify({ openapi: '3.0.0', paths: { '/x': { get: { security: [{ auth0: ['read:x'] }] } } } }));
    const run = await setup(['--audience', AUDIENCE, '--spec', 'other.json', '--name', 'Orders API']);
    expect(run.code).toBe(0);
    expect(calls()[2]).toEqual(['apis', 'create', '--name', 'Orders API', '--identifier', AUDIENCE, '--json', '--scopes', 'read:x', '--no-input']);
  });

  it('not logged in: exit 1, one line saying to run auth0 login, .env untouched', async () => {
    setState({ loggedIn: false });
    const run = await setup(['--audience', AUDIENCE]);
    expect(run.code).toBe(1);
    expect(run.stderr.trim().split('\n')).toHaveLength(1);
    expect(run.stderr).toContain('run "auth0 login" first');
    expect(() => envFile()).toThrow();
  });

  it('no --audience and none in .env: exit 1, one line asking for --audience, nothing created', async () => {
    const run = await setup([]);
    expect(run.code).toBe(1);
    expect(run.stderr.trim()).toMatch(/^auth0-tsoa-api setup: pass --audience https:\/\/your-api-identifier/);
    expect(calls().map((args) => args[1])).toEqual(['list']);
  });

  it('a failing create is reported in one line with the CLI’s message, .env untouched', async () => {
    setState({ failCreate: true });
    const run = await setup(['--audience', AUDIENCE]);
    expect(run.code).toBe(1);
    expect(run.stderr.trim().split('\n')).toHaveLength(1);
    expect(run.stderr).toMatch(/^auth0-tsoa-api setup: "auth0 apis create" failed \(exit 1\): .*409 Conflict/);
    expect(() => envFile()).toThrow();
  });
});

describe('.env values: quoted for Node --env-file and dotenv alike, every duplicate replaced, control characters refused', () => {
  const file = () => join(temp, 'values.env');
  /** What Node's own --env-file loader reads for `key` (Node uses the last line of a key). */
  const nodeReads = (key: string) => JSON.parse(execFileSync(process.execPath, [`--env-file=${file()}`, '-e', `process.stdout.write(JSON.stringify(process.env[${JSON.stringify(key)}] ?? null))`], { env: {} }).toString()) as string | null;

  it.each([
    ['plain', 'https://api.example.com/v1'],
    ['a space and a hash', 'my api #1'],
    ['a single quote', "it's"],
    ['both quotes', `it's "quoted"`],
    ['quotes and a backslash', `C:\\x it's "q"`],
    ['an equals sign and a dollar', 'a=b $HOME ${PATH}'],
    ['leading and trailing spaces', '  padded  '],
    ['backslash n as two characters', 'a\\nb'],
    ['non-ASCII', 'café ✓'],
  ])('%s: both loaders read the value back unchanged', (_what, value) => {
    writeFileSync(file(), 'OTHER=1\n');
    writeEnvValues(file(), { AUTH0_AUDIENCE: value });
    expect(nodeReads('AUTH0_AUDIENCE')).toBe(value);
    expect(parseDotenv(readFileSync(file())).AUTH0_AUDIENCE).toBe(value);
    expect(nodeReads('OTHER')).toBe('1');
  });

  it('replaces every line of a key, not only the first (Node reads the last one)', () => {
    // Old code replaced the first line only: Node and dotenv-with-override still read the stale last one.
    writeFileSync(file(), 'AUTH0_AUDIENCE=https://first\nPORT=1\nexport AUTH0_AUDIENCE=https://second\n  AUTH0_AUDIENCE = https://third\nKEEP=x\n');
    writeEnvValues(file(), { AUTH0_AUDIENCE: 'https://new' });
    expect(readFileSync(file(), 'utf8')).toBe('AUTH0_AUDIENCE=https://new\nPORT=1\nKEEP=x\n');
    expect(nodeReads('AUTH0_AUDIENCE')).toBe('https://new');
    expect(readEnvValue(file(), 'AUTH0_AUDIENCE')).toBe('https://new');
  });

  it.each([
    ['a newline', 'https://api\nEVIL=1'],
    ['a carriage return', 'https://api\rEVIL=1'],
    ['a NUL', 'https://api\u0000'],
    ['a tab', 'https://api\tx'],
    ['DEL', 'https://api\u007f'],
  ])('refuses %s, naming the key, and writes nothing', (_what, value) => {
    writeFileSync(file(), 'KEEP=x\n');
    expect(() => writeEnvValues(file(), { AUTH0_DOMAIN: 'tenant.example.com', AUTH0_AUDIENCE: value })).toThrow(/^AUTH0_AUDIENCE contains a line break or another control character/);
    expect(readFileSync(file(), 'utf8')).toBe('KEEP=x\n');
  });

  it('setup --audience with a newline: exit 1, one line naming --audience, nothing created, .env untouched', async () => {
    writeFileSync(join(app, '.env'), 'PORT=4000\n');
    const run = await setup(['--audience', `${AUDIENCE}\nAUTH0_DOMAIN=evil.example.com`]);
    expect(run.code).toBe(1);
    expect(run.stderr.trim().split('\n')).toHaveLength(1);
    expect(run.stderr).toMatch(/^auth0-tsoa-api setup: --audience contains a line break or another control character/);
    expect(calls()).toEqual([]);
    expect(envFile()).toBe('PORT=4000\n');
  });
});

describe('without the Auth0 CLI', () => {
  it('prints the exact manual steps with the scopes and the identifier, exits 1, writes nothing', async () => {
    const run = await setup(['--audience', AUDIENCE], { withAuth0: false });
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('the Auth0 CLI (auth0) is not installed, so nothing was created');
    expect(run.stdout).toContain(`"+ Create API": Name "my-app API", Identifier ${AUDIENCE}, JSON Web Token signing algorithm RS256.`);
    expect(run.stdout).toContain('\n     read:messages\n     write:messages\n');
    expect(run.stdout).toContain(`AUTH0_AUDIENCE=${AUDIENCE}`);
    expect(run.stdout).toContain(`auth0 apis create --name "my-app API" --identifier ${AUDIENCE} --scopes "read:messages,write:messages"`);
    expect(() => envFile()).toThrow();
    expect(calls()).toEqual([]);
  });
});
