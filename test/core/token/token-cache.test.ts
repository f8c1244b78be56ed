/**
 * The verified-token cache's lookup key (src/core/token/token-cache.ts). The cache as the verifier uses it — admission
 * on second use, exact-token confirmation, verdicts re-checked on every hit — is in token-verifier.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { tailHash, KEY_LENGTH } from '../../../src/core/token/token-cache.js';

describe('tailHash', () => {
  it('depends on every character of the tail, and only on the tail', () => {
    const base = `${'x'.repeat(100)}${'A'.repeat(KEY_LENGTH)}`;
    const hashes = new Set<number>();
    for (let i = 0; i < KEY_LENGTH; i++) hashes.add(tailHash(`${base.slice(0, 100 + i)}B${base.slice(101 + i)}`));
    expect(hashes.size).toBe(KEY_LENGTH);
    expect(tailHash(`y${base.slice(1)}`)).toBe(tailHash(base));
    expect(tailHash(base)).toBeLessThan(2 ** 30);
  });
});
