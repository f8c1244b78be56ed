/**
 * Remembers which DPoP proofs were already used (RFC 9449 §11.1), so a captured proof cannot be replayed.
 *
 * Keys are opaque strings chosen by the validator (a hash of the proof key thumbprint and `jti`), so stores never
 * see attacker-sized input. A store answers `true` the first time it sees a key within `ttlSeconds`, `false` after.
 */
export interface ReplayStore {
  /** Atomically records `key` for `ttlSeconds`; resolves false when it was already recorded. Rejects on outage. */
  checkAndRemember(key: string, ttlSeconds: number): Promise<boolean>;
}

/** Thrown by a store that cannot take more entries or cannot reach its backend. */
export class ReplayStoreError extends Error {
  override readonly name = 'ReplayStoreError';
}

/**
 * In-process store for a single instance. Bounded: when `maxEntries` unexpired proofs are held, new proofs are
 * refused (the validator answers 503) rather than forgetting live entries, which would re-open replays.
 */
export class MemoryReplayStore implements ReplayStore {
  private readonly entries = new Map<string, number>(); // key -> expiry (ms); insertion order ≈ expiry order
  private readonly maxEntries: number;
  /** No entry expires before this time (ms), so a sweep before it frees nothing: a flood costs O(1) per refusal. */
  private earliestExpiry = 0;
  private readonly now: () => number;

  constructor(options: { maxEntries?: number; now?: () => number } = {}) {
    this.maxEntries = options.maxEntries ?? 100_000;
    this.now = options.now ?? Date.now;
  }

  get size(): number {
    return this.entries.size;
  }

  async checkAndRemember(key: string, ttlSeconds: number): Promise<boolean> {
    const now = this.now();
    const expiry = this.entries.get(key);
    if (expiry !== undefined && expiry > now) return false;
    if (expiry !== undefined) this.entries.delete(key);
    if (this.entries.size >= this.maxEntries) this.sweep(now);
    if (this.entries.size >= this.maxEntries) throw new ReplayStoreError('replay store is full');
    const expiresAt = now + ttlSeconds * 1000;
    this.entries.set(key, expiresAt);
    this.earliestExpiry = Math.min(this.earliestExpiry, expiresAt);
    return true;
  }

  private sweep(now: number): void {
    if (now < this.earliestExpiry) return;
    // Entries share one TTL, so the oldest come first: stop at the first live one.
    for (const [key, expiry] of this.entries) {
      if (expiry > now) break;
      this.entries.delete(key);
    }
    if (this.entries.size < this.maxEntries) return;
    // Mixed TTLs: expired entries may sit behind live ones. Scan them all once, and note when the next one expires.
    let earliest = Infinity;
    for (const [key, expiry] of this.entries) {
      if (expiry <= now) this.entries.delete(key);
      else earliest = Math.min(earliest, expiry);
    }
    this.earliestExpiry = earliest;
  }
}

/**
 * The subset of a Redis client this library uses. `ioredis` matches it as is; for `node-redis` v4+ pass
 * an object whose `set(k, v, ...args)` calls `client.sendCommand(['SET', k, v, ...args.map(String)])`.
 */
export interface RedisLike {
  set(key: string, value: string, px: 'PX', milliseconds: number, nx: 'NX'): Promise<unknown>;
  set(key: string, value: string, nx: 'NX'): Promise<unknown>;
  get(key: string): Promise<string | null>;
}

/**
 * Shared store for several instances: one `SET key 1 PX ttl NX` per proof (atomic set-if-absent with expiry).
 * Each key is a single slot, so it works on Redis Cluster too.
 */
export class RedisReplayStore implements ReplayStore {
  private readonly prefix: string;
  constructor(private readonly redis: RedisLike, options: { prefix?: string } = {}) {
    this.prefix = options.prefix ?? 'auth0-tsoa-api:dpop-jti:';
  }

  async checkAndRemember(key: string, ttlSeconds: number): Promise<boolean> {
    let reply: unknown;
    try {
      reply = await this.redis.set(this.prefix + key, '1', 'PX', Math.ceil(ttlSeconds * 1000), 'NX');
    } catch (error) {
      throw new ReplayStoreError(`redis: ${(error as Error)?.message ?? String(error)}`);
    }
    return reply === 'OK';
  }
}
