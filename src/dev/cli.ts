#!/usr/bin/env node
/**
 * The `auth0-tsoa-api` bin: `npx auth0-tsoa-api dev | token | setup` (see ./commands.ts, or `--help`).
 */
import { runCommand } from './commands.js';

const stopped = new Promise<void>((resolve) => {
  process.once('SIGINT', () => resolve());
  process.once('SIGTERM', () => resolve());
});

runCommand(process.argv.slice(2), {
  cwd: process.cwd(),
  env: process.env,
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
  stopped,
}).then(
  (code) => {
    // Exit once stdout is flushed: `dev` has closed its server, and stray timers must not keep the process.
    process.stdout.write('', () => process.exit(code));
  },
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
