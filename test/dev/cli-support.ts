/**
 * Runs the real `auth0-tsoa-api` command (the built bin, build/dist/src/dev/cli.js) as a user would: a child
 * process with its own environment and working folder.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const CLI = `${ROOT}build/dist/src/dev/cli.js`;

/** Builds the demo tree (which holds the command) when sources changed; a no-op after `npm test`'s build. */
export function buildOnce(): void {
  execFileSync(process.execPath, ['scripts/build.mjs'], { cwd: ROOT, stdio: 'pipe' });
}

/** Only what a shell gives, plus `vars`: no inherited AUTH0_* or NODE_ENV. */
export function cleanEnv(vars: Record<string, string> = {}): NodeJS.ProcessEnv {
  return { PATH: process.env.PATH, HOME: process.env.HOME, ...vars };
}

export interface Finished {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the command to its end. */
export async function runCli(args: string[], options: { env?: NodeJS.ProcessEnv; cwd?: string; command?: string } = {}): Promise<Finished> {
  const child = spawn(process.execPath, [options.command ?? CLI, ...args], { cwd: options.cwd ?? ROOT, env: options.env ?? cleanEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const [code] = (await once(child, 'close')) as [number | null];
  return { code, stdout, stderr };
}

export interface RunningDev {
  child: ChildProcess;
  /** AUTH0_DOMAIN as printed, e.g. http://127.0.0.1:41234 */
  domain: string;
  audience: string;
  stdout: () => string;
  stderr: () => string;
  /** SIGTERM, then the exit code. */
  stop(): Promise<number | null>;
}

/** Starts `auth0-tsoa-api dev …` and waits for its AUTH0_DOMAIN / AUTH0_AUDIENCE lines. */
export async function startDevCommand(args: string[], options: { env?: NodeJS.ProcessEnv; cwd?: string } = {}): Promise<RunningDev> {
  const child = spawn(process.execPath, [CLI, 'dev', ...args], { cwd: options.cwd ?? ROOT, env: options.env ?? cleanEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (err += chunk));
  const began = Date.now();
  for (;;) {
    const domain = /^AUTH0_DOMAIN=(\S+)$/m.exec(out)?.[1];
    const audience = /^AUTH0_AUDIENCE=(\S+)$/m.exec(out)?.[1];
    if (domain && audience && out.includes('curl')) {
      const stop = async () => {
        if (child.exitCode !== null) return child.exitCode;
        child.kill('SIGTERM');
        const [code] = (await once(child, 'close')) as [number | null];
        return code;
      };
      return { child, domain, audience, stdout: () => out, stderr: () => err, stop };
    }
    if (child.exitCode !== null) throw new Error(`dev exited ${child.exitCode}: ${err}${out}`);
    if (Date.now() - began > 20_000) {
      child.kill('SIGKILL');
      throw new Error(`dev printed no AUTH0_DOMAIN line: ${out} ${err}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/** The JSON payload of a JWT (no verification: the API under test verifies). */
export function jwtPayload(token: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString('utf8')) as Record<string, unknown>;
}
