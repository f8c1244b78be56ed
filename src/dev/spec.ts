/**
 * The scopes an API's OpenAPI document requires, for the development issuer and `setup`: every scope listed in an
 * operation's (or the document's) `security`, described by the OAuth2 scheme's `scopes` when it has them.
 */
import { existsSync, readFileSync } from 'node:fs';
import { isAbsolute, join, relative } from 'node:path';

type Json = Record<string, unknown>;

/** Thrown for a missing or unusable spec; the message is one line that says what to do. */
export class SpecError extends Error {
  override readonly name = 'SpecError';
}

const HTTP_METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];

const isObject = (value: unknown): value is Json => typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * Scope → description for every scope the document's security requirements name (OpenAPI 3 and Swagger 2).
 * A scope the document does not describe gets an empty description.
 */
export function scopesFromSpec(spec: unknown): Record<string, string> {
  if (!isObject(spec)) throw new SpecError('the OpenAPI document is not a JSON object');
  const required = new Set<string>();
  const collect = (security: unknown) => {
    if (!Array.isArray(security)) return;
    for (const requirement of security) {
      if (!isObject(requirement)) continue;
      for (const scopes of Object.values(requirement)) {
        if (Array.isArray(scopes)) for (const scope of scopes) if (typeof scope === 'string' && scope !== '') required.add(scope);
      }
    }
  };
  collect(spec.security);
  for (const item of Object.values(isObject(spec.paths) ? spec.paths : {})) {
    if (!isObject(item)) continue;
    for (const method of HTTP_METHODS) {
      const operation = item[method];
      if (isObject(operation)) collect(operation.security);
    }
  }
  const descriptions = describedScopes(spec);
  return Object.fromEntries([...required].sort().map((scope) => [scope, descriptions.get(scope) ?? '']));
}

/** Descriptions from OAuth2 schemes: OpenAPI 3 `components.securitySchemes.*.flows.*.scopes`, Swagger 2 `securityDefinitions.*.scopes`. */
function describedScopes(spec: Json): Map<string, string> {
  const out = new Map<string, string>();
  const add = (scopes: unknown) => {
    if (!isObject(scopes)) return;
    for (const [scope, description] of Object.entries(scopes)) if (typeof description === 'string' && description) out.set(scope, description);
  };
  const components = isObject(spec.components) ? spec.components : {};
  const schemes = [
    ...Object.values(isObject(components.securitySchemes) ? components.securitySchemes : {}),
    ...Object.values(isObject(spec.securityDefinitions) ? spec.securityDefinitions : {}),
  ];
  for (const scheme of schemes) {
    if (!isObject(scheme)) continue;
    add(scheme.scopes);
    if (isObject(scheme.flows)) for (const flow of Object.values(scheme.flows)) if (isObject(flow)) add(flow.scopes);
  }
  return out;
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
    throw new SpecError(`${relative(cwd, file)} not found: run "npx tsoa spec" first (or pass --spec path/to/openapi.json)`);
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
