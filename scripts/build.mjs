// Builds the project when its sources changed: tsoa routes + spec → tsc → spec/openapi.json.
// `npm start`, `npm test` and `npm run bench` call it, so a fresh clone needs no separate build step.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const stamp = join(root, 'build/.stamp');
const inputs = ['src', 'tsoa.json', 'tsconfig.json', 'package.json', 'scripts/build.mjs'];

function newest(path) {
  const full = join(root, path);
  if (!existsSync(full)) return 0;
  const st = statSync(full);
  if (!st.isDirectory()) return st.mtimeMs;
  return Math.max(st.mtimeMs, ...readdirSync(full).map((name) => newest(join(path, name))));
}

const force = process.argv.includes('--force');
if (!force && existsSync(stamp) && statSync(stamp).mtimeMs >= Math.max(...inputs.map(newest))) process.exit(0);

const bin = (name) => join(root, 'node_modules/.bin', name);
const run = (cmd, args) => execFileSync(cmd, args, { cwd: root, stdio: 'inherit' });
console.log('building (tsoa spec-and-routes, tsc)…');
run(bin('tsoa'), ['spec-and-routes']);
run(bin('tsc'), ['-p', 'tsconfig.json']);
const { loadSpec } = await import(join(root, 'build/dist/src/demo/openapi.js'));
mkdirSync(join(root, 'spec'), { recursive: true });
const spec = loadSpec({ dpopMode: 'allowed', tokenUrl: 'http://127.0.0.1:3001/token', authorizationUrl: 'http://127.0.0.1:3001/auth' });
writeFileSync(join(root, 'spec/openapi.json'), JSON.stringify(spec, null, 2) + '\n');
writeFileSync(stamp, new Date().toISOString());
