/**
 * "Are the types wrong?" on the packed tarball (@arethetypeswrong/cli, pinned): the root and every subpath resolve,
 * types and code, under node10, node16 from CommonJS, node16 from ES modules and bundler, with no problem reported.
 * Also what the tarball holds: the two builds, static/, LICENSE and README, and nothing else.
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { npm, packedTarball, ROOT } from './support.js';

const run = promisify(execFile);
const ENTRYPOINTS = ['.', './core', './express', './koa', './hapi', './tsoa', './client', './dev'];
const RESOLUTIONS = ['node10', 'node16-cjs', 'node16-esm', 'bundler'] as const;

interface Resolution {
  resolution?: { fileName: string };
  implementationResolution?: { fileName: string };
  visibleProblems?: unknown[];
}
interface AttwReport {
  /** Problems grouped by kind (an object), empty when there are none. */
  problems: Record<string, unknown[]>;
  analysis: { problems: unknown[]; entrypoints: Record<string, { resolutions: Record<string, Resolution> }> };
}

let tarball: string;
let report: AttwReport;

beforeAll(async () => {
  tarball = await packedTarball();
  // attw exits non-zero when it finds problems; the JSON says which, so read it either way.
  const { stdout } = await run(process.execPath, [join(ROOT, 'node_modules/@arethetypeswrong/cli/dist/index.js'), tarball, '--format', 'json'], {
    cwd: ROOT,
    maxBuffer: 64 * 1024 * 1024,
  }).catch((error: { stdout?: string }) => ({ stdout: error.stdout ?? '' }));
  report = JSON.parse(stdout) as AttwReport;
}, 300_000);

describe('attw on the packed tarball', () => {
  it('reports no problem at all', () => {
    expect(report.problems).toEqual({});
    expect(report.analysis.problems).toEqual([]);
    expect(Object.keys(report.analysis.entrypoints).sort()).toEqual([...ENTRYPOINTS, './package.json'].sort());
  });

  describe.each(ENTRYPOINTS)('"auth0-tsoa-api%s"', (entrypoint) => {
    it.each(RESOLUTIONS)('%s: resolves types and code, CommonJS for require-style resolution, ES modules for import', (kind) => {
      const { resolution, implementationResolution, visibleProblems } = report.analysis.entrypoints[entrypoint]!.resolutions[kind]!;
      const file = entrypoint === '.' ? 'index' : `${entrypoint.slice(2)}/index`;
      // node10 is CommonJS-only resolution (no `exports`): the main/typesVersions entries point at the CommonJS build.
      const build = kind === 'node10' || kind === 'node16-cjs' ? 'cjs' : 'esm';
      expect(resolution?.fileName).toBe(`/node_modules/auth0-tsoa-api/build/lib/${build}/${file}.d.ts`);
      if (kind !== 'node10') expect(implementationResolution?.fileName).toBe(`/node_modules/auth0-tsoa-api/build/lib/${build}/${file}.js`);
      expect(visibleProblems ?? []).toEqual([]);
    });
  });
});

describe('the tarball', () => {
  it('holds the two builds, static/, LICENSE and README: no sources, tests, demo or source maps', async () => {
    const [packed] = JSON.parse(await npm(['pack', '--dry-run', '--json', '--ignore-scripts'], ROOT)) as [{ files: { path: string }[]; unpackedSize: number }];
    const files = packed.files.map((f) => f.path);
    expect(files).toEqual(expect.arrayContaining(['LICENSE', 'README.md', 'package.json', 'static/swagger-dpop-plugin.js', 'build/lib/cjs/package.json', 'build/lib/esm/dev/cli.js']));
    const outside = files.filter((path) => !/^build\/lib\/(cjs|esm)\//.test(path) && !path.startsWith('static/'));
    expect(outside.sort()).toEqual(['LICENSE', 'README.md', 'package.json']);
    expect(files.filter((path) => /\.map$|\/demo\/|^src\/|^test\//.test(path))).toEqual([]);
    // Each build has the same modules, with declarations.
    const modules = (build: string) =>
      files
        .filter((path) => path.startsWith(`build/lib/${build}/`) && path.endsWith('.js'))
        .map((path) => path.slice(`build/lib/${build}/`.length))
        .sort();
    expect(modules('cjs')).toEqual(modules('esm'));
    for (const js of modules('esm')) expect(files).toContain(`build/lib/esm/${js.replace(/\.js$/, '.d.ts')}`);
    console.log(`tarball: ${files.length} files, ${Math.round(packed.unpackedSize / 1024)} KiB unpacked`);
  });
});
