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

    it('serves the docs: /docs → /docs/, the page with the DPoP plugin and its settings, the document, the assets', async () => {
      const redirect = await fetch(`${demo.url}/docs`, { redirect: 'manual' });
      expect([redirect.status, redirect.headers.get('location')]).toEqual([301, '/docs/']);
      const page = await (await fetch(`${demo.url}/docs/`)).text();
      expect(page).toContain('auth0-tsoa-api/swagger-dpop-plugin.js');
      const init = await (await fetch(`${demo.url}/docs/swagger-ui-init.js`)).text();
      expect(init).toContain('"audience": "https://api.example.com"');
      const spec = (await (await fetch(`${demo.url}/openapi.json`)).json()) as { components: { securitySchemes: Record<string, unknown> } };
      expect(Object.keys(spec.components.securitySchemes).sort()).toEqual(['auth0', 'bearer', 'dpop']);
      for (const asset of ['swagger-ui.css', 'swagger-ui-bundle.js', 'oauth2-redirect.html', 'auth0-tsoa-api/swagger-dpop-plugin.js', 'auth0-tsoa-api/dpop.js']) {
        expect((await fetch(`${demo.url}/docs/${asset}`)).status, asset).toBe(200);
      }
      const missing = await fetch(`${demo.url}/docs/nope.js`);
      expect([missing.status, await missing.json()]).toEqual([404, { error: 'not_found', error_description: 'Not found' }]);
      const metadata = (await (await fetch(`${demo.url}/.well-known/oauth-protected-resource`)).json()) as { resource_documentation?: string };
      expect(metadata.resource_documentation).toBe(`${demo.url}/docs`);
    });
  });
});
