/**
 * Scopes: every required scope must be granted (AND), by `scope` (string or array), Auth0 RBAC `permissions`,
 * or the union of both, as configured.
 */
import { describe, expect, it } from 'vitest';
import type { ScopeClaim } from '../../../src/core/index.js';
import { grantedScopes, missingScopes, toScopeList } from '../../../src/core/authorization/scopes.js';

const sorted = (set: ReadonlySet<string>) => [...set].sort();

describe('grantedScopes', () => {
  const claims = { scope: 'read:messages  openid', permissions: ['write:data', 'read:data'] };

  it.each([
    ['scope', ['openid', 'read:messages']],
    ['permissions', ['read:data', 'write:data']],
    ['scope,permissions', ['openid', 'read:data', 'read:messages', 'write:data']],
  ] as Array<[ScopeClaim, string[]]>)('claim rule %s', (rule, expected) => {
    expect(sorted(grantedScopes(claims, rule))).toEqual(expected);
  });

  it.each([
    ['a space-separated string', { scope: 'a b c' }, ['a', 'b', 'c']],
    ['an array of strings', { scope: ['a', 'b'] }, ['a', 'b']],
    ['an empty string', { scope: '' }, []],
    ['no scope claim', {}, []],
    ['a non-string, non-array value', { scope: 42 }, []],
    ['an array with non-strings (ignored)', { scope: ['a', 1, null] }, ['a']],
  ])('reads scope given as %s', (_what, claims, expected) => {
    expect(sorted(grantedScopes(claims, 'scope'))).toEqual(expected);
  });

  it('ignores permissions unless configured, and scope when only permissions are', () => {
    expect(sorted(grantedScopes({ permissions: ['a'] }, 'scope'))).toEqual([]);
    expect(sorted(grantedScopes({ scope: 'a' }, 'permissions'))).toEqual([]);
  });
});

describe('missingScopes', () => {
  it.each([
    ['all granted', ['read:data', 'write:data'], 'read:data write:data openid', []],
    ['one missing (AND, not OR)', ['read:data', 'write:data'], 'read:data', ['write:data']],
    ['none required', [], '', []],
    ['a prefix is not a scope', ['read'], 'readwrite read:x', ['read']],
    ['a longer scope does not grant a shorter one', ['read:data'], 'read:data:all', ['read:data']],
    ['case matters', ['read:data'], 'READ:DATA', ['read:data']],
  ])('%s', (_what, required, scope, missing) => {
    expect(missingScopes(required, grantedScopes({ scope }, 'scope'))).toEqual(missing);
  });

  it('takes the union with scope,permissions: one scope from each claim suffices', () => {
    const granted = grantedScopes({ scope: 'read:data', permissions: ['write:data'] }, 'scope,permissions');
    expect(missingScopes(['read:data', 'write:data'], granted)).toEqual([]);
    expect(missingScopes(['read:data', 'write:data', 'admin'], granted)).toEqual(['admin']);
  });
});

describe('toScopeList', () => {
  it.each([
    [undefined, []],
    ['', []],
    ['read:data', ['read:data']],
    ['read:data  write:data ', ['read:data', 'write:data']],
    [
      ['read:data', ' write:data', 'read:data', ''],
      ['read:data', 'write:data'],
    ],
  ] as Array<[string | string[] | undefined, string[]]>)('%j → %j', (input, expected) => {
    expect(toScopeList(input)).toEqual(expected);
  });
});
