/**
 * When the development issuer must not run (src/dev/environment.ts, docs/decisions.md D16): a production-like
 * `NODE_ENV` (`production` or `prod`, trimmed, any case) or an `https://` `AUTH0_PUBLIC_URL`; the refusal is one line
 * naming AUTH0_DOMAIN.
 */
import { describe, expect, it } from 'vitest';
import { DevIssuerRefusedError, assertDevelopmentEnvironment, devIssuerRefusalReason, isProductionLike } from '../../src/dev/environment.js';

describe('isProductionLike', () => {
  it.each(['production', ' PRODUCTION ', 'Prod', 'prod\n', 'PROD', '\tProduction'])('%j counts as production', (value) => {
    expect(isProductionLike({ NODE_ENV: value })).toBe(true);
  });

  it.each([undefined, '', 'development', 'test', 'staging', 'producti0n', 'preprod', 'production2', 'pro d', 'prd'])('%j does not', (value) => {
    expect(isProductionLike({ NODE_ENV: value })).toBe(false);
  });

  it("ignores AUTH0_PUBLIC_URL (that is the refusal reason's job)", () => {
    expect(isProductionLike({ NODE_ENV: 'development', AUTH0_PUBLIC_URL: 'https://api.example.com' })).toBe(false);
  });

  it('reads process.env by default', () => {
    const previous = process.env.NODE_ENV;
    try {
      process.env.NODE_ENV = ' Prod ';
      expect(isProductionLike()).toBe(true);
      process.env.NODE_ENV = 'test';
      expect(isProductionLike()).toBe(false);
    } finally {
      process.env.NODE_ENV = previous;
    }
  });
});

describe('devIssuerRefusalReason', () => {
  it.each([
    [{ NODE_ENV: 'prod' }, 'NODE_ENV is "prod"'],
    [{ NODE_ENV: ' Production ' }, 'NODE_ENV is " Production "'],
    [{ AUTH0_PUBLIC_URL: 'https://api.example.com' }, 'AUTH0_PUBLIC_URL is an https:// URL (https://api.example.com)'],
    [{ AUTH0_PUBLIC_URL: '  HTTPS://api.example.com/v1  ' }, 'AUTH0_PUBLIC_URL is an https:// URL (HTTPS://api.example.com/v1)'],
    [{ NODE_ENV: 'production', AUTH0_PUBLIC_URL: 'https://api.example.com' }, 'NODE_ENV is "production"'],
  ])('%j → %s', (env, reason) => {
    expect(devIssuerRefusalReason(env)).toBe(reason);
  });

  it.each([
    {},
    { NODE_ENV: 'development' },
    { AUTH0_PUBLIC_URL: 'http://127.0.0.1:3000' },
    { AUTH0_PUBLIC_URL: 'http://api.example.com' }, // plain http is not "published over TLS"
    { AUTH0_PUBLIC_URL: 'api.example.com' },
    { AUTH0_PUBLIC_URL: '' },
  ])('%j → may start', (env) => {
    expect(devIssuerRefusalReason(env)).toBeUndefined();
  });
});

describe('assertDevelopmentEnvironment', () => {
  it('throws one line naming the reason and AUTH0_DOMAIN', () => {
    let error: unknown;
    try {
      assertDevelopmentEnvironment({ NODE_ENV: 'prod' });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(DevIssuerRefusedError);
    expect((error as Error).name).toBe('DevIssuerRefusedError');
    expect((error as Error).message).toBe('auth0-tsoa-api: the development issuer does not run when NODE_ENV is "prod": set AUTH0_DOMAIN (and AUTH0_AUDIENCE) to your Auth0 tenant, e.g. tenant.us.auth0.com');
  });

  it('throws for an https:// public URL', () => {
    expect(() => assertDevelopmentEnvironment({ AUTH0_PUBLIC_URL: 'https://api.example.com' })).toThrow(DevIssuerRefusedError);
  });

  it('returns quietly in development', () => {
    expect(() => assertDevelopmentEnvironment({ NODE_ENV: 'development', AUTH0_PUBLIC_URL: 'http://localhost:3000' })).not.toThrow();
  });
});
