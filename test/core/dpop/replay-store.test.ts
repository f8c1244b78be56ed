/**
 * The in-memory DPoP replay store: first use true, replay false, expiry, and fairness under a flood (docs/decisions.md
 * D17): when full it evicts the heaviest owner's oldest entries and raises that owner's
 * watermark, so eviction never re-opens a replay and a bystander is never refused. The Redis store's cases are in
 * redis-replay-store.test.ts (one server) and redis-cluster.test.ts (Redis Cluster).
 */
import { describe, expect, it } from 'vitest';
import { createHmac } from 'node:crypto';
import { MAX_PROBE, MemoryReplayStore, withPlacementKey, type ReplayRecord } from '../../../src/core/dpop/replay-store.js';
import { ReplayStoreError } from '../../../src/core/errors.js';
import { ReferenceReplayStore } from '../../support/reference-replay-store.js';

/** A manual clock for the in-memory store. */
function clock(start = 1_000_000_000) {
  let now = start;
  return { now: () => now, advance: (ms: number) => void (now += ms), seconds: () => Math.floor(now / 1000) };
}

const record = (key: string, owner = 'owner-a', ttlSeconds = 60, iat = 1_000_000): ReplayRecord => ({ key, owner, iat, ttlMs: ttlSeconds * 1000 });

async function refusal(promise: Promise<unknown>): Promise<ReplayStoreError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ReplayStoreError);
  return error as ReplayStoreError;
}

describe('MemoryReplayStore', () => {
  it('answers true for a new key and false for its replay', async () => {
    const store = new MemoryReplayStore();
    expect(await store.checkAndRemember(record('a'))).toBe(true);
    expect(await store.checkAndRemember(record('a'))).toBe(false);
    expect(await store.checkAndRemember(record('a', 'owner-b'))).toBe(false);
    expect(await store.checkAndRemember(record('b'))).toBe(true);
  });

  it('gives exactly one true to concurrent uses of one key', async () => {
    const store = new MemoryReplayStore();
    const answers = await Promise.all(Array.from({ length: 50 }, () => store.checkAndRemember(record('same'))));
    expect(answers.filter(Boolean)).toHaveLength(1);
  });

  it('forgets a key once its TTL has passed, not before', async () => {
    const time = clock();
    const store = new MemoryReplayStore({ now: time.now });
    expect(await store.checkAndRemember(record('k', 'o', 10))).toBe(true);
    time.advance(9_999);
    expect(await store.checkAndRemember(record('k', 'o', 10))).toBe(false);
    time.advance(1);
    expect(await store.checkAndRemember(record('k', 'o', 10))).toBe(true);
    expect(await store.checkAndRemember(record('k', 'o', 10))).toBe(false);
  });

  it('refuses a maxEntries that is not a positive integer', () => {
    for (const maxEntries of [0, -1, 1.5, Number.NaN]) expect(() => new MemoryReplayStore({ maxEntries })).toThrow(RangeError);
  });

  it('sweeps expired entries to make room when full, without evicting live ones', async () => {
    const time = clock();
    const store = new MemoryReplayStore({ maxEntries: 100, now: time.now });
    for (let i = 0; i < 60; i++) await store.checkAndRemember(record(`old-${i}`, `o-${i}`, 10));
    time.advance(5_000);
    for (let i = 0; i < 40; i++) await store.checkAndRemember(record(`young-${i}`, `y-${i}`, 10));
    time.advance(5_000); // the 60 old ones expire; the 40 young ones have 5 s left
    for (let i = 0; i < 60; i++) expect(await store.checkAndRemember(record(`new-${i}`, `n-${i}`, 10))).toBe(true);
    expect(store.size).toBe(100);
    for (let i = 0; i < 40; i++) expect(await store.checkAndRemember(record(`young-${i}`, `y-${i}`, 10))).toBe(false);
  });

  it('sweeps expired entries that sit behind live ones (mixed TTLs)', async () => {
    const time = clock();
    const store = new MemoryReplayStore({ maxEntries: 3, now: time.now });
    await store.checkAndRemember(record('long', 'a', 100));
    await store.checkAndRemember(record('short-1', 'b', 1));
    await store.checkAndRemember(record('short-2', 'c', 1));
    time.advance(1_000);
    expect(await store.checkAndRemember(record('fresh-1', 'd', 100))).toBe(true);
    expect(await store.checkAndRemember(record('fresh-2', 'e', 100))).toBe(true);
    expect(store.size).toBe(3);
    expect(await store.checkAndRemember(record('long', 'a', 100))).toBe(false);
  });

  it('stays bounded under a long stream of distinct keys that expire in turn', async () => {
    const time = clock();
    const store = new MemoryReplayStore({ maxEntries: 50, now: time.now });
    for (let i = 0; i < 5_000; i++) {
      expect(await store.checkAndRemember(record(`k-${i}`, `o-${i % 7}`, 1))).toBe(true);
      time.advance(25); // 40 keys per second, TTL 1 s: at most 41 are live
      expect(store.size).toBeLessThanOrEqual(50);
    }
  });
});

describe('one owner cannot deny the others (docs/decisions.md D17)', () => {
  it('a flood from one owner fills the store, and the bystanders are still accepted, every time', async () => {
    const time = clock();
    const store = new MemoryReplayStore({ maxEntries: 100, now: time.now });
    const bystanders = ['alice', 'bob', 'carol', 'dave', 'erin'];
    for (const who of bystanders) for (let i = 0; i < 8; i++) expect(await store.checkAndRemember(record(`${who}-${i}`, who, 300, time.seconds()))).toBe(true);
    let refusedFlood = 0;
    for (let i = 0; i < 5_000; i++) {
      if (i % 100 === 0) time.advance(1_000); // the flood goes on for 50 s, 100 fresh proofs a second
      await store.checkAndRemember(record(`flood-${i}`, 'flooder', 300, time.seconds())).catch((e: unknown) => {
        expect(e).toBeInstanceOf(ReplayStoreError);
        refusedFlood++;
      });
      // Interleaved: every bystander's fresh proofs are accepted.
      if (i % 1000 === 0) for (const who of bystanders) expect(await store.checkAndRemember(record(`${who}-late-${i}`, who, 300, time.seconds()))).toBe(true);
      expect(store.size).toBeLessThanOrEqual(100);
    }
    // Every one of the bystanders' proofs is still remembered: none was evicted to make room for the flood.
    for (const who of bystanders) for (let i = 0; i < 8; i++) expect(await store.checkAndRemember(record(`${who}-${i}`, who, 300, time.seconds()))).toBe(false);
    // The flooder denied only itself (its proofs of the same second as an eviction are refused).
    expect(refusedFlood).toBeGreaterThan(0);
  });

  it('never re-opens a replay: an evicted proof of the heavy owner is refused by the watermark, with the real wait', async () => {
    const time = clock();
    const store = new MemoryReplayStore({ maxEntries: 10, now: time.now });
    const first = record('heavy-0', 'heavy', 300, time.seconds());
    expect(await store.checkAndRemember(first)).toBe(true);
    for (let i = 1; i < 10; i++) {
      time.advance(1_000);
      expect(await store.checkAndRemember(record(`heavy-${i}`, 'heavy', 300, time.seconds()))).toBe(true);
    }
    time.advance(1_000);
    // Full: the next proof evicts the heaviest owner's entries older than the middle one's iat (heavy-0 … heavy-3).
    expect(await store.checkAndRemember(record('heavy-10', 'heavy', 300, time.seconds()))).toBe(true);
    expect(store.size).toBe(7);
    // A replay of an evicted proof (iat at or below the watermark) is refused, never accepted again…
    const error = await refusal(store.checkAndRemember(first));
    expect(error.quota).toBe(true);
    // … with the wait until a fresh proof (a later iat) passes: the watermark is heavy-3's iat, 7 s ago.
    expect(error.retryAfter).toBe(1);
    // A fresh proof of the same owner passes.
    expect(await store.checkAndRemember(record('heavy-11', 'heavy', 300, time.seconds()))).toBe(true);
    // The watermark lasts as long as the evicted entries would have: after that, only expiry matters.
    time.advance(300_000);
    expect(await store.checkAndRemember(first)).toBe(true);
  });

  it('cuts an eviction at a whole iat: proofs of a burst made within the cut second are not refused', async () => {
    const time = clock();
    const store = new MemoryReplayStore({ maxEntries: 10, now: time.now });
    const t0 = time.seconds();
    // Pre-made proofs: six of second t0, four of second t0 + 1.
    for (let i = 0; i < 6; i++) await store.checkAndRemember(record(`a-${i}`, 'heavy', 300, t0));
    for (let i = 0; i < 4; i++) await store.checkAndRemember(record(`b-${i}`, 'heavy', 300, t0 + 1));
    time.advance(2_000);
    // Full: the middle entry's iat is t0, and nothing is older: the fallback evicts the oldest half of second t0.
    expect(await store.checkAndRemember(record('b-4', 'heavy', 300, t0 + 1))).toBe(true);
    // More proofs of second t0 + 1 still pass (the watermark is t0), replays of evicted ones are refused.
    expect(await store.checkAndRemember(record('b-5', 'heavy', 300, t0 + 1))).toBe(true);
    expect(await refusal(store.checkAndRemember(record('a-0', 'heavy', 300, t0)))).toMatchObject({ quota: true });
    // Next full store: the cut falls at t0 + 1, so only second t0 goes, and second t0 + 1 keeps being accepted.
    expect(await store.checkAndRemember(record('b-6', 'heavy', 300, t0 + 1))).toBe(true);
    for (let i = 0; i < 4; i++) expect(await store.checkAndRemember(record(`b-${i}`, 'heavy', 300, t0 + 1))).toBe(false);
  });

  it('evicts from the heaviest owner, not from whoever asks', async () => {
    const time = clock();
    const store = new MemoryReplayStore({ maxEntries: 10, now: time.now });
    for (let i = 0; i < 8; i++) await store.checkAndRemember(record(`heavy-${i}`, 'heavy', 300, time.seconds()));
    await store.checkAndRemember(record('light-0', 'light', 300, time.seconds()));
    await store.checkAndRemember(record('light-1', 'light', 300, time.seconds()));
    time.advance(1_000);
    expect(await store.checkAndRemember(record('light-2', 'light', 300, time.seconds()))).toBe(true);
    // The light owner's entries are all still there; the heavy one lost half of its own.
    expect(await store.checkAndRemember(record('light-0', 'light', 300, time.seconds()))).toBe(false);
    expect(await store.checkAndRemember(record('light-1', 'light', 300, time.seconds()))).toBe(false);
    expect(await refusal(store.checkAndRemember(record('heavy-0', 'heavy', 300, time.seconds() - 1)))).toMatchObject({ quota: true });
  });

  it('keeps a flood against a full default-size store cheap, and never accepts a replay or refuses a fresh proof of the others', async () => {
    const time = clock();
    const store = new MemoryReplayStore({ maxEntries: 100_000, now: time.now }); // twice the default
    for (let i = 0; i < 100_000; i++) {
      if (i % 1000 === 0) time.advance(1_000); // 1000 owners, 100 proofs each, over 100 s
      await store.checkAndRemember(record(`live-${i}`, `owner-${i % 1000}`, 335, time.seconds()));
    }
    time.advance(1_000);
    const started = performance.now();
    for (let i = 0; i < 20_000; i++) await store.checkAndRemember(record(`flood-${i}`, 'flooder', 335, time.seconds())).catch(() => {});
    expect(performance.now() - started).toBeLessThan(3_000);
    expect(store.size).toBeLessThanOrEqual(100_000);
    // Until the newcomer became the heaviest, evictions took the oldest half of some owners' proofs; those are
    // refused by the watermark (503), the rest as replays (401): never accepted again.
    for (let i = 0; i < 100_000; i += 97) {
      const again = await store.checkAndRemember(record(`live-${i}`, `owner-${i % 1000}`, 335, Math.floor(1_000_000_000 / 1000) + 1 + Math.floor(i / 1000))).catch((e: unknown) => e);
      expect(again === false || (again instanceof ReplayStoreError && again.quota)).toBe(true);
    }
    // And every owner's fresh proofs are accepted.
    for (let o = 0; o < 1000; o += 7) expect(await store.checkAndRemember(record(`fresh-${o}`, `owner-${o}`, 335, time.seconds()))).toBe(true);
  });

  describe('compact layout (typed arrays, fingerprints, open addressing) = the previous Map-based store', () => {
    /** mulberry32: a small seeded PRNG, so that a failing sequence can be replayed from its seed. */
    const prng = (seed: number) => () => {
      seed = (seed + 0x6d2b79f5) | 0;
      let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
      t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
    const answer = (promise: Promise<boolean>) =>
      promise.then(
        (accepted) => ({ accepted }),
        (error: unknown) => (error instanceof ReplayStoreError ? { refused: { quota: error.quota, retryAfter: error.retryAfter } } : { thrown: String(error) }),
      );

    for (const maxEntries of [1, 7, 64, 500]) {
      it(`gives the same answers, refusals and sizes on random traffic (maxEntries ${maxEntries}, 12 seeds × 4,000 operations)`, async () => {
        for (let seed = 1; seed <= 12; seed++) {
          const random = prng(seed * 7919 + maxEntries);
          const time = clock();
          const compact = new MemoryReplayStore({ maxEntries, now: time.now });
          const reference = new ReferenceReplayStore({ maxEntries, now: time.now });
          let fresh = 0;
          for (let op = 0; op < 4_000; op++) {
            time.advance(Math.floor(random() * random() * 3_000));
            // A heavy owner, a few regular ones; repeated keys (replays, re-use after expiry) and new ones.
            const owner = random() < 0.5 ? 'heavy' : `owner-${Math.floor(random() * 6)}`;
            const key = random() < 0.3 ? `seen-${Math.floor(random() * maxEntries * 3)}` : `new-${fresh++}`;
            const iat = time.seconds() - Math.floor(random() * 4);
            const ttlMs = 1_000 + Math.floor(random() * 20_000);
            const rec = { key, owner, iat, ttlMs };
            const [got, want] = await Promise.all([answer(compact.checkAndRemember(rec)), answer(reference.checkAndRemember(rec))]);
            expect({ seed, op, ...got, size: compact.size }).toEqual({ seed, op, ...want, size: reference.size });
          }
        }
      });
    }

    it('grows from 1,024 slots to its bound and keeps every key findable on the way (no lost entries across resizes)', async () => {
      const time = clock();
      const store = new MemoryReplayStore({ maxEntries: 50_000, now: time.now });
      for (let i = 0; i < 50_000; i++) expect(await store.checkAndRemember(record(`k-${i}`, `o-${i % 50}`, 300))).toBe(true);
      expect(store.size).toBe(50_000);
      for (let i = 0; i < 50_000; i += 13) expect(await store.checkAndRemember(record(`k-${i}`, `o-${i % 50}`, 300))).toBe(false);
    });

    it('treats keys that differ in one character, or only in length, as different proofs', async () => {
      const store = new MemoryReplayStore();
      const base = 'x'.repeat(43);
      const keys = [base, base.slice(0, 42), `${base}x`, ...Array.from({ length: 43 }, (_, i) => base.slice(0, i) + 'y' + base.slice(i + 1)), '', '\u{1F600}', '\uD800'];
      for (const key of keys) expect(await store.checkAndRemember(record(key))).toBe(true);
      for (const key of keys) expect(await store.checkAndRemember(record(key))).toBe(false);
      expect(store.size).toBe(keys.length);
    });
  });

  describe('hash flooding: keyed placement, bounded probes', () => {
    // The flood itself (keys colliding under the old unseeded placement, timed against ordinary keys) is the row in
    // test/security/attack-catalogue.test.ts. Here the placement key is KNOWN (as if it leaked), so keys can be made
    // to share one short range of buckets: probing stays bounded and only the flooder pays.
    const placementKey = Buffer.alloc(32, 7);
    const homeOf = (key: string, mask: number) => createHmac('sha256', placementKey).update(key).digest().readUInt32LE(0) & mask;
    /** Keys whose home is one of the first 16 buckets of a 2,048-bucket table (a store of maxEntries 1,000). */
    const keysInRange = (prefix: string, count: number) => {
      const keys: string[] = [];
      for (let i = 0; keys.length < count; i++) if (homeOf(`${prefix}-${i}`, 2047) < 16) keys.push(`${prefix}-${i}`);
      return keys;
    };

    it('a full probe run refuses the flooder, never a lighter bystander; nothing evicted can be replayed', async () => {
      const time = clock();
      const store = withPlacementKey(placementKey, () => new MemoryReplayStore({ maxEntries: 1_000, now: time.now }));
      const flood = keysInRange('flood', 400);
      const accepted: string[] = [];
      let refused = 0;
      for (const key of flood) {
        const answer = await store.checkAndRemember(record(key, 'flooder', 300, time.seconds())).catch((error: unknown) => error);
        if (answer === true) accepted.push(key);
        else {
          expect(answer).toBeInstanceOf(ReplayStoreError);
          expect((answer as ReplayStoreError).quota).toBe(true); // refused whatever onStoreError says
          refused++;
        }
      }
      // The run from the range holds at most its 16 homes + MAX_PROBE buckets: the rest of the flood is refused.
      expect(accepted.length).toBeLessThanOrEqual(16 + MAX_PROBE);
      expect(refused).toBe(flood.length - accepted.length);
      expect(refused).toBeGreaterThan(0);
      // Bystanders whose keys land in the same full run are all served: each takes the bucket of a flooder's proof.
      const bystanders = keysInRange('bystander', 20);
      for (const [i, key] of bystanders.entries()) expect(await store.checkAndRemember(record(key, `bystander-${i}`, 300, time.seconds()))).toBe(true);
      for (const [i, key] of bystanders.entries()) expect(await store.checkAndRemember(record(key, `bystander-${i}`, 300, time.seconds()))).toBe(false);
      // Every proof the flooder got accepted is still refused when replayed: as a replay, or (evicted) by its watermark.
      for (const key of accepted) {
        const answer = await store.checkAndRemember(record(key, 'flooder', 300, time.seconds())).catch((error: unknown) => error);
        if (answer !== false) expect((answer as ReplayStoreError).quota).toBe(true);
      }
      expect(store.size).toBe(accepted.length);
    });

    it('places keys by a secret drawn per store: the same keys land differently in two stores', async () => {
      // Bystanders of one store's run (computed with a known key) do not find a full run in a store with its own key.
      const time = clock();
      const known = withPlacementKey(placementKey, () => new MemoryReplayStore({ maxEntries: 1_000, now: time.now }));
      const own = new MemoryReplayStore({ maxEntries: 1_000, now: time.now });
      const flood = keysInRange('flood', 400);
      let refusedKnown = 0;
      let refusedOwn = 0;
      for (const key of flood) {
        if ((await known.checkAndRemember(record(key, 'flooder', 300)).catch(() => 'refused')) === 'refused') refusedKnown++;
        if ((await own.checkAndRemember(record(key, 'flooder', 300)).catch(() => 'refused')) === 'refused') refusedOwn++;
      }
      expect(refusedKnown).toBeGreaterThan(0);
      expect(refusedOwn).toBe(0);
      expect(own.size).toBe(flood.length);
    });
  });
});
