/**
 * docs/decisions.md D20: HTTP framing, over raw sockets to the real demo.
 *
 * Node itself passes both of two `Host` lines through (rawHeaders keeps both, `req.headers.host` is the first) and
 * hands an absolute-form target to the app as `req.url = "http://evil.example/api/private"`. Before the fix the
 * demo answered both as ordinary requests: the first Host won silently, and an absolute-form target was glued to the
 * Host header into a public URL like `http://127.0.0.1:3000http://evil.example/...` (DPoP `htu`, metadata). Now both
 * are 400 with the JSON error body, on protected and public routes alike, before any token is judged.
 */
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TestIssuer } from '../support/test-issuer.js';
import { AUDIENCE, startTestDemo, describeFrameworks } from '../support/demo.js';
import type { RunningDemo } from '../../src/demo/server.js';

let issuer: TestIssuer;
let demo: RunningDemo;
let hostPort: string;
let token: string;

describeFrameworks(() => {
  beforeAll(async () => {
    issuer = await TestIssuer.start();
    demo = await startTestDemo({ AUTH0_DOMAIN: issuer.origin });
    hostPort = new URL(demo.url).host;
    token = await issuer.token(AUDIENCE);
  });
  afterAll(async () => {
    await demo?.close();
    await issuer?.close();
  });

  interface RawReply {
    status: number;
    headers: string;
    body: string;
  }

  /** One raw HTTP/1.1 exchange (Connection: close ends it). */
  function exchange(lines: string[]): Promise<RawReply> {
    const { hostname, port } = new URL(demo.url);
    return new Promise((resolve, reject) => {
      const socket = connect(Number(port), hostname, () => socket.write(`${lines.join('\r\n')}\r\n\r\n`));
      const chunks: Buffer[] = [];
      socket.on('data', (c: Buffer) => chunks.push(c));
      socket.on('error', reject);
      socket.on('close', () => {
        const text = Buffer.concat(chunks).toString('latin1');
        const [head = '', ...rest] = text.split('\r\n\r\n');
        resolve({ status: Number(/^HTTP\/1\.1 (\d{3})/.exec(head)?.[1] ?? 0), headers: head, body: rest.join('\r\n\r\n') });
      });
    });
  }

  /** The body of a (possibly chunked) response, parsed as JSON. */
  function json(reply: RawReply): unknown {
    let body = reply.body;
    if (/^transfer-encoding:\s*chunked/im.test(reply.headers)) {
      let out = '';
      let rest = body;
      for (;;) {
        const size = parseInt(rest.slice(0, rest.indexOf('\r\n')), 16);
        if (!size) break;
        const start = rest.indexOf('\r\n') + 2;
        out += rest.slice(start, start + size);
        rest = rest.slice(start + size + 2);
      }
      body = out;
    }
    return JSON.parse(body);
  }

  function expect400Json(reply: RawReply): void {
    expect(reply.status, reply.headers).toBe(400);
    expect(reply.headers).toMatch(/^content-type: application\/json/im);
    expect(json(reply)).toEqual({ error: 'invalid_request', error_description: expect.any(String) });
  }

  describe('HTTP framing (docs/decisions.md D20)', () => {
    it('control: one Host line, origin-form: the token is judged (200), and without one a protected route is 401', async () => {
      const ok = await exchange([`GET /api/private HTTP/1.1`, `Host: ${hostPort}`, `Authorization: Bearer ${token}`, 'Connection: close']);
      expect(ok.status).toBe(200);
      expect(json(ok)).toEqual({ user: 'auth0|user-1' });
    });

    it.each([
      ['the real host first, then another', (h: string) => [`Host: ${h}`, 'Host: evil.example']],
      ['another host first, then the real one', (h: string) => ['Host: evil.example', `Host: ${h}`]],
      ['the same host twice', (h: string) => [`Host: ${h}`, `Host: ${h}`]],
      ['two spellings of the header name', (h: string) => [`Host: ${h}`, `HOST: ${h}`]],
    ])('two Host lines (%s) → 400 with the JSON error body, even with a valid token', async (_name, hosts) => {
      const reply = await exchange([`GET /api/private HTTP/1.1`, ...hosts(hostPort), `Authorization: Bearer ${token}`, 'Connection: close']);
      expect400Json(reply);
    });

    it('two Host lines on a public route (/openapi.json, the RFC 9728 document, an unknown path) → 400 JSON', async () => {
      for (const path of ['/openapi.json', '/.well-known/oauth-protected-resource', '/no-such-route']) {
        expect400Json(await exchange([`GET ${path} HTTP/1.1`, `Host: ${hostPort}`, 'Host: evil.example', 'Connection: close']));
      }
    });

    it.each([
      ['another authority', () => 'http://evil.example/api/private'],
      ["the demo's own authority", () => `http://${hostPort}/api/private`],
      ['https and a port', () => 'https://evil.example:8443/api/private?x=1'],
    ])('absolute-form target with %s → 400 JSON, never a 401 or 200 judged against a glued URL', async (_name, target) => {
      for (const authorization of [[], [`Authorization: Bearer ${token}`], ['Authorization: Bearer not-a-token']]) {
        const reply = await exchange([`GET ${target()} HTTP/1.1`, `Host: ${hostPort}`, ...authorization, 'Connection: close']);
        expect400Json(reply);
        expect(reply.headers).not.toMatch(/www-authenticate:.*localhosthttp|www-authenticate:.*\d+http/i);
      }
    });

    it('absolute-form targets on public routes → 400 JSON (the RFC 9728 document never names a glued origin)', async () => {
      for (const path of ['/.well-known/oauth-protected-resource', '/openapi.json', '/api/public', '/docs/']) {
        const reply = await exchange([`GET http://evil.example${path} HTTP/1.1`, `Host: ${hostPort}`, 'Connection: close']);
        expect400Json(reply);
        expect(reply.body).not.toContain('evil.example');
      }
    });

    it('asterisk-form (OPTIONS *) is not a path either: 400 JSON', async () => {
      expect400Json(await exchange(['OPTIONS * HTTP/1.1', `Host: ${hostPort}`, 'Connection: close']));
    });

    it('what Node refuses before Express (a malformed request line) is 400 with the JSON body too (jsonClientErrors)', async () => {
      const reply = await exchange(['GET /api/private HTTP/1.1 extra', `Host: ${hostPort}`, 'Connection: close']);
      expect400Json(reply);
    });

    it('an HTTP/1.1 request without Host is 400 (RFC 9112 §3.2; Node refuses it itself, before Express)', async () => {
      const reply = await exchange(['GET /api/private HTTP/1.1', `Authorization: Bearer ${token}`, 'Connection: close']);
      expect(reply.status).toBe(400);
      // Node's answer here does not pass through jsonClientErrors (it is not a clientError): its body is empty, not JSON.
    });

    it.each(['a/b', 'ex ample', '[::1', 'a@b'])('a Host that cannot be a host (%s): a public route serves it, authentication answers 400 with its challenge', async (host) => {
      const pub = await exchange(['GET /api/public HTTP/1.1', `Host: ${host}`, 'Connection: close']);
      expect(pub.status).toBe(200);
      const reply = await exchange(['GET /api/private HTTP/1.1', `Host: ${host}`, `Authorization: Bearer ${token}`, 'Connection: close']);
      expect400Json(reply);
      expect(json(reply)).toEqual({ error: 'invalid_request', error_description: 'The Host header is missing or invalid' });
      expect(reply.headers).toMatch(/^www-authenticate: Bearer error="invalid_request"/im);
    });

    it('the server keeps serving after all of the above', async () => {
      const ok = await exchange([`GET /api/private HTTP/1.1`, `Host: ${hostPort}`, `Authorization: Bearer ${token}`, 'Connection: close']);
      expect(ok.status).toBe(200);
    });
  });
});
