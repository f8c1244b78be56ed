/**
 * `GET /api/payments` through the real demo (docs/decisions.md D23): `read:data` AND a multi-factor sign-in within
 * 300 s. Every rule over HTTP with tokens of a local issuer (TestIssuer), Bearer and DPoP: token problems 401 first,
 * a missing scope 403 wins, then 401 `insufficient_user_authentication` with `acr_values`, `max_age` and
 * `resource_metadata` on the scheme used; a malformed or future `auth_time` is 401 `invalid_token`. The served
 * OpenAPI document's 401 for the route names the acr and max_age, with the step-up example.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { calculateJwkThumbprint, exportJWK } from 'jose';
import { generateKeyPair, generateProof, type KeyPair } from 'dpop';
import { TestIssuer } from '../support/test-issuer.js';
import { AUDIENCE, describeFrameworks, parseChallenges, startTestDemo } from '../support/demo.js';
import type { RunningDemo } from '../../src/demo/server.js';

const MFA = 'http://schemas.openid.net/pape/policies/2007/06/multi-factor';
const now = () => Math.floor(Date.now() / 1000);

let issuer: TestIssuer;
let demo: RunningDemo;
let client: KeyPair;
let jkt: string;
const reasons: string[] = [];

async function call(claims: Record<string, unknown>, scheme: 'bearer' | 'dpop' = 'bearer') {
  const url = `${demo.url}/api/payments`;
  const token = await issuer.token(AUDIENCE, { scope: 'read:data', ...(scheme === 'dpop' ? { cnf: { jkt } } : {}), ...claims });
  const headers: Record<string, string> = scheme === 'dpop' ? { authorization: `DPoP ${token}`, dpop: await generateProof(client, url, 'GET', undefined, token) } : { authorization: `Bearer ${token}` };
  const response = await fetch(url, { headers });
  const header = response.headers.get('www-authenticate');
  return { status: response.status, body: (await response.json()) as Record<string, unknown>, challenges: parseChallenges(header) };
}

const stepUpCases: Array<[string, Record<string, unknown>, string]> = [
  ['no acr', { auth_time: 'now' }, 'step_up.acr'],
  ['another acr', { acr: 'http://schemas.openid.net/pape/policies/2007/06/phishing-resistant', auth_time: 'now' }, 'step_up.acr'],
  ['acr not a string', { acr: [MFA], auth_time: 'now' }, 'step_up.acr'],
  ['no auth_time', { acr: MFA }, 'step_up.auth_time'],
  ['auth_time 400 s old', { acr: MFA, auth_time: -400 }, 'step_up.auth_time'],
];
const resolve = (claims: Record<string, unknown>) => Object.fromEntries(Object.entries(claims).map(([k, v]) => [k, k === 'auth_time' ? (v === 'now' ? now() : typeof v === 'number' ? now() + v : v) : v]));

describeFrameworks(() => {
  beforeAll(async () => {
    issuer = await TestIssuer.start();
    demo = await startTestDemo({ AUTH0_DOMAIN: issuer.origin }, { onEvent: (event) => void (event.type === 'request_rejected' && reasons.push(event.reason)) });
    client = await generateKeyPair('ES256', { extractable: true });
    jkt = await calculateJwkThumbprint(await exportJWK(client.publicKey));
  });
  afterAll(async () => {
    await demo?.close();
    await issuer?.close();
  });

  describe('GET /api/payments', () => {
    it.each(['bearer', 'dpop'] as const)('%s: a recent multi-factor sign-in with read:data → 200 with the user and payments', async (scheme) => {
      const reply = await call({ sub: 'auth0|payer', acr: MFA, auth_time: now() - 60 }, scheme);
      expect(reply.status).toBe(200);
      expect(reply.body.user).toBe('auth0|payer');
      expect(Array.isArray(reply.body.payments)).toBe(true);
    });

    for (const scheme of ['bearer', 'dpop'] as const) {
      it.each(stepUpCases)(`${scheme}: %s → 401 insufficient_user_authentication with acr_values and max_age`, async (_what, claims, reason) => {
        reasons.length = 0;
        const reply = await call(resolve(claims), scheme);
        expect(reply.status).toBe(401);
        expect(reply.body.error).toBe('insufficient_user_authentication');
        const used = reply.challenges.find((c) => c.scheme.toLowerCase() === scheme)!;
        expect(used.params).toMatchObject({ error: 'insufficient_user_authentication', acr_values: MFA, max_age: '300' });
        expect(used.params.resource_metadata).toBe(`${demo.url}/.well-known/oauth-protected-resource`);
        for (const other of reply.challenges.filter((c) => c !== used)) expect(other.params.error).toBeUndefined();
        expect(reasons).toEqual([reason]);
      });
    }

    it('a missing read:data wins: 403 with scope="read:data", even without step-up', async () => {
      const reply = await call({ scope: 'read:messages', acr: 'pwd' });
      expect(reply.status).toBe(403);
      expect(reply.body.error).toBe('insufficient_scope');
      expect(reply.challenges[0]!.params).toMatchObject({ error: 'insufficient_scope', scope: 'read:data' });
      expect(reply.challenges[0]!.params.acr_values).toBeUndefined();
    });

    it('token problems come first: an expired token without step-up is 401 invalid_token', async () => {
      const reply = await call({ exp: now() - 3600, iat: now() - 7200 });
      expect(reply.status).toBe(401);
      expect(reply.body.error).toBe('invalid_token');
      expect(reply.challenges[0]!.params.acr_values).toBeUndefined();
    });

    it.each<[string, unknown]>([
      ['a string', '1700000000'],
      ['null', null],
      ['60 s in the future', 'future'],
    ])('auth_time %s → 401 invalid_token', async (_what, authTime) => {
      const reply = await call({ acr: MFA, auth_time: authTime === 'future' ? now() + 60 : authTime });
      expect(reply.status).toBe(401);
      expect(reply.body.error).toBe('invalid_token');
      expect(reply.challenges[0]!.params.error).toBe('invalid_token');
      expect(reply.challenges[0]!.params.max_age).toBeUndefined();
    });

    it('the clock tolerance applies to max_age: 303 s old passes', async () => {
      expect((await call({ acr: MFA, auth_time: now() - 303 })).status).toBe(200);
    });

    it('the OpenAPI 401 names the acr and max_age, with an insufficient_user_authentication example', async () => {
      const spec = (await (await fetch(`${demo.url}/openapi.json`)).json()) as { paths: Record<string, Record<string, { responses: Record<string, { description: string; content: Record<string, { example: { error: string } }> }> }>> };
      const unauthorized = spec.paths['/api/payments']!.get!.responses['401']!;
      expect(unauthorized.content['application/json']!.example.error).toBe('insufficient_user_authentication');
      expect(unauthorized.description).toContain(MFA);
      expect(unauthorized.description).toContain('max_age');
      expect(unauthorized.description).toContain('300');
      // Other operations keep the plain 401.
      expect(spec.paths['/api/messages']!.get!.responses['401']!.content['application/json']!.example.error).toBe('invalid_token');
    });
  });
});
