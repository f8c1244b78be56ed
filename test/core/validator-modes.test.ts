/**
 * Malformed credentials of a scheme the DPoP mode refuses are an unsupported scheme (401 unauthorized, plain
 * challenge), not a malformed request (400): docs/decisions.md D5. And a domains resolver that never answers
 * becomes a 503, not a hung request. Neither case reaches the network.
 */
import { describe, expect, it } from 'vitest';
import { AuthError, ConfigurationError, createValidator, type ApiOptions } from '../../src/core/index.js';
import { parseChallenges } from '../support/challenges.js';
import { rejection as rejected, withResponses, type RefusedError } from '../support/helpers.js';

const url = 'https://api.example.com/api/private';

function validatorOf(options: ApiOptions) {
  return withResponses(createValidator(options), url);
}

async function rejection(validator: ReturnType<typeof validatorOf>, authorization: string): Promise<RefusedError> {
  return rejected(validator.verifyRequest({ method: 'GET', url, headers: { authorization } }));
}

describe.each([
  { mode: 'required' as const, header: 'Bearer a b', schemes: ['DPoP'] },
  { mode: 'required' as const, header: 'Bearer', schemes: ['DPoP'] },
  { mode: 'disabled' as const, header: 'DPoP a b', schemes: ['Bearer'] },
  { mode: 'disabled' as const, header: 'DPoP', schemes: ['Bearer'] },
])('$mode mode, "$header"', ({ mode, header, schemes }) => {
  it('is 401 unauthorized with a challenge that carries no error', async () => {
    const validator = validatorOf({ domain: 'tenant.example.com', audience: 'https://api.example.com', dpop: { mode } });
    const error = await rejection(validator, header);
    expect(error.status).toBe(401);
    expect(error.toJSON().error).toBe('unauthorized');
    const challenges = parseChallenges(error.headers['WWW-Authenticate']!);
    expect(challenges.map((c) => c.scheme)).toEqual(schemes);
    expect(challenges.every((c) => c.params.error === undefined)).toBe(true);
  });
});

it('still answers 400 invalid_request for a malformed header of an accepted scheme', async () => {
  const validator = validatorOf({ domain: 'tenant.example.com', audience: 'https://api.example.com', dpop: { mode: 'required' } });
  const error = await rejection(validator, 'DPoP a b');
  expect(error.status).toBe(400);
  expect(error.toJSON().error).toBe('invalid_request');
});

it('turns a domains resolver that never settles into a 503 within the timeout', async () => {
  const validator = validatorOf({ domains: () => new Promise<string[]>(() => {}), audience: 'https://api.example.com', timeout: 200 });
  const token = ['{"alg":"RS256","kid":"k"}', '{"iss":"https://tenant.example.com/"}'].map((p) => Buffer.from(p).toString('base64url')).join('.') + '.c2ln';
  const started = Date.now();
  const error = await rejection(validator, `Bearer ${token}`);
  expect(error.status).toBe(503);
  expect(error.toJSON().error).toBe('temporarily_unavailable');
  expect(Date.now() - started).toBeLessThan(2000);
});

describe('one signature path', () => {
  it('accepts a valid token and refuses a tampered one', async () => {
    const { TestIssuer } = await import('../support/test-issuer.js');
    const issuer = await TestIssuer.start();
    try {
      const validator = validatorOf({ domain: issuer.origin, audience: 'https://api.example.com', tokenCache: false });
      const token = await issuer.token('https://api.example.com');
      await expect(validator.verifyAccessToken(token)).resolves.toMatchObject({ sub: 'auth0|user-1' });
      const [h, p, sig] = token.split('.') as [string, string, string];
      const tampered = `${h}.${p}.${sig[0] === 'A' ? 'B' : 'A'}${sig.slice(1)}`;
      const error = await validator.verifyAccessToken(tampered).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(AuthError);
      expect((error as AuthError).reason).toBe('token.signature');
    } finally {
      await issuer.close();
    }
  });

  it('refuses an unknown option at start-up, in one line naming it', () => {
    const options = { domain: 'tenant.example.com', audience: 'https://api.example.com', signatureVerifier: 'jose' } as unknown as ApiOptions;
    expect(() => createValidator(options)).toThrow(ConfigurationError);
    expect(() => createValidator(options)).toThrow(/^auth0-tsoa-api: invalid option "signatureVerifier": is not an option; the options are [^\n]*$/);
  });
});
