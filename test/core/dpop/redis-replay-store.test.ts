/**
 * RedisReplayStore against real Redis servers: the machine's Redis on 127.0.0.1:6379 for the common cases, and
 * redis-servers started here (free port, no persistence) where the server itself must be configured, frozen, killed,
 * or filled: eviction policies, a disabled CONFIG command, a flushed script cache, outages.
 *
 * (docs/decisions.md D17): one owner (token subject) over its quota is refused alone, with the real
 * wait; and the documented reason why only `maxmemory-policy noeviction` is safe is shown, not just stated.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Cluster, Redis, type RedisOptions } from 'ioredis';
import { RedisReplayStore, type RedisLike } from '../../../src/core/dpop/redis-replay-store.js';
import { ReplayStoreError } from '../../../src/core/errors.js';
import { MemoryReplayStore, type ReplayRecord } from '../../../src/core/dpop/replay-store.js';
import { createValidator } from '../../../src/core/index.js';
import type { AuthEvent } from '../../../src/core/observability/events.js';
import { accessTokenHash } from '../../../src/core/dpop/dpop-proof.js';
import { SignJWT, calculateJwkThumbprint, exportJWK, generateKeyPair } from 'jose';
import { TestIssuer } from '../../support/test-issuer.js';
import { closedPort } from '../../support/helpers.js';
import { freeRedisPort, startRedisServer, waitFor, type RedisProcess } from '../../support/redis-cluster.js';

// ioredis' clients are RedisLike as they are (a compile-time check: tsc fails here if the interface drifts).
export const ioredisFits = (redis: Redis, cluster: Cluster): RedisLike[] => [redis, cluster];

const hash = () => randomBytes(32).toString('base64url');
const TTL = 60_000;
const record = (owner: string, key = hash(), ttlMs = TTL): ReplayRecord => ({ owner, key, iat: Math.floor(Date.now() / 1000), ttlMs });

/** The rejection of a promise that must reject with a ReplayStoreError. */
async function storeError(promise: Promise<unknown>): Promise<ReplayStoreError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ReplayStoreError);
  return error as ReplayStoreError;
}

async function connect(port: number, options: RedisOptions = {}): Promise<Redis> {
  const redis = new Redis({ host: '127.0.0.1', port, lazyConnect: true, ...options });
  redis.on('error', () => {}); // outages are provoked on purpose; the store reports them
  await redis.connect();
  return redis;
}

describe('RedisReplayStore (real Redis on 127.0.0.1:6379)', () => {
  const prefix = `auth0-tsoa-api-test:${randomUUID()}:`;
  let redis: Redis;

  beforeAll(async () => {
    redis = await connect(6379);
  });
  afterAll(async () => {
    if (!redis) return;
    const keys = await redis.keys(`${prefix}*`);
    if (keys.length > 0) await redis.del(...keys);
    redis.disconnect();
  });

  it('answers true for a new proof and false for its replay', async () => {
    const store = new RedisReplayStore(redis, { prefix });
    const owner = hash();
    const first = record(owner);
    expect(await store.checkAndRemember(first)).toBe(true);
    expect(await store.checkAndRemember(first)).toBe(false);
    expect(await store.checkAndRemember({ ...first, iat: first.iat + 1 })).toBe(false); // the key decides, not the iat
    expect(await store.checkAndRemember(record(owner))).toBe(true);
  });

  it('is atomic: one proof sent through five connections at once is accepted exactly once', async () => {
    const clients = await Promise.all(Array.from({ length: 5 }, () => connect(6379)));
    try {
      const stores = clients.map((c) => new RedisReplayStore(c, { prefix }));
      const proof = record(hash());
      const answers = await Promise.all(Array.from({ length: 100 }, (_, i) => stores[i % stores.length]!.checkAndRemember(proof)));
      expect(answers.filter((a) => a === true)).toHaveLength(1);
      expect(answers.filter((a) => a === false)).toHaveLength(99);
    } finally {
      for (const c of clients) c.disconnect();
    }
  });

  it('keeps the proof (value: its iat) and the owner counter under one {owner} hash tag, both with PX ttlMs', async () => {
    const store = new RedisReplayStore(redis, { prefix });
    const proof = record(hash(), hash(), 335_000);
    await store.checkAndRemember(proof);
    await store.checkAndRemember(record(proof.owner, hash(), 335_000));
    await store.checkAndRemember(proof); // a replay is not counted
    const keys = store.keysOf(proof);
    expect(keys).toEqual({ proof: `${prefix}{${proof.owner}}:p:${proof.key}`, counter: `${prefix}{${proof.owner}}:n` });
    expect(await redis.get(keys.proof)).toBe(String(proof.iat));
    expect(await redis.get(keys.counter)).toBe('2');
    for (const key of [keys.proof, keys.counter]) {
      const pttl = await redis.pttl(key);
      expect(pttl).toBeGreaterThan(330_000);
      expect(pttl).toBeLessThanOrEqual(335_000);
    }
  });

  it('uses the default prefix when none is given', async () => {
    const store = new RedisReplayStore(redis);
    const proof = record(hash(), hash(), 5_000);
    const { proof: proofKey, counter } = store.keysOf(proof);
    try {
      expect(proofKey.startsWith('auth0-tsoa-api:dpop:{')).toBe(true);
      expect(await store.checkAndRemember(proof)).toBe(true);
      expect(await redis.pttl(proofKey)).toBeGreaterThan(0);
    } finally {
      await redis.del(proofKey, counter);
    }
  });

  it('forgets a proof once its ttlMs has passed, not before', async () => {
    const store = new RedisReplayStore(redis, { prefix });
    const proof = record(hash(), hash(), 300);
    expect(await store.checkAndRemember(proof)).toBe(true);
    expect(await store.checkAndRemember(proof)).toBe(false);
    await new Promise((r) => setTimeout(r, 400));
    expect(await store.checkAndRemember(proof)).toBe(true);
  });

  it('an owner over maxPerOwner is refused with the real wait; other owners and replays are unaffected', async () => {
    const store = new RedisReplayStore(redis, { prefix, maxPerOwner: 3 });
    const greedy = hash();
    const accepted = [record(greedy), record(greedy), record(greedy)];
    for (const proof of accepted) expect(await store.checkAndRemember(proof)).toBe(true);
    const refused = await storeError(store.checkAndRemember(record(greedy)));
    expect(refused.retryAfter).toBeGreaterThanOrEqual(59); // the counter's remaining window, ceil(~59.99 s)
    expect(refused.retryAfter).toBeLessThanOrEqual(60);
    expect(refused.message).toMatch(/quota/);
    // The quota is per owner: someone else's proof is still accepted, many times over.
    for (let i = 0; i < 10; i++) expect(await store.checkAndRemember(record(hash()))).toBe(true);
    // A replay of the greedy owner's proof is still a replay (401), not a quota 503.
    for (const proof of accepted) expect(await store.checkAndRemember(proof)).toBe(false);
    // The refused proof was not recorded: the counter did not move.
    expect(await redis.get(store.keysOf({ owner: greedy, key: 'x' }).counter)).toBe('3');
  });

  it('retryAfter is the time left in the owner window (not a constant), and the window then reopens', async () => {
    const store = new RedisReplayStore(redis, { prefix, maxPerOwner: 2 });
    const owner = hash();
    expect(await store.checkAndRemember(record(owner, hash(), 2_500))).toBe(true);
    expect(await store.checkAndRemember(record(owner, hash(), 2_500))).toBe(true);
    expect((await storeError(store.checkAndRemember(record(owner, hash(), 2_500)))).retryAfter).toBe(3); // ceil(~2.49 s)
    await new Promise((r) => setTimeout(r, 1_200));
    expect((await storeError(store.checkAndRemember(record(owner, hash(), 2_500)))).retryAfter).toBe(2); // ceil(~1.29 s)
    await new Promise((r) => setTimeout(r, 1_400));
    expect(await store.checkAndRemember(record(owner, hash(), 2_500))).toBe(true);
  });

  it('a flood from one owner records at most maxPerOwner proofs; 20 other owners all get through', async () => {
    const store = new RedisReplayStore(redis, { prefix, maxPerOwner: 100 });
    const flooder = hash();
    const flood = await Promise.allSettled(Array.from({ length: 1_000 }, () => store.checkAndRemember(record(flooder))));
    const others = await Promise.all(Array.from({ length: 20 }, () => store.checkAndRemember(record(hash()))));
    expect(flood.filter((r) => r.status === 'fulfilled' && r.value === true)).toHaveLength(100);
    const refusals = flood.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    expect(refusals).toHaveLength(900);
    for (const r of refusals) expect(r.reason).toBeInstanceOf(ReplayStoreError);
    expect(others).toEqual(Array(20).fill(true));
    const stored = await redis.keys(`${prefix}{${flooder}}:p:*`);
    expect(stored).toHaveLength(100);
  });

  it('repairs an owner counter that lost its TTL instead of refusing that owner forever', async () => {
    const store = new RedisReplayStore(redis, { prefix, maxPerOwner: 5 });
    const owner = hash();
    const { counter } = store.keysOf({ owner, key: 'x' });
    await redis.set(counter, '5'); // e.g. a PERSIST by an operator
    expect((await storeError(store.checkAndRemember(record(owner, hash(), 3_000)))).retryAfter).toBe(3);
    const pttl = await redis.pttl(counter);
    expect(pttl).toBeGreaterThan(2_000);
    expect(pttl).toBeLessThanOrEqual(3_000);
  });

  it('refuses keys that are not bounded base64url before anything reaches Redis', async () => {
    const store = new RedisReplayStore(redis, { prefix });
    const owner = hash();
    for (const bad of ['a:b', '{x}', 'a b', '', 'é', 'a'.repeat(129), 'x*']) {
      await expect(store.checkAndRemember(record(owner, bad))).rejects.toBeInstanceOf(TypeError);
      await expect(store.checkAndRemember(record(bad))).rejects.toBeInstanceOf(TypeError);
    }
    await expect(store.checkAndRemember({ ...record(owner), ttlMs: 0 })).rejects.toBeInstanceOf(TypeError);
    await expect(store.checkAndRemember({ ...record(owner), ttlMs: Number.NaN })).rejects.toBeInstanceOf(TypeError);
    for (const iat of [Number.NaN, Number.POSITIVE_INFINITY, '1' as unknown as number]) await expect(store.checkAndRemember({ ...record(owner), iat })).rejects.toBeInstanceOf(TypeError);
    expect(await redis.keys(`${prefix}{${owner}}*`)).toEqual([]);
  });

  it('accepts any finite NumericDate iat, fractional ones included (RFC 7519 §2), like the in-memory store', async () => {
    // Old code: a fractional iat threw a TypeError, which the validator turned into a 503 "replay store failed".
    const memory = new MemoryReplayStore();
    const store = new RedisReplayStore(redis, { prefix });
    const owner = hash();
    const now = Date.now() / 1000;
    for (const iat of [now + 0.5, now - 0.001, Math.floor(now) + 0.999999, now - 299.25, 1e-7, Number.MIN_VALUE]) {
      const proof = { ...record(owner), iat };
      expect([await store.checkAndRemember(proof), await memory.checkAndRemember(proof)], `iat ${iat}`).toEqual([true, true]);
      expect([await store.checkAndRemember(proof), await memory.checkAndRemember(proof)], `replay, iat ${iat}`).toEqual([false, false]);
      expect(Number(await redis.get(store.keysOf(proof).proof))).toBe(iat);
    }
  });

  it('through the validator with onStoreError "accept": a proof with a fractional iat is accepted, its replay refused, and no store failure is reported', async () => {
    const issuer = await TestIssuer.start();
    try {
      const events: AuthEvent[] = [];
      const validator = createValidator({
        domain: issuer.origin,
        audience: 'https://api.example.com',
        dpop: { replayStore: new RedisReplayStore(redis, { prefix }), onStoreError: 'accept' },
        onEvent: (event) => void events.push(event),
      });
      const keys = await generateKeyPair('ES256');
      const jwk = await exportJWK(keys.publicKey);
      const token = await issuer.token('https://api.example.com', { cnf: { jkt: await calculateJwkThumbprint(jwk) } });
      const url = 'https://api.example.com/api/private';
      const proof = await new SignJWT({ jti: randomUUID(), htm: 'GET', htu: url, iat: Date.now() / 1000 - 0.5, ath: accessTokenHash(token) }).setProtectedHeader({ alg: 'ES256', typ: 'dpop+jwt', jwk }).sign(keys.privateKey);
      expect(Number.isInteger(JSON.parse(Buffer.from(proof.split('.')[1]!, 'base64url').toString()).iat)).toBe(false);
      const request = { method: 'GET', url, headers: { authorization: `DPoP ${token}`, dpop: proof } };
      await expect(validator.verifyRequest(request)).resolves.toBeDefined();
      await expect(validator.verifyRequest(request)).rejects.toMatchObject({ code: 'invalid_dpop_proof', reason: 'proof.replay' });
      expect(events.filter((event) => event.type === 'replay_store_failed')).toEqual([]);
    } finally {
      await issuer.close();
    }
  });

  it('refuses options that would break Cluster slots or the quota, naming the option', () => {
    expect(() => new RedisReplayStore(redis, { prefix: 'app:{dpop}:' })).toThrow(/option "prefix"/);
    expect(() => new RedisReplayStore(redis, { maxPerOwner: 0 })).toThrow(/option "maxPerOwner"/);
    expect(() => new RedisReplayStore(redis, { maxPerOwner: 1.5 })).toThrow(/option "maxPerOwner"/);
    expect(() => new RedisReplayStore(redis, { timeoutMs: 0 })).toThrow(/option "timeoutMs"/);
    expect(() => new RedisReplayStore(redis, { outageRetryAfter: 0 })).toThrow(/option "outageRetryAfter"/);
  });

  it('rejects with ReplayStoreError (retryAfter = outageRetryAfter) when Redis is unreachable', async () => {
    const port = await closedPort();
    const down = new Redis({ host: '127.0.0.1', port, enableOfflineQueue: false, maxRetriesPerRequest: 1, lazyConnect: true });
    down.on('error', () => {});
    down.connect().catch(() => {});
    try {
      const error = await storeError(new RedisReplayStore(down, { prefix, outageRetryAfter: 7 }).checkAndRemember(record(hash())));
      expect(error.message).toMatch(/^redis: /);
      expect(error.retryAfter).toBe(7);
    } finally {
      down.disconnect();
    }
  });

  it('rejects with ReplayStoreError when the client was closed', async () => {
    const client = await connect(6379, { enableOfflineQueue: false });
    await client.quit();
    const error = await storeError(new RedisReplayStore(client, { prefix }).checkAndRemember(record(hash())));
    expect(error.retryAfter).toBe(5);
  });
});

describe('RedisReplayStore against its own redis-server', () => {
  let server: RedisProcess | undefined;
  const clients: Redis[] = [];

  async function serve(args: string[]): Promise<Redis> {
    server = await startRedisServer(await freeRedisPort(), ['--save', '', '--appendonly', 'no', ...args]);
    const client = await connect(server.port, { enableOfflineQueue: false, maxRetriesPerRequest: 0 });
    clients.push(client);
    return client;
  }
  afterEach(async () => {
    for (const c of clients.splice(0)) c.disconnect();
    await server?.kill();
    server = undefined;
  });

  it('reads maxmemory-policy: noeviction gives no warning', async () => {
    const redis = await serve(['--maxmemory-policy', 'noeviction']);
    const warnings: string[] = [];
    const store = new RedisReplayStore(redis, { onWarning: (m) => warnings.push(m) });
    expect(await store.checkAndRemember(record(hash()))).toBe(true);
    expect(await store.checkEvictionPolicy()).toBe('noeviction');
    expect(warnings).toEqual([]);
  });

  it('warns once, after its first answer, when maxmemory-policy is volatile-lru', async () => {
    const redis = await serve(['--maxmemory-policy', 'volatile-lru']);
    const warnings: string[] = [];
    const store = new RedisReplayStore(redis, { onWarning: (m) => warnings.push(m) });
    for (let i = 0; i < 5; i++) expect(await store.checkAndRemember(record(hash()))).toBe(true);
    await waitFor('the policy warning', async () => warnings.length > 0, 2_000);
    expect(await store.checkEvictionPolicy()).toBe('volatile-lru');
    for (let i = 0; i < 5; i++) await store.checkAndRemember(record(hash()));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/maxmemory-policy is "volatile-lru".*replayed.*maxmemory-policy noeviction/);
  });

  it('tolerates a Redis where CONFIG is disabled (managed Redis): no policy, no warning, proofs still checked', async () => {
    const redis = await serve(['--rename-command', 'CONFIG', '']);
    await expect(redis.config('GET', 'maxmemory-policy')).rejects.toThrow(/unknown command/i);
    const warnings: string[] = [];
    const store = new RedisReplayStore(redis, { onWarning: (m) => warnings.push(m) });
    const proof = record(hash());
    expect(await store.checkAndRemember(proof)).toBe(true);
    expect(await store.checkAndRemember(proof)).toBe(false);
    expect(await store.checkEvictionPolicy()).toBeUndefined();
    expect(warnings).toEqual([]);
  });

  it('falls back to EVAL when the server lost its scripts (SCRIPT FLUSH, as after a restart)', async () => {
    const redis = await serve([]);
    const store = new RedisReplayStore(redis);
    const proof = record(hash());
    expect(await store.checkAndRemember(proof)).toBe(true);
    await redis.script('FLUSH');
    expect(await store.checkAndRemember(proof)).toBe(false);
    expect(await store.checkAndRemember(record(hash()))).toBe(true);
  });

  it('fails closed within timeoutMs when Redis is frozen (SIGSTOP), even on a client without a command timeout', async () => {
    const redis = await serve([]);
    const store = new RedisReplayStore(redis, { timeoutMs: 300 });
    expect(await store.checkAndRemember(record(hash()))).toBe(true);
    server!.child.kill('SIGSTOP');
    try {
      const started = Date.now();
      const error = await storeError(store.checkAndRemember(record(hash())));
      expect(Date.now() - started).toBeLessThan(1_000);
      expect(error.message).toMatch(/no answer within 300 ms/);
      expect(error.retryAfter).toBe(5);
    } finally {
      server!.child.kill('SIGCONT');
    }
  });

  it('fails closed when the server dies, and works again on a server started on the same port', async () => {
    const redis = await serve([]);
    const store = new RedisReplayStore(redis, { timeoutMs: 500 });
    expect(await store.checkAndRemember(record(hash()))).toBe(true);
    const port = server!.port;
    await server!.kill();
    for (let i = 0; i < 3; i++) await storeError(store.checkAndRemember(record(hash())));
    server = await startRedisServer(port);
    await waitFor('the store to recover', async () => (await store.checkAndRemember(record(hash()))) === true);
  });

  /**
   * Why only noeviction is safe, shown: with maxmemory reached, `volatile-ttl` (the most "careful" volatile policy:
   * shortest TTL first) evicts live proof keys, because every proof key has a TTL; the evicted proofs are then
   * accepted again. Under noeviction the same flood fails closed and every recorded proof stays a replay.
   */
  it('under volatile-ttl a full Redis evicts live proofs and their replays are accepted; noeviction fails closed', async () => {
    async function flood(policy: string) {
      const redis = await serve(['--maxmemory', '4mb', '--maxmemory-policy', policy]);
      const store = new RedisReplayStore(redis, { onWarning: () => {} });
      const accepted: ReplayRecord[] = [];
      let refused = 0;
      // Many owners (so no quota applies), decreasing TTLs so the earliest proofs are not the first volatile-ttl picks.
      for (let batch = 0; batch < 120 && refused === 0; batch++) {
        const records = Array.from({ length: 250 }, () => record(hash(), hash(), 300_000 - batch * 1_000));
        const results = await Promise.allSettled(records.map((r) => store.checkAndRemember(r)));
        results.forEach((result, i) => (result.status === 'fulfilled' && result.value ? accepted.push(records[i]!) : refused++));
      }
      let replaysAccepted = 0;
      for (let i = 0; i < accepted.length; i += 500) {
        const answers = await Promise.allSettled(accepted.slice(i, i + 500).map((r) => store.checkAndRemember(r)));
        replaysAccepted += answers.filter((a) => a.status === 'fulfilled' && a.value === true).length;
      }
      const info = String(await redis.info('stats'));
      const evicted = Number(/evicted_keys:(\d+)/.exec(info)?.[1]);
      for (const c of clients.splice(0)) c.disconnect();
      await server!.kill();
      return { accepted: accepted.length, refused, replaysAccepted, evicted };
    }

    const volatile = await flood('volatile-ttl');
    expect(volatile.evicted).toBeGreaterThan(0);
    expect(volatile.replaysAccepted).toBeGreaterThan(0); // replay protection lost for the evicted proofs

    const safe = await flood('noeviction');
    expect(safe.evicted).toBe(0);
    expect(safe.refused).toBeGreaterThan(0); // OOM: the store fails closed (503) instead of forgetting
    expect(safe.replaysAccepted).toBe(0);
  });
});
