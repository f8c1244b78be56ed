/**
 * `requireAuth({ stepUp })` on a plain Express route (docs/decisions.md D23): the same step-up answer as a policy,
 * the start-up checks of the option (bad rule; a step-up rule both in the policy and in requireAuth).
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import express from 'express';
import { createAuth0Api, errorHandler, getAuth, type Auth0Api } from '../../src/express/index.js';
import { ConfigurationError } from '../../src/core/index.js';
import { TestIssuer } from '../support/test-issuer.js';
import { parseChallenges } from '../support/challenges.js';

const AUDIENCE = 'https://api.example.com';
const MFA = 'http://schemas.openid.net/pape/policies/2007/06/multi-factor';
let issuer: TestIssuer;
let auth0: Auth0Api;
let server: Server;
let base: string;

beforeAll(async () => {
  issuer = await TestIssuer.start();
  auth0 = createAuth0Api({ domain: issuer.origin, audience: AUDIENCE, policies: { mfa: { stepUp: { acr: [MFA] } } } });
  const app = express();
  auth0.install(app);
  app.get('/transfer', auth0.requireAuth({ scopes: 'read:x', stepUp: { acr: [MFA], maxAge: 60 } }), (req, res) => res.json({ sub: getAuth(req).claims.sub }));
  app.use(errorHandler());
  server = app.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  server?.close();
  await issuer?.close();
});

const now = () => Math.floor(Date.now() / 1000);
async function get(claims: Record<string, unknown>) {
  const token = await issuer.token(AUDIENCE, { scope: 'read:x', ...claims });
  const response = await fetch(`${base}/transfer`, { headers: { authorization: `Bearer ${token}` } });
  return { status: response.status, body: (await response.json()) as Record<string, string>, challenge: parseChallenges(response.headers.get('www-authenticate'))[0] };
}

describe('requireAuth({ stepUp })', () => {
  it('grants a recent multi-factor sign-in', async () => {
    expect((await get({ acr: MFA, auth_time: now() - 10 })).status).toBe(200);
  });

  it('refuses an old sign-in with 401 insufficient_user_authentication, acr_values and max_age="60"', async () => {
    const reply = await get({ acr: MFA, auth_time: now() - 600 });
    expect(reply.status).toBe(401);
    expect(reply.body.error).toBe('insufficient_user_authentication');
    expect(reply.challenge!.params).toMatchObject({ error: 'insufficient_user_authentication', acr_values: MFA, max_age: '60' });
  });

  it('a missing scope still wins (403)', async () => {
    expect((await get({ scope: 'other', acr: 'pwd' })).status).toBe(403);
  });

  it('checks the rule at start-up, and refuses a rule in both the policy and requireAuth', () => {
    expect(() => auth0.requireAuth({ stepUp: { acr: [] } })).toThrow(ConfigurationError);
    expect(() => auth0.requireAuth({ policy: 'mfa', stepUp: { maxAge: 60 } })).toThrow(/requireAuth\.stepUp/);
  });
});
