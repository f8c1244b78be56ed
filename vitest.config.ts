import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // vitest's default workers (CPUs − 1): one file at a time on a 2-core machine. Two at a time took 383 s instead of
    // 499 s here, but the demo's start-up tests ("serves within 5 s") then measured 5.6–6.9 s: time-bound assertions
    // need the machine to themselves.
    reporters: ['default', './test/support/summary-reporter.ts'],
  },
});
