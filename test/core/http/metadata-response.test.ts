/**
 * The RFC 9728 document as an HTTP response (src/core/http/metadata-response.ts), shared by every adapter: its body
 * (the validator's document, with the documentation URL and scopes the adapter knows), and its caching
 * (docs/decisions.md D19): public only with `publicUrl`; otherwise private and varying with every header that decides
 * the host, since `resource` then follows the request.
 */
import { describe, expect, it } from 'vitest';
import { createValidator } from '../../../src/core/validator.js';
import type { ApiOptions } from '../../../src/core/config.js';
import { resourceMetadataResponse } from '../../../src/core/http/metadata-response.js';

const AUDIENCE = 'https://api.example.com';
const REQUEST = 'http://10.0.0.7:8080/.well-known/oauth-protected-resource';

/** A validator for tenant.example.com whose discovery is served by a fake fetch. */
function validator(options: Partial<ApiOptions> = {}) {
  return createValidator({
    domain: 'tenant.example.com',
    audience: AUDIENCE,
    scopes: { 'read:messages': 'Read messages' },
    dpop: { mode: 'disabled' },
    onEvent: () => {},
    fetch: async () => Response.json({ issuer: 'https://tenant.example.com/', jwks_uri: 'https://tenant.example.com/.well-known/jwks.json' }),
    ...options,
  });
}

describe('resourceMetadataResponse', () => {
  it('without publicUrl: the document for the request’s origin, private caching that varies with Host and the forwarded headers', async () => {
    const response = await resourceMetadataResponse(validator(), REQUEST, undefined, undefined);
    expect(response.body).toEqual({
      resource: 'http://10.0.0.7:8080',
      authorization_servers: ['https://tenant.example.com/'],
      scopes_supported: ['read:messages'],
      bearer_methods_supported: ['header'],
    });
    expect(response.headers).toEqual({ 'Cache-Control': 'private, max-age=300', Vary: 'Host, X-Forwarded-Host, X-Forwarded-Proto, X-Forwarded-Prefix' });
  });

  it('with publicUrl: resource is the public origin whatever the request, and the response is publicly cacheable without Vary', async () => {
    const response = await resourceMetadataResponse(validator({ publicUrl: 'https://api.example.com/v1' }), REQUEST, undefined, undefined);
    expect(response.body).toMatchObject({ resource: 'https://api.example.com' });
    expect(response.headers).toEqual({ 'Cache-Control': 'public, max-age=300' });
  });

  it('the documentation path becomes an absolute resource_documentation on the request’s origin', async () => {
    const response = await resourceMetadataResponse(validator(), REQUEST, '/docs', undefined);
    expect(response.body).toMatchObject({ resource_documentation: 'http://10.0.0.7:8080/docs' });
  });

  it('… on publicUrl’s origin when set', async () => {
    const response = await resourceMetadataResponse(validator({ publicUrl: 'https://api.example.com' }), REQUEST, '/docs', undefined);
    expect(response.body).toMatchObject({ resource_documentation: 'https://api.example.com/docs' });
  });

  it('no documentation path: no resource_documentation', async () => {
    const response = await resourceMetadataResponse(validator(), REQUEST, undefined, undefined);
    expect(response.body).not.toHaveProperty('resource_documentation');
  });

  it('the scopes the adapter gives (its served spec’s) replace the configured ones', async () => {
    const response = await resourceMetadataResponse(validator(), REQUEST, undefined, ['read:items', 'write:items']);
    expect(response.body).toMatchObject({ scopes_supported: ['read:items', 'write:items'] });
  });
});
