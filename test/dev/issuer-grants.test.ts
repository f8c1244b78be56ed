/**
 * The development issuer's step-up and token-exchange features (src/dev/issuer-grants.ts) through real HTTP with
 * oidc-provider: the authorization endpoint honours `acr_values` and `max_age` (the code-flow token carries `acr`
 * and `auth_time`); a client-credentials request sets `acr`, `auth_time` and extra claims (never reserved ones); the
 * RFC 8693 grant turns a user's access token into one for another served audience, keeping `sub` and adding
 * `act: {"sub": <client id>}` (§4.1), and refuses bad subject tokens, unknown audiences and other clients.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as oauth from 'oauth4webapi';
import { createRemoteJWKSet, jwtVerify, type JWTPayload } from 'jose';
import { startDevIssuer, type DevIssuer } from '../../src/dev/index.js';

const AUDIENCE = 'https://api.example.com';
const DOWNSTREAM = 'https://downstream.example.com';
const MFA = 'http://schemas.openid.net/pape/policies/2007/06/multi-factor';
const REDIRECT_URI = 'http://127.0.0.1:3000/docs/oauth2-redirect.html';
const EXCHANGE = 'urn:ietf:params:oauth:grant-type:token-exchange';
const ACCESS_TOKEN = 'urn:ietf:params:oauth:token-type:access_token';
const insecure = { [oauth.allowInsecureRequests]: true } as const;

let issuer: DevIssuer;
let as: oauth.AuthorizationServer;
let jwks: ReturnType<typeof createRemoteJWKSet>;

beforeAll(async () => {
  issuer = await startDevIssuer({ port: 0, audience: AUDIENCE, audiences: [DOWNSTREAM], scopes: { 'read:messages': '', 'read:items': '' }, spaRedirectUris: [REDIRECT_URI], env: { NODE_ENV: 'test' } });
  as = await oauth.processDiscoveryResponse(new URL(issuer.issuer), await oauth.discoveryRequest(new URL(issuer.issuer), insecure));
  jwks = createRemoteJWKSet(new URL(issuer.jwksUri));
});
afterAll(async () => issuer?.close());

const verify = async (token: string, audience = AUDIENCE): Promise<JWTPayload> => (await jwtVerify(token, jwks, { issuer: issuer.issuer, audience, typ: 'at+jwt' })).payload;
const now = () => Math.floor(Date.now() / 1000);

function postToken(body: Record<string, string>, clientId = issuer.clientId, secret = issuer.clientSecret): Promise<Response> {
  return fetch(issuer.tokenEndpoint, {
    method: 'POST',
    headers: { authorization: `Basic ${Buffer.from(`${clientId}:${secret}`).toString('base64')}`, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(body),
  });
}

/** A browser that keeps cookies and follows nothing by itself. */
class Browser {
  private readonly cookies = new Map<string, string>();
  async fetch(url: string | URL, init: RequestInit = {}): Promise<Response> {
    const headers = new Headers(init.headers);
    if (this.cookies.size > 0) headers.set('cookie', [...this.cookies].map(([n, v]) => `${n}=${v}`).join('; '));
    const response = await fetch(url, { ...init, headers, redirect: 'manual' });
    for (const cookie of response.headers.getSetCookie()) {
      const [pair = ''] = cookie.split(';');
      const at = pair.indexOf('=');
      const value = pair.slice(at + 1).trim();
      if (value === '' || /expires=Thu, 01 Jan 1970/i.test(cookie)) this.cookies.delete(pair.slice(0, at).trim());
      else this.cookies.set(pair.slice(0, at).trim(), value);
    }
    return response;
  }
}

const location = (response: Response) => new URL(response.headers.get('location')!, issuer.issuer);

/** One authorization-code + PKCE round; `login` is false when the issuer must not ask for a sign-in. */
async function signIn(browser: Browser, extra: Record<string, string>, expectLogin: boolean): Promise<{ token: string; loggedIn: boolean }> {
  const spa: oauth.Client = { client_id: issuer.spaClientId, token_endpoint_auth_method: 'none' };
  const verifier = oauth.generateRandomCodeVerifier();
  const url = new URL(as.authorization_endpoint!);
  url.search = new URLSearchParams({
    client_id: spa.client_id,
    response_type: 'code',
    redirect_uri: REDIRECT_URI,
    scope: 'openid read:messages',
    code_challenge: await oauth.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
    audience: AUDIENCE,
    ...extra,
  }).toString();
  let next = location(await browser.fetch(url));
  const loggedIn = next.pathname.startsWith('/interaction/');
  expect(loggedIn).toBe(expectLogin);
  if (loggedIn) {
    const page = await browser.fetch(next);
    const action = /<form[^>]*action="([^"]+)"/.exec(await page.text())![1]!;
    const submitted = await browser.fetch(new URL(action, next), { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ prompt: 'login', login: 'alice', password: 'x' }) });
    next = location(await browser.fetch(location(submitted)));
  }
  const params = oauth.validateAuthResponse(as, spa, next, oauth.expectNoState);
  const response = await oauth.authorizationCodeGrantRequest(as, spa, oauth.None(), params, REDIRECT_URI, verifier, insecure);
  return { token: (await oauth.processAuthorizationCodeResponse(as, spa, response)).access_token, loggedIn };
}

describe('step-up at the authorization endpoint', () => {
  it('acr_values: the sign-in meets it, the token carries acr and auth_time; a session reused only for the same acr', async () => {
    const browser = new Browser();
    const before = now();
    const first = await verify((await signIn(browser, { acr_values: MFA, max_age: '300' }, true)).token);
    expect(first).toMatchObject({ sub: 'alice', acr: MFA });
    expect(first.auth_time).toBeGreaterThanOrEqual(before - 1);
    expect(first.auth_time).toBeLessThanOrEqual(now());
    // Same acr within max_age: no new sign-in, same auth_time.
    const again = await verify((await signIn(browser, { acr_values: MFA, max_age: '300' }, false)).token);
    expect(again.auth_time).toBe(first.auth_time);
    // Another acr: sign in again.
    const other = await verify((await signIn(browser, { acr_values: 'urn:example:hardware-key' }, true)).token);
    expect(other.acr).toBe('urn:example:hardware-key');
  });

  it('max_age: a sign-in older than max_age signs in again', async () => {
    const browser = new Browser();
    await signIn(browser, {}, true);
    await new Promise((r) => setTimeout(r, 1100));
    await signIn(browser, { max_age: '300' }, false);
    await signIn(browser, { max_age: '0' }, true);
  });

  it('without acr_values, a code-flow token has no acr', async () => {
    expect((await verify((await signIn(new Browser(), {}, true)).token)).acr).toBeUndefined();
  });
});

describe('client credentials with sign-in facts and extra claims', () => {
  it('sets acr, auth_time and custom claims; reserved claims cannot be set', async () => {
    const response = await postToken({
      grant_type: 'client_credentials',
      audience: AUDIENCE,
      acr: MFA,
      auth_time: '1700000000',
      extra_claims: JSON.stringify({ org_id: 'org_1', roles: ['admin'], sub: 'mallory', iss: 'https://evil.example', act: { sub: 'x' } }),
    });
    expect(response.status).toBe(200);
    const claims = await verify(((await response.json()) as { access_token: string }).access_token);
    expect(claims).toMatchObject({ acr: MFA, auth_time: 1700000000, org_id: 'org_1', roles: ['admin'], sub: issuer.clientId, iss: issuer.issuer });
    expect(claims.act).toBeUndefined();
  });
});

describe('token exchange (RFC 8693)', () => {
  async function exchange(subject: string, extra: Record<string, string> = {}, clientId?: string, secret?: string) {
    return postToken({ grant_type: EXCHANGE, subject_token: subject, subject_token_type: ACCESS_TOKEN, requested_token_type: ACCESS_TOKEN, audience: DOWNSTREAM, ...extra }, clientId, secret);
  }

  it("a user's token becomes one for the downstream audience: same sub, act = the client, the sign-in kept", async () => {
    const user = await signIn(new Browser(), { acr_values: MFA }, true);
    const response = await exchange(user.token, { scope: 'read:items' });
    expect(response.status).toBe(200);
    const body = (await response.json()) as Record<string, unknown>;
    expect(body).toMatchObject({ issued_token_type: ACCESS_TOKEN, token_type: 'Bearer', expires_in: 3600, scope: 'read:items' });
    const claims = await verify(body.access_token as string, DOWNSTREAM);
    expect(claims).toMatchObject({ sub: 'alice', act: { sub: issuer.clientId }, aud: DOWNSTREAM, scope: 'read:items', acr: MFA });
  });

  it('the default audience is the first served one', async () => {
    const user = await signIn(new Browser(), {}, true);
    const response = await postToken({ grant_type: EXCHANGE, subject_token: user.token, subject_token_type: ACCESS_TOKEN });
    expect(response.status).toBe(200);
    expect((await verify(((await response.json()) as { access_token: string }).access_token, AUDIENCE)).act).toEqual({ sub: issuer.clientId });
  });

  it('refuses a subject token it did not sign, an expired or garbled one, an unknown audience, a bad token type, an unknown scope', async () => {
    const user = await signIn(new Browser(), {}, true);
    const [header, payload] = user.token.split('.');
    const forged = `${header}.${Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(payload!, 'base64url').toString()), sub: 'admin' })).toString('base64url')}.${user.token.split('.')[2]}`;
    for (const [subject, extra, error] of [
      [forged, {}, 'invalid_grant'],
      ['not-a-jwt', {}, 'invalid_grant'],
      [user.token, { audience: 'https://unknown.example.com' }, 'invalid_target'],
      [user.token, { subject_token_type: 'urn:ietf:params:oauth:token-type:id_token' }, 'invalid_request'],
      [user.token, { scope: 'delete:all' }, 'invalid_scope'],
    ] as Array<[string, Record<string, string>, string]>) {
      const response = await exchange(subject, extra);
      expect(response.status, error).toBe(400);
      expect(((await response.json()) as { error: string }).error).toBe(error);
    }
  });

  it('only the confidential client may use the grant, with its secret', async () => {
    const user = await signIn(new Browser(), {}, true);
    expect((await exchange(user.token, {}, issuer.clientId, 'wrong-secret')).status).toBe(401);
    const spa = await fetch(issuer.tokenEndpoint, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ client_id: issuer.spaClientId, grant_type: EXCHANGE, subject_token: user.token, subject_token_type: ACCESS_TOKEN }),
    });
    expect(spa.status).toBe(400);
  });
});
