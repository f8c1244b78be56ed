/**
 * RFC 9728 protected resource metadata served by the real demo over HTTP: the document for each DPoP mode, the
 * public URL it names (origin, AUTH0_PUBLIC_URL, trusted/untrusted forwarded headers), the authorization servers
 * exactly as their discovery reports them, and the `resource_metadata` parameter of every 401 challenge.
 * item 8: how the document may be cached (before the fix it was `Cache-Control: public` with a `resource` taken from
 * Host and no `Vary`, so a shared cache could serve an attacker-chosen origin to everyone).
 */
import { request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as dpop from 'dpop';
import * as oauth from 'oauth4webapi';
import { TestIssuer } from '../support/test-issuer.js';
import { AUDIENCE, describeFrameworks, parseChallenges, startTestDemo } from '../support/demo.js';
import { startDemo, type RunningDemo } from '../../src/demo/server.js';
import { SCOPES } from '../../src/demo/scopes.js';
import express from 'express';
import { createAuth0Api } from '../../src/express/index.js';

const WELL_KNOWN = '/.well-known/oauth-protected-resource';
const DEMO_SCOPES = Object.keys(SCOPES).sort();
const MODES = ['allowed', 'required', 'disabled'] as const;
type Mode = (typeof MODES)[number];

interface Metadata {
  resource: string;
  authorization_servers: string[];
  scopes_supported: string[];
  bearer_methods_supported: string[];
  dpop_signing_alg_values_supported?: string[];
  dpop_bound_access_tokens_required?: boolean;
  [member: string]: unknown;
}

async function getMetadata(url: string, headers: Record<string, string> = {}): Promise<Metadata> {
  const response = await fetch(url, { headers });
  expect(response.status).toBe(200);
  expect(response.headers.get('content-type')).toMatch(/^application\/json/);
  return (await response.json()) as Metadata;
}

/** The members every document has, whatever the mode. */
function expectCommonMembers(doc: Metadata, resource: string, authorizationServers: string[]): void {
  expect(doc.resource).toBe(resource);
  expect(doc.authorization_servers).toEqual(authorizationServers);
  expect([...doc.scopes_supported].sort()).toEqual(DEMO_SCOPES);
  expect(doc.bearer_methods_supported).toEqual(['header']);
}

function expectDpopMembers(doc: Metadata, mode: Mode): void {
  if (mode === 'disabled') {
    expect(doc).not.toHaveProperty('dpop_signing_alg_values_supported');
  } else {
    expect(doc.dpop_signing_alg_values_supported).toEqual(['ES256']);
  }
  if (mode === 'required') expect(doc.dpop_bound_access_tokens_required).toBe(true);
  else expect(doc.dpop_bound_access_tokens_required).not.toBe(true);
}

/** Asserts a 401 and returns its challenges, each of which must carry resource_metadata = expected. */
async function expect401Challenges(response: Response, resourceMetadata: string) {
  expect(response.status).toBe(401);
  const challenges = parseChallenges(response.headers.get('www-authenticate'));
  expect(challenges.length).toBeGreaterThan(0);
  for (const challenge of challenges) {
    expect(challenge.params.resource_metadata, `${challenge.scheme} challenge`).toBe(resourceMetadata);
  }
  return challenges;
}

let issuer: TestIssuer;
let second: TestIssuer;

describeFrameworks(() => {
  beforeAll(async () => {
    issuer = await TestIssuer.start();
    second = await TestIssuer.start();
  });
  afterAll(async () => {
    await issuer?.close();
    await second?.close();
  });

  describe.each(MODES)('AUTH0_DPOP=%s', (mode) => {
    let demo: RunningDemo;
    let wellKnown: string;

    beforeAll(async () => {
      demo = await startTestDemo({ AUTH0_DOMAIN: issuer.origin, AUTH0_DPOP: mode });
      wellKnown = `${demo.url}${WELL_KNOWN}`;
    });
    afterAll(async () => {
      await demo?.close();
    });

    it('serves the RFC 9728 document for the mode', async () => {
      const doc = await getMetadata(wellKnown);
      expectCommonMembers(doc, demo.url, [issuer.issuer]);
      expect(doc.authorization_servers[0]).toMatch(/\/$/); // Auth0 style: the issuer identifier ends with a slash
      expectDpopMembers(doc, mode);
    });

    it('the document is served without credentials even when Authorization is garbage', async () => {
      const response = await fetch(wellKnown, { headers: { authorization: 'Bearer not-a-token' } });
      expect(response.status).toBe(200);
    });

    it('the DPoP algs in the document match those of the DPoP challenge', async () => {
      const doc = await getMetadata(wellKnown);
      const response = await fetch(`${demo.url}/api/private`);
      const dpopChallenge = parseChallenges(response.headers.get('www-authenticate')).find((c) => c.scheme === 'DPoP');
      if (mode === 'disabled') {
        expect(dpopChallenge).toBeUndefined();
      } else {
        expect(dpopChallenge?.params.algs?.split(' ')).toEqual(doc.dpop_signing_alg_values_supported);
      }
    });

    it('every 401 challenge carries resource_metadata pointing at the served document', async () => {
      const api = `${demo.url}/api/private`;
      const expired = await issuer.token(AUDIENCE, { exp: Math.floor(Date.now() / 1000) - 600, iat: Math.floor(Date.now() / 1000) - 4000 });
      const wrongAudience = await issuer.token('https://other.example.com');
      const bound = await issuer.token(AUDIENCE, { cnf: { jkt: 'q1aFyN-JEx8JkwQdcLc0LFa8ZUX8VdLkz8qi7ylT8mA' } });
      const valid = await issuer.token(AUDIENCE);
      const keyPair = await oauth.generateKeyPair('ES256');
      const wrongHtmProof = await dpop.generateProof(keyPair, api, 'POST', undefined, valid);

      const cases: Array<[string, Record<string, string>]> = [
        ['no Authorization', {}],
        ['Basic scheme', { authorization: 'Basic ZGVtbzpkZW1v' }],
        ['Bearer garbage', { authorization: 'Bearer not.a.jwt' }],
        ['Bearer expired', { authorization: `Bearer ${expired}` }],
        ['Bearer wrong audience', { authorization: `Bearer ${wrongAudience}` }],
        ['bound token as Bearer', { authorization: `Bearer ${bound}` }],
        ['DPoP garbage proof', { authorization: `DPoP ${valid}`, dpop: 'not-a-proof' }],
        ['DPoP proof for another method', { authorization: `DPoP ${valid}`, dpop: wrongHtmProof }],
      ];
      for (const [name, headers] of cases) {
        const response = await fetch(api, { headers });
        expect(response.status, name).toBe(401);
        await expect401Challenges(response, wellKnown);
      }

      // …and that URL serves this API's document.
      const doc = await getMetadata(wellKnown);
      expect(`${doc.resource}${WELL_KNOWN}`).toBe(wellKnown);
    });
  });

  describe('authorization_servers: the issuer identifier exactly as discovery reports it', () => {
    it('several AUTH0_DOMAINS → every issuer, in order', async () => {
      const demo = await startTestDemo({ AUTH0_DOMAINS: `${issuer.origin},${second.origin}` });
      try {
        const doc = await getMetadata(`${demo.url}${WELL_KNOWN}`);
        expectCommonMembers(doc, demo.url, [issuer.issuer, second.issuer]);
      } finally {
        await demo.close();
      }
    });

    it('a discovery document whose issuer has no trailing slash is reported without one', async () => {
      const bare = await TestIssuer.start();
      bare.discoveryOverrides = { issuer: bare.origin };
      const demo = await startTestDemo({ AUTH0_DOMAIN: bare.origin });
      try {
        const doc = await getMetadata(`${demo.url}${WELL_KNOWN}`);
        expect(doc.authorization_servers).toEqual([bare.origin]);
      } finally {
        await demo.close();
        await bare.close();
      }
    });

    it('dev-issuer mode: the embedded issuer, as its own discovery document reports it', async () => {
      const demo = await startDemo({ env: { PORT: '0', AUTH0_DEV_ISSUER_PORT: '0', NODE_ENV: 'test' }, quiet: true });
      try {
        const doc = await getMetadata(`${demo.url}${WELL_KNOWN}`);
        const discovery = (await (await fetch(new URL('.well-known/openid-configuration', demo.issuer!.issuer))).json()) as { issuer: string };
        expectCommonMembers(doc, demo.url, [discovery.issuer]);
        expect(discovery.issuer).toBe(demo.issuer!.issuer);
        expect(discovery.issuer).toMatch(/\/$/);
        expectDpopMembers(doc, 'allowed');
      } finally {
        await demo.close();
      }
    });
  });

  describe('resource: the public URL of the API', () => {
    const FORWARDED = { 'x-forwarded-proto': 'https', 'x-forwarded-host': 'api.forwarded.example' };

    it('AUTH0_PUBLIC_URL sets resource and resource_metadata, over any forwarded headers', async () => {
      const publicUrl = 'https://api.public.example';
      const demo = await startTestDemo({ AUTH0_DOMAIN: issuer.origin, AUTH0_PUBLIC_URL: publicUrl, AUTH0_TRUST_PROXY: 'true' });
      try {
        for (const headers of [{}, FORWARDED]) {
          const doc = await getMetadata(`${demo.url}${WELL_KNOWN}`, headers);
          expectCommonMembers(doc, publicUrl, [issuer.issuer]);
          await expect401Challenges(await fetch(`${demo.url}/api/private`, { headers }), `${publicUrl}${WELL_KNOWN}`);
        }
      } finally {
        await demo.close();
      }
    });

    for (const trust of ['true', 'loopback']) {
      it(`AUTH0_TRUST_PROXY=${trust}: X-Forwarded-Proto/Host are honoured`, async () => {
        const demo = await startTestDemo({ AUTH0_DOMAIN: issuer.origin, AUTH0_TRUST_PROXY: trust });
        try {
          const doc = await getMetadata(`${demo.url}${WELL_KNOWN}`, FORWARDED);
          expectCommonMembers(doc, 'https://api.forwarded.example', [issuer.issuer]);
          const response = await fetch(`${demo.url}/api/private`, { headers: FORWARDED });
          await expect401Challenges(response, `https://api.forwarded.example${WELL_KNOWN}`);
          // Without forwarded headers it is still the direct origin.
          expect((await getMetadata(`${demo.url}${WELL_KNOWN}`)).resource).toBe(demo.url);
        } finally {
          await demo.close();
        }
      });
    }

    for (const trust of [undefined, '10.1.2.3']) {
      it(`AUTH0_TRUST_PROXY=${trust ?? '(unset)'}: X-Forwarded-Proto/Host from an untrusted peer are ignored`, async () => {
        const demo = await startTestDemo({ AUTH0_DOMAIN: issuer.origin, ...(trust ? { AUTH0_TRUST_PROXY: trust } : {}) });
        try {
          const doc = await getMetadata(`${demo.url}${WELL_KNOWN}`, FORWARDED);
          expectCommonMembers(doc, demo.url, [issuer.issuer]);
          const response = await fetch(`${demo.url}/api/private`, { headers: FORWARDED });
          await expect401Challenges(response, `${demo.url}${WELL_KNOWN}`);
        } finally {
          await demo.close();
        }
      });
    }
  });

  describe('RFC 9728 metadata caching (docs/decisions.md D19)', () => {
    /** GET the document with an arbitrary Host header (fetch cannot set Host). */
    function getWithHost(base: string, headers: Record<string, string>): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; doc: Metadata }> {
      const { hostname, port } = new URL(base);
      return new Promise((resolve, reject) => {
        const req = httpRequest({ host: hostname, port, path: WELL_KNOWN, headers, agent: false }, (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, doc: JSON.parse(Buffer.concat(chunks).toString()) as Metadata }));
        });
        req.on('error', reject);
        req.end();
      });
    }
    const varyOf = (headers: Record<string, string | string[] | undefined>) =>
      String(headers.vary ?? '')
        .split(',')
        .map((v) => v.trim().toLowerCase());

    it('without AUTH0_PUBLIC_URL: resource follows Host, so the response is not public and Vary names Host and the X-Forwarded-* headers', async () => {
      const demo = await startTestDemo({ AUTH0_DOMAIN: issuer.origin, AUTH0_TRUST_PROXY: 'loopback' });
      try {
        const direct = await getWithHost(demo.url, {});
        expect(direct.doc.resource).toBe(demo.url);
        const spoofed = await getWithHost(demo.url, { host: 'attacker.example' });
        expect(spoofed.status).toBe(200);
        expect(spoofed.doc.resource).toBe('http://attacker.example'); // what a shared cache must never serve to others
        const forwarded = await getWithHost(demo.url, { 'x-forwarded-host': 'fwd.example', 'x-forwarded-proto': 'https' });
        expect(forwarded.doc.resource).toBe('https://fwd.example');
        for (const reply of [direct, spoofed, forwarded]) {
          const cacheControl = String(reply.headers['cache-control'] ?? '');
          expect(cacheControl).not.toMatch(/\bpublic\b/i);
          expect(cacheControl).toMatch(/\bprivate\b|\bno-store\b/i);
          expect(varyOf(reply.headers)).toEqual(expect.arrayContaining(['host', 'x-forwarded-host', 'x-forwarded-proto', 'x-forwarded-prefix']));
        }
      } finally {
        await demo.close();
      }
    });

    it('with AUTH0_PUBLIC_URL: publicly cacheable, and resource ignores Host and forwarded headers', async () => {
      const publicUrl = 'https://api.public.example';
      const demo = await startTestDemo({ AUTH0_DOMAIN: issuer.origin, AUTH0_PUBLIC_URL: publicUrl, AUTH0_TRUST_PROXY: 'loopback' });
      try {
        for (const headers of [{}, { host: 'attacker.example' }, { 'x-forwarded-host': 'fwd.example', 'x-forwarded-proto': 'http' }] as Array<Record<string, string>>) {
          const reply = await getWithHost(demo.url, headers);
          expect(reply.status).toBe(200);
          expect(reply.doc.resource).toBe(publicUrl);
          expect(reply.doc.resource_documentation).toBe(`${publicUrl}/docs`);
          expect(String(reply.headers['cache-control'])).toMatch(/\bpublic\b/);
          expect(varyOf(reply.headers)).not.toContain('host');
        }
      } finally {
        await demo.close();
      }
    });

    it('resource_documentation appears only when documentation is mounted (the demo mounts /docs; a bare app does not)', async () => {
      const demo = await startTestDemo({ AUTH0_DOMAIN: issuer.origin });
      const app = express();
      createAuth0Api({ domain: issuer.origin, audience: AUDIENCE }).install(app);
      const bare = app.listen(0, '127.0.0.1');
      await new Promise((resolve) => bare.once('listening', resolve));
      try {
        const withDocs = await getMetadata(`${demo.url}${WELL_KNOWN}`);
        expect(withDocs.resource_documentation).toBe(`${demo.url}/docs`);
        expect((await fetch(`${demo.url}/docs/`)).status).toBe(200); // and it is really there
        const without = await getMetadata(`http://127.0.0.1:${(bare.address() as AddressInfo).port}${WELL_KNOWN}`);
        expect(without).not.toHaveProperty('resource_documentation');
      } finally {
        bare.closeAllConnections();
        await new Promise<void>((resolve) => bare.close(() => resolve()));
        await demo.close();
      }
    });
  });
});
