/**
 * Configuration: domain normalization and option checks. A wrong option fails at construction with one line that
 * names the option and says how to fix it.
 */
import { describe, expect, it } from 'vitest';
import { ConfigurationError, MemoryReplayStore, type ApiOptions } from '../../src/core/index.js';
import { normalizeDomain, resolveConfig } from '../../src/core/config.js';
import { buildServices } from '../../src/core/services.js';

const AUDIENCE = 'https://api.example.com';

/** Runs `fn`, expects a ConfigurationError, and returns it. */
function configError(fn: () => unknown): ConfigurationError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigurationError);
    return error as ConfigurationError;
  }
  throw new Error('expected a ConfigurationError');
}

describe('normalizeDomain: accepted forms become an origin', () => {
  it.each([
    ['tenant.us.auth0.com', 'https://tenant.us.auth0.com'],
    ['https://tenant.us.auth0.com', 'https://tenant.us.auth0.com'],
    ['https://tenant.us.auth0.com/', 'https://tenant.us.auth0.com'],
    ['HTTPS://Tenant.US.Auth0.com/', 'https://tenant.us.auth0.com'],
    ['  tenant.us.auth0.com  ', 'https://tenant.us.auth0.com'],
    ['tenant.us.auth0.com/', 'https://tenant.us.auth0.com'],
    ['https://tenant.us.auth0.com:443', 'https://tenant.us.auth0.com'],
    ['https://login.example.com:8443', 'https://login.example.com:8443'],
    ['http://127.0.0.1:4001', 'http://127.0.0.1:4001'],
    ['http://localhost:4001', 'http://localhost:4001'],
    ['http://LOCALHOST:4001/', 'http://localhost:4001'],
    ['http://[::1]:4001', 'http://[::1]:4001'],
  ])('%j → %s', (input, origin) => {
    expect(normalizeDomain(input)).toBe(origin);
  });
});

describe('normalizeDomain: rejected forms name the option and the fix', () => {
  it.each([
    ['a path', 'https://tenant.us.auth0.com/api', /has a path/],
    ['a bare host with a path', 'tenant.us.auth0.com/oauth/token', /has a path/],
    ['a query', 'tenant.us.auth0.com?x=1', /query or fragment/],
    ['a fragment', 'https://tenant.us.auth0.com/#x', /query or fragment/],
    ['credentials', 'https://user:pass@tenant.us.auth0.com', /credentials/],
    ['http:// for a public host', 'http://tenant.us.auth0.com', /uses http:\/\/; use https:\/\//],
    ['http:// for a host that only starts like loopback', 'http://127.0.0.1.evil.example', /uses http:\/\//],
    ['http:// for localhost.<domain>', 'http://localhost.evil.example', /uses http:\/\//],
    ['another scheme', 'ftp://tenant.us.auth0.com', /https:\/\/ URL or a bare host/],
    ['not a URL', 'https://', /not a valid domain/],
    ['a space inside', 'tenant .us.auth0.com', /not a valid domain/],
    ['an empty string', '', /is the environment variable set/],
    ['the string "undefined"', 'undefined', /is the environment variable set/],
    ['undefined', undefined, /got undefined/],
    ['a number', 42, /got number/],
  ])('%s (%j)', (_what, input, message) => {
    const error = configError(() => normalizeDomain(input, 'AUTH0_DOMAIN'));
    expect(error.option).toBe('AUTH0_DOMAIN');
    expect(error.message).toMatch(/^auth0-tsoa-api: invalid option "AUTH0_DOMAIN": /);
    expect(error.message).toMatch(message);
    expect(error.message).not.toMatch(/[\r\n]/);
  });

  it.each([
    ['a newline', 'tenant.us.auth0.com\nevil.example'],
    ['a tab', 'tenant.us\t.auth0.com'],
    ['a NUL byte', 'tenant.us.auth0.com\u0000'],
  ])('rejects control characters inside the value (%s) instead of letting URL parsing drop them', (_what, input) => {
    const error = configError(() => normalizeDomain(input, 'domain'));
    expect(error.message).toMatch(/control characters/);
    expect(error.message).not.toMatch(/[\r\n\t\u0000]/);
  });
});

describe('resolveConfig', () => {
  const base: ApiOptions = { domain: 'tenant.us.auth0.com', audience: AUDIENCE };

  it('applies the documented defaults', () => {
    const config = resolveConfig(base);
    expect(config).toMatchObject({
      domains: { kind: 'single', origin: 'https://tenant.us.auth0.com' },
      audiences: [AUDIENCE],
      algorithms: ['RS256'],
      clockTolerance: 5,
      maxTokenAge: undefined,
      strict: false,
      scopeClaim: 'scope',
      issuer: { timeout: 5000, cooldown: 30, maxResponseBytes: 1024 * 1024, cacheMaxAge: 600, maxStaleness: 3600 },
      resourceMetadataPath: '/.well-known/oauth-protected-resource',
      dpop: { mode: 'allowed', algorithms: ['ES256'], iatLeeway: 30, iatOffset: 300, onStoreError: 'reject', nonce: undefined },
      mtls: { mode: 'disabled' },
    });
    expect(config.issuer.fetch).toBe(globalThis.fetch);
    // Configuration is data: the default replay store is left to buildServices, which makes it in memory.
    expect(config.dpop.replayStore).toBeUndefined();
    expect(buildServices(config).replayStore).toBeInstanceOf(MemoryReplayStore);
  });

  it('accepts an audience list and several domains (de-duplicated, normalized)', () => {
    const config = resolveConfig({
      domains: ['a.example.com', 'https://a.example.com/', 'https://b.example.com'],
      audience: ['https://api.example.com', ' urn:my-api '],
    });
    expect(config.domains).toEqual({ kind: 'list', origins: ['https://a.example.com', 'https://b.example.com'] });
    expect(config.audiences).toEqual(['https://api.example.com', 'urn:my-api']);
  });

  it('names the domain option when the domain is missing (os.getenv style undefined)', () => {
    const error = configError(() => resolveConfig({ audience: AUDIENCE }));
    expect(error.option).toBe('domain');
    expect(error.message).toMatch(/is the environment variable set\?/);
  });

  it('reports a domain with a path under the "domain" option', () => {
    const error = configError(() => resolveConfig({ ...base, domain: 'https://tenant.us.auth0.com/api/v2' }));
    expect(error.option).toBe('domain');
    expect(error.message).toMatch(/use the bare host, e\.g\. "tenant\.us\.auth0\.com"/);
  });

  it.each([
    ['missing', undefined],
    ['empty', ''],
    ['blank', '   '],
    ['"undefined"', 'undefined'],
    ['an empty list', []],
    ['a list with an empty entry', [AUDIENCE, '']],
    ['a number', 5],
  ])('refuses an audience that is %s', (_what, audience) => {
    const error = configError(() => resolveConfig({ domain: base.domain, audience } as unknown as ApiOptions));
    expect(error.option).toBe('audience');
    expect(error.message).toMatch(/is AUTH0_AUDIENCE set\?/);
  });

  it.each([['none'], ['None'], ['HS256'], ['hs512']])('refuses the %s algorithm at start-up', (alg) => {
    const error = configError(() => resolveConfig({ ...base, algorithms: [alg] as never }));
    expect(error.option).toBe('algorithms');
    expect(error.message).toMatch(/only asymmetric algorithms/);
  });

  it('refuses unknown algorithms and empty lists, for tokens and DPoP proofs', () => {
    expect(configError(() => resolveConfig({ ...base, algorithms: ['XS256'] as never })).message).toMatch(/not supported; use one of RS256/);
    expect(configError(() => resolveConfig({ ...base, algorithms: [] })).option).toBe('algorithms');
    expect(configError(() => resolveConfig({ ...base, dpop: { algorithms: ['HS256'] as never } })).option).toBe('dpop.algorithms');
  });

  it.each([
    ['clockTolerance', { clockTolerance: -1 }, /non-negative number of seconds/],
    ['maxTokenAge', { maxTokenAge: 0 }, /positive number of seconds/],
    ['cooldown', { cooldown: Number.NaN }, /non-negative number of seconds/],
    ['timeout', { timeout: -5 }, /positive number of milliseconds/],
    ['maxResponseBytes', { maxResponseBytes: 0 }, /positive number of bytes/],
    ['scopeClaim', { scopeClaim: 'roles' }, /"scope", "permissions" or "scope,permissions"/],
    ['dpop.mode', { dpop: { mode: 'sometimes' } }, /"allowed", "required" or "disabled"/],
    ['publicUrl', { publicUrl: 'api.example.com' }, /not an absolute URL/],
    ['publicUrl', { publicUrl: 'https://api.example.com/?x=1' }, /query or fragment/],
    ['fetch', { fetch: 'yes' }, /fetch-compatible function/],
    ['resourceMetadataPath', { resourceMetadataPath: 'well-known' }, /starting with "\/"/],
    ['domains', { domains: [] }, /is AUTH0_DOMAINS set\?/],
    ['dpop.nonce', { dpop: { nonce: 'yes' } }, /expected true, false or \{ secret \} \/ \{ redis \}/],
    ['dpop.nonce.secret', { dpop: { nonce: { secret: 'short' } } }, /at least 32 random bytes/],
    ['dpop.replayStore', { dpop: { replayStore: {} } }, /checkAndRemember\(record\)/],
    ['onEvent', { onEvent: 'log' }, /expected a function/],
  ])('refuses a bad %s with a message that says what is expected', (option, extra, message) => {
    const error = configError(() => resolveConfig({ ...base, ...extra } as unknown as ApiOptions));
    expect(error.option).toBe(option);
    expect(error.message).toMatch(message);
    expect(error.message.split('\n')).toHaveLength(1);
  });

  it('accepts zero where zero means "off": clock tolerance and cooldown', () => {
    const config = resolveConfig({ ...base, clockTolerance: 0, cooldown: 0 });
    expect(config.clockTolerance).toBe(0);
    expect(config.issuer.cooldown).toBe(0);
  });

  it('refuses a non-object', () => {
    expect(configError(() => resolveConfig(undefined as unknown as ApiOptions)).option).toBe('options');
  });
});
