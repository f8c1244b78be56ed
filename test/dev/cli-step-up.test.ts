/**
 * The `auth0-tsoa-api` command's step-up, claims, DPoP and token-exchange features, as a user runs them (the built
 * bin, child processes): `dev --audience A --audience B` serves both (A the default) and exchanges tokens for B;
 * `token --acr --auth-time --claim` mints the claims asked for (JSON values parsed); `call --dpop` makes DPoP-bound
 * requests that a real API built with this library accepts as DPoP. Mistakes in these options (reserved claims, a bad
 * --acr or --auth-time, no URL) are one line each: ./commands.test.ts.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createValidator } from '../../src/core/index.js';
import { buildOnce, runCli, startDevCommand, type RunningDev } from './cli-support.js';

const A = 'https://api.example.com';
const B = 'https://downstream.example.com';
const MFA = 'http://schemas.openid.net/pape/policies/2007/06/multi-factor';
const payload = (jwt: string) => JSON.parse(Buffer.from(jwt.split('.')[1]!, 'base64url').toString()) as Record<string, unknown>;

let dev: RunningDev;
let api: Server;
let apiUrl: string;

beforeAll(async () => {
  buildOnce();
  dev = await startDevCommand(['--port', '0', '--audience', A, '--audience', B, '--scopes', 'read:messages read:items']);
  // A real API: reports how the request was authenticated.
  const validator = createValidator({ domain: dev.domain, audience: A });
  api = createServer((req, res) => {
    validator.verifyRequest({ method: req.method!, url: `${apiUrl}${req.url === '/' ? '' : req.url}`, headers: req.headers }).then(
      (v) => res.writeHead(200, { 'content-type': 'application/json', ...v.responseHeaders }).end(JSON.stringify({ scheme: v.scheme, bound: Boolean((v.claims as { cnf?: unknown }).cnf) })),
      (e: { status?: number; code?: string }) => res.writeHead(e.status ?? 500, { 'content-type': 'application/json' }).end(JSON.stringify({ error: e.code })),
    );
  });
  await new Promise<void>((resolve) => api.listen(0, '127.0.0.1', resolve));
  apiUrl = `http://127.0.0.1:${(api.address() as AddressInfo).port}`;
}, 60_000);
afterAll(async () => {
  await dev?.stop();
  await new Promise((r) => api?.close(r));
});

describe('token', () => {
  it('--acr and --auth-time set the sign-in; --claim adds claims with JSON values parsed', async () => {
    const run = await runCli(['token', '--issuer', dev.domain, '--acr', MFA, '--auth-time', '1700000000', '--claim', 'org_id="org_1"', '--claim', 'roles=["a","b"]', '--claim', 'level=2', '--claim', 'note=plain text']);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(payload(run.stdout.trim())).toMatchObject({ acr: MFA, auth_time: 1700000000, org_id: 'org_1', roles: ['a', 'b'], level: 2, note: 'plain text', aud: A });
  });

  it('--acr alone: auth_time is now', async () => {
    const before = Math.floor(Date.now() / 1000);
    const run = await runCli(['token', '--issuer', dev.domain, '--acr', MFA]);
    const authTime = payload(run.stdout.trim()).auth_time as number;
    expect(authTime).toBeGreaterThanOrEqual(before);
    expect(authTime).toBeLessThanOrEqual(Math.floor(Date.now() / 1000));
  });

  it('the second --audience is served too', async () => {
    const run = await runCli(['token', '--issuer', dev.domain, '--audience', B]);
    expect(run.code).toBe(0);
    expect(payload(run.stdout.trim()).aud).toBe(B);
  });
});

describe('the token exchange grant of dev --audience A --audience B', () => {
  it('exchanges a token for A into one for B with act = the client', async () => {
    const subject = (await runCli(['token', '--issuer', dev.domain])).stdout.trim();
    const response = await fetch(`${dev.domain}/oauth/token`, {
      method: 'POST',
      headers: { authorization: `Basic ${Buffer.from('demo-client:demo-secret').toString('base64')}`, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'urn:ietf:params:oauth:grant-type:token-exchange', subject_token: subject, subject_token_type: 'urn:ietf:params:oauth:token-type:access_token', audience: B }),
    });
    expect(response.status).toBe(200);
    const exchanged = payload(((await response.json()) as { access_token: string }).access_token);
    expect(exchanged).toMatchObject({ aud: B, sub: payload(subject).sub, act: { sub: 'demo-client' } });
  });
});

describe('call', () => {
  it('--dpop: a DPoP-bound token and a proof per request, accepted as DPoP by the API', async () => {
    const run = await runCli(['call', '--dpop', '--issuer', dev.domain, '--scope', 'read:messages', `${apiUrl}/api/messages?x=1`]);
    expect(run.stderr).toBe('HTTP 200 (DPoP)\n');
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toEqual({ scheme: 'dpop', bound: true });
  });

  it('without --dpop: Bearer', async () => {
    const run = await runCli(['call', '--issuer', dev.domain, `${apiUrl}/api/messages`]);
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toEqual({ scheme: 'bearer', bound: false });
  });

  it('a refusal: the body on stdout, the status on stderr, exit 1', async () => {
    const run = await runCli(['call', '--issuer', dev.domain, '--audience', B, `${apiUrl}/api/messages`]);
    expect(run.code).toBe(1);
    expect(run.stderr).toBe('HTTP 401\n');
    expect(JSON.parse(run.stdout)).toEqual({ error: 'invalid_token' });
  });
});
