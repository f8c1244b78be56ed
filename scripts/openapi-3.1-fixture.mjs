// Writes test/tsoa/fixtures/demo-openapi-3.1.json: the OpenAPI 3.1 document tsoa 7 generates from the demo's
// controllers (tsoa.json with `spec.specVersion: 3.1`). tsoa 7 is a pre-release, so it is installed in a temporary
// folder, not as a dependency of this package:
//
//   node scripts/openapi-3.1-fixture.mjs            # uses tsoa@7.0.0-alpha.0 (npm cache preferred)
//
// Its CLI compiles with the TypeScript 5 it depends on. Tests read the fixture (test/tsoa/openapi-31.test.ts,
// test/browser/swagger-ui-31.test.ts, test/client/sdk.test.ts).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const TSOA = '7.0.0-alpha.0';
const root = fileURLToPath(new URL('..', import.meta.url));
const out = join(root, 'test/tsoa/fixtures/demo-openapi-3.1.json');
const temp = mkdtempSync(join(tmpdir(), 'tsoa7-'));
try {
  writeFileSync(join(temp, 'package.json'), '{"private":true}');
  execFileSync('npm', ['install', `tsoa@${TSOA}`, '--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error'], { cwd: temp, stdio: 'inherit' });
  const config = JSON.parse(readFileSync(join(root, 'tsoa.json'), 'utf8'));
  delete config.routes;
  config.controllerPathGlobs = config.controllerPathGlobs.map((glob) => join(root, glob));
  config.spec = { ...config.spec, specVersion: 3.1, outputDirectory: temp, specFileBaseName: 'openapi' };
  writeFileSync(join(temp, 'tsoa.json'), JSON.stringify(config, null, 2));
  execFileSync(process.execPath, [join(temp, 'node_modules/@tsoa/cli/dist/cli.js'), 'spec', '-c', join(temp, 'tsoa.json')], { cwd: root, stdio: 'inherit' });
  const spec = JSON.parse(readFileSync(join(temp, 'openapi.json'), 'utf8'));
  if (spec.openapi !== '3.1.0') throw new Error(`tsoa ${TSOA} wrote openapi ${spec.openapi}, expected 3.1.0`);
  writeFileSync(out, `${JSON.stringify(spec, null, 2)}\n`);
  console.log(`wrote ${out} (tsoa ${TSOA}, openapi ${spec.openapi})`);
} finally {
  rmSync(temp, { recursive: true, force: true });
}
