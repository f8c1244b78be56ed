/**
 * The scopes an API's OpenAPI document requires, for the development issuer and `setup`: every scope listed in an
 * operation's (or the document's) `security`, and every scope its OAuth2 schemes describe (where `finalizeSpec` puts
 * the scopes of `policies`), read with the shared OpenAPI walker (src/core/openapi.ts).
 */
import { existsSync, readFileSync } from 'node:fs';
import { isAbsolute, join, relative } from 'node:path';
import { describedScopes, isObject, openApiVersion, securityRequirements } from '../core/openapi.js';

/** Thrown for a missing or unusable spec; the message is one line that says what to do. */
export class SpecError extends Error {
  /** The error's class name, SpecError (stable: safe to compare). */
  override readonly name = 'SpecError';
}

/**
 * Scope → description for every scope the document's security requirements name and every scope its OAuth2 schemes
 * describe (OpenAPI 3.0, 3.1 and Swagger 2). A completed document (`finalizeSpec`, or an app's `/openapi.json`)
 * describes the scopes of policies there too, so the issuer can grant every scope the app can require. A scope the
 * document does not describe gets an empty description.
 */
export function scopesFromSpec(spec: unknown): Record<string, string> {
  if (!isObject(spec)) throw new SpecError('the OpenAPI document is not a JSON object');
  if (openApiVersion(spec) === undefined) {
    throw new SpecError(`unsupported document version ${JSON.stringify(spec.openapi ?? spec.swagger)}: give an OpenAPI 3.0 or 3.1 (or Swagger 2.0) document`);
  }
  const described = describedScopes(spec);
  const scopes = new Set<string>(described.keys());
  for (const requirement of securityRequirements(spec)) {
    for (const list of Object.values(requirement)) for (const scope of list) if (scope !== '') scopes.add(scope);
  }
  return Object.fromEntries([...scopes].sort().map((scope) => [scope, described.get(scope) ?? '']));
}

/**
 * The OpenAPI document tsoa writes, found through `tsoa.json` in `cwd`: `<spec.outputDirectory>/<specFileBaseName
 * or "swagger">.json`. Throws a {@link SpecError} saying what to pass instead when there is none.
 */
export function findTsoaSpec(cwd: string): string {
  const configFile = join(cwd, 'tsoa.json');
  if (!existsSync(configFile)) {
    throw new SpecError(`no tsoa.json in ${cwd}: pass --spec path/to/openapi.json (or --scopes "a b")`);
  }
  let config: unknown;
  try {
    config = JSON.parse(readFileSync(configFile, 'utf8'));
  } catch {
    throw new SpecError(`${configFile} is not valid JSON: pass --spec path/to/openapi.json instead`);
  }
  const spec = isObject(config) && isObject(config.spec) ? config.spec : {};
  if (typeof spec.outputDirectory !== 'string') {
    throw new SpecError(`${configFile} has no spec.outputDirectory: pass --spec path/to/openapi.json instead`);
  }
  const base = typeof spec.specFileBaseName === 'string' ? spec.specFileBaseName : 'swagger';
  const file = join(cwd, spec.outputDirectory, `${base}.json`);
  if (!existsSync(file)) {
    throw new SpecError(`${relative(cwd, file)} not found: build first ("npm run build", or "npx tsoa spec"), or pass --scopes "a b" (or --spec path/to/openapi.json)`);
  }
  return file;
}

/** Reads an OpenAPI document (JSON) and returns its required scopes. `file` is relative to `cwd` unless absolute. */
export function readSpecScopes(file: string, cwd: string): Record<string, string> {
  const path = isAbsolute(file) ? file : join(cwd, file);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    throw new SpecError(`cannot read the OpenAPI document ${file}`);
  }
  let spec: unknown;
  try {
    spec = JSON.parse(text);
  } catch {
    throw new SpecError(`${file} is not JSON: give the JSON OpenAPI document (tsoa writes swagger.json)`);
  }
  return scopesFromSpec(spec);
}
