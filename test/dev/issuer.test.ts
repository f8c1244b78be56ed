/**
 * Black-box tests of the development issuer (src/dev/issuer.ts): real HTTP, real clients (oauth4webapi, dpop, jose).
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import * as oauth from 'oauth4webapi';
import * as dpop from 'dpop';
import { calculateJwkThumbprint, createRemoteJWKSet, exportJWK, jwtVerify, type JWTPayload } from 'jose';
import { DevIssuerRefusedError, isProductionLike, startDevIssuer, type DevIssuer, type DevIssuerOptions } from '../../src/dev/index.js';

const AUDIENCE = 'https://api.example.com';
const SCOPES = { 'read:messages': 'Read messages', 'read:data': 'Read data', 'write:data': 'Write data' };
const ALL_SCOPES = Object.keys(SCOPES).join(' ');
const DEMO_ORIGIN = 'http://127.0.0.1:3000';
const SPA_REDIRECT_URI = `${DEMO_ORIGIN}/docs/oauth2-redirect.html`;

const options: DevIssuerOptions = {
  port: 0,
  audience: AUDIENCE,
  scopes: SCOPES,
  spaRedirectUris: [SPA_REDIRECT_URI],
  corsOrigins: [DEMO_ORIGIN],
};

// oauth4webapi refuses http:// unless told otherwise; the dev issuer is plain HTTP on loopback.
const insecure = { [oauth.allowInsecureRequests]: true } as const;

let issuer: DevIssuer;
let as: oauth.AuthorizationServer;
let jwks: ReturnType<typeof createRemoteJWKSet>;

beforeAll(async () => {
  issuer = await startDevIssuer(options);
  const issuerUrl = new URL(issuer.issuer);
  as = await oauth.processDiscoveryResponse(issuerUrl, await oauth.discoveryRequest(issuerUrl, insecure));
  jwks = createRemoteJWKSet(new URL(issuer.jwksUri));
});

afterAll(async () => {
  await issuer?.close();
});

/** Verifies an access token the way an API does, and returns its claims. */
async function verifyAccessToken(token: string): Promise<JWTPayload> {
  const { payload, protectedHeader } = await jwtVerify(token, jwks, {
    issuer: issuer.issuer,
    audience: AUDIENCE,
    typ: 'at+jwt',
    algorithms: ['RS256'],
  });
  expect(protectedHeader.kid).toEqual(expect.any(String));
  expect(payload.jti).toEqual(expect.any(String));
  expect(payload.iat).toEqual(expect.any(Number));
  expect(payload.exp! - payload.iat!).toBe(3600);
  return payload;
}

function demoClient(): oauth.Client {
  return { client_id: issuer.clientId };
}

/** A client_credentials request with oauth4webapi; returns the raw Response. */
function clientCredentials(auth: oauth.ClientAuth, parameters: Record<string, string>): Promise<Response> {
  return oauth.clientCredentialsGrantRequest(as, demoClient(), auth, parameters, insecure);
}

/** A client_credentials request with plain fetch and HTTP Basic. */
function postToken(body: Record<string, string>, headers: Record<string, string> = {}): Promise<Response> {
  const basic = Buffer.from(`${issuer.clientId}:${issuer.clientSecret}`).toString('base64');
  return fetch(issuer.tokenEndpoint, {
    method: 'POST',
    headers: { authorization: `Basic ${basic}`, 'content-type': 'application/x-www-form-urlencoded', ...headers },
    body: new URLSearchParams({ grant_type: 'client_credentials', ...body }),
  });
}

describe('discovery', () => {
  it('reports issuer and endpoints, with the issuer exactly as returned by startDevIssuer', async () => {
    const metadata = (await (await fetch(issuer.discoveryUrl)).json()) as Record<string, unknown>;
    expect(metadata).toMatchObject({
      issuer: issuer.issuer,
      token_endpoint: issuer.tokenEndpoint,
      authorization_endpoint: issuer.authorizationEndpoint,
      jwks_uri: issuer.jwksUri,
    });
    expect(issuer.issuer).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
    expect(issuer.clientId).toBe('demo-client');
    expect(issuer.clientSecret).toBe('demo-secret');
  });

  it("serves Auth0's endpoint paths, so https://<AUTH0_DOMAIN>/oauth/token style URLs work against it too", () => {
    expect(new URL(issuer.tokenEndpoint).pathname).toBe('/oauth/token');
    expect(new URL(issuer.authorizationEndpoint).pathname).toBe('/authorize');
    expect(new URL(issuer.jwksUri).pathname).toBe('/.well-known/jwks.json');
    expect(issuer.domain).toBe(new URL(issuer.issuer).origin);
    expect(`${issuer.domain}/`).toBe(issuer.issuer);
  });

  it('names its key by its RFC 7638 thumbprint (made with node:crypto, equal to what jose computes)', async () => {
    const { keys } = (await (await fetch(issuer.jwksUri)).json()) as { keys: Record<string, string>[] };
    expect(keys[0]!.kid).toBe(await calculateJwkThumbprint(keys[0]!));
    expect(keys[0]!.e).toBe('AQAB');
  });

  it('publishes one RSA RS256 signing key with a kid', async () => {
    const { keys } = (await (await fetch(issuer.jwksUri)).json()) as { keys: Record<string, unknown>[] };
    expect(keys).toHaveLength(1);
    expect(keys[0]).toMatchObject({ kty: 'RSA', alg: 'RS256', use: 'sig', kid: expect.any(String) });
    expect(keys[0]).not.toHaveProperty('d');
    expect(Buffer.from(String(keys[0]!.n), 'base64url')).toHaveLength(256); // 2048 bits
  });
});

describe('client credentials', () => {
  it('accepts HTTP Basic credentials and the Auth0 `audience` parameter', async () => {
    const response = await clientCredentials(oauth.ClientSecretBasic(issuer.clientSecret), {
      audience: AUDIENCE,
      scope: 'read:messages',
    });
    const result = await oauth.processClientCredentialsResponse(as, demoClient(), response);
    expect(result.token_type).toBe('bearer'); // oauth4webapi lower-cases it
    expect(result.scope).toBe('read:messages');
    expect(result.expires_in).toBe(3600);

    const claims = await verifyAccessToken(result.access_token);
    expect(claims).toMatchObject({
      sub: 'demo-client',
      client_id: 'demo-client',
      azp: 'demo-client',
      gty: 'client-credentials',
      scope: 'read:messages',
    });
    expect(claims).not.toHaveProperty('cnf');
  });

  it('accepts form credentials and the RFC 8707 `resource` parameter', async () => {
    const response = await clientCredentials(oauth.ClientSecretPost(issuer.clientSecret), {
      resource: AUDIENCE,
      scope: 'read:data write:data',
    });
    const result = await oauth.processClientCredentialsResponse(as, demoClient(), response);
    const claims = await verifyAccessToken(result.access_token);
    expect(claims.scope).toBe('read:data write:data');
    expect(claims.sub).toBe('demo-client');
  });

  it('defaults to the configured audience and grants all scopes when the request names none', async () => {
    const response = await postToken({});
    expect(response.status).toBe(200);
    const body = (await response.json()) as { access_token: string; scope: string; token_type: string };
    expect(body.token_type).toBe('Bearer');
    expect(body.scope).toBe(ALL_SCOPES);
    const claims = await verifyAccessToken(body.access_token);
    expect(claims.scope).toBe(ALL_SCOPES);
  });

  it('accepts `audience` and `resource` together when they name the same API', async () => {
    const response = await postToken({ audience: AUDIENCE, resource: AUDIENCE });
    expect(response.status).toBe(200);
  });

  it('refuses a scope the API does not define', async () => {
    const response = await postToken({ audience: AUDIENCE, scope: 'read:data delete:everything' });
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ error: 'invalid_scope' });
  });

  it('refuses a wrong client secret', async () => {
    const response = await clientCredentials(oauth.ClientSecretBasic('not-the-secret'), { audience: AUDIENCE });
    expect(response.status).toBe(401);
    // Basic auth failures come back as a WWW-Authenticate challenge, which oauth4webapi surfaces as such.
    await expect(oauth.processClientCredentialsResponse(as, demoClient(), response)).rejects.toMatchObject({
      status: 401,
      cause: [{ scheme: 'basic', parameters: { error: 'invalid_client' } }],
    });
  });

  it('refuses a wrong client secret sent in the form', async () => {
    const response = await clientCredentials(oauth.ClientSecretPost('not-the-secret'), { audience: AUDIENCE });
    expect(response.status).toBe(401);
  });

  it.each([
    ['audience', 'https://other.example.com'],
    ['resource', 'https://other.example.com'],
    ['audience', 'not a uri'],
  ])('refuses an unknown API named by `%s=%s`', async (name, value) => {
    const response = await postToken({ [name]: value });
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ error: 'invalid_target' });
  });

  it('refuses `audience` and `resource` that name different APIs', async () => {
    const response = await postToken({ audience: AUDIENCE, resource: 'https://other.example.com' });
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ error: 'invalid_target' });
  });
});

describe('DPoP (RFC 9449)', () => {
  it('binds the token to the proof key with the dpop package', async () => {
    const keyPair = await dpop.generateKeyPair('ES256');
    const proof = await dpop.generateProof(keyPair, issuer.tokenEndpoint, 'POST');
    const response = await postToken({ audience: AUDIENCE, scope: 'read:data' }, { DPoP: proof });
    expect(response.status).toBe(200);
    const body = (await response.json()) as { access_token: string; token_type: string };
    expect(body.token_type).toBe('DPoP');

    const claims = await verifyAccessToken(body.access_token);
    const thumbprint = await calculateJwkThumbprint(await exportJWK(keyPair.publicKey));
    expect(claims.cnf).toEqual({ jkt: thumbprint });
  });

  it('binds the token to the proof key with oauth4webapi', async () => {
    const keyPair = await oauth.generateKeyPair('ES256');
    const DPoP = oauth.DPoP(demoClient(), keyPair);
    const response = await oauth.clientCredentialsGrantRequest(as, demoClient(), oauth.ClientSecretBasic(issuer.clientSecret), { audience: AUDIENCE }, { ...insecure, DPoP });
    const result = await oauth.processClientCredentialsResponse(as, demoClient(), response);
    expect(result.token_type).toBe('dpop');
    const claims = await verifyAccessToken(result.access_token);
    expect(claims.cnf).toEqual({ jkt: await calculateJwkThumbprint(await exportJWK(keyPair.publicKey)) });
  });

  it('refuses an invalid proof', async () => {
    const keyPair = await dpop.generateKeyPair('ES256');
    const proofForAnotherUrl = await dpop.generateProof(keyPair, 'https://elsewhere.example/token', 'POST');
    const response = await postToken({ audience: AUDIENCE }, { DPoP: proofForAnotherUrl });
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ error: 'invalid_dpop_proof' });
  });
});

describe('CORS for Swagger UI', () => {
  it('answers the preflight of an allowed origin, including the DPoP header', async () => {
    const response = await fetch(issuer.tokenEndpoint, {
      method: 'OPTIONS',
      headers: {
        Origin: DEMO_ORIGIN,
        'Access-Control-Request-Method': 'POST',
        'Access-Control-Request-Headers': 'authorization,content-type,dpop',
      },
    });
    expect(response.status).toBe(204);
    expect(response.headers.get('access-control-allow-origin')).toBe(DEMO_ORIGIN);
    expect(response.headers.get('access-control-allow-methods')).toContain('POST');
    expect(response.headers.get('access-control-allow-headers')).toContain('dpop');
  });

  it('lets an allowed origin fetch a token', async () => {
    const response = await postToken({ audience: AUDIENCE }, { Origin: DEMO_ORIGIN });
    expect(response.status).toBe(200);
    expect(response.headers.get('access-control-allow-origin')).toBe(DEMO_ORIGIN);
  });

  it('also allows the origin of the SPA redirect URIs without listing it in corsOrigins', async () => {
    const spaOnly = await startDevIssuer({ ...options, corsOrigins: [], spaRedirectUris: ['http://localhost:8080/cb'] });
    try {
      const response = await fetch(spaOnly.tokenEndpoint, {
        method: 'POST',
        headers: { Origin: 'http://localhost:8080', 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ grant_type: 'client_credentials', client_id: 'demo-client', client_secret: 'demo-secret' }),
      });
      expect(response.status).toBe(200);
      expect(response.headers.get('access-control-allow-origin')).toBe('http://localhost:8080');
    } finally {
      await spaOnly.close();
    }
  });

  it('refuses other origins', async () => {
    const response = await postToken({ audience: AUDIENCE }, { Origin: 'http://evil.example' });
    expect(response.status).toBe(400);
    expect(response.headers.get('access-control-allow-origin')).toBeNull();
  });
});

/** A minimal browser: follows nothing by itself and keeps cookies by name. */
class Browser {
  private readonly cookies = new Map<string, string>();

  async fetch(url: string | URL, init: RequestInit = {}): Promise<Response> {
    const headers = new Headers(init.headers);
    if (this.cookies.size > 0) {
      headers.set('cookie', [...this.cookies].map(([name, value]) => `${name}=${value}`).join('; '));
    }
    const response = await fetch(url, { ...init, headers, redirect: 'manual' });
    for (const cookie of response.headers.getSetCookie()) this.keep(cookie);
    return response;
  }

  private keep(setCookie: string): void {
    const [pair = ''] = setCookie.split(';');
    const separator = pair.indexOf('=');
    const name = pair.slice(0, separator).trim();
    const value = pair.slice(separator + 1).trim();
    const expired = /expires=Thu, 01 Jan 1970/i.test(setCookie);
    if (value === '' || expired) this.cookies.delete(name);
    else this.cookies.set(name, value);
  }
}

function redirectTarget(response: Response, base: string): URL {
  expect([302, 303]).toContain(response.status);
  return new URL(response.headers.get('location')!, base);
}

describe('authorization code + PKCE for demo-spa', () => {
  const spa: oauth.Client = { client_id: 'demo-spa', token_endpoint_auth_method: 'none' };

  it.each([
    ['audience', { audience: AUDIENCE }],
    ['resource', { resource: AUDIENCE }],
    ['neither (default audience)', {}],
  ])('completes with only the login form, naming the API by %s', async (_label, apiParam) => {
    const browser = new Browser();
    const codeVerifier = oauth.generateRandomCodeVerifier();
    const state = oauth.generateRandomState();

    const authorizationUrl = new URL(as.authorization_endpoint!);
    authorizationUrl.search = new URLSearchParams({
      client_id: spa.client_id,
      response_type: 'code',
      redirect_uri: SPA_REDIRECT_URI,
      scope: 'openid read:messages write:data',
      state,
      code_challenge: await oauth.calculatePKCECodeChallenge(codeVerifier),
      code_challenge_method: 'S256',
      ...apiParam,
    }).toString();

    // 1. The authorization endpoint sends the browser to the login interaction.
    const interactionUrl = redirectTarget(await browser.fetch(authorizationUrl), issuer.issuer);
    const loginPage = await browser.fetch(interactionUrl);
    expect(loginPage.status).toBe(200);
    const action = /<form[^>]*action="([^"]+)"/.exec(await loginPage.text())?.[1];
    expect(action).toBeDefined();

    // 2. Submit the dev login form (any user name works).
    const submitted = await browser.fetch(new URL(action!, interactionUrl), {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ prompt: 'login', login: 'alice', password: 'anything' }),
    });
    const resumeUrl = redirectTarget(submitted, issuer.issuer);

    // 3. Resuming needs no consent page: it goes straight back to the SPA with a code.
    const callbackUrl = redirectTarget(await browser.fetch(resumeUrl), issuer.issuer);
    expect(callbackUrl.origin + callbackUrl.pathname).toBe(SPA_REDIRECT_URI);
    const callbackParams = oauth.validateAuthResponse(as, spa, callbackUrl, state);

    // 4. Exchange the code with the PKCE verifier, as Swagger UI does.
    const response = await oauth.authorizationCodeGrantRequest(as, spa, oauth.None(), callbackParams, SPA_REDIRECT_URI, codeVerifier, insecure);
    const result = await oauth.processAuthorizationCodeResponse(as, spa, response);
    // `scope` in the response describes the access token: API scopes only (openid went into the ID token).
    expect(result.scope?.split(' ').sort()).toEqual(['read:messages', 'write:data']);
    expect(oauth.getValidatedIdTokenClaims(result)?.sub).toBe('alice');

    const claims = await verifyAccessToken(result.access_token);
    expect(claims).toMatchObject({ sub: 'alice', client_id: 'demo-spa', azp: 'demo-spa' });
    expect(String(claims.scope).split(' ').sort()).toEqual(['read:messages', 'write:data']);
  });

  it('refuses an authorization request for a scope the API does not define', async () => {
    const authorizationUrl = new URL(issuer.authorizationEndpoint);
    authorizationUrl.search = new URLSearchParams({
      client_id: spa.client_id,
      response_type: 'code',
      redirect_uri: SPA_REDIRECT_URI,
      scope: 'openid delete:everything',
      code_challenge: await oauth.calculatePKCECodeChallenge(oauth.generateRandomCodeVerifier()),
      code_challenge_method: 'S256',
      audience: AUDIENCE,
    }).toString();
    const callbackUrl = redirectTarget(await new Browser().fetch(authorizationUrl), issuer.issuer);
    expect(callbackUrl.searchParams.get('error')).toBe('invalid_scope');
  });

  it('refuses a redirect URI that is not registered', async () => {
    const authorizationUrl = new URL(issuer.authorizationEndpoint);
    authorizationUrl.search = new URLSearchParams({
      client_id: spa.client_id,
      response_type: 'code',
      redirect_uri: 'http://evil.example/callback',
      scope: 'openid',
      code_challenge: await oauth.calculatePKCECodeChallenge(oauth.generateRandomCodeVerifier()),
      code_challenge_method: 'S256',
    }).toString();
    const response = await new Browser().fetch(authorizationUrl);
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ error: 'invalid_redirect_uri' });
  });
});

describe('Auth0 Organizations (organization=<id or name> on the token request)', () => {
  const ORGS = [{ id: 'org_abc123', name: 'acme' }, { id: 'org_nameless1' }];
  let withOrgs: DevIssuer;
  beforeAll(async () => {
    withOrgs = await startDevIssuer({ ...options, organizations: ORGS });
  });
  afterAll(async () => {
    await withOrgs?.close();
  });

  async function orgToken(organization: string | undefined): Promise<Response> {
    return fetch(withOrgs.tokenEndpoint, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'client_credentials',
        client_id: 'demo-client',
        client_secret: 'demo-secret',
        scope: 'read:messages',
        ...(organization === undefined ? {} : { organization }),
      }),
    });
  }
  async function claimsOf(response: Response): Promise<JWTPayload> {
    expect(response.status).toBe(200);
    const { access_token } = (await response.json()) as { access_token: string };
    const { payload } = await jwtVerify(access_token, createRemoteJWKSet(new URL(withOrgs.jwksUri)), { issuer: withOrgs.issuer, audience: AUDIENCE });
    return payload;
  }

  it.each([
    ['its ID', 'org_abc123'],
    ['its name', 'acme'],
    ['its name in other case', 'ACME'],
  ])('a request naming %s gets org_id and org_name', async (_what, organization) => {
    const claims = await claimsOf(await orgToken(organization));
    expect(claims).toMatchObject({ org_id: 'org_abc123', org_name: 'acme', scope: 'read:messages', sub: 'demo-client' });
  });

  it('an organization configured without a name gives org_id only', async () => {
    const claims = await claimsOf(await orgToken('org_nameless1'));
    expect(claims.org_id).toBe('org_nameless1');
    expect(claims).not.toHaveProperty('org_name');
  });

  it('no organization parameter, no organization claims', async () => {
    const claims = await claimsOf(await orgToken(undefined));
    expect(claims).not.toHaveProperty('org_id');
    expect(claims).not.toHaveProperty('org_name');
  });

  it('an unknown organization is 400 invalid_request', async () => {
    const response = await orgToken('org_other');
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ error: 'invalid_request', error_description: expect.stringContaining('organization') });
  });

  it.each([
    ['an ID without org_', { id: 'abc123' }],
    ['a name with spaces', { id: 'org_abc', name: 'two words' }],
  ])('refuses to start with %s', async (_what, organization) => {
    await expect(startDevIssuer({ ...options, organizations: [organization] })).rejects.toThrow(/organization/);
  });
});

describe('production-like environments', () => {
  it.each([
    ['NODE_ENV="production " (trailing space)', { NODE_ENV: 'production ' }, /NODE_ENV is "production "/],
    ['NODE_ENV=Production', { NODE_ENV: 'Production' }, /NODE_ENV is "Production"/],
    ['NODE_ENV=prod', { NODE_ENV: 'prod' }, /NODE_ENV is "prod"/],
    ['an https:// AUTH0_PUBLIC_URL', { NODE_ENV: 'development', AUTH0_PUBLIC_URL: 'https://api.example.com' }, /AUTH0_PUBLIC_URL is an https:\/\/ URL/],
  ])('startDevIssuer refuses with %s, in one line naming AUTH0_DOMAIN', async (_what, env, reason) => {
    const error = await startDevIssuer({ ...options, env }).then(
      async (started) => {
        await started.close();
        return undefined;
      },
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(DevIssuerRefusedError);
    const message = (error as Error).message;
    expect(message).toMatch(reason);
    expect(message).toContain('set AUTH0_DOMAIN');
    expect(message).not.toMatch(/\n/);
  });

  it.each([
    ['NODE_ENV=development', { NODE_ENV: 'development' }],
    ['NODE_ENV=production-like but not production ("preprod")', { NODE_ENV: 'preprod' }],
    ['an http:// AUTH0_PUBLIC_URL', { AUTH0_PUBLIC_URL: 'http://127.0.0.1:3000' }],
  ])('starts with %s', async (_what, env) => {
    const started = await startDevIssuer({ ...options, env });
    await started.close();
  });

  it('isProductionLike trims and ignores case; only production and prod count', () => {
    for (const value of ['production', ' PRODUCTION ', 'Prod', 'prod\n']) expect(isProductionLike({ NODE_ENV: value })).toBe(true);
    for (const value of [undefined, '', 'development', 'test', 'staging', 'producti0n', 'preprod']) expect(isProductionLike({ NODE_ENV: value })).toBe(false);
  });
});

describe('startup', () => {
  it('refuses to start with NODE_ENV=production and points to AUTH0_DOMAIN', async () => {
    const previous = process.env.NODE_ENV;
    process.env.NODE_ENV = 'production';
    try {
      const error = await startDevIssuer(options).then(
        () => undefined,
        (reason: unknown) => reason,
      );
      expect(error).toBeInstanceOf(Error);
      expect((error as Error).message).toContain('AUTH0_DOMAIN');
      expect((error as Error).message).not.toContain('\n');
    } finally {
      process.env.NODE_ENV = previous;
    }
  });

  it('starts with only the required options', async () => {
    const minimal = await startDevIssuer({ port: 0, audience: AUDIENCE, scopes: SCOPES });
    try {
      const response = await fetch(minimal.tokenEndpoint, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ grant_type: 'client_credentials', client_id: 'demo-client', client_secret: 'demo-secret' }),
      });
      expect(response.status).toBe(200);
    } finally {
      await minimal.close();
    }
  });

  it('refuses an audience that is not an absolute URI (resource indicators must be)', async () => {
    await expect(startDevIssuer({ ...options, audience: 'my-api' })).rejects.toThrow(/absolute URI/);
  });

  it('fails on invalid client settings without keeping the port', async () => {
    await expect(startDevIssuer({ ...options, port: 0, spaRedirectUris: ['not a url'] })).rejects.toThrow();
  });

  it('honours a custom client id and secret', async () => {
    const custom = await startDevIssuer({ ...options, clientId: 'my-client', clientSecret: 'my-secret' });
    try {
      expect(custom).toMatchObject({ clientId: 'my-client', clientSecret: 'my-secret' });
      const response = await fetch(custom.tokenEndpoint, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({
          grant_type: 'client_credentials',
          client_id: 'my-client',
          client_secret: 'my-secret',
          audience: AUDIENCE,
        }),
      });
      expect(response.status).toBe(200);
    } finally {
      await custom.close();
    }
  });

  it('keeps the signing key in keyFile across restarts', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'dev-issuer-'));
    const keyFile = join(dir, 'keys.json');
    const kidOf = async (running: DevIssuer) => {
      const { keys } = (await (await fetch(running.jwksUri)).json()) as { keys: { kid: string }[] };
      return keys[0]!.kid;
    };
    try {
      const first = await startDevIssuer({ ...options, keyFile });
      const firstKid = await kidOf(first);
      await first.close();
      const saved = JSON.parse(await readFile(keyFile, 'utf8')) as Record<string, unknown>;
      expect(saved).toMatchObject({ kty: 'RSA', kid: firstKid, d: expect.any(String) });

      const second = await startDevIssuer({ ...options, keyFile });
      try {
        expect(await kidOf(second)).toBe(firstKid);
      } finally {
        await second.close();
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('generates a new key per start without keyFile', async () => {
    const other = await startDevIssuer(options);
    try {
      const kid = async (url: string) => ((await (await fetch(url)).json()) as { keys: { kid: string }[] }).keys[0]!.kid;
      expect(await kid(other.jwksUri)).not.toBe(await kid(issuer.jwksUri));
    } finally {
      await other.close();
    }
  });

  it('close() returns promptly despite an open keep-alive connection', async () => {
    const running = await startDevIssuer(options);
    await (await fetch(running.discoveryUrl)).text(); // leaves an idle keep-alive socket
    const started = Date.now();
    await running.close();
    expect(Date.now() - started).toBeLessThan(1000);
    await expect(fetch(running.discoveryUrl)).rejects.toThrow();
  });
});
