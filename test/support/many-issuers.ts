/**
 * Many distinct identity-provider origins for the issuer-churn tests: one HTTP server per loopback
 * address (127.0.0.1, 127.0.0.2, … — all of 127/8 is loopback on Linux), each answering discovery and JWKS for its
 * own origin with the same signing key. Fetches are counted per origin and path, server-side.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomUUID } from 'node:crypto';
import { SignJWT } from 'jose';
import { generateSigningKey, type SigningKey } from './test-issuer.js';

/** Loopback issuers, each `http://127.0.0.k:port`. */
export interface ManyIssuers {
  origins: string[];
  key: SigningKey;
  /** Discovery fetches of an origin. */
  discoveryFetches(origin: string): number;
  /** JWKS fetches of an origin. */
  jwksFetches(origin: string): number;
  /** All fetches of all origins. */
  totalFetches(): number;
  /** A valid token issued by `origin` (iss = origin + "/"). */
  token(origin: string, audience: string, claims?: Record<string, unknown>): Promise<string>;
  close(): Promise<void>;
}

/** Starts `count` issuers on 127.0.0.1 … 127.0.0.`count` (count ≤ 254). */
export async function startManyIssuers(count: number): Promise<ManyIssuers> {
  if (count < 1 || count > 254) throw new RangeError('count must be 1..254');
  const key = generateSigningKey('RS256', 'shared-key');
  const counts = new Map<string, number>();
  const servers: Server[] = [];
  const origins: string[] = [];
  for (let i = 1; i <= count; i++) {
    const server = createServer((req, res) => {
      const origin = `http://${req.headers.host}`;
      const path = (req.url ?? '/').split('?')[0]!;
      counts.set(`${origin}${path}`, (counts.get(`${origin}${path}`) ?? 0) + 1);
      if (path === '/.well-known/openid-configuration') {
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ issuer: `${origin}/`, jwks_uri: `${origin}/.well-known/jwks.json` }));
      } else if (path === '/.well-known/jwks.json') {
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: [key.publicJwk] }));
      } else {
        res.writeHead(404).end();
      }
    });
    const host = `127.0.0.${i}`;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, host, resolve);
    });
    servers.push(server);
    origins.push(`http://${host}:${(server.address() as AddressInfo).port}`);
  }
  const fetches = (origin: string, path: string) => counts.get(`${origin}${path}`) ?? 0;
  return {
    origins,
    key,
    discoveryFetches: (origin) => fetches(origin, '/.well-known/openid-configuration'),
    jwksFetches: (origin) => fetches(origin, '/.well-known/jwks.json'),
    totalFetches: () => [...counts.values()].reduce((a, b) => a + b, 0),
    token(origin, audience, claims = {}) {
      const now = Math.floor(Date.now() / 1000);
      return new SignJWT({ iss: `${origin}/`, sub: 'auth0|user-1', aud: audience, iat: now, exp: now + 3600, scope: 'read:messages', jti: randomUUID(), ...claims })
        .setProtectedHeader({ alg: 'RS256', typ: 'at+jwt', kid: key.kid })
        .sign(key.privateKey);
    },
    async close() {
      await Promise.all(
        servers.map((server) => {
          server.closeAllConnections();
          return new Promise<void>((resolve) => server.close(() => resolve()));
        }),
      );
    },
  };
}
