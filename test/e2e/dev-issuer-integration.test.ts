/**
 * End to end in development-issuer mode (no AUTH0_DOMAIN): the real demo over HTTP, its embedded oidc-provider
 * issuer, and a real OAuth client (oauth4webapi) that finds the issuer through the demo's RFC 9728 document, gets
 * tokens with client credentials (Bearer and DPoP-bound) and calls the protected routes.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as oauth from 'oauth4webapi';
import * as dpop from 'dpop';
import { calculateJwkThumbprint, decodeJwt, exportJWK } from 'jose';
import { startDemo, type RunningDemo } from '../../src/demo/server.js';
import { projectRoot } from '../../src/demo/openapi.js';
import { describeFrameworks, parseChallenges } from '../support/demo.js';

/** The default audience of the dev issuer (docs/decisions.md D31: `https://api.example.com` unless AUTH0_AUDIENCE is set). */
const DEV_AUDIENCE = 'https://api.example.com';
const CLIENT_ID = 'demo-client';
const CLIENT_SECRET = 'demo-secret';
const DEV_ENV = { PORT: '0', AUTH0_DEV_ISSUER_PORT: '0', NODE_ENV: 'test' };

// The dev issuer and the demo are plain HTTP on loopback: oauth4webapi needs to be told that is fine.
const insecure = { [oauth.allowInsecureRequests]: true } as const;

interface Setup {
  demo: RunningDemo;
  as: oauth.AuthorizationServer;
  client: oauth.Client;
}

/** Follows the demo's RFC 9728 document to the issuer, then runs OIDC discovery there with oauth4webapi. */
async function discover(demo: RunningDemo): Promise<Setup> {
  const response = await fetch(`${demo.url}/.well-known/oauth-protected-resource`);
  expect(response.status).toBe(200);
  const metadata = (await response.json()) as { authorization_servers: string[] };
  const issuer = new URL(metadata.authorization_servers[0]!);
  const as = await oauth.processDiscoveryResponse(issuer, await oauth.discoveryRequest(issuer, insecure));
  return { demo, as, client: { client_id: CLIENT_ID } };
}

/** Client credentials with oauth4webapi (HTTP Basic unless told otherwise); returns the processed token response. */
async function clientCredentials(setup: Setup, parameters: Record<string, string>, options: { dpop?: oauth.DPoPHandle; auth?: oauth.ClientAuth } = {}): Promise<oauth.TokenEndpointResponse> {
  const { as, client } = setup;
  const auth = options.auth ?? oauth.ClientSecretBasic(CLIENT_SECRET);
  const request = () => oauth.clientCredentialsGrantRequest(as, client, auth, parameters, { ...insecure, ...(options.dpop ? { DPoP: options.dpop } : {}) });
  let response = await request();
  try {
    return await oauth.processClientCredentialsResponse(as, client, response);
  } catch (error) {
    // An authorization server may demand a DPoP nonce first; oauth4webapi's handle has stored it, so retry once.
    if (!options.dpop || !oauth.isDPoPNonceError(error)) throw error;
    response = await request();
    return oauth.processClientCredentialsResponse(as, client, response);
  }
}

/** A protected-resource call through oauth4webapi. Challenges (401/403) reject with WWWAuthenticateChallengeError. */
function callApi(setup: Setup, token: string, method: string, path: string, options: { dpop?: oauth.DPoPHandle; json?: unknown } = {}) {
  const headers = new Headers();
  let body: string | null = null;
  if (options.json !== undefined) {
    headers.set('content-type', 'application/json');
    body = JSON.stringify(options.json);
  }
  return oauth.protectedResourceRequest(token, method, new URL(path, setup.demo.url), headers, body, {
    ...insecure,
    ...(options.dpop ? { DPoP: options.dpop } : {}),
  });
}

async function expectJson(response: Response, status: number, body: unknown): Promise<void> {
  expect(response.status).toBe(status);
  expect(response.headers.get('content-type')).toMatch(/^application\/json/);
  expect(await response.json()).toEqual(body);
}

const MESSAGES = { messages: expect.arrayContaining([expect.objectContaining({ id: expect.any(Number), text: expect.any(String) })]) };

describeFrameworks((framework) => {
  describe('dev-issuer mode (no AUTH0_DOMAIN): oauth4webapi client credentials against the real demo', () => {
    let setup: Setup;

    beforeAll(async () => {
      const demo = await startDemo({ env: { ...DEV_ENV, DEMO_FRAMEWORK: framework }, quiet: true });
      setup = await discover(demo);
    });
    afterAll(async () => {
      await setup?.demo.close();
    });

    it('starts the embedded issuer and lists it, exactly as discovery reports it, as authorization_servers[0]', async () => {
      const { demo, as } = setup;
      expect(demo.issuer).toBeDefined();
      expect(as.issuer).toBe(demo.issuer!.issuer);
      expect(as.issuer).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
      expect(as.token_endpoint).toBe(demo.issuer!.tokenEndpoint);
      expect(as.jwks_uri).toEqual(expect.any(String));
      // The issuer and the API are two different listeners.
      expect(new URL(as.issuer).port).not.toBe(new URL(demo.url).port);
    });

    for (const param of ['audience', 'resource'] as const) {
      describe(`token requested with ${param}=<audience>`, () => {
        let token: string;
        beforeAll(async () => {
          const result = await clientCredentials(setup, { [param]: DEV_AUDIENCE });
          expect(result.token_type).toBe('bearer'); // oauth4webapi lower-cases it
          token = result.access_token;
          const claims = decodeJwt(token);
          expect(claims.aud).toBe(DEV_AUDIENCE);
          expect(claims.iss).toBe(setup.as.issuer);
          expect(claims).not.toHaveProperty('cnf');
        });

        it('GET /api/private → 200 with the client as subject', async () => {
          await expectJson(await callApi(setup, token, 'GET', '/api/private'), 200, { user: CLIENT_ID });
        });

        it('GET /api/messages (read:messages) → 200', async () => {
          await expectJson(await callApi(setup, token, 'GET', '/api/messages'), 200, MESSAGES);
        });

        it('POST /api/data (read:data + write:data) → 200, with and without a JSON body', async () => {
          await expectJson(await callApi(setup, token, 'POST', '/api/data', { json: { hello: 'world' } }), 200, { created: true });
          await expectJson(await callApi(setup, token, 'POST', '/api/data'), 200, { created: true });
        });
      });
    }

    it('accepts client credentials sent in the form body (client_secret_post) too', async () => {
      const result = await clientCredentials(setup, { audience: DEV_AUDIENCE }, { auth: oauth.ClientSecretPost(CLIENT_SECRET) });
      await expectJson(await callApi(setup, result.access_token, 'GET', '/api/private'), 200, { user: CLIENT_ID });
    });

    it('a token with only read:messages reads messages but gets 403 insufficient_scope on POST /api/data', async () => {
      const result = await clientCredentials(setup, { audience: DEV_AUDIENCE, scope: 'read:messages' });
      expect(result.scope).toBe('read:messages');
      expect(decodeJwt(result.access_token).scope).toBe('read:messages');

      await expectJson(await callApi(setup, result.access_token, 'GET', '/api/messages'), 200, MESSAGES);

      // The raw HTTP answer, as docs/errors.md describes it.
      const response = await fetch(`${setup.demo.url}/api/data`, {
        method: 'POST',
        headers: { authorization: `Bearer ${result.access_token}`, 'content-type': 'application/json' },
        body: '{}',
      });
      expect(response.status).toBe(403);
      expect(await response.json()).toEqual({ error: 'insufficient_scope', error_description: expect.any(String) });
      const challenges = parseChallenges(response.headers.get('www-authenticate'));
      const bearer = challenges.find((c) => c.scheme.toLowerCase() === 'bearer');
      expect(bearer?.params.error).toBe('insufficient_scope');
      expect(bearer?.params.scope?.split(' ').sort()).toEqual(['read:data', 'write:data']);

      // And what the real client sees: oauth4webapi surfaces the challenge.
      const error = await callApi(setup, result.access_token, 'POST', '/api/data', { json: {} }).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(oauth.WWWAuthenticateChallengeError);
      const challengeError = error as oauth.WWWAuthenticateChallengeError;
      expect(challengeError.response.status).toBe(403);
      expect(challengeError.cause.find((c) => c.scheme === 'bearer')?.parameters.error).toBe('insufficient_scope');
    });

    describe('DPoP (RFC 9449) with oauth4webapi', () => {
      let keyPair: CryptoKeyPair;
      let handle: oauth.DPoPHandle;
      let token: string;

      beforeAll(async () => {
        keyPair = await oauth.generateKeyPair('ES256');
        handle = oauth.DPoP(setup.client, keyPair);
        const result = await clientCredentials(setup, { audience: DEV_AUDIENCE }, { dpop: handle });
        expect(result.token_type).toBe('dpop');
        token = result.access_token;
      });

      it('the issuer binds the token to the client key (cnf.jkt = JWK thumbprint)', async () => {
        const jkt = await calculateJwkThumbprint(await exportJWK(keyPair.publicKey));
        expect(decodeJwt(token).cnf).toEqual({ jkt });
      });

      it('Authorization: DPoP + a proof from oauth4webapi → 200 on /api/private, /api/messages and POST /api/data', async () => {
        await expectJson(await callApi(setup, token, 'GET', '/api/private', { dpop: handle }), 200, { user: CLIENT_ID });
        await expectJson(await callApi(setup, token, 'GET', '/api/messages', { dpop: handle }), 200, MESSAGES);
        await expectJson(await callApi(setup, token, 'POST', '/api/data', { dpop: handle, json: { a: 1 } }), 200, { created: true });
      });

      it('Authorization: DPoP + a proof from the dpop package (with ath) → 200', async () => {
        const url = `${setup.demo.url}/api/private`;
        const proof = await dpop.generateProof(keyPair, url, 'GET', undefined, token);
        const response = await fetch(url, { headers: { authorization: `DPoP ${token}`, dpop: proof } });
        await expectJson(response, 200, { user: CLIENT_ID });
      });

      it('the same DPoP-bound token sent as Bearer → 401 invalid_token', async () => {
        const response = await fetch(`${setup.demo.url}/api/private`, { headers: { authorization: `Bearer ${token}` } });
        expect(response.status).toBe(401);
        expect(await response.json()).toEqual({ error: 'invalid_token', error_description: expect.any(String) });
        const challenges = parseChallenges(response.headers.get('www-authenticate'));
        expect(challenges.some((c) => c.params.error === 'invalid_token')).toBe(true);
        for (const challenge of challenges) {
          expect(challenge.params.resource_metadata).toBe(`${setup.demo.url}/.well-known/oauth-protected-resource`);
        }
      });

      it('a proof signed by another key than the bound one → 401 invalid_token', async () => {
        const other = await oauth.generateKeyPair('ES256');
        const url = `${setup.demo.url}/api/private`;
        const proof = await dpop.generateProof(other, url, 'GET', undefined, token);
        const response = await fetch(url, { headers: { authorization: `DPoP ${token}`, dpop: proof } });
        expect(response.status).toBe(401);
        expect((await response.json()).error).toBe('invalid_token');
      });

      it('scopes are enforced for DPoP too: read:messages only → 403 insufficient_scope on the DPoP scheme', async () => {
        const result = await clientCredentials(setup, { audience: DEV_AUDIENCE, scope: 'read:messages' }, { dpop: handle });
        expect(result.token_type).toBe('dpop');
        const url = `${setup.demo.url}/api/data`;
        const proof = await dpop.generateProof(keyPair, url, 'POST', undefined, result.access_token);
        const response = await fetch(url, {
          method: 'POST',
          headers: { authorization: `DPoP ${result.access_token}`, dpop: proof, 'content-type': 'application/json' },
          body: '{}',
        });
        expect(response.status).toBe(403);
        expect((await response.json()).error).toBe('insufficient_scope');
        const challenge = parseChallenges(response.headers.get('www-authenticate')).find((c) => c.params.error === 'insufficient_scope');
        expect(challenge?.scheme).toBe('DPoP');
      });
    });
  });

  describe('dev-issuer mode with AUTH0_DPOP=required and AUTH0_DPOP_NONCE=true', () => {
    let setup: Setup;

    beforeAll(async () => {
      const demo = await startDemo({ env: { ...DEV_ENV, DEMO_FRAMEWORK: framework, AUTH0_DPOP: 'required', AUTH0_DPOP_NONCE: 'true' }, quiet: true });
      setup = await discover(demo);
    });
    afterAll(async () => {
      await setup?.demo.close();
    });

    it('oauth4webapi retries on use_dpop_nonce with the DPoP-Nonce the demo returned, then gets 200', async () => {
      const keyPair = await oauth.generateKeyPair('ES256');
      const handle = oauth.DPoP(setup.client, keyPair);
      const { access_token: token } = await clientCredentials(setup, { audience: DEV_AUDIENCE }, { dpop: handle });

      const first = await callApi(setup, token, 'GET', '/api/private', { dpop: handle }).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(oauth.isDPoPNonceError(first)).toBe(true);
      await expectJson(await callApi(setup, token, 'GET', '/api/private', { dpop: handle }), 200, { user: CLIENT_ID });
    });

    it('a plain Bearer token from the dev issuer → 401 unauthorized with only a DPoP challenge', async () => {
      const { access_token: token } = await clientCredentials(setup, { audience: DEV_AUDIENCE });
      const response = await fetch(`${setup.demo.url}/api/private`, { headers: { authorization: `Bearer ${token}` } });
      expect(response.status).toBe(401);
      expect((await response.json()).error).toBe('unauthorized');
      const challenges = parseChallenges(response.headers.get('www-authenticate'));
      expect(challenges.map((c) => c.scheme)).toEqual(['DPoP']);
      expect(challenges[0]!.params.error).toBeUndefined();
    });
  });
});

describe('NODE_ENV=production without AUTH0_DOMAIN', () => {
  it('startDemo rejects with a one-line message that names AUTH0_DOMAIN, and no issuer port is left taken', async () => {
    const error = await startDemo({ env: { ...DEV_ENV, NODE_ENV: 'production' }, quiet: true }).then(
      async (demo) => {
        await demo.close();
        return undefined;
      },
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(Error);
    const message = (error as Error).message;
    expect(message).toContain('AUTH0_DOMAIN');
    expect(message).not.toMatch(/[\r\n]/);
  });

  it('the demo process (npm start entry point) exits non-zero with one line on stderr naming AUTH0_DOMAIN', () => {
    const entry = join(projectRoot(), 'build/dist/src/demo/server.js');
    expect(existsSync(entry), `${entry} missing: run node scripts/build.mjs`).toBe(true);
    // Empty rather than unset, so a developer's .env (read by the entry point, never overriding) cannot fill them in.
    const env = { ...process.env, NODE_ENV: 'production', PORT: '0', AUTH0_DEV_ISSUER_PORT: '0', AUTH0_DOMAIN: '', AUTH0_DOMAINS: '' };
    const run = spawnSync(process.execPath, [entry], { env, encoding: 'utf8', timeout: 20_000 });
    expect(run.status).not.toBe(0);
    expect(run.status).not.toBeNull(); // exited by itself, not killed by the timeout
    const lines = run.stderr.split('\n').filter((line) => line.trim() !== '');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain('AUTH0_DOMAIN');
  });
});
