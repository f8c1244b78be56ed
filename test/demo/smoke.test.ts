import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TestIssuer } from '../support/test-issuer.js';
import { AUDIENCE, describeFrameworks, parseChallenges, startTestDemo } from '../support/demo.js';
import type { RunningDemo } from '../../src/demo/server.js';

let issuer: TestIssuer;
let demo: RunningDemo;

describeFrameworks(() => {
  beforeAll(async () => {
    issuer = await TestIssuer.start();
    demo = await startTestDemo({ AUTH0_DOMAIN: issuer.origin });
  });
  afterAll(async () => {
    await demo?.close();
    await issuer?.close();
  });

  describe('demo smoke', () => {
    it('accepts a valid Bearer token and rejects a missing one', async () => {
      const token = await issuer.token(AUDIENCE);
      const ok = await fetch(`${demo.url}/api/private`, { headers: { authorization: `Bearer ${token}` } });
      expect(ok.status).toBe(200);
      expect(await ok.json()).toEqual({ user: 'auth0|user-1' });
      const none = await fetch(`${demo.url}/api/private`);
      expect(none.status).toBe(401);
      const challenges = parseChallenges(none.headers.get('www-authenticate'));
      expect(challenges.map((c) => c.scheme)).toEqual(['Bearer', 'DPoP']);
      expect(challenges[0]!.params.error).toBeUndefined();
      expect(challenges[0]!.params.resource_metadata).toBe(`${demo.url}/.well-known/oauth-protected-resource`);
    });
  });
});
