/**
 * Authorization rules of src/core/authorization/policies.ts, pure: the claim helpers (claimEquals, claimIncludes, claimAnyOf,
 * claimCheck) on missing claims, wrong types, arrays vs space-separated strings, case and inherited names; Auth0's
 * organization rule (`org_` prefix → `org_id` exact, else `org_name` ignoring case); the order of the checks (scopes,
 * then organization, then claim rules); the `policies` option's start-up checks; unknown policy names.
 */
import { describe, expect, expectTypeOf, it } from 'vitest';
import {
  claimAnyOf,
  claimCheck,
  claimEquals,
  claimIncludes,
  evaluateAuthorization,
  findPolicy,
  organizationMatches,
  PolicySetupError,
  requirementOf,
  resolvePolicies,
  type ClaimRule,
  type Policy,
} from '../../../src/core/authorization/policies.js';
import { ConfigurationError } from '../../../src/core/errors.js';
import { resolveConfig } from '../../../src/core/config.js';
import type { AccessTokenClaims } from '../../../src/core/token/access-token.js';

const BASE: AccessTokenClaims = { iss: 'https://tenant.example.com/', sub: 'auth0|user-1', aud: 'https://api.example.com', exp: 2e9, iat: 1e9 };
const claims = (extra: Record<string, unknown>): AccessTokenClaims => ({ ...BASE, ...extra });
const SCOPE = { scopeClaim: 'scope' } as const;

describe('claimEquals', () => {
  const rule = claimEquals('tier', 'gold');
  it.each<[string, unknown, boolean]>([
    ['the same string', 'gold', true],
    ['another case', 'Gold', false],
    ['a longer string', 'gold plus', false],
    ['an array holding it', ['gold'], false],
    ['a missing claim', undefined, false],
    ['null', null, false],
    ['an object', { tier: 'gold' }, false],
  ])('%s → %s', (_what, value, expected) => {
    expect(rule.test(claims(value === undefined ? {} : { tier: value }))).toBe(expected);
  });

  it('compares types strictly: 1 is not "1", true is not "true"', () => {
    expect(claimEquals('level', 1).test(claims({ level: 1 }))).toBe(true);
    expect(claimEquals('level', 1).test(claims({ level: '1' }))).toBe(false);
    expect(claimEquals('verified', true).test(claims({ verified: true }))).toBe(true);
    expect(claimEquals('verified', true).test(claims({ verified: 'true' }))).toBe(false);
  });

  it('reads own claims only: a claim named like an Object.prototype member is not inherited', () => {
    expect(claimEquals('constructor', 'x').test(claims({}))).toBe(false);
    expect(claimIncludes('toString', 'x').test(claims({}))).toBe(false);
    const parsed = JSON.parse('{"__proto__": "admin"}') as Record<string, unknown>;
    expect(claimEquals('__proto__', 'admin').test({ ...BASE, ...parsed })).toBe(true);
  });

  it('describes itself for documentation', () => {
    expect(rule.description).toBe('tier = "gold"');
  });
});

describe('claimIncludes (all of)', () => {
  const admin = claimIncludes('roles', 'admin');
  const both = claimIncludes('roles', 'admin', 'editor');
  it.each<[string, unknown, boolean, boolean]>([
    ['an array with both', ['editor', 'admin'], true, true],
    ['an array with one', ['admin'], true, false],
    ['an array without', ['viewer'], false, false],
    ['an empty array', [], false, false],
    ['a space-separated string (compared whole: roles is not space-delimited)', 'editor admin', false, false],
    ['a single-word string', 'admin', true, false],
    ['a string containing it as a substring only', 'administrator', false, false],
    ['another case', ['Admin'], false, false],
    ['non-string members only', [1, null, { admin: true }], false, false],
    ['a number', 7, false, false],
    ['an object', { admin: true }, false, false],
    ['a missing claim', undefined, false, false],
  ])('%s → admin %s, admin+editor %s', (_what, value, one, two) => {
    const c = claims(value === undefined ? {} : { roles: value });
    expect(admin.test(c)).toBe(one);
    expect(both.test(c)).toBe(two);
  });

  it('splits a string claim on spaces only for scope, or with { spaceDelimited: true }', () => {
    expect(claimIncludes('scope', 'read:a', 'write:a').test(claims({ scope: 'read:a write:a' }))).toBe(true);
    expect(claimIncludes('roles', 'admin', 'editor', { spaceDelimited: true }).test(claims({ roles: 'editor admin' }))).toBe(true);
    expect(claimIncludes('roles', 'admin', { spaceDelimited: true }).test(claims({ roles: 'editor' }))).toBe(false);
    expect(claimIncludes('scope', 'read:a', { spaceDelimited: false }).test(claims({ scope: 'read:a write:a' }))).toBe(false);
    expect(claimIncludes('scope', 'read:a write:a', { spaceDelimited: false }).test(claims({ scope: 'read:a write:a' }))).toBe(true);
    expect(claimIncludes('roles', 'admin', {}).description).toBe('roles includes "admin"');
  });

  it('matches numbers and booleans as array members', () => {
    expect(claimIncludes('levels', 3).test(claims({ levels: [1, 3] }))).toBe(true);
    expect(claimIncludes('levels', 3).test(claims({ levels: ['3'] }))).toBe(false);
  });

  it('describes itself', () => {
    expect(both.description).toBe('roles includes "admin" and "editor"');
  });
});

describe('claimAnyOf (one of)', () => {
  const plan = claimAnyOf('plan', ['pro', 'enterprise']);
  it.each<[string, unknown, boolean]>([
    ['a string equal to one', 'pro', true],
    ['a string equal to the other', 'enterprise', true],
    ['a string equal to none', 'free', false],
    ['an array holding one', ['free', 'enterprise'], true],
    ['an array holding none', ['free'], false],
    ['a space-separated string holding one (compared whole)', 'free pro', false],
    ['another case', 'PRO', false],
    ['a missing claim', undefined, false],
    ['null', null, false],
    ['a number', 1, false],
  ])('%s → %s', (_what, value, expected) => {
    expect(plan.test(claims(value === undefined ? {} : { plan: value }))).toBe(expected);
  });
});

describe('string claims are compared whole (claimAnyOf, claimIncludes)', () => {
  const email = claims({ email: '"x admin@corp.example y"@evil.example' });
  it('a quoted local part holding the allowed address between spaces does not match it', () => {
    // Old code split every string claim on spaces: this address "held" admin@corp.example.
    expect(claimAnyOf('email', ['admin@corp.example']).test(email)).toBe(false);
    expect(claimIncludes('email', 'admin@corp.example').test(email)).toBe(false);
    expect(claimAnyOf('email', ['admin@corp.example']).test(claims({ email: 'admin@corp.example' }))).toBe(true);
  });
  it('scope is space-delimited by definition; other claims only with { spaceDelimited: true }', () => {
    expect(claimAnyOf('scope', ['write:a']).test(claims({ scope: 'read:a write:a' }))).toBe(true);
    expect(claimAnyOf('plan', ['pro'], { spaceDelimited: true }).test(claims({ plan: 'free pro' }))).toBe(true);
    expect(claimAnyOf('plan', ['pro'], { spaceDelimited: false }).test(claims({ plan: 'free pro' }))).toBe(false);
  });
  it('refuses a spaceDelimited that is not a boolean', () => {
    expect(() => claimAnyOf('plan', ['pro'], { spaceDelimited: 'yes' as unknown as boolean })).toThrow(ConfigurationError);
    expect(() => claimIncludes('plan', 'pro', { spaceDelimited: 1 as unknown as boolean })).toThrow(ConfigurationError);
  });
});

describe('claimCheck (a predicate)', () => {
  interface MyClaims extends AccessTokenClaims {
    email_verified?: boolean;
    roles?: string[];
  }

  it('grants only when the predicate returns exactly true', () => {
    const verified = claimCheck<MyClaims>((c) => c.email_verified === true, 'verified email');
    expect(verified.test(claims({ email_verified: true }))).toBe(true);
    expect(verified.test(claims({ email_verified: false }))).toBe(false);
    expect(verified.description).toBe('verified email');
    // Truthy is not enough: a Promise (an async predicate) or a string must not grant.
    expect(claimCheck((() => Promise.resolve(true)) as unknown as () => boolean).test(BASE)).toBe(false);
    expect(claimCheck((() => 'yes') as unknown as () => boolean).test(BASE)).toBe(false);
  });

  it('is typed with the claims interface', () => {
    const rule = claimCheck<MyClaims>((c) => {
      expectTypeOf(c.roles).toEqualTypeOf<string[] | undefined>();
      expectTypeOf(c.sub).toEqualTypeOf<string>();
      return c.roles?.includes('admin') === true;
    });
    expectTypeOf(rule).toEqualTypeOf<ClaimRule<MyClaims>>();
    // A rule typed for MyClaims fits a policy of the options (claims are read at run time).
    const policy: Policy = { claims: [rule, claimIncludes('roles', 'admin')] };
    expect(policy.claims).toHaveLength(2);
  });

  it('a predicate that throws refuses the request (fail closed), with the error kept as the cause', () => {
    const careless = claimCheck<MyClaims>((c) => c.roles!.includes('admin'), 'roles has admin');
    const denial = evaluateAuthorization(claims({}), { scopes: [], claims: [careless] }, SCOPE);
    expect(denial).toMatchObject({ reason: 'claims.rejected', rule: 'roles has admin' });
    expect((denial as { cause?: unknown }).cause).toBeInstanceOf(TypeError);
  });
});

describe('helper arguments are checked when the policy is written', () => {
  it.each<[string, () => unknown]>([
    ['claimEquals without a name', () => claimEquals('', 'x')],
    ['claimEquals with an object value', () => claimEquals('a', {} as unknown as string)],
    ['claimEquals with NaN', () => claimEquals('a', Number.NaN)],
    ['claimIncludes without values', () => claimIncludes('roles')],
    ['claimIncludes with null', () => claimIncludes('roles', null as unknown as string)],
    ['claimAnyOf with an empty list', () => claimAnyOf('plan', [])],
    ['claimAnyOf with a string instead of a list', () => claimAnyOf('plan', 'pro' as unknown as string[])],
    ['claimCheck without a function', () => claimCheck('x' as unknown as () => boolean)],
  ])('%s → one-line ConfigurationError', (_what, make) => {
    expect(make).toThrow(ConfigurationError);
    try {
      make();
    } catch (error) {
      expect((error as Error).message).not.toContain('\n');
      expect((error as Error).message).toMatch(/^auth0-tsoa-api: invalid option "policies": claim(Equals|Includes|AnyOf|Check)\(\)/);
    }
  });
});

describe("organizationMatches: Auth0's rule (auth0-auth-js #200)", () => {
  const token = claims({ org_id: 'org_abc123', org_name: 'acme' });
  it.each<[string, AccessTokenClaims, string, boolean]>([
    ['an ID equal to org_id', token, 'org_abc123', true],
    ['an ID in another case (IDs are exact)', token, 'org_ABC123', false],
    ['another ID', token, 'org_other', false],
    ['an ID while only org_name is present', claims({ org_name: 'org_abc123' }), 'org_abc123', false],
    ['a name equal to org_name', token, 'acme', true],
    ['a name in upper case', token, 'ACME', true],
    ['a name against an upper-case claim', claims({ org_name: 'Acme' }), 'acme', true],
    ['another name', token, 'globex', false],
    ['a name equal to the org_id (names never match IDs)', claims({ org_id: 'acme' }), 'acme', false],
    ['a name while org_name is missing', claims({ org_id: 'org_abc123' }), 'acme', false],
    ['a name while org_name is not a string', claims({ org_name: ['acme'] }), 'acme', false],
    ['an ID while org_id is not a string', claims({ org_id: ['org_abc123'] }), 'org_abc123', false],
    ['an empty expected value', claims({ org_name: '' }), '', false],
    ['"org_" alone against an empty name', claims({ org_id: 'org_' }), 'org_', true],
    ['no organization claims at all', BASE, 'acme', false],
    ['a prefix that is not org_ (ORG_x is a name)', claims({ org_id: 'ORG_x', org_name: 'org_x' }), 'ORG_x', true],
    ['the Kelvin sign K (U+212A) for "k": ASCII case folding only', claims({ org_name: 'kelvin' }), '\u212Aelvin', false],
    ['the Kelvin sign in the claim for "k"', claims({ org_name: '\u212Aelvin' }), 'kelvin', false],
    ['dotless/dotted i (U+0130) for "i"', claims({ org_name: 'acme-i' }), 'ACME-\u0130', false],
    ['ASCII upper case in the request', claims({ org_name: 'kelvin' }), 'KELVIN', true],
  ])('%s', (_what, c, expected, result) => {
    expect(organizationMatches(c, expected)).toBe(result);
  });
});

describe('evaluateAuthorization: scopes, then organization, then claim rules', () => {
  const requirement = requirementOf({ name: 'orgAdmin', scopes: ['read:messages'], organization: { param: 'orgId' }, claims: [claimIncludes('roles', 'admin')] }, ['write:messages']);
  const facts = { params: { orgId: 'acme' } };
  const evaluate = (c: AccessTokenClaims, f: typeof facts | { params: Record<string, string> } = facts) => evaluateAuthorization(c, requirement, { ...SCOPE, facts: f });
  const all = { scope: 'read:messages write:messages', org_name: 'acme', roles: ['admin'] };

  it('grants when every part holds', () => {
    expect(evaluate(claims(all))).toBeUndefined();
  });

  it('a missing scope wins over everything else, and names every required scope', () => {
    expect(evaluate(claims({ scope: 'read:messages' }))).toEqual({ reason: 'scope.insufficient', requiredScopes: ['read:messages', 'write:messages'] });
  });

  it('then the organization, then the claim rules', () => {
    expect(evaluate(claims({ ...all, org_name: 'globex', roles: [] }))).toEqual({ reason: 'organization.mismatch' });
    expect(evaluate(claims({ ...all, roles: ['viewer'] }))).toEqual({ reason: 'claims.rejected', rule: 'roles includes "admin"' });
  });

  it('reads the organization from the path parameter of this request', () => {
    expect(evaluate(claims(all), { params: { orgId: 'ACME' } })).toBeUndefined();
    expect(evaluate(claims(all), { params: { orgId: 'globex' } })).toEqual({ reason: 'organization.mismatch' });
    expect(evaluate(claims(all), { params: { orgId: '' } })).toEqual({ reason: 'organization.mismatch' });
  });

  it('a route without the parameter is a setup error (500) naming the policy, for every caller', () => {
    for (const c of [claims(all), claims({})]) {
      expect(() => evaluate(c, { params: {} })).toThrow(PolicySetupError);
    }
    try {
      evaluate(claims(all), { params: {} });
    } catch (error) {
      expect((error as PolicySetupError).status).toBe(500);
      expect((error as Error).message).toMatch(/policies\.orgAdmin\.organization.*no path parameter "orgId"/);
    }
  });

  it('a fixed organization needs no request facts', () => {
    const fixed = requirementOf({ name: 'acmeOnly', scopes: [], organization: 'org_abc123', claims: [] }, undefined);
    expect(evaluateAuthorization(claims({ org_id: 'org_abc123' }), fixed, SCOPE)).toBeUndefined();
    expect(evaluateAuthorization(claims({ org_name: 'org_abc123' }), fixed, SCOPE)).toEqual({ reason: 'organization.mismatch' });
  });

  it('scopes follow the scopeClaim setting (permissions, union)', () => {
    const scoped = requirementOf(undefined, 'read:x');
    expect(evaluateAuthorization(claims({ permissions: ['read:x'] }), scoped, SCOPE)).toEqual({ reason: 'scope.insufficient', requiredScopes: ['read:x'] });
    expect(evaluateAuthorization(claims({ permissions: ['read:x'] }), scoped, { scopeClaim: 'permissions' })).toBeUndefined();
    expect(evaluateAuthorization(claims({ scope: 'read:x' }), scoped, { scopeClaim: 'scope,permissions' })).toBeUndefined();
  });

  it('an empty requirement grants any verified token', () => {
    expect(evaluateAuthorization(BASE, requirementOf(undefined, undefined), SCOPE)).toBeUndefined();
  });
});

describe('requirementOf: a policy plus the operation’s scopes', () => {
  it('adds the listed scopes to the policy’s, without duplicates', () => {
    const policy = { name: 'admin', scopes: ['read:admin', 'read:x'], claims: [] };
    expect(requirementOf(policy, ['read:x', 'write:x']).scopes).toEqual(['read:admin', 'read:x', 'write:x']);
    expect(requirementOf(undefined, 'a  b a').scopes).toEqual(['a', 'b']);
  });
});

describe('the policies option (checked at start-up)', () => {
  const options = (policies: unknown) => ({ domain: 'tenant.example.com', audience: 'https://api.example.com', policies }) as Parameters<typeof resolveConfig>[0];

  it('resolves scopes (string or list), organization and claim rules', () => {
    const rule = claimIncludes('roles', 'admin');
    const config = resolveConfig(options({ admin: { scopes: 'read:admin  write:admin', claims: [rule] }, member: { organization: { param: 'orgId' } }, acme: { organization: 'acme' } }));
    expect(config.policies.get('admin')).toEqual({ name: 'admin', scopes: ['read:admin', 'write:admin'], claims: [rule] });
    expect(config.policies.get('member')).toEqual({ name: 'member', scopes: [], organization: { param: 'orgId' }, claims: [] });
    expect(config.policies.get('acme')?.organization).toBe('acme');
    expect(resolveConfig(options(undefined)).policies.size).toBe(0);
  });

  it.each<[string, unknown, RegExp]>([
    ['not an object', ['admin'], /"policies": expected an object/],
    ['a policy that is not an object', { admin: true }, /"policies\.admin": expected an object/],
    ['an unknown policy option', { admin: { scope: 'read:x' } }, /"policies\.admin\.scope": is not a policy option; the options are scopes, organization, claims/],
    ['scopes of the wrong type', { admin: { scopes: [1] } }, /"policies\.admin\.scopes"/],
    ['claims that are not rules', { admin: { claims: [(c: unknown) => !!c] } }, /"policies\.admin\.claims": expected a list of claim rules/],
    ['claims that are not a list', { admin: { claims: claimIncludes('roles', 'x') } }, /"policies\.admin\.claims"/],
    ['an empty organization', { member: { organization: '' } }, /"policies\.member\.organization"/],
    ['an organization with spaces around', { member: { organization: ' acme ' } }, /"policies\.member\.organization"/],
    ['an organization param that is not a name', { member: { organization: { param: 'org id' } } }, /"policies\.member\.organization"/],
    ['the reserved name bearer', { bearer: {} }, /"policies\.bearer": "bearer" is reserved/],
    ['the reserved name dpop', { dpop: {} }, /"policies\.dpop": "dpop" is reserved/],
    ['the reserved name auth0', { auth0: {} }, /"policies\.auth0": "auth0" is reserved/],
    ['a name ending in -optional', { 'admin-optional': {} }, /names ending in "-optional" are reserved/],
    ['a name with spaces', { 'is admin': {} }, /"policies\.is admin": a policy name starts with a letter/],
  ])('refuses %s with one line naming the option', (_what, policies, message) => {
    let caught: unknown;
    try {
      resolvePolicies(policies);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(ConfigurationError);
    expect((caught as Error).message).toMatch(message);
    expect((caught as Error).message).not.toContain('\n');
    expect(() => resolveConfig(options(policies))).toThrow(message);
  });

  it('an unknown policy name is a setup error (500) listing the defined ones', () => {
    const policies = resolvePolicies({ admin: {}, member: {} });
    expect(findPolicy(policies, 'admin').name).toBe('admin');
    let caught: unknown;
    try {
      findPolicy(policies, 'amdin');
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(PolicySetupError);
    expect(caught).toBeInstanceOf(ConfigurationError);
    expect((caught as PolicySetupError).status).toBe(500);
    expect((caught as Error).message).toBe('auth0-tsoa-api: invalid option "policies": no policy named "amdin"; define it in createAuth0Api({ policies: { "amdin": { … } } }) (defined: admin, member)');
  });
});
