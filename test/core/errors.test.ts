/**
 * The library's errors (src/core/errors.ts): AuthError's status per code and its client-safe description
 * (RFC 6750 §3 characters only, capped), `onScheme`, `toJSON`; ConfigurationError's one-line message naming the
 * option; ReplayStoreError's Retry-After; ProviderFetchError's fields.
 */
import { describe, expect, it } from 'vitest';
import { AUTH_FAILURE_REASONS, AuthError, ConfigurationError, ProviderFetchError, ReplayStoreError, sanitizeDescription, type AuthErrorCode } from '../../src/core/errors.js';

describe('AuthError: status per code', () => {
  it.each([
    ['unauthorized', 401],
    ['invalid_request', 400],
    ['invalid_token', 401],
    ['insufficient_scope', 403],
    ['invalid_dpop_proof', 401],
    ['use_dpop_nonce', 401],
    ['insufficient_user_authentication', 401],
    ['temporarily_unavailable', 503],
  ] as Array<[AuthErrorCode, number]>)('%s → %i', (code, status) => {
    const error = new AuthError(code, 'internal', 'x');
    expect(error.status).toBe(status);
    expect(error.statusCode).toBe(status);
    expect(error.code).toBe(code);
  });

  it("ignores an assignment to statusCode (http-errors assigns it; the status is the code's)", () => {
    const error = new AuthError('insufficient_scope', 'scope.insufficient', 'Insufficient scope');
    (error as { statusCode: number }).statusCode = 500;
    expect(error.statusCode).toBe(403);
    expect(error.status).toBe(403);
  });

  it('is an Error named AuthError, exposable, with its reason and details', () => {
    const cause = new Error('backend down');
    const error = new AuthError('temporarily_unavailable', 'provider.unavailable', 'Try later', {
      retryAfter: 7,
      cause,
    });
    expect(error).toBeInstanceOf(Error);
    expect(error.name).toBe('AuthError');
    expect(error.expose).toBe(true);
    expect(error.reason).toBe('provider.unavailable');
    expect(error.retryAfter).toBe(7);
    expect(error.cause).toBe(cause);
    expect(error.message).toBe('Try later');
    expect(error.description).toBe('Try later');
  });

  it('has no cause property at all when none is given', () => {
    expect('cause' in new AuthError('invalid_token', 'token.expired', 'Expired')).toBe(false);
  });

  it('has no response until a validator gives it one', () => {
    const error = new AuthError('invalid_token', 'token.expired', 'Expired');
    expect(error.response).toBeUndefined();
    expect(error.scheme).toBeUndefined();
    expect(error.requiredScopes).toBeUndefined();
    expect(error.dpopNonce).toBeUndefined();
    expect(error.stepUp).toBeUndefined();
    expect(error.retryAfter).toBeUndefined();
  });

  it('sanitizes the description it is given (message and description alike)', () => {
    const error = new AuthError('invalid_request', 'credentials.malformed', 'bad "x"\\y\n');
    expect(error.description).toBe("bad 'x'/y");
    expect(error.message).toBe(error.description);
  });
});

describe('AuthError.toJSON', () => {
  it('is exactly the RFC 6750 §3 body: error and error_description, nothing internal', () => {
    const error = new AuthError('insufficient_scope', 'scope.insufficient', 'Insufficient scope', {
      scheme: 'dpop',
      requiredScopes: ['read:a'],
      cause: new Error('secret internals'),
    });
    expect(error.toJSON()).toEqual({ error: 'insufficient_scope', error_description: 'Insufficient scope' });
    const json = JSON.stringify(error);
    expect(JSON.parse(json)).toEqual({ error: 'insufficient_scope', error_description: 'Insufficient scope' });
    expect(json).not.toContain('secret');
    expect(json).not.toContain('scope.insufficient');
  });
});

describe('AuthError.onScheme', () => {
  it('returns a copy on the given scheme, keeping every detail, when the error had no scheme', () => {
    const cause = new Error('c');
    const original = new AuthError('use_dpop_nonce', 'proof.nonce', 'Use the nonce', {
      requiredScopes: ['a', 'b'],
      retryAfter: 3,
      dpopNonce: 'n-1',
      stepUp: { acrValues: ['mfa'], maxAge: 60 },
      cause,
    });
    const copy = original.onScheme('dpop');
    expect(copy).not.toBe(original);
    expect(copy).toBeInstanceOf(AuthError);
    expect(copy.scheme).toBe('dpop');
    expect(original.scheme).toBeUndefined();
    expect(copy.code).toBe('use_dpop_nonce');
    expect(copy.status).toBe(401);
    expect(copy.reason).toBe('proof.nonce');
    expect(copy.description).toBe('Use the nonce');
    expect(copy.requiredScopes).toEqual(['a', 'b']);
    expect(copy.retryAfter).toBe(3);
    expect(copy.dpopNonce).toBe('n-1');
    expect(copy.stepUp).toEqual({ acrValues: ['mfa'], maxAge: 60 });
    expect(copy.cause).toBe(cause);
  });

  it('returns the error itself when it already has a scheme', () => {
    const original = new AuthError('invalid_token', 'token.expired', 'Expired', { scheme: 'bearer' });
    expect(original.onScheme('dpop')).toBe(original);
    expect(original.onScheme('dpop').scheme).toBe('bearer');
  });

  it('does not add a cause when the original had none', () => {
    expect('cause' in new AuthError('invalid_token', 'token.expired', 'E').onScheme('bearer')).toBe(false);
  });
});

describe('sanitizeDescription (RFC 6750 §3: %x20-21 / %x23-5B / %x5D-7E)', () => {
  it('turns double quotes into apostrophes and backslashes into slashes', () => {
    expect(sanitizeDescription('say "hi" \\ there')).toBe("say 'hi' / there");
  });

  it('drops control characters, DEL and non-ASCII', () => {
    expect(sanitizeDescription('a\r\nb\tc\x00d\x7fe\u00e9f\u2028g\ud83d\ude00h')).toBe('abcdefgh');
  });

  it('keeps every allowed printable character', () => {
    let allowed = '';
    for (let c = 0x20; c <= 0x7e; c++) if (c !== 0x22 && c !== 0x5c) allowed += String.fromCharCode(c);
    expect(sanitizeDescription(allowed)).toBe(allowed);
  });

  it('keeps 200 characters as they are and cuts longer text to 200 ending in "..."', () => {
    const exact = 'a'.repeat(200);
    expect(sanitizeDescription(exact)).toBe(exact);
    const cut = sanitizeDescription('b'.repeat(201));
    expect(cut).toHaveLength(200);
    expect(cut).toBe(`${'b'.repeat(197)}...`);
  });

  it('measures the length after cleaning (dropped characters do not count)', () => {
    const text = `${'c'.repeat(200)}${'\n'.repeat(50)}`;
    expect(sanitizeDescription(text)).toBe('c'.repeat(200));
  });

  it('never outputs a character outside the RFC 6750 set', () => {
    let every = '';
    for (let c = 0; c < 0x300; c++) every += String.fromCharCode(c);
    expect(sanitizeDescription(every)).toMatch(/^[\x20\x21\x23-\x5b\x5d-\x7e]*$/);
  });
});

describe('AUTH_FAILURE_REASONS', () => {
  it('has unique `<what>.<failure>` values (and "internal")', () => {
    expect(new Set(AUTH_FAILURE_REASONS).size).toBe(AUTH_FAILURE_REASONS.length);
    for (const reason of AUTH_FAILURE_REASONS) {
      expect(reason === 'internal' || /^[a-z_]+\.[a-z_]+$/.test(reason), reason).toBe(true);
    }
  });
});

describe('ConfigurationError', () => {
  it('is one line naming the library, the option and the fix', () => {
    const error = new ConfigurationError('audience', 'set it to your API identifier');
    expect(error).toBeInstanceOf(Error);
    expect(error.name).toBe('ConfigurationError');
    expect(error.option).toBe('audience');
    expect(error.message).toBe('auth0-tsoa-api: invalid option "audience": set it to your API identifier');
    expect(error.message).not.toContain('\n');
  });
});

describe('ReplayStoreError', () => {
  it('defaults to Retry-After 1 and not a quota refusal', () => {
    const error = new ReplayStoreError('down');
    expect(error).toBeInstanceOf(Error);
    expect(error.name).toBe('ReplayStoreError');
    expect(error.message).toBe('down');
    expect(error.retryAfter).toBe(1);
    expect(error.quota).toBe(false);
    expect('cause' in error).toBe(false);
  });

  it.each([
    [0, 1],
    [-5, 1],
    [0.2, 1],
    [1, 1],
    [1.01, 2],
    [2.5, 3],
    [30, 30],
  ])('rounds retryAfter %d up to a whole second, at least 1 → %i', (given, expected) => {
    expect(new ReplayStoreError('x', { retryAfter: given }).retryAfter).toBe(expected);
  });

  it('keeps quota and cause', () => {
    const cause = new Error('ECONNREFUSED');
    const error = new ReplayStoreError('full', { quota: true, cause });
    expect(error.quota).toBe(true);
    expect(error.cause).toBe(cause);
  });
});

describe('ProviderFetchError', () => {
  it('carries the URL, the reason and the detail as its message', () => {
    const error = new ProviderFetchError('https://issuer.example/.well-known/jwks.json', 'too_large', 'over 1 MiB');
    expect(error).toBeInstanceOf(Error);
    expect(error.name).toBe('ProviderFetchError');
    expect(error.url).toBe('https://issuer.example/.well-known/jwks.json');
    expect(error.reason).toBe('too_large');
    expect(error.message).toBe('over 1 MiB');
  });
});
