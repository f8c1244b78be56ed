// Builds what changed since the last build, so every command can call it:
//
//   node scripts/build.mjs            the demo, for `npm start`, `npm test`, `npm run bench`: tsoa spec-and-routes,
//                                     tsc → build/dist, then spec/openapi.json.
//   node scripts/build.mjs --package  the published package, for npm's `prepare` (`npm pack`, installs from git or a
//                                     folder): the library without the demo, as ES modules (build/lib/esm) and as
//                                     CommonJS (build/lib/cjs), with declarations for both. Needs only `typescript`.
//   --force                           build even when nothing changed.
//
// Why two trees: Node's `require` and CommonJS type-checkers (moduleResolution node10/node16) get real CommonJS with
// CommonJS declarations (build/lib/cjs/package.json says "type": "commonjs"); `import` and bundlers get ES modules.
// The package's `exports` map sends each condition to its tree.
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const args = process.argv.slice(2);
const force = args.includes('--force');

/** Newest modification time under `path` (relative to the root), skipping `skip` folders. */
function newest(path, skip = []) {
  const full = join(root, path);
  if (!existsSync(full) || skip.includes(path)) return 0;
  const st = statSync(full);
  if (!st.isDirectory()) return st.mtimeMs;
  return Math.max(st.mtimeMs, ...readdirSync(full).map((name) => newest(join(path, name), skip)));
}

/** True when `stampFile` is newer than every input. */
function upToDate(stampFile, inputs, skip) {
  const stamp = join(root, stampFile);
  return !force && existsSync(stamp) && statSync(stamp).mtimeMs >= Math.max(...inputs.map((input) => newest(input, skip)));
}

if (args.includes('--package')) {
  buildPackage();
} else {
  await buildDemo();
}

async function buildDemo() {
  const stamp = 'build/.stamp';
  if (upToDate(stamp, ['src', 'tsoa.json', 'tsconfig.json', 'package.json', 'scripts/build.mjs'])) return;
  const bin = (name) => join(root, 'node_modules/.bin', name);
  const run = (cmd, cmdArgs) => execFileSync(cmd, cmdArgs, { cwd: root, stdio: 'inherit' });
  console.log('building (tsoa spec-and-routes, tsc)…');
  run(bin('tsoa'), ['spec-and-routes']);
  // The same controllers' routes for the demo's other frameworks (DEMO_FRAMEWORK), from tsoa.json with another
  // `middleware` and routes folder: build/generated/<framework>/routes.ts.
  for (const framework of demoFrameworks()) {
    const config = JSON.parse(readFileSync(join(root, 'tsoa.json'), 'utf8'));
    config.routes = { ...config.routes, middleware: framework, routesDir: `build/generated/${framework}` };
    const file = join(root, `build/tsoa.${framework}.json`);
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, JSON.stringify(config, null, 2));
    run(bin('tsoa'), ['routes', '-c', file]);
  }
  run(bin('tsc'), ['-p', 'tsconfig.json']);
  const { loadSpec } = await import(join(root, 'build/dist/src/demo/openapi.js'));
  mkdirSync(join(root, 'spec'), { recursive: true });
  const spec = loadSpec({ dpopMode: 'allowed', tokenUrl: 'http://127.0.0.1:3001/oauth/token', authorizationUrl: 'http://127.0.0.1:3001/authorize' });
  writeFileSync(join(root, 'spec/openapi.json'), JSON.stringify(spec, null, 2) + '\n');
  writeFileSync(join(root, stamp), new Date().toISOString());
}

/**
 * Koa always; hapi once its adapter (src/hapi), hapi itself and the demo's `hapiAuthentication` are there (tsoa's hapi
 * routes import it from the authentication module).
 */
function demoFrameworks() {
  const authentication = readFileSync(join(root, 'src/demo/authentication.ts'), 'utf8');
  const hapi = existsSync(join(root, 'src/hapi')) && existsSync(join(root, 'node_modules/@hapi/hapi')) && authentication.includes('hapiAuthentication');
  return ['koa', ...(hapi ? ['hapi'] : [])];
}

function buildPackage() {
  const stamp = 'build/.stamp-lib';
  const skip = [join('src', 'demo')];
  if (upToDate(stamp, ['src', 'tsconfig.json', 'package.json', 'scripts/build.mjs'], skip)) return;

  let ts;
  try {
    ts = createRequire(join(root, 'package.json'))('typescript');
  } catch {
    // `npm install` from git installs devDependencies before `prepare`; a bare folder install does not.
    stop(`auth0-tsoa-api: building the package needs typescript: run "npm install" in ${root} first, or install the packed tarball (npm pack)`);
  }
  console.log('building the package (build/lib: ES modules and CommonJS)…');

  const srcDir = join(root, 'src');
  const outDir = join(root, 'build/lib');
  const rootNames = sourceFiles(
    srcDir,
    skip.map((folder) => join(root, folder)),
  );
  const parsed = ts.getParsedCommandLineOfConfigFile(
    join(root, 'tsconfig.json'),
    {},
    {
      ...ts.sys,
      onUnRecoverableConfigFileDiagnostic: (diagnostic) => fail(ts, [diagnostic]),
    },
  );
  // No source maps: tsc's ES2022 output is the TypeScript minus its types, so maps would add size, not insight.
  const base = {
    ...parsed.options,
    rootDir: srcDir,
    declaration: true,
    declarationMap: false,
    sourceMap: false,
    inlineSourceMap: false,
    inlineSources: false,
    noEmit: false,
    noEmitOnError: true,
    incremental: false,
    composite: false,
    // Members tagged @internal (the validator's resolved config, …) serve the adapters, not users: kept out of the .d.ts.
    stripInternal: true,
  };

  // ES modules: the sources as they are (package "type": "module"). Type errors stop the build.
  const esmOptions = { ...base, outDir: join(outDir, 'esm') };
  const esm = ts.createProgram(rootNames, esmOptions);
  const esmDiagnostics = ts.getPreEmitDiagnostics(esm);
  if (esmDiagnostics.length > 0) fail(ts, esmDiagnostics);

  // CommonJS: the same sources read as CommonJS (a virtual src/package.json says so), so TypeScript emits `require`
  // and keeps `import()` a real dynamic import (ES-only optional dependencies such as oidc-provider stay loadable).
  // (noEmitOnError off: the diagnostics were checked just below, minus the expected import.meta ones.)
  const cjsOptions = { ...base, outDir: join(outDir, 'cjs'), noEmitOnError: false };
  const host = ts.createCompilerHost(cjsOptions);
  const virtualManifest = join(srcDir, 'package.json');
  const isVirtualManifest = (file) => file === virtualManifest || file === virtualManifest.split(sep).join('/');
  const { fileExists, readFile } = host;
  host.fileExists = (file) => isVirtualManifest(file) || fileExists.call(host, file);
  host.readFile = (file) => (isVirtualManifest(file) ? '{"type":"commonjs"}' : readFile.call(host, file));
  const cjs = ts.createProgram({ rootNames, options: cjsOptions, host });
  // `import.meta` is an ES-module feature; the transformer below replaces it, so only its diagnostics are expected.
  const IMPORT_META_IN_CJS = new Set([1343, 1470]);
  const cjsDiagnostics = ts.getPreEmitDiagnostics(cjs).filter((diagnostic) => !IMPORT_META_IN_CJS.has(diagnostic.code));
  if (cjsDiagnostics.length > 0) fail(ts, cjsDiagnostics);

  rmSync(outDir, { recursive: true, force: true });
  const esmResult = esm.emit();
  const cjsResult = cjs.emit(undefined, undefined, undefined, false, { before: [importMetaForCommonJs(ts, srcDir, outDir)] });
  const emitDiagnostics = [...esmResult.diagnostics, ...cjsResult.diagnostics];
  if (emitDiagnostics.length > 0 || esmResult.emitSkipped || cjsResult.emitSkipped) fail(ts, emitDiagnostics);

  writeFileSync(join(outDir, 'cjs/package.json'), '{\n  "type": "commonjs"\n}\n');
  chmodSync(join(outDir, 'esm/dev/cli.js'), 0o755);
  writeFileSync(join(root, stamp), new Date().toISOString());
}

/** The .ts files under `dir` (no declarations), skipping `skipDirs`. */
function sourceFiles(dir, skipDirs) {
  if (skipDirs.includes(dir)) return [];
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path, skipDirs);
    return entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts') ? [path] : [];
  });
}

/**
 * In the CommonJS tree, `import.meta.url` (and `.filename` / `.dirname`) name the same module's ES build, its twin
 * in build/lib/esm. The code that uses it looks up files relative to itself: the package root and static/, and the
 * browser DPoP helper `client/dpop.js`, which must be the ES module (browsers import it), not the CommonJS copy.
 * The values are computed once at the top of the module, where `require` and `__dirname` cannot be shadowed.
 */
function importMetaForCommonJs(ts, srcDir, outDir) {
  const f = ts.factory;
  const requireCall = (name) => f.createCallExpression(f.createIdentifier('require'), undefined, [f.createStringLiteral(name)]);
  const call = (callee, name, ...callArgs) => f.createCallExpression(f.createPropertyAccessExpression(callee, name), undefined, callArgs);
  const constant = (name, value) => f.createVariableStatement(undefined, f.createVariableDeclarationList([f.createVariableDeclaration(name, undefined, undefined, value)], ts.NodeFlags.Const));

  return (context) => (sourceFile) => {
    const names = { url: f.createUniqueName('importMetaUrl'), filename: f.createUniqueName('importMetaFilename'), dirname: f.createUniqueName('importMetaDirname') };
    let used = false;
    const visit = (node) => {
      if (ts.isPropertyAccessExpression(node) && ts.isMetaProperty(node.expression) && node.expression.keywordToken === ts.SyntaxKind.ImportKeyword) {
        const name = names[node.name.text];
        if (!name) throw new Error(`${sourceFile.fileName}: import.meta.${node.name.text} cannot be built for CommonJS`);
        used = true;
        return name;
      }
      if (ts.isMetaProperty(node) && node.keywordToken === ts.SyntaxKind.ImportKeyword) {
        throw new Error(`${sourceFile.fileName}: only import.meta.url, .filename and .dirname can be built for CommonJS`);
      }
      return ts.visitEachChild(node, visit, context);
    };
    const visited = ts.visitEachChild(sourceFile, visit, context);
    if (!used) return visited;

    const relativeJs = relative(srcDir, sourceFile.fileName).replace(/\.ts$/, '.js');
    // From build/lib/cjs/<dir> to build/lib/esm/<dir>/<file>.js, with forward slashes (path.join accepts them everywhere).
    const twin = relative(dirname(join(outDir, 'cjs', relativeJs)), join(outDir, 'esm', relativeJs))
      .split(sep)
      .join('/');
    const header = [
      constant(names.filename, call(requireCall('node:path'), 'join', f.createIdentifier('__dirname'), f.createStringLiteral(twin))),
      constant(names.dirname, call(requireCall('node:path'), 'dirname', names.filename)),
      constant(names.url, f.createPropertyAccessExpression(call(requireCall('node:url'), 'pathToFileURL', names.filename), 'href')),
    ];
    return f.updateSourceFile(visited, [...header, ...visited.statements]);
  };
}

function fail(ts, diagnostics) {
  console.error(
    ts.formatDiagnosticsWithColorAndContext(diagnostics, {
      getCanonicalFileName: (file) => file,
      getCurrentDirectory: () => root,
      getNewLine: () => '\n',
    }),
  );
  stop('auth0-tsoa-api: the package build failed');
}

/**
 * Ends a failed package build. This checkout's own `npm install` / `npm ci` (npm runs `prepare` there too) must not
 * fail on a type error in sources being edited, or without devDependencies: it warns, and `npm test` reports the
 * errors. Packing, and installing into an app (from git or a folder), still fail.
 */
function stop(message) {
  const ownInstall = ['install', 'ci'].includes(process.env.npm_command ?? '') && process.env.INIT_CWD === root.replace(/[\\/]$/, '');
  console.error(ownInstall ? `${message} (ignored during this checkout's own npm ${process.env.npm_command})` : message);
  process.exit(ownInstall ? 0 : 1);
}
