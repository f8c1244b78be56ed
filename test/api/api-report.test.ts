/**
 * The public API is reviewed: API Extractor's report of every entry point must equal the checked-in
 * api/*.api.md, and every export must have TSDoc (`ae-undocumented` is an error). A change to the surface fails here
 * until `node scripts/api-report.mjs --update` writes the new reports, so it shows as a diff in review.
 */
import { execFile } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../..', import.meta.url));

describe('the public API report', () => {
  it('matches api/*.api.md and every export is documented', async () => {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, ['scripts/api-report.mjs'], { cwd: root, timeout: 240_000 }).catch((error: { stdout: string; stderr: string }) => error);
    expect(stderr).not.toMatch(/Missing documentation|the public API changed|error\(s\)/);
    expect(stdout).toContain('public API unchanged');
    // No API Extractor warning of any kind (a forgotten export, an unresolved {@link}, …), on the console or in a report.
    expect(`${stdout}${stderr}`).not.toMatch(/\(ae-[a-z-]+\)/);
    for (const report of readdirSync(join(root, 'api'))) expect(readFileSync(join(root, 'api', report), 'utf8'), report).not.toContain('Warning:');
  }, 240_000);

  it('keeps the package root deliberate: exactly the names an Express + tsoa app needs (src/index.ts says why)', async () => {
    const root = await import('../../src/index.js');
    // Adding a runtime name to the root is a conscious change: extend this list and the comment in src/index.ts.
    expect(Object.keys(root).sort()).toEqual([
      'AUTH_FAILURE_REASONS',
      'AuthError',
      'ConfigurationError',
      'MemoryReplayStore',
      'PolicySetupError',
      'ProviderFetchError',
      'RedisReplayStore',
      'ReplayStoreError',
      'SetupError',
      'TokenExchangeError',
      'claimAnyOf',
      'claimCheck',
      'claimEquals',
      'claimIncludes',
      'createAuth0Api',
      'createExpressAuthentication',
      'createTokenExchanger',
      'errorHandler',
      'getAuth',
      'getCurrentActor',
      'getDelegationChain',
      'getOptionalAuth',
      'notFoundHandler',
      'serveDocs',
    ]);
  });

  it('exports every error class a caller can receive from ./core and the root', async () => {
    const core = await import('../../src/core/index.js');
    const root = await import('../../src/index.js');
    for (const entry of [core, root] as Array<Record<string, unknown>>) {
      for (const name of ['AuthError', 'ConfigurationError', 'PolicySetupError', 'ProviderFetchError', 'ReplayStoreError', 'SetupError', 'TokenExchangeError']) {
        const value = entry[name] as (abstract new (...args: never[]) => unknown) | undefined;
        expect(typeof value, name).toBe('function');
        expect(value!.prototype, name).toBeInstanceOf(Error);
      }
    }
  });
});
