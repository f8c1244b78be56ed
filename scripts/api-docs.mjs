// The API reference as markdown in docs/api/, generated from the TSDoc of the exports:
//
//   npm run docs:api
//
// API Extractor's doc model (scripts/api-report.mjs --docs: one model per entry point, checked like the reports),
// then @microsoft/api-documenter. Each model is named after its entry point (auth0-tsoa-api, auth0-tsoa-api.core
// for the import path auth0-tsoa-api/core, …) so the entry points get pages of their own. The root entry point
// (`auth0-tsoa-api`) re-exports a selection of core, express and tsoa (src/index.ts says which), documented under those.
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const models = join(root, 'build/api-model');
rmSync(models, { recursive: true, force: true });
try {
  execFileSync(process.execPath, [join(root, 'scripts/api-report.mjs'), '--docs'], { stdio: 'inherit' });
} catch {
  // The report check failed (printed above: review it with scripts/api-report.mjs); the models are still written.
  console.warn('api-docs: the API report check failed (see above); generating the reference from the current code');
}
const written = readdirSync(models).filter((name) => name.endsWith('.api.json'));
if (!written.includes('auth0-tsoa-api.api.json')) throw new Error(`api-docs: no doc model in ${models}: see the errors above`);

// The root entry point re-exports a selection of core, express and tsoa: documented under those.
rmSync(join(models, 'auth0-tsoa-api.api.json'));
for (const file of written.filter((name) => name !== 'auth0-tsoa-api.api.json')) {
  const path = join(models, file);
  const model = JSON.parse(readFileSync(path, 'utf8'));
  model.name = file.replace(/\.api\.json$/, ''); // auth0-tsoa-api.core: a valid package name, one per entry point
  writeFileSync(path, JSON.stringify(model, null, 2));
}

const output = join(root, 'docs/api');
rmSync(output, { recursive: true, force: true });
const require = createRequire(import.meta.url);
const documenter = join(require.resolve('@microsoft/api-documenter/package.json'), '..', 'bin/api-documenter');
execFileSync(process.execPath, [documenter, 'markdown', '--input-folder', models, '--output-folder', output], { stdio: 'inherit' });
console.log(`docs/api written from ${models}`);
