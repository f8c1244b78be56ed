/**
 * Helpers of the adoption tests: the packed tarball (made once, shared by the test files through a lock), the
 * README's quick-start snippets, npm with the machine's shared cache, and timings.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdirSync, readFileSync, rmdirSync, statSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const OUT = join(ROOT, 'build/adoption');
const run = promisify(execFile);

/**
 * Exact versions the apps install (the README's install lines name the packages; the tests pin them so a run is
 * repeatable and served from the npm cache). Express 4 apps get the `express4` entries.
 */
export const PINNED: Record<string, string> = {
  express: '5.3.0',
  tsoa: '6.6.0',
  '@tsoa/runtime': '6.6.0',
  'swagger-ui-express': '5.0.1',
  typescript: '5.9.3',
  '@types/express': '5.0.6',
  '@types/node': '20.19.43',
  'oidc-provider': '9.13.3',
};
/** TypeScript 7 (native compiler): the apps that use it pin this instead of PINNED.typescript. */
export const PINNED_TYPESCRIPT7 = '7.0.2';
export const PINNED_EXPRESS4: Record<string, string> = { express: '4.21.2', '@types/express': '4.17.25' };
/** The hapi app's packages (the README's `<!-- install (hapi) -->` lines). */
export const PINNED_HAPI: Record<string, string> = { '@hapi/hapi': '21.4.13', '@hapi/boom': '10.0.1' };
/** The Koa app's packages (the README's `<!-- install (koa) -->` lines). */
export const PINNED_KOA: Record<string, string> = { koa: '3.3.0', '@koa/router': '13.1.1', '@koa/bodyparser': '6.1.0', '@types/koa': '2.15.0', '@types/koa__router': '12.0.5' };

/** npm, quietly, with the machine's shared cache preferred over the network. */
export async function npm(args: string[], cwd: string, timeout = 300_000): Promise<string> {
  const { stdout } = await run('npm', [...args, '--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error'], {
    cwd,
    timeout,
    maxBuffer: 64 * 1024 * 1024,
    env: { ...process.env, npm_config_update_notifier: 'false' },
  });
  return stdout;
}

/**
 * The package as users get it: `npm pack` of this checkout (which runs `prepare`, the package build), made once per
 * build and shared by the adoption test files. A lock folder keeps two test files from packing at once.
 */
export async function packedTarball(): Promise<string> {
  mkdirSync(OUT, { recursive: true });
  const lock = join(OUT, '.lock');
  const began = Date.now();
  for (;;) {
    try {
      mkdirSync(lock);
      break;
    } catch {
      // A lock left by a killed run is stale after 5 minutes (packing takes well under one).
      if (existsSync(lock) && Date.now() - statSync(lock).mtimeMs > 300_000) rmdirSync(lock);
      if (Date.now() - began > 240_000) throw new Error(`${lock} held for 4 minutes: remove it if no test runs`);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }
  try {
    // The package build is incremental: a no-op when build/lib is up to date.
    await run(process.execPath, ['scripts/build.mjs', '--package'], { cwd: ROOT, timeout: 300_000 });
    const { version } = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string };
    const tarball = join(OUT, `auth0-tsoa-api-${version}.tgz`);
    const stamp = join(ROOT, 'build/.stamp-lib');
    const manifest = join(ROOT, 'package.json');
    const fresh = existsSync(tarball) && statSync(tarball).mtimeMs > Math.max(statSync(stamp).mtimeMs, statSync(manifest).mtimeMs, readmeTime());
    if (!fresh) await npm(['pack', '--ignore-scripts', '--pack-destination', OUT], ROOT);
    return tarball;
  } finally {
    rmdirSync(lock);
  }
}

function readmeTime(): number {
  return Math.max(...['README.md', 'LICENSE'].map((file) => statSync(join(ROOT, file)).mtimeMs));
}

/** A README code block marked `<!-- file: path -->` or `<!-- file: path (variant) -->`. */
export interface Snippet {
  path: string;
  variant: string | undefined;
  code: string;
}

/** The marked code blocks of README.md's "Use it in your tsoa app" section. */
export function readmeSnippets(): Snippet[] {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const out: Snippet[] = [];
  for (const match of readme.matchAll(/<!-- file: (\S+)(?: \(([\w-]+)\))? -->\n```\w*\n([\s\S]*?)\n```/g)) {
    out.push({ path: match[1]!, variant: match[2], code: `${match[3]!}\n` });
  }
  return out;
}

/**
 * The package names of the README's install lines (`<!-- install -->`, or `<!-- install (koa) -->` for a framework):
 * dependencies and dev dependencies.
 */
export function readmeInstall(framework?: string): { dependencies: string[]; devDependencies: string[] } {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const marker = framework ? `<!-- install \\(${framework}\\) -->` : '<!-- install -->';
  const block = new RegExp(`${marker}\\n\`\`\`sh\\n([\\s\\S]*?)\\n\`\`\``).exec(readme)?.[1];
  if (!block) throw new Error(`README.md has no ${marker} block`);
  const names = (line: string) =>
    line
      .split(/\s+/)
      .slice(2)
      .filter((word) => !word.startsWith('-') && !word.endsWith('.tgz'));
  const [deps = '', devDeps = ''] = block.split('\n');
  return { dependencies: names(deps), devDependencies: names(devDeps) };
}

/** A port that was free a moment ago. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** A long-running child whose output is kept, with a wait for a line and a stop. */
export interface Running {
  child: ChildProcess;
  output: () => string;
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<RegExpExecArray>;
  stop(): Promise<void>;
}

/**
 * Starts `command` in a process group of its own, so {@link Running.stop} also ends what it starts: `npx` runs the
 * bin as a child process and does not pass SIGTERM on.
 */
export function startProcess(command: string, args: string[], options: { cwd: string; env: NodeJS.ProcessEnv }): Running {
  const child = spawn(command, args, { cwd: options.cwd, env: options.env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  let output = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  return {
    child,
    output: () => output,
    async waitFor(pattern, timeoutMs = 30_000) {
      const began = Date.now();
      for (;;) {
        const match = pattern.exec(output);
        if (match) return match;
        if (child.exitCode !== null) throw new Error(`${command} ${args.join(' ')} exited ${child.exitCode}:\n${output}`);
        if (Date.now() - began > timeoutMs) throw new Error(`no ${pattern} from ${command} ${args.join(' ')}:\n${output}`);
        await new Promise((resolve) => setTimeout(resolve, 25));
      }
    },
    async stop() {
      const group = -child.pid!;
      const alive = () => {
        try {
          process.kill(group, 0);
          return true;
        } catch {
          return false;
        }
      };
      if (!alive()) return;
      const exited = child.exitCode !== null || child.signalCode !== null ? Promise.resolve() : once(child, 'exit');
      process.kill(group, 'SIGTERM');
      await exited;
      // The group's other members (the bin under npx) close their servers, then exit; force it after 5 s.
      for (const began = Date.now(); alive(); await new Promise((resolve) => setTimeout(resolve, 50))) {
        if (Date.now() - began > 5_000) {
          process.kill(group, 'SIGKILL');
          break;
        }
      }
    },
  };
}

/** Runs a command to its end and returns stdout (throws with the output on failure). */
export async function exec(command: string, args: string[], options: { cwd: string; env?: NodeJS.ProcessEnv; timeout?: number }): Promise<string> {
  try {
    const { stdout } = await run(command, args, { cwd: options.cwd, env: options.env ?? process.env, timeout: options.timeout ?? 120_000, maxBuffer: 16 * 1024 * 1024 });
    return stdout;
  } catch (error) {
    const { stdout = '', stderr = '' } = error as { stdout?: string; stderr?: string };
    throw new Error(`${command} ${args.join(' ')} failed in ${options.cwd}:\n${stdout}\n${stderr}`, { cause: error });
  }
}

/** Seconds since `began`, one decimal. */
export const seconds = (began: number): number => Math.round((Date.now() - began) / 100) / 10;
