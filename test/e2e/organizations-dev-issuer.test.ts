/**
 * Auth0 Organizations end to end in development-issuer mode (no AUTH0_DOMAIN): the real demo and its embedded
 * oidc-provider issuer, which knows the demo organization `org_abc123` (name `acme`). Tokens come from the issuer's
 * token endpoint with Auth0's `organization` parameter, through `requestDevToken` (Bearer) and a DPoP-bound request
 * with a proof from the `dpop` package; the demo's `/api/orgs/{orgId}/messages` then judges them by `org_id` /
 * `org_name`, and `/api/feed` serves the same tokens and anonymous callers.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeJwt } from 'jose';
import { generateKeyPair, generateProof, type KeyPair } from 'dpop';
import { requestDevToken } from '../../src/dev/index.js';
import type { RunningDemo } from '../../src/demo/server.js';
import { AUDIENCE, describeFrameworks, parseChallenges, startTestDemo } from '../support/demo.js';

let demo: RunningDemo;

const token = (organization: string | undefined, scope = 'read:messages') => requestDevToken({ issuer: demo.issuer!.issuer, audience: AUDIENCE, scope, ...(organization ? { organization } : {}) });

async function get(path: string, headers: Record<string, string> = {}) {
  const response = await fetch(`${demo.url}${path}`, { headers });
  return { status: response.status, body: (await response.json()) as Record<string, unknown>, challenges: parseChallenges(response.headers.get('www-authenticate')) };
}

/** A DPoP-bound token from the token endpoint (client credentials + `organization`), retrying once for a nonce. */
async function dpopToken(keyPair: KeyPair, organization: string): Promise<string> {
  const body = new URLSearchParams({ grant_type: 'client_credentials', audience: AUDIENCE, scope: 'read:messages', organization });
  const basic = Buffer.from('demo-client:demo-secret').toString('base64');
  let nonce: string | undefined;
  for (let attempt = 0; attempt < 2; attempt++) {
    const response = await fetch(demo.issuer!.tokenEndpoint, {
      method: 'POST',
      headers: { authorization: `Basic ${basic}`, 'content-type': 'application/x-www-form-urlencoded', dpop: await generateProof(keyPair, demo.issuer!.tokenEndpoint, 'POST', nonce) },
      body,
    });
    const json = (await response.json()) as { access_token?: string; token_type?: string; error?: string };
    if (response.ok) {
      expect(json.token_type?.toLowerCase()).toBe('dpop');
      return json.access_token!;
    }
    nonce = response.headers.get('dpop-nonce') ?? undefined;
    if (json.error !== 'use_dpop_nonce' || !nonce) throw new Error(`token request refused: ${JSON.stringify(json)}`);
  }
  throw new Error('token request refused twice');
}

describeFrameworks(() => {
  beforeAll(async () => {
    demo = await startTestDemo({ AUTH0_DEV_ISSUER_PORT: '0' }); // no AUTH0_DOMAIN: the development issuer starts
  });
  afterAll(async () => {
    await demo?.close();
  });

  describe('Bearer tokens from the development issuer with organization=…', () => {
    it('organization=acme → org_id and org_name claims; the route accepts the name (any case) and the ID', async () => {
      const accessToken = await token('acme');
      expect(decodeJwt(accessToken)).toMatchObject({ org_id: 'org_abc123', org_name: 'acme' });
      const auth = { authorization: `Bearer ${accessToken}` };
      for (const org of ['acme', 'ACME', 'org_abc123']) {
        const reply = await get(`/api/orgs/${org}/messages`, auth);
        expect(reply.status, org).toBe(200);
        expect(reply.body).toMatchObject({ org, messages: expect.any(Array) });
      }
    });

    it('organization=org_abc123 (by ID) carries the same organization', async () => {
      const auth = { authorization: `Bearer ${await token('org_abc123')}` };
      expect((await get('/api/orgs/acme/messages', auth)).status).toBe(200);
      expect((await get('/api/orgs/org_abc123/messages', auth)).status).toBe(200);
    });

    it('another organization in the path → 403 insufficient_scope without a scope attribute', async () => {
      const auth = { authorization: `Bearer ${await token('acme')}` };
      for (const org of ['globex', 'org_other']) {
        const reply = await get(`/api/orgs/${org}/messages`, auth);
        expect(reply.status, org).toBe(403);
        expect(reply.body.error).toBe('insufficient_scope');
        expect(reply.challenges[0]!.params.error).toBe('insufficient_scope');
        expect('scope' in reply.challenges[0]!.params).toBe(false);
      }
    });

    it('a token without an organization → 403 without scope; without read:messages → 403 scope="read:messages"', async () => {
      const noOrg = await get('/api/orgs/acme/messages', { authorization: `Bearer ${await token(undefined)}` });
      expect(noOrg.status).toBe(403);
      expect('scope' in noOrg.challenges[0]!.params).toBe(false);
      const noScope = await get('/api/orgs/acme/messages', { authorization: `Bearer ${await token('acme', 'read:data')}` });
      expect(noScope.status).toBe(403);
      expect(noScope.challenges[0]!.params.scope).toBe('read:messages');
    });

    it('/api/feed: the same token → its sub; no header → null', async () => {
      expect((await get('/api/feed', { authorization: `Bearer ${await token('acme')}` })).body).toEqual({ user: 'demo-client' });
      expect((await get('/api/feed')).body).toEqual({ user: null });
    });
  });

  describe('a DPoP-bound token from the development issuer with organization=acme', () => {
    it('→ 200 on its organization with a proof, 403 on another (error on the DPoP challenge)', async () => {
      const keyPair = await generateKeyPair('ES256');
      const accessToken = await dpopToken(keyPair, 'acme');
      expect(decodeJwt(accessToken)).toMatchObject({ org_id: 'org_abc123', org_name: 'acme', cnf: { jkt: expect.any(String) } });
      const call = async (path: string) => get(path, { authorization: `DPoP ${accessToken}`, dpop: await generateProof(keyPair, `${demo.url}${path}`, 'GET', undefined, accessToken) });

      expect(await call('/api/orgs/acme/messages')).toMatchObject({ status: 200, body: { org: 'acme' } });
      const other = await call('/api/orgs/globex/messages');
      expect(other.status).toBe(403);
      const dpopChallenge = other.challenges.find((c) => c.scheme === 'DPoP')!;
      expect(dpopChallenge.params.error).toBe('insufficient_scope');
      expect('scope' in dpopChallenge.params).toBe(false);
      expect(other.challenges.find((c) => c.scheme === 'Bearer')!.params.error).toBeUndefined();
      expect((await call('/api/feed')).body).toEqual({ user: 'demo-client' });
    });
  });
});
