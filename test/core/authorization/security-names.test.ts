/**
 * The `@Security` name grammar (src/core/authorization/security-names.ts), shared by the runtime and the OpenAPI
 * post-processing: `bearer` / `dpop` name one scheme each, the general name and policies are known names, and
 * `-optional` serves anonymous callers too. Names inherited from Object.prototype are not schemes.
 */
import { describe, expect, it } from 'vitest';
import { OPTIONAL_SUFFIX, SCHEME_SECURITY_NAMES, interpretSecurityName, isSchemeName, splitSecurityName } from '../../../src/core/authorization/security-names.js';

describe('SCHEME_SECURITY_NAMES and isSchemeName', () => {
  it('maps bearer and dpop to their one scheme, frozen', () => {
    expect(SCHEME_SECURITY_NAMES).toEqual({ bearer: ['bearer'], dpop: ['dpop'] });
    expect(Object.isFrozen(SCHEME_SECURITY_NAMES)).toBe(true);
  });

  it.each([
    ['bearer', true],
    ['dpop', true],
    ['Bearer', false],
    ['DPoP', false],
    ['auth0', false],
    ['bearer-optional', false],
    ['', false],
    ['constructor', false],
    ['toString', false],
    ['__proto__', false],
    ['hasOwnProperty', false],
  ])('%j → %s', (name, expected) => {
    expect(isSchemeName(name)).toBe(expected);
  });
});

describe('splitSecurityName', () => {
  it('uses "-optional" as the suffix', () => {
    expect(OPTIONAL_SUFFIX).toBe('-optional');
  });

  it.each([
    ['auth0', { base: 'auth0', optional: false }],
    ['auth0-optional', { base: 'auth0', optional: true }],
    ['bearer-optional', { base: 'bearer', optional: true }],
    ['dpop-optional', { base: 'dpop', optional: true }],
    ['admin-optional-optional', { base: 'admin-optional', optional: true }], // only one suffix is taken off
    ['-optional', { base: '', optional: true }],
    ['optional', { base: 'optional', optional: false }],
    ['auth0-Optional', { base: 'auth0-Optional', optional: false }],
    ['auth0-optional ', { base: 'auth0-optional ', optional: false }],
  ])('%j → %j', (name, expected) => {
    expect(splitSecurityName(name)).toEqual(expected);
  });

  it('takes a name the document defines as a scheme of its own as it is', () => {
    const defined = new Set(['partner-optional']);
    expect(splitSecurityName('partner-optional', defined)).toEqual({ base: 'partner-optional', optional: false });
    expect(splitSecurityName('auth0-optional', defined)).toEqual({ base: 'auth0', optional: true });
  });
});

describe('interpretSecurityName', () => {
  const general = new Set(['auth0']);
  const policies = new Set(['admin']);
  const hasPolicy = (name: string): boolean => policies.has(name);
  const interpret = (name: string) => interpretSecurityName(name, general, hasPolicy, 'expressAuthentication');

  it.each([
    ['auth0', { schemes: undefined, policy: undefined, optional: false }],
    ['auth0-optional', { schemes: undefined, policy: undefined, optional: true }],
    ['bearer', { schemes: ['bearer'], policy: undefined, optional: false }],
    ['dpop-optional', { schemes: ['dpop'], policy: undefined, optional: true }],
    ['admin', { schemes: undefined, policy: 'admin', optional: false }],
    ['admin-optional', { schemes: undefined, policy: 'admin', optional: true }],
  ])('%j → %j', (name, expected) => {
    expect(interpret(name)).toEqual(expected);
  });

  it('refuses an unknown name with one line naming the function, the name and every accepted name', () => {
    const message = interpret('oauth2');
    expect(message).toBe("expressAuthentication: no handler for @Security('oauth2'); use 'auth0', 'bearer', 'dpop' or a policy of createAuth0Api({ policies }), optionally followed by '-optional'");
  });

  it.each(['constructor', 'toString', '__proto__', 'constructor-optional'])('refuses the prototype name %j', (name) => {
    expect(typeof interpret(name)).toBe('string');
  });

  it('refuses a policy named like a general security name', () => {
    const message = interpretSecurityName('auth0', general, () => true, 'koaAuthentication');
    expect(message).toBe('koaAuthentication: "auth0" is both a general security name and a policy; rename the policy');
  });
});
