/**
 * The `auth0-tsoa-api` command: `dev` (a development issuer for any app), `token` (an access token from it, alone on
 * stdout) and `setup` (the Auth0 API and `.env` with the Auth0 CLI). The bin (./cli.ts) only calls {@link runCommand}.
 */
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { isAbsolute, join, relative } from 'node:path';
import { parseArgs } from 'node:util';
import { assertDevelopmentEnvironment, DevIssuerRefusedError } from './environment.js';
import { docsRedirectUri, MissingOidcProviderError, SPA_CLIENT_ID, startDevIssuer, type DevIssuer, type DevOrganization } from './issuer.js';
import { runSetup } from './setup.js';
import { findTsoaSpec, readSpecScopes, SpecError } from './spec.js';
import { DEFAULT_DEV_ISSUER, DevTokenError, requestDevToken, type DevTokenRequest } from './token.js';

/** Where a command reads its environment and writes its output. */
export interface CommandIo {
  cwd: string;
  env: NodeJS.ProcessEnv;
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  /** Resolves when the process should stop (SIGINT/SIGTERM); `dev` runs until then. */
  stopped: Promise<void>;
}

/** The default audience, as in the demo. */
export const DEFAULT_AUDIENCE = 'https://api.example.com';
/** The default port of `dev`. */
export const DEFAULT_DEV_PORT = 4001;

const HELP = `Usage: npx auth0-tsoa-api <command> [options]

Commands:
  dev     start a development OpenID issuer for your app (no Auth0 account needed)
  token   print an access token from a running development issuer
  call    call your API with a fresh token from it (Bearer, or DPoP-bound with --dpop)
  setup   create or update your Auth0 API with the Auth0 CLI and write AUTH0_DOMAIN / AUTH0_AUDIENCE to .env

Run "npx auth0-tsoa-api <command> --help" for its options.`;

const DEV_HELP = `Usage: npx auth0-tsoa-api dev [options]

Starts a development OpenID issuer (oidc-provider) on 127.0.0.1 that issues Auth0-style access tokens for your API,
and keeps running until stopped (Ctrl+C). Needs oidc-provider: npm install --save-dev oidc-provider.
Refuses to start when NODE_ENV is production or prod, or AUTH0_PUBLIC_URL is an https:// URL.

Options:
  --port N                 port on 127.0.0.1 (default ${DEFAULT_DEV_PORT}; 0 picks a free one)
  --audience URL           the API identifier tokens are issued for (default: $AUTH0_AUDIENCE, else ${DEFAULT_AUDIENCE});
                           repeatable: the first is the default, the others are served too (e.g. a downstream API
                           the client exchanges tokens for, RFC 8693 token exchange)
  --scopes "a b c"         the scopes it grants
  --spec openapi.json      or: every scope the spec's operations require (default: tsoa's spec, found via tsoa.json)
  --origin URL             your app's origin, e.g. http://127.0.0.1:3000 (repeatable): allowed to call the issuer from
                           a browser, with <origin>/docs/oauth2-redirect.html registered for the PKCE client "${SPA_CLIENT_ID}"
                           (default http://127.0.0.1:3000 and http://localhost:3000)
  --client-id ID           the confidential client for client credentials (default demo-client)
  --client-secret SECRET   its secret (default demo-secret)
  --org ID[:NAME]          an Auth0 Organization (repeatable), e.g. --org org_abc123:acme; a token request with
                           organization=<ID or NAME> gets org_id (and org_name) claims
  --key-file FILE          where the signing key is kept across restarts, so tokens issued before a restart still
                           verify (default node_modules/.cache/auth0-tsoa-api/dev-issuer-key.json, or the user's
                           cache folder without node_modules)
  --ephemeral-key          a new signing key each start, kept in memory only
  -h, --help               this help

It prints AUTH0_DOMAIN=... and AUTH0_AUDIENCE=... for your app's .env, the client credentials and a curl.`;

const TOKEN_CLAIM_HELP = `  --acr VALUE              development issuer: the token's acr, as if the user had signed in that way (step-up),
                           e.g. http://schemas.openid.net/pape/policies/2007/06/multi-factor
  --auth-time SECONDS      development issuer: the sign-in time auth_time, Unix seconds (default: now with --acr)
  --claim NAME=VALUE       development issuer: one more claim (repeatable); a JSON VALUE is parsed:
                           --claim org_id='"org_1"'  --claim roles='["admin"]'  --claim level=2`;

const TOKEN_HELP = `Usage: npx auth0-tsoa-api token [options]

Prints one access token (client credentials grant), alone on stdout, e.g.
  curl -H "Authorization: Bearer $(npx auth0-tsoa-api token --scope read:messages)" http://127.0.0.1:3000/api/messages

Options:
  --issuer URL             the issuer (default ${DEFAULT_DEV_ISSUER}, the development issuer); any OpenID provider works
  --audience URL           the API identifier (default: the development issuer's audience)
  --scope "a b"            the scopes to request (default: all the client may have)
  --org ID_OR_NAME         request the token for an Auth0 Organization (organization=...)
${TOKEN_CLAIM_HELP}
  --client-id ID           default demo-client
  --client-secret SECRET   default demo-secret
  -h, --help               this help`;

const CALL_HELP = `Usage: npx auth0-tsoa-api call [options] URL

Gets a token from the development issuer and calls URL with it; prints the response body on stdout and the status
on stderr; exits 0 for a 2xx answer, else 1. With --dpop, a new P-256 key is made, the token is bound to it and every
request carries a fresh DPoP proof (RFC 9449), retrying once with the server's nonce when asked (use_dpop_nonce).
  npx auth0-tsoa-api call --dpop --scope read:messages http://127.0.0.1:3000/api/messages

Options:
  -X, --method METHOD      default GET
  --data JSON              a JSON request body
  --dpop                   a DPoP-bound token and proofs instead of Bearer
  and every option of "token" (--issuer, --audience, --scope, --org, --acr, --auth-time, --claim, --client-id, ...)`;

const SETUP_HELP = `Usage: npx auth0-tsoa-api setup [options]

With the Auth0 CLI installed and logged in (auth0 login), creates the Auth0 API (or adds missing scopes to it) with
the scopes your OpenAPI document requires, and writes AUTH0_DOMAIN and AUTH0_AUDIENCE to .env (other lines kept).
Without the Auth0 CLI, prints the exact manual steps.

Options:
  --audience URL           the API identifier (default: AUTH0_AUDIENCE from .env); Auth0 cannot change it later
  --name NAME              the API's name in Auth0 (default: "<package.json name> API")
  --spec openapi.json      the OpenAPI document (default: tsoa's spec, found via tsoa.json)
  -h, --help               this help`;

/** Thrown for bad command-line input; the message is one line. */
class UsageError extends Error {}

/** Runs `auth0-tsoa-api <argv>`; resolves to the exit code. */
export async function runCommand(argv: string[], io: CommandIo): Promise<number> {
  const [command, ...rest] = argv;
  try {
    switch (command) {
      case 'dev':
        return await dev(rest, io);
      case 'token':
        return await token(rest, io);
      case 'call':
        return await call(rest, io);
      case 'setup':
        return await setup(rest, io);
      case '-h':
      case '--help':
      case 'help':
        io.stdout(`${HELP}\n`);
        return 0;
      case undefined:
        io.stderr(`${HELP}\n`);
        return 1;
      default:
        throw new UsageError(`unknown command "${command}": use dev, token, call or setup (see --help)`);
    }
  } catch (error) {
    if (error instanceof UsageError || error instanceof SpecError || error instanceof DevTokenError) {
      io.stderr(`auth0-tsoa-api ${command}: ${error.message}\n`);
      return 1;
    }
    if (error instanceof DevIssuerRefusedError || error instanceof MissingOidcProviderError) {
      io.stderr(`${error.message}\n`);
      return 1;
    }
    throw error;
  }
}

/** node:util parseArgs with errors as one-line UsageErrors. */
function parse<T extends NonNullable<Parameters<typeof parseArgs>[0]>['options']>(args: string[], options: T) {
  return parseWithPositionals(args, options, false).values;
}

function parseWithPositionals<T extends NonNullable<Parameters<typeof parseArgs>[0]>['options']>(args: string[], options: T, allowPositionals: boolean) {
  try {
    return parseArgs({ args, options: { ...options, help: { type: 'boolean', short: 'h' } }, strict: true, allowPositionals });
  } catch (error) {
    throw new UsageError(`${(error as Error).message.split('\n')[0]} (see --help)`);
  }
}

async function dev(args: string[], io: CommandIo): Promise<number> {
  const values = parse(args, {
    port: { type: 'string' },
    audience: { type: 'string', multiple: true },
    scopes: { type: 'string' },
    spec: { type: 'string' },
    origin: { type: 'string', multiple: true },
    'client-id': { type: 'string' },
    'client-secret': { type: 'string' },
    org: { type: 'string', multiple: true },
    'key-file': { type: 'string' },
    'ephemeral-key': { type: 'boolean' },
  });
  if (values.help) {
    io.stdout(`${DEV_HELP}\n`);
    return 0;
  }
  // Checked before anything else is read or loaded: the refusal is the one line to show.
  assertDevelopmentEnvironment(io.env);

  if (values.scopes !== undefined && values.spec !== undefined) throw new UsageError('give --scopes or --spec, not both');
  if (values['key-file'] !== undefined && values['ephemeral-key']) throw new UsageError('give --key-file or --ephemeral-key, not both');
  const keyFile = values['ephemeral-key'] ? undefined : resolveKeyFile(values['key-file'], io);
  if (values['client-id'] !== undefined && values['client-secret'] === undefined) throw new UsageError('--client-id needs --client-secret');
  const port = parsePort(values.port);
  const [first, ...others] = (values.audience ?? []).map((value) => value.trim()).filter(Boolean);
  const audience = first || io.env.AUTH0_AUDIENCE?.trim() || DEFAULT_AUDIENCE;
  const scopes =
    values.scopes !== undefined
      ? Object.fromEntries(
          values.scopes
            .split(/[\s,]+/)
            .filter(Boolean)
            .map((scope) => [scope, '']),
        )
      : readSpecScopes(values.spec ?? findTsoaSpec(io.cwd), io.cwd);
  const origins = (values.origin ?? ['http://127.0.0.1:3000', 'http://localhost:3000']).map(parseOrigin);
  const organizations = (values.org ?? []).map(parseOrganization);

  let issuer: DevIssuer;
  try {
    issuer = await startDevIssuer({
      port,
      audience,
      ...(others.length > 0 ? { audiences: others } : {}),
      scopes,
      ...(values['client-id'] !== undefined ? { clientId: values['client-id'], clientSecret: values['client-secret']! } : {}),
      spaRedirectUris: origins.map(docsRedirectUri),
      corsOrigins: origins,
      organizations,
      ...(keyFile ? { keyFile } : {}),
      env: io.env,
    });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EADDRINUSE') {
      throw new UsageError(`port ${port} is taken on 127.0.0.1 (another development issuer?): pass --port N`);
    }
    if (error instanceof MissingOidcProviderError || error instanceof DevIssuerRefusedError) throw error;
    throw new UsageError((error as Error).message.split('\n')[0]);
  }

  const scopeList = Object.keys(scopes).join(' ');
  // `token` defaults to this issuer on the default port, and to its audience.
  const tokenArgs = issuer.domain === DEFAULT_DEV_ISSUER ? '' : ` --issuer ${issuer.domain}`;
  io.stdout(
    [
      `AUTH0_DOMAIN=${issuer.domain}`,
      `AUTH0_AUDIENCE=${audience}`,
      ...(others.length > 0 ? [`# also served (token exchange audiences): ${others.join(' ')}`] : []),
      '',
      `Development issuer ${issuer.issuer} (not for production; Ctrl+C stops it)`,
      `  client credentials: client_id=${issuer.clientId} client_secret=${issuer.clientSecret}  scopes: ${scopeList || '(none)'}`,
      `  Swagger UI (authorization code + PKCE): client_id=${SPA_CLIENT_ID}, for ${origins.join(', ')}`,
      `  signing key: ${keyFile ? `${displayPath(keyFile, io.cwd)} (kept across restarts; --ephemeral-key for a new one each start)` : 'in memory (a new one each start)'}`,
      ...(organizations.length > 0 ? [`  organizations: ${organizations.map((o) => (o.name ? `${o.id} (${o.name})` : o.id)).join(', ')}`] : []),
      '',
      'Get a token:',
      `  npx auth0-tsoa-api token${tokenArgs}${scopeList ? ` --scope "${scopeList}"` : ''}`,
      `  curl -s -u ${issuer.clientId}:${issuer.clientSecret} -d grant_type=client_credentials -d audience=${audience} ${issuer.tokenEndpoint}`,
      '',
    ].join('\n'),
  );

  await io.stopped;
  await issuer.close();
  return 0;
}

const TOKEN_OPTIONS = {
  issuer: { type: 'string' },
  audience: { type: 'string' },
  scope: { type: 'string' },
  org: { type: 'string' },
  acr: { type: 'string' },
  'auth-time': { type: 'string' },
  claim: { type: 'string', multiple: true },
  'client-id': { type: 'string' },
  'client-secret': { type: 'string' },
} as const;

type TokenValues = { [K in keyof typeof TOKEN_OPTIONS]?: (typeof TOKEN_OPTIONS)[K] extends { multiple: true } ? string[] : string };

async function token(args: string[], io: CommandIo): Promise<number> {
  const values = parse(args, TOKEN_OPTIONS);
  if (values.help) {
    io.stdout(`${TOKEN_HELP}\n`);
    return 0;
  }
  const accessToken = await requestDevToken(tokenRequest(values));
  io.stdout(`${accessToken}\n`);
  return 0;
}

/** The token request the shared options describe. */
function tokenRequest(values: TokenValues): DevTokenRequest {
  const claims = Object.fromEntries((values.claim ?? []).map(parseClaim));
  return {
    ...(values.issuer ? { issuer: values.issuer } : {}),
    ...(values.audience ? { audience: values.audience } : {}),
    ...(values.scope !== undefined ? { scope: values.scope } : {}),
    ...(values.org ? { organization: values.org } : {}),
    ...(values.acr !== undefined ? { acr: parseAcr(values.acr) } : {}),
    ...(values['auth-time'] !== undefined ? { authTime: parseAuthTime(values['auth-time']) } : {}),
    ...(Object.keys(claims).length > 0 ? { claims } : {}),
    ...(values['client-id'] ? { clientId: values['client-id'] } : {}),
    ...(values['client-secret'] ? { clientSecret: values['client-secret'] } : {}),
  };
}

async function call(args: string[], io: CommandIo): Promise<number> {
  const { values, positionals } = parseWithPositionals(args, { ...TOKEN_OPTIONS, method: { type: 'string', short: 'X' }, data: { type: 'string' }, dpop: { type: 'boolean' } }, true);
  if (values.help) {
    io.stdout(`${CALL_HELP}\n`);
    return 0;
  }
  if (positionals.length !== 1) throw new UsageError('give one URL to call, e.g. http://127.0.0.1:3000/api/messages (see --help)');
  const url = positionals[0]!;
  if (!/^https?:\/\//i.test(url) || !URL.canParse(url)) throw new UsageError(`expected an http(s) URL to call, got "${url}"`);
  const method = (values.method ?? 'GET').toUpperCase();
  if (!/^[A-Z]{1,16}$/.test(method)) throw new UsageError(`--method expects an HTTP method such as GET, got "${values.method}"`);
  if (values.data !== undefined) {
    try {
      JSON.parse(values.data);
    } catch {
      throw new UsageError('--data expects JSON, e.g. \'{"name": "x"}\'');
    }
  }
  // The DPoP helper is loaded only for --dpop.
  const dpop = values.dpop ? await import('../client/dpop.js') : undefined;
  const keyPair = dpop ? await dpop.createDpopKeyPair() : undefined;
  const accessToken = await requestDevToken({ ...tokenRequest(values), ...(keyPair ? { dpop: keyPair } : {}) });
  const init: RequestInit = {
    method,
    ...(values.data !== undefined ? { body: values.data, headers: { 'content-type': 'application/json' } } : {}),
  };
  let response: Response;
  try {
    response = dpop && keyPair ? await dpop.createDpopFetch(keyPair, accessToken)(url, init) : await fetch(url, { ...init, headers: { ...(init.headers as Record<string, string> | undefined), authorization: `Bearer ${accessToken}` } });
  } catch (error) {
    throw new UsageError(`cannot reach ${url}: ${(error as { cause?: { code?: string } }).cause?.code ?? (error as Error).message}`);
  }
  io.stderr(`HTTP ${response.status}${keyPair ? ' (DPoP)' : ''}\n`);
  io.stdout(`${await response.text()}\n`);
  return response.ok ? 0 : 1;
}

/** `--acr`: printable, no spaces or quotes (it goes into `acr_values` challenges too). */
function parseAcr(value: string): string {
  if (!/^[\x21\x23-\x5b\x5d-\x7e]{1,255}$/.test(value)) throw new UsageError(`--acr expects an acr value without spaces or quotes, got "${value}"`);
  return value;
}

function parseAuthTime(value: string): number {
  if (!/^\d{1,12}$/.test(value.trim())) throw new UsageError(`--auth-time expects Unix seconds such as ${Math.floor(Date.now() / 1000)}, got "${value}"`);
  return Number(value.trim());
}

/** Claims the issuer decides; `--claim` cannot set them. */
const RESERVED_CLAIMS = ['iss', 'sub', 'aud', 'exp', 'iat', 'nbf', 'jti', 'client_id', 'scope', 'cnf', 'act', 'azp', 'gty', 'acr', 'auth_time'];

/** `NAME=VALUE`: a JSON VALUE is parsed (`["a"]`, `2`, `"org_1"`), anything else is a string. */
function parseClaim(text: string): [string, unknown] {
  const at = text.indexOf('=');
  const name = at === -1 ? '' : text.slice(0, at);
  if (!/^[A-Za-z_][A-Za-z0-9_:./-]{0,99}$/.test(name) || name === '__proto__') throw new UsageError(`--claim expects NAME=VALUE such as roles='["admin"]', got "${text}"`);
  if (RESERVED_CLAIMS.includes(name)) throw new UsageError(`--claim cannot set "${name}" (the issuer decides it${name === 'acr' || name === 'auth_time' ? `; use --${name.replace('_', '-')}` : ''})`);
  const raw = text.slice(at + 1);
  try {
    return [name, JSON.parse(raw)];
  } catch {
    return [name, raw];
  }
}

async function setup(args: string[], io: CommandIo): Promise<number> {
  const values = parse(args, {
    audience: { type: 'string' },
    name: { type: 'string' },
    spec: { type: 'string' },
  });
  if (values.help) {
    io.stdout(`${SETUP_HELP}\n`);
    return 0;
  }
  const scopes = readSpecScopes(values.spec ?? findTsoaSpec(io.cwd), io.cwd);
  return runSetup({
    cwd: io.cwd,
    scopes,
    audience: values.audience,
    name: values.name,
    env: io.env,
    out: (line) => io.stdout(`${line}\n`),
    err: (line) => io.stderr(`${line}\n`),
  });
}

function parsePort(value: string | undefined): number {
  if (value === undefined) return DEFAULT_DEV_PORT;
  const port = Number(value.trim());
  if (value.trim() === '' || !Number.isInteger(port) || port < 0 || port > 65535) throw new UsageError(`--port expects a port number, got "${value}"`);
  return port;
}

function parseOrigin(value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new UsageError(`--origin expects your app's origin such as http://127.0.0.1:3000, got "${value}"`);
  }
  if ((url.protocol !== 'http:' && url.protocol !== 'https:') || url.pathname !== '/' || url.search || url.hash || url.username) {
    throw new UsageError(`--origin expects an origin without a path such as http://127.0.0.1:3000, got "${value}"`);
  }
  return url.origin;
}

function parseOrganization(value: string): DevOrganization {
  const [id = '', name, extra] = value.split(':');
  if (extra !== undefined || !/^org_[A-Za-z0-9]+$/.test(id) || (name !== undefined && !/^[a-z0-9][a-z0-9_-]*$/i.test(name))) {
    throw new UsageError(`--org expects ID or ID:NAME such as org_abc123:acme, got "${value}"`);
  }
  return name === undefined ? { id } : { id, name };
}

/**
 * The development issuer's key file: `--key-file` (relative to the working folder), else
 * node_modules/.cache/auth0-tsoa-api/dev-issuer-key.json when the app has node_modules, else the user's cache folder
 * ($XDG_CACHE_HOME or ~/.cache). Kept by default so that restarting `dev` does not leave the running app with an
 * unknown `kid` until its key-set cache refreshes. Never used in production: `dev` refuses to start there.
 */
function resolveKeyFile(option: string | undefined, io: CommandIo): string {
  if (option !== undefined) {
    if (option.trim() === '') throw new UsageError('--key-file expects a file name');
    return isAbsolute(option) ? option : join(io.cwd, option);
  }
  const modules = join(io.cwd, 'node_modules');
  if (existsSync(modules)) return join(modules, '.cache', 'auth0-tsoa-api', 'dev-issuer-key.json');
  const cache = io.env.XDG_CACHE_HOME?.trim() || join(io.env.HOME?.trim() || homedir(), '.cache');
  return join(cache, 'auth0-tsoa-api', 'dev-issuer-key.json');
}

/** A path as the user would type it: relative to the working folder when it is inside it. */
function displayPath(path: string, cwd: string): string {
  const inside = relative(cwd, path);
  return inside && !inside.startsWith('..') && !isAbsolute(inside) ? inside : path;
}
