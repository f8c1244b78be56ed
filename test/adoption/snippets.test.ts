/**
 * Every TypeScript snippet the README and docs/ show compiles, against the package as users get it (its exports and
 * type declarations, imported by name). Blocks marked `<!-- file: path -->` are the quick start's files, compiled in
 * fresh apps by ./apps.test.ts; every other ```ts block is compiled here, each as an ES module of its own, with
 * GLOBALS below declaring the names snippets take from your app (`app`, `auth0`, `request`, …).
 * The client-SDK snippet gets a real SDK generated next to it (scripts/sdk.mjs).
 */
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
// @ts-expect-error: a plain .mjs script without type declarations
import { generateSdk } from '../../scripts/sdk.mjs';
import { ROOT } from './support.js';

const run = promisify(execFile);

/** Written next to the snippets as snippet-globals.d.ts (not part of this repository's own type check). */
const GLOBALS = `/**
 * What the docs' snippets take from your app without declaring it: your Express app and request, your Auth0Api, the
 * OpenAPI document tsoa generated, your settings and tokens. Used by test/adoption/snippets.test.ts only.
 */
import type { Express, Request, RequestHandler } from 'express';
import type { Auth0Api } from 'auth0-tsoa-api';

declare global {
  const app: Express;
  const auth0: Auth0Api;
  const spec: Record<string, unknown>;
  const domain: string;
  const audience: string;
  const request: Request;
  const handler: RequestHandler;
  const accessToken: string;
  const dpopBoundToken: string;
  const baseUrl: string;
}

export {};
`;

interface Block {
  page: string;
  line: number;
  code: string;
  /** The `<!-- file: … -->` marker's path, for the quick start's files. */
  file: string | undefined;
}

/** README.md and every page under docs/ (not the generated API reference). */
function pages(): string[] {
  const docs = readdirSync(join(ROOT, 'docs'))
    .filter((name) => name.endsWith('.md'))
    .map((name) => `docs/${name}`);
  return ['README.md', ...docs];
}

/** The ```ts blocks of a page, with the line they start on and their `<!-- file: … -->` marker, if any. */
export function tsBlocks(page: string): Block[] {
  const lines = readFileSync(join(ROOT, page), 'utf8').split('\n');
  const out: Block[] = [];
  for (let i = 0; i < lines.length; i++) {
    if (lines[i] !== '```ts') continue;
    const end = lines.indexOf('```', i + 1);
    const marker = /^<!-- file: (\S+)/.exec(lines[i - 1] ?? '')?.[1];
    out.push({ page, line: i + 1, code: lines.slice(i + 1, end).join('\n'), file: marker });
    i = end;
  }
  return out;
}

/**
 * Pages another change owns whose snippets do not compile yet (fragments, names they do not import): left out until
 * their owner makes them whole, then removed from this list. Every other page is checked, new ones included.
 */
const NOT_YET_CHECKED: readonly string[] = [];

const blocks = pages().flatMap(tsBlocks);
const compiled = blocks.filter((block) => block.file === undefined && !NOT_YET_CHECKED.includes(block.page));
const nameOf = (block: Block) => `${block.page.replace(/[/.]/g, '-')}-L${block.line}.ts`;

let dir: string;
let diagnostics = '';

beforeAll(async () => {
  // Inside the repository: `auth0-tsoa-api` resolves to this package by its own name (its exports and types, as
  // published; the package build is made by `npm test` before vitest), other imports from its node_modules.
  mkdirSync(join(ROOT, 'test-artifacts'), { recursive: true });
  dir = mkdtempSync(join(ROOT, 'test-artifacts', 'snippets-'));
  for (const block of compiled) writeFileSync(join(dir, nameOf(block)), `${block.code}\nexport {};\n`);
  writeFileSync(join(dir, 'snippet-globals.d.ts'), GLOBALS);
  if (compiled.some((block) => block.code.includes("'./sdk/"))) {
    await generateSdk({ input: 'spec/openapi.json', output: join(dir, 'sdk'), quiet: true });
  }
  writeFileSync(
    join(dir, 'tsconfig.json'),
    JSON.stringify({
      compilerOptions: {
        target: 'ES2022',
        module: 'nodenext',
        moduleResolution: 'nodenext',
        experimentalDecorators: true,
        strict: true,
        skipLibCheck: true,
        noEmit: true,
        types: ['node'],
        lib: ['ES2023', 'DOM'],
      },
      include: ['*.ts', 'sdk/**/*.ts'],
    }),
  );
  try {
    await run(process.execPath, [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', dir], { cwd: ROOT, maxBuffer: 16 * 1024 * 1024, timeout: 240_000 });
  } catch (error) {
    diagnostics = String((error as { stdout?: string }).stdout ?? error);
  }
}, 300_000);

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('the snippets of README.md and docs/', () => {
  it('are found: the quick start’s files are marked for the app builds, the others compiled here', () => {
    expect(blocks.filter((block) => block.file !== undefined).map((block) => block.file)).toEqual(expect.arrayContaining(['src/authentication.ts', 'src/controllers/messages-controller.ts', 'src/app.ts', 'src/server.ts']));
    expect(compiled.length).toBeGreaterThanOrEqual(10);
  });

  it.each(compiled.map((block) => [`${block.page}:${block.line}`, block] as const))('%s compiles', (_where, block) => {
    const own = diagnostics.split('\n').filter((line) => line.startsWith(`${relative(ROOT, join(dir, nameOf(block)))}(`) || line.startsWith(`${nameOf(block)}(`) || line.includes(`/${nameOf(block)}(`));
    expect(own).toEqual([]);
  });

  it('the whole set compiles (no error outside the snippets either)', () => {
    expect(diagnostics).toBe('');
  });

  it('imports decorators from @tsoa/runtime, never from tsoa (its CLI would load the TypeScript compiler into the server)', () => {
    for (const block of blocks) expect(block.code, `${block.page}:${block.line}`).not.toMatch(/from 'tsoa'/);
  });
});
