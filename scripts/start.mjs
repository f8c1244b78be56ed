// `npm start`: build if needed, then run the demo server.
import { execFileSync } from 'node:child_process';
const root = new URL('..', import.meta.url).pathname;
execFileSync(process.execPath, [root + 'scripts/build.mjs'], { stdio: 'inherit' });
await import(root + 'build/dist/src/demo/server.js').then((m) => m.main());
