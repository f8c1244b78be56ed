/**
 * DPoP replay stores: the in-memory store (first use true, replay false, expiry, bounded under a flood). The Redis
 * store's cases are in redis-replay-store.test.ts (one server) and redis-cluster.test.ts (Redis Cluster).
 */
import { describe, expect, it } from 'vitest';
import { MemoryReplayStore, ReplayStoreError } from '../../src/core/replay-store.js';

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
