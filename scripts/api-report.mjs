// The public API, reviewed: one API Extractor report per entry point (api/*.api.md), checked in.
//
//   node scripts/api-report.mjs           check: builds the package, fails when a report differs from the checked-in
//                                         one (a change to the public surface must be a visible diff) or when an
//                                         export has no TSDoc or a type its signatures use is not exported
//   node scripts/api-report.mjs --update  writes the reports (review the diff, commit it)
//   node scripts/api-report.mjs --docs    also writes the doc model (build/api-model/*.api.json) that
//                                         scripts/api-docs.mjs turns into docs/api/ with @microsoft/api-documenter
import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Extractor, ExtractorConfig } from '@microsoft/api-extractor';

const root = fileURLToPath(new URL('..', import.meta.url));
const update = process.argv.includes('--update');
const docs = process.argv.includes('--docs');
const ENTRY_POINTS = {
  'auth0-tsoa-api': 'index.d.ts',
  'auth0-tsoa-api.core': 'core/index.d.ts',
  'auth0-tsoa-api.express': 'express/index.d.ts',
  'auth0-tsoa-api.koa': 'koa/index.d.ts',
  'auth0-tsoa-api.hapi': 'hapi/index.d.ts',
  'auth0-tsoa-api.tsoa': 'tsoa/index.d.ts',
  'auth0-tsoa-api.client': 'client/index.d.ts',
  'auth0-tsoa-api.dev': 'dev/index.d.ts',
};

execFileSync(process.execPath, [join(root, 'scripts/build.mjs'), '--package'], { stdio: 'inherit' });
mkdirSync(join(root, 'api'), { recursive: true });

let failed = false;
for (const [name, entry] of Object.entries(ENTRY_POINTS)) {
  const config = ExtractorConfig.prepare({
    configObject: {
      projectFolder: root,
      mainEntryPointFilePath: join(root, 'build/lib/esm', entry),
      compiler: {
        overrideTsconfig: {
          compilerOptions: { target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', lib: ['ES2023', 'DOM', 'DOM.Iterable'], types: ['node'], skipLibCheck: true },
        },
      },
      apiReport: { enabled: true, reportFileName: name, reportFolder: join(root, 'api'), reportTempFolder: join(root, 'build/api-report') },
      docModel: docs ? { enabled: true, apiJsonFilePath: join(root, 'build/api-model', `${name}.api.json`) } : { enabled: false },
      dtsRollup: { enabled: false },
      tsdocMetadata: { enabled: false },
      messages: {
        compilerMessageReporting: { default: { logLevel: 'warning' } },
        extractorMessageReporting: {
          default: { logLevel: 'warning' },
          // Release tags (@public/@beta) are not used: everything exported is public.
          'ae-missing-release-tag': { logLevel: 'none' },
          // Every export is documented.
          'ae-undocumented': { logLevel: 'error', addToApiReportFile: false },
          // A type an entry point's signatures use is exported by that entry point (users can name it).
          'ae-forgotten-export': { logLevel: 'error', addToApiReportFile: false },
        },
        tsdocMessageReporting: { default: { logLevel: 'none' } },
      },
    },
    configObjectFullPath: undefined,
    packageJsonFullPath: join(root, 'package.json'),
  });
  const result = Extractor.invoke(config, {
    localBuild: update,
    showVerboseMessages: false,
    messageCallback: (message) => {
      if (message.logLevel === 'error') console.error(`${name}: ${message.text}${message.sourceFilePath ? ` (${message.sourceFilePath}:${message.sourceFileLine})` : ''}`);
      message.handled = message.logLevel !== 'error' && message.logLevel !== 'warning' ? message.handled : message.logLevel !== 'warning';
    },
  });
  if (!result.succeeded) {
    failed = true;
    console.error(`${name}: ${result.apiReportChanged ? `the public API changed: review api/${name}.api.md (node scripts/api-report.mjs --update)` : `${result.errorCount} error(s)`}`);
  }
}
if (failed) process.exit(1);
console.log(update ? 'api/*.api.md updated' : 'public API unchanged');
