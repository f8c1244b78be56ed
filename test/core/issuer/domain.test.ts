/**
 * Issuer domains as settings (src/core/issuer/domain.ts): a bare domain or an https URL becomes an origin; plain
 * http only for loopback hosts; paths, queries, fragments, credentials and control characters are refused at
 * start-up with one ConfigurationError line naming the option and the fix.
 */
import { describe, expect, it } from 'vitest';
import { ConfigurationError } from '../../../src/core/errors.js';
import { describe as describeValue, isLoopbackHost, normalizeDomain } from '../../../src/core/issuer/domain.js';

function refusal(value: unknown, option?: string): ConfigurationError {
  try {
    normalizeDomain(value, option);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigurationError);
    const e = error as ConfigurationError;
    expect(e.message).not.toMatch(/[\r\n]/);
    return e;
  }
  throw new Error(`accepted ${String(value)}`);
}

describe('isLoopbackHost', () => {
  it.each([
    ['localhost', true],
    ['LOCALHOST', true],
    ['127.0.0.1', true],
    ['127.1.2.3', true],
    ['[::1]', true],
    ['::1', false], // URL hostnames keep the brackets
    ['localhost.example.com', false],
    ['mylocalhost', false],
    ['128.0.0.1', false],
    ['127.0.0.1.nip.io', false],
    ['10.0.0.1', false],
    ['0.0.0.0', false],
    ['', false],
  ])('%j → %s', (host, expected) => {
    expect(isLoopbackHost(host)).toBe(expected);
  });
});

describe('normalizeDomain: accepted values become origins', () => {
  it.each([
    ['tenant.us.auth0.com', 'https://tenant.us.auth0.com'],
    ['  tenant.us.auth0.com  ', 'https://tenant.us.auth0.com'],
    ['Tenant.Auth0.com', 'https://tenant.auth0.com'],
    ['https://tenant.auth0.com', 'https://tenant.auth0.com'],
    ['HTTPS://Tenant.auth0.com/', 'https://tenant.auth0.com'],
    ['https://tenant.auth0.com:443/', 'https://tenant.auth0.com'],
    ['tenant.auth0.com:8443', 'https://tenant.auth0.com:8443'],
    ['http://localhost:3000', 'http://localhost:3000'],
    ['http://127.0.0.1:4000/', 'http://127.0.0.1:4000'],
    ['http://[::1]:4000', 'http://[::1]:4000'],
    ['localhost:3000', 'https://localhost:3000'], // no scheme: https, even for loopback
  ])('%j → %s', (value, origin) => {
    expect(normalizeDomain(value)).toBe(origin);
  });
});

describe('normalizeDomain: refused values', () => {
  it.each([undefined, null, '', '   ', 'undefined', 'null', 42, {}])('refuses a missing value %j, hinting at the environment variable', (value) => {
    const e = refusal(value);
    expect(e.option).toBe('domain');
    expect(e.message).toMatch(/^auth0-tsoa-api: invalid option "domain": expected your Auth0 domain such as "tenant\.us\.auth0\.com", got .* \(is the environment variable set\?\)$/);
  });

  it('describes what it got', () => {
    expect(refusal(undefined).message).toContain('got undefined');
    expect(refusal('null').message).toContain('got "null"');
    expect(refusal(42).message).toContain('got number');
  });

  it('names the option it is given', () => {
    const e = refusal('', 'issuers[1].domain');
    expect(e.option).toBe('issuers[1].domain');
    expect(e.message).toContain('invalid option "issuers[1].domain"');
  });

  it.each(['http://tenant.auth0.com', 'http://10.0.0.1', 'http://localhost.evil.example'])('refuses plain http for %j (not loopback)', (value) => {
    expect(refusal(value).message).toContain('uses http://; use https://');
  });

  it.each(['tenant.auth0.com/api', 'https://tenant.auth0.com/a/b', 'https://tenant.auth0.com/.well-known/openid-configuration'])('refuses a path: %j', (value) => {
    expect(refusal(value).message).toContain('has a path');
  });

  it.each(['tenant.auth0.com?x=1', 'https://tenant.auth0.com/?', 'tenant.auth0.com#frag', 'https://tenant.auth0.com/#'])('refuses a query or fragment: %j', (value) => {
    expect(refusal(value).message).toContain('has a query or fragment');
  });

  it.each(['user:pass@tenant.auth0.com', 'https://user@tenant.auth0.com'])('refuses credentials: %j', (value) => {
    expect(refusal(value).message).toContain('contains credentials');
  });

  it.each(['tenant\nevil.example', 'tenant\t.auth0.com', 'tenant.auth0.com\x00', 'tenant\x7f.auth0.com'])('refuses control characters: %j', (value) => {
    const e = refusal(value);
    expect(e.message).toContain('contains control characters');
    expect(e.message).not.toContain('evil');
  });

  it.each(['ftp://tenant.auth0.com', 'wss://tenant.auth0.com'])('refuses another scheme: %j', (value) => {
    expect(refusal(value).message).toContain('must be an https:// URL or a bare host');
  });

  it.each(['tenant auth0.com', 'https://', 'tenant.auth0.com:99999'])('refuses an invalid domain: %j', (value) => {
    expect(refusal(value).message).toContain('is not a valid domain');
  });
});

describe('describe (a setting as an error message shows it)', () => {
  it.each([
    [undefined, 'undefined'],
    ['x"y', '"x\\"y"'],
    ['', '""'],
    [null, 'object'],
    [3, 'number'],
    [true, 'boolean'],
    [{ secret: 's' }, 'object'],
  ])('%j → %s', (value, shown) => {
    expect(describeValue(value)).toBe(shown);
  });
});
