/**
 * An identity provider outage seen over HTTP through the real demo: 503 JSON with Retry-After and no internals
 * (the core-level fault matrix is test/core/provider-faults.test.ts).
 */
import { describe, expect, it } from 'vitest';
import type { AuthEvent } from '../../src/core/index.js';
import { AUDIENCE, describeFrameworks, startTestDemo } from '../support/demo.js';
import { TestIssuer } from '../support/test-issuer.js';

/** Internal details that a client-facing description must never contain. */
const INTERNAL_TEXT = [/https?:/i, /127\.0\.0\.1/, /localhost/i, /:\d{2,5}\b/, /\bat .+\(/, /Error\b/, /ECONN|ENOTFOUND|EPIPE|UND_ERR/, /fetch failed/i, /HTTP \d{3}/, /abort/i, /\.json/];

describeFrameworks(() => {
  describe('over HTTP: the demo answers 503 JSON with Retry-After and no internals', () => {
    it('discovery failing: 503 temporarily_unavailable, Retry-After, JSON body, no URL; events carry the fault', async () => {
      const down = await TestIssuer.start();
      down.discoveryFault = { kind: 'status', status: 502 };
      const events: AuthEvent[] = [];
      const demo = await startTestDemo({ AUTH0_DOMAIN: down.origin }, { onEvent: (e) => events.push(e) });
      try {
        const res = await fetch(`${demo.url}/api/private`, { headers: { authorization: `Bearer ${await down.token(AUDIENCE)}` } });
        expect(res.status).toBe(503);
        expect(res.headers.get('retry-after')).toMatch(/^[1-9]\d*$/);
        expect(res.headers.get('content-type')).toMatch(/^application\/json/);
        const body = (await res.json()) as { error: string; error_description: string };
        expect(body).toEqual({ error: 'temporarily_unavailable', error_description: expect.any(String) });
        for (const pattern of INTERNAL_TEXT) expect(body.error_description).not.toMatch(pattern);
        expect(events).toContainEqual(expect.objectContaining({ type: 'provider_fetch_failed', reason: 'status' }));
      } finally {
        await demo.close();
        await down.close();
      }
    });
  });
});
