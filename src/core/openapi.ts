/**
 * The one OpenAPI walker: which version a document is, its operations, their security requirements and the
 * security schemes. Runtime docs (`finalizeSpec`, `serveDocs`), Swagger UI serving and the development issuer's scope
 * discovery all read documents through it, so they agree on what a document requires.
 *
 * Plain JSON in, plain JSON out: no framework, no OpenAPI library. OpenAPI 3.0 and 3.1 (what tsoa 6 and 7 write) and
 * Swagger 2.0 (read only, for scope discovery).
 */

/** A security requirement: scheme name → scopes (OpenAPI 3.1 §4.8.30; 3.0 §4.7.30). */
export type SecurityRequirement = Record<string, string[]>;

/** The document versions the walker knows. */
export type OpenApiVersion = '2.0' | '3.0' | '3.1';

/** The methods of a Path Item that hold operations (OpenAPI 3.x §4.8.9). */
export const HTTP_METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'] as const;

/** One operation of a document, where it is. */
export interface OperationEntry {
  path: string;
  method: (typeof HTTP_METHODS)[number];
  /** The Operation Object itself (mutable: `finalizeSpec` completes it in its own copy). */
  operation: Record<string, unknown>;
}

export const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * The document's version: `openapi: 3.1.x` → `3.1`, `3.0.x` → `3.0`, `swagger: "2.0"` → `2.0`. A document that says
 * neither is read as 3.0 (what tsoa's `specVersion: 3` writes); any other version is undefined.
 */
export function openApiVersion(doc: unknown): OpenApiVersion | undefined {
  if (!isObject(doc)) return undefined;
  if (typeof doc.openapi === 'string') {
    if (/^3\.1\.\d+/.test(doc.openapi)) return '3.1';
    if (/^3\.0\.\d+/.test(doc.openapi)) return '3.0';
    return undefined;
  }
  if (doc.swagger !== undefined) return doc.swagger === '2.0' ? '2.0' : undefined;
  return '3.0';
}

/**
 * Whether a requirement may list scopes for any scheme. OpenAPI 3.1 §4.8.30.2: "for other security scheme types, the
 * array MAY contain a list of role names"; 3.0 allows scopes only on `oauth2` and `openIdConnect` requirements.
 */
export function scopesOnAnyScheme(doc: unknown): boolean {
  return openApiVersion(doc) === '3.1';
}

/** Every operation under `paths`, in document order. */
export function* operations(doc: unknown): Generator<OperationEntry> {
  if (!isObject(doc) || !isObject(doc.paths)) return;
  for (const [path, item] of Object.entries(doc.paths)) {
    if (!isObject(item)) continue;
    for (const method of HTTP_METHODS) {
      const operation = item[method];
      if (isObject(operation)) yield { path, method, operation };
    }
  }
}

/** A `security` value as requirements: requirement objects only, each scope list cut to its strings. */
export function requirementsOf(security: unknown): SecurityRequirement[] {
  if (!Array.isArray(security)) return [];
  const out: SecurityRequirement[] = [];
  for (const requirement of security) {
    if (!isObject(requirement)) continue;
    const clean: SecurityRequirement = {};
    for (const [name, scopes] of Object.entries(requirement)) {
      clean[name] = Array.isArray(scopes) ? scopes.filter((scope): scope is string => typeof scope === 'string') : [];
    }
    out.push(clean);
  }
  return out;
}

/** Every security requirement of the document: the top-level `security`, then each operation's. */
export function securityRequirements(doc: unknown): SecurityRequirement[] {
  if (!isObject(doc)) return [];
  const out = requirementsOf(doc.security);
  for (const { operation } of operations(doc)) out.push(...requirementsOf(operation.security));
  return out;
}

/** The security schemes: OpenAPI 3 `components.securitySchemes`, Swagger 2 `securityDefinitions`. */
export function securitySchemes(doc: unknown): Record<string, Record<string, unknown>> {
  if (!isObject(doc)) return {};
  const components = isObject(doc.components) ? doc.components : {};
  const schemes = isObject(components.securitySchemes) ? components.securitySchemes : isObject(doc.securityDefinitions) ? doc.securityDefinitions : {};
  return Object.fromEntries(Object.entries(schemes).filter((entry): entry is [string, Record<string, unknown>] => isObject(entry[1])));
}

/**
 * Scope → description from the OAuth2 schemes: 3.x `flows.*.scopes`, Swagger 2 `scopes`. Every declared scope is
 * kept; when schemes describe one differently, the first non-empty description wins (an empty one says nothing).
 */
export function describedScopes(doc: unknown): Map<string, string> {
  const out = new Map<string, string>();
  const add = (scopes: unknown) => {
    if (!isObject(scopes)) return;
    for (const [scope, description] of Object.entries(scopes)) {
      if (typeof description === 'string' && !out.get(scope)) out.set(scope, description);
    }
  };
  for (const scheme of Object.values(securitySchemes(doc))) {
    add(scheme.scopes);
    if (isObject(scheme.flows)) for (const flow of Object.values(scheme.flows)) if (isObject(flow)) add(flow.scopes);
  }
  return out;
}
