/**
 * Authorization header parsing (RFC 6750 §2.1, RFC 9110 §11.6.2): header only, scheme case-insensitive,
 * `1*SP` before the token, one token68, one header.
 */
import { describe, expect, it } from 'vitest';
import { AuthError } from '../../../src/core/errors.js';
import { getDpopProof, getHeader, parseAuthorization } from '../../../src/core/http/credentials.js';

const TOKEN = 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln';

function parseError(headers: Record<string, string | string[] | undefined>): AuthError {
  try {
    parseAuthorization(headers);
  } catch (error) {
    expect(error).toBeInstanceOf(AuthError);
    return error as AuthError;
  }
  throw new Error('expected parseAuthorization to throw');
}

describe('parseAuthorization: credentials found', () => {
  it.each([
    ['Bearer', `Bearer ${TOKEN}`, 'bearer'],
    ['lower-case scheme', `bearer ${TOKEN}`, 'bearer'],
    ['upper-case scheme', `BEARER ${TOKEN}`, 'bearer'],
    ['several spaces before the token (1*SP)', `Bearer    ${TOKEN}`, 'bearer'],
    ['surrounding whitespace', `  Bearer ${TOKEN}  `, 'bearer'],
    ['DPoP', `DPoP ${TOKEN}`, 'dpop'],
    ['dpop in lower case', `dpop ${TOKEN}`, 'dpop'],
    ['token68 padding and symbols', 'Bearer abc-._~+/def==', 'bearer'],
  ])('%s', (_what, value, scheme) => {
    const credentials = parseAuthorization({ authorization: value });
    expect(credentials).toEqual({ kind: 'token', scheme, token: value.trim().split(/ +/)[1] });
  });

  it('finds the header whatever the case of its name (plain objects)', () => {
    expect(parseAuthorization({ Authorization: `Bearer ${TOKEN}` })).toMatchObject({ kind: 'token', token: TOKEN });
    expect(getHeader({ 'X-Custom': 'v' }, 'x-custom')).toBe('v');
  });

  it('accepts a single-value array (what Node gives for a repeated-header-aware lookup)', () => {
    expect(parseAuthorization({ authorization: [`Bearer ${TOKEN}`] })).toMatchObject({ kind: 'token', token: TOKEN });
  });
});

describe('parseAuthorization: no credentials (401 without error=)', () => {
  it.each([
    ['no header', {}],
    ['an empty header', { authorization: '' }],
    ['a blank header', { authorization: '   ' }],
    ['an empty list', { authorization: [] as string[] }],
  ])('%s → none', (_what, headers) => {
    expect(parseAuthorization(headers)).toEqual({ kind: 'none' });
  });

  it.each([
    ['Basic x', 'basic'],
    ['Basic dXNlcjpwYXNz', 'basic'],
    ['Basic', 'basic'],
    ['Digest username="x", realm="y"', 'digest'],
    ['Token abc', 'token'],
  ])('%j → unsupported scheme', (value, scheme) => {
    expect(parseAuthorization({ authorization: value })).toEqual({ kind: 'unsupported', scheme });
  });
});

describe('parseAuthorization: malformed credentials → 400 invalid_request', () => {
  it.each([
    ['Bearer with no token', 'Bearer', 'credentials.missing_token'],
    ['Bearer and a space', 'Bearer ', 'credentials.missing_token'],
    ['two tokens', 'Bearer a b', 'credentials.malformed'],
    ['a quoted token', 'Bearer "abc"', 'credentials.malformed'],
    ['a comma-joined second credential', `Bearer ${TOKEN}, Bearer ${TOKEN}`, 'credentials.malformed'],
    ['padding in the middle', 'Bearer ab=c', 'credentials.malformed'],
    ['a tab instead of a space', `Bearer\t${TOKEN}`, 'credentials.malformed'],
    ['no scheme', `=${TOKEN}`, 'credentials.malformed'],
    ['a control character', `Bearer ${TOKEN}\u0001`, 'credentials.malformed'],
  ])('%s', (_what, value, reason) => {
    const error = parseError({ authorization: value });
    expect(error.status).toBe(400);
    expect(error.code).toBe('invalid_request');
    expect(error.reason).toBe(reason);
  });

  it('puts the error on the scheme the client used', () => {
    expect(parseError({ authorization: 'DPoP' }).scheme).toBe('dpop');
    expect(parseError({ authorization: 'Bearer' }).scheme).toBe('bearer');
  });

  it('refuses two Authorization headers', () => {
    const error = parseError({ authorization: [`Bearer ${TOKEN}`, `Bearer ${TOKEN}`] });
    expect(error.status).toBe(400);
    expect(error.code).toBe('invalid_request');
    expect(error.reason).toBe('credentials.duplicate_header');
    expect(error.description).toBe('Several Authorization headers were sent');
  });
});

describe('getDpopProof', () => {
  it('returns the single proof', () => {
    expect(getDpopProof({ dpop: ` ${TOKEN} ` })).toBe(TOKEN);
  });

  it.each([
    ['absent', {}, 'proof.missing'],
    ['empty', { dpop: '' }, 'proof.missing'],
    ['two headers', { dpop: [TOKEN, TOKEN] }, 'proof.multiple'],
    ['comma-joined proofs', { dpop: `${TOKEN}, ${TOKEN}` }, 'proof.multiple'],
  ])('%s → 400 invalid_request on DPoP', (_what, headers, reason) => {
    let error: unknown;
    try {
      getDpopProof(headers);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(AuthError);
    expect(error).toMatchObject({ status: 400, code: 'invalid_request', scheme: 'dpop', reason });
  });
});
