/**
 * The replay store's placement as it was before it was keyed (test support only): the bucket of a record key was
 * murmur3(key) & mask, the same in every process, so a client could pick `jti` values whose keys land in one range
 * of the table. {@link collidingKeys} does what such a client would do: about 16 SHA-256 per key.
 */
import { hash } from 'node:crypto';

/** murmur3's body over UTF-16 code units, finished with its avalanche: the old bucket hash. */
export function unseededBucketHash(key: string): number {
  let h = 0x9747b28c;
  for (let i = 0; i < key.length; i++) {
    let k = Math.imul(key.charCodeAt(i), 0xcc9e2d51);
    k = Math.imul((k << 15) | (k >>> 17), 0x1b873593);
    h ^= k;
    h = (Math.imul((h << 13) | (h >>> 19), 5) + 0xe6546b64) | 0;
  }
  h ^= key.length;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** The validator's record key of a proof (dpop.ts replayRecord): SHA-256 of [thumbprint, jti]. */
export const recordKey = (thumbprint: string, jti: string) => hash('sha256', JSON.stringify([thumbprint, jti]), 'base64url');

/**
 * `count` record keys of one proof key whose old buckets all fall in the first sixteenth of the full default table
 * (2^17 buckets: bits 13–16 of the hash zero), found by trying `jti` values, and how many hashes that took.
 */
export function collidingKeys(count: number, thumbprint = 'attacker-thumbprint'): { keys: string[]; tries: number } {
  const keys: string[] = [];
  let tries = 0;
  while (keys.length < count) {
    const key = recordKey(thumbprint, `jti-${tries++}`);
    if (((unseededBucketHash(key) >>> 13) & 0xf) === 0) keys.push(key);
  }
  return { keys, tries };
}

/** `count` record keys of random-looking `jti` values (the control). */
export const ordinaryKeys = (count: number, thumbprint = 'ordinary-thumbprint') => Array.from({ length: count }, (_, i) => recordKey(thumbprint, `jti-${i}`));
