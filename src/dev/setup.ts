/**
 * `npx auth0-tsoa-api setup`: with the Auth0 CLI (`auth0`, logged in), creates or updates the Auth0 API (resource
 * server) with the scopes the app's OpenAPI document requires, and writes `AUTH0_DOMAIN` / `AUTH0_AUDIENCE` to
 * `.env`. Without the CLI it prints the exact manual steps.
 *
 * Auth0 CLI commands used (https://auth0.github.io/auth0-cli/): `auth0 tenants list --json`, `auth0 apis show
 * <identifier> --json`, `auth0 apis create --name … --identifier … --scopes a,b --json`, `auth0 apis update <id>
 * --scopes a,b --json`, all with `--no-input`.
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';

/** Options of {@link runSetup}. */
export interface SetupOptions {
  /** The app's folder (where `.env`, `package.json` and `tsoa.json` are). */
  cwd: string;
  /** Scope → description, from the app's OpenAPI document. */
  scopes: Record<string, string>;
  /** The API identifier (Auth0 "audience"). Default: `AUTH0_AUDIENCE` from `.env`. */
  audience?: string | undefined;
  /** The API's display name in Auth0. Default: `<package.json name> API`. */
  name?: string | undefined;
  /** The Auth0 CLI executable. Default `auth0` (found on PATH). */
  auth0Command?: string;
  /** Environment for the Auth0 CLI. Default `process.env`. */
  env?: NodeJS.ProcessEnv;
  /** Where lines go. */
  out: (line: string) => void;
  err: (line: string) => void;
}

interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

interface ResourceServer {
  id?: string;
  identifier?: string;
  name?: string;
  scopes?: { value?: string; description?: string }[];
}

const PLACEHOLDER_AUDIENCE = 'https://your-api-identifier';

/** Runs the setup; resolves to the process exit code (0 when `.env` was written). */
export async function runSetup(options: SetupOptions): Promise<number> {
  const envFile = join(options.cwd, '.env');
  const audience = options.audience?.trim() || readEnvValue(envFile, 'AUTH0_AUDIENCE');
  const audienceProblem = audience === undefined ? undefined : envValueProblem(audience);
  if (audienceProblem) {
    options.err(`auth0-tsoa-api setup: ${options.audience?.trim() ? '--audience' : 'AUTH0_AUDIENCE in .env'} ${audienceProblem}; give the API identifier on one line`);
    return 1;
  }
  const name = options.name?.trim() || `${appName(options.cwd)} API`;
  const scopeNames = Object.keys(options.scopes);
  const auth0 = (args: string[]) => runAuth0(options.auth0Command ?? 'auth0', [...args, '--no-input'], options.env ?? process.env);

  const tenants = await auth0(['tenants', 'list', '--json']);
  if (tenants.code === -1) {
    options.err('auth0-tsoa-api setup: the Auth0 CLI (auth0) is not installed, so nothing was created. Install it (https://github.com/auth0/auth0-cli#installation), run "auth0 login", then run this again; or do it by hand:');
    for (const line of manualSteps(name, audience ?? PLACEHOLDER_AUDIENCE, options.scopes)) options.out(line);
    return 1;
  }
  const domain = activeTenant(tenants);
  if (!domain) {
    options.err(`auth0-tsoa-api setup: the Auth0 CLI has no tenant: run "auth0 login" first${tenants.stderr.trim() ? ` (auth0 said: ${firstLine(tenants.stderr)})` : ''}`);
    return 1;
  }
  if (!audience) {
    options.err(`auth0-tsoa-api setup: pass --audience ${PLACEHOLDER_AUDIENCE} (the API identifier tokens are issued for; Auth0 cannot change it later)`);
    return 1;
  }

  const shown = await auth0(['apis', 'show', audience, '--json']);
  let api: ResourceServer;
  if (shown.code === 0) {
    const existing = parseJson<ResourceServer>(shown.stdout);
    const have = new Set((existing?.scopes ?? []).map((scope) => scope.value));
    const missing = scopeNames.filter((scope) => !have.has(scope));
    if (missing.length === 0) {
      options.out(`Auth0 API ${audience} already has the scopes ${scopeNames.join(', ') || '(none)'} on ${domain}.`);
      api = existing ?? {};
    } else {
      // `--scopes` replaces the list: keep what the API already has and add what the spec requires.
      const all = [...have].filter((scope): scope is string => Boolean(scope)).concat(missing);
      const updated = await auth0(['apis', 'update', existing?.id ?? audience, '--scopes', all.join(','), '--json']);
      if (updated.code !== 0) return failed(options, 'auth0 apis update', updated);
      api = parseJson<ResourceServer>(updated.stdout) ?? {};
      options.out(`Updated the Auth0 API ${audience} on ${domain}: added the scopes ${missing.join(', ')}.`);
    }
  } else if (/not.?found|404|does not exist/i.test(shown.stderr + shown.stdout)) {
    const args = ['apis', 'create', '--name', name, '--identifier', audience, '--json'];
    if (scopeNames.length > 0) args.push('--scopes', scopeNames.join(','));
    const created = await auth0(args);
    if (created.code !== 0) return failed(options, 'auth0 apis create', created);
    api = parseJson<ResourceServer>(created.stdout) ?? {};
    options.out(`Created the Auth0 API "${api.name ?? name}" (${audience}) on ${domain} with the scopes ${scopeNames.join(', ') || '(none)'}.`);
  } else {
    return failed(options, 'auth0 apis show', shown);
  }

  try {
    writeEnvValues(envFile, { AUTH0_DOMAIN: domain, AUTH0_AUDIENCE: api.identifier ?? audience });
  } catch (error) {
    options.err(`auth0-tsoa-api setup: .env was not written: ${(error as Error).message}`);
    return 1;
  }
  options.out(`Wrote AUTH0_DOMAIN=${domain} and AUTH0_AUDIENCE=${api.identifier ?? audience} to ${envFile}.`);
  options.out('Tokens for testing: authorize a Machine-to-Machine application for this API in the Auth0 Dashboard, then');
  options.out(`  npx auth0-tsoa-api token --issuer https://${domain} --audience ${audience} --client-id <its client id> --client-secret <its secret>`);
  return 0;
}

/** The exact manual steps, for a machine without the Auth0 CLI. */
export function manualSteps(name: string, audience: string, scopes: Record<string, string>): string[] {
  const scopeList = Object.entries(scopes);
  return [
    `1. Auth0 Dashboard → Applications → APIs → "+ Create API": Name "${name}", Identifier ${audience}, JSON Web Token signing algorithm RS256.`,
    scopeList.length > 0 ? `2. In that API's "Permissions" tab, add each scope (permission), with a description of your choice:` : '2. Your OpenAPI document requires no scopes: nothing to add in the API\'s "Permissions" tab.',
    ...scopeList.map(([scope, description]) => `     ${scope}${description ? `  —  ${description}` : ''}`),
    '3. Write your tenant domain (Dashboard → Settings → Domain, or your custom domain) and the identifier to .env:',
    '     AUTH0_DOMAIN=your-tenant.us.auth0.com',
    `     AUTH0_AUDIENCE=${audience}`,
    `   (or, with the Auth0 CLI: auth0 apis create --name "${name}" --identifier ${audience}${scopeList.length > 0 ? ` --scopes "${scopeList.map(([scope]) => scope).join(',')}"` : ''})`,
  ];
}

/** The active tenant's domain from `auth0 tenants list --json` (`[{ "name": "tenant.us.auth0.com", "active": true }]`). */
function activeTenant(result: CliResult): string | undefined {
  if (result.code !== 0) return undefined;
  const tenants = parseJson<{ name?: string; domain?: string; active?: boolean }[]>(result.stdout);
  if (!Array.isArray(tenants) || tenants.length === 0) return undefined;
  const tenant = tenants.find((t) => t.active) ?? (tenants.length === 1 ? tenants[0] : undefined);
  return tenant?.domain ?? tenant?.name;
}

function failed(options: SetupOptions, command: string, result: CliResult): number {
  options.err(`auth0-tsoa-api setup: "${command}" failed (exit ${result.code}): ${firstLine(result.stderr || result.stdout) || 'no output'}`);
  return 1;
}

/** Runs the Auth0 CLI; code -1 when it is not installed. */
function runAuth0(command: string, args: string[], env: NodeJS.ProcessEnv): Promise<CliResult> {
  return new Promise((resolve) => {
    const child = spawn(command, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.on('error', (error: NodeJS.ErrnoException) => resolve({ code: error.code === 'ENOENT' ? -1 : 1, stdout, stderr: stderr || error.message }));
    child.on('close', (code) => resolve({ code: code ?? 1, stdout, stderr }));
  });
}

function parseJson<T>(text: string): T | undefined {
  try {
    return JSON.parse(text) as T;
  } catch {
    return undefined;
  }
}

function firstLine(text: string): string {
  return text.trim().split('\n')[0]!.trim();
}

function appName(cwd: string): string {
  try {
    const manifest = JSON.parse(readFileSync(join(cwd, 'package.json'), 'utf8')) as { name?: unknown };
    if (typeof manifest.name === 'string' && manifest.name) return manifest.name;
  } catch {
    /* no package.json: use the folder name */
  }
  return basename(cwd);
}

const ENV_LINE = /^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=(.*)$/;

/** A value from a dotenv file (quotes removed), or undefined. The last line of the key counts, as for Node. */
export function readEnvValue(file: string, key: string): string | undefined {
  if (!existsSync(file)) return undefined;
  let value: string | undefined;
  for (const line of readFileSync(file, 'utf8').split(/\r?\n/)) {
    const match = ENV_LINE.exec(line);
    if (match?.[1] === key) value = match[2]!.trim().replace(/^(['"`])(.*)\1$/, '$2') || undefined;
  }
  return value;
}

/** Why `value` cannot go into a dotenv file, or undefined: line breaks and control characters are refused. */
export function envValueProblem(value: string): string | undefined {
  return /[\u0000-\u001f\u007f]/.test(value) ? 'contains a line break or another control character' : undefined;
}

/** Characters that mean the same to Node's --env-file and dotenv without quotes. */
const PLAIN_ENV_VALUE = /^[A-Za-z0-9_.:/@+-]+$/;

/**
 * A value as Node's `--env-file` and dotenv both read it back unchanged: plain when it is made of safe characters,
 * otherwise in single quotes (taken literally by both), else double quotes when it has no backslash (nothing to
 * unescape), else backticks. Throws when none fits or for a control character.
 */
export function formatEnvValue(key: string, value: string): string {
  const problem = envValueProblem(value);
  if (problem) throw new Error(`${key} ${problem}: give it on one line`);
  if (PLAIN_ENV_VALUE.test(value)) return value;
  if (!value.includes("'")) return `'${value}'`;
  if (!value.includes('"') && !value.includes('\\')) return `"${value}"`;
  if (!value.includes('`')) return `\`${value}\``;
  throw new Error(`${key} contains ', " and \` (or a backslash): no dotenv quoting keeps it unchanged`);
}

/**
 * Sets keys in a dotenv file: the first line of each key is replaced in place and any later line of the same key is
 * dropped (Node's --env-file uses the last one), the others are appended, and every other line is kept. Values are
 * quoted by {@link formatEnvValue}; nothing is written when one is refused.
 */
export function writeEnvValues(file: string, values: Record<string, string>): void {
  const formatted = new Map(Object.entries(values).map(([key, value]) => [key, `${key}=${formatEnvValue(key, value)}`]));
  const text = existsSync(file) ? readFileSync(file, 'utf8') : '';
  const lines = text === '' ? [] : text.replace(/\r?\n$/, '').split(/\r?\n/);
  const written = new Set<string>();
  const out: string[] = [];
  for (const line of lines) {
    const key = ENV_LINE.exec(line)?.[1];
    if (key === undefined || !formatted.has(key)) out.push(line);
    else if (!written.has(key)) {
      out.push(formatted.get(key)!);
      written.add(key);
    }
  }
  for (const [key, line] of formatted) if (!written.has(key)) out.push(line);
  writeFileSync(file, `${out.join('\n')}\n`);
}
