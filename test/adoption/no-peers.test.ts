/**
 * Every peer dependency is optional (package.json peerDependenciesMeta) because no entry point but its own needs it:
 * `auth0-tsoa-api/core` (any Node.js server) and `auth0-tsoa-api/client` (browsers) load and work in an app that
 * installed the packed tarball alone — no express, koa, hapi, tsoa, swagger-ui-express, oidc-provider or
 * @opentelemetry/api — from ES modules and from CommonJS.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exec, npm, packedTarball, ROOT } from './support.js';

let dir: string;

beforeAll(async () => {
  const tarball = await packedTarball();
  // Outside the repository: no node_modules folder above it can lend a peer.
  dir = mkdtempSync(join(tmpdir(), 'adoption-no-peers-'));
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'adoption-no-peers', version: '1.0.0', private: true }));
  await npm(['install', '--omit=peer', tarball], dir);
}, 300_000);

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** A refusal from the core, then a client key pair: both entry points loaded and used. */
const USE_CORE = `
  const validator = core.createValidator({ domain: 'tenant.example.com', audience: 'https://api.example.com' });
  const refusal = await validator.verifyRequest({ method: 'GET', url: 'https://api.example.com/x', headers: {} }).catch((error) => error);
  const keys = await client.createDpopKeyPair();
  const jwk = await client.publicJwk(keys);
  console.log(JSON.stringify({ refused: refusal instanceof core.AuthError, status: refusal.status, kty: jwk.kty }));
`;
const EXPECTED = { refused: true, status: 401, kty: 'EC' };

describe('the package without its peer dependencies', () => {
  it('installs nothing but itself: every peer is optional', () => {
    const peers = Object.keys((JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { peerDependencies: Record<string, string> }).peerDependencies);
    expect(peers.length).toBeGreaterThan(0);
    const installed = readdirSync(join(dir, 'node_modules')).filter((name) => !name.startsWith('.'));
    expect(installed).toEqual(['auth0-tsoa-api']);
  });

  it('auth0-tsoa-api/core and /client load and work from ES modules', async () => {
    const script = `const core = await import('auth0-tsoa-api/core'); const client = await import('auth0-tsoa-api/client');${USE_CORE}`;
    const out = await exec(process.execPath, ['--input-type=module', '-e', script], { cwd: dir });
    expect(JSON.parse(out.trim())).toEqual(EXPECTED);
  });

  it('auth0-tsoa-api/core and /client load and work from CommonJS', async () => {
    const script = `const core = require('auth0-tsoa-api/core'); const client = require('auth0-tsoa-api/client'); (async () => {${USE_CORE}})();`;
    const out = await exec(process.execPath, ['-e', script], { cwd: dir });
    expect(JSON.parse(out.trim())).toEqual(EXPECTED);
  });
});
