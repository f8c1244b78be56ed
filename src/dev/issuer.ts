/**
 * A local OpenID provider for development, built on `oidc-provider` (an optional peer dependency, loaded when the
 * issuer starts).
 *
 * `npx auth0-tsoa-api dev` and the repository's demo start it, so any app gets real access tokens (Bearer or DPoP)
 * without an Auth0 account; an app's tests can start it from code. It behaves like an Auth0 tenant where it matters
 * to an API: Auth0's endpoint paths (`/authorize`, `/oauth/token`, `/.well-known/jwks.json`), JWT access tokens
 * signed RS256, `audience=` on the token endpoint, all the client's scopes granted when none are requested, and
 * Auth0 Organizations' `organization=` parameter (`org_id` / `org_name` claims).
 *
 * It keeps everything in memory and accepts any user name on its login page: it refuses to start when `NODE_ENV`
 * is production-like or `AUTH0_PUBLIC_URL` is an https:// URL (see ./environment.ts).
 */
import { createHash, generateKeyPair, randomBytes, type JsonWebKey } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { promisify } from 'node:util';
import { assertDevelopmentEnvironment } from './environment.js';
import { honourAcrValues, registerTokenExchange, requestedTokenClaims, stepUpInteractionPolicy, TOKEN_EXCHANGE_GRANT } from './issuer-grants.js';

/** An Auth0 Organization the development issuer knows: tokens requested with `organization=<id or name>` carry it. */
export interface DevOrganization {
  /** The organization ID, `org_` followed by letters and digits (Auth0's format), e.g. `org_abc123`. Goes into `org_id`. */
  id: string;
  /** The organization name, e.g. `acme`. Goes into `org_name` when set (Auth0 adds it when the tenant allows names). */
  name?: string;
}

/** Options of {@link startDevIssuer}. */
export interface DevIssuerOptions {
  /** Listen on 127.0.0.1:<port>; 0 picks a free port (tests). */
  port: number;
  /** The API identifier tokens are issued for, e.g. 'https://api.example.com'. */
  audience: string;
  /**
   * More API identifiers it serves (e.g. a downstream API that tokens are exchanged for, RFC 8693); `audience` stays
   * the default.
   */
  audiences?: readonly string[];
  /** Scope -> description, e.g. { 'read:messages': 'Read messages' }. */
  scopes: Record<string, string>;
  /** Confidential client for client_credentials. Default 'demo-client'. */
  clientId?: string;
  /** Default 'demo-secret'. */
  clientSecret?: string;
  /** Redirect URIs of the public PKCE client 'demo-spa' (e.g. Swagger UI's oauth2-redirect.html). */
  spaRedirectUris?: string[];
  /** Browser origins allowed to call the token endpoint (the demo's origin, for Swagger UI); the origins of spaRedirectUris are allowed too. */
  corsOrigins?: string[];
  /** JSON file that keeps the signing key across restarts (keep it git-ignored). Default: a new key each start. */
  keyFile?: string;
  /** Organizations a token request may name with `organization=` (Auth0 Organizations). Default none. */
  organizations?: readonly DevOrganization[];
  /**
   * The environment checked for a production-like setting (`NODE_ENV` production/prod, an https:// `AUTH0_PUBLIC_URL`),
   * where the issuer refuses to start. Default `process.env`.
   */
  env?: NodeJS.ProcessEnv;
}

/** A running development issuer. */
export interface DevIssuer {
  /** Exactly as the discovery document reports it, with a trailing slash like Auth0: 'http://127.0.0.1:3001/'. */
  issuer: string;
  /** The value for `AUTH0_DOMAIN`: the issuer's origin, e.g. 'http://127.0.0.1:3001'. */
  domain: string;
  /** The API identifier its tokens are issued for (the default). */
  audience: string;
  /** Every API identifier it serves, the default first. */
  audiences: string[];
  /** The scopes it grants, as configured. */
  scopes: Record<string, string>;
  /** Its discovery document (`/.well-known/openid-configuration`). */
  discoveryUrl: string;
  /** Token endpoint (Auth0 path `/oauth/token`). */
  tokenEndpoint: string;
  /** Authorization endpoint (Auth0 path `/authorize`). */
  authorizationEndpoint: string;
  /** Key set (Auth0 path `/.well-known/jwks.json`). */
  jwksUri: string;
  /** The confidential client for client credentials (default `demo-client`). */
  clientId: string;
  /** Its secret (default `demo-secret`). */
  clientSecret: string;
  /** The public client (authorization code + PKCE) for Swagger UI: {@link SPA_CLIENT_ID}. */
  spaClientId: string;
  /** Stops listening and drops open connections. */
  close(): Promise<void>;
}

/** The public client (authorization code + PKCE) registered for Swagger UI. */
export const SPA_CLIENT_ID = 'demo-spa';

/** The oauth2-redirect.html of Swagger UI mounted at `/docs` on an app's origin: the SPA client's redirect URI. */
export function docsRedirectUri(origin: string): string {
  return `${new URL(origin).origin}/docs/oauth2-redirect.html`;
}

const ACCESS_TOKEN_TTL = 60 * 60; // 1 hour, like Auth0's default
const SESSION_TTL = 8 * 60 * 60;

// ---------------------------------------------------------------------------------------------
// The slice of oidc-provider we use. It ships no type declarations, so we describe what we touch.
// ---------------------------------------------------------------------------------------------

interface OidcParams {
  scope?: string;
  organization?: string;
  resource?: string | string[];
  audience?: string;
  grant_type?: string;
}

interface OidcContext {
  route: string;
  params?: OidcParams;
  /** The parsed form body; unlike `params`, it keeps parameters oidc-provider does not know. */
  body?: Record<string, unknown>;
  client?: { clientId: string };
  account?: { accountId: string };
  session: { grantIdFor(clientId: string): string | undefined };
  result?: { consent?: { grantId?: string } };
  provider: ProviderInstance;
}

interface KoaContext {
  oidc: OidcContext;
  type: string;
  body: unknown;
}

interface Grant {
  accountId: string;
  clientId: string;
  addOIDCScope(scope: string): void;
  addResourceScope(resource: string, scope: string): void;
  save(): Promise<string>;
}

interface GrantClass {
  new (init: { accountId: string; clientId: string }): Grant;
  find(id: string): Promise<Grant | undefined>;
}

interface ProviderInstance {
  Grant: GrantClass;
  urlFor(route: 'token' | 'authorization' | 'jwks'): string;
  callback(): (req: IncomingMessage, res: ServerResponse) => void;
}

type OidcError = new (description?: string, detail?: string) => Error;

interface OidcProviderModule {
  Provider: new (issuer: string, configuration: object) => ProviderInstance;
  errors: { InvalidTarget: OidcError; InvalidScope: OidcError; InvalidRequest: OidcError; InvalidGrant: OidcError };
  interactionPolicy: Parameters<typeof stepUpInteractionPolicy>[0];
}

interface ClientToken {
  kind: string;
  clientId: string;
}

// ---------------------------------------------------------------------------------------------

/**
 * Starts the issuer on 127.0.0.1 and resolves once it accepts requests.
 *
 * @example
 * ```ts
 * import { startDevIssuer } from 'auth0-tsoa-api/dev';
 * const issuer = await startDevIssuer({ port: 0, audience: 'https://api.example.com', scopes: { 'read:messages': 'Read messages' } });
 * process.env.AUTH0_DOMAIN = issuer.domain; // then start your app and get tokens with requestDevToken()
 * ```
 */
export async function startDevIssuer(options: DevIssuerOptions): Promise<DevIssuer> {
  assertDevelopmentEnvironment(options.env ?? process.env);
  assertAbsoluteUri(options.audience);
  for (const audience of options.audiences ?? []) assertAbsoluteUri(audience);
  for (const organization of options.organizations ?? []) assertOrganization(organization);

  const clientId = options.clientId ?? 'demo-client';
  const clientSecret = options.clientSecret ?? 'demo-secret';
  const signingKey = await loadOrCreateSigningKey(options.keyFile);

  // The issuer URL contains the port, so listen first (port 0 = ephemeral) and build the provider after.
  const server = createServer();
  const port = await listen(server, options.port);
  const issuer = `http://127.0.0.1:${port}/`;

  let provider: ProviderInstance;
  try {
    const { Provider, errors, interactionPolicy } = await loadOidcProvider();
    const configuration = { ...buildConfiguration({ options, clientId, clientSecret, signingKey, errors }), ...stepUpConfiguration(interactionPolicy) };
    provider = await quietly(async () => new Provider(issuer, configuration));
    addStepUpAndExchange(provider, { options, clientId, signingKey, errors });
  } catch (error) {
    await closeServer(server); // e.g. an invalid redirect URI: do not leave the port taken
    throw error;
  }
  server.on('request', provider.callback());

  return {
    issuer,
    domain: new URL(issuer).origin,
    audience: options.audience,
    audiences: servedAudiences(options),
    scopes: { ...options.scopes },
    discoveryUrl: new URL('.well-known/openid-configuration', issuer).href,
    tokenEndpoint: provider.urlFor('token'),
    authorizationEndpoint: provider.urlFor('authorization'),
    jwksUri: provider.urlFor('jwks'),
    clientId,
    clientSecret,
    spaClientId: SPA_CLIENT_ID,
    close: () => closeServer(server),
  };
}

// A variable specifier keeps TypeScript from looking for declarations oidc-provider does not
// ship, and loads it (an optional peer dependency) only when the dev issuer actually starts.
const OIDC_PROVIDER = 'oidc-provider';

/** Thrown when the optional peer dependency oidc-provider is not installed; the message says how to install it. */
export class MissingOidcProviderError extends Error {
  /** The error's class name, MissingOidcProviderError (stable: safe to compare). */
  override readonly name = 'MissingOidcProviderError';
}

async function loadOidcProvider(): Promise<OidcProviderModule> {
  try {
    return await quietly(() => import(OIDC_PROVIDER) as Promise<OidcProviderModule>);
  } catch (error) {
    const { code, message } = error as NodeJS.ErrnoException;
    // Only oidc-provider itself missing; a broken install of one of its dependencies keeps its own error.
    if ((code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') && message.includes(`'${OIDC_PROVIDER}'`)) {
      throw new MissingOidcProviderError('auth0-tsoa-api: the development issuer needs the oidc-provider package: npm install --save-dev oidc-provider', { cause: error });
    }
    throw error;
  }
}

interface ConfigurationInput {
  options: DevIssuerOptions;
  clientId: string;
  clientSecret: string;
  signingKey: RsaPrivateJwk;
  errors: OidcProviderModule['errors'];
}

function buildConfiguration({ options, clientId, clientSecret, signingKey, errors }: ConfigurationInput): object {
  const { audience } = options;
  const apiScopes = Object.keys(options.scopes);
  const corsOrigins = allowedOrigins(options);
  const organizations = options.organizations ?? [];

  return {
    clients: [
      {
        client_id: clientId,
        client_secret: clientSecret,
        grant_types: ['client_credentials', TOKEN_EXCHANGE_GRANT],
        response_types: [],
        redirect_uris: [],
        // oidc-provider accepts client_secret_post for a client_secret_basic client too.
        token_endpoint_auth_method: 'client_secret_basic',
        // No `scope` here: client metadata may only list OpenID scopes; applyScopeRules checks API scopes.
      },
      {
        client_id: SPA_CLIENT_ID,
        client_name: 'Demo SPA (Swagger UI)',
        token_endpoint_auth_method: 'none', // public client: PKCE S256 is required
        grant_types: ['authorization_code'],
        response_types: ['code'],
        redirect_uris: options.spaRedirectUris ?? [],
      },
    ],
    clientAuthMethods: ['client_secret_basic', 'client_secret_post', 'none'],
    // Auth0's paths, so `https://<AUTH0_DOMAIN>/oauth/token` style URLs work against this issuer too.
    routes: {
      authorization: '/authorize',
      token: '/oauth/token',
      jwks: '/.well-known/jwks.json',
      userinfo: '/userinfo',
      revocation: '/oauth/revoke',
      end_session: '/oidc/logout',
    },
    jwks: { keys: [signingKey] },
    cookies: { keys: [randomBytes(32).toString('base64url')] },
    // Auth0 style `audience=` on the authorization endpoint (the token endpoint reads it from the body).
    extraParams: ['audience'],
    features: {
      clientCredentials: { enabled: true },
      devInteractions: { enabled: true }, // login page that accepts any user name
      dPoP: { enabled: true },
      rpInitiatedLogout: { enabled: false },
      resourceIndicators: {
        enabled: true,
        // No `resource`: use `audience`, else the one API this issuer knows.
        defaultResource: (ctx: KoaContext) => requestedAudience(ctx) ?? audience,
        // Keep the API token even when `openid` is requested in the code flow.
        useGrantedResource: () => true,
        getResourceServerInfo: (ctx: KoaContext, resource: string) => {
          const named = requestedAudience(ctx);
          if (!servedAudiences(options).includes(resource) || (named !== undefined && named !== resource)) {
            throw new errors.InvalidTarget(`unknown audience, this issuer only issues tokens for ${servedAudiences(options).join(', ')}`);
          }
          // oidc-provider asks for the API's details before it reads `scope`: Auth0's rules fit here.
          applyScopeRules(ctx, apiScopes, errors.InvalidScope);
          if (requestedOrganization(ctx) !== undefined && !findOrganization(organizations, requestedOrganization(ctx)!)) {
            throw new errors.InvalidRequest(`unknown organization "${requestedOrganization(ctx)}"`);
          }
          return resourceServerInfo(resource, apiScopes);
        },
      },
    },
    // The SPA is first-party: consent to all API scopes is implied, so only the login form shows.
    loadExistingGrant: (ctx: KoaContext) => loadOrCreateGrant(ctx, audience, apiScopes),
    extraTokenClaims: (ctx: KoaContext, token: ClientToken) => ({ ...auth0Claims(ctx, token, organizations), ...requestedTokenClaims(ctx, token) }),
    findAccount: (_ctx: KoaContext, sub: string) => ({ accountId: sub, claims: () => ({ sub }) }),
    clientBasedCORS: (_ctx: KoaContext, origin: string) => corsOrigins.has(origin),
    renderError: (ctx: KoaContext, out: Record<string, string>) => {
      ctx.type = 'json';
      ctx.body = out;
    },
    // Explicit lifetimes (the defaults print a notice when used).
    ttl: {
      AccessToken: ACCESS_TOKEN_TTL,
      ClientCredentials: ACCESS_TOKEN_TTL,
      AuthorizationCode: 60,
      IdToken: ACCESS_TOKEN_TTL,
      Interaction: 10 * 60,
      Session: SESSION_TTL,
      Grant: SESSION_TTL,
    },
  };
}

/** What oidc-provider needs to issue JWT access tokens for `audience`. */
function resourceServerInfo(audience: string, apiScopes: readonly string[]): object {
  return { audience, scope: apiScopes.join(' '), accessTokenFormat: 'jwt', accessTokenTTL: ACCESS_TOKEN_TTL, jwt: { sign: { alg: 'RS256' } } };
}

/** `audience` first, then the other served audiences. */
function servedAudiences(options: DevIssuerOptions): string[] {
  return [...new Set([options.audience, ...(options.audiences ?? [])])];
}

/** Step-up (RFC 9470) at the authorization endpoint: `acr_values` decides whether the session's sign-in will do. */
function stepUpConfiguration(interactionPolicy: OidcProviderModule['interactionPolicy']): object {
  return { interactions: { policy: stepUpInteractionPolicy(interactionPolicy) } };
}

/** The sign-in meets the requested `acr_values`; the confidential client may exchange tokens (RFC 8693). */
function addStepUpAndExchange(provider: ProviderInstance, input: { options: DevIssuerOptions; clientId: string; signingKey: RsaPrivateJwk; errors: OidcProviderModule['errors'] }): void {
  const withGrants = provider as unknown as Parameters<typeof registerTokenExchange>[0];
  honourAcrValues(withGrants);
  const apiScopes = Object.keys(input.options.scopes);
  registerTokenExchange(withGrants, {
    clientId: input.clientId,
    audiences: servedAudiences(input.options),
    scopes: apiScopes,
    signingKey: input.signingKey,
    resourceServer: (audience) => resourceServerInfo(audience, apiScopes),
    errors: input.errors,
  });
}

/** `corsOrigins`, plus the SPA's own origins (a browser app calls the token endpoint from there). */
function allowedOrigins(options: DevIssuerOptions): Set<string> {
  const spaOrigins = (options.spaRedirectUris ?? []).map((uri) => new URL(uri).origin);
  return new Set([...(options.corsOrigins ?? []), ...spaOrigins]);
}

/** The Auth0 `audience` parameter: a known parameter on /auth, a raw body field on /token. */
function requestedAudience(ctx: KoaContext): string | undefined {
  const value = ctx.oidc.params?.audience ?? ctx.oidc.body?.audience;
  return typeof value === 'string' && value !== '' ? value : undefined;
}

/**
 * Auth0's scope rules, which differ from oidc-provider's (it silently drops unknown scopes and
 * grants none when none are asked for): refuse a scope the API does not define, and for
 * client_credentials without `scope`, grant every scope the client may have.
 */
function applyScopeRules(ctx: KoaContext, apiScopes: string[], InvalidScope: OidcError): void {
  const params = ctx.oidc.params;
  if (!params) return;

  const clientCredentials = params.grant_type === 'client_credentials';
  if (clientCredentials && !params.scope) {
    params.scope = apiScopes.join(' ');
    return;
  }
  // A user login (code flow) may also ask for an ID token; a machine client only gets API scopes.
  const known = new Set(clientCredentials ? apiScopes : [...apiScopes, 'openid', 'offline_access']);
  const unknown = (params.scope ?? '').split(' ').filter((scope) => scope !== '' && !known.has(scope));
  if (unknown.length > 0) {
    throw new InvalidScope('requested scope is not allowed', unknown.join(' '));
  }
}

async function loadOrCreateGrant(ctx: KoaContext, audience: string, apiScopes: string[]): Promise<Grant | undefined> {
  const { client, account, provider, session, result } = ctx.oidc;
  if (!client) return undefined;

  // What oidc-provider does by default: reuse the grant of this login session.
  const grantId = result?.consent?.grantId ?? session.grantIdFor(client.clientId);
  const existing = grantId ? await provider.Grant.find(grantId) : undefined;
  if (existing || client.clientId !== SPA_CLIENT_ID || !account) return existing;

  const grant = new provider.Grant({ accountId: account.accountId, clientId: client.clientId });
  grant.addOIDCScope('openid');
  grant.addResourceScope(audience, apiScopes.join(' '));
  await grant.save();
  return grant;
}

/** Claims Auth0 adds to its access tokens, which some APIs read; `org_id` (and `org_name`) for `organization=`. */
function auth0Claims(ctx: KoaContext, token: ClientToken, organizations: readonly DevOrganization[]): Record<string, string> {
  const claims: Record<string, string> = token.kind === 'ClientCredentials' ? { azp: token.clientId, gty: 'client-credentials' } : { azp: token.clientId };
  const named = token.kind === 'ClientCredentials' ? requestedOrganization(ctx) : undefined;
  const organization = named === undefined ? undefined : findOrganization(organizations, named);
  if (organization) {
    claims.org_id = organization.id;
    if (organization.name) claims.org_name = organization.name;
  }
  return claims;
}

/** Auth0's `organization` token parameter (an organization ID or name): a raw body field oidc-provider does not know. */
function requestedOrganization(ctx: KoaContext): string | undefined {
  const value = ctx.oidc.params?.organization ?? ctx.oidc.body?.organization;
  return typeof value === 'string' && value !== '' ? value : undefined;
}

/** Auth0 accepts the ID (exact) or the name (names are case-insensitive). */
function findOrganization(organizations: readonly DevOrganization[], named: string): DevOrganization | undefined {
  return organizations.find((organization) => organization.id === named) ?? organizations.find((organization) => organization.name !== undefined && organization.name.toLowerCase() === named.toLowerCase());
}

// ---------------------------------------------------------------------------------------------
// Signing key
// ---------------------------------------------------------------------------------------------

/** An RSA private key as a JWK (RFC 7517), with the members oidc-provider needs. */
interface RsaPrivateJwk extends JsonWebKey {
  kty: 'RSA';
  n: string;
  e: string;
  d: string;
  kid: string;
  alg: 'RS256';
  use: 'sig';
}

/** RSA 2048 RS256 private JWK with a `kid`: read from keyFile if present, else generated (and saved). */
async function loadOrCreateSigningKey(keyFile: string | undefined): Promise<RsaPrivateJwk> {
  if (keyFile) {
    const saved = await readKeyFile(keyFile);
    if (saved) return saved;
  }
  const key = await generateSigningKey();
  if (keyFile) await saveKeyFile(keyFile, key);
  return key;
}

/**
 * Writes the key file (owner-only), creating its folder (e.g. node_modules/.cache/auth0-tsoa-api). Written to a
 * temporary name, then renamed: an issuer starting at the same moment never reads half a file.
 */
async function saveKeyFile(keyFile: string, key: RsaPrivateJwk): Promise<void> {
  await mkdir(dirname(keyFile), { recursive: true });
  const temporary = `${keyFile}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  await writeFile(temporary, `${JSON.stringify(key, null, 2)}\n`, { mode: 0o600 });
  await rename(temporary, keyFile);
}

async function readKeyFile(keyFile: string): Promise<RsaPrivateJwk | undefined> {
  let text: string;
  try {
    text = await readFile(keyFile, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  const key = JSON.parse(text) as Partial<RsaPrivateJwk>;
  if (key.kty !== 'RSA' || !key.n || !key.e || !key.d || !key.kid) {
    throw new Error(`${keyFile} does not hold an RSA private JWK with a kid: delete it to generate a new key.`);
  }
  return { ...key, kty: 'RSA', n: key.n, e: key.e, d: key.d, kid: key.kid, alg: 'RS256', use: 'sig' };
}

/** A new RSA 2048 key with node:crypto; its `kid` is the RFC 7638 thumbprint, as Auth0 and jose would make it. */
async function generateSigningKey(): Promise<RsaPrivateJwk> {
  const { privateKey } = await promisify(generateKeyPair)('rsa', { modulusLength: 2048 });
  const jwk = privateKey.export({ format: 'jwk' });
  const n = jwk.n!;
  const e = jwk.e!;
  return { ...jwk, kty: 'RSA', n, e, d: jwk.d!, kid: rsaThumbprint(n, e), alg: 'RS256', use: 'sig' };
}

/** RFC 7638 §3: SHA-256 over the required members in lexicographic order, no whitespace; base64url. */
function rsaThumbprint(n: string, e: string): string {
  return createHash('sha256')
    .update(JSON.stringify({ e, kty: 'RSA', n }))
    .digest('base64url');
}

// ---------------------------------------------------------------------------------------------
// Plumbing
// ---------------------------------------------------------------------------------------------

function assertOrganization(organization: DevOrganization): void {
  // `org_` IDs and names must not be confused: Auth0 tells them apart by that prefix, and so do organization checks.
  if (!/^org_[A-Za-z0-9]+$/.test(organization.id)) {
    throw new Error(`The dev issuer needs organization IDs like "org_abc123" (org_ then letters and digits), got "${organization.id}".`);
  }
  if (organization.name !== undefined && !/^[a-z0-9][a-z0-9_-]*$/i.test(organization.name)) {
    throw new Error(`The dev issuer needs organization names of letters, digits, "-" and "_" (like Auth0's), got "${organization.name}".`);
  }
}

function assertAbsoluteUri(audience: string): void {
  // RFC 8707 resource indicators must be absolute URIs, so the audience must be one too.
  if (!URL.canParse(audience)) {
    throw new Error(`The dev issuer needs an absolute URI as audience (e.g. https://api.example.com), got "${audience}".`);
  }
}

function listen(server: Server, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      server.off('error', reject);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve, reject) => {
    server.close((error) => (error ? reject(error) : resolve()));
    // Browsers and fetch keep connections alive; drop them so close() does not wait for their timeout.
    server.closeAllConnections();
  });
}

/**
 * oidc-provider prints development notices (in-memory adapter, dev interactions, Node.js version)
 * while it loads and starts. They are expected here, so hide just those lines.
 */
async function quietly<T>(start: () => Promise<T>): Promise<T> {
  const { info, warn } = console;
  const filter =
    (log: (...args: unknown[]) => void) =>
    (...args: unknown[]) => {
      if (!String(args[0]).includes('oidc-provider ')) log(...args);
    };
  console.info = filter(info);
  console.warn = filter(warn);
  try {
    return await start();
  } finally {
    console.info = info;
    console.warn = warn;
  }
}
