/**
 * Configuration is data; services are built once (src/core/services.ts): `resolveConfig` builds nothing, a validator
 * builds one telemetry and one issuer pool and its parts share them, and an application's replay store is used as
 * given while each validator gets its own default one.
 */
import { describe, expect, it, vi } from 'vitest';
import { resolveConfig } from '../../src/core/config.js';
import { buildServices } from '../../src/core/services.js';
import { AuthError, ConfigurationError, MemoryReplayStore, claimCheck, claimEquals, createValidator, type ApiOptions } from '../../src/core/index.js';
import type { ReplayRecord, ReplayStore } from '../../src/core/dpop/replay-store.js';
import type { VerifiedProof } from '../../src/core/dpop/dpop-proof.js';

// Counts constructions; the counted classes behave exactly as the real ones.
const built = vi.hoisted(() => ({ telemetry: 0, pools: 0 }));
vi.mock('../../src/core/observability/telemetry.js', async (importOriginal) => {
  const actual = await importOriginal<typeof import('../../src/core/observability/telemetry.js')>();
  class Telemetry extends actual.Telemetry {
    constructor() {
      super();
      built.telemetry++;
    }
  }
  return { ...actual, Telemetry };
});
vi.mock('../../src/core/issuer/issuer-pool.js', async (importOriginal) => {
  const actual = await importOriginal<typeof import('../../src/core/issuer/issuer-pool.js')>();
  class IssuerPool extends actual.IssuerPool {
    constructor(...args: ConstructorParameters<typeof actual.IssuerPool>) {
      super(...args);
      built.pools++;
    }
  }
  return { ...actual, IssuerPool };
});

const AUDIENCE = 'https://api.example.com';
const BASE: ApiOptions = { domain: 'tenant.example.com', audience: AUDIENCE };
const NOW = Math.floor(Date.now() / 1000);
const proof = (jti = 'jti-1', nonce: unknown = undefined): VerifiedProof => ({ thumbprint: 'thumb', jti, iat: NOW, nonce, payload: {} });
const CLAIMS = { iss: 'https://tenant.example.com/', sub: 'auth0|user', aud: AUDIENCE, exp: NOW + 60, iat: NOW };

/** Every value in `value` that is not plain data: class instances (by constructor name) and functions not in `allowed`. */
function notData(value: unknown, allowed: ReadonlySet<unknown>, path = 'config', found: string[] = []): string[] {
  if (typeof value === 'function') {
    if (!allowed.has(value)) found.push(`${path}: a function the user did not pass`);
    return found;
  }
  if (value === null || typeof value !== 'object') return found;
  if (value instanceof URL) return found;
  const proto = Object.getPrototypeOf(value) as object | null;
  if (value instanceof Map) {
    for (const [k, v] of value) notData(v, allowed, `${path}.get(${String(k)})`, found);
    return found;
  }
  if (proto !== Object.prototype && proto !== Array.prototype && proto !== null) {
    found.push(`${path}: an instance of ${value.constructor?.name ?? 'a class'}`);
    return found;
  }
  for (const [k, v] of Object.entries(value)) notData(v, allowed, `${path}.${k}`, found);
  return found;
}

/** A copy of a resolved configuration without functions and with URLs as strings: what structuredClone must take. */
function withoutFunctions(value: unknown): unknown {
  if (typeof value === 'function') return undefined;
  if (value instanceof URL) return value.href;
  if (value instanceof Map) return new Map([...value].map(([k, v]) => [k, withoutFunctions(v)]));
  if (Array.isArray(value)) return value.map(withoutFunctions);
  if (value !== null && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, withoutFunctions(v)]));
  return value;
}

describe('configuration is data', () => {
  it('resolveConfig builds no services: no telemetry, no issuer pool, no stores, only data and the functions the user passed', () => {
    const onEvent = () => {};
    const fetchImpl = (async () => new Response('{}')) as typeof fetch;
    const resolver = () => ['tenant.example.com'];
    const vip = claimEquals('plan', 'vip');
    const custom = claimCheck((claims) => claims.sub !== undefined);
    const before = { ...built };
    const config = resolveConfig({
      domains: resolver,
      audience: [AUDIENCE],
      fetch: fetchImpl,
      onEvent,
      publicUrl: 'https://api.example.com',
      scopes: { 'read:messages': 'Read messages' },
      policies: { vip: { scopes: 'read:messages', claims: [vip, custom], organization: { param: 'orgId' } } },
      dpop: { mode: 'required', nonce: { secret: 'x'.repeat(32) } },
      mtls: { mode: 'allowed' },
      tokenCache: { maxEntries: 10 },
    });
    expect(built).toEqual(before);
    expect(notData(config, new Set([onEvent, fetchImpl, resolver, ...[vip, custom].flatMap((rule) => Object.values(rule))]))).toEqual([]);
    expect(() => structuredClone(withoutFunctions(config))).not.toThrow();
    expect(config.onEvent).toBe(onEvent);
    expect(config.dpop.nonce).toEqual({ secret: 'x'.repeat(32) });
    expect(config.dpop.replayStore).toBeUndefined();
  });

  it('the defaults are data too (the global fetch is the one function), and `nonce: true` is the empty nonce options', () => {
    const config = resolveConfig({ ...BASE, dpop: { nonce: true } });
    expect(notData(config, new Set([globalThis.fetch]))).toEqual([]);
    expect(config.dpop.nonce).toEqual({});
    expect(config.onEvent).toBeUndefined();
  });

  it('still refuses a bad nonce secret at resolveConfig, without building a nonce manager', () => {
    const error = (() => {
      try {
        resolveConfig({ ...BASE, dpop: { nonce: { secret: 'short' } } });
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(ConfigurationError);
    expect((error as ConfigurationError).option).toBe('dpop.nonce.secret');
  });
});

describe('services are built once', () => {
  it('a validator builds one telemetry and one issuer pool; another validator builds its own', () => {
    const before = { ...built };
    createValidator(BASE);
    expect(built).toEqual({ telemetry: before.telemetry + 1, pools: before.pools + 1 });
    createValidator(BASE);
    expect(built).toEqual({ telemetry: before.telemetry + 2, pools: before.pools + 2 });
  });

  it("a validator's parts share its services (one telemetry, one event sink, one pool)", () => {
    interface Internals {
      telemetry: unknown;
      emit: unknown;
      issuers: unknown;
      tokens: { issuers: unknown; telemetry: unknown };
      dpop: { services: { telemetry: unknown; emit: unknown } };
    }
    const v = createValidator(BASE) as unknown as Internals;
    expect(v.tokens.issuers).toBe(v.issuers);
    expect(v.tokens.telemetry).toBe(v.telemetry);
    expect(v.dpop.services.telemetry).toBe(v.telemetry);
    expect(v.dpop.services.emit).toBe(v.emit);
  });

  it('building services leaves the configuration as it was', () => {
    const config = resolveConfig({ ...BASE, dpop: { nonce: true } });
    const copy = structuredClone(withoutFunctions(config));
    buildServices(config);
    expect(withoutFunctions(config)).toEqual(copy);
  });
});

describe('replay stores', () => {
  it("an application's replay store is used as given: the same object, and every accepted proof is checked in it", async () => {
    const records: ReplayRecord[] = [];
    const checkAndRemember = vi.fn(async (record: ReplayRecord) => {
      const fresh = !records.some((r) => r.key === record.key);
      records.push(record);
      return fresh;
    });
    const store: ReplayStore = { checkAndRemember };
    const config = resolveConfig({ ...BASE, dpop: { replayStore: store } });
    expect(config.dpop.replayStore).toBe(store);
    const services = buildServices(config);
    expect(services.replayStore).toBe(store);

    await expect(services.dpop.accept(proof('a'), CLAIMS)).resolves.toEqual({});
    expect(checkAndRemember).toHaveBeenCalledTimes(1);
    const replay = await services.dpop.accept(proof('a'), CLAIMS).catch((e: unknown) => e);
    expect(replay).toBeInstanceOf(AuthError);
    expect((replay as AuthError).reason).toBe('proof.replay');
    expect(checkAndRemember).toHaveBeenCalledTimes(2);
  });

  it('without one, each validator gets its own in-memory store: a proof used with one is still fresh for another', async () => {
    const config = resolveConfig(BASE);
    const one = buildServices(config);
    const two = buildServices(config);
    expect(one.replayStore).toBeInstanceOf(MemoryReplayStore);
    expect(two.replayStore).toBeInstanceOf(MemoryReplayStore);
    expect(one.replayStore).not.toBe(two.replayStore);
    await one.dpop.accept(proof('b'), CLAIMS);
    await expect(two.dpop.accept(proof('b'), CLAIMS)).resolves.toEqual({});
    await expect(one.dpop.accept(proof('b'), CLAIMS)).rejects.toMatchObject({ reason: 'proof.replay' });
  });

  it('the nonce manager is built from the `dpop.nonce` data: a proof without a nonce is asked for one', async () => {
    const services = buildServices(resolveConfig({ ...BASE, dpop: { nonce: true } }));
    const refused = await services.dpop.accept(proof('c'), CLAIMS).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(AuthError);
    expect((refused as AuthError).code).toBe('use_dpop_nonce');
    expect((refused as AuthError).dpopNonce).toMatch(/^[0-9a-z]+\.[A-Za-z0-9_-]{32}$/);
    await expect(buildServices(resolveConfig(BASE)).dpop.accept(proof('c'), CLAIMS)).resolves.toEqual({});
  });
});
