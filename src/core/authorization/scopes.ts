/**
 * Scope checks: every required scope must be granted (AND). Scopes come from the `scope` claim (a space-separated
 * string or an array), from Auth0 RBAC `permissions`, or from the union of both.
 */
/** Which claims grant scopes: the OAuth `scope` claim, Auth0 RBAC `permissions`, or the union of both. */
export type ScopeClaim = 'scope' | 'permissions' | 'scope,permissions';

function fromClaim(value: unknown): string[] {
  if (typeof value === 'string') return value.split(' ').filter(Boolean);
  if (Array.isArray(value)) return value.filter((v): v is string => typeof v === 'string');
  return [];
}

/** The set of scopes a token grants under the configured claim rule. */
export function grantedScopes(claims: Readonly<Record<string, unknown>>, claim: ScopeClaim): Set<string> {
  const granted = new Set<string>();
  if (claim !== 'permissions') for (const s of fromClaim(claims.scope)) granted.add(s);
  if (claim !== 'scope') for (const s of fromClaim(claims.permissions)) granted.add(s);
  return granted;
}

/** The required scopes that are not granted (empty when access is allowed). */
export function missingScopes(required: readonly string[], granted: ReadonlySet<string>): string[] {
  return required.filter((s) => !granted.has(s));
}

/** Normalizes a `scopes` argument (string with spaces, or list) to a de-duplicated list. */
export function toScopeList(scopes: string | readonly string[] | undefined): string[] {
  if (scopes === undefined) return [];
  const list = typeof scopes === 'string' ? scopes.split(' ') : scopes;
  return [...new Set(list.map((s) => s.trim()).filter(Boolean))];
}
