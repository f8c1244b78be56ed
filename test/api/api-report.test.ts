/**
 * The public API is reviewed: API Extractor's report of every entry point must equal the checked-in
 * api/*.api.md, and every export must have TSDoc (`ae-undocumented` is an error). A change to the surface fails here
 * until `node scripts/api-report.mjs --update` writes the new reports, so it shows as a diff in review.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../..', import.meta.url));

describe('the public API report', () => {
  it('matches api/*.api.md and every export is documented', async () => {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, ['scripts/api-report.mjs'], { cwd: root, timeout: 240_000 }).catch((error: { stdout: string; stderr: string }) => error);
    expect(stderr).not.toMatch(/Missing documentation|the public API changed|error\(s\)/);
    expect(stdout).toContain('public API unchanged');
  }, 240_000);

  it('keeps the package root small: about 25 runtime names', async () => {
    const root = await import('../../src/index.js');
    const names = Object.keys(root).sort();
    expect(names.length).toBeLessThanOrEqual(28);
    // Internals are not exported.
    for (const internal of ['fetchJson', 'checkClaims', 'getHeader', 'normalizeHtu', 'buildChallenge', 'resolveConfig', 'verifyProof', 'ApiValidator', 'Auth0Api']) {
      expect(names).not.toContain(internal);
    }
  });
});
