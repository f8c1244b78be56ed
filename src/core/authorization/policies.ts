/**
 * Authorization beyond scopes, framework-free: claim rules, Auth0 Organizations and named policies that combine them
 * with scopes. Adapters supply the facts of a request (its path parameters); everything here is pure.
 *
 * Order of the checks (a request that fails several gets the first answer):
 *   1. scopes        → 403 `insufficient_scope` with `scope="…"` (RFC 6750 §3.1);
 *   2. organization  → 403 `insufficient_scope`, no `scope` attribute (the token lacks an organization, not a scope);
 *   3. claim rules   → 403 `insufficient_scope`, no `scope` attribute;
 *   4. step-up       → 401 `insufficient_user_authentication` with `acr_values` / `max_age` (RFC 9470 §3).
 * Authentication (401, 400) always comes first: these run only on a verified token. A step-up requirement also makes
 * a malformed or future `auth_time` a token problem, answered (401 `invalid_token`) before any 403
 * (docs/decisions.md D23).
 */
import { AuthError, ConfigurationError, type AuthScheme } from '../errors.js';
import { grantedScopes, missingScopes, toScopeList } from './scopes.js';
import type { ScopeClaim } from './scopes.js';
import type { AccessTokenClaims } from '../token/access-token.js';

/** A value a claim rule compares with: claims are JSON, so strings, numbers and booleans. */
export type ClaimValue = string | number | boolean;

/**
 * A check on a verified token's claims, made with `claimEquals`, `claimIncludes`, `claimAnyOf` or
 * `claimCheck`. Typed by your claims interface: `claimCheck<MyClaims>((claims) => …)`.
 */
export interface ClaimRule<C extends object = AccessTokenClaims> {
  /** What the rule requires, for documentation (e.g. `roles includes "admin"`). */
  readonly description: string;
  /** True when the claims satisfy the rule. */
  test(claims: Readonly<C>): boolean;
}

/**
 * Where the organization a token must belong to comes from: a fixed value, or a path parameter of the route
 * (`{ param: 'orgId' }` for `/orgs/{orgId}/…`). A value starting with `org_` is an organization ID (compared with
 * `org_id` exactly); anything else is an organization name (compared with `org_name`, ignoring case).
 */
export type OrganizationRule = string | { readonly param: string };

/**
 * A named authorization policy (the `policies` option): every part must hold.
 *
 * ```ts
 * policies: {
 *   admin: { scopes: ['read:admin'], claims: [claimIncludes('roles', 'admin')] },
 *   orgMember: { organization: { param: 'orgId' } },
 * }
 * ```
 */
export interface Policy<C extends object = AccessTokenClaims> {
  /** Scopes that must all be granted (added to the scopes of `@Security(name, [...])` / `requireAuth`). */
  scopes?: string | readonly string[];
  /** The Auth0 Organization the token must be issued for. */
  organization?: OrganizationRule;
  /** Claim rules that must all hold. */
  claims?: readonly ClaimRule<C>[];
  /**
   * Step-up (RFC 9470): how the user must have signed in. Refused with 401 `insufficient_user_authentication` and a
   * challenge naming `acr_values` / `max_age`, after every 403 (docs/decisions.md D23).
   */
  stepUp?: StepUpRule;
}

/**
 * What a sign-in must meet (RFC 9470 §3): `acr` one of `acr` (exact, case-sensitive strings) and `auth_time` no older
 * than `maxAge` seconds (the clock tolerance applies). At least one of the two.
 *
 * ```ts
 * stepUp: { acr: ['http://schemas.openid.net/pape/policies/2007/06/multi-factor'], maxAge: 300 }
 * ```
 */
export interface StepUpRule {
  /** Accepted `acr` values: the token's `acr` must equal one of them. */
  acr?: readonly string[];
  /** The sign-in (`auth_time`) must be at most this many seconds old. */
  maxAge?: number;
}

/** A policy with its options checked: what the validator evaluates. */
export interface ResolvedPolicy {
  /** The policy's name, as in `@Security(name)`. */
  readonly name: string;
  /** Its scopes, de-duplicated. */
  readonly scopes: readonly string[];
  /** Its organization rule, if any. */
  readonly organization?: OrganizationRule | undefined;
  /** Its claim rules. */
  readonly claims: readonly ClaimRule[];
  /** Its step-up rule, if any. */
  readonly stepUp?: StepUpRule | undefined;
}

/** What one operation requires of a verified token: a policy's parts plus the operation's own scopes. */
export interface AuthorizationRequirement {
  /** Scopes that must all be granted. */
  scopes: readonly string[];
  /** The organization the token must be issued for. */
  organization?: OrganizationRule | undefined;
  /** Claim rules that must all hold. */
  claims?: readonly ClaimRule[] | undefined;
  /** How the user must have signed in (RFC 9470). */
  stepUp?: StepUpRule | undefined;
  /** The policy this requirement comes from, for error messages. */
  policy?: string | undefined;
}

/** What the adapter knows about the request, for rules that read it. */
export interface RequestFacts {
  /** The route's path parameters, decoded (Express `req.params`). */
  params?: Readonly<Record<string, string | undefined>> | undefined;
}

/** Why authorization was refused; undefined means granted. */
export type AuthorizationDenial =
  | { reason: 'scope.insufficient'; requiredScopes: readonly string[] }
  | { reason: 'organization.mismatch' }
  | { reason: 'claims.rejected'; rule: string; cause?: unknown }
  | { reason: 'step_up.acr' | 'step_up.auth_time'; stepUp: StepUpRule }
  | { reason: 'token.auth_time_invalid' };

/**
 * A policy that cannot be applied: an unknown policy name, or an organization parameter the route does not have.
 * A programming error, never the client's: status 500 (tsoa keeps a status it finds; Express's handlers use it).
 */
export class PolicySetupError extends ConfigurationError {
  /** Always 500: the route, not the client, is wrong. */
  readonly status = 500;
}

// --- claim rules ----------------------------------------------------------------------------------------------------

const MAX_CLAIM_VALUES = 1000;

function isClaimValue(value: unknown): value is ClaimValue {
  return typeof value === 'string' || (typeof value === 'number' && Number.isFinite(value)) || typeof value === 'boolean';
}

/** How `claimIncludes` and `claimAnyOf` read a string claim. */
export interface ClaimValuesOptions {
  /**
   * Read a string claim as space-separated words (`"a b"` holds `a` and `b`). Default: only for `scope`, which is
   * defined that way (RFC 9068 §2.2.3, RFC 8693 §4.2); any other string claim is one whole value, so that
   * `"x admin@corp.example y"@evil.example` does not hold `admin@corp.example`.
   */
  spaceDelimited?: boolean;
}

/** Claims defined as space-delimited lists. */
const SPACE_DELIMITED_CLAIMS: ReadonlySet<string> = new Set(['scope']);

/**
 * The values a claim holds: an array's members, a string whole (or its space-separated words, for a
 * space-delimited claim), a number or boolean itself. Anything else (missing, null, objects) holds nothing.
 */
function claimValues(value: unknown, spaceDelimited: boolean): ClaimValue[] {
  if (typeof value === 'string') return spaceDelimited ? value.split(' ').filter(Boolean) : [value];
  if (Array.isArray(value)) return value.slice(0, MAX_CLAIM_VALUES).filter(isClaimValue);
  if (isClaimValue(value)) return [value];
  return [];
}

/** Own claims only: a claim named `constructor` or `__proto__` must not reach Object.prototype. */
function claimOf(claims: object, name: string): unknown {
  return Object.prototype.hasOwnProperty.call(claims, name) ? (claims as Record<string, unknown>)[name] : undefined;
}

function checkName(helper: string, name: unknown): string {
  if (typeof name !== 'string' || name === '') throw new ConfigurationError('policies', `${helper}() expects a claim name such as "roles", got ${JSON.stringify(name)}`);
  return name;
}

function isOptions(value: unknown): value is ClaimValuesOptions {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function spaceDelimitedFor(helper: string, name: string, options: ClaimValuesOptions | undefined): boolean {
  const given = options?.spaceDelimited;
  if (given !== undefined && typeof given !== 'boolean') throw new ConfigurationError('policies', `${helper}(): spaceDelimited must be true or false`);
  return given ?? SPACE_DELIMITED_CLAIMS.has(name);
}

function checkValues(helper: string, values: readonly unknown[]): ClaimValue[] {
  if (values.length === 0 || !values.every(isClaimValue)) {
    throw new ConfigurationError('policies', `${helper}() expects one or more strings, numbers or booleans`);
  }
  return [...values] as ClaimValue[];
}

const show = (value: ClaimValue) => JSON.stringify(value);

/**
 * The claim equals `value` exactly (same type, same value; strings are case-sensitive).
 *
 * ```ts
 * claimEquals('https://example.com/tier', 'gold')
 * ```
 */
export function claimEquals<C extends object = AccessTokenClaims>(name: string, value: ClaimValue): ClaimRule<C> {
  checkName('claimEquals', name);
  const [expected] = checkValues('claimEquals', [value]);
  return {
    description: `${name} = ${show(expected!)}`,
    test: (claims) => claimOf(claims, name) === expected,
  };
}

/**
 * The claim holds every one of `values`: as members of an array (`"roles": ["admin", "editor"]`), or as a string
 * equal to the value. A string claim is compared whole, except `scope` (space-delimited by definition, RFC 9068
 * §2.2.3) or when the last argument is `{ spaceDelimited: true }`: then its space-separated words are the values.
 * A missing claim or one of another type holds nothing.
 *
 * ```ts
 * claimIncludes('roles', 'admin')                                  // roles contains "admin"
 * claimIncludes('permissions', 'a', 'b')                           // both
 * claimIncludes('https://example.com/groups', 'ops', { spaceDelimited: true }) // "dev ops" holds "ops"
 * ```
 */
export function claimIncludes<C extends object = AccessTokenClaims>(name: string, ...values: ClaimValue[]): ClaimRule<C>;
/** `claimIncludes` with {@link ClaimValuesOptions} last: `claimIncludes(name, 'a', 'b', { spaceDelimited: true })`. */
export function claimIncludes<C extends object = AccessTokenClaims>(name: string, ...valuesThenOptions: [...ClaimValue[], ClaimValuesOptions]): ClaimRule<C>;
export function claimIncludes<C extends object = AccessTokenClaims>(name: string, ...args: unknown[]): ClaimRule<C> {
  checkName('claimIncludes', name);
  const options = isOptions(args.at(-1)) ? (args.at(-1) as ClaimValuesOptions) : undefined;
  const spaceDelimited = spaceDelimitedFor('claimIncludes', name, options);
  const required = checkValues('claimIncludes', options ? args.slice(0, -1) : args);
  return {
    description: `${name} includes ${required.map(show).join(' and ')}`,
    test: (claims) => {
      const held = claimValues(claimOf(claims, name), spaceDelimited);
      return required.every((value) => held.includes(value));
    },
  };
}

/**
 * The claim holds at least one of `values`: it equals one of them, or (an array) contains one of them. A string
 * claim is compared whole, except `scope` (space-delimited by definition) or with `{ spaceDelimited: true }`: then
 * any of its space-separated words may match.
 *
 * ```ts
 * claimAnyOf('https://example.com/plan', ['pro', 'enterprise'])
 * claimAnyOf('email', ['admin@corp.example'])   // "x admin@corp.example y"@evil.example does not match
 * ```
 */
export function claimAnyOf<C extends object = AccessTokenClaims>(name: string, values: readonly ClaimValue[], options?: ClaimValuesOptions): ClaimRule<C> {
  checkName('claimAnyOf', name);
  const accepted = checkValues('claimAnyOf', Array.isArray(values) ? values : []);
  const spaceDelimited = spaceDelimitedFor('claimAnyOf', name, options);
  return {
    description: `${name} is one of ${accepted.map(show).join(', ')}`,
    test: (claims) => claimValues(claimOf(claims, name), spaceDelimited).some((value) => accepted.includes(value)),
  };
}

/**
 * Any check on the claims, typed with your claims interface. The predicate must be synchronous and return exactly
 * `true` to grant: anything else (false, a Promise, a thrown error) refuses the request (fail closed).
 *
 * ```ts
 * claimCheck<MyClaims>((claims) => claims.email_verified === true, 'verified email')
 * ```
 */
export function claimCheck<C extends object = AccessTokenClaims>(predicate: (claims: Readonly<C>) => boolean, description = 'custom claim check'): ClaimRule<C> {
  if (typeof predicate !== 'function') throw new ConfigurationError('policies', 'claimCheck() expects a function (claims) => boolean');
  return { description, test: (claims) => predicate(claims) === true };
}

// --- organizations --------------------------------------------------------------------------------------------------

/** Auth0 tells organization IDs from names by this prefix (auth0-auth-js #200). */
const ORGANIZATION_ID_PREFIX = 'org_';

/**
 * Auth0's organization rule: `expected` starting with `org_` must equal the token's `org_id` exactly; anything else
 * must equal its `org_name` ignoring ASCII case only (Auth0 names are lower-case ASCII; full Unicode folding would let
 * the Kelvin sign U+212A match "k"). Missing, empty or non-string claims and an empty `expected` never match.
 */
export function organizationMatches(claims: object, expected: string): boolean {
  if (typeof expected !== 'string' || expected === '') return false;
  if (expected.startsWith(ORGANIZATION_ID_PREFIX)) return claimOf(claims, 'org_id') === expected;
  const name = claimOf(claims, 'org_name');
  return typeof name === 'string' && name !== '' && asciiLowerCase(name) === asciiLowerCase(expected);
}

/** A–Z to a–z, every other character unchanged. */
function asciiLowerCase(text: string): string {
  return text.replace(/[A-Z]+/g, (upper) => upper.toLowerCase());
}

/** The organization a request must be for, from a fixed value or the route's path parameter. */
function expectedOrganization(rule: OrganizationRule, facts: RequestFacts, policy: string | undefined): string {
  if (typeof rule === 'string') return rule;
  const value = facts.params?.[rule.param];
  if (typeof value !== 'string') {
    throw new PolicySetupError(policy ? `policies.${policy}.organization` : 'organization', `the route has no path parameter "${rule.param}"; use the policy on a route such as /orgs/{${rule.param}}/… or fix the parameter name`);
  }
  return value;
}

// --- evaluation -----------------------------------------------------------------------------------------------------

const NO_FACTS: RequestFacts = Object.freeze({});

/**
 * Evaluates a requirement on verified claims: scopes, then organization, then claim rules. Returns the first
 * denial, or undefined when access is granted. Throws {@link PolicySetupError} when the requirement cannot be applied
 * to this request (an organization parameter the route does not have).
 */
export function evaluateAuthorization(
  claims: AccessTokenClaims,
  requirement: AuthorizationRequirement,
  options: { scopeClaim: ScopeClaim; facts?: RequestFacts | undefined; clockTolerance?: number | undefined; now?: number | undefined },
): AuthorizationDenial | undefined {
  const facts = options.facts ?? NO_FACTS;
  const stepUp = requirement.stepUp;
  const now = options.now ?? Math.floor(Date.now() / 1000);
  const tolerance = options.clockTolerance ?? DEFAULT_CLOCK_TOLERANCE;
  // A malformed sign-in time is a bad token, answered before any 403 (docs/decisions.md D23).
  if (stepUp?.maxAge !== undefined && !authTimeWellFormed(claims, now, tolerance)) return { reason: 'token.auth_time_invalid' };
  // Resolve the organization before judging anything: a misconfigured route fails for every caller, not only some.
  const organization = requirement.organization === undefined ? undefined : expectedOrganization(requirement.organization, facts, requirement.policy);
  if (requirement.scopes.length > 0 && missingScopes(requirement.scopes, grantedScopes(claims, options.scopeClaim)).length > 0) {
    return { reason: 'scope.insufficient', requiredScopes: requirement.scopes };
  }
  if (organization !== undefined && !organizationMatches(claims, organization)) return { reason: 'organization.mismatch' };
  for (const rule of requirement.claims ?? []) {
    let granted: boolean;
    try {
      granted = rule.test(claims);
    } catch (cause) {
      return { reason: 'claims.rejected', rule: rule.description, cause };
    }
    if (!granted) return { reason: 'claims.rejected', rule: rule.description };
  }
  return stepUp === undefined ? undefined : evaluateStepUp(claims, stepUp, now, tolerance);
}

// --- step-up (RFC 9470) ---------------------------------------------------------------------------------------------

const DEFAULT_CLOCK_TOLERANCE = 5;

/** `auth_time` (OIDC Core §2, RFC 9068 §2.2.1) absent, or a number not in the future beyond the tolerance. */
function authTimeWellFormed(claims: object, now: number, tolerance: number): boolean {
  const authTime = claimOf(claims, 'auth_time');
  if (authTime === undefined) return true; // missing: a step-up refusal, not a bad token
  return typeof authTime === 'number' && Number.isFinite(authTime) && authTime <= now + tolerance;
}

/**
 * RFC 9470 §3: `acr` must be a string equal to one of the accepted values; `auth_time` (checked well-formed above)
 * must be present and at most `maxAge` seconds old, give or take the clock tolerance.
 */
function evaluateStepUp(claims: object, stepUp: StepUpRule, now: number, tolerance: number): AuthorizationDenial | undefined {
  if (stepUp.acr !== undefined) {
    const acr = claimOf(claims, 'acr');
    if (typeof acr !== 'string' || !stepUp.acr.includes(acr)) return { reason: 'step_up.acr', stepUp };
  }
  if (stepUp.maxAge !== undefined) {
    const authTime = claimOf(claims, 'auth_time');
    if (typeof authTime !== 'number' || now - authTime > stepUp.maxAge + tolerance) return { reason: 'step_up.auth_time', stepUp };
  }
  return undefined;
}

/** A policy's requirement plus an operation's own scopes (`@Security('admin', ['extra'])`): all must hold. */
export function requirementOf(policy: ResolvedPolicy | undefined, scopes: string | readonly string[] | undefined): AuthorizationRequirement {
  const own = toScopeList(scopes);
  if (!policy) return { scopes: own };
  return {
    scopes: [...new Set([...policy.scopes, ...own])],
    organization: policy.organization,
    claims: policy.claims,
    ...(policy.stepUp !== undefined ? { stepUp: policy.stepUp } : {}),
    policy: policy.name,
  };
}

// --- configuration --------------------------------------------------------------------------------------------------

/** Names that keep their meaning in `@Security(…)`: the schemes, and the default general name. */
export const RESERVED_POLICY_NAMES: readonly string[] = ['bearer', 'dpop', 'auth0'];
/** `@Security('<name>-optional')` serves anonymous callers too (see the tsoa glue). */
export const OPTIONAL_SUFFIX = '-optional';
const POLICY_NAME = /^[A-Za-z][A-Za-z0-9_.:-]{0,63}$/;
const KNOWN_POLICY_OPTIONS = new Set(['scopes', 'organization', 'claims', 'stepUp']);
const PARAM_NAME = /^[A-Za-z_$][A-Za-z0-9_$]*$/;
// Array.isArray narrows a readonly array to any[]; this keeps the element type.
const isList = Array.isArray as (value: unknown) => value is readonly unknown[];

function resolvePolicy(name: string, policy: unknown): ResolvedPolicy {
  const option = `policies.${name}`;
  if (!POLICY_NAME.test(name)) throw new ConfigurationError(option, 'a policy name starts with a letter and has only letters, digits and "_ . : -" (at most 64)');
  if (RESERVED_POLICY_NAMES.includes(name)) throw new ConfigurationError(option, `"${name}" is reserved (@Security('${name}') keeps its meaning); choose another name`);
  if (name.endsWith(OPTIONAL_SUFFIX)) throw new ConfigurationError(option, `names ending in "${OPTIONAL_SUFFIX}" are reserved: @Security('<policy>${OPTIONAL_SUFFIX}') is the optional variant of every policy`);
  if (policy === null || typeof policy !== 'object' || Array.isArray(policy)) {
    throw new ConfigurationError(option, 'expected an object such as { scopes: ["read:x"], claims: [claimIncludes("roles", "admin")] }');
  }
  for (const key of Object.keys(policy)) {
    if (!KNOWN_POLICY_OPTIONS.has(key)) throw new ConfigurationError(`${option}.${key}`, `is not a policy option; the options are ${[...KNOWN_POLICY_OPTIONS].join(', ')}`);
  }
  const { scopes, organization, claims, stepUp } = policy as Policy;
  if (scopes !== undefined && typeof scopes !== 'string' && !(Array.isArray(scopes) && scopes.every((s) => typeof s === 'string'))) {
    throw new ConfigurationError(`${option}.scopes`, 'expected a list of scope names such as ["read:messages"]');
  }
  if (organization !== undefined) {
    const valid =
      (typeof organization === 'string' && organization.trim() !== '' && organization.trim() === organization) ||
      (organization !== null && typeof organization === 'object' && typeof organization.param === 'string' && PARAM_NAME.test(organization.param));
    if (!valid) throw new ConfigurationError(`${option}.organization`, 'expected an organization ID ("org_…") or name, or { param: "orgId" } for a path parameter');
  }
  if (claims !== undefined && !(isList(claims) && claims.every((rule) => rule !== null && typeof rule === 'object' && typeof rule.test === 'function'))) {
    throw new ConfigurationError(`${option}.claims`, 'expected a list of claim rules such as [claimIncludes("roles", "admin")]');
  }
  return {
    name,
    scopes: toScopeList(scopes),
    ...(organization !== undefined ? { organization: typeof organization === 'string' ? organization : { param: organization.param } } : {}),
    claims: [...(claims ?? [])],
    ...(stepUp !== undefined ? { stepUp: resolveStepUp(stepUp, `${option}.stepUp`) } : {}),
  };
}

const ACR_VALUE = /^[\x21\x23-\x5b\x5d-\x7e]{1,255}$/;
const MAX_STEP_UP_AGE = 366 * 24 * 60 * 60;

/**
 * Checks a step-up rule: `acr` a non-empty list of values that fit in a challenge's space-separated `acr_values`
 * (printable, no space, quote or backslash: RFC 9470 §3 and RFC 6750 §3), `maxAge` whole seconds; at least one.
 */
export function resolveStepUp(stepUp: unknown, option = 'stepUp'): StepUpRule {
  const example = 'such as { acr: ["http://schemas.openid.net/pape/policies/2007/06/multi-factor"], maxAge: 300 }';
  if (stepUp === null || typeof stepUp !== 'object' || Array.isArray(stepUp)) throw new ConfigurationError(option, `expected an object ${example}`);
  for (const key of Object.keys(stepUp)) {
    if (key !== 'acr' && key !== 'maxAge') throw new ConfigurationError(`${option}.${key}`, 'is not a step-up option; the options are acr, maxAge');
  }
  const { acr, maxAge } = stepUp as StepUpRule;
  if (acr === undefined && maxAge === undefined) throw new ConfigurationError(option, `give acr, maxAge or both, ${example}`);
  if (acr !== undefined && !(Array.isArray(acr) && acr.length > 0 && acr.every((value) => typeof value === 'string' && ACR_VALUE.test(value)))) {
    throw new ConfigurationError(`${option}.acr`, 'expected a non-empty list of acr values without spaces or quotes, e.g. ["http://schemas.openid.net/pape/policies/2007/06/multi-factor"]');
  }
  if (maxAge !== undefined && !(Number.isInteger(maxAge) && maxAge >= 0 && maxAge <= MAX_STEP_UP_AGE)) {
    throw new ConfigurationError(`${option}.maxAge`, `expected whole seconds between 0 and ${MAX_STEP_UP_AGE}, e.g. 300`);
  }
  return Object.freeze({ ...(acr !== undefined ? { acr: Object.freeze([...new Set(acr)]) } : {}), ...(maxAge !== undefined ? { maxAge } : {}) });
}

/** Checks the `policies` option. Throws a {@link ConfigurationError} naming the policy and the fix. */
export function resolvePolicies(policies: unknown): ReadonlyMap<string, ResolvedPolicy> {
  const resolved = new Map<string, ResolvedPolicy>();
  if (policies === undefined) return resolved;
  if (policies === null || typeof policies !== 'object' || Array.isArray(policies)) {
    throw new ConfigurationError('policies', 'expected an object of policy name → { scopes, organization, claims }');
  }
  for (const [name, policy] of Object.entries(policies)) resolved.set(name, resolvePolicy(name, policy));
  return resolved;
}

/** The policy named `name`; a {@link PolicySetupError} naming the fix when there is none. */
export function findPolicy(policies: ReadonlyMap<string, ResolvedPolicy>, name: string): ResolvedPolicy {
  const policy = policies.get(name);
  if (policy) return policy;
  const known = [...policies.keys()];
  throw new PolicySetupError('policies', `no policy named "${name}"; define it in createAuth0Api({ policies: { "${name}": { … } } })${known.length > 0 ? ` (defined: ${known.join(', ')})` : ''}`);
}

function stepUpDescription(reason: 'step_up.acr' | 'step_up.auth_time', stepUp: StepUpRule): string {
  if (reason === 'step_up.acr') return 'A stronger authentication method is required';
  return `More recent authentication is required (within ${stepUp.maxAge} seconds)`;
}

/** The 403 (or, for step-up, 401) of a denial: only a missing scope names the scopes (the other denials are not about scopes). */
export function denialError(denial: AuthorizationDenial, scheme: AuthScheme): AuthError {
  switch (denial.reason) {
    case 'scope.insufficient':
      return new AuthError('insufficient_scope', 'scope.insufficient', 'The access token lacks a required scope', { scheme, requiredScopes: denial.requiredScopes });
    case 'organization.mismatch':
      return new AuthError('insufficient_scope', 'organization.mismatch', 'The access token is not for this organization', { scheme });
    case 'claims.rejected':
      return new AuthError('insufficient_scope', 'claims.rejected', 'The access token does not grant access to this operation', { scheme, cause: denial.cause });
    case 'token.auth_time_invalid':
      return new AuthError('invalid_token', 'token.auth_time_invalid', 'The access token has an invalid auth_time', { scheme });
    case 'step_up.acr':
    case 'step_up.auth_time':
      // RFC 9470 §3: both attributes on every answer, so a client learns all it must do in one round trip.
      return new AuthError('insufficient_user_authentication', denial.reason, stepUpDescription(denial.reason, denial.stepUp), {
        scheme,
        stepUp: { acrValues: denial.stepUp.acr, maxAge: denial.stepUp.maxAge },
      });
  }
}
