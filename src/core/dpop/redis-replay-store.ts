/**
 * DPoP replay store shared through Redis (RFC 9449 §11.1), fair between clients (docs/decisions.md D17) and safe on
 * Redis Cluster.
 *
 * One server-side Lua step per proof, on two keys that share the hash tag `{owner}` (so one slot, one node):
 *
 *   `<prefix>{<owner>}:p:<key>`  the proof, `PX ttlMs` (value: its `iat`)
 *   `<prefix>{<owner>}:n`        the owner's counter of proofs recorded in the current window, `PX ttlMs` from its
 *                                first proof (a fixed window as long as a proof's acceptance window)
 *
 * The step (a) answers "replay" when the proof key exists, (b) refuses an owner whose counter reached `maxPerOwner`
 * with the counter's remaining TTL (the real wait), (c) records the proof and counts it. Replays never count.
 * So one owner can hold at most 2 × `maxPerOwner` live entries (a full window's worth recorded at its end plus a
 * full one at the start of the next), and filling Redis needs many distinct token subjects, not one greedy client.
 *
 * The entries must not be evicted: an evicted proof key can be replayed for the rest of its window. Proof keys carry
 * TTLs, so every `volatile-*` policy may evict them exactly like `allkeys-*`; only `maxmemory-policy noeviction` is
 * safe (then a full Redis refuses writes and the store fails closed). {@link RedisReplayStore.checkEvictionPolicy}
 * checks it once (`CONFIG GET`, tolerated when managed Redis disables `CONFIG`).
 */
import { createHash } from 'node:crypto';

import { ConfigurationError, ReplayStoreError } from '../errors.js';
import type { ReplayRecord, ReplayStore } from './replay-store.js';

/**
 * The subset of a Redis client this library uses (the replay store and the nonce secret). ioredis `Redis` and
 * `Cluster` match it as they are. For node-redis v4+, adapt `sendCommand`:
 *
 * ```ts
 * const send = (args: string[]) => client.sendCommand(args); // a node-redis cluster: cluster.sendCommand(args[3], false, args) for EVAL/EVALSHA, args[1] for SET/GET
 * const redis: RedisLike = {
 *   evalsha: (sha, n, ...rest) => send(['EVALSHA', sha, String(n), ...rest.map(String)]),
 *   eval: (script, n, ...rest) => send(['EVAL', script, String(n), ...rest.map(String)]),
 *   config: (sub, name) => send(['CONFIG', sub, name]),
 *   set: (key, value, nx) => send(['SET', key, value, nx]),
 *   get: (key) => client.get(key),
 * };
 * ```
 */
export interface RedisLike {
  /** `EVALSHA sha numkeys keys... args...`; rejects with a `NOSCRIPT ...` error when the node lacks the script. */
  evalsha(sha1: string, numkeys: number, ...keysAndArgs: (string | number)[]): Promise<unknown>;
  /** `EVAL script numkeys keys... args...` (also caches the script on that node). */
  eval(script: string, numkeys: number, ...keysAndArgs: (string | number)[]): Promise<unknown>;
  /** `CONFIG GET name` (optional: without it, or where the server disables it, the eviction policy is not checked). */
  config?(subcommand: 'GET', parameter: string): Promise<unknown>;
  /** `SET key value NX` (nonce secret). */
  set(key: string, value: string, nx: 'NX'): Promise<unknown>;
  /** `GET key` (nonce secret). */
  get(key: string): Promise<string | null>;
}

/** Options of `RedisReplayStore`. */
export interface RedisReplayStoreOptions {
  /** Prefix of every key; must not contain `{` or `}` (the hash tag is the owner). Default `auth0-tsoa-api:dpop:`. */
  prefix?: string;
  /**
   * Most proofs one owner (token issuer + subject) may record per window of `ttlMs` (the proof acceptance window,
   * 335 s with the defaults). Default 10 000, i.e. about 30 proofs per second sustained for one subject. Over it,
   * that owner's new proofs are refused (503 with the window's remaining time); other owners are not affected.
   */
  maxPerOwner?: number;
  /** A Redis answer slower than this (ms) is an outage: the proof is refused (fail closed). Default 2000. */
  timeoutMs?: number;
  /** `retryAfter` (seconds) reported for outages, where the real wait is unknown. Default 5. */
  outageRetryAfter?: number;
  /** Where the one-time warning about an unsafe `maxmemory-policy` goes. Default `console.warn`. */
  onWarning?: (message: string) => void;
}

/**
 * The step per proof. KEYS[1] proof, KEYS[2] owner counter (same slot). ARGV[1] ttl ms, ARGV[2] maxPerOwner,
 * ARGV[3] value (iat, as sent: only stored, never compared). Returns 1 (new, recorded), 0 (replay), or -N (owner over quota; N = ms until its window
 * ends, at least 1). Time comes from the server (PX/PTTL), so instances' clocks do not matter.
 */
const SCRIPT = `
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
local ttl = tonumber(ARGV[1])
local count = tonumber(redis.call('GET', KEYS[2]) or '0')
if count >= tonumber(ARGV[2]) then
  local wait = redis.call('PTTL', KEYS[2])
  if wait < 0 then
    redis.call('PEXPIRE', KEYS[2], ttl)
    wait = ttl
  end
  return -math.max(wait, 1)
end
redis.call('SET', KEYS[1], ARGV[3], 'PX', ttl)
if redis.call('INCR', KEYS[2]) == 1 or redis.call('PTTL', KEYS[2]) < 0 then
  redis.call('PEXPIRE', KEYS[2], ttl)
end
return 1
`;
const SCRIPT_SHA = createHash('sha1').update(SCRIPT).digest('hex');

/** Base64url, bounded: keys never carry raw client input or attacker-sized strings. */
const OPAQUE = /^[A-Za-z0-9_-]{1,128}$/;

const UNSAFE_POLICY = (policy: string) =>
  `auth0-tsoa-api: Redis maxmemory-policy is "${policy}": under memory pressure Redis may evict DPoP replay entries ` +
  `(they carry TTLs, so volatile-* policies evict them too), and each evicted proof can be replayed for the rest of ` +
  `its window; set "maxmemory-policy noeviction" on the Redis used by RedisReplayStore.`;

/**
 * Shared replay store for several API instances, on one Redis server or a Redis Cluster. Fair: one owner over
 * `maxPerOwner` is refused alone. Fails closed: any outage, timeout or unexpected reply is a
 * {@link ReplayStoreError}, never an acceptance.
 */
export class RedisReplayStore implements ReplayStore {
  private readonly prefix: string;
  private readonly maxPerOwner: number;
  private readonly timeoutMs: number;
  private readonly outageRetryAfter: number;
  private readonly onWarning: (message: string) => void;
  /** The eviction-policy check runs once per store, after the first answer from Redis. */
  private policyCheck: Promise<string | undefined> | undefined;

  constructor(
    private readonly redis: Pick<RedisLike, 'evalsha' | 'eval' | 'config'>,
    options: RedisReplayStoreOptions = {},
  ) {
    this.prefix = options.prefix ?? 'auth0-tsoa-api:dpop:';
    if (/[{}]/.test(this.prefix)) throw new ConfigurationError('prefix', 'of RedisReplayStore: remove "{" and "}" (the owner is the Redis Cluster hash tag)');
    this.maxPerOwner = options.maxPerOwner ?? 10_000;
    if (!Number.isSafeInteger(this.maxPerOwner) || this.maxPerOwner < 1) throw new ConfigurationError('maxPerOwner', 'of RedisReplayStore: use a positive integer');
    this.timeoutMs = options.timeoutMs ?? 2000;
    if (!(this.timeoutMs > 0)) throw new ConfigurationError('timeoutMs', 'of RedisReplayStore: use a positive number of milliseconds');
    this.outageRetryAfter = options.outageRetryAfter ?? 5;
    if (!(this.outageRetryAfter >= 1)) throw new ConfigurationError('outageRetryAfter', 'of RedisReplayStore: use at least 1 (seconds)');
    this.onWarning = options.onWarning ?? ((message) => console.warn(message));
  }

  /** The two keys of one record (exposed for tests and operators: both carry the `{owner}` hash tag). */
  keysOf(record: Pick<ReplayRecord, 'key' | 'owner'>): { proof: string; counter: string } {
    return { proof: `${this.prefix}{${record.owner}}:p:${record.key}`, counter: `${this.prefix}{${record.owner}}:n` };
  }

  /**
   * One atomic script run: true the first time, false for a replay. Rejects with a ReplayStoreError when the owner
   * is over quota (`retryAfter`: its window's remaining time) or Redis cannot answer (`outageRetryAfter`), and with a
   * TypeError for a record that is not made of bounded base64url hashes (a caller bug, never sent to Redis).
   */
  async checkAndRemember(record: ReplayRecord): Promise<boolean> {
    const { key, owner, iat, ttlMs } = record;
    // The validator hands hashes; anything else is a bug, refused before it reaches a Redis key.
    if (typeof key !== 'string' || !OPAQUE.test(key)) throw new TypeError('RedisReplayStore: record.key must be a base64url hash');
    if (typeof owner !== 'string' || !OPAQUE.test(owner)) throw new TypeError('RedisReplayStore: record.owner must be a base64url hash');
    // A NumericDate may be fractional (RFC 7519 §2): any finite number is an iat, stored as its decimal text.
    if (typeof iat !== 'number' || !Number.isFinite(iat)) throw new TypeError('RedisReplayStore: record.iat must be a finite number');
    if (!(Number.isFinite(ttlMs) && ttlMs > 0)) throw new TypeError('RedisReplayStore: record.ttlMs must be a positive number');
    const { proof, counter } = this.keysOf(record);
    const args = [proof, counter, Math.ceil(ttlMs), this.maxPerOwner, iat] as const;

    let reply: unknown;
    try {
      reply = await this.withDeadline(this.run(args));
    } catch (error) {
      throw new ReplayStoreError(`redis: ${(error as Error)?.message ?? String(error)}`, { retryAfter: this.outageRetryAfter, cause: error });
    }
    if (this.policyCheck === undefined) void this.checkEvictionPolicy();
    if (reply === 1) return true;
    if (reply === 0) return false;
    if (typeof reply === 'number' && Number.isInteger(reply) && reply < 0) {
      throw new ReplayStoreError('DPoP proofs of this token subject are over the replay-store quota', { retryAfter: -reply / 1000, quota: true });
    }
    throw new ReplayStoreError(`redis: unexpected reply ${JSON.stringify(reply)?.slice(0, 40)}`, { retryAfter: this.outageRetryAfter });
  }

  /**
   * Reads `maxmemory-policy` once (later calls share the first answer) and warns through `onWarning` when it is not
   * `noeviction`. Resolves the policy, or undefined when it cannot be read (managed Redis often disables `CONFIG`;
   * on a Cluster one node answers). Never rejects. The store calls it itself after its first answer from Redis;
   * call it at start-up to learn earlier.
   */
  checkEvictionPolicy(): Promise<string | undefined> {
    this.policyCheck ??= this.readPolicy().then((policy) => {
      if (policy !== undefined && policy !== 'noeviction') this.onWarning(UNSAFE_POLICY(policy));
      return policy;
    });
    return this.policyCheck;
  }

  private async readPolicy(): Promise<string | undefined> {
    if (!this.redis.config) return undefined;
    try {
      const reply = await this.withDeadline(this.redis.config('GET', 'maxmemory-policy'));
      // RESP2: ['maxmemory-policy', 'noeviction']; RESP3 clients may give a map or an object.
      const value: unknown = Array.isArray(reply) ? reply[1] : reply instanceof Map ? reply.get('maxmemory-policy') : (reply as Record<string, unknown> | null)?.['maxmemory-policy'];
      return typeof value === 'string' ? value : undefined;
    } catch {
      return undefined; // CONFIG disabled or renamed (managed Redis), or no answer: nothing to check
    }
  }

  /** EVALSHA first (one short command); EVAL when this node lost or never had the script (restart, new node). */
  private async run(args: readonly (string | number)[]): Promise<unknown> {
    try {
      return await this.redis.evalsha(SCRIPT_SHA, 2, ...args);
    } catch (error) {
      if (!String((error as Error)?.message ?? '').startsWith('NOSCRIPT')) throw error;
      return this.redis.eval(SCRIPT, 2, ...args);
    }
  }

  private withDeadline<T>(promise: Promise<T>): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer within ${this.timeoutMs} ms`)), this.timeoutMs);
    });
    return Promise.race([promise, deadline]).finally(() => clearTimeout(timer));
  }
}
