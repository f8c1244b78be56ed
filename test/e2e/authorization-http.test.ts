/**
 * The demo routes of docs/decisions.md D25–D28 through the real demo (src/demo/server.ts) in its three DPoP modes, with tokens of a
 * local issuer (TestIssuer: any claims we need) and DPoP proofs from the `dpop` package:
 *
 * - `GET /api/feed` (optional): no credentials → 200 `{"user": null}`; a valid Bearer or DPoP token → 200 with its
 *   `sub`; anything else (token only in the query or body, malformed header, invalid token, bad proof, unsupported
 *   scheme, bound token as Bearer) → exactly the status, body and challenge `/api/private` gives.
 * - `GET /api/orgs/{orgId}/messages`: `read:messages` AND the organization (`org_…` → `org_id` exact, else `org_name`
 *   ignoring case); organization failures are 403 `insufficient_scope` with no `scope` attribute, on the scheme used;
 *   a missing scope is 403 with `scope="read:messages"` and wins when both are missing; every 401 comes first.
 * - The served OpenAPI document: `/api/feed` lists `{}` after the token schemes; the orgs route lists `read:messages`.
 *
 * Challenges are parsed per RFC 9110 §11.6.1 (parseChallenges).
 */
import { request as httpRequest } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { calculateJwkThumbprint, exportJWK } from 'jose';
import { generateKeyPair, generateProof, type KeyPair } from 'dpop';
import { TestIssuer } from '../support/test-issuer.js';
import { AUDIENCE, describeFrameworks, parseChallenges, startTestDemo } from '../support/demo.js';
import type { RunningDemo } from '../../src/demo/server.js';

type Mode = 'allowed' | 'required' | 'disabled';
const MODES: Mode[] = ['allowed', 'required', 'disabled'];
type Challenge = { scheme: string; params: Record<string, string> };

interface Reply {
  status: number;
  body: unknown;
  challenges: Challenge[];
  wwwAuthenticate: string | null;
}

let issuer: TestIssuer;
const demos = {} as Record<Mode, RunningDemo>;
const rejections: Record<Mode, string[]> = { allowed: [], required: [], disabled: [] };
let client: KeyPair; // the key DPoP-bound tokens are bound to
let jkt: string;

describeFrameworks(() => {
  beforeAll(async () => {
    issuer = await TestIssuer.start();
    const started = await Promise.all(MODES.map((mode) => startTestDemo({ AUTH0_DOMAIN: issuer.origin, AUTH0_DPOP: mode }, { onEvent: (event) => void (event.type === 'request_rejected' && rejections[mode].push(event.reason)) })));
    MODES.forEach((mode, i) => (demos[mode] = started[i]!));
    client = await generateKeyPair('ES256', { extractable: true });
    jkt = await calculateJwkThumbprint(await exportJWK(client.publicKey));
  });
  afterAll(async () => {
    await Promise.all(Object.values(demos).map((d) => d.close()));
    await issuer?.close();
  });

  // --- requests -------------------------------------------------------------------------------------------------------

  interface Send {
    authorization?: string | undefined;
    dpop?: string | undefined;
    query?: string;
    json?: unknown;
  }

  async function send(mode: Mode, path: string, options: Send = {}): Promise<Reply> {
    const headers: Record<string, string> = {};
    if (options.authorization !== undefined) headers.authorization = options.authorization;
    if (options.dpop !== undefined) headers.dpop = options.dpop;
    const url = `${demos[mode].url}${path}${options.query ?? ''}`;
    if (options.json !== undefined) return sendGetWithBody(url, headers, JSON.stringify(options.json));
    const response = await fetch(url, { headers });
    const wwwAuthenticate = response.headers.get('www-authenticate');
    return { status: response.status, body: await response.json(), challenges: parseChallenges(wwwAuthenticate), wwwAuthenticate };
  }

  /** A GET with a JSON body (fetch refuses to send one; HTTP allows it and Express parses it). */
  function sendGetWithBody(url: string, headers: Record<string, string>, body: string): Promise<Reply> {
    return new Promise((resolve, reject) => {
      const req = httpRequest(url, { method: 'GET', headers: { ...headers, 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)) } }, (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (text += chunk));
        res.on('end', () => {
          const value = res.headers['www-authenticate'];
          const wwwAuthenticate = Array.isArray(value) ? value.join(', ') : (value ?? null);
          resolve({ status: res.statusCode!, body: JSON.parse(text) as unknown, challenges: parseChallenges(wwwAuthenticate), wwwAuthenticate });
        });
      });
      req.on('error', reject);
      req.end(body);
    });
  }

  const bearerToken = (claims: Record<string, unknown> = {}) => issuer.token(AUDIENCE, claims);
  const boundToken = (claims: Record<string, unknown> = {}) => issuer.token(AUDIENCE, { ...claims, cnf: { jkt } });

  /** A DPoP request for `path` on `mode`'s demo: a fresh proof for its URL, bound to the token. */
  async function dpopRequest(mode: Mode, path: string, token: string): Promise<Send> {
    return { authorization: `DPoP ${token}`, dpop: await generateProof(client, `${demos[mode].url}${path}`, 'GET', undefined, token) };
  }

  /** A request built per path (DPoP proofs name their URL), sent to `/api/feed` and to `/api/private`. */
  type Build = (mode: Mode, path: string) => Promise<Send>;

  async function feedAndPrivate(mode: Mode, build: Build): Promise<[Reply, Reply]> {
    const feed = await send(mode, '/api/feed', await build(mode, '/api/feed'));
    const priv = await send(mode, '/api/private', await build(mode, '/api/private'));
    return [feed, priv];
  }

  /** The challenges with `resource_metadata` checked and dropped (it is the same URL for both routes anyway). */
  function comparable(reply: Reply, mode: Mode): Challenge[] {
    for (const c of reply.challenges) expect(c.params.resource_metadata).toBe(`${demos[mode].url}/.well-known/oauth-protected-resource`);
    return reply.challenges;
  }

  // --- GET /api/feed --------------------------------------------------------------------------------------------------

  describe.each(MODES)('GET /api/feed, AUTH0_DPOP=%s', (mode) => {
    it('no Authorization header → 200 {"user": null}, no challenge', async () => {
      const reply = await send(mode, '/api/feed');
      expect(reply).toMatchObject({ status: 200, body: { user: null }, wwwAuthenticate: null });
    });

    it('a blank Authorization header counts as none → 200 {"user": null}', async () => {
      expect(await send(mode, '/api/feed', { authorization: '' })).toMatchObject({ status: 200, body: { user: null } });
    });

    if (mode !== 'required') {
      it('a valid Bearer token → 200 with its sub', async () => {
        const reply = await send(mode, '/api/feed', { authorization: `Bearer ${await bearerToken({ sub: 'auth0|reader' })}` });
        expect(reply).toMatchObject({ status: 200, body: { user: 'auth0|reader' } });
      });
    }

    if (mode !== 'disabled') {
      it('a valid DPoP-bound token with its proof → 200 with its sub', async () => {
        const reply = await send(mode, '/api/feed', await dpopRequest(mode, '/api/feed', await boundToken({ sub: 'auth0|dpop-reader' })));
        expect(reply).toMatchObject({ status: 200, body: { user: 'auth0|dpop-reader' } });
      });
    }

    const rows: Array<[string, Build]> = [
      ['a token only in the query string', async () => ({ query: `?access_token=${await bearerToken()}` })],
      ['a token only in the JSON body', async () => ({ json: { access_token: await bearerToken() } })],
      ['an unsupported scheme (Basic)', async () => ({ authorization: 'Basic dXNlcjpwYXNz' })],
      ['Bearer with no token', async () => ({ authorization: 'Bearer' })],
      ['Bearer a b', async () => ({ authorization: 'Bearer a b' })],
      ['a token in the header and the query', async () => ({ authorization: `Bearer ${await bearerToken()}`, query: '?access_token=x' })],
      ['a malformed JWT', async () => ({ authorization: 'Bearer not.a.jwt' })],
      ['an expired token', async () => ({ authorization: `Bearer ${await bearerToken({ exp: Math.floor(Date.now() / 1000) - 600 })}` })],
      ['a token for another audience', async () => ({ authorization: `Bearer ${await issuer.token('https://other.example.com')}` })],
      ['a DPoP-bound token sent as Bearer', async () => ({ authorization: `Bearer ${await boundToken()}` })],
      ['the DPoP scheme without a proof', async () => ({ authorization: `DPoP ${await boundToken()}` })],
      ['a DPoP proof for another URL', async (m) => dpopRequest(m, '/api/elsewhere', await boundToken())],
      [
        'a DPoP proof by another key',
        async (m, p) => {
          const token = await boundToken();
          const stranger = await generateKeyPair('ES256');
          return { authorization: `DPoP ${token}`, dpop: await generateProof(stranger, `${demos[m].url}${p}`, 'GET', undefined, token) };
        },
      ],
      [
        'a DPoP proof for another method',
        async (m, p) => {
          const token = await boundToken();
          return { authorization: `DPoP ${token}`, dpop: await generateProof(client, `${demos[m].url}${p}`, 'POST', undefined, token) };
        },
      ],
    ];

    // With DPoP disabled a stray DPoP header next to a Bearer token is ignored (docs/decisions.md D5): not a failure there.
    if (mode !== 'disabled') {
      rows.push(['a Bearer token plus a DPoP header', async (m, p) => ({ ...(await dpopRequest(m, p, await bearerToken())), authorization: `Bearer ${await bearerToken()}` })]);
    }

    it.each(rows)('%s → the status, body and challenge of /api/private (never anonymous)', async (_what, build) => {
      const [feed, priv] = await feedAndPrivate(mode, build);
      expect(feed.status).not.toBe(200);
      expect(feed.body).not.toEqual({ user: null });
      expect({ status: feed.status, body: feed.body, challenges: comparable(feed, mode) }).toEqual({ status: priv.status, body: priv.body, challenges: comparable(priv, mode) });
      expect(feed.challenges.length).toBeGreaterThan(0);
    });

    it('a replayed DPoP proof → the answer /api/private gives to a replay', async () => {
      if (mode === 'disabled') return; // the DPoP scheme is unsupported there: covered by the rows above
      const token = await boundToken();
      const feedRequest = await dpopRequest(mode, '/api/feed', token);
      const privateRequest = await dpopRequest(mode, '/api/private', token);
      expect((await send(mode, '/api/feed', feedRequest)).status).toBe(200);
      expect((await send(mode, '/api/private', privateRequest)).status).toBe(200);
      const [feed, priv] = [await send(mode, '/api/feed', feedRequest), await send(mode, '/api/private', privateRequest)];
      expect(feed.status).toBe(401);
      expect({ status: feed.status, body: feed.body, challenges: comparable(feed, mode) }).toEqual({ status: priv.status, body: priv.body, challenges: comparable(priv, mode) });
      expect(feed.challenges.find((c) => c.scheme === 'DPoP')!.params.error).toBe('invalid_dpop_proof');
    });
  });

  // --- GET /api/orgs/{orgId}/messages ---------------------------------------------------------------------------------

  const MEMBER = { scope: 'read:messages', org_id: 'org_abc123', org_name: 'acme' };
  const MESSAGES_OF = (org: string) => ({ org, messages: expect.arrayContaining([expect.objectContaining({ id: expect.any(Number), text: expect.any(String) })]) });

  /** 403 `insufficient_scope` on the scheme used (`Bearer` or `DPoP`), the other challenge without error attributes. */
  function expectForbidden(reply: Reply, scheme: 'Bearer' | 'DPoP', scope: string | undefined): void {
    expect(reply.status).toBe(403);
    expect(reply.body).toEqual({ error: 'insufficient_scope', error_description: expect.any(String) });
    const used = reply.challenges.find((c) => c.scheme === scheme);
    expect(used, reply.wwwAuthenticate ?? '').toBeDefined();
    expect(used!.params.error).toBe('insufficient_scope');
    if (scope === undefined) expect('scope' in used!.params, `no scope attribute: ${reply.wwwAuthenticate}`).toBe(false);
    else expect(used!.params.scope).toBe(scope);
    for (const other of reply.challenges.filter((c) => c.scheme !== scheme)) expect(other.params.error).toBeUndefined();
  }

  describe.each(MODES)('GET /api/orgs/{orgId}/messages, AUTH0_DPOP=%s', (mode) => {
    const schemes = (['Bearer', 'DPoP'] as const).filter((s) => (s === 'Bearer' ? mode !== 'required' : mode !== 'disabled'));
    /** A request with a token of `claims` for `org`'s route, with the given scheme. */
    const asScheme = async (scheme: 'Bearer' | 'DPoP', org: string, claims: Record<string, unknown>) => {
      const path = `/api/orgs/${org}/messages`;
      return send(mode, path, scheme === 'Bearer' ? { authorization: `Bearer ${await bearerToken(claims)}` } : await dpopRequest(mode, path, await boundToken(claims)));
    };

    describe.each(schemes)('%s', (scheme) => {
      it.each<[string, string, Record<string, unknown>]>([
        ['org_ ID equal to org_id', 'org_abc123', MEMBER],
        ['name equal to org_name', 'acme', MEMBER],
        ['name in another case than org_name', 'ACME', MEMBER],
        ['name against an upper-case org_name', 'acme', { ...MEMBER, org_name: 'Acme' }],
        ['ID with only org_id in the token', 'org_abc123', { scope: 'read:messages', org_id: 'org_abc123' }],
        ['scope among others, as an array', 'acme', { ...MEMBER, scope: ['openid', 'read:messages'] }],
      ])('%s → 200 {"org", "messages"}', async (_what, org, claims) => {
        const reply = await asScheme(scheme, org, claims);
        expect(reply.status).toBe(200);
        expect(reply.body).toEqual(MESSAGES_OF(org));
      });

      it.each<[string, string, Record<string, unknown>]>([
        ['another organization ID', 'org_other', MEMBER],
        ['an ID in another case (IDs are exact)', 'org_ABC123', MEMBER],
        ['another organization name', 'globex', MEMBER],
        ['an ID while the token has only org_name', 'org_abc123', { scope: 'read:messages', org_name: 'org_abc123' }],
        ['a name while the token has only org_id', 'acme', { scope: 'read:messages', org_id: 'acme' }],
        ['a token without organization', 'acme', { scope: 'read:messages' }],
        ['org_name of the wrong type', 'acme', { scope: 'read:messages', org_name: ['acme'] }],
      ])('%s → 403 insufficient_scope without a scope attribute', async (_what, org, claims) => {
        rejections[mode].length = 0;
        expectForbidden(await asScheme(scheme, org, claims), scheme, undefined);
        expect(rejections[mode]).toEqual(['organization.mismatch']);
      });

      it('the right organization without read:messages → 403 with scope="read:messages"', async () => {
        rejections[mode].length = 0;
        expectForbidden(await asScheme(scheme, 'acme', { ...MEMBER, scope: 'read:data' }), scheme, 'read:messages');
        expect(rejections[mode]).toEqual(['scope.insufficient']);
      });

      it('both missing → the scope answer wins (scope="read:messages")', async () => {
        rejections[mode].length = 0;
        expectForbidden(await asScheme(scheme, 'globex', { scope: 'openid', org_name: 'acme' }), scheme, 'read:messages');
        expectForbidden(await asScheme(scheme, 'org_other', { scope: undefined }), scheme, 'read:messages');
        expect(rejections[mode]).toEqual(['scope.insufficient', 'scope.insufficient']);
      });

      it('401 before any 403: an expired token of the wrong organization without the scope', async () => {
        const reply = await asScheme(scheme, 'globex', { scope: 'openid', exp: Math.floor(Date.now() / 1000) - 600 });
        expect(reply.status).toBe(401);
        expect(reply.body).toMatchObject({ error: 'invalid_token' });
        expect(reply.challenges.find((c) => c.scheme === scheme)!.params.error).toBe('invalid_token');
      });
    });

    it('401 before any 403: no credentials on an organization the caller could never read', async () => {
      const reply = await send(mode, '/api/orgs/globex/messages');
      expect(reply.status).toBe(401);
      expect(reply.body).toMatchObject({ error: 'unauthorized' });
      expect(reply.challenges.length).toBeGreaterThan(0);
      for (const c of reply.challenges) expect(c.params.error).toBeUndefined();
    });

    it('401 before any 403: a bad DPoP proof or a refused scheme, whatever the organization', async () => {
      const token = await boundToken({ scope: 'openid', org_name: 'globex' });
      const wrongUrl = await dpopRequest(mode, '/api/orgs/elsewhere/messages', token);
      const reply = await send(mode, '/api/orgs/acme/messages', wrongUrl);
      expect(reply.status).toBe(401);
      expect((reply.body as { error: string }).error).toBe(mode === 'disabled' ? 'unauthorized' : 'invalid_dpop_proof');
      if (mode === 'required') {
        const bearer = await send(mode, '/api/orgs/acme/messages', { authorization: `Bearer ${await bearerToken({ scope: 'openid' })}` });
        expect(bearer).toMatchObject({ status: 401, body: { error: 'unauthorized' } });
      }
    });

    it('a malformed header → 400 invalid_request before any 403', async () => {
      expect(await send(mode, '/api/orgs/globex/messages', { authorization: 'Bearer a b' })).toMatchObject({ status: mode === 'required' ? 401 : 400 });
    });
  });

  // --- the OpenAPI document ---------------------------------------------------------------------------------------------

  describe.each(MODES)('the served OpenAPI document, AUTH0_DPOP=%s', (mode) => {
    it('GET /api/feed lists the token schemes, then {} (anonymous allowed); the orgs route lists read:messages', async () => {
      const doc = (await (await fetch(`${demos[mode].url}/openapi.json`)).json()) as { paths: Record<string, { get: { security: unknown; responses: Record<string, { description: string }> } }> };
      const tokenSchemes = [...(mode !== 'required' ? [{ bearer: [] }] : []), ...(mode !== 'disabled' ? [{ dpop: [] }] : [])];
      expect(doc.paths['/api/feed']!.get.security).toEqual([{ auth0: [] }, ...tokenSchemes, {}]);
      expect(doc.paths['/api/orgs/{orgId}/messages']!.get.security).toEqual([{ auth0: ['read:messages'] }, ...tokenSchemes]);
      // The 403 says what is checked besides the scope; the feed documents 401 (bad credentials) but no 403.
      expect(doc.paths['/api/orgs/{orgId}/messages']!.get.responses['403']!.description).toMatch(/read:messages.*organization in the path/);
      expect(doc.paths['/api/feed']!.get.responses['401']).toBeDefined();
      expect(doc.paths['/api/feed']!.get.responses['403']).toBeUndefined();
    });
  });
});
