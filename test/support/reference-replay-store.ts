/**
 * The in-memory replay store as it was before its compact layout (a Map of key strings to entry objects, a Set of keys
 * per owner): the reference model for test/core/replay-store.test.ts's differential test, which drives both with the
 * same random operations and clock and expects the same answers, refusals and sizes. Test support only.
 */
import { ReplayStoreError } from '../../src/core/errors.js';
import type { MemoryReplayStoreOptions, ReplayRecord, ReplayStore } from '../../src/core/dpop/replay-store.js';

interface OwnerState {
  /** Live proof keys of this owner, oldest first. */
  keys: Set<string>;
  /** Proofs of this owner with `iat` ≤ watermark are refused: some of them were evicted (see below). */
  watermark: number;
  /** When the evicted entries would have expired (ms): the watermark is forgotten after. */
  watermarkUntil: number;
}

interface Entry {
  owner: string;
  iat: number;
  expiresAt: number;
}

/**
 * In-process store for a single instance, bounded, and fair.
 *
 * When it is full, it makes room by evicting about the oldest half of the entries of the owner holding the most — the
 * flooding client, never a bystander — and raises that owner's *watermark* to the newest `iat` it evicted: until
 * those entries would have expired, that owner's proofs with an `iat` at or below the watermark are refused (503,
 * with the wait until a fresh proof passes). So eviction never re-opens a replay, one client can only deny itself,
 * and every other client keeps being served. Eviction is amortized: one scan of the owners frees many entries.
 */
export class ReferenceReplayStore implements ReplayStore {
  private readonly entries = new Map<string, Entry>(); // insertion order ≈ expiry order
  private readonly owners = new Map<string, OwnerState>();
  private readonly maxEntries: number;
  private readonly now: () => number;
  /** No entry expires before this time (ms), so a sweep before it frees nothing: O(1) per insert under a flood. */
  private earliestExpiry = 0;

  constructor(options: MemoryReplayStoreOptions = {}) {
    this.maxEntries = options.maxEntries ?? 50_000;
    if (!Number.isInteger(this.maxEntries) || this.maxEntries < 1) throw new RangeError('ReferenceReplayStore: maxEntries must be a positive integer');
    this.now = options.now ?? Date.now;
  }

  /** Live entries held. */
  get size(): number {
    return this.entries.size;
  }

  /** Records the proof: true the first time, false for a replay; a ReplayStoreError for an evicted owner's old proof. */
  async checkAndRemember(record: ReplayRecord): Promise<boolean> {
    const now = this.now();
    const existing = this.entries.get(record.key);
    if (existing !== undefined) {
      if (existing.expiresAt > now) return false;
      this.remove(record.key, existing, now);
    }
    let owner = this.owners.get(record.owner);
    if (owner !== undefined && owner.watermarkUntil > now && record.iat <= owner.watermark) {
      // Possibly a replay of an evicted proof: refuse, and say when a fresh proof (a later iat) will pass.
      throw new ReplayStoreError('proofs of this client were evicted from the replay store', {
        quota: true,
        retryAfter: Math.floor(owner.watermark) + 1 - Math.floor(now / 1000),
      });
    }
    if (this.entries.size >= this.maxEntries) this.makeRoom(now);
    owner = this.owners.get(record.owner); // makeRoom may have dropped an empty owner
    if (owner === undefined) {
      owner = { keys: new Set(), watermark: -Infinity, watermarkUntil: 0 };
      this.owners.set(record.owner, owner);
    }
    const expiresAt = now + record.ttlMs;
    this.entries.set(record.key, { owner: record.owner, iat: record.iat, expiresAt });
    owner.keys.add(record.key);
    this.earliestExpiry = Math.min(this.earliestExpiry, expiresAt);
    return true;
  }

  private remove(key: string, entry: Entry, now: number): void {
    this.entries.delete(key);
    const owner = this.owners.get(entry.owner);
    if (owner === undefined) return;
    owner.keys.delete(key);
    if (owner.keys.size === 0 && owner.watermarkUntil <= now) this.owners.delete(entry.owner);
  }

  /** Frees expired entries, then, if still full, half of the heaviest owner's (see the class comment). */
  private makeRoom(now: number): void {
    this.sweep(now);
    if (this.entries.size < this.maxEntries) return;
    let heaviest: OwnerState | undefined;
    for (const owner of this.owners.values()) if (heaviest === undefined || owner.keys.size > heaviest.keys.size) heaviest = owner;
    if (heaviest === undefined) return;
    // The oldest half of its entries, cut at a whole `iat`: entries sharing the cut's `iat` stay, so that proofs the
    // owner has not sent yet with that same `iat` are not refused by the watermark (bursts made within one second).
    const half = Math.max(1, Math.floor(heaviest.keys.size / 2));
    let cut = -Infinity;
    let position = 0;
    for (const key of heaviest.keys) if (++position === half) cut = this.entries.get(key)!.iat;
    let evicted = this.evictOwned(heaviest, (entry) => entry.iat < cut);
    if (evicted === 0) {
      let left = half; // one `iat` only: evict the oldest half anyway (that second's unseen proofs are refused)
      evicted = this.evictOwned(heaviest, () => left-- > 0);
    }
  }

  /** Evicts the owner's entries that `select` picks, raising its watermark over them. Returns how many. */
  private evictOwned(owner: OwnerState, select: (entry: Entry) => boolean): number {
    let evicted = 0;
    for (const key of owner.keys) {
      const entry = this.entries.get(key)!;
      if (!select(entry)) continue;
      owner.watermark = Math.max(owner.watermark, entry.iat);
      owner.watermarkUntil = Math.max(owner.watermarkUntil, entry.expiresAt);
      this.entries.delete(key);
      owner.keys.delete(key);
      evicted++;
    }
    return evicted;
  }

  private sweep(now: number): void {
    if (now < this.earliestExpiry) return;
    // Entries mostly expire in insertion order: stop at the first live one.
    for (const [key, entry] of this.entries) {
      if (entry.expiresAt > now) break;
      this.remove(key, entry, now);
    }
    if (this.entries.size < this.maxEntries) return;
    // Expired entries may sit behind live ones: scan them all once, and note when the next one expires.
    let earliest = Infinity;
    for (const [key, entry] of this.entries) {
      if (entry.expiresAt <= now) this.remove(key, entry, now);
      else earliest = Math.min(earliest, entry.expiresAt);
    }
    this.earliestExpiry = earliest;
    for (const [id, owner] of this.owners) if (owner.keys.size === 0 && owner.watermarkUntil <= now) this.owners.delete(id);
  }
}
