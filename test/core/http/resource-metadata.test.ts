/**
 * RFC 9728 protected resource metadata (src/core/http/resource-metadata.ts): the API's public origin (`publicUrl`
 * over the request's origin), the document's URL that every 401 challenge names (RFC 9728 §5.1), and the document
 * itself (§2): `resource`, `authorization_servers` as each issuer's discovery names it, the scopes, bearer methods,
 * the documentation link, and the DPoP (RFC 9449 §5.1) and mTLS (RFC 8705) members per mode.
 */
import { describe, expect, it } from 'vitest';
import { resolveConfig, type ApiOptions } from '../../../src/core/config.js';
import { buildServices } from '../../../src/core/services.js';
import { protectedResourceMetadata, publicOrigin, resourceMetadataUrl } from '../../../src/core/http/resource-metadata.js';

const AUDIENCE = 'https://api.example.com';
const REQUEST = 'http://10.0.0.7:8080/api/messages?x=1';

describe('publicOrigin', () => {
  it("publicUrl's origin when set, whatever the request URL", () => {
    expect(publicOrigin({ publicUrl: new URL('https://api.example.com/v1/') }, REQUEST)).toBe('https://api.example.com');
  });

  it("else the request URL's origin (scheme, host and port; no path or query)", () => {
    expect(publicOrigin({ publicUrl: undefined }, REQUEST)).toBe('http://10.0.0.7:8080');
    expect(publicOrigin({ publicUrl: undefined }, 'https://api.example.com:443/x')).toBe('https://api.example.com');
  });

  it('undefined for an unparseable request URL without publicUrl', () => {
    expect(publicOrigin({ publicUrl: undefined }, '/api/messages')).toBeUndefined();
    expect(publicOrigin({ publicUrl: new URL('https://api.example.com') }, '/api/messages')).toBe('https://api.example.com');
  });
});

describe('resourceMetadataUrl', () => {
  const PATH = '/.well-known/oauth-protected-resource';

  it("the path on the request's origin", () => {
    expect(resourceMetadataUrl({ publicUrl: undefined, resourceMetadataPath: PATH }, REQUEST)).toBe(`http://10.0.0.7:8080${PATH}`);
  });

  it("the path on publicUrl's origin when set (publicUrl's own path is not kept: the path option is absolute)", () => {
    expect(resourceMetadataUrl({ publicUrl: new URL('https://api.example.com/v1'), resourceMetadataPath: `${PATH}/v1` }, REQUEST)).toBe(`https://api.example.com${PATH}/v1`);
  });

  it('undefined when metadata is turned off, or the origin is unknown', () => {
    expect(resourceMetadataUrl({ publicUrl: new URL('https://api.example.com'), resourceMetadataPath: undefined }, REQUEST)).toBeUndefined();
    expect(resourceMetadataUrl({ publicUrl: undefined, resourceMetadataPath: PATH }, 'not a url')).toBeUndefined();
  });

  it('follows resolveConfig: the default path, and `resourceMetadataPath: false`', () => {
    expect(resourceMetadataUrl(resolveConfig({ domain: 'tenant.example.com', audience: AUDIENCE }), REQUEST)).toBe(`http://10.0.0.7:8080${PATH}`);
    expect(resourceMetadataUrl(resolveConfig({ domain: 'tenant.example.com', audience: AUDIENCE, resourceMetadataPath: false }), REQUEST)).toBeUndefined();
  });
});

describe('protectedResourceMetadata', () => {
  /** Discovery documents by host; a host not listed answers 500. Every fetched URL is recorded. */
  function setup(options: Partial<ApiOptions>, issuers: Record<string, string>) {
    const fetched: string[] = [];
    const config = resolveConfig({
      audience: AUDIENCE,
      cooldown: 0,
      onEvent: () => {},
      fetch: async (input) => {
        const url = new URL(String(input instanceof Request ? input.url : input));
        fetched.push(url.href);
        const issuer = issuers[url.host];
        if (issuer === undefined) return new Response('down', { status: 500 });
        return Response.json({ issuer, jwks_uri: `https://${url.host}/.well-known/jwks.json` });
      },
      ...options,
    });
    return { config, pool: buildServices(config).issuers, fetched };
  }

  it('the whole document for the defaults: resource, the issuer, every scope, header only, DPoP allowed', async () => {
    const { config, pool, fetched } = setup({ domain: 'tenant.example.com', scopes: { 'read:messages': 'Read', 'write:messages': 'Write' } }, { 'tenant.example.com': 'https://tenant.example.com/' });
    expect(await protectedResourceMetadata(config, pool, REQUEST)).toEqual({
      resource: 'http://10.0.0.7:8080',
      authorization_servers: ['https://tenant.example.com/'],
      scopes_supported: ['read:messages', 'write:messages'],
      bearer_methods_supported: ['header'],
      dpop_signing_alg_values_supported: ['ES256'],
      dpop_bound_access_tokens_required: false,
    });
    expect(fetched).toEqual(['https://tenant.example.com/.well-known/openid-configuration']);
  });

  it('resource is publicUrl’s origin when set, not the request’s', async () => {
    const { config, pool } = setup({ domain: 'tenant.example.com', publicUrl: 'https://api.example.com/v1' }, { 'tenant.example.com': 'https://tenant.example.com/' });
    expect((await protectedResourceMetadata(config, pool, REQUEST)).resource).toBe('https://api.example.com');
  });

  it('an unparseable request URL without publicUrl: resource is the URL as given', async () => {
    const { config, pool } = setup({ domain: 'tenant.example.com' }, { 'tenant.example.com': 'https://tenant.example.com/' });
    expect((await protectedResourceMetadata(config, pool, '/api/messages')).resource).toBe('/api/messages');
  });

  it('authorization_servers: each configured issuer in order, exactly as its discovery names it; one that cannot be loaded as origin + "/"', async () => {
    const { config, pool } = setup(
      { domains: ['a.example.com', 'b.example.com', 'c.example.com'] },
      {
        'a.example.com': 'https://a.example.com/',
        'b.example.com': 'https://b.example.com', // no trailing slash: reported without one
      },
    );
    expect((await protectedResourceMetadata(config, pool, REQUEST)).authorization_servers).toEqual(['https://a.example.com/', 'https://b.example.com', 'https://c.example.com/']);
  });

  it('a resolver names no issuers up front: authorization_servers is empty and nothing is fetched', async () => {
    const { config, pool, fetched } = setup({ domains: () => ['a.example.com'] }, { 'a.example.com': 'https://a.example.com/' });
    expect((await protectedResourceMetadata(config, pool, REQUEST)).authorization_servers).toEqual([]);
    expect(fetched).toEqual([]);
  });

  it('scopes_supported: the scopes option, then the scopes of policies it lacks, each once', async () => {
    const { config, pool } = setup(
      {
        domain: 'tenant.example.com',
        scopes: { 'read:messages': 'Read' },
        policies: { admin: { scopes: ['admin:all', 'read:messages'] }, editor: { scopes: ['write:messages', 'admin:all'] } },
      },
      { 'tenant.example.com': 'https://tenant.example.com/' },
    );
    expect((await protectedResourceMetadata(config, pool, REQUEST)).scopes_supported).toEqual(['read:messages', 'admin:all', 'write:messages']);
  });

  it('scopes given by the caller (the served spec) replace the configured ones', async () => {
    const { config, pool } = setup({ domain: 'tenant.example.com', scopes: { 'read:messages': 'Read' } }, { 'tenant.example.com': 'https://tenant.example.com/' });
    const scopes = ['b', 'a'];
    const document = await protectedResourceMetadata(config, pool, REQUEST, { scopes });
    expect(document.scopes_supported).toEqual(['b', 'a']);
    expect(document.scopes_supported).not.toBe(scopes); // a copy: the caller's list is not handed out
  });

  it('resource_documentation only when a documentation URL is given', async () => {
    const { config, pool } = setup({ domain: 'tenant.example.com' }, { 'tenant.example.com': 'https://tenant.example.com/' });
    expect(await protectedResourceMetadata(config, pool, REQUEST, { documentationUrl: 'https://api.example.com/docs' })).toMatchObject({ resource_documentation: 'https://api.example.com/docs' });
    expect(await protectedResourceMetadata(config, pool, REQUEST, { documentationUrl: undefined })).not.toHaveProperty('resource_documentation');
  });

  it.each([
    ['allowed', ['ES256', 'EdDSA'], false],
    ['required', ['ES256', 'EdDSA'], true],
    ['disabled', undefined, undefined],
  ] as const)('DPoP %s: dpop_signing_alg_values_supported %j, dpop_bound_access_tokens_required %s', async (mode, algs, required) => {
    const { config, pool } = setup({ domain: 'tenant.example.com', dpop: { mode, algorithms: ['ES256', 'EdDSA'] } }, { 'tenant.example.com': 'https://tenant.example.com/' });
    const document = await protectedResourceMetadata(config, pool, REQUEST);
    expect(document.dpop_signing_alg_values_supported).toEqual(algs);
    expect(document.dpop_bound_access_tokens_required).toBe(required);
    expect('dpop_signing_alg_values_supported' in document).toBe(mode !== 'disabled');
    expect('dpop_bound_access_tokens_required' in document).toBe(mode !== 'disabled');
  });

  it.each([
    ['disabled', undefined],
    ['allowed', true],
    ['required', true],
  ] as const)('mTLS %s: tls_client_certificate_bound_access_tokens is %s', async (mode, expected) => {
    const { config, pool } = setup({ domain: 'tenant.example.com', mtls: { mode } }, { 'tenant.example.com': 'https://tenant.example.com/' });
    const document = await protectedResourceMetadata(config, pool, REQUEST);
    expect(document.tls_client_certificate_bound_access_tokens).toBe(expected);
    expect('tls_client_certificate_bound_access_tokens' in document).toBe(expected !== undefined);
  });
});
