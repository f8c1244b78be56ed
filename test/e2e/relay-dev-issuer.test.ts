/**
 * `GET /api/relay` end to end with the real development issuer (oidc-provider, started by the demo without
 * AUTH0_DOMAIN): the demo exchanges the caller's token with the issuer's confidential client (the dev default) for
 * DOWNSTREAM_AUDIENCE, and a real downstream API verifies the exchanged token with this library (its own audience)
 * and answers with its claims: same `sub`, `act: {"sub": "demo-client"}` (RFC 8693 §4.1), the downstream scope.
 * Also `GET /api/payments` with step-up tokens minted by the same issuer (`acr`, `auth_time`).
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createValidator, type ApiValidator } from '../../src/core/index.js';
import { requestDevToken } from '../../src/dev/index.js';
import { describeFrameworks, startTestDemo } from '../support/demo.js';
import type { RunningDemo } from '../../src/demo/server.js';

const DOWNSTREAM_AUDIENCE = 'https://downstream.example.com';
const MFA = 'http://schemas.openid.net/pape/policies/2007/06/multi-factor';
let demo: RunningDemo;
let downstream: Server;
let downstreamValidator: ApiValidator | undefined;

describeFrameworks(() => {
  beforeAll(async () => {
    downstream = createServer((req, res) => {
      downstreamValidator!.verifyRequest({ method: 'GET', url: `http://127.0.0.1${req.url}`, headers: req.headers }).then(
        ({ claims }) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ sub: claims.sub, act: claims.act, aud: claims.aud, scope: claims.scope })),
        (error: { status?: number }) => res.writeHead(error.status ?? 500, { 'content-type': 'application/json' }).end('{"error":"refused"}'),
      );
    });
    await new Promise<void>((resolve) => downstream.listen(0, '127.0.0.1', resolve));
    const downstreamUrl = `http://127.0.0.1:${(downstream.address() as AddressInfo).port}/items`;
    demo = await startTestDemo({ AUTH0_DEV_ISSUER_PORT: '0', DOWNSTREAM_URL: downstreamUrl, DOWNSTREAM_AUDIENCE, DOWNSTREAM_SCOPE: 'read:data' });
    downstreamValidator = createValidator({ domain: demo.issuer!.domain, audience: DOWNSTREAM_AUDIENCE });
  });
  afterAll(async () => {
    await demo?.close();
    await new Promise((r) => downstream?.close(r));
  });

  describe('GET /api/relay with the development issuer', () => {
    it('the downstream API verifies the exchanged token: same sub, act = the demo client, its audience and scope', async () => {
      const token = await requestDevToken({ issuer: demo.issuer!.domain, scope: 'read:messages' });
      const response = await fetch(`${demo.url}/api/relay`, { headers: { authorization: `Bearer ${token}` } });
      expect(response.status).toBe(200);
      const { downstream: claims } = (await response.json()) as { downstream: Record<string, unknown> };
      const callerSub = JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()).sub as string;
      expect(claims).toEqual({ sub: callerSub, act: { sub: 'demo-client' }, aud: DOWNSTREAM_AUDIENCE, scope: 'read:data' });
    });

    it('a caller token for the downstream audience itself is refused by the demo (wrong audience): no exchange', async () => {
      const token = await requestDevToken({ issuer: demo.issuer!.domain, audience: DOWNSTREAM_AUDIENCE, scope: 'read:messages' });
      const response = await fetch(`${demo.url}/api/relay`, { headers: { authorization: `Bearer ${token}` } });
      expect(response.status).toBe(401);
    });
  });

  describe('GET /api/payments with development-issuer tokens', () => {
    it('a token minted with --acr multi-factor (auth_time now) passes; an old sign-in is asked to step up', async () => {
      const fresh = await requestDevToken({ issuer: demo.issuer!.domain, scope: 'read:data', acr: MFA });
      expect((await fetch(`${demo.url}/api/payments`, { headers: { authorization: `Bearer ${fresh}` } })).status).toBe(200);
      const old = await requestDevToken({ issuer: demo.issuer!.domain, scope: 'read:data', acr: MFA, authTime: Math.floor(Date.now() / 1000) - 3600 });
      const refused = await fetch(`${demo.url}/api/payments`, { headers: { authorization: `Bearer ${old}` } });
      expect(refused.status).toBe(401);
      expect(refused.headers.get('www-authenticate')).toContain('error="insufficient_user_authentication"');
      expect(refused.headers.get('www-authenticate')).toContain('max_age="300"');
    });
  });
});
