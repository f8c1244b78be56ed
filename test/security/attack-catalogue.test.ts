/**
 * The attack catalogue (docs/security-model.md), row by row, against the real demo over HTTP (and, for the ES256
 * rows the RS256-only demo cannot reach, against the core validator configured for ES256).
 *
 * Every forged token is signed with the issuer's REAL key whenever the attack allows it, so that the only thing
 * wrong with it is the attack itself: a 401 then proves the check, not a bad signature.
 *
 * The last block, "second round", adds the rows of the second security review (items 2–11).
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { constants, createHash, createHmac, createPublicKey, generateKeyPairSync, randomBytes, randomUUID, sign as cryptoSign, type KeyObject } from 'node:crypto';
import { connect, type AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import express from 'express';
import { SignJWT, calculateJwkThumbprint, exportJWK, type JWK } from 'jose';
import { TestIssuer, generateSigningKey, type SigningKey } from '../support/test-issuer.js';
import { AUDIENCE, parseChallenges, startTestDemo } from '../support/demo.js';
import type { RunningDemo } from '../../src/demo/server.js';
import { ApiValidator } from '../../src/core/validator.js';
import { errorResponse } from '../../src/core/http/error-response.js';
import { AuthError } from '../../src/core/errors.js';
import { startCountingServer, type CountingServer } from '../support/helpers.js';
import { createAuth0Api, errorHandler } from '../../src/express/index.js';
import { MemoryReplayStore } from '../../src/core/dpop/replay-store.js';
import { collidingKeys, ordinaryKeys, unseededBucketHash } from '../support/unseeded-placement.js';

// ---------------------------------------------------------------------------------------------------------------
// Fixtures: one issuer (RSA 2048, RSA 1024, EC P-256 keys), the demo (default and strict), an attacker server.

let issuer: TestIssuer;
let demo: RunningDemo;
let strictDemo: RunningDemo;
let attacker: CountingServer;
let rsa: SigningKey; // the legitimate signing key, kid "key-1"
let weak: SigningKey; // 1024-bit RSA, published in the JWKS
let ec: SigningKey; // ES256 key, published in the JWKS
const evil = generateSigningKey('RS256', 'attacker-kid'); // never published by the issuer

beforeAll(async () => {
  rsa = generateSigningKey('RS256', 'key-1');
  weak = generateSigningKey('RS256', 'weak-1024', 1024);
  ec = generateSigningKey('ES256', 'ec-1');
  issuer = await TestIssuer.start({ keys: [rsa, weak, ec] });
  attacker = await startCountingServer(() => ({ keys: [evil.publicJwk] }));
  demo = await startTestDemo({ AUTH0_DOMAIN: issuer.origin });
  strictDemo = await startTestDemo({ AUTH0_DOMAIN: issuer.origin, AUTH0_STRICT: 'true' });
});
afterAll(async () => {
  await demo?.close();
  await strictDemo?.close();
  await attacker?.close();
  await issuer?.close();
});

// ---------------------------------------------------------------------------------------------------------------
// Token crafting: header and payload as objects, or as raw JSON text (duplicate members, 1e400, non-objects).

class RawJson {
  constructor(readonly text: string) {}
}
type Part = unknown; // a JSON value, or a RawJson written as is

const b64u = (data: string | Buffer) => Buffer.from(data).toString('base64url');
const json = (part: Part) => (part instanceof RawJson ? part.text : JSON.stringify(part));
const now = () => Math.floor(Date.now() / 1000);

type Signer = (input: string) => string;
const rs =
  (key: KeyObject, hash = 'sha256'): Signer =>
  (input) =>
    cryptoSign(hash, Buffer.from(input), key).toString('base64url');
const es256 =
  (key: KeyObject, dsaEncoding: 'ieee-p1363' | 'der' = 'ieee-p1363'): Signer =>
  (input) =>
    cryptoSign('sha256', Buffer.from(input), { key, dsaEncoding }).toString('base64url');
const hmac =
  (secret: string | Buffer): Signer =>
  (input) =>
    createHmac('sha256', secret).update(input).digest('base64url');

/** `base64url(header).base64url(payload).signature`, signed by `signer` (default: the issuer's real RSA key). */
function forge(header: Part, payload: Part, signer: Signer = rs(rsa.privateKey)): string {
  const input = `${b64u(json(header))}.${b64u(json(payload))}`;
  return `${input}.${signer(input)}`;
}

/** A valid Auth0-shaped claim set for the demo; `undefined` values remove a claim. */
function claims(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  const t = now();
  const out: Record<string, unknown> = {
    iss: issuer.issuer,
    sub: 'auth0|victim',
    aud: AUDIENCE,
    iat: t,
    exp: t + 3600,
    scope: 'read:messages',
    client_id: 'client-1',
    jti: randomUUID(),
    ...overrides,
  };
  for (const [k, v] of Object.entries(out)) if (v === undefined) delete out[k];
  return out;
}

const rsHeader = (extra: Record<string, unknown> = {}) => ({ alg: 'RS256', typ: 'at+jwt', kid: 'key-1', ...extra });
/** A token that differs from a valid one only by `claimOverrides`/`headerExtra`, signed by the real key. */
const signed = (claimOverrides: Record<string, unknown> = {}, headerExtra: Record<string, unknown> = {}) => forge(rsHeader(headerExtra), claims(claimOverrides));

// ---------------------------------------------------------------------------------------------------------------
// HTTP and assertions.

interface Reply {
  status: number;
  body: unknown;
  headers: Headers;
  challenges: ReturnType<typeof parseChallenges>;
}

async function call(authorization: string | undefined, options: { path?: string; method?: string; server?: RunningDemo; headers?: Record<string, string> } = {}): Promise<Reply> {
  const headers: Record<string, string> = { ...options.headers };
  if (authorization !== undefined) headers.authorization = authorization;
  const res = await fetch(`${(options.server ?? demo).url}${options.path ?? '/api/private'}`, { method: options.method ?? 'GET', headers });
  const text = await res.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    /* keep the text: the assertion on the body will show it */
  }
  return { status: res.status, body, headers: res.headers, challenges: parseChallenges(res.headers.get('www-authenticate')) };
}

const bearer = (token: string, options?: Parameters<typeof call>[1]) => call(`Bearer ${token}`, options);

// RFC 6750 §3: error_description characters are %x20-21 / %x23-5B / %x5D-7E.
const SAFE_DESCRIPTION = /^[\x20\x21\x23-\x5b\x5d-\x7e]*$/;

function expectError(reply: Reply, status: number, code: string, scheme: 'Bearer' | 'DPoP' = 'Bearer', server: RunningDemo = demo): void {
  expect(reply.status, JSON.stringify(reply.body)).toBe(status);
  expect(reply.body).toEqual({ error: code, error_description: expect.stringMatching(SAFE_DESCRIPTION) });
  const challenge = reply.challenges.find((c) => c.scheme === scheme);
  expect(challenge, reply.headers.get('www-authenticate') ?? 'no challenge').toBeDefined();
  expect(challenge!.params.error).toBe(code);
  if (status === 401) expect(challenge!.params.resource_metadata).toBe(`${server.url}/.well-known/oauth-protected-resource`);
  // Error attributes go on the scheme the client used only.
  for (const other of reply.challenges.filter((c) => c.scheme !== scheme)) expect(other.params.error).toBeUndefined();
}

const expectInvalidToken = (reply: Reply, scheme: 'Bearer' | 'DPoP' = 'Bearer', server?: RunningDemo) => expectError(reply, 401, 'invalid_token', scheme, server);

async function expectAccepted(token: string, server?: RunningDemo): Promise<void> {
  const reply = await bearer(token, server ? { server } : {});
  expect(reply.status, JSON.stringify(reply.body)).toBe(200);
  expect(reply.body).toEqual({ user: 'auth0|victim' });
}

// ---------------------------------------------------------------------------------------------------------------
// A second local server: the attacker's key host (jku/x5u targets). It counts every request it gets.

/** One raw HTTP/1.1 exchange, to see the response bytes exactly as sent (header injection checks). */
function rawExchange(url: string, request: string): Promise<string> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    // write, not end: a half-closed socket makes Node abort the in-flight request. `Connection: close` ends it.
    const socket = connect(Number(port), hostname, () => socket.write(request));
    const chunks: Buffer[] = [];
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.on('error', reject);
    socket.on('close', () => resolve(Buffer.concat(chunks).toString('latin1')));
  });
}

// ===============================================================================================================

describe('control: the crafting helpers produce tokens the demo accepts', () => {
  it('a token forged with the real key and valid claims is accepted (so every 401 below is the attack)', async () => {
    await expectAccepted(signed());
  });
});

describe('#1 alg none', () => {
  it.each(['none', 'None', 'NONE', 'nOnE'])('alg "%s" with an empty signature is 401 invalid_token', async (alg) => {
    const token = forge({ alg, typ: 'at+jwt', kid: 'key-1' }, claims(), () => '');
    expectInvalidToken(await bearer(token));
  });
  it.each(['none', 'None'])('alg "%s" with a leftover signature is 401 invalid_token', async (alg) => {
    const real = signed().split('.')[2]!;
    expectInvalidToken(await bearer(forge({ alg, typ: 'at+jwt', kid: 'key-1' }, claims(), () => real)));
  });
  it('alg missing from the header is 401 invalid_token', async () => {
    expectInvalidToken(await bearer(forge({ typ: 'at+jwt', kid: 'key-1' }, claims())));
  });
});

describe('#2 HS/RS confusion: HMAC keyed with the RSA public key', () => {
  // The public key as a server would store it: SPKI "BEGIN PUBLIC KEY" or PKCS#1 "BEGIN RSA PUBLIC KEY".
  const publicPem = (type: 'spki' | 'pkcs1') => createPublicKey(rsa.privateKey).export({ type, format: 'pem' }) as string;
  const secrets: Array<[string, () => string]> = [
    ['SPKI PEM', () => publicPem('spki')],
    ['PKCS#1 PEM (BEGIN RSA PUBLIC KEY)', () => publicPem('pkcs1')],
    ['PEM with leading whitespace', () => `\n  ${publicPem('spki')}`],
    ['PEM without its final newline', () => publicPem('spki').trimEnd()],
    ['the JWK modulus', () => String(rsa.publicJwk.n)],
    ['a blank secret', () => ''],
  ];
  it.each(secrets)('HS256 keyed with %s is 401 invalid_token', async (_name, secret) => {
    const token = forge({ alg: 'HS256', typ: 'at+jwt', kid: 'key-1' }, claims(), hmac(secret()));
    expectInvalidToken(await bearer(token));
  });
  it.each(['HS384', 'HS512'])('%s is 401 invalid_token', async (alg) => {
    expectInvalidToken(await bearer(forge({ alg, typ: 'at+jwt', kid: 'key-1' }, claims(), hmac(publicPem('spki')))));
  });
});

describe('#3 alg not allowed / alg-key mismatch (demo allows RS256 only)', () => {
  it('RS512 signed with the real key is 401 invalid_token', async () => {
    expectInvalidToken(await bearer(forge(rsHeader({ alg: 'RS512' }), claims(), rs(rsa.privateKey, 'sha512'))));
  });
  it('PS256 signed with the real key is 401 invalid_token', async () => {
    const pss: Signer = (input) => cryptoSign('sha256', Buffer.from(input), { key: rsa.privateKey, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 }).toString('base64url');
    expectInvalidToken(await bearer(forge(rsHeader({ alg: 'PS256' }), claims(), pss)));
  });
  it('ES256 on the RSA kid is 401 invalid_token', async () => {
    expectInvalidToken(await bearer(forge(rsHeader({ alg: 'ES256' }), claims(), es256(ec.privateKey))));
  });
  it('ES256 on the published EC kid is 401 invalid_token (alg not configured)', async () => {
    expectInvalidToken(await bearer(forge({ alg: 'ES256', typ: 'at+jwt', kid: 'ec-1' }, claims(), es256(ec.privateKey))));
  });
  it('RS256 header naming the EC kid is 401 invalid_token', async () => {
    expectInvalidToken(await bearer(forge({ alg: 'RS256', typ: 'at+jwt', kid: 'ec-1' }, claims())));
  });
  it.each([['RS256 '], ['rs256'], [['RS256']], [null], [256]])('alg %j (not exactly "RS256") is 401 invalid_token', async (alg) => {
    expectInvalidToken(await bearer(forge({ alg, typ: 'at+jwt', kid: 'key-1' }, claims())));
  });
});

describe('#4-#6 ECDSA signatures (core validator configured for ES256 and RS256)', () => {
  // The demo accepts RS256 only, so these rows run against the core validator with ES256 enabled.
  const P256_N = 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n;
  const bytes32 = (n: bigint) => Buffer.from(n.toString(16).padStart(64, '0'), 'hex');
  let validator: ApiValidator;
  const ecHeader = (extra: Record<string, unknown> = {}) => ({ alg: 'ES256', typ: 'at+jwt', kid: 'ec-1', ...extra });

  beforeAll(() => {
    validator = new ApiValidator({ domain: issuer.origin, audience: AUDIENCE, algorithms: ['ES256', 'RS256'], tokenCache: false });
  });

  async function verdict(token: string): Promise<{ status: number; code?: string; challenge?: ReturnType<typeof parseChallenges> }> {
    try {
      await validator.verifyRequest({ method: 'GET', url: 'http://api.test/api/private', headers: { authorization: `Bearer ${token}` } });
      return { status: 200 };
    } catch (error) {
      expect(error).toBeInstanceOf(AuthError);
      const e = error as AuthError;
      return { status: e.status, code: e.code, challenge: parseChallenges(errorResponse(e, validator.responseFacts('http://api.test/api/private')).headers['WWW-Authenticate'] ?? null) };
    }
  }
  async function expectCoreInvalid(token: string): Promise<void> {
    const v = await verdict(token);
    expect(v.status).toBe(401);
    expect(v.code).toBe('invalid_token');
    expect(v.challenge!.find((c) => c.scheme === 'Bearer')!.params.error).toBe('invalid_token');
  }
  const withSignature = (token: string, signature: Buffer | string) => `${token.split('.').slice(0, 2).join('.')}.${typeof signature === 'string' ? signature : signature.toString('base64url')}`;

  it('control: a correct ES256 token is accepted by this validator', async () => {
    expect((await verdict(forge(ecHeader(), claims(), es256(ec.privateKey)))).status).toBe(200);
  });
  it('#4 psychic signature r=s=0 (64 zero bytes) is 401 invalid_token', async () => {
    await expectCoreInvalid(withSignature(forge(ecHeader(), claims(), es256(ec.privateKey)), Buffer.alloc(64)));
  });
  it('#4 r=s=n (the curve order) is 401 invalid_token', async () => {
    await expectCoreInvalid(withSignature(forge(ecHeader(), claims(), es256(ec.privateKey)), Buffer.concat([bytes32(P256_N), bytes32(P256_N)])));
  });
  it('#5 a DER-encoded ECDSA signature (valid, wrong encoding) is 401 invalid_token', async () => {
    await expectCoreInvalid(forge(ecHeader(), claims(), es256(ec.privateKey, 'der')));
  });
  it('#5 a P1363 signature with a trailing extra byte is 401 invalid_token', async () => {
    const token = forge(ecHeader(), claims(), es256(ec.privateKey));
    await expectCoreInvalid(withSignature(token, Buffer.concat([Buffer.from(token.split('.')[2]!, 'base64url'), Buffer.from([0])])));
  });
  it('#6 high-S (r, n-s) is still a valid ECDSA signature: accepted (nothing relies on signature bytes being unique)', async () => {
    const token = forge(ecHeader(), claims(), es256(ec.privateKey));
    const sig = Buffer.from(token.split('.')[2]!, 'base64url');
    const s = BigInt(`0x${sig.subarray(32).toString('hex')}`);
    const malleated = withSignature(token, Buffer.concat([sig.subarray(0, 32), bytes32(P256_N - s)]));
    expect(malleated).not.toBe(token);
    expect((await verdict(malleated)).status).toBe(200);
  });
  it('#3 ES256 header naming the RSA kid is 401 invalid_token (key type must fit alg)', async () => {
    await expectCoreInvalid(forge(ecHeader({ kid: 'key-1' }), claims(), es256(ec.privateKey)));
  });
  it('#3 RS256 header naming the EC kid is 401 invalid_token', async () => {
    await expectCoreInvalid(forge({ alg: 'RS256', typ: 'at+jwt', kid: 'ec-1' }, claims()));
  });
  it('#8 an embedded jwk holding the attacker EC key is ignored: 401 invalid_token', async () => {
    const mine = generateSigningKey('ES256', 'ec-1');
    await expectCoreInvalid(forge(ecHeader({ jwk: mine.publicJwk }), claims(), es256(mine.privateKey)));
  });
});

describe('#5 non-canonical base64url', () => {
  it('a trailing "=" on the signature is 401 invalid_token', async () => {
    expectInvalidToken(await bearer(`${signed()}=`));
  });
  it('"==" padding inside the token (header segment) is not token68: 400 invalid_request', async () => {
    const [h, p, s] = signed().split('.');
    expectError(await bearer(`${h}==.${p}.${s}`), 400, 'invalid_request');
  });
  it('"=" padding on the payload segment of an otherwise valid token is refused', async () => {
    const [h, p, s] = signed().split('.');
    expectError(await bearer(`${h}.${p}=.${s}`), 400, 'invalid_request');
  });
  it('standard base64 alphabet ("+" and "/") in the signature is 401 invalid_token', async () => {
    // Find a real signature that contains "-" or "_" so that the standard alphabet changes it.
    let token = signed();
    while (!/[-_]/.test(token.split('.')[2]!)) token = signed();
    const [h, p, s] = token.split('.');
    expectInvalidToken(await bearer(`${h}.${p}.${s!.replace(/-/g, '+').replace(/_/g, '/')}`));
  });
  it('non-zero unused bits in the last signature character (same bytes, other text) is 401 invalid_token', async () => {
    // A 256-byte RS256 signature is 342 base64url characters; the last one carries 2 bits and 4 unused ones.
    // Lenient decoders ignore those bits, so 15 other strings decode to the same signature (RFC 4648 §3.5).
    const token = signed();
    const [h, p, s] = token.split('.') as [string, string, string];
    const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    const index = ALPHABET.indexOf(s.at(-1)!);
    const variant = `${h}.${p}.${s.slice(0, -1)}${ALPHABET[(index & ~15) | ((index + 1) & 15)]}`;
    expect(Buffer.from(variant.split('.')[2]!, 'base64url').equals(Buffer.from(s, 'base64url'))).toBe(true);
    expect(variant).not.toBe(token);
    expectInvalidToken(await bearer(variant));
  });
  it('whitespace inside a segment is not token68: 400 invalid_request', async () => {
    const [h, p, s] = signed().split('.');
    const reply = await bearer(`${h}.${p}.${s!.slice(0, 10)} ${s!.slice(10)}`);
    expectError(reply, 400, 'invalid_request');
  });
});

describe('#7 weak key in the JWKS', () => {
  it('a token signed by the published 1024-bit RSA key is 401 invalid_token', async () => {
    expect(issuer.jwks().keys.some((k) => k.kid === 'weak-1024')).toBe(true);
    expectInvalidToken(await bearer(forge({ alg: 'RS256', typ: 'at+jwt', kid: 'weak-1024' }, claims(), rs(weak.privateKey))));
  });
});

describe('#8 embedded keys and key URLs: never trusted, never fetched', () => {
  const attackerHeader = (extra: Record<string, unknown>) => ({ alg: 'RS256', typ: 'at+jwt', kid: 'attacker-kid', ...extra });
  const bySelf = rs(evil.privateKey);
  const cases: Array<[string, () => Record<string, unknown>]> = [
    ['jwk = attacker key, attacker kid', () => attackerHeader({ jwk: evil.publicJwk })],
    ['jwk = attacker key, legitimate kid', () => attackerHeader({ kid: 'key-1', jwk: evil.publicJwk })],
    ['jku = attacker JWKS URL', () => attackerHeader({ jku: `${attacker.url}/jwks.json` })],
    ['jku = attacker URL, legitimate kid', () => attackerHeader({ kid: 'key-1', jku: `${attacker.url}/jwks.json` })],
    ['x5u = attacker URL', () => attackerHeader({ x5u: `${attacker.url}/cert.pem` })],
    ['x5c = attacker certificate chain', () => attackerHeader({ x5c: [Buffer.from('attacker self-signed certificate (DER)').toString('base64')] })],
    ['jku + x5u + jwk together', () => attackerHeader({ jku: `${attacker.url}/a`, x5u: `${attacker.url}/b`, jwk: evil.publicJwk })],
  ];
  it.each(cases)('%s: 401 invalid_token', async (_name, header) => {
    expectInvalidToken(await bearer(forge(header(), claims(), bySelf)));
  });
  it('the attacker server received zero requests from all of the above', async () => {
    for (const [, header] of cases) await bearer(forge(header(), claims(), bySelf));
    expect(attacker.requests).toBe(0);
  });
  it('the attacker key set is really served (so zero requests is meaningful)', async () => {
    const before = attacker.requests;
    const res = await fetch(`${attacker.url}/jwks.json`);
    expect(((await res.json()) as { keys: JWK[] }).keys[0]!.kid).toBe('attacker-kid');
    expect(attacker.requests).toBe(before + 1);
  });
});

describe('#9 kid injection: exact-match lookup only', () => {
  it('kid "../../dev/null" with HS256 and an empty key is 401 invalid_token', async () => {
    expectInvalidToken(await bearer(forge({ alg: 'HS256', typ: 'at+jwt', kid: '../../dev/null' }, claims(), hmac(''))));
  });
  it.each([
    ['path traversal', '../../dev/null'],
    ['SQL injection', "x' UNION SELECT 'key-1'--"],
    ['legit kid with a trailing space', 'key-1 '],
    ['legit kid in another case', 'KEY-1'],
    ['legit kid with a NUL', 'key-1\u0000'],
    ['__proto__', '__proto__'],
    ['constructor', 'constructor'],
    ['hasOwnProperty', 'hasOwnProperty'],
    ['empty string', ''],
  ])('kid = %s, signed by the real key, is 401 invalid_token', async (_name, kid) => {
    expectInvalidToken(await bearer(signed({}, { kid })));
  });
  it('a 10 KB kid is 401 invalid_token', async () => {
    expectInvalidToken(await bearer(signed({}, { kid: 'k'.repeat(10 * 1024) })));
  });
  it.each([[1], [true], [null], [{}], [['key-1']], [{ toString: 'key-1' }]])('non-string kid %j (even one "containing" the real kid) is 401 invalid_token', async (kid) => {
    expectInvalidToken(await bearer(signed({}, { kid })));
  });
  it('no kid at all is 401 invalid_token', async () => {
    expectInvalidToken(await bearer(forge({ alg: 'RS256', typ: 'at+jwt' }, claims())));
  });
});

describe('#10 crit and b64', () => {
  it('crit ["x-pol"] with the extension present is 401 invalid_token', async () => {
    expectInvalidToken(await bearer(signed({}, { crit: ['x-pol'], 'x-pol': true })));
  });
  it('b64:false with crit ["b64"] (RFC 7797 signing input) is 401 invalid_token', async () => {
    const header = b64u(JSON.stringify(rsHeader({ b64: false, crit: ['b64'] })));
    const body = JSON.stringify(claims());
    // The compact form still carries base64url; the signature covers the unencoded payload as RFC 7797 says.
    const token = `${header}.${b64u(body)}.${rs(rsa.privateKey)(`${header}.${body}`)}`;
    expectInvalidToken(await bearer(token));
  });
  it('an empty crit list is 401 invalid_token', async () => {
    expectInvalidToken(await bearer(signed({}, { crit: [] })));
  });
  it('b64:true without crit is 401 invalid_token', async () => {
    expectInvalidToken(await bearer(signed({}, { b64: true })));
  });
});

describe('#11 duplicate JSON members: consistent last-wins', () => {
  const dup = (first: Record<string, unknown>, second: Record<string, unknown>) => {
    const base = JSON.stringify(claims(Object.fromEntries(Object.keys(first).map((k) => [k, undefined]))));
    const extra = (o: Record<string, unknown>) =>
      Object.entries(o)
        .map(([k, v]) => `${JSON.stringify(k)}:${JSON.stringify(v)}`)
        .join(',');
    return new RawJson(`{${extra(first)},${extra(second)},${base.slice(1)}`);
  };
  it('iss = ours then attacker (attacker wins) is 401 invalid_token', async () => {
    expectInvalidToken(await bearer(forge(rsHeader(), dup({ iss: issuer.issuer }, { iss: 'https://attacker.example/' }))));
  });
  it('iss = attacker then ours is judged on the last one, the same value the whole pipeline sees', async () => {
    const reply = await bearer(forge(rsHeader(), dup({ iss: 'https://attacker.example/' }, { iss: issuer.issuer })));
    expect(reply.status).toBe(200);
  });
  it('sub duplicated: the response shows the last value (the claims used are the claims checked)', async () => {
    const reply = await bearer(forge(rsHeader(), dup({ sub: 'auth0|attacker' }, { sub: 'auth0|victim' })));
    expect(reply.status).toBe(200);
    expect(reply.body).toEqual({ user: 'auth0|victim' });
  });
  it('alg duplicated in the header ("RS256" then "none") is 401 invalid_token', async () => {
    const header = new RawJson(`{"alg":"RS256","typ":"at+jwt","kid":"key-1","alg":"none"}`);
    expectInvalidToken(await bearer(forge(header, claims())));
  });
  it('aud duplicated (ours then another) is 401 invalid_token', async () => {
    expectInvalidToken(await bearer(forge(rsHeader(), dup({ aud: AUDIENCE }, { aud: 'https://other.example' }))));
  });
});

describe('#12 JWE, nested JWT, JSON serialization, wrong segment counts', () => {
  it('a 5-part JWE is 401 invalid_token', async () => {
    const header = b64u(JSON.stringify({ alg: 'RSA-OAEP-256', enc: 'A256GCM', kid: 'key-1', typ: 'at+jwt' }));
    const jwe = [header, b64u(Buffer.alloc(256, 1)), b64u(Buffer.alloc(12, 2)), b64u('ciphertext'), b64u(Buffer.alloc(16, 3))].join('.');
    expectInvalidToken(await bearer(jwe));
  });
  it('a JWE-style header ("enc") on a 3-part token is 401 invalid_token', async () => {
    expectInvalidToken(await bearer(signed({}, { enc: 'A256GCM' })));
  });
  it('nested JWT (cty "JWT", payload = a valid inner token) is 401 invalid_token', async () => {
    const inner = signed();
    const header = b64u(JSON.stringify(rsHeader({ cty: 'JWT' })));
    const input = `${header}.${b64u(inner)}`;
    expectInvalidToken(await bearer(`${input}.${rs(rsa.privateKey)(input)}`));
  });
  it('a zip (compressed) payload header is 401 invalid_token', async () => {
    expectInvalidToken(await bearer(signed({}, { zip: 'DEF' })));
  });
  it.each([
    ['4 segments', () => `${signed()}.${b64u('x')}`],
    ['2 segments', () => signed().split('.').slice(0, 2).join('.')],
    ['1 segment', () => signed().split('.')[1]!],
    [
      'empty middle segment',
      () => {
        const [h, , s] = signed().split('.');
        return `${h}..${s}`;
      },
    ],
    ['only dots', () => '..'],
  ])('%s is 401 invalid_token', async (_name, token) => {
    expectInvalidToken(await bearer(token()));
  });
  it('JWS JSON serialization in the header is not token68: 400 invalid_request', async () => {
    const [h, p, s] = signed().split('.');
    const serialized = JSON.stringify({ payload: p, signatures: [{ protected: h, signature: s }] });
    expectError(await bearer(serialized), 400, 'invalid_request');
  });
});

describe('#13 non-object payloads (signed by the real key)', () => {
  it.each([
    ['array of claims', () => new RawJson(JSON.stringify([claims()]))],
    ['string', () => new RawJson(JSON.stringify('auth0|victim'))],
    ['null', () => new RawJson('null')],
    ['number', () => new RawJson('42')],
    ['boolean', () => new RawJson('true')],
    ['not JSON', () => new RawJson('{"iss":')],
  ])('payload = %s is 401 invalid_token', async (_name, payload) => {
    expectInvalidToken(await bearer(forge(rsHeader(), payload())));
  });
  it('a non-object header (array) is 401 invalid_token', async () => {
    expectInvalidToken(await bearer(forge(new RawJson(JSON.stringify([rsHeader()])), claims())));
  });
});

describe('#14 typ confusion', () => {
  it.each([['dpop+jwt'], ['application/dpop+jwt'], ['JOSE'], ['JOSE+JSON'], ['id_token+jwt'], ['logout+jwt'], ['JWT '], [1], [null], [['at+jwt']]])('typ %j is 401 invalid_token', async (typ) => {
    expectInvalidToken(await bearer(signed({}, { typ })));
  });
  it.each([['JWT'], ['at+jwt'], ['AT+JWT'], ['application/at+jwt']])('typ %j is accepted in the default mode (docs/decisions.md D2)', async (typ) => {
    await expectAccepted(signed({}, { typ }));
  });
  it('an ID-token-shaped token (typ JWT, aud = a client id, nonce) is 401 invalid_token', async () => {
    expectInvalidToken(await bearer(signed({ aud: 'client-1', nonce: 'n-0S6_WzA2Mj', azp: 'client-1' }, { typ: 'JWT' })));
  });
  it('strict mode (RFC 9068): typ "JWT" is 401 invalid_token', async () => {
    expectInvalidToken(await bearer(signed({}, { typ: 'JWT' }), { server: strictDemo }), 'Bearer', strictDemo);
  });
  it('strict mode: no typ is 401 invalid_token', async () => {
    expectInvalidToken(await bearer(forge({ alg: 'RS256', kid: 'key-1' }, claims()), { server: strictDemo }), 'Bearer', strictDemo);
  });
  it('strict mode: typ "at+jwt" is accepted (control)', async () => {
    await expectAccepted(signed(), strictDemo);
  });
});

describe('#15 exp', () => {
  it.each([
    ['missing', { exp: undefined }],
    ['a string', { exp: String(now() + 3600) }],
    ['null', { exp: null }],
    ['a boolean', { exp: true }],
    ['60 s in the past', { exp: now() - 60 }],
    ['zero', { exp: 0 }],
    ['negative', { exp: -1 }],
  ])('exp %s is 401 invalid_token', async (_name, overrides) => {
    expectInvalidToken(await bearer(signed(overrides)));
  });
  it('exp = 1e400 (JSON number that parses to Infinity) is 401 invalid_token', async () => {
    const text = JSON.stringify(claims({ exp: 111 })).replace('"exp":111', '"exp":1e400');
    expectInvalidToken(await bearer(forge(rsHeader(), new RawJson(text))));
  });
});

describe('#16 leeway boundary (5 s tolerance)', () => {
  it('exp = now-3 is accepted', async () => {
    await expectAccepted(signed({ exp: now() - 3, iat: now() - 600 }));
  });
  it('exp = now-10 is 401 invalid_token', async () => {
    expectInvalidToken(await bearer(signed({ exp: now() - 10, iat: now() - 600 })));
  });
});

describe('#17 nbf and iat in the future', () => {
  it('nbf = now+1h is 401 invalid_token', async () => {
    expectInvalidToken(await bearer(signed({ nbf: now() + 3600 })));
  });
  it('nbf = now+3 is accepted (within tolerance)', async () => {
    await expectAccepted(signed({ nbf: now() + 3 }));
  });
  it('nbf as a string is 401 invalid_token', async () => {
    expectInvalidToken(await bearer(signed({ nbf: String(now()) })));
  });
  it('iat = now+1h is 401 invalid_token', async () => {
    expectInvalidToken(await bearer(signed({ iat: now() + 3600 })));
  });
  it('iat = now+30 is 401 invalid_token', async () => {
    expectInvalidToken(await bearer(signed({ iat: now() + 30 })));
  });
  it('iat = now+3 is accepted (within tolerance)', async () => {
    await expectAccepted(signed({ iat: now() + 3 }));
  });
  it('iat missing is 401 invalid_token (required claim)', async () => {
    expectInvalidToken(await bearer(signed({ iat: undefined })));
  });
});

describe('#18 iss: exact match only', () => {
  it.each([
    ['without the trailing slash', () => issuer.origin],
    ['upper-case scheme', () => issuer.issuer.replace('http://', 'HTTP://')],
    ['localhost instead of 127.0.0.1', () => issuer.issuer.replace('127.0.0.1', 'localhost')],
    ['https instead of http', () => issuer.issuer.replace('http://', 'https://')],
    ['double trailing slash', () => `${issuer.issuer}/`],
    ['trailing space', () => `${issuer.issuer} `],
    ['array [attacker, ours]', () => ['https://attacker.example/', issuer.issuer]],
    ['array [ours]', () => [issuer.issuer]],
    ['attacker', () => 'https://attacker.example/'],
    ['null', () => null],
    ['missing', () => undefined],
  ])('iss %s is 401 invalid_token', async (_name, iss) => {
    expectInvalidToken(await bearer(signed({ iss: iss() })));
  });
});

describe('#19/#20 aud', () => {
  it('#19 an array containing our audience is accepted', async () => {
    await expectAccepted(signed({ aud: ['https://other.example', AUDIENCE] }));
  });
  it.each([
    ['[]', []],
    ['another audience', 'https://other.example'],
    ['trailing-slash variant', `${AUDIENCE}/`],
    ['upper-case variant', AUDIENCE.toUpperCase()],
    ['a number', 42],
    ['null', null],
    ['missing', undefined],
    ['an object', { aud: AUDIENCE }],
    ['an array with a non-string next to ours', [AUDIENCE, 1]],
    ['a nested array', [[AUDIENCE]]],
  ])('#20 aud %s is 401 invalid_token', async (_name, aud) => {
    expectInvalidToken(await bearer(signed({ aud })));
  });
});

describe('#21 profile claims', () => {
  it('sub missing is 401 invalid_token in every mode', async () => {
    expectInvalidToken(await bearer(signed({ sub: undefined })));
  });
  it('sub not a string is 401 invalid_token', async () => {
    expectInvalidToken(await bearer(signed({ sub: 12345 })));
  });
  it.each([['client_id'], ['jti']])('strict mode: %s missing is 401 invalid_token', async (claim) => {
    expectInvalidToken(await bearer(signed({ [claim]: undefined }), { server: strictDemo }), 'Bearer', strictDemo);
  });
  it('default mode: client_id and jti are optional (docs/decisions.md D2)', async () => {
    await expectAccepted(signed({ client_id: undefined, jti: undefined }));
  });
});

describe('#22 scopes', () => {
  it('"read:message" (prefix) on a read:messages route is 403 insufficient_scope', async () => {
    const reply = await bearer(signed({ scope: 'read:message' }), { path: '/api/messages' });
    expectError(reply, 403, 'insufficient_scope');
    expect(reply.challenges.find((c) => c.scheme === 'Bearer')!.params.scope).toBe('read:messages');
  });
  it('"read:datawrite:data" (concatenation) on the read+write route is 403 insufficient_scope', async () => {
    const reply = await bearer(signed({ scope: 'read:datawrite:data' }), { path: '/api/data', method: 'POST' });
    expectError(reply, 403, 'insufficient_scope');
    expect(reply.challenges.find((c) => c.scheme === 'Bearer')!.params.scope).toBe('read:data write:data');
  });
  it('read only on the read+write route is 403 insufficient_scope', async () => {
    expectError(await bearer(signed({ scope: 'read:data' }), { path: '/api/data', method: 'POST' }), 403, 'insufficient_scope');
  });
  it('scopes in a non-scope claim ("scp") are not granted: 403', async () => {
    expectError(await bearer(signed({ scope: undefined, scp: 'read:messages' }), { path: '/api/messages' }), 403, 'insufficient_scope');
  });
  it('control: the exact scopes are accepted', async () => {
    const reply = await bearer(signed({ scope: 'write:data read:data' }), { path: '/api/data', method: 'POST' });
    expect(reply.status).toBe(200);
    expect(reply.body).toEqual({ created: true });
  });
});

describe('#23 oversize tokens and dot bombs', () => {
  it('a 20 KB token is refused before parsing: 431 with the JSON error body', async () => {
    const reply = await bearer(`${signed()}${'A'.repeat(20 * 1024)}`);
    expect(reply.status).toBe(431);
    expect(reply.body).toEqual({ error: 'request_header_fields_too_large', error_description: expect.any(String) });
  });
  it('a 13 KB token (under the header limit, over the token cap) is 401 invalid_token', async () => {
    expectInvalidToken(await bearer(signed({ pad: 'x'.repeat(9 * 1024) })));
  });
  it('8000 dots is 401 invalid_token, promptly', async () => {
    const started = performance.now();
    expectInvalidToken(await bearer('.'.repeat(8000)));
    expect(performance.now() - started).toBeLessThan(1000);
  });
  it('8000 "a." segments is 401 invalid_token, promptly', async () => {
    const started = performance.now();
    expectInvalidToken(await bearer('a.'.repeat(4000)));
    expect(performance.now() - started).toBeLessThan(1000);
  });
  it('the server still answers afterwards', async () => {
    await expectAccepted(signed());
  });
});

describe('#24 random-kid flood over HTTP', () => {
  it('40 tokens with random kids cause at most one JWKS fetch (cooldown) and all get 401', async () => {
    const before = issuer.jwksFetches;
    const replies = await Promise.all(Array.from({ length: 40 }, () => bearer(signed({}, { kid: `rnd-${randomUUID()}` }))));
    for (const reply of replies) expectInvalidToken(reply);
    expect(issuer.jwksFetches - before).toBeLessThanOrEqual(1);
  });
});

describe('#26/#27 token cache and crypto flood', () => {
  it('a cached valid token does not vouch for the same header.payload with another signature', async () => {
    const token = signed();
    await expectAccepted(token); // now cached
    const [h, p, s] = token.split('.');
    const flipped = s!.slice(0, -2) + (s!.at(-2) === 'A' ? 'B' : 'A') + s!.at(-1);
    expectInvalidToken(await bearer(`${h}.${p}.${flipped}`));
  });
  it('known kid + random signatures: every one is 401 with the same body (uniform)', async () => {
    const [h, p] = signed().split('.');
    const replies = await Promise.all(Array.from({ length: 20 }, () => bearer(`${h}.${p}.${b64u(randomBytes(256))}`)));
    for (const reply of replies) expectInvalidToken(reply);
    expect(new Set(replies.map((r) => JSON.stringify(r.body))).size).toBe(1);
  });
});

// ---------------------------------------------------------------------------------------------------------------
// DPoP rows (brief: the DPoP matrix has its own suite). A P-256 proof key, bound tokens, hand-made proofs.

describe('#28-#37 DPoP rows', () => {
  const proofKey = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  let proofJwk: JWK;
  let jkt: string;
  const ath = (token: string) => createHash('sha256').update(token).digest('base64url');

  beforeAll(async () => {
    proofJwk = await exportJWK(proofKey.publicKey);
    jkt = await calculateJwkThumbprint(proofJwk);
  });

  const url = (path = '/api/private') => `${demo.url}${path}`;
  const boundToken = () => signed({ cnf: { jkt } });

  async function proof(token: string, options: { claims?: Record<string, unknown>; header?: Record<string, unknown>; key?: KeyObject } = {}): Promise<string> {
    return new SignJWT({ jti: randomUUID(), htm: 'GET', htu: url(), iat: now(), ath: ath(token), ...options.claims })
      .setProtectedHeader({ alg: 'ES256', typ: 'dpop+jwt', jwk: proofJwk, ...options.header })
      .sign(options.key ?? proofKey.privateKey);
  }
  const dpopCall = (token: string, proofs: string | string[] | undefined, path?: string) => {
    const headers: Record<string, string> = {};
    if (proofs !== undefined) headers.dpop = Array.isArray(proofs) ? proofs.join(', ') : proofs;
    return call(`DPoP ${token}`, { headers, ...(path ? { path } : {}) });
  };

  it('control: a bound token with a correct proof is accepted', async () => {
    const token = boundToken();
    const reply = await dpopCall(token, await proof(token));
    expect(reply.status).toBe(200);
    expect(reply.body).toEqual({ user: 'auth0|victim' });
  });
  it('#28 a bound token sent as Bearer is 401 invalid_token', async () => {
    expectInvalidToken(await bearer(boundToken()));
  });
  it('#29 DPoP scheme without a proof is 400 invalid_request on DPoP', async () => {
    expectError(await dpopCall(boundToken(), undefined), 400, 'invalid_request', 'DPoP');
  });
  it('#29 two proofs are 400 invalid_request', async () => {
    const token = boundToken();
    expectError(await dpopCall(token, [await proof(token), await proof(token)]), 400, 'invalid_request', 'DPoP');
  });
  it('#30 proof typ "JWT" is 401 invalid_dpop_proof', async () => {
    const token = boundToken();
    expectError(await dpopCall(token, await proof(token, { header: { typ: 'JWT' } })), 401, 'invalid_dpop_proof', 'DPoP');
  });
  it('#30 proof alg none is 401 invalid_dpop_proof', async () => {
    const token = boundToken();
    const [, p] = (await proof(token)).split('.');
    const none = `${b64u(JSON.stringify({ alg: 'none', typ: 'dpop+jwt', jwk: proofJwk }))}.${p}.`;
    const reply = await dpopCall(token, none);
    expect([400, 401]).toContain(reply.status); // an empty signature is not even a compact JWS
    expect((reply.body as { error: string }).error).toMatch(/^(invalid_dpop_proof|invalid_request)$/);
  });
  it('#30 proof HS256 keyed with the public jwk is 401 invalid_dpop_proof', async () => {
    const token = boundToken();
    const header = { alg: 'HS256', typ: 'dpop+jwt', jwk: proofJwk };
    const body = { jti: randomUUID(), htm: 'GET', htu: url(), iat: now(), ath: ath(token) };
    expectError(await dpopCall(token, forge(header, body, hmac(JSON.stringify(proofJwk)))), 401, 'invalid_dpop_proof', 'DPoP');
  });
  it('#30 proof jwk carrying the private "d" is 401 invalid_dpop_proof', async () => {
    const token = boundToken();
    const privateJwk = await exportJWK(proofKey.privateKey);
    expectError(await dpopCall(token, await proof(token, { header: { jwk: privateJwk } })), 401, 'invalid_dpop_proof', 'DPoP');
  });
  it('#30 proof signed by another key than its jwk is 401 invalid_dpop_proof', async () => {
    const token = boundToken();
    const other = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
    expectError(await dpopCall(token, await proof(token, { key: other })), 401, 'invalid_dpop_proof', 'DPoP');
  });
  it('#31 htm POST on a GET is 401 invalid_dpop_proof', async () => {
    const token = boundToken();
    expectError(await dpopCall(token, await proof(token, { claims: { htm: 'POST' } })), 401, 'invalid_dpop_proof', 'DPoP');
  });
  it('#31 htu for another path is 401 invalid_dpop_proof', async () => {
    const token = boundToken();
    expectError(await dpopCall(token, await proof(token, { claims: { htu: url('/api/profile') } })), 401, 'invalid_dpop_proof', 'DPoP');
  });
  it('#32 htu with query and fragment, upper-case scheme and %72 for "r" is accepted', async () => {
    const token = boundToken();
    const htu = `HTTP://${url().slice('http://'.length).replace('private', '%70%72ivate')}?a=1#f`;
    const reply = await dpopCall(token, await proof(token, { claims: { htu } }));
    expect(reply.status, JSON.stringify(reply.body)).toBe(200);
  });
  it('#34 proof iat 10 minutes old is 401 invalid_dpop_proof', async () => {
    const token = boundToken();
    expectError(await dpopCall(token, await proof(token, { claims: { iat: now() - 600 } })), 401, 'invalid_dpop_proof', 'DPoP');
  });
  it('#34 proof iat 2 minutes ahead is 401 invalid_dpop_proof', async () => {
    const token = boundToken();
    expectError(await dpopCall(token, await proof(token, { claims: { iat: now() + 120 } })), 401, 'invalid_dpop_proof', 'DPoP');
  });
  it('#35 the same proof twice: the second is 401 invalid_dpop_proof', async () => {
    const token = boundToken();
    const once = await proof(token);
    expect((await dpopCall(token, once)).status).toBe(200);
    expectError(await dpopCall(token, once), 401, 'invalid_dpop_proof', 'DPoP');
  });
  it('#36 proof without jti is 401 invalid_dpop_proof', async () => {
    const token = boundToken();
    expectError(await dpopCall(token, await proof(token, { claims: { jti: undefined } })), 401, 'invalid_dpop_proof', 'DPoP');
  });
  it('#36 proof with a 6000-character jti is refused (401 or 431)', async () => {
    const token = boundToken();
    const reply = await dpopCall(token, await proof(token, { claims: { jti: 'j'.repeat(6000) } }));
    expect([401, 431]).toContain(reply.status);
  });
  it('#36 ath of another token is 401 invalid_dpop_proof', async () => {
    const token = boundToken();
    expectError(await dpopCall(token, await proof(token, { claims: { ath: ath(boundToken()) } })), 401, 'invalid_dpop_proof', 'DPoP');
  });
  it('#37 proof key different from cnf.jkt is 401 invalid_token on DPoP', async () => {
    const other = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const token = boundToken();
    const otherProof = await proof(token, { key: other.privateKey, header: { jwk: await exportJWK(other.publicKey) } });
    expectError(await dpopCall(token, otherProof), 401, 'invalid_token', 'DPoP');
  });
  it('#37 an unbound token with a valid proof is 401 invalid_token on DPoP', async () => {
    const token = signed();
    expectError(await dpopCall(token, await proof(token)), 401, 'invalid_token', 'DPoP');
  });
});

describe('#40 header forms', () => {
  it('no Authorization: 401 unauthorized, challenges without error', async () => {
    const reply = await call(undefined);
    expect(reply.status).toBe(401);
    expect(reply.body).toEqual({ error: 'unauthorized', error_description: expect.any(String) });
    expect(reply.challenges.map((c) => c.scheme)).toEqual(['Bearer', 'DPoP']);
    for (const c of reply.challenges) expect(c.params.error).toBeUndefined();
  });
  it('"Basic x": 401 unauthorized without error', async () => {
    const reply = await call('Basic eDp5');
    expect(reply.status).toBe(401);
    expect(reply.body).toEqual({ error: 'unauthorized', error_description: expect.any(String) });
    for (const c of reply.challenges) expect(c.params.error).toBeUndefined();
  });
  it('"Bearer a b": 400 invalid_request', async () => {
    expectError(await call('Bearer a b'), 400, 'invalid_request');
  });
});

describe('#41 reflection: attacker text never reaches headers or body', () => {
  const INJECTED = 'a"\r\nX-Injected: y';
  const cases: Array<[string, () => string]> = [
    ['kid', () => signed({}, { kid: INJECTED })],
    ['alg', () => signed({}, { alg: INJECTED })],
    ['typ', () => signed({}, { typ: INJECTED })],
    ['iss', () => signed({ iss: INJECTED })],
    ['aud', () => signed({ aud: INJECTED })],
    ['sub (valid token otherwise: 403 path)', () => signed({ sub: INJECTED, scope: 'none' })],
  ];
  it.each(cases)('%s with quotes and CRLF: 401/403 with fixed text, no injected header', async (_name, token) => {
    const { port } = new URL(demo.url);
    const raw = await rawExchange(demo.url, `GET /api/messages HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nAuthorization: Bearer ${token()}\r\nConnection: close\r\n\r\n`);
    expect(raw).toMatch(/^HTTP\/1\.1 40[13] /);
    const [head, body] = raw.split('\r\n\r\n');
    expect(head!.toLowerCase()).not.toContain('x-injected');
    expect(body).not.toContain('X-Injected');
    expect(body).not.toContain('a\\"');
    const www = head!.split('\r\n').find((l) => l.toLowerCase().startsWith('www-authenticate:'))!;
    expect(www).toBeDefined();
    expect(() => parseChallenges(www.slice(www.indexOf(':') + 1).trim())).not.toThrow();
    expect(www).not.toContain('X-Injected');
  });
});

// ===============================================================================================================
// Second round: rows for the weaknesses an attacker's review of the running demo found. Each row names its
// item; the full proofs (units, TLS, flood sizes) are in the files named in the row.

describe('second round', () => {
  const proofKey = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  let proofJwk: JWK;
  let jkt: string;
  const ath = (token: string) => createHash('sha256').update(token).digest('base64url');

  beforeAll(async () => {
    proofJwk = await exportJWK(proofKey.publicKey);
    jkt = await calculateJwkThumbprint(proofJwk);
  });

  /** A proof for GET `url` signed by `key` with `jwk` in its header (defaults: the P-256 proof key). */
  function proofFor(token: string, url: string, options: { jti?: string; jwk?: Record<string, unknown>; alg?: string; signer?: Signer } = {}): string {
    const header = { alg: options.alg ?? 'ES256', typ: 'dpop+jwt', jwk: options.jwk ?? proofJwk };
    const payload = { jti: options.jti ?? randomUUID(), htm: 'GET', htu: url, iat: now(), ath: ath(token) };
    return forge(header, payload, options.signer ?? es256(proofKey.privateKey));
  }
  const dpopCall = (token: string, proof: string, server: RunningDemo = demo) => call(`DPoP ${token}`, { server, headers: { dpop: proof } });

  it('new key material under the same kid — the cached token is refused, a token from the new key passes', async () => {
    // Old code: a cache hit only checked that the kid still existed, so this token kept passing until its exp.
    const realNow = Date.now();
    const first = generateSigningKey('RS256', 'rotating');
    const rotating = await TestIssuer.start({ keys: [first] });
    vi.useFakeTimers({ toFake: ['Date'] }); // the demo's JWKS cooldown is 30 s: move the wall clock, not the test
    vi.setSystemTime(realNow);
    const own = await startTestDemo({ AUTH0_DOMAIN: rotating.origin });
    try {
      const token = await rotating.token(AUDIENCE, { sub: 'auth0|victim' }, { key: first });
      expect((await bearer(token, { server: own })).status).toBe(200);
      expect((await bearer(token, { server: own })).status).toBe(200); // from the cache
      const replacement = generateSigningKey('RS256', 'rotating');
      rotating.keys = [replacement];
      vi.setSystemTime(realNow + 31_000);
      const fetches = rotating.jwksFetches;
      const probe = await rotating.token(AUDIENCE, {}, { key: generateSigningKey('RS256', 'unknown-kid') });
      expectInvalidToken(await bearer(probe, { server: own }), 'Bearer', own); // unknown kid → one refetch
      expect(rotating.jwksFetches).toBe(fetches + 1);
      expectInvalidToken(await bearer(token, { server: own }), 'Bearer', own);
      const renewed = await rotating.token(AUDIENCE, { sub: 'auth0|victim' }, { key: replacement });
      expect((await bearer(renewed, { server: own })).status).toBe(200);
    } finally {
      vi.useRealTimers();
      await own.close();
      await rotating.close();
    }
  });

  describe('every confirmation method is enforced or refused (demo: certificate-bound tokens disabled)', () => {
    const thumbprint = createHash('sha256').update('a client certificate (DER)').digest('base64url');
    it.each([
      ['x5t#S256 (Auth0 mTLS binding)', { 'x5t#S256': thumbprint }],
      ['jwk', { jwk: { kty: 'EC', crv: 'P-256', x: 'f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU', y: 'x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0' } }],
      ['x5t', { x5t: 'c2hhMQ' }],
      ['an unknown member', { 'urn:example:binding': 'x' }],
      ['nothing ({})', {}],
      ['a non-string jkt', { jkt: 123 }],
    ])('Bearer token with cnf %s is 401 invalid_token (it was accepted as a bearer token)', async (_name, cnf) => {
      expectInvalidToken(await bearer(signed({ cnf })));
    });
    it('cnf as a string, an array or null is 401 invalid_token', async () => {
      for (const cnf of ['x5t#S256', [{ jkt: 'x' }], null]) expectInvalidToken(await bearer(signed({ cnf })));
    });
    it('DPoP with a valid proof, token bound by jkt AND x5t#S256: 401 invalid_token on DPoP (the certificate binding cannot be checked)', async () => {
      const token = signed({ cnf: { jkt, 'x5t#S256': thumbprint } });
      expectError(await dpopCall(token, proofFor(token, `${demo.url}/api/private`)), 401, 'invalid_token', 'DPoP');
    });
    it('control: the same DPoP request with only jkt is accepted', async () => {
      const token = signed({ cnf: { jkt } });
      expect((await dpopCall(token, proofFor(token, `${demo.url}/api/private`))).status).toBe(200);
    });
    // Over real TLS with openssl-made client certificates, and through a trusted/untrusted Client-Cert proxy header:
    // test/express/mtls.test.ts; the rules in the core: test/core/confirmation.test.ts.
  });

  describe('proof keys have sane bounds', () => {
    const p384 = generateKeyPairSync('ec', { namedCurve: 'P-384' });
    it('a P-384 proof key with alg ES256 is 401 invalid_dpop_proof', async () => {
      const jwk = await exportJWK(p384.publicKey);
      const token = signed({ cnf: { jkt: await calculateJwkThumbprint(jwk) } });
      expectError(await dpopCall(token, proofFor(token, `${demo.url}/api/private`, { jwk, signer: es256(p384.privateKey) })), 401, 'invalid_dpop_proof', 'DPoP');
    });
    it('a P-256 proof key whose x has a leading zero byte (33 bytes) is 401 invalid_dpop_proof', async () => {
      const x = Buffer.concat([Buffer.alloc(1), Buffer.from(proofJwk.x!, 'base64url')]).toString('base64url');
      const jwk = { ...proofJwk, x };
      const token = signed({ cnf: { jkt: await calculateJwkThumbprint(jwk) } });
      expectError(await dpopCall(token, proofFor(token, `${demo.url}/api/private`, { jwk })), 401, 'invalid_dpop_proof', 'DPoP');
    });

    describe('an API with RSA proof algorithms (dpop.algorithms RS256)', () => {
      let server: Server;
      let base: string;
      const reasons: string[] = [];
      beforeAll(async () => {
        const app = express();
        const auth0 = createAuth0Api({
          domain: issuer.origin,
          audience: AUDIENCE,
          dpop: { algorithms: ['RS256'] },
          onEvent: (e) => void (e.type === 'request_rejected' && reasons.push(e.reason)),
        });
        auth0.install(app);
        app.get('/api/private', auth0.requireAuth(), (_req, res) => void res.json({ ok: true }));
        app.use(errorHandler());
        server = app.listen(0, '127.0.0.1');
        await new Promise((resolve) => server.once('listening', resolve));
        base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      });
      afterAll(async () => {
        server?.closeAllConnections();
        await new Promise<void>((resolve) => server?.close(() => resolve()));
      });
      const rsaCall = async (token: string, proof: string) => {
        const res = await fetch(`${base}/api/private`, { headers: { authorization: `DPoP ${token}`, dpop: proof } });
        return { status: res.status, body: (await res.json()) as unknown };
      };

      it('a 3072-bit key with a 3071-bit public exponent is 401 invalid_dpop_proof (proof.jwk_invalid), never imported', async () => {
        const odd = (bits: number) => {
          const bytes = randomBytes(bits / 8 + (bits % 8 ? 1 : 0));
          bytes[0] = bits % 8 ? (bytes[0]! & ((1 << (bits % 8)) - 1)) | (1 << ((bits % 8) - 1)) : bytes[0]! | 0x80;
          bytes[bytes.length - 1]! |= 1;
          return bytes.toString('base64url');
        };
        const jwk = { kty: 'RSA', n: odd(3072), e: odd(3071) };
        const token = signed({ cnf: { jkt: await calculateJwkThumbprint(jwk) } });
        const proof = proofFor(token, `${base}/api/private`, { jwk, alg: 'RS256', signer: () => randomBytes(384).toString('base64url') });
        const reply = await rsaCall(token, proof);
        expect(reply.status).toBe(401);
        expect(reply.body).toEqual({ error: 'invalid_dpop_proof', error_description: expect.any(String) });
        expect(reasons.at(-1)).toBe('proof.jwk_invalid');
      });
      it('control: a real 4096-bit key with e = 65537 is accepted', async () => {
        const rsaKey = generateKeyPairSync('rsa', { modulusLength: 4096 });
        const jwk = (await exportJWK(rsaKey.publicKey)) as Record<string, unknown>;
        const token = signed({ cnf: { jkt: await calculateJwkThumbprint(jwk) } });
        const reply = await rsaCall(token, proofFor(token, `${base}/api/private`, { jwk, alg: 'RS256', signer: rs(rsaKey.privateKey) }));
        expect(reply.status, JSON.stringify(reply.body)).toBe(200);
      });
    });
    // Every bound (modulus, exponent, curves, lengths), timings and "before import": test/core/proof-key-bounds.test.ts.
  });

  // (issuer churn vs the JWKS cooldown) needs 105 issuers: test/security/issuer-churn.test.ts.

  it('the RFC 9728 document for a spoofed Host is never publicly cacheable and varies on Host', async () => {
    const raw = await rawExchange(demo.url, `GET /.well-known/oauth-protected-resource HTTP/1.1\r\nHost: attacker.example\r\nConnection: close\r\n\r\n`);
    const [head, body] = raw.split('\r\n\r\n') as [string, string];
    expect(head).toMatch(/^HTTP\/1\.1 200 /);
    expect(JSON.parse(body).resource).toBe('http://attacker.example');
    expect(head).not.toMatch(/^cache-control:.*\bpublic\b/im);
    expect(head).toMatch(/^vary:.*\bhost\b/im);
  });

  describe('HTTP framing', () => {
    const jsonError = (raw: string) => {
      const [head, body] = raw.split('\r\n\r\n') as [string, string];
      expect(head).toMatch(/^HTTP\/1\.1 400 /);
      expect(JSON.parse(body)).toEqual({ error: 'invalid_request', error_description: expect.any(String) });
    };
    it('two Host lines with a valid token: 400 with the JSON error body', async () => {
      const { host } = new URL(demo.url);
      jsonError(await rawExchange(demo.url, `GET /api/private HTTP/1.1\r\nHost: ${host}\r\nHost: attacker.example\r\nAuthorization: Bearer ${signed()}\r\nConnection: close\r\n\r\n`));
    });
    it('absolute-form target with another authority, with a valid token: 400 JSON (never judged against a glued URL)', async () => {
      const { host } = new URL(demo.url);
      jsonError(await rawExchange(demo.url, `GET http://attacker.example/api/private HTTP/1.1\r\nHost: ${host}\r\nAuthorization: Bearer ${signed()}\r\nConnection: close\r\n\r\n`));
    });
    it('absolute-form target on a public route: 400 JSON', async () => {
      const { host } = new URL(demo.url);
      jsonError(await rawExchange(demo.url, `GET http://attacker.example/.well-known/oauth-protected-resource HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`));
    });
    // More forms (same host twice, header-name case, asterisk-form, /openapi.json, /docs): test/e2e/framing.test.ts.
  });

  it('proofs whose jti values are different lone surrogates are both accepted, and each replay is refused', async () => {
    // The old replay key hashed the jti as UTF-8, turning both into U+FFFD: the second proof was a false "replay".
    const token = signed({ cnf: { jkt } });
    const url = `${demo.url}/api/private`;
    const first = proofFor(token, url, { jti: '\ud800' });
    const second = proofFor(token, url, { jti: '\udbff' });
    expect(Buffer.from(first.split('.')[1]!, 'base64url').toString('latin1')).toContain('"jti":"\\ud800"'); // JSON-escaped
    expect((await dpopCall(token, first)).status).toBe(200);
    expect((await dpopCall(token, second)).status).toBe(200);
    expectError(await dpopCall(token, first), 401, 'invalid_dpop_proof', 'DPoP');
    expectError(await dpopCall(token, second), 401, 'invalid_dpop_proof', 'DPoP');
  });
});

// ===============================================================================================================
// Third round (security review): one row per weakness found; the unit proofs are in the files named in the rows.

describe('third round', () => {
  describe('the docs router never answers a prototype member as an asset (src/express/swagger.ts)', () => {
    // Old code: assets[name] on a plain object found Object.prototype's members: 500 and a logged stack.
    for (const name of ['constructor', '__proto__', 'toString', 'hasOwnProperty', 'valueOf', '__defineGetter__', 'no-such-file.js']) {
      it(`GET /docs/auth0-tsoa-api/${name} is 404 with the JSON error body`, async () => {
        const res = await fetch(`${demo.url}/docs/auth0-tsoa-api/${name}`);
        expect(res.status).toBe(404);
        expect(await res.json()).toEqual({ error: 'not_found', error_description: 'Not found' });
      });
    }
    it('control: the real assets are served', async () => {
      for (const name of ['swagger-dpop-plugin.js', 'dpop.js']) {
        const res = await fetch(`${demo.url}/docs/auth0-tsoa-api/${name}`);
        expect(res.status, name).toBe(200);
        expect(res.headers.get('content-type')).toMatch(/^text\/javascript/);
      }
    });
  });

  it('organization names are compared with ASCII case folding only: the Kelvin sign K (U+212A) is not "k" (403)', async () => {
    // Old code: toLowerCase() on both sides, and "\u212A".toLowerCase() === "k".
    const token = signed({ org_name: 'kelvin' });
    const path = (org: string) => `/api/orgs/${encodeURIComponent(org)}/messages`;
    expectError(await bearer(token, { path: path('\u212Aelvin') }), 403, 'insufficient_scope');
    expect((await bearer(token, { path: path('KELVIN') })).status).toBe(200); // control: ASCII case is still ignored
  });

  describe('an access_token parameter in any spelling is credentials on an optional route (src/express/request.ts)', () => {
    // Old code read only the parsed query's own `access_token`: Express 5's simple parser keeps `access_token[]` as a
    // name of its own, so the token was ignored and the caller served anonymously.
    for (const query of ['access_token[]=x', 'access_token[x]=1', 'access%5Ftoken%5B0%5D=x', 'access_token.x=1']) {
      it(`GET /api/feed?${query} without a header is 401 unauthorized; with a valid header 400 invalid_request`, async () => {
        const alone = await call(undefined, { path: `/api/feed?${query}` });
        expect(alone.status).toBe(401);
        expect(alone.body).toEqual({ error: 'unauthorized', error_description: expect.stringMatching(SAFE_DESCRIPTION) });
        expectError(await bearer(signed(), { path: `/api/feed?${query}` }), 400, 'invalid_request');
      });
    }
    it('control: GET /api/feed without any token is served anonymously', async () => {
      expect((await call(undefined, { path: '/api/feed' })).status).toBe(200);
    });
  });

  it('a Client-Cert header cannot be trusted from everyone: mtls with trust proxy true is refused at install (one line)', () => {
    const app = express();
    app.set('trust proxy', true);
    const api = createAuth0Api({ domain: issuer.origin, audience: AUDIENCE, mtls: { mode: 'allowed' } });
    expect(() => api.install(app)).toThrow(/^auth0-tsoa-api: invalid option "mtls\.mode": .*trusts every address[^\n]*$/);
  });
  // Last: its seconds of synchronous work outlast the demo's keep-alive timeout, so a reused connection would be reset.
  describe('hash flooding of the in-memory replay store (src/core/dpop/replay-store.ts)', () => {
    const FLOOD = 30_000; // proofs of one token holder, all landing in one range under the old unseeded placement
    const BYSTANDERS = 256;
    const ROUNDS = 5; // each bystander is timed ROUNDS times; its best round counts (a GC pause or a busy CPU is not the store)
    const REPEATS = 8;

    /** Fills a default store with `flood` (one owner), then times each bystander's replay checks. */
    async function run(flood: readonly string[], bystanders: readonly string[]): Promise<{ fillMs: number; slowestUs: number; bystandersUs: number }> {
      const store = new MemoryReplayStore();
      const record = (key: string, owner: string) => ({ key, owner, iat: now(), ttlMs: 300_000 });
      let started = process.hrtime.bigint();
      for (const key of flood) await store.checkAndRemember(record(key, 'flooder'));
      const fillMs = Number(process.hrtime.bigint() - started) / 1e6;
      for (const [i, key] of bystanders.entries()) expect(await store.checkAndRemember(record(key, `bystander-${i}`))).toBe(true);
      let slowestUs = 0;
      let bystandersUs = 0;
      for (const [i, key] of bystanders.entries()) {
        let best = Infinity;
        for (let round = 0; round < ROUNDS; round++) {
          started = process.hrtime.bigint();
          for (let r = 0; r < REPEATS; r++) if ((await store.checkAndRemember(record(key, `bystander-${i}`))) !== false) throw new Error('replay accepted');
          best = Math.min(best, Number(process.hrtime.bigint() - started) / 1e3 / REPEATS);
        }
        slowestUs = Math.max(slowestUs, best);
        bystandersUs += best;
      }
      return { fillMs, slowestUs, bystandersUs };
    }

    it('a flood of keys colliding under the old unseeded placement costs a bystander no more than ordinary keys do (ratios ≤ 3×)', async () => {
      // Old code: bucket = murmur3(key) & mask, the same in every process. These keys share one sixteenth of the
      // table, so every insert and every bystander whose home fell in the range probed a run of ~30,000 buckets.
      const { keys: colliding, tries } = collidingKeys(FLOOD);
      expect(tries / FLOOD).toBeLessThan(20); // ≈ 16 SHA-256 per key: cheap for the attacker
      expect(colliding.every((key) => ((unseededBucketHash(key) >>> 13) & 0xf) === 0)).toBe(true);
      const ordinary = ordinaryKeys(FLOOD);
      // Bystanders: ordinary keys, half of them with their old home inside the flooded range (the unlucky ones).
      const bystanders = ordinaryKeys(BYSTANDERS * 40, 'bystander-thumbprint');
      const homeInRange = (key: string) => (unseededBucketHash(key) & 0xffff) < 0x2000; // the table has 2^16 buckets here
      const inRange = bystanders.filter(homeInRange).slice(0, BYSTANDERS / 2);
      const chosen = [...inRange, ...bystanders.filter((key) => !homeInRange(key)).slice(0, BYSTANDERS / 2)];
      expect(inRange).toHaveLength(BYSTANDERS / 2);
      // Twice each, interleaved: the better of two runs counts on both sides (the machine is shared).
      const control = [await run(ordinary, chosen)];
      const attack = [await run(colliding, chosen)];
      control.push(await run(ordinary, chosen));
      attack.push(await run(colliding, chosen));
      const best = (runs: typeof control, field: 'fillMs' | 'slowestUs' | 'bystandersUs') => Math.min(...runs.map((r) => r[field]));
      const ratios = {
        fill: best(attack, 'fillMs') / best(control, 'fillMs'),
        slowestBystander: best(attack, 'slowestUs') / best(control, 'slowestUs'),
        allBystanders: best(attack, 'bystandersUs') / best(control, 'bystandersUs'),
      };
      console.log(`replay-store flood (${FLOOD} colliding vs ordinary keys): ratios ${JSON.stringify(ratios, (_, v: unknown) => (typeof v === 'number' ? Number(v.toFixed(2)) : v))}`);
      expect(ratios.fill).toBeLessThanOrEqual(3);
      expect(ratios.slowestBystander).toBeLessThanOrEqual(3);
      expect(ratios.allBystanders).toBeLessThanOrEqual(3);
    }, 120_000);
  });
});
