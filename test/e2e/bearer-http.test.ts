/**
 * The Bearer and scope rows of docs/errors.md, black-box over HTTP against the real demo (Express 5 + the
 * tsoa-generated routes) and a real local identity provider: statuses, JSON bodies and parsed challenges.
 */
import { connect } from 'node:net';
import { createPublicKey } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SignJWT } from 'jose';
import { TestIssuer, generateSigningKey } from '../support/test-issuer.js';
import { AUDIENCE, describeFrameworks, parseChallenges, startTestDemo } from '../support/demo.js';
import type { RunningDemo } from '../../src/demo/server.js';

const SAFE_TEXT = /^[\x20\x21\x23-\x5b\x5d-\x7e]*$/;
const INTERNALS = /https?:|127\.0\.0\.1|localhost|\bat [\w.<]+ \(|Error:|node_modules|\.well-known/;
const now = () => Math.floor(Date.now() / 1000);

let issuer: TestIssuer;
let demo: RunningDemo;
const rsa = generateSigningKey('RS256', 'key-1');
const ec = generateSigningKey('ES256', 'ec-1');
const unpublished = generateSigningKey('RS256', 'ghost');

describeFrameworks(() => {
  beforeAll(async () => {
    issuer = await TestIssuer.start({ keys: [rsa, ec] });
    demo = await startTestDemo({ AUTH0_DOMAIN: issuer.origin });
  });
  afterAll(async () => {
    await demo?.close();
    await issuer?.close();
  });

  interface Reply {
    status: number;
    headers: Headers;
    body: unknown;
  }

  async function call(base: string, path: string, init: RequestInit = {}): Promise<Reply> {
    const response = await fetch(`${base}${path}`, init);
    const text = await response.text();
    let body: unknown = text;
    try {
      body = JSON.parse(text);
    } catch {
      /* left as text; the assertions will say so */
    }
    return { status: response.status, headers: response.headers, body };
  }

  const bearer = (token: string, extra: Record<string, string> = {}) => ({ headers: { authorization: `Bearer ${token}`, ...extra } });

  /** Sends raw bytes (for what fetch cannot send: repeated or oversized headers) and parses the answer. */
  function rawRequest(base: string, head: string, body = ''): Promise<{ status: number; headers: Array<[string, string]>; body: unknown }> {
    const { hostname, port } = new URL(base);
    return new Promise((resolve, reject) => {
      const socket = connect(Number(port), hostname, () => socket.write(`${head}\r\nConnection: close\r\n\r\n${body}`));
      const chunks: Buffer[] = [];
      socket.on('data', (c) => chunks.push(c));
      socket.on('error', reject);
      socket.on('close', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        const [top = '', body = ''] = text.split('\r\n\r\n', 2);
        const [statusLine = '', ...lines] = top.split('\r\n');
        const headers = lines.map((l) => [l.slice(0, l.indexOf(':')).toLowerCase(), l.slice(l.indexOf(':') + 1).trim()] as [string, string]);
        resolve({ status: Number(statusLine.split(' ')[1]), headers, body: JSON.parse(body) as unknown });
      });
    });
  }

  /** The JSON error body: exactly `error` and a safe `error_description`. */
  function expectErrorBody(body: unknown, code: string): void {
    expect(body).toEqual({ error: code, error_description: expect.any(String) });
    const description = (body as { error_description: string }).error_description;
    expect(description).toMatch(SAFE_TEXT);
    expect(description).not.toMatch(INTERNALS);
  }

  /** A 401/400 answer with its challenges: Bearer (+ DPoP), resource_metadata on each, error= on Bearer unless none. */
  function expectAuthError(reply: Reply, status: number, code: string): ReturnType<typeof parseChallenges> {
    expect(reply.status).toBe(status);
    expectErrorBody(reply.body, code);
    const challenges = parseChallenges(reply.headers.get('www-authenticate'));
    expect(challenges.map((c) => c.scheme)).toEqual(['Bearer', 'DPoP']);
    expect(challenges[1]!.params).toEqual({ algs: 'ES256', resource_metadata: `${demo.url}/.well-known/oauth-protected-resource` });
    const bearerParams = challenges[0]!.params;
    expect(bearerParams.resource_metadata).toBe(`${demo.url}/.well-known/oauth-protected-resource`);
    if (code === 'unauthorized') expect(bearerParams).not.toHaveProperty('error');
    else expect(bearerParams).toMatchObject({ error: code, error_description: (reply.body as { error_description: string }).error_description });
    return challenges;
  }

  describe('200 routes and bodies', () => {
    it('GET /api/public needs no token', async () => {
      const reply = await call(demo.url, '/api/public');
      expect(reply.status).toBe(200);
      expect(reply.body).toEqual({ message: expect.any(String) });
    });

    it.each([
      ['/api/private', { scope: undefined }, { user: 'auth0|user-1' }],
      ['/api/protected', { scope: undefined }, { message: expect.any(String) }],
      ['/api/profile', { scope: 'read:messages openid' }, { sub: 'auth0|user-1', scope: 'read:messages openid' }],
      ['/api/profile', { scope: undefined }, { sub: 'auth0|user-1', scope: null }],
      ['/api/profile', { scope: ['read:messages'] }, { sub: 'auth0|user-1', scope: ['read:messages'] }],
      ['/api/messages', { scope: 'read:messages' }, { messages: expect.arrayContaining([expect.objectContaining({ text: expect.any(String) })]) }],
    ])('GET %s with claims %j', async (path, claims, expected) => {
      const reply = await call(demo.url, path, bearer(await issuer.token(AUDIENCE, claims)));
      expect(reply.status).toBe(200);
      expect(reply.body).toEqual(expected);
      expect(reply.headers.get('www-authenticate')).toBeNull();
    });

    it.each([
      ['no body', {}],
      ['a JSON body', { body: JSON.stringify({ name: 'x', n: 1 }), headers: { 'content-type': 'application/json' } }],
    ] as Array<[string, { body?: string; headers?: Record<string, string> }]>)('POST /api/data with both scopes and %s → {"created": true}', async (_what, init) => {
      const token = await issuer.token(AUDIENCE, { scope: 'read:data write:data' });
      const reply = await call(demo.url, '/api/data', { method: 'POST', ...init, headers: { authorization: `Bearer ${token}`, ...init.headers } });
      expect(reply.status).toBe(200);
      expect(reply.body).toEqual({ created: true });
    });

    it('accepts several spaces after Bearer and any case of the scheme', async () => {
      const token = await issuer.token(AUDIENCE);
      for (const value of [`Bearer     ${token}`, `bearer ${token}`, `BEARER ${token}`]) {
        expect((await call(demo.url, '/api/private', { headers: { authorization: value } })).status).toBe(200);
      }
    });
  });

  describe('missing or malformed credentials', () => {
    it.each([
      ['no Authorization header', {}, 401, 'unauthorized'],
      ['an unsupported scheme (Basic x)', { authorization: 'Basic x' }, 401, 'unauthorized'],
      ['Bearer with no token', { authorization: 'Bearer' }, 400, 'invalid_request'],
      ['Bearer a b', { authorization: 'Bearer a b' }, 400, 'invalid_request'],
    ])('%s → %i %s', async (_what, headers, status, code) => {
      expectAuthError(await call(demo.url, '/api/private', { headers }), status, code);
    });

    it.each([
      ['Authorization', 'Authorization'],
      ['authorization', 'AUTHORIZATION'],
    ])('two Authorization headers (%s, %s) → 400 invalid_request', async (first, second) => {
      const token = await issuer.token(AUDIENCE);
      const host = new URL(demo.url).host;
      const reply = await rawRequest(demo.url, `GET /api/private HTTP/1.1\r\nHost: ${host}\r\n${first}: Bearer ${token}\r\n${second}: Bearer ${token}`);
      expect(reply.status).toBe(400);
      expectErrorBody(reply.body, 'invalid_request');
      const challenge = reply.headers
        .filter(([name]) => name === 'www-authenticate')
        .map(([, v]) => v)
        .join(', ');
      expect(parseChallenges(challenge)[0]).toMatchObject({ scheme: 'Bearer', params: { error: 'invalid_request' } });
    });

    it('a token only in the query string counts as no credentials → 401', async () => {
      const token = await issuer.token(AUDIENCE);
      expectAuthError(await call(demo.url, `/api/private?access_token=${token}`), 401, 'unauthorized');
    });

    it('a token only in a form body counts as no credentials → 401', async () => {
      const token = await issuer.token(AUDIENCE, { scope: 'read:data write:data' });
      const reply = await call(demo.url, '/api/data', {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ access_token: token }).toString(),
      });
      expectAuthError(reply, 401, 'unauthorized');
    });

    it.each([
      ['the query string', '?access_token=x', {}],
      ['the query string, percent-encoded name', '?acc%65ss%5Ftoken=x', {}],
      ['a form body', '', { 'content-type': 'application/x-www-form-urlencoded', body: 'access_token=x' }],
    ])('a valid header token plus a token in %s → 400 invalid_request', async (_what, query, extra) => {
      const token = await issuer.token(AUDIENCE, { scope: 'read:data write:data' });
      const { body, ...headers } = extra as Record<string, string>;
      const reply = await call(demo.url, `/api/data${query}`, { method: 'POST', headers: { authorization: `Bearer ${token}`, ...headers }, ...(body ? { body } : {}) });
      expectAuthError(reply, 400, 'invalid_request');
    });
  });

  describe('a token in a chunked form body (no Content-Length)', () => {
    it('with a valid header token → 400 invalid_request: a body without Content-Length is still read', async () => {
      const token = await issuer.token(AUDIENCE, { scope: 'read:data write:data' });
      const host = new URL(demo.url).host;
      const form = 'access_token=x';
      const chunked = `${form.length.toString(16)}\r\n${form}\r\n0\r\n\r\n`;
      const head = `POST /api/data HTTP/1.1\r\nHost: ${host}\r\nAuthorization: Bearer ${token}\r\nContent-Type: application/x-www-form-urlencoded\r\nTransfer-Encoding: chunked`;
      const reply = await rawRequest(demo.url, head, chunked);
      expect(reply.status).toBe(400);
      expectErrorBody(reply.body, 'invalid_request');
    });
  });

  describe('invalid tokens → 401 invalid_token with error= on Bearer', () => {
    const payload = (overrides: Record<string, unknown> = {}) => ({ iss: issuer.issuer, sub: 'auth0|user-1', aud: AUDIENCE, iat: now(), exp: now() + 600, ...overrides });
    const rows: Array<[string, () => Promise<string>]> = [
      [
        'signature',
        async () => {
          const [h, , s] = (await issuer.token(AUDIENCE)).split('.');
          return `${h}.${Buffer.from(JSON.stringify(payload({ sub: 'admin' }))).toString('base64url')}.${s}`;
        },
      ],
      ['kid (unknown)', () => issuer.token(AUDIENCE, {}, { key: unpublished })],
      ['kid (missing)', () => issuer.token(AUDIENCE, {}, { header: { kid: undefined } })],
      ['alg (ES256, not allowed)', () => issuer.token(AUDIENCE, {}, { key: ec })],
      [
        'alg (HS256 with the public key as secret)',
        () => new SignJWT(payload()).setProtectedHeader({ alg: 'HS256', kid: 'key-1' }).sign(new TextEncoder().encode(createPublicKey(rsa.privateKey).export({ format: 'pem', type: 'spki' }) as string)),
      ],
      ['typ (dpop+jwt)', () => issuer.token(AUDIENCE, {}, { header: { typ: 'dpop+jwt' } })],
      ['exp (expired)', () => issuer.token(AUDIENCE, { iat: now() - 7200, exp: now() - 60 })],
      ['nbf (future)', () => issuer.token(AUDIENCE, { nbf: now() + 600 })],
      ['iat (future)', () => issuer.token(AUDIENCE, { iat: now() + 600 })],
      ['iss (another tenant)', () => issuer.token(AUDIENCE, { iss: 'https://evil.us.auth0.com/' })],
      ['aud (another API)', () => issuer.token('https://other-api.example.com')],
      ['malformed JWT', async () => 'eyJhbGciOiJSUzI1NiJ9.bm90LWpzb24.c2ln'],
      ['not a JWT', async () => 'opaque'],
    ];

    it.each(rows)('%s', async (_what, makeToken) => {
      expectAuthError(await call(demo.url, '/api/private', bearer(await makeToken())), 401, 'invalid_token');
    });

    it('a DPoP-bound token sent as Bearer', async () => {
      const token = await issuer.token(AUDIENCE, { cnf: { jkt: 'NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs' } });
      expectAuthError(await call(demo.url, '/api/private', bearer(token)), 401, 'invalid_token');
    });
  });

  describe('scopes → 403 insufficient_scope', () => {
    it.each([
      ['GET', '/api/messages', undefined, 'read:messages'],
      ['GET', '/api/messages', 'read:data write:data', 'read:messages'],
      ['POST', '/api/data', undefined, 'read:data write:data'],
      ['POST', '/api/data', 'read:data', 'read:data write:data'],
      ['POST', '/api/data', 'write:data read:messages', 'read:data write:data'],
    ])('%s %s with scope %j', async (method, path, scope, required) => {
      const reply = await call(demo.url, path, { method, ...bearer(await issuer.token(AUDIENCE, { scope })) });
      expect(reply.status).toBe(403);
      expectErrorBody(reply.body, 'insufficient_scope');
      const [challenge] = parseChallenges(reply.headers.get('www-authenticate'));
      expect(challenge).toMatchObject({ scheme: 'Bearer', params: { error: 'insufficient_scope', scope: required } });
    });

    it('ignores permissions by default', async () => {
      const token = await issuer.token(AUDIENCE, { scope: undefined, permissions: ['read:messages'] });
      expect((await call(demo.url, '/api/messages', bearer(token))).status).toBe(403);
    });
  });

  type ScopeRow = [string, Record<string, unknown>, number];
  describe.each([
    [
      'permissions',
      [
        ['permissions grant', { scope: undefined, permissions: ['read:data', 'write:data'] }, 200],
        ['scope alone does not', { scope: 'read:data write:data', permissions: [] }, 403],
      ],
    ],
    [
      'scope,permissions',
      [
        ['the union grants', { scope: 'read:data', permissions: ['write:data'] }, 200],
        ['scope alone grants', { scope: 'read:data write:data' }, 200],
        ['permissions alone grant', { scope: undefined, permissions: ['read:data', 'write:data'] }, 200],
        ['a scope in neither claim is missing', { scope: 'read:data', permissions: ['read:messages'] }, 403],
      ],
    ],
  ] as Array<[string, ScopeRow[]]>)('AUTH0_SCOPE_CLAIM=%s', (scopeClaim, rows) => {
    let scoped: RunningDemo;
    beforeAll(async () => {
      scoped = await startTestDemo({ AUTH0_DOMAIN: issuer.origin, AUTH0_SCOPE_CLAIM: scopeClaim });
    });
    afterAll(async () => {
      await scoped?.close();
    });

    it.each(rows)('POST /api/data: %s', async (_what, claims, status) => {
      const reply = await call(scoped.url, '/api/data', { method: 'POST', ...bearer(await issuer.token(AUDIENCE, claims)) });
      expect(reply.status).toBe(status);
      if (status === 403) {
        expectErrorBody(reply.body, 'insufficient_scope');
        expect(parseChallenges(reply.headers.get('www-authenticate'))[0]!.params.scope).toBe('read:data write:data');
      } else {
        expect(reply.body).toEqual({ created: true });
      }
    });
  });

  describe('AUTH0_STRICT=true (RFC 9068)', () => {
    let strict: RunningDemo;
    beforeAll(async () => {
      strict = await startTestDemo({ AUTH0_DOMAIN: issuer.origin, AUTH0_STRICT: 'true' });
    });
    afterAll(async () => {
      await strict?.close();
    });

    it('accepts an at+jwt token with sub, client_id, iat and jti', async () => {
      const reply = await call(strict.url, '/api/private', bearer(await issuer.token(AUDIENCE)));
      expect(reply).toMatchObject({ status: 200, body: { user: 'auth0|user-1' } });
    });

    it.each([
      ['typ JWT', {}, { typ: 'JWT' }],
      ['no client_id', { client_id: undefined }, {}],
      ['no jti', { jti: undefined }, {}],
    ])('refuses %s', async (_what, claims, header) => {
      const reply = await call(strict.url, '/api/private', bearer(await issuer.token(AUDIENCE, claims, { header })));
      expect(reply.status).toBe(401);
      expectErrorBody(reply.body, 'invalid_token');
      expect(parseChallenges(reply.headers.get('www-authenticate'))[0]!.params.error).toBe('invalid_token');
    });
  });

  describe.each([
    ['discovery answers 500', { discoveryFault: { kind: 'status', status: 500 } }],
    ['discovery resets the connection', { discoveryFault: { kind: 'reset' } }],
    ['discovery names another issuer', { discoveryOverrides: { issuer: 'https://evil.example.com/' } }],
    ['the key set answers 502', { jwksFault: { kind: 'status', status: 502 } }],
    ['the key set is not JSON', { jwksFault: { kind: 'body', body: '<html>down</html>', contentType: 'text/html' } }],
  ] as Array<[string, Partial<Pick<TestIssuer, 'discoveryFault' | 'jwksFault' | 'discoveryOverrides'>>]>)('identity provider down (%s) and no cached key → 503', (_what, faults) => {
    let down: TestIssuer;
    let demoDown: RunningDemo;
    beforeAll(async () => {
      down = Object.assign(await TestIssuer.start(), faults);
      demoDown = await startTestDemo({ AUTH0_DOMAIN: down.origin });
    });
    afterAll(async () => {
      await demoDown?.close();
      await down?.close();
    });

    it('answers 503 temporarily_unavailable with Retry-After, never 401 or 500', async () => {
      const reply = await call(demoDown.url, '/api/private', bearer(await down.token(AUDIENCE)));
      expect(reply.status).toBe(503);
      expectErrorBody(reply.body, 'temporarily_unavailable');
      expect(reply.headers.get('retry-after')).toMatch(/^[1-9]\d*$/);
      expect(down.discoveryFetches).toBe(1);
    });
  });

  describe('every error uses the JSON shape', () => {
    it('404 for an unknown route', async () => {
      const reply = await call(demo.url, '/api/nope');
      expect(reply.status).toBe(404);
      expectErrorBody(reply.body, 'not_found');
    });

    it('400 for malformed JSON', async () => {
      const token = await issuer.token(AUDIENCE, { scope: 'read:data write:data' });
      const reply = await call(demo.url, '/api/data', { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: '{"a":' });
      expect(reply.status).toBe(400);
      expectErrorBody(reply.body, 'invalid_request');
    });

    it('413 for a JSON body over 100 kB', async () => {
      const token = await issuer.token(AUDIENCE, { scope: 'read:data write:data' });
      const body = JSON.stringify({ blob: 'x'.repeat(150 * 1024) });
      const reply = await call(demo.url, '/api/data', { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body });
      expect(reply.status).toBe(413);
      expectErrorBody(reply.body, 'payload_too_large');
    });

    it('431 for request headers over 16 KiB', async () => {
      const host = new URL(demo.url).host;
      const reply = await rawRequest(demo.url, `GET /api/private HTTP/1.1\r\nHost: ${host}\r\nX-Filler: ${'a'.repeat(20 * 1024)}`);
      expect(reply.status).toBe(431);
      expectErrorBody(reply.body, 'request_header_fields_too_large');
    });

    it('400 for a request Node cannot parse', async () => {
      const reply = await rawRequest(demo.url, 'GET /api/private HTTP/1.1\r\nHost: x\r\nBad Header Line');
      expect(reply.status).toBe(400);
      expectErrorBody(reply.body, 'invalid_request');
    });
  });
});
