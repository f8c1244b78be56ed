/**
 * Remembers which DPoP proofs were used (RFC 9449 §11.1), so a captured proof cannot be replayed.
 *
 * Stores see only opaque, fixed-length hashes chosen by the validator, never attacker-sized input. A store answers
 * `true` the first time it sees a proof key, `false` after, and rejects with a {@link ReplayStoreError} when it
 * cannot decide (the validator answers 503 with the error's `retryAfter`).
 *
 * Fairness (docs/decisions.md D17): the store is shared by every client, so no client may be able to fill it for the
 * others. Each record names its owner (a hash of the token's issuer and subject); see `MemoryReplayStore`.
 */
import { createHmac, randomBytes } from 'node:crypto';
import { ReplayStoreError } from '../errors.js';

/** One accepted DPoP proof, as the validator hands it to a store. All strings are opaque base64url hashes. */
export interface ReplayRecord {
  /** Identifies the proof (a hash of the proof-key thumbprint and the `jti`). */
  key: string;
  /** Identifies who sent it (a hash of the token's issuer and subject): shares are per owner. */
  owner: string;
  /** The proof's `iat`, in seconds. */
  iat: number;
  /** How long the entry must live, in ms: the proof's whole acceptance window plus clock tolerance. */
  ttlMs: number;
}

/** Where used proofs are remembered. Implement it to use another backend. */
export interface ReplayStore {
  /** Records the proof atomically: true the first time, false for a replay. Rejects with ReplayStoreError when it cannot decide. */
  checkAndRemember(record: ReplayRecord): Promise<boolean>;
}

/** Options of `MemoryReplayStore`. */
export interface MemoryReplayStoreOptions {
  /**
   * Live proofs held at most. Default 50,000 (≈ 2.5 MB: about 50 bytes a proof, in typed arrays that grow as used). A
   * full store costs only its heaviest owner (see the class), and only for proofs no newer than the ones it evicted,
   * so the bound can stay small.
   */
  maxEntries?: number;
  /** The clock, in ms (tests). */
  now?: () => number;
}

/** A doubly linked list threaded through the slots: its ends and its length. */
interface SlotList {
  head: number;
  tail: number;
  count: number;
}

/** An owner, and its live proofs oldest first (a {@link SlotList} through `ownerNext`/`ownerPrev`). */
interface OwnerState extends SlotList {
  id: string;
  /** Proofs of this owner with `iat` ≤ watermark are refused: some of them were evicted (see below). */
  watermark: number;
  /** When the evicted entries would have expired (ms): the watermark is forgotten after. */
  watermarkUntil: number;
}

const NONE = -1;
const FIRST_CAPACITY = 1024;
/**
 * Most buckets a key may sit past its home bucket. Finds and inserts never probe further, so no key costs more than
 * this many probes, whatever keys were stored before it. With the keyed placement below and the table at most half
 * full, a run this long is not reached by chance (≈ 0.82^128 ≈ 10⁻¹¹ per insert at half load, 10⁻¹⁹ at the bound's
 * 38 %); an insert that would need it is refused (fail closed), see `MemoryReplayStore`.
 */
export const MAX_PROBE = 128;

/**
 * In-process store for a single instance, bounded, and fair.
 *
 * When it is full, it makes room by evicting about the oldest half of the entries of the owner holding the most — the
 * flooding client, never a bystander — and raises that owner's *watermark* to the newest `iat` it evicted: until
 * those entries would have expired, that owner's proofs with an `iat` at or below the watermark are refused (503,
 * with the wait until a fresh proof passes). So eviction never re-opens a replay, one client can only deny itself,
 * and every other client keeps being served. Eviction is amortized: one scan of the owners frees many entries.
 *
 * Layout: a proof is a slot in typed arrays (its key's 64-bit fingerprint, `iat`, expiry, two list links), found
 * through an open-addressing table of slot numbers — about 50 bytes a proof and no object per proof, where a Map of
 * key strings and entry objects cost about 200 bytes and gave the garbage collector 50,000 more objects to trace.
 * Two keys with one fingerprint would make the second proof look like a replay (refused, never accepted); keys are
 * the validator's SHA-256 hashes, and with 50,000 live proofs that chance is about 3·10⁻¹⁵ per proof.
 *
 * Hash flooding: a client chooses its proof key and `jti`, hence the record key. The fingerprint is therefore an
 * HMAC-SHA256 of the key under 32 random bytes drawn when the store is created (never exposed), so nobody can
 * compute where a key lands or pick keys that share buckets; and probing is bounded (128 buckets), so even
 * keys that did share buckets would cost at most that many probes each. When a record's probe run is full (chance
 * only), the heaviest owner of that run gives way as in eviction, or the record itself is refused
 * with a quota {@link ReplayStoreError} if its own owner is the heaviest (503 for that one proof whatever
 * `onStoreError` says; the next proof, with a new `jti`, lands elsewhere).
 */
export class MemoryReplayStore implements ReplayStore {
  private readonly maxEntries: number;
  private readonly now: () => number;
  private readonly owners = new Map<string, OwnerState>();
  /** No entry expires before this time (ms), so a sweep before it frees nothing: O(1) per insert under a flood. */
  private earliestExpiry = 0;
  private capacity = 0;
  private used = 0; // slots ever handed out (below it: live or on the free list)
  private freeHead = NONE;
  // Per slot. `next` also chains the free list.
  private fingerprintHigh = new Uint32Array(0);
  private fingerprintLow = new Uint32Array(0);
  private iat = new Float64Array(0);
  private expiresAt = new Float64Array(0);
  private next = new Int32Array(0); // links of `all`
  private prev = new Int32Array(0);
  private ownerNext = new Int32Array(0);
  private ownerPrev = new Int32Array(0);
  private ownerOf: (OwnerState | undefined)[] = [];
  /** All live proofs, oldest first (≈ expiry order). */
  private readonly all: SlotList = { head: NONE, tail: NONE, count: 0 };
  /** Slot + 1 per bucket (0: empty); linear probing from the fingerprint's low bits. */
  private buckets = new Int32Array(0);
  private mask = 0;
  /** The secret key of the placement (see the class comment): per store, random, never exposed. */
  private readonly placementKey: Buffer = testPlacementKey ?? randomBytes(32);

  constructor(options: MemoryReplayStoreOptions = {}) {
    this.maxEntries = options.maxEntries ?? 50_000;
    if (!Number.isInteger(this.maxEntries) || this.maxEntries < 1) throw new RangeError('MemoryReplayStore: maxEntries must be a positive integer');
    this.now = options.now ?? Date.now;
    this.grow();
  }

  /** Live entries held. */
  get size(): number {
    return this.all.count;
  }

  /** Records the proof: true the first time, false for a replay; a ReplayStoreError for an evicted owner's old proof. */
  async checkAndRemember(record: ReplayRecord): Promise<boolean> {
    const now = this.now();
    const fingerprint = createHmac('sha256', this.placementKey).update(record.key).digest();
    const high = fingerprint.readUInt32LE(4);
    const low = fingerprint.readUInt32LE(0);
    const existing = this.find(high, low);
    if (existing !== NONE) {
      if (this.expiresAt[existing]! > now) return false;
      this.remove(existing, now);
    }
    let owner = this.owners.get(record.owner);
    if (owner !== undefined && owner.watermarkUntil > now && record.iat <= owner.watermark) {
      // Possibly a replay of an evicted proof: refuse, and say when a fresh proof (a later iat) will pass.
      throw new ReplayStoreError('proofs of this client were evicted from the replay store', {
        quota: true,
        retryAfter: Math.floor(owner.watermark) + 1 - Math.floor(now / 1000),
      });
    }
    if (this.all.count >= this.maxEntries) this.makeRoom(now);
    owner = this.owners.get(record.owner); // makeRoom may have dropped an empty owner
    if (owner === undefined) {
      owner = { id: record.owner, head: NONE, tail: NONE, count: 0, watermark: -Infinity, watermarkUntil: 0 };
      this.owners.set(record.owner, owner);
    }
    if (this.freeHead === NONE && this.used === this.capacity) this.grow();
    let bucket = this.freeBucket(low);
    if (bucket === NONE) bucket = this.displace(low, owner, now);
    const expiresAt = now + record.ttlMs;
    this.add(high, low, record.iat, expiresAt, owner, bucket);
    this.earliestExpiry = Math.min(this.earliestExpiry, expiresAt);
    return true;
  }

  /** Frees expired entries, then, if still full, half of the heaviest owner's (see the class comment). */
  private makeRoom(now: number): void {
    this.sweep(now);
    if (this.all.count < this.maxEntries) return;
    let heaviest: OwnerState | undefined;
    for (const owner of this.owners.values()) if (heaviest === undefined || owner.count > heaviest.count) heaviest = owner;
    if (heaviest === undefined) return;
    // The oldest half of its entries, cut at a whole `iat`: entries sharing the cut's `iat` stay, so that proofs the
    // owner has not sent yet with that same `iat` are not refused by the watermark (bursts made within one second).
    const half = Math.max(1, Math.floor(heaviest.count / 2));
    let slot = heaviest.head;
    for (let position = 1; position < half; position++) slot = this.ownerNext[slot]!;
    const cut = this.iat[slot]!;
    if (this.evictOwned(heaviest, (s) => this.iat[s]! < cut) === 0) {
      let left = half; // one `iat` only: evict the oldest half anyway (that second's unseen proofs are refused)
      this.evictOwned(heaviest, () => left-- > 0);
    }
  }

  /**
   * The probe run from `low`'s home is full (chance, or a leaked placement key): the entry of that run whose owner
   * holds the most proofs gives way, evicted like any other (its owner's watermark refuses its replay), and its bucket
   * is returned for the new record. When that owner holds no more than the new record's own, the new record is
   * refused instead: a client can only push out someone holding more than itself, never a lighter bystander.
   */
  private displace(low: number, owner: OwnerState, now: number): number {
    let victim = NONE;
    for (let probe = 0, bucket = low & this.mask; probe <= MAX_PROBE; probe++, bucket = (bucket + 1) & this.mask) {
      const slot = this.buckets[bucket]! - 1;
      if (victim === NONE || this.ownerOf[slot]!.count > this.ownerOf[this.buckets[victim]! - 1]!.count) victim = bucket;
    }
    const slot = this.buckets[victim]! - 1;
    const heaviest = this.ownerOf[slot]!;
    if (heaviest === owner || heaviest.count <= owner.count) {
      if (owner.count === 0 && owner.watermarkUntil <= now) this.owners.delete(owner.id);
      // Quota: refused whatever onStoreError says (accepting it unremembered would let its replay pass too).
      throw new ReplayStoreError('no room for this proof in the replay store; send a new proof', { quota: true, retryAfter: 1 });
    }
    heaviest.watermark = Math.max(heaviest.watermark, this.iat[slot]!);
    heaviest.watermarkUntil = Math.max(heaviest.watermarkUntil, this.expiresAt[slot]!);
    this.release(slot); // the bucket stays taken: the new record takes it over, so no run is cut
    return victim;
  }

  /** Unlinks a slot from both lists and frees it, leaving the table alone (the caller reuses or rebuilds it). */
  private release(slot: number): void {
    unlink(this.all, slot, this.next, this.prev);
    unlink(this.ownerOf[slot]!, slot, this.ownerNext, this.ownerPrev);
    this.ownerOf[slot] = undefined;
    this.next[slot] = this.freeHead;
    this.freeHead = slot;
  }

  /** Evicts the owner's entries that `select` picks, raising its watermark over them. Returns how many. */
  private evictOwned(owner: OwnerState, select: (slot: number) => boolean): number {
    let evicted = 0;
    for (let slot = owner.head, following = NONE; slot !== NONE; slot = following) {
      following = this.ownerNext[slot]!;
      if (!select(slot)) continue;
      owner.watermark = Math.max(owner.watermark, this.iat[slot]!);
      owner.watermarkUntil = Math.max(owner.watermarkUntil, this.expiresAt[slot]!);
      this.detach(slot);
      evicted++;
    }
    return evicted;
  }

  private sweep(now: number): void {
    if (now < this.earliestExpiry) return;
    // Entries mostly expire in insertion order: stop at the first live one.
    while (this.all.head !== NONE && !(this.expiresAt[this.all.head]! > now)) this.remove(this.all.head, now);
    if (this.all.count < this.maxEntries) return;
    // Expired entries may sit behind live ones: scan them all once, and note when the next one expires.
    let earliest = Infinity;
    for (let slot = this.all.head, following = NONE; slot !== NONE; slot = following) {
      following = this.next[slot]!;
      if (this.expiresAt[slot]! <= now) this.remove(slot, now);
      else earliest = Math.min(earliest, this.expiresAt[slot]!);
    }
    this.earliestExpiry = earliest;
    for (const [id, owner] of this.owners) if (owner.count === 0 && owner.watermarkUntil <= now) this.owners.delete(id);
  }

  // --- slots, lists and the table --------------------------------------------------------------------------------

  /** The live slot with this fingerprint, or NONE. Never looks past MAX_PROBE buckets: no entry sits further. */
  private find(high: number, low: number): number {
    for (let probe = 0, bucket = low & this.mask; probe <= MAX_PROBE; probe++, bucket = (bucket + 1) & this.mask) {
      const entry = this.buckets[bucket]!;
      if (entry === 0) return NONE;
      if (this.fingerprintLow[entry - 1] === low && this.fingerprintHigh[entry - 1] === high) return entry - 1;
    }
    return NONE;
  }

  /** The first empty bucket at most MAX_PROBE past the home of `low`, or NONE. */
  private freeBucket(low: number): number {
    for (let probe = 0, bucket = low & this.mask; probe <= MAX_PROBE; probe++, bucket = (bucket + 1) & this.mask) {
      if (this.buckets[bucket] === 0) return bucket;
    }
    return NONE;
  }

  /** Stores a proof in a free slot (the caller made sure there is one), placed at `bucket`. */
  private add(high: number, low: number, iat: number, expiresAt: number, owner: OwnerState, bucket: number): void {
    let slot = this.freeHead;
    if (slot !== NONE) this.freeHead = this.next[slot]!;
    else slot = this.used++;
    this.fingerprintHigh[slot] = high;
    this.fingerprintLow[slot] = low;
    this.iat[slot] = iat;
    this.expiresAt[slot] = expiresAt;
    this.ownerOf[slot] = owner;
    append(this.all, slot, this.next, this.prev);
    append(owner, slot, this.ownerNext, this.ownerPrev);
    this.buckets[bucket] = slot + 1;
  }

  /** Removes a slot, and its owner when that has nothing left and no live watermark. */
  private remove(slot: number, now: number): void {
    const owner = this.ownerOf[slot]!;
    this.detach(slot);
    if (owner.count === 0 && owner.watermarkUntil <= now) this.owners.delete(owner.id);
  }

  /** Unlinks a slot from both lists and the table and frees it; its owner stays. */
  private detach(slot: number): void {
    this.deleteBucket(slot);
    this.release(slot);
  }

  /**
   * Linear-probing deletion without tombstones: later entries of the run move back into the gap. An entry more than
   * MAX_PROBE buckets past the gap has its home past the gap too (no entry sits further from home), so the scan
   * stops there.
   */
  private deleteBucket(slot: number): void {
    let gap = this.fingerprintLow[slot]! & this.mask;
    while (this.buckets[gap] !== slot + 1) gap = (gap + 1) & this.mask;
    for (let bucket = (gap + 1) & this.mask; this.buckets[bucket] !== 0 && ((bucket - gap) & this.mask) <= MAX_PROBE; bucket = (bucket + 1) & this.mask) {
      const home = this.fingerprintLow[this.buckets[bucket]! - 1]! & this.mask;
      // Move it back unless its home lies cyclically in (gap, bucket]: then it would sit before its home.
      const homeAfterGap = gap <= bucket ? home > gap && home <= bucket : home > gap || home <= bucket;
      if (!homeAfterGap) {
        this.buckets[gap] = this.buckets[bucket]!;
        gap = bucket;
      }
    }
    this.buckets[gap] = 0;
  }

  /** Doubles the slot arrays (up to maxEntries) and rebuilds the table at twice the slots, or more. */
  private grow(): void {
    const capacity = Math.min(this.maxEntries, Math.max(FIRST_CAPACITY, this.capacity * 2));
    const widen = <T extends Uint32Array | Int32Array | Float64Array>(old: T, make: new (n: number) => T): T => {
      const wider = new make(capacity);
      wider.set(old);
      return wider;
    };
    this.fingerprintHigh = widen(this.fingerprintHigh, Uint32Array);
    this.fingerprintLow = widen(this.fingerprintLow, Uint32Array);
    this.iat = widen(this.iat, Float64Array);
    this.expiresAt = widen(this.expiresAt, Float64Array);
    this.next = widen(this.next, Int32Array);
    this.prev = widen(this.prev, Int32Array);
    this.ownerNext = widen(this.ownerNext, Int32Array);
    this.ownerPrev = widen(this.ownerPrev, Int32Array);
    this.capacity = capacity;
    let size = 2;
    while (size < capacity * 2) size *= 2;
    this.buckets = new Int32Array(size);
    this.mask = size - 1;
    // Rebuilt at a quarter full (or less): a run of MAX_PROBE is then out of reach (≈ 0.53^128 ≈ 10⁻³⁵ per key).
    // Should it happen anyway, the entry is evicted like any other (its owner's watermark refuses its replay).
    for (let slot = this.all.head, following = NONE; slot !== NONE; slot = following) {
      following = this.next[slot]!;
      const bucket = this.freeBucket(this.fingerprintLow[slot]!);
      if (bucket !== NONE) {
        this.buckets[bucket] = slot + 1;
        continue;
      }
      const owner = this.ownerOf[slot]!;
      owner.watermark = Math.max(owner.watermark, this.iat[slot]!);
      owner.watermarkUntil = Math.max(owner.watermarkUntil, this.expiresAt[slot]!);
      this.release(slot);
    }
  }
}

function append(list: SlotList, slot: number, next: Int32Array, prev: Int32Array): void {
  prev[slot] = list.tail;
  next[slot] = NONE;
  if (list.tail !== NONE) next[list.tail] = slot;
  else list.head = slot;
  list.tail = slot;
  list.count++;
}

function unlink(list: SlotList, slot: number, next: Int32Array, prev: Int32Array): void {
  const before = prev[slot]!;
  const after = next[slot]!;
  if (before !== NONE) next[before] = after;
  else list.head = after;
  if (after !== NONE) prev[after] = before;
  else list.tail = before;
  list.count--;
}

/** Tests only (never exported from the package): the placement key of stores created inside `make`. */
let testPlacementKey: Buffer | undefined;
export function withPlacementKey<T>(key: Uint8Array, make: () => T): T {
  testPlacementKey = Buffer.from(key);
  try {
    return make();
  } finally {
    testPlacementKey = undefined;
  }
}
