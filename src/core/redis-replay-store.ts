/**
 * Shared replay store for several instances, in Redis: one `SET key 1 PX ttl NX` per proof (atomic set-if-absent
 * with expiry), a single key each, so it works on Redis Cluster too. Fails closed.
 */
import { ReplayStoreError } from './errors.js';
import type { ReplayRecord, ReplayStore } from './replay-store.js';

/** The Redis commands this store uses. `ioredis` (`Redis` and `Cluster`) fits as is. */
export interface RedisLike {
  set(key: string, value: string, px: 'PX', milliseconds: number, nx: 'NX'): Promise<unknown>;
}

/** Options of {@link RedisReplayStore}. */
export interface RedisReplayStoreOptions {
  /** Key prefix. Default `auth0-tsoa-api:dpop:`. */
  prefix?: string;
}

/** Replay state in Redis, shared by every instance. */
export class RedisReplayStore implements ReplayStore {
  private readonly prefix: string;
  constructor(
    private readonly redis: RedisLike,
    options: RedisReplayStoreOptions = {},
  ) {
    this.prefix = options.prefix ?? 'auth0-tsoa-api:dpop:';
  }

  async checkAndRemember(record: ReplayRecord): Promise<boolean> {
    let reply: unknown;
    try {
      reply = await this.redis.set(this.prefix + record.key, '1', 'PX', Math.ceil(record.ttlMs), 'NX');
    } catch (error) {
      throw new ReplayStoreError(`redis: ${(error as Error)?.message ?? String(error)}`, { retryAfter: 5, cause: error });
    }
    return reply === 'OK';
  }
}
