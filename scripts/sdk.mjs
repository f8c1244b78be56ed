// Generates a typed TypeScript client from the OpenAPI document with @hey-api/openapi-ts (fetch client).
//
//   npm run sdk                                  # spec/openapi.json -> sdk/
//   node scripts/sdk.mjs --input <spec> --output <dir>
//
// The output is self-contained: @hey-api/openapi-ts 0.95 bundles its fetch client (`client/`, `core/`) into the
// output folder, so the generated code needs no runtime package. Imports end in `.js` (Node ESM / NodeNext).
//
// Authentication in the generated client:
// - Bearer: `createClient(createConfig({ baseUrl, auth: () => accessToken }))` (the generator maps the `bearer`
//   and `auth0` OAuth2 schemes to `Authorization: Bearer <token>`).
// - DPoP: the generator does not understand the `http` `DPoP` scheme (it warns and skips it), so DPoP goes through
//   interceptors: `heyApiDpopInterceptor` from `auth0-tsoa-api/client`.
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));

/**
 * Generates the client. Returns the absolute output folder.
 * @param {{ input?: string, output?: string, quiet?: boolean }} [options]
 */
export async function generateSdk(options = {}) {
  const input = resolve(root, options.input ?? 'spec/openapi.json');
  const output = resolve(root, options.output ?? 'sdk');
  if (!existsSync(input)) throw new Error(`${input} not found: run \`npm run build\` first`);
  const { createClient } = await import('@hey-api/openapi-ts');

  // The generator warns once per operation about the DPoP scheme; say it once, with what to do instead.
  const warn = console.warn;
  const log = console.log;
  let skippedDpop = 0;
  console.warn = (...args) => {
    const text = String(args[0] ?? '');
    if (text.includes('unsupported security scheme') && /"scheme":\s*"DPoP"/i.test(text)) skippedDpop++;
    else warn(...args);
  };
  if (options.quiet) console.log = () => {};
  try {
    await createClient({
      input,
      output: { path: output, importFileExtension: '.js' },
      plugins: ['@hey-api/client-fetch', '@hey-api/typescript', '@hey-api/sdk'],
      logs: { level: options.quiet ? 'silent' : 'info' },
    });
  } finally {
    console.warn = warn;
    console.log = log;
  }
  if (skippedDpop > 0 && !options.quiet) {
    console.log('note: @hey-api/openapi-ts does not support the `http` DPoP scheme; send DPoP with heyApiDpopInterceptor() from auth0-tsoa-api/client');
  }
  return output;
}

function argument(name) {
  const index = process.argv.indexOf(name);
  return index > 0 ? process.argv[index + 1] : undefined;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  generateSdk({ input: argument('--input'), output: argument('--output') }).then(
    (output) => console.log(`SDK written to ${output}`),
    (error) => {
      console.error(error instanceof Error ? error.message : error);
      process.exit(1);
    },
  );
}
