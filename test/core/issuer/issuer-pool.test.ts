/**
 * `ready()` (issuer-pool.ts, exposed as `ApiValidator.ready()` and `Auth0Api.ready()`): discovery and keys loaded at
 * start-up, so that the first request fetches nothing; a provider down at start-up rejects ready() with the same 503
 * a request gets, and requests answer 503 until it is back. Fetches are counted through the `fetch` option, against
 * the real local test issuer. `verifiedClient(iss)`: the client a token exchange uses, only ever one already accepted.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { TestIssuer } from '../../support/test-issuer.js';
import { createValidator } from '../../../src/core/validator.js';
import { AuthError } from '../../../src/core/errors.js';
import { resolveConfig, type ApiOptions } from '../../../src/core/config.js';
import { buildServices } from '../../../src/core/services.js';

const AUDIENCE = 'https://api.example.com';
const URL_ = 'https://api.example.com/api/private';

let issuer: TestIssuer;
let other: TestIssuer;

beforeAll(async () => {
  issuer = await TestIssuer.start();
  other = await TestIssuer.start();
});
afterAll(async () => {
  await issuer?.close();
  await other?.close();
});
beforeEach(() => {
  for (const i of [issuer, other]) {
    i.discoveryFault = { kind: 'none' };
    i.jwksFault = { kind: 'none' };
  }
});

/** A validator whose every discovery/JWKS fetch is recorded (URL paths). */
function counted(options: Partial<ApiOptions> = {}) {
  const fetched: string[] = [];
  const validator = createValidator({
    domain: issuer.origin,
    audience: AUDIENCE,
    timeout: 300,
    cooldown: 0.1,
    fetch: (input, init) => {
      fetched.push(new URL(String(input instanceof Request ? input.url : input)).pathname);
      return fetch(input, init);
    },
    ...options,
  });
  return { validator, fetched };
}

async function status(validator: ReturnType<typeof createValidator>, token: string): Promise<number> {
  try {
    await validator.verifyRequest({ method: 'GET', url: URL_, headers: { authorization: `Bearer ${token}` } });
    return 200;
  } catch (error) {
    return (error as AuthError).status;
  }
}

describe('ready(): discovery and keys before the first request', () => {
  it('fetches discovery and the JWKS once; the first request after it fetches nothing', async () => {
    const { validator, fetched } = counted();
    await validator.ready();
    expect(fetched).toEqual(['/.well-known/openid-configuration', '/.well-known/jwks.json']);
    expect(await status(validator, await issuer.token(AUDIENCE))).toBe(200);
    await validator.ready(); // loaded: nothing more
    expect(fetched).toHaveLength(2);
  });

  it('without ready(), the first request is the one that fetches (what ready() moves to start-up)', async () => {
    const { validator, fetched } = counted();
    expect(fetched).toEqual([]);
    expect(await status(validator, await issuer.token(AUDIENCE))).toBe(200);
    expect(fetched).toHaveLength(2);
  });

  it('every configured domain is loaded', async () => {
    const { validator, fetched } = counted({ domain: undefined, domains: [issuer.origin, other.origin] });
    await validator.ready();
    expect(fetched.sort()).toEqual(['/.well-known/jwks.json', '/.well-known/jwks.json', '/.well-known/openid-configuration', '/.well-known/openid-configuration']);
    expect(await status(validator, await other.token(AUDIENCE))).toBe(200);
    expect(fetched).toHaveLength(4);
  });

  it('provider down: ready() rejects with the 503 AuthError, requests answer 503, and pass once it is back', async () => {
    issuer.discoveryFault = { kind: 'status', status: 503 };
    const { validator } = counted();
    const error = await validator.ready().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(AuthError);
    expect(error).toMatchObject({ status: 503, code: 'temporarily_unavailable', reason: 'provider.unavailable' });
    expect(await status(validator, await issuer.token(AUDIENCE))).toBe(503);
    issuer.discoveryFault = { kind: 'none' };
    await new Promise((r) => setTimeout(r, 150)); // one retry interval
    expect(await status(validator, await issuer.token(AUDIENCE))).toBe(200);
  });

  it('keys down (discovery up): ready() rejects with 503 too', async () => {
    issuer.jwksFault = { kind: 'status', status: 500 };
    const { validator } = counted();
    await expect(validator.ready()).rejects.toMatchObject({ status: 503, reason: 'provider.unavailable' });
  });
});

describe('verifiedClient(iss): the client of an issuer already accepted, never a new one', () => {
  const poolOf = (options: Partial<ApiOptions>) => buildServices(resolveConfig({ audience: AUDIENCE, ...options })).issuers;
  const request = { url: URL_, headers: {} };

  it('one domain: its client, whatever the iss says', () => {
    const pool = poolOf({ domain: issuer.origin });
    expect(pool.verifiedClient('https://elsewhere.example/')?.origin).toBe(issuer.origin);
  });

  it('several domains: the one the iss names; none for an iss outside them', () => {
    const pool = poolOf({ domains: [issuer.origin, other.origin] });
    expect(pool.verifiedClient(`${other.origin}/`)?.origin).toBe(other.origin);
    expect(pool.verifiedClient(`${issuer.origin}/`)?.origin).toBe(issuer.origin);
    expect(pool.verifiedClient('https://elsewhere.example/')).toBeUndefined();
    expect(pool.verifiedClient(42)).toBeUndefined();
  });

  it('a resolver: none before the resolver accepted the issuer (no client is created), then the one select() made', async () => {
    const pool = poolOf({ domains: () => [other.origin] });
    expect(pool.verifiedClient(`${other.origin}/`)).toBeUndefined();
    expect(pool.peek(other.origin)).toBeUndefined();
    const selected = await pool.select(`${other.origin}/`, request);
    expect(pool.verifiedClient(`${other.origin}/`)).toBe(selected);
  });
});
