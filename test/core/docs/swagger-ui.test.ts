/**
 * Swagger UI's page settings (src/core/docs/swagger-ui.ts), without a browser: the DPoP settings `swaggerUiOptions`
 * derives from the spec and the options (test/browser/swagger-ui.test.ts drives the page itself).
 */
import { describe, expect, it } from 'vitest';
import { swaggerUiOptions } from '../../../src/core/docs/swagger-ui.js';
import { finalizeSpec } from '../../../src/core/docs/spec.js';

describe('swaggerUiOptions: DPoP settings of the page', () => {
  // A tsoa-shaped spec with one secured operation, finalized for each DPoP mode as the demo does.
  const generated = {
    openapi: '3.0.0',
    info: { title: 'API', version: '1' },
    paths: { '/things': { get: { security: [{ auth0: ['read:things'] }], responses: { '200': { description: 'OK' } } } } },
  };
  const specFor = (dpopMode: 'allowed' | 'required' | 'disabled') => finalizeSpec(generated, { scopes: { 'read:things': 'Read things' }, dpopMode });
  const settings = (spec: Record<string, unknown>, options: Parameters<typeof swaggerUiOptions>[1] = {}) => (swaggerUiOptions(spec, options).swaggerOptions as { auth0TsoaApi: Record<string, unknown> }).auth0TsoaApi;

  it('reads the mode from what the operations offer (finalizeSpec defines every scheme in every mode): bound by default, locked when required, off when disabled', () => {
    expect(settings(specFor('allowed'))).toEqual({ dpop: true, dpopOAuth2: true, dpopOAuth2Required: false });
    expect(settings(specFor('required'))).toEqual({ dpop: true, dpopOAuth2: true, dpopOAuth2Required: true });
    expect(settings(specFor('disabled'))).toEqual({ dpop: false, dpopOAuth2: false, dpopOAuth2Required: false });
  });

  it('allowed mode can start with binding off; an explicit mode wins over the spec; dpop: false turns it all off', () => {
    expect(settings(specFor('allowed'), { dpop: { oauth2: false } })).toEqual({ dpop: true, dpopOAuth2: false, dpopOAuth2Required: false });
    expect(settings(specFor('allowed'), { dpop: { mode: 'required' } })).toEqual({ dpop: true, dpopOAuth2: true, dpopOAuth2Required: true });
    expect(settings(specFor('disabled'), { dpop: true })).toEqual({ dpop: true, dpopOAuth2: true, dpopOAuth2Required: false });
    expect(settings(specFor('required'), { dpop: false })).toEqual({ dpop: false, dpopOAuth2: false, dpopOAuth2Required: false });
  });

  it('refuses unbound OAuth2 tokens in required mode with one line naming the setting', () => {
    expect(() => settings(specFor('required'), { dpop: { oauth2: false } })).toThrow(
      /^auth0-tsoa-api: invalid option "dpop\.oauth2": the docs' dpop\.oauth2 is false but DPoP is required .*: remove dpop\.oauth2, or set dpop\.mode to allowed$/,
    );
    expect(() => settings(specFor('allowed'), { dpop: { mode: 'sometimes' as 'allowed' } })).toThrow(/^auth0-tsoa-api: invalid option "dpop\.mode": the docs' DPoP mode must be 'allowed', 'required' or 'disabled', got "sometimes"$/);
  });
});
