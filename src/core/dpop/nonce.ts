/**
 * Resource-server DPoP nonces (RFC 9449 §9). A nonce is `<window>.<HMAC(secret, window)>`: unpredictable without
 * the secret, valid for the current and the previous time window, and verifiable by every instance that shares the
 * secret (from options, or kept in Redis), with no per-nonce state.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { ConfigurationError } from '../errors.js';

/** The Redis commands the nonce secret needs (ioredis `Redis` and `Cluster` fit): one key, so Cluster-safe. */
export interface NonceRedis {
  /** `SET key value NX`: the first instance's secret wins. */
  set(key: string, value: string, nx: 'NX'): Promise<unknown>;
  /** `GET key`. */
  get(key: string): Promise<string | null>;
}

/** Options of resource-server nonces (`dpop.nonce`). */
export interface NonceOptions {
  /** Seconds each nonce window lasts; a nonce is accepted in its window and the next. Default 60. */
  window?: number;
  /** Shared secret (at least 32 bytes). Without it and without `redis`, a random per-process secret is used. */
  secret?: string | Uint8Array;
  /** Keep the secret in Redis so that every instance issues and accepts the same nonces. */
  redis?: NonceRedis;
  /** Redis key of the secret. */
  redisKey?: string;
  /** The clock, in ms (tests). */
  now?: () => number;
}

/** Whether a nonce is from the current window, the previous one, or not acceptable. */
export type NonceVerdict = 'current' | 'previous' | 'invalid';

/** The `secret` option as bytes. Throws a ConfigurationError when it is too short: config.ts checks it at start-up. */
export function nonceSecret(secret: string | Uint8Array): Buffer {
  const bytes = Buffer.from(secret);
  if (bytes.length < 32) throw new ConfigurationError('dpop.nonce.secret', 'use at least 32 random bytes (e.g. openssl rand -base64 32)');
  return bytes;
}

/** Issues and checks resource-server DPoP nonces. */
export class NonceManager {
  private readonly window: number;
  private readonly now: () => number;
  private secret: Buffer | undefined;
  private loading: Promise<Buffer> | undefined;
  /** When the Redis secret was last read (ms): it is re-read once per window, see {@link NonceManager.key}. */
  private loadedAt = 0;

  constructor(private readonly options: NonceOptions = {}) {
    this.window = options.window ?? 60;
    this.now = options.now ?? Date.now;
    if (options.secret !== undefined) {
      this.secret = nonceSecret(options.secret);
    } else if (!options.redis) {
      this.secret = randomBytes(32);
    }
  }

  private windowIndex(): number {
    return Math.floor(this.now() / 1000 / this.window);
  }

  /**
   * The secret. A Redis-kept secret is re-read once per window: if Redis lost it (a restart without persistence)
   * and another instance wrote a new one, every instance converges on that one instead of splitting the fleet.
   * While Redis is unreachable, the secret already loaded keeps serving.
   */
  private async key(): Promise<Buffer> {
    const stale = this.options.redis !== undefined && this.options.secret === undefined && this.now() - this.loadedAt >= this.window * 1000;
    if (this.secret && !stale) return this.secret;
    this.loading ??= this.loadFromRedis().finally(() => {
      this.loading = undefined;
    });
    if (!this.secret) return this.loading;
    return this.loading.catch(() => this.secret!);
  }

  private async loadFromRedis(): Promise<Buffer> {
    const redis = this.options.redis!;
    const key = this.options.redisKey ?? 'auth0-tsoa-api:dpop-nonce-secret';
    this.loadedAt = this.now(); // a failed attempt also waits a window before the next one
    // First instance wins; the others read what it wrote.
    await redis.set(key, randomBytes(32).toString('base64url'), 'NX');
    const value = await redis.get(key);
    const secret = value ? Buffer.from(value, 'base64url') : undefined;
    if (!secret || secret.length < 32) throw new Error('nonce secret missing or too short in redis');
    this.secret = secret;
    return secret;
  }

  private mac(secret: Buffer, index: number): string {
    return createHmac('sha256', secret).update(`dpop-nonce:${index}`).digest('base64url').slice(0, 32);
  }

  /** The nonce to hand out now. */
  async current(): Promise<string> {
    const index = this.windowIndex();
    return `${index.toString(36)}.${this.mac(await this.key(), index)}`;
  }

  /** Whether a nonce is from the current window, the previous one, or not ours / expired. */
  async verify(nonce: unknown): Promise<NonceVerdict> {
    if (typeof nonce !== 'string' || nonce.length > 64) return 'invalid';
    const match = /^([0-9a-z]{1,12})\.([A-Za-z0-9_-]{32})$/.exec(nonce);
    if (!match) return 'invalid';
    const index = parseInt(match[1]!, 36);
    const currentIndex = this.windowIndex();
    if (index !== currentIndex && index !== currentIndex - 1) return 'invalid';
    const expected = Buffer.from(this.mac(await this.key(), index));
    const given = Buffer.from(match[2]!);
    if (expected.length !== given.length || !timingSafeEqual(expected, given)) return 'invalid';
    return index === currentIndex ? 'current' : 'previous';
  }
}
