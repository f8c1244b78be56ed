/**
 * The OpenAPI document: tsoa generates it from the controllers (build/tsoa/swagger.json); `finalizeSpec` adds the
 * Bearer/DPoP/OAuth2 schemes and error responses for the configured DPoP mode and issuer endpoints.
 */
import { readFileSync, existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { finalizeSpec } from '../tsoa/index.js';
import type { DpopMode } from '../core/config.js';
import { SCOPES } from './scopes.js';
import { POLICIES } from './policies.js';

/** The repository root: the nearest folder above this file with a package.json (works from src/ and build/). */
export function projectRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) {
    const parent = dirname(dir);
    if (parent === dir) throw new Error('package.json not found above ' + fileURLToPath(import.meta.url));
    dir = parent;
  }
  return dir;
}

export interface SpecOptions {
  dpopMode: DpopMode;
  tokenUrl?: string | undefined;
  authorizationUrl?: string | undefined;
}

/** The document tsoa generated from the controllers (`npm run build`), before any post-processing. */
export function generatedSpec(): Record<string, unknown> {
  return JSON.parse(readFileSync(join(projectRoot(), 'build/tsoa/swagger.json'), 'utf8')) as Record<string, unknown>;
}

/** The completed document for given endpoints, as `serveDocs` serves it (for spec/openapi.json and SDK generation). */
export function loadSpec(options: SpecOptions): Record<string, unknown> {
  return finalizeSpec(generatedSpec(), {
    scopes: SCOPES,
    policies: POLICIES,
    dpopMode: options.dpopMode,
    ...(options.tokenUrl ? { tokenUrl: options.tokenUrl } : {}),
    ...(options.authorizationUrl ? { authorizationUrl: options.authorizationUrl } : {}),
  });
}
