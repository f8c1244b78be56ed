/**
 * DPoP over HTTP through the real demo, in its three modes (AUTH0_DPOP=allowed|required|disabled): the mode ×
 * scheme × proof matrix. Valid proofs come from the `dpop` client library; deliberately broken ones are signed with
 * jose. Every answer is checked for status, JSON body and parsed WWW-Authenticate challenges.
 */
import { request as httpRequest } from 'node:http';
import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SignJWT, calculateJwkThumbprint, exportJWK, type JWK } from 'jose';
import { generateKeyPair, generateProof, type KeyPair } from 'dpop';
import { TestIssuer } from '../support/test-issuer.js';
import { AUDIENCE, describeFrameworks, parseChallenges, startTestDemo } from '../support/demo.js';
import type { RunningDemo } from '../../src/demo/server.js';
import { highS } from '../support/helpers.js';

type Mode = 'allowed' | 'required' | 'disabled';
type Scheme = 'Bearer' | 'DPoP';

interface Reply {
  status: number;
  body: unknown;
  challenges: Array<{ scheme: string; params: Record<string, string> }>;
  headers: Headers;
}

let issuer: TestIssuer;
const demos = {} as Record<Mode, RunningDemo>;
/** Reasons of the rejections each demo reported through onEvent: they tell which check fired. */
const rejections: Record<Mode, string[]> = { allowed: [], required: [], disabled: [] };
let client: KeyPair; // the key the bound token is bound to
let stranger: KeyPair; // another client's key
let clientJwk: JWK;
let boundToken: string;
let unboundToken: string;

describeFrameworks(() => {
  beforeAll(async () => {
    issuer = await TestIssuer.start();
    const [allowed, required, disabled] = await Promise.all(
      (['allowed', 'required', 'disabled'] as const).map((mode) => startTestDemo({ AUTH0_DOMAIN: issuer.origin, AUTH0_DPOP: mode }, { onEvent: (event) => void (event.type === 'request_rejected' && rejections[mode].push(event.reason)) })),
    );
    Object.assign(demos, { allowed, required, disabled });
    client = await generateKeyPair('ES256', { extractable: true });
    stranger = await generateKeyPair('ES256', { extractable: true });
    clientJwk = await exportJWK(client.publicKey);
    boundToken = await issuer.token(AUDIENCE, { cnf: { jkt: await calculateJwkThumbprint(clientJwk) } });
    unboundToken = await issuer.token(AUDIENCE);
  });
  afterAll(async () => {
    await Promise.all(Object.values(demos).map((d) => d.close()));
    await issuer?.close();
  });

  // --- requests -------------------------------------------------------------------------------------------------------

  async function send(url: string, options: { method?: string; authorization?: string; dpop?: string; body?: unknown } = {}): Promise<Reply> {
    const headers: Record<string, string> = {};
    if (options.authorization !== undefined) headers.authorization = options.authorization;
    if (options.dpop !== undefined) headers.dpop = options.dpop;
    if (options.body !== undefined) headers['content-type'] = 'application/json';
    const res = await fetch(url, {
      method: options.method ?? 'GET',
      headers,
      ...(options.body !== undefined ? { body: JSON.stringify(options.body) } : {}),
    });
    return { status: res.status, body: await res.json(), challenges: parseChallenges(res.headers.get('www-authenticate')), headers: res.headers };
  }

  /** A request with two separate `DPoP` header lines (fetch would join them into one). */
  async function sendTwoProofLines(url: string, authorization: string, proofs: [string, string]): Promise<Reply> {
    return new Promise((resolve, reject) => {
      const req = httpRequest(url, { method: 'GET' }, (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (text += chunk));
        res.on('end', () => {
          const headers = new Headers();
          for (const [k, v] of Object.entries(res.headers)) if (typeof v === 'string') headers.set(k, v);
          resolve({ status: res.statusCode ?? 0, body: JSON.parse(text), challenges: parseChallenges(headers.get('www-authenticate')), headers });
        });
      });
      req.on('error', reject);
      req.setHeader('authorization', authorization);
      req.setHeader('dpop', proofs);
      req.end();
    });
  }

  const urlOf = (mode: Mode, path = '/api/private') => `${demos[mode].url}${path}`;

  /** A valid proof from the `dpop` client library. */
  function validProof(url: string, token: string, options: { method?: string; keyPair?: KeyPair } = {}): Promise<string> {
    return generateProof(options.keyPair ?? client, url, options.method ?? 'GET', undefined, token);
  }

  async function sha256(text: string): Promise<string> {
    return Buffer.from(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(text))).toString('base64url');
  }

  /**
   * A proof signed with jose by the client key: valid for GET `url` and `token` unless `claims` or `header` override
   * something (`undefined` removes a member).
   */
  async function brokenProof(url: string, token: string, options: { claims?: Record<string, unknown>; header?: Record<string, unknown>; signWith?: CryptoKey | import('node:crypto').KeyObject } = {}): Promise<string> {
    const claims: Record<string, unknown> = { jti: randomUUID(), htm: 'GET', htu: url, iat: Math.floor(Date.now() / 1000), ath: await sha256(token), ...options.claims };
    const header: Record<string, unknown> = { alg: 'ES256', typ: 'dpop+jwt', jwk: clientJwk, ...options.header };
    for (const o of [claims, header]) for (const [k, v] of Object.entries(o)) if (v === undefined) delete o[k];
    return new SignJWT(claims).setProtectedHeader(header as { alg: string }).sign(options.signWith ?? client.privateKey);
  }

  // --- expectations ---------------------------------------------------------------------------------------------------

  /** The challenges a mode sends, with `error` (if any) on `scheme` only. Every 401 challenge has resource_metadata. */
  function expectedChallenges(mode: Mode, error?: { code: string; scheme: Scheme }) {
    const metadata = `${demos[mode].url}/.well-known/oauth-protected-resource`;
    const errorOn = (scheme: Scheme) => (error && error.scheme === scheme ? { error: error.code, error_description: expect.any(String) } : {});
    const bearer = { scheme: 'Bearer', params: { ...errorOn('Bearer'), resource_metadata: metadata } };
    const dpop = { scheme: 'DPoP', params: { ...errorOn('DPoP'), algs: 'ES256', resource_metadata: metadata } };
    return mode === 'allowed' ? [bearer, dpop] : mode === 'required' ? [dpop] : [bearer];
  }

  function withoutRealm(challenges: Reply['challenges']) {
    return challenges.map(({ scheme, params }) => {
      const { realm: _realm, ...rest } = params;
      return { scheme, params: rest };
    });
  }

  /** Status, JSON body and challenges of an error answer. */
  function expectError(reply: Reply, mode: Mode, status: number, code: string, errorScheme?: Scheme): void {
    expect({ status: reply.status, body: reply.body }).toEqual({ status, body: { error: code, error_description: expect.any(String) } });
    expect((reply.body as { error_description: string }).error_description.length).toBeGreaterThan(0);
    const error = code === 'unauthorized' ? undefined : { code, scheme: errorScheme ?? 'DPoP' };
    expect(withoutRealm(reply.challenges)).toEqual(expectedChallenges(mode, error));
  }

  // --- the matrix -----------------------------------------------------------------------------------------------------

  /** Proofs for `url`/`token` with exactly one check failing, and the reason the validator reports. */
  const BROKEN_PROOFS: Array<[string, string, (url: string, token: string) => Promise<string>]> = [
    ['typ JWT', 'proof.typ', (u, t) => brokenProof(u, t, { header: { typ: 'JWT' } })],
    ['typ missing', 'proof.typ', (u, t) => brokenProof(u, t, { header: { typ: undefined } })],
    [
      'alg RS256 (not allowed)',
      'proof.alg_not_allowed',
      async (u, t) => {
        const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
        return brokenProof(u, t, { header: { alg: 'RS256', jwk: rsa.publicKey.export({ format: 'jwk' }) }, signWith: rsa.privateKey });
      },
    ],
    [
      'alg none',
      'proof.alg_not_allowed',
      async (u, t) => {
        const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
        const [, payload] = (await brokenProof(u, t)).split('.');
        return `${b64({ alg: 'none', typ: 'dpop+jwt', jwk: clientJwk })}.${payload}.AAAA`;
      },
    ],
    ['jwk missing', 'proof.jwk_missing', (u, t) => brokenProof(u, t, { header: { jwk: undefined } })],
    [
      'jwk private (d)',
      'proof.jwk_private',
      async (u, t) => {
        const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
        return brokenProof(u, t, { header: { jwk: ec.privateKey.export({ format: 'jwk' }) }, signWith: ec.privateKey });
      },
    ],
    ['bad signature (signed by another key)', 'proof.signature', (u, t) => brokenProof(u, t, { signWith: stranger.privateKey })],
    ['htm lower-case', 'proof.htm', (u, t) => brokenProof(u, t, { claims: { htm: 'get' } })],
    ['htm POST for a GET', 'proof.htm', (u, t) => brokenProof(u, t, { claims: { htm: 'POST' } })],
    ['htu another path', 'proof.htu', (u, t) => brokenProof(u, t, { claims: { htu: u.replace('/api/private', '/api/profile') } })],
    ['htu another host', 'proof.htu', (u, t) => brokenProof(u, t, { claims: { htu: u.replace('127.0.0.1', 'evil.example') } })],
    ['htu trailing slash', 'proof.htu', (u, t) => brokenProof(u, t, { claims: { htu: `${u}/` } })],
    ['iat 400 s old', 'proof.too_old', (u, t) => brokenProof(u, t, { claims: { iat: Math.floor(Date.now() / 1000) - 400 } })],
    ['iat 120 s ahead', 'proof.iat_future', (u, t) => brokenProof(u, t, { claims: { iat: Math.floor(Date.now() / 1000) + 120 } })],
    ['exp in the past', 'proof.expired', (u, t) => brokenProof(u, t, { claims: { exp: Math.floor(Date.now() / 1000) - 10 } })],
    ['jti missing', 'proof.jti_missing', (u, t) => brokenProof(u, t, { claims: { jti: undefined } })],
    ['jti over 256 characters', 'proof.jti_too_long', (u, t) => brokenProof(u, t, { claims: { jti: 'j'.repeat(257) } })],
    ['ath missing', 'proof.ath', (u, t) => brokenProof(u, t, { claims: { ath: undefined } })],
    ['ath of another token', 'proof.ath', async (u, t) => brokenProof(u, t, { claims: { ath: await sha256(`${t}x`) } })],
    ['over 8 KiB', 'proof.malformed', (u, t) => brokenProof(u, t, { claims: { pad: 'x'.repeat(7000) } })],
    ['not a JWS', 'proof.malformed', async () => 'not-a-jws'],
  ];

  describe.each(['allowed', 'required'] as const)('AUTH0_DPOP=%s', (mode) => {
    it('accepts a valid DPoP proof and refuses its second use', async () => {
      const proof = await validProof(urlOf(mode), boundToken);
      const ok = await send(urlOf(mode), { authorization: `DPoP ${boundToken}`, dpop: proof });
      expect({ status: ok.status, body: ok.body }).toEqual({ status: 200, body: { user: 'auth0|user-1' } });
      expect(ok.headers.get('www-authenticate')).toBeNull();
      const replay = await send(urlOf(mode), { authorization: `DPoP ${boundToken}`, dpop: proof });
      expectError(replay, mode, 401, 'invalid_dpop_proof');
      expect(rejections[mode].at(-1)).toBe('proof.replay');
    });

    it('refuses the high-S twin of a used proof as a replay (the replay key is not the proof bytes)', async () => {
      const proof = await validProof(urlOf(mode), boundToken);
      expect((await send(urlOf(mode), { authorization: `DPoP ${boundToken}`, dpop: proof })).status).toBe(200);
      const twin = await send(urlOf(mode), { authorization: `DPoP ${boundToken}`, dpop: highS(proof) });
      expectError(twin, mode, 401, 'invalid_dpop_proof');
      expect(rejections[mode].at(-1)).toBe('proof.replay');
    });

    it('accepts a fresh proof for every request with the same token', async () => {
      for (let i = 0; i < 3; i++) {
        const reply = await send(urlOf(mode), { authorization: `DPoP ${boundToken}`, dpop: await validProof(urlOf(mode), boundToken) });
        expect(reply.status).toBe(200);
      }
    });

    it('accepts a proof whose htu omits the query string of the request', async () => {
      const proof = await validProof(urlOf(mode), boundToken);
      const reply = await send(`${urlOf(mode)}?page=2`, { authorization: `DPoP ${boundToken}`, dpop: proof });
      expect({ status: reply.status, body: reply.body }).toEqual({ status: 200, body: { user: 'auth0|user-1' } });
    });

    it('accepts a proof for a request with a 6 KB query string', async () => {
      const proof = await validProof(urlOf(mode), boundToken);
      const reply = await send(`${urlOf(mode)}?q=${'x'.repeat(6000)}`, { authorization: `DPoP ${boundToken}`, dpop: proof });
      expect({ status: reply.status, body: reply.body }).toEqual({ status: 200, body: { user: 'auth0|user-1' } });
    });

    it('checks htm against POST and grants a POST with the right proof and scopes', async () => {
      const token = await issuer.token(AUDIENCE, { scope: 'read:data write:data', cnf: { jkt: await calculateJwkThumbprint(clientJwk) } });
      const url = urlOf(mode, '/api/data');
      const getProof = await validProof(url, token, { method: 'GET' });
      expectError(await send(url, { method: 'POST', authorization: `DPoP ${token}`, dpop: getProof, body: {} }), mode, 401, 'invalid_dpop_proof');
      const postProof = await validProof(url, token, { method: 'POST' });
      const ok = await send(url, { method: 'POST', authorization: `DPoP ${token}`, dpop: postProof, body: { a: 1 } });
      expect({ status: ok.status, body: ok.body }).toEqual({ status: 200, body: { created: true } });
    });

    it.each(BROKEN_PROOFS)('refuses a proof with %s: 401 invalid_dpop_proof (reason %s)', async (_name, reason, make) => {
      const reply = await send(urlOf(mode), { authorization: `DPoP ${boundToken}`, dpop: await make(urlOf(mode), boundToken) });
      expectError(reply, mode, 401, 'invalid_dpop_proof');
      expect(rejections[mode].at(-1)).toBe(reason);
    });

    it('refuses a proof by a key other than the token binding: 401 invalid_token on DPoP', async () => {
      const proof = await validProof(urlOf(mode), boundToken, { keyPair: stranger });
      expectError(await send(urlOf(mode), { authorization: `DPoP ${boundToken}`, dpop: proof }), mode, 401, 'invalid_token');
      expect(rejections[mode].at(-1)).toBe('token.jkt_mismatch');
    });

    it('refuses an unbound token with the DPoP scheme: 401 invalid_token on DPoP', async () => {
      const proof = await validProof(urlOf(mode), unboundToken);
      expectError(await send(urlOf(mode), { authorization: `DPoP ${unboundToken}`, dpop: proof }), mode, 401, 'invalid_token');
      expect(rejections[mode].at(-1)).toBe('token.not_dpop_bound');
    });

    it('refuses an invalid token with a valid proof: 401 invalid_token on DPoP', async () => {
      const expired = await issuer.token(AUDIENCE, { exp: Math.floor(Date.now() / 1000) - 3600, cnf: { jkt: await calculateJwkThumbprint(clientJwk) } });
      const proof = await validProof(urlOf(mode), expired);
      expectError(await send(urlOf(mode), { authorization: `DPoP ${expired}`, dpop: proof }), mode, 401, 'invalid_token');
    });

    it('refuses the DPoP scheme without a DPoP header: 400 invalid_request on DPoP', async () => {
      expectError(await send(urlOf(mode), { authorization: `DPoP ${boundToken}` }), mode, 400, 'invalid_request');
      expect(rejections[mode].at(-1)).toBe('proof.missing');
    });

    it('refuses two proofs joined in one DPoP header: 400 invalid_request on DPoP', async () => {
      const proofs = `${await validProof(urlOf(mode), boundToken)}, ${await validProof(urlOf(mode), boundToken)}`;
      expectError(await send(urlOf(mode), { authorization: `DPoP ${boundToken}`, dpop: proofs }), mode, 400, 'invalid_request');
      expect(rejections[mode].at(-1)).toBe('proof.multiple');
    });

    it('refuses two DPoP header lines: 400 invalid_request on DPoP', async () => {
      const proofs: [string, string] = [await validProof(urlOf(mode), boundToken), await validProof(urlOf(mode), boundToken)];
      expectError(await sendTwoProofLines(urlOf(mode), `DPoP ${boundToken}`, proofs), mode, 400, 'invalid_request');
      expect(rejections[mode].at(-1)).toBe('proof.multiple');
    });

    it('answers a missing scope with 403 insufficient_scope on the DPoP challenge', async () => {
      const token = await issuer.token(AUDIENCE, { scope: 'read:data', cnf: { jkt: await calculateJwkThumbprint(clientJwk) } });
      const url = urlOf(mode, '/api/messages');
      const reply = await send(url, { authorization: `DPoP ${token}`, dpop: await validProof(url, token) });
      expect({ status: reply.status, body: reply.body }).toEqual({ status: 403, body: { error: 'insufficient_scope', error_description: expect.any(String) } });
      const dpop = reply.challenges.find((c) => c.scheme === 'DPoP');
      expect(dpop?.params).toMatchObject({ error: 'insufficient_scope', scope: 'read:messages', algs: 'ES256' });
      const bearer = reply.challenges.find((c) => c.scheme === 'Bearer');
      if (mode === 'allowed') expect(bearer?.params.error).toBeUndefined();
      else expect(bearer).toBeUndefined();
    });

    it('grants a scoped route with the scope and a valid proof', async () => {
      const url = urlOf(mode, '/api/messages');
      const reply = await send(url, { authorization: `DPoP ${boundToken}`, dpop: await validProof(url, boundToken) });
      expect(reply.status).toBe(200);
      expect((reply.body as { messages: unknown[] }).messages.length).toBeGreaterThan(0);
    });

    it('answers no credentials with 401 unauthorized and no error attribute', async () => {
      expectError(await send(urlOf(mode)), mode, 401, 'unauthorized');
    });
  });

  describe('AUTH0_DPOP=allowed: Bearer next to DPoP', () => {
    it('accepts an unbound Bearer token', async () => {
      const reply = await send(urlOf('allowed'), { authorization: `Bearer ${unboundToken}` });
      expect({ status: reply.status, body: reply.body }).toEqual({ status: 200, body: { user: 'auth0|user-1' } });
    });

    it('refuses a bound token sent as Bearer: 401 invalid_token on Bearer', async () => {
      expectError(await send(urlOf('allowed'), { authorization: `Bearer ${boundToken}` }), 'allowed', 401, 'invalid_token', 'Bearer');
      expect(rejections.allowed.at(-1)).toBe('token.bound_as_bearer');
    });

    it('refuses a Bearer token with a DPoP header: 400 invalid_request on Bearer', async () => {
      const proof = await validProof(urlOf('allowed'), unboundToken);
      expectError(await send(urlOf('allowed'), { authorization: `Bearer ${unboundToken}`, dpop: proof }), 'allowed', 400, 'invalid_request', 'Bearer');
    });

    it('does not burn a proof refused for another reason: the same proof then works with the DPoP scheme', async () => {
      const proof = await validProof(urlOf('allowed'), boundToken);
      expect((await send(urlOf('allowed'), { authorization: `Bearer ${boundToken}`, dpop: proof })).status).toBe(400);
      expect((await send(urlOf('allowed'), { authorization: `DPoP ${boundToken}`, dpop: proof })).status).toBe(200);
    });
  });

  describe('AUTH0_DPOP=required', () => {
    it('refuses an unbound Bearer token: 401 unauthorized, only DPoP algs, no error', async () => {
      const reply = await send(urlOf('required'), { authorization: `Bearer ${unboundToken}` });
      expectError(reply, 'required', 401, 'unauthorized');
      expect(reply.challenges).toHaveLength(1);
    });

    it('refuses a bound Bearer token the same way', async () => {
      expectError(await send(urlOf('required'), { authorization: `Bearer ${boundToken}` }), 'required', 401, 'unauthorized');
    });

    it('refuses Bearer plus a DPoP header the same way', async () => {
      const proof = await validProof(urlOf('required'), boundToken);
      expectError(await send(urlOf('required'), { authorization: `Bearer ${boundToken}`, dpop: proof }), 'required', 401, 'unauthorized');
    });
  });

  describe('AUTH0_DPOP=disabled', () => {
    it('accepts an unbound Bearer token', async () => {
      const reply = await send(urlOf('disabled'), { authorization: `Bearer ${unboundToken}` });
      expect({ status: reply.status, body: reply.body }).toEqual({ status: 200, body: { user: 'auth0|user-1' } });
    });

    it('treats the DPoP scheme as unsupported: 401 unauthorized, only a Bearer challenge, no error', async () => {
      const reply = await send(urlOf('disabled'), { authorization: `DPoP ${boundToken}`, dpop: await validProof(urlOf('disabled'), boundToken) });
      expectError(reply, 'disabled', 401, 'unauthorized');
      expect(reply.challenges).toHaveLength(1);
    });

    it('refuses a bound token sent as Bearer: 401 invalid_token (never downgraded)', async () => {
      expectError(await send(urlOf('disabled'), { authorization: `Bearer ${boundToken}` }), 'disabled', 401, 'invalid_token', 'Bearer');
      expect(rejections.disabled.at(-1)).toBe('token.bound_as_bearer');
    });

    it('ignores a stray DPoP header next to a Bearer token', async () => {
      const reply = await send(urlOf('disabled'), { authorization: `Bearer ${unboundToken}`, dpop: 'anything' });
      expect({ status: reply.status, body: reply.body }).toEqual({ status: 200, body: { user: 'auth0|user-1' } });
    });

    it('answers no credentials with a Bearer challenge only', async () => {
      expectError(await send(urlOf('disabled')), 'disabled', 401, 'unauthorized');
    });
  });

  describe('RFC 9728 metadata per mode', () => {
    it.each([
      ['allowed', { dpop_signing_alg_values_supported: ['ES256'], dpop_bound_access_tokens_required: false }],
      ['required', { dpop_signing_alg_values_supported: ['ES256'], dpop_bound_access_tokens_required: true }],
      ['disabled', {}],
    ] as const)('%s', async (mode, dpopMembers) => {
      const res = await fetch(`${demos[mode].url}/.well-known/oauth-protected-resource`);
      const doc = (await res.json()) as Record<string, unknown>;
      expect(res.status).toBe(200);
      expect(doc.resource).toBe(demos[mode].url);
      expect({
        dpop_signing_alg_values_supported: doc.dpop_signing_alg_values_supported,
        dpop_bound_access_tokens_required: doc.dpop_bound_access_tokens_required,
      }).toEqual({ dpop_signing_alg_values_supported: undefined, dpop_bound_access_tokens_required: undefined, ...dpopMembers });
    });
  });
});
