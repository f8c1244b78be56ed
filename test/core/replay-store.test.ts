/**
 * DPoP replay stores: the in-memory store (first use true, replay false, expiry, bounded under a flood) and the
 * Redis store against the real Redis server on 127.0.0.1:6379 (atomic set-if-absent, TTL, outage → error).
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { MemoryReplayStore, RedisReplayStore, ReplayStoreError } from '../../src/core/replay-store.js';
import { closedPort } from '../support/helpers.js';

/** A TCP port nothing listens on: bind port 0, note the port, close. */

/** A manual clock for the in-memory store. */
function clock(start = 1_000_000) {
  let now = start;
  return { now: () => now, advance: (ms: number) => void (now += ms) };
}

describe('MemoryReplayStore', () => {
  it('answers true for a new key and false for its replay', async () => {
    const store = new MemoryReplayStore();
    expect(await store.checkAndRemember('a', 60)).toBe(true);
    expect(await store.checkAndRemember('a', 60)).toBe(false);
    expect(await store.checkAndRemember('a', 60)).toBe(false);
    expect(await store.checkAndRemember('b', 60)).toBe(true);
  });

  it('gives exactly one true to concurrent uses of one key', async () => {
    const store = new MemoryReplayStore();
    const answers = await Promise.all(Array.from({ length: 50 }, () => store.checkAndRemember('same', 60)));
    expect(answers.filter(Boolean)).toHaveLength(1);
  });

  it('forgets a key once its TTL has passed, not before', async () => {
    const time = clock();
    const store = new MemoryReplayStore({ now: time.now });
    expect(await store.checkAndRemember('k', 10)).toBe(true);
    time.advance(9_999);
    expect(await store.checkAndRemember('k', 10)).toBe(false);
    time.advance(1);
    expect(await store.checkAndRemember('k', 10)).toBe(true);
    expect(await store.checkAndRemember('k', 10)).toBe(false);
  });

  it('refuses a flood past maxEntries with ReplayStoreError instead of growing or forgetting live entries', async () => {
    const time = clock();
    const store = new MemoryReplayStore({ maxEntries: 100, now: time.now });
    for (let i = 0; i < 100; i++) expect(await store.checkAndRemember(`live-${i}`, 60)).toBe(true);
    for (let i = 0; i < 1000; i++) {
      await expect(store.checkAndRemember(`flood-${i}`, 60)).rejects.toBeInstanceOf(ReplayStoreError);
    }
    expect(store.size).toBe(100);
    // Every live entry is still remembered: a replay of any of them is still refused.
    for (let i = 0; i < 100; i++) expect(await store.checkAndRemember(`live-${i}`, 60)).toBe(false);
  });

  it('still answers replays of remembered keys while full', async () => {
    const store = new MemoryReplayStore({ maxEntries: 2 });
    await store.checkAndRemember('x', 60);
    await store.checkAndRemember('y', 60);
    expect(await store.checkAndRemember('x', 60)).toBe(false);
    await expect(store.checkAndRemember('z', 60)).rejects.toThrow(ReplayStoreError);
  });

  it('sweeps expired entries to make room when full', async () => {
    const time = clock();
    const store = new MemoryReplayStore({ maxEntries: 100, now: time.now });
    for (let i = 0; i < 60; i++) await store.checkAndRemember(`old-${i}`, 10);
    time.advance(5_000);
    for (let i = 0; i < 40; i++) await store.checkAndRemember(`young-${i}`, 10);
    time.advance(5_000); // the 60 old ones expire; the 40 young ones have 5 s left
    for (let i = 0; i < 60; i++) expect(await store.checkAndRemember(`new-${i}`, 10)).toBe(true);
    expect(store.size).toBe(100);
    await expect(store.checkAndRemember('one-too-many', 10)).rejects.toBeInstanceOf(ReplayStoreError);
    for (let i = 0; i < 40; i++) expect(await store.checkAndRemember(`young-${i}`, 10)).toBe(false);
  });

  it('sweeps expired entries that sit behind live ones (mixed TTLs)', async () => {
    const time = clock();
    const store = new MemoryReplayStore({ maxEntries: 3, now: time.now });
    await store.checkAndRemember('long', 100);
    await store.checkAndRemember('short-1', 1);
    await store.checkAndRemember('short-2', 1);
    time.advance(1_000);
    expect(await store.checkAndRemember('fresh-1', 100)).toBe(true);
    expect(await store.checkAndRemember('fresh-2', 100)).toBe(true);
    expect(store.size).toBe(3);
    expect(await store.checkAndRemember('long', 100)).toBe(false);
  });

  it('refuses a flood against a full default-size store cheaply (no full scan per refusal)', async () => {
    const store = new MemoryReplayStore(); // 100 000 entries by default
    for (let i = 0; i < 100_000; i++) await store.checkAndRemember(`live-${i}`, 335);
    const started = performance.now();
    for (let i = 0; i < 2_000; i++) await expect(store.checkAndRemember(`flood-${i}`, 335)).rejects.toBeInstanceOf(ReplayStoreError);
    // A full scan per refusal measured ~4.4 ms each (~9 s here); skipping useless sweeps measured ~0.04 ms each.
    expect(performance.now() - started).toBeLessThan(2_000);
    expect(store.size).toBe(100_000);
  });

  it('stays bounded under a long stream of distinct keys that expire in turn', async () => {
    const time = clock();
    const store = new MemoryReplayStore({ maxEntries: 50, now: time.now });
    for (let i = 0; i < 5_000; i++) {
      expect(await store.checkAndRemember(`k-${i}`, 1)).toBe(true);
      time.advance(25); // 40 keys per second, TTL 1 s: at most 41 are live
      expect(store.size).toBeLessThanOrEqual(50);
    }
  });
});

describe('RedisReplayStore (real Redis on 127.0.0.1:6379)', () => {
  const prefix = `auth0-tsoa-api-test:${randomUUID()}:`;
  let redis: Redis;

  beforeAll(async () => {
    redis = new Redis({ host: '127.0.0.1', port: 6379, lazyConnect: true });
    await redis.connect();
  });
  afterAll(async () => {
    if (!redis) return;
    const keys = await redis.keys(`${prefix}*`);
    if (keys.length > 0) await redis.del(...keys);
    redis.disconnect();
  });

  it('answers true for a new key and false for its replay', async () => {
    const store = new RedisReplayStore(redis, { prefix });
    expect(await store.checkAndRemember('a', 60)).toBe(true);
    expect(await store.checkAndRemember('a', 60)).toBe(false);
    expect(await store.checkAndRemember('b', 60)).toBe(true);
  });

  it('is atomic: concurrent uses of one key from several connections get exactly one true', async () => {
    const clients = await Promise.all(
      Array.from({ length: 5 }, async () => {
        const client = new Redis({ host: '127.0.0.1', port: 6379, lazyConnect: true });
        await client.connect();
        return client;
      }),
    );
    try {
      const stores = clients.map((c) => new RedisReplayStore(c, { prefix }));
      const key = `race-${randomUUID()}`;
      const answers = await Promise.all(Array.from({ length: 100 }, (_, i) => stores[i % stores.length]!.checkAndRemember(key, 60)));
      expect(answers.filter(Boolean)).toHaveLength(1);
      expect(answers.filter((a) => a === false)).toHaveLength(99);
    } finally {
      for (const c of clients) c.disconnect();
    }
  });

  it('stores the key under the prefix with a TTL (PTTL > 0, not above the requested TTL)', async () => {
    const store = new RedisReplayStore(redis, { prefix });
    await store.checkAndRemember('ttl', 335);
    const pttl = await redis.pttl(`${prefix}ttl`);
    expect(pttl).toBeGreaterThan(330_000);
    expect(pttl).toBeLessThanOrEqual(335_000);
  });

  it('uses the default prefix when none is given', async () => {
    const store = new RedisReplayStore(redis);
    const key = `default-${randomUUID()}`;
    try {
      expect(await store.checkAndRemember(key, 5)).toBe(true);
      expect(await redis.pttl(`auth0-tsoa-api:dpop-jti:${key}`)).toBeGreaterThan(0);
    } finally {
      await redis.del(`auth0-tsoa-api:dpop-jti:${key}`);
    }
  });

  it('forgets a key once its TTL has passed', async () => {
    const store = new RedisReplayStore(redis, { prefix });
    expect(await store.checkAndRemember('short', 0.15)).toBe(true);
    expect(await store.checkAndRemember('short', 0.15)).toBe(false);
    await new Promise((r) => setTimeout(r, 300));
    expect(await store.checkAndRemember('short', 0.15)).toBe(true);
  });

  it('rejects with ReplayStoreError when Redis is unreachable', async () => {
    const port = await closedPort();
    const down = new Redis({ host: '127.0.0.1', port, enableOfflineQueue: false, maxRetriesPerRequest: 1, lazyConnect: true });
    down.on('error', () => {}); // connection errors are expected here
    down.connect().catch(() => {});
    try {
      const store = new RedisReplayStore(down, { prefix });
      const error = await store.checkAndRemember('k', 60).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(ReplayStoreError);
      expect((error as Error).message).toMatch(/^redis: /);
    } finally {
      down.disconnect();
    }
  });

  it('rejects with ReplayStoreError when the client was closed', async () => {
    const client = new Redis({ host: '127.0.0.1', port: 6379, enableOfflineQueue: false, lazyConnect: true });
    await client.connect();
    await client.quit();
    await expect(new RedisReplayStore(client, { prefix }).checkAndRemember('k', 60)).rejects.toBeInstanceOf(ReplayStoreError);
  });
});
