/**
 * `WWW-Authenticate` challenges (RFC 6750 §3, RFC 9449 §7.1, RFC 9728 §5.1): which schemes appear per DPoP mode,
 * where the error attributes go, and that every value is a safe quoted-string.
 */
import { describe, expect, it } from 'vitest';
import { buildChallenge, type ChallengeInput } from '../../../src/core/http/challenge.js';
import { parseChallenges } from '../../support/challenges.js';

const META = 'https://api.example.com/.well-known/oauth-protected-resource';
const base: ChallengeInput = { mode: 'allowed', dpopAlgorithms: ['ES256'], resourceMetadata: META };

describe('buildChallenge: no credentials (no error attribute)', () => {
  it.each([
    ['allowed', `Bearer resource_metadata="${META}", DPoP algs="ES256", resource_metadata="${META}"`],
    ['required', `DPoP algs="ES256", resource_metadata="${META}"`],
    ['disabled', `Bearer resource_metadata="${META}"`],
  ] as const)('DPoP %s', (mode, expected) => {
    expect(buildChallenge({ ...base, mode })).toBe(expected);
  });

  it('treats an "unauthorized" error as no error at all', () => {
    const value = buildChallenge({ ...base, error: { code: 'unauthorized', description: 'Authentication required' } });
    expect(value).toBe(buildChallenge(base));
    expect(value).not.toMatch(/error/);
  });

  it('is the bare scheme when there is nothing to add', () => {
    expect(buildChallenge({ mode: 'disabled', dpopAlgorithms: ['ES256'] })).toBe('Bearer');
  });

  it('lists every DPoP algorithm, space-separated', () => {
    expect(parseChallenges(buildChallenge({ ...base, dpopAlgorithms: ['ES256', 'EdDSA', 'RS256'] }))[1]!.params.algs).toBe('ES256 EdDSA RS256');
  });

  it('puts the realm first when one is configured', () => {
    expect(buildChallenge({ ...base, mode: 'disabled', realm: 'api' })).toBe(`Bearer realm="api", resource_metadata="${META}"`);
  });
});

describe('buildChallenge: errors go on the scheme the client used', () => {
  it('invalid_token on Bearer', () => {
    const value = buildChallenge({ ...base, scheme: 'bearer', error: { code: 'invalid_token', description: 'The access token expired' } });
    expect(value).toBe(`Bearer error="invalid_token", error_description="The access token expired", resource_metadata="${META}", ` + `DPoP algs="ES256", resource_metadata="${META}"`);
  });

  it('invalid_dpop_proof on DPoP', () => {
    const [bearer, dpop] = parseChallenges(buildChallenge({ ...base, scheme: 'dpop', error: { code: 'invalid_dpop_proof', description: 'The DPoP proof is invalid' } }));
    expect(bearer).toEqual({ scheme: 'Bearer', params: { resource_metadata: META } });
    expect(dpop).toEqual({
      scheme: 'DPoP',
      params: { error: 'invalid_dpop_proof', error_description: 'The DPoP proof is invalid', algs: 'ES256', resource_metadata: META },
    });
  });

  it('insufficient_scope carries scope="<required scopes space-separated>"', () => {
    const [bearer] = parseChallenges(buildChallenge({ ...base, scheme: 'bearer', error: { code: 'insufficient_scope', description: 'Missing scope', scope: ['read:data', 'write:data'] } }));
    expect(bearer!.params).toMatchObject({ error: 'insufficient_scope', scope: 'read:data write:data' });
  });

  it('defaults the error to Bearer, or to DPoP in required mode', () => {
    const error = { code: 'invalid_request', description: 'Malformed' } as const;
    expect(parseChallenges(buildChallenge({ ...base, error }))[0]).toMatchObject({ scheme: 'Bearer', params: { error: 'invalid_request' } });
    expect(parseChallenges(buildChallenge({ ...base, mode: 'required', error }))).toEqual([{ scheme: 'DPoP', params: { error: 'invalid_request', error_description: 'Malformed', algs: 'ES256', resource_metadata: META } }]);
  });

  it('leaves out an empty description and an empty scope list', () => {
    expect(buildChallenge({ ...base, mode: 'disabled', error: { code: 'invalid_token', description: '', scope: [] } })).toBe(`Bearer error="invalid_token", resource_metadata="${META}"`);
  });
});

describe('buildChallenge: values are safe quoted-strings (RFC 6750 §3 character set)', () => {
  const SAFE = /^[\x20\x21\x23-\x5b\x5d-\x7e]*$/;

  it('turns quotes and backslashes into harmless characters and drops control characters', () => {
    const value = buildChallenge({
      ...base,
      mode: 'disabled',
      error: { code: 'invalid_token', description: 'kid "a\\b"\r\nX-Injected: yes\u0000é' },
    });
    expect(value).not.toMatch(/[\r\n\u0000]/);
    const [bearer] = parseChallenges(value);
    expect(bearer!.params.error_description).toBe("kid 'a/b'X-Injected: yes");
    for (const param of Object.values(bearer!.params)) expect(param).toMatch(SAFE);
  });

  it('never cuts a long scope list or resource_metadata URL (only descriptions are shortened)', () => {
    const scopes = Array.from({ length: 12 }, (_, i) => `https://graph.example.com/scopes/resource-${i}.read`);
    const longMeta = `https://api.example.com/${'tenant/'.repeat(40)}.well-known/oauth-protected-resource`;
    const [bearer] = parseChallenges(
      buildChallenge({
        mode: 'disabled',
        dpopAlgorithms: ['ES256'],
        resourceMetadata: longMeta,
        error: { code: 'insufficient_scope', description: 'x'.repeat(500), scope: scopes },
      }),
    );
    expect(bearer!.params.scope).toBe(scopes.join(' '));
    expect(bearer!.params.resource_metadata).toBe(longMeta);
    expect(bearer!.params.error_description!.length).toBeLessThanOrEqual(200);
  });
});
