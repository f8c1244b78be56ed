/**
 * The layers of src/ as docs/contributing.md draws them, held against every import (value and type imports alike):
 * core imports nothing above it and no framework; an adapter imports only the core and its own folder; tsoa/ nothing
 * but the core and the adapters; client/dpop.ts nothing at all (it is served to browsers as is); and no import circle
 * anywhere in src/. Read from the sources' text, so a new file is checked without being listed.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const SRC = resolve(dirname(fileURLToPath(import.meta.url)), '../../src');

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sources(path);
    return entry.name.endsWith('.ts') ? [path] : [];
  });
}

/** Every module specifier a file names: `import … from`, `export … from`, `import '…'`, `import('…')` (not in comments). */
function specifiers(source: string): string[] {
  const text = source.replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '');
  const found: string[] = [];
  const pattern = /(?:^|[\s;])(?:import|export)\s[^;]*?from\s*'([^']+)'|(?:^|[\s;])import\s*'([^']+)'|\bimport\(\s*'([^']+)'\s*\)/g;
  for (const match of text.matchAll(pattern)) found.push((match[1] ?? match[2] ?? match[3])!);
  return found;
}

interface Module {
  /** Path relative to src/, e.g. `core/http/credentials.ts`. */
  path: string;
  /** The src/ modules it imports (relative to src/). */
  local: string[];
  /** The packages it imports (`express`, `node:http`, `@hapi/boom`…). */
  packages: string[];
}

const modules: Module[] = sources(SRC).map((file) => {
  const path = relative(SRC, file);
  const named = specifiers(readFileSync(file, 'utf8'));
  return {
    path,
    local: named.filter((s) => s.startsWith('.')).map((s) => relative(SRC, resolve(dirname(file), s)).replace(/\.js$/, '.ts')),
    packages: named.filter((s) => !s.startsWith('.')),
  };
});
const layerOf = (path: string) => (path.includes('/') ? path.slice(0, path.indexOf('/')) : path);

/** Folders each layer may import from (besides its own). */
const MAY_IMPORT: Record<string, readonly string[]> = {
  core: [],
  client: [],
  express: ['core'],
  koa: ['core'],
  hapi: ['core'],
  tsoa: ['core', 'express', 'koa', 'hapi'],
  dev: ['core', 'client'],
};
const FRAMEWORKS = /^(express|koa|@koa\/|@hapi\/|tsoa$|@tsoa\/|swagger-ui-express)/;

describe('src/ layers', () => {
  it('reads a real tree (the check is not vacuous)', () => {
    expect(modules.length).toBeGreaterThan(60);
    expect(modules.find((m) => m.path === 'express/api.ts')?.local).toContain('core/validator.ts');
  });

  it.each(Object.keys(MAY_IMPORT))('%s/ imports only its own folder and the layers below it', (layer) => {
    const wrong = modules.filter((m) => layerOf(m.path) === layer).flatMap((m) => m.local.filter((target) => layerOf(target) !== layer && !MAY_IMPORT[layer]!.includes(layerOf(target))).map((target) => `${m.path} → ${target}`));
    expect(wrong).toEqual([]);
  });

  it('core/ imports no framework, tsoa or Swagger UI package (optional features load lazily elsewhere)', () => {
    const wrong = modules.filter((m) => layerOf(m.path) === 'core').flatMap((m) => m.packages.filter((p) => FRAMEWORKS.test(p)).map((p) => `${m.path} → ${p}`));
    expect(wrong).toEqual([]);
  });

  it('each adapter imports no other framework', () => {
    const own: Record<string, RegExp> = { express: /^express$/, koa: /^(koa|@koa\/)/, hapi: /^@hapi\// };
    const wrong = modules.filter((m) => layerOf(m.path) in own).flatMap((m) => m.packages.filter((p) => FRAMEWORKS.test(p) && !own[layerOf(m.path)]!.test(p)).map((p) => `${m.path} → ${p}`));
    expect(wrong).toEqual([]);
  });

  it('client/dpop.ts imports nothing (browsers load it as it is)', () => {
    const dpop = modules.find((m) => m.path === 'client/dpop.ts')!;
    expect([...dpop.local, ...dpop.packages]).toEqual([]);
  });

  it('no import circle in src/ (type imports included)', () => {
    const graph = new Map(modules.map((m) => [m.path, m.local]));
    const circles: string[] = [];
    const state = new Map<string, 'open' | 'done'>();
    const stack: string[] = [];
    const visit = (path: string) => {
      state.set(path, 'open');
      stack.push(path);
      for (const next of graph.get(path) ?? []) {
        if (state.get(next) === 'open') circles.push([...stack.slice(stack.indexOf(next)), next].join(' → '));
        else if (!state.has(next)) visit(next);
      }
      stack.pop();
      state.set(path, 'done');
    };
    for (const path of graph.keys()) if (!state.has(path)) visit(path);
    expect(circles).toEqual([]);
  });
});
