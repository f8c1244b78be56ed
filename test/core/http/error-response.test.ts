/**
 * An AuthError as an HTTP response (src/core/http/error-response.ts): challenges per DPoP mode (RFC 6750 §3,
 * RFC 9449 §7.1), `resource_metadata` on every challenge (RFC 9728 §5.1), `Retry-After` on 503, `DPoP-Nonce` on
 * `use_dpop_nonce` (RFC 9449 §9), and the defaults for an AuthError the application throws itself.
 */
import { describe, expect, it } from 'vitest';
import { AuthError } from '../../../src/core/errors.js';
import { DEFAULT_RESPONSE_FACTS, errorResponse, responseOf, type ResponseFacts } from '../../../src/core/http/error-response.js';
import { parseChallenges } from '../../support/challenges.js';

const META = 'https://api.example.com/.well-known/oauth-protected-resource/v1';
const facts = (dpopMode: ResponseFacts['dpopMode']): ResponseFacts => ({
  dpopMode,
  dpopAlgorithms: ['ES256', 'EdDSA'],
  resourceMetadataUrl: META,
});

describe('errorResponse: challenges per DPoP mode', () => {
  const missing = new AuthError('unauthorized', 'credentials.missing', 'Authentication required');

  it.each([
    ['allowed', ['Bearer', 'DPoP']],
    ['required', ['DPoP']],
    ['disabled', ['Bearer']],
  ] as const)('DPoP %s → %j', (mode, schemes) => {
    const response = errorResponse(missing, facts(mode));
    expect(response.status).toBe(401);
    const challenges = parseChallenges(response.headers['WWW-Authenticate']!);
    expect(challenges.map((c) => c.scheme)).toEqual(schemes);
    for (const c of challenges) {
      expect(c.params.error).toBeUndefined(); // RFC 6750 §3.1: no error code when there were no credentials
      expect(c.params.resource_metadata).toBe(META);
    }
    const dpop = challenges.find((c) => c.scheme === 'DPoP');
    if (dpop) expect(dpop.params.algs).toBe('ES256 EdDSA');
    expect(response.body).toEqual({ error: 'unauthorized', error_description: 'Authentication required' });
    expect(response.headers['Retry-After']).toBeUndefined();
  });

  it('puts the error on the scheme the client used, and resource_metadata on every challenge', () => {
    const error = new AuthError('invalid_token', 'token.expired', 'Token expired', { scheme: 'dpop' });
    const [bearer, dpop] = parseChallenges(errorResponse(error, facts('allowed')).headers['WWW-Authenticate']!);
    expect(bearer!.params).toEqual({ resource_metadata: META });
    expect(dpop!.params).toMatchObject({ error: 'invalid_token', error_description: 'Token expired', resource_metadata: META });
  });

  it('leaves resource_metadata out when the facts have no URL', () => {
    const error = new AuthError('invalid_token', 'token.expired', 'Token expired', { scheme: 'bearer' });
    const header = errorResponse(error, { dpopMode: 'allowed', dpopAlgorithms: ['ES256'] }).headers['WWW-Authenticate']!;
    expect(header).not.toContain('resource_metadata');
    expect(parseChallenges(header)[0]!.params.error).toBe('invalid_token');
  });

  it('carries the required scopes on a 403 insufficient_scope challenge', () => {
    const error = new AuthError('insufficient_scope', 'scope.insufficient', 'Insufficient scope', {
      scheme: 'bearer',
      requiredScopes: ['read:orders', 'write:orders'],
    });
    const response = errorResponse(error, facts('disabled'));
    expect(response.status).toBe(403);
    const [bearer] = parseChallenges(response.headers['WWW-Authenticate']!);
    expect(bearer!.params).toMatchObject({ error: 'insufficient_scope', scope: 'read:orders write:orders', resource_metadata: META });
  });

  it('carries acr_values and max_age on a step-up challenge (RFC 9470 §3)', () => {
    const error = new AuthError('insufficient_user_authentication', 'step_up.acr', 'Stronger sign-in required', {
      scheme: 'bearer',
      stepUp: { acrValues: ['mfa', 'phr'], maxAge: 300 },
    });
    const [bearer] = parseChallenges(errorResponse(error, facts('allowed')).headers['WWW-Authenticate']!);
    expect(bearer!.params).toMatchObject({ error: 'insufficient_user_authentication', acr_values: 'mfa phr', max_age: '300' });
  });
});

describe('errorResponse: 503 temporarily_unavailable', () => {
  it("has Retry-After (the error's seconds) and no challenge", () => {
    const error = new AuthError('temporarily_unavailable', 'provider.unavailable', 'Try again later', { retryAfter: 12 });
    const response = errorResponse(error, facts('allowed'));
    expect(response).toEqual({
      status: 503,
      headers: { 'Retry-After': '12' },
      body: { error: 'temporarily_unavailable', error_description: 'Try again later' },
    });
  });

  it('defaults Retry-After to 5 seconds', () => {
    const error = new AuthError('temporarily_unavailable', 'replay_store.unavailable', 'Try again later');
    expect(errorResponse(error, facts('required')).headers).toEqual({ 'Retry-After': '5' });
  });
});

describe('errorResponse: use_dpop_nonce (RFC 9449 §9)', () => {
  it('sends the nonce in DPoP-Nonce with the error on the DPoP challenge', () => {
    const error = new AuthError('use_dpop_nonce', 'proof.nonce', 'Resource server requires nonce in DPoP proof', {
      scheme: 'dpop',
      dpopNonce: 'nonce-abc',
    });
    const response = errorResponse(error, facts('allowed'));
    expect(response.status).toBe(401);
    expect(response.headers['DPoP-Nonce']).toBe('nonce-abc');
    const dpop = parseChallenges(response.headers['WWW-Authenticate']!).find((c) => c.scheme === 'DPoP');
    expect(dpop!.params.error).toBe('use_dpop_nonce');
  });

  it('sends no DPoP-Nonce for other errors, even if one is set', () => {
    const error = new AuthError('invalid_dpop_proof', 'proof.signature', 'Bad proof', { scheme: 'dpop', dpopNonce: 'n' });
    expect(errorResponse(error, facts('allowed')).headers['DPoP-Nonce']).toBeUndefined();
  });

  it('sends no DPoP-Nonce when the error has no nonce', () => {
    const error = new AuthError('use_dpop_nonce', 'proof.nonce', 'Use a nonce', { scheme: 'dpop' });
    expect(Object.keys(errorResponse(error, facts('allowed')).headers)).toEqual(['WWW-Authenticate']);
  });
});

describe('responseOf', () => {
  it('returns the response the validator put on the error', () => {
    const error = new AuthError('invalid_token', 'token.expired', 'Token expired', { scheme: 'bearer' });
    const own = errorResponse(error, facts('disabled'));
    error.response = own;
    expect(responseOf(error)).toBe(own);
  });

  it('answers an application-thrown AuthError with the defaults: Bearer and DPoP (ES256), no resource_metadata', () => {
    expect(DEFAULT_RESPONSE_FACTS).toEqual({ dpopMode: 'allowed', dpopAlgorithms: ['ES256'] });
    expect(Object.isFrozen(DEFAULT_RESPONSE_FACTS)).toBe(true);
    const error = new AuthError('insufficient_scope', 'scope.insufficient', 'Insufficient scope', { requiredScopes: ['admin'] });
    const response = responseOf(error);
    expect(response.status).toBe(403);
    expect(response.body).toEqual({ error: 'insufficient_scope', error_description: 'Insufficient scope' });
    const header = response.headers['WWW-Authenticate']!;
    expect(header).not.toContain('resource_metadata');
    const [bearer, dpop] = parseChallenges(header);
    // No scheme known: the error goes on Bearer, the default scheme when Bearer is accepted.
    expect(bearer).toEqual({ scheme: 'Bearer', params: { error: 'insufficient_scope', error_description: 'Insufficient scope', scope: 'admin' } });
    expect(dpop).toEqual({ scheme: 'DPoP', params: { algs: 'ES256' } });
  });
});
