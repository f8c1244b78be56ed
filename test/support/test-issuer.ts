/**
 * A real local identity provider for tests: an HTTP server on 127.0.0.1 serving discovery and a JWKS, with keys
 * generated at test time, request counters, and switches to simulate faults (slow, down, 5xx, redirect, garbage).
 * Tokens are minted with jose, signed by its keys, Auth0-shaped.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomUUID, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { SignJWT, exportJWK, type JWK } from 'jose';

export type Fault =
  { kind: 'none' } | { kind: 'delay'; ms: number } | { kind: 'status'; status: number } | { kind: 'redirect'; location: string } | { kind: 'body'; body: string; contentType?: string } | { kind: 'huge'; bytes: number } | { kind: 'reset' };

export interface SigningKey {
  kid: string;
  alg: string;
  privateKey: KeyObject;
  publicJwk: JWK;
}

export function generateSigningKey(alg = 'RS256', kid = `k-${randomUUID().slice(0, 8)}`, modulusLength = 2048): SigningKey {
  const pair = alg.startsWith('ES')
    ? generateKeyPairSync('ec', { namedCurve: { ES256: 'P-256', ES384: 'P-384', ES512: 'P-521' }[alg] ?? 'P-256' })
    : alg === 'EdDSA'
      ? generateKeyPairSync('ed25519')
      : generateKeyPairSync('rsa', { modulusLength });
  const publicJwk = pair.publicKey.export({ format: 'jwk' }) as JWK;
  return { kid, alg, privateKey: pair.privateKey, publicJwk: { ...publicJwk, kid, alg, use: 'sig' } };
}

export class TestIssuer {
  server!: Server;
  origin = '';
  keys: SigningKey[] = [];
  /** Requests per path, e.g. counts['/.well-known/jwks.json']. */
  counts: Record<string, number> = {};
  discoveryFault: Fault = { kind: 'none' };
  jwksFault: Fault = { kind: 'none' };
  /** Overrides of the discovery document (e.g. a wrong issuer). */
  discoveryOverrides: Record<string, unknown> = {};

  static async start(options: { keys?: SigningKey[]; host?: string } = {}): Promise<TestIssuer> {
    const issuer = new TestIssuer();
    issuer.keys = options.keys ?? [generateSigningKey('RS256', 'key-1')];
    // void: a failure in the fake issuer stays an unhandled rejection, which fails the test run.
    issuer.server = createServer((req, res) => void issuer.handle(req, res));
    await new Promise<void>((resolve) => issuer.server.listen(0, options.host ?? '127.0.0.1', resolve));
    const { port } = issuer.server.address() as AddressInfo;
    issuer.origin = `http://127.0.0.1:${port}`;
    return issuer;
  }

  /** Auth0 style: the issuer identifier is the origin with a trailing slash. */
  get issuer(): string {
    return `${this.origin}/`;
  }

  get jwksPath(): string {
    return '/.well-known/jwks.json';
  }

  count(path: string): number {
    return this.counts[path] ?? 0;
  }

  get jwksFetches(): number {
    return this.count(this.jwksPath);
  }

  get discoveryFetches(): number {
    return this.count('/.well-known/openid-configuration');
  }

  resetCounts(): void {
    this.counts = {};
  }

  jwks(): { keys: JWK[] } {
    return { keys: this.keys.map((k) => k.publicJwk) };
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? '/').split('?')[0]!;
    this.counts[path] = (this.counts[path] ?? 0) + 1;
    if (path === '/.well-known/openid-configuration') {
      return this.respond(res, this.discoveryFault, {
        issuer: this.issuer,
        jwks_uri: `${this.origin}${this.jwksPath}`,
        token_endpoint: `${this.origin}/oauth/token`,
        authorization_endpoint: `${this.origin}/authorize`,
        ...this.discoveryOverrides,
      });
    }
    if (path === this.jwksPath) return this.respond(res, this.jwksFault, this.jwks());
    res.writeHead(404).end();
  }

  private async respond(res: ServerResponse, fault: Fault, body: unknown): Promise<void> {
    switch (fault.kind) {
      case 'delay':
        await new Promise((r) => setTimeout(r, fault.ms));
        break;
      case 'status':
        res.writeHead(fault.status, { 'content-type': 'text/html' }).end('<html>error</html>');
        return;
      case 'redirect':
        res.writeHead(302, { location: fault.location }).end();
        return;
      case 'body':
        res.writeHead(200, { 'content-type': fault.contentType ?? 'application/json' }).end(fault.body);
        return;
      case 'huge': {
        res.writeHead(200, { 'content-type': 'application/json' });
        const chunk = Buffer.alloc(64 * 1024, 0x20);
        let sent = 0;
        while (sent < fault.bytes && !res.destroyed) {
          if (!res.write(chunk)) await new Promise((r) => res.once('drain', r));
          sent += chunk.length;
        }
        res.end();
        return;
      }
      case 'reset':
        res.socket?.destroy();
        return;
      default:
        break;
    }
    if (!res.destroyed) res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
  }

  /**
   * Mints an access token signed by `key` (default: the first key). Defaults are a valid Auth0-shaped token for
   * `audience`; `claims` overrides or (with `undefined`) removes claims, `header` overrides header parameters.
   */
  async token(audience: string | string[], claims: Record<string, unknown> = {}, options: { key?: SigningKey; header?: Record<string, unknown> } = {}): Promise<string> {
    const key = options.key ?? this.keys[0]!;
    const now = Math.floor(Date.now() / 1000);
    const payload: Record<string, unknown> = {
      iss: this.issuer,
      sub: 'auth0|user-1',
      aud: audience,
      iat: now,
      exp: now + 3600,
      scope: 'read:messages',
      azp: 'client-1',
      client_id: 'client-1',
      gty: 'client-credentials',
      jti: randomUUID(),
      ...claims,
    };
    for (const [k, v] of Object.entries(payload)) if (v === undefined) delete payload[k];
    return new SignJWT(payload).setProtectedHeader({ alg: key.alg, typ: 'at+jwt', kid: key.kid, ...options.header }).sign(key.privateKey);
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

export { exportJWK };
