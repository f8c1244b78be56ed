/**
 * Installing from the repository instead of a tarball, as the README offers until the package is published:
 * `npm install git+file://…#<commit>` (npm clones, installs the devDependencies and runs `prepare`, the package
 * build) and `npm install <folder>` (a link; npm runs `prepare` in the folder). Either way the app gets both builds
 * and the `auth0-tsoa-api` command. The git install builds the last commit (HEAD), not uncommitted changes.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { exec, npm, packedTarball, ROOT, seconds } from './support.js';

const made: string[] = [];
afterAll(() => {
  for (const dir of made) rmSync(dir, { recursive: true, force: true });
});

function emptyApp(name: string): string {
  const dir = mkdtempSync(join(tmpdir(), `adoption-${name}-`));
  made.push(dir);
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: `adoption-${name}`, version: '1.0.0', private: true }));
  return dir;
}

/** The installed package works from require, from import, and as a command. */
async function expectUsable(dir: string): Promise<void> {
  const required = await exec(process.execPath, ['-p', "Object.keys(require('auth0-tsoa-api/dev')).includes('startDevIssuer') && typeof require('auth0-tsoa-api').createAuth0Api"], { cwd: dir });
  expect(required.trim()).toBe('function');
  const imported = await exec(process.execPath, ['--input-type=module', '-e', "const m = await import('auth0-tsoa-api/tsoa'); console.log(typeof m.createExpressAuthentication)"], { cwd: dir });
  expect(imported.trim()).toBe('function');
  const help = await exec('npx', ['auth0-tsoa-api', 'token', '--help'], { cwd: dir });
  expect(help).toContain('Usage: npx auth0-tsoa-api token');
}

describe('install from the repository', () => {
  it('npm install git+file://…#HEAD builds the package on install (prepare) and it works from require, import and npx', async () => {
    const head = execFileSync('git', ['rev-parse', 'HEAD'], { cwd: ROOT, encoding: 'utf8' }).trim();
    const dir = emptyApp('git');
    const began = Date.now();
    await npm(['install', `git+file://${ROOT}#${head}`], dir, 600_000);
    console.log(`git install: ${seconds(began)} s`);
    expect(existsSync(join(dir, 'node_modules/auth0-tsoa-api/build/lib/cjs/index.js'))).toBe(true);
    expect(existsSync(join(dir, 'node_modules/auth0-tsoa-api/build/lib/esm/index.js'))).toBe(true);
    expect(existsSync(join(dir, 'node_modules/auth0-tsoa-api/src'))).toBe(false); // `files`: the builds, not the sources
    await expectUsable(dir);
  }, 660_000);

  it('npm install <folder> links this checkout (prepare builds it) and it works the same', async () => {
    await packedTarball(); // builds build/lib under the adoption lock, so prepare below finds it up to date
    const dir = emptyApp('folder');
    await npm(['install', ROOT], dir);
    await expectUsable(dir);
  }, 300_000);
});
