/**
 * A token outside the Authorization header, in any spelling a framework's parsers produce, counts as credentials on
 * every framework (docs/decisions.md D3, D28): on the optional route it is never served as anonymous, and next to a
 * header token it is a 400. The raw query is scanned, so no parser setting hides it.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { TestIssuer } from '../support/test-issuer.js';
import { AUDIENCE, describeFrameworks, startTestDemo } from '../support/demo.js';
import type { RunningDemo } from '../../src/demo/server.js';

const SPELLINGS = ['access_token=abc', 'access_token[]=abc', 'access_token[x]=abc', 'access_token.x=abc', 'acc%65ss_token=abc', 'a=1;access_token=abc', 'access_token=a&access_token=b'];

let issuer: TestIssuer;
let demo: RunningDemo;
let token: string;

describeFrameworks(() => {
  beforeAll(async () => {
    issuer = await TestIssuer.start();
    demo = await startTestDemo({ AUTH0_DOMAIN: issuer.origin });
    token = await issuer.token(AUDIENCE);
  });
  afterAll(async () => {
    await demo?.close();
    await issuer?.close();
  });

  it('the optional route without any token is anonymous (the baseline)', async () => {
    const res = await fetch(`${demo.url}/api/feed?other=1`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ user: null });
  });

  it.each(SPELLINGS)('?%s on the optional route → 401 unauthorized, never anonymous', async (query) => {
    const res = await fetch(`${demo.url}/api/feed?${query}`);
    expect(res.status).toBe(401);
    expect(((await res.json()) as { error: string }).error).toBe('unauthorized');
  });

  it.each(SPELLINGS)('?%s next to a header token → 400 invalid_request', async (query) => {
    const res = await fetch(`${demo.url}/api/private?${query}`, { headers: { authorization: `Bearer ${token}` } });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: string }).error).toBe('invalid_request');
  });

  it('a form body with access_token[] next to a header token → 400', async () => {
    const res = await fetch(`${demo.url}/api/data`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/x-www-form-urlencoded' },
      body: 'access_token%5B%5D=abc',
    });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: string }).error).toBe('invalid_request');
  });
});
