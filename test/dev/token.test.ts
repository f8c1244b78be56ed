/**
 * requestDevToken (src/dev/token.ts) against a stand-in OpenID provider (node:http): the token endpoint found by
 * discovery, the client credentials request it sends (HTTP Basic with form-encoded credentials, RFC 6749 §2.3.1;
 * Auth0's audience and organization; the development issuer's acr, auth_time and extra claims; a DPoP proof when
 * given a key, RFC 9449 §5), and every failure as a DevTokenError of one line saying why.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { compactVerify, exportJWK } from 'jose';
import { createDpopKeyPair } from '../../src/client/dpop.js';
import { DEFAULT_DEV_ISSUER, DevTokenError, requestDevToken } from '../../src/dev/token.js';
import { jwtPayload } from './cli-support.js';

interface Seen {
  method: string;
  path: string;
  headers: IncomingMessage['headers'];
  form: Record<string, string>;
}

let origin: string;
let seen: Seen[];
/** How the provider answers the token request (discovery always names `${origin}/oauth/token` unless replaced). */
let answerToken: (res: ServerResponse) => void;
let answerDiscovery: (res: ServerResponse) => void;
const json = (res: ServerResponse, status: number, body: unknown) => void res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));

const server = createServer((req, res) => {
  let body = '';
  req.setEncoding('utf8').on('data', (chunk: string) => (body += chunk));
  req.on('end', () => {
    seen.push({ method: req.method!, path: req.url!, headers: req.headers, form: Object.fromEntries(new URLSearchParams(body)) });
    if (req.url === '/.well-known/openid-configuration') return answerDiscovery(res);
    if (req.url === '/oauth/token') return answerToken(res);
    json(res, 404, {});
  });
});

beforeAll(async () => {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));
beforeEach(() => {
  seen = [];
  answerDiscovery = (res) => json(res, 200, { issuer: `${origin}/`, token_endpoint: `${origin}/oauth/token` });
  answerToken = (res) => json(res, 200, { access_token: 'the.access.token', token_type: 'Bearer', expires_in: 3600 });
});

const tokenRequest = () => seen.find((s) => s.path === '/oauth/token')!;
const basic = (id: string, secret: string) => `Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}`;

describe('requestDevToken: the request', () => {
  it('discovery first, then a client credentials POST to its token_endpoint; resolves with access_token', async () => {
    expect(await requestDevToken({ issuer: origin })).toBe('the.access.token');
    expect(seen.map((s) => `${s.method} ${s.path}`)).toEqual(['GET /.well-known/openid-configuration', 'POST /oauth/token']);
    expect(tokenRequest().headers['content-type']).toBe('application/x-www-form-urlencoded');
  });

  it('defaults: the demo client, and only grant_type (the issuer picks audience and scopes)', async () => {
    await requestDevToken({ issuer: origin });
    expect(tokenRequest().form).toEqual({ grant_type: 'client_credentials' });
    expect(tokenRequest().headers.authorization).toBe(basic('demo-client', 'demo-secret'));
  });

  it('the issuer may be given with trailing slashes, as an identifier is (Auth0: https://tenant/)', async () => {
    await requestDevToken({ issuer: `${origin}//` });
    expect(seen[0]!.path).toBe('/.well-known/openid-configuration');
  });

  it('a bare host is an https issuer; the fetch option is used for every request', async () => {
    const urls: string[] = [];
    const token = await requestDevToken({
      issuer: 'tenant.example.com',
      fetch: async (input) => {
        const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
        urls.push(url);
        return url.endsWith('/openid-configuration') ? Response.json({ token_endpoint: 'https://tenant.example.com/oauth/token' }) : Response.json({ access_token: 'from-fake' });
      },
    });
    expect(token).toBe('from-fake');
    expect(urls).toEqual(['https://tenant.example.com/.well-known/openid-configuration', 'https://tenant.example.com/oauth/token']);
  });

  it('audience, organization, and the scopes with their spacing normalized', async () => {
    await requestDevToken({ issuer: origin, audience: 'https://api.example.com', organization: 'org_abc123', scope: '  read:messages \n write:messages ' });
    expect(tokenRequest().form).toEqual({ grant_type: 'client_credentials', audience: 'https://api.example.com', organization: 'org_abc123', scope: 'read:messages write:messages' });
  });

  it('a blank scope is not sent', async () => {
    await requestDevToken({ issuer: origin, scope: '   ' });
    expect(tokenRequest().form).not.toHaveProperty('scope');
  });

  it('client id and secret are form-encoded before Basic encoding (RFC 6749 §2.3.1)', async () => {
    await requestDevToken({ issuer: origin, clientId: 'my client', clientSecret: 'p@ss:wörd' });
    expect(tokenRequest().headers.authorization).toBe(basic('my+client', 'p%40ss%3Aw%C3%B6rd'));
  });

  it('acr alone: auth_time is now', async () => {
    const before = Math.floor(Date.now() / 1000);
    await requestDevToken({ issuer: origin, acr: 'http://schemas.openid.net/pape/policies/2007/06/multi-factor' });
    const { acr, auth_time } = tokenRequest().form;
    expect(acr).toBe('http://schemas.openid.net/pape/policies/2007/06/multi-factor');
    expect(Number(auth_time)).toBeGreaterThanOrEqual(before);
    expect(Number(auth_time)).toBeLessThanOrEqual(Math.floor(Date.now() / 1000));
  });

  it('authTime is sent as given, with or without acr; claims as JSON in extra_claims', async () => {
    await requestDevToken({ issuer: origin, authTime: 1_700_000_000, claims: { roles: ['admin'], level: 2 } });
    expect(tokenRequest().form).toEqual({ grant_type: 'client_credentials', auth_time: '1700000000', extra_claims: '{"roles":["admin"],"level":2}' });
  });

  it('no claims: no extra_claims', async () => {
    await requestDevToken({ issuer: origin, claims: {} });
    expect(tokenRequest().form).not.toHaveProperty('extra_claims');
  });

  it('with a DPoP key: the token request carries a proof for that POST, signed by the key (RFC 9449 §4.2, §5)', async () => {
    const keyPair = await createDpopKeyPair();
    await requestDevToken({ issuer: origin, dpop: keyPair });
    const proof = tokenRequest().headers.dpop as string;
    const { protectedHeader } = await compactVerify(proof, keyPair.publicKey);
    expect(protectedHeader).toMatchObject({ typ: 'dpop+jwt', alg: 'ES256' });
    expect(protectedHeader.jwk).toMatchObject({ kty: 'EC', crv: 'P-256', x: (await exportJWK(keyPair.publicKey)).x });
    expect(jwtPayload(proof)).toMatchObject({ htm: 'POST', htu: `${origin}/oauth/token` });
    expect(seen[0]!.headers.dpop).toBeUndefined(); // discovery needs no proof
  });

  it('the default issuer is the development issuer’s default address', () => {
    expect(DEFAULT_DEV_ISSUER).toBe('http://127.0.0.1:4001');
  });
});

describe('requestDevToken: failures are a DevTokenError of one line', () => {
  /** The DevTokenError requestDevToken rejects with. */
  async function failure(request: Parameters<typeof requestDevToken>[0]): Promise<DevTokenError> {
    const error = await requestDevToken(request).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(DevTokenError);
    expect((error as Error).message).not.toContain('\n');
    return error as DevTokenError;
  }

  /** A port nothing listens on. */
  async function closedPort(): Promise<number> {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    return port;
  }

  it('no issuer listening: says how to start one', async () => {
    const port = await closedPort();
    expect((await failure({ issuer: `http://127.0.0.1:${port}` })).message).toBe(`no issuer answers at http://127.0.0.1:${port} (ECONNREFUSED): start one with "npx auth0-tsoa-api dev" or pass --issuer`);
  });

  it('no answer in time', async () => {
    const error = await failure({ issuer: origin, timeoutMs: 50, fetch: (_url, init) => new Promise((_resolve, reject) => init?.signal?.addEventListener('abort', () => reject(init.signal!.reason as Error))) });
    expect(error.message).toBe(`no issuer answers at ${origin} (no answer in time): start one with "npx auth0-tsoa-api dev" or pass --issuer`);
  });

  it.each([
    ['404', (res: ServerResponse) => json(res, 404, { error: 'not_found' }), 404],
    ['not JSON', (res: ServerResponse) => void res.writeHead(200, { 'content-type': 'text/html' }).end('<html>'), 200],
    ['JSON without token_endpoint', (res: ServerResponse) => json(res, 200, { issuer: 'x' }), 200],
  ])('discovery answers %s: not a discovery document', async (_what, answer, status) => {
    answerDiscovery = answer;
    expect((await failure({ issuer: origin })).message).toBe(`${origin}/.well-known/openid-configuration is not an OpenID discovery document with a token_endpoint (HTTP ${status})`);
  });

  it('the token endpoint cannot be reached', async () => {
    const port = await closedPort();
    answerDiscovery = (res) => json(res, 200, { token_endpoint: `http://127.0.0.1:${port}/oauth/token` });
    expect((await failure({ issuer: origin })).message).toBe(`cannot reach the token endpoint http://127.0.0.1:${port}/oauth/token: ECONNREFUSED`);
  });

  it.each([
    ['an OAuth error with its description', (res: ServerResponse) => json(res, 400, { error: 'invalid_scope', error_description: 'delete:everything is not allowed' }), 'invalid_scope: delete:everything is not allowed'],
    ['an OAuth error alone', (res: ServerResponse) => json(res, 401, { error: 'invalid_client' }), 'invalid_client'],
    ['a status without JSON', (res: ServerResponse) => void res.writeHead(502).end('bad gateway'), 'HTTP 502'],
    ['200 without an access_token', (res: ServerResponse) => json(res, 200, { token_type: 'Bearer' }), 'HTTP 200'],
  ])('the token endpoint answers %s: refused, with the reason', async (_what, answer, reason) => {
    answerToken = answer;
    expect((await failure({ issuer: origin })).message).toBe(`the token request to ${origin}/oauth/token was refused (${reason})`);
  });

  it('DevTokenError is named DevTokenError', () => {
    expect(new DevTokenError('x').name).toBe('DevTokenError');
  });
});
