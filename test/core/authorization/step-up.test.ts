/**
 * Step-up authentication (RFC 9470) in src/core/authorization/policies.ts and its answer (errors.ts, challenge.ts,
 * error-response.ts): each rule of docs/decisions.md D23 on claims alone (`acr` missing, different, not a string;
 * `auth_time` missing, too old, at the clock tolerance's edge, not a number, in the future), the order against scopes,
 * organization and claim rules, the 401 and its challenge (`acr_values` and `max_age` on every such answer, on the
 * scheme used), and the option's start-up checks.
 */
import { describe, expect, it } from 'vitest';
import { claimEquals, denialError, evaluateAuthorization, requirementOf, resolvePolicies, resolveStepUp, type AuthorizationRequirement } from '../../../src/core/authorization/policies.js';
import { ConfigurationError } from '../../../src/core/errors.js';
import { errorResponse } from '../../../src/core/http/error-response.js';
import type { AccessTokenClaims } from '../../../src/core/token/access-token.js';
import { parseChallenges } from '../../support/challenges.js';

const MFA = 'http://schemas.openid.net/pape/policies/2007/06/multi-factor';
const NOW = 1_800_000_000;
const BASE: AccessTokenClaims = { iss: 'https://tenant.example.com/', sub: 'auth0|user-1', aud: 'https://api.example.com', exp: NOW + 3600, iat: NOW - 10, scope: 'read:data' };
const claims = (extra: Record<string, unknown>): AccessTokenClaims => {
  const all: Record<string, unknown> = { ...BASE, ...extra };
  for (const [k, v] of Object.entries(all)) if (v === undefined) delete all[k];
  return all as AccessTokenClaims;
};
const STEP_UP = resolveStepUp({ acr: [MFA], maxAge: 300 });
const REQUIREMENT: AuthorizationRequirement = { scopes: ['read:data'], stepUp: STEP_UP };
const evaluate = (extra: Record<string, unknown>, requirement = REQUIREMENT) => evaluateAuthorization(claims(extra), requirement, { scopeClaim: 'scope', clockTolerance: 5, now: NOW });

describe('step-up rules on claims', () => {
  it.each<[string, Record<string, unknown>, string | undefined]>([
    ['multi-factor, signed in now', { acr: MFA, auth_time: NOW }, undefined],
    ['multi-factor, signed in 300 s ago', { acr: MFA, auth_time: NOW - 300 }, undefined],
    ['multi-factor, 305 s ago (the 5 s tolerance)', { acr: MFA, auth_time: NOW - 305 }, undefined],
    ['multi-factor, 306 s ago', { acr: MFA, auth_time: NOW - 306 }, 'step_up.auth_time'],
    ['a fractional auth_time within the age', { acr: MFA, auth_time: NOW - 10.5 }, undefined],
    ['no acr', { auth_time: NOW }, 'step_up.acr'],
    ['another acr', { acr: 'http://schemas.openid.net/pape/policies/2007/06/phishing-resistant', auth_time: NOW }, 'step_up.acr'],
    ['acr in another case', { acr: MFA.toUpperCase(), auth_time: NOW }, 'step_up.acr'],
    ['acr as an array holding the value', { acr: [MFA], auth_time: NOW }, 'step_up.acr'],
    ['acr as a number', { acr: 2, auth_time: NOW }, 'step_up.acr'],
    ['acr null', { acr: null, auth_time: NOW }, 'step_up.acr'],
    ['no auth_time', { acr: MFA }, 'step_up.auth_time'],
    ['auth_time a string of digits', { acr: MFA, auth_time: String(NOW) }, 'token.auth_time_invalid'],
    ['auth_time null', { acr: MFA, auth_time: null }, 'token.auth_time_invalid'],
    ['auth_time an object', { acr: MFA, auth_time: { t: NOW } }, 'token.auth_time_invalid'],
    ['auth_time 5 s in the future (tolerated)', { acr: MFA, auth_time: NOW + 5 }, undefined],
    ['auth_time 6 s in the future', { acr: MFA, auth_time: NOW + 6 }, 'token.auth_time_invalid'],
    ['auth_time in the future, acr wrong too', { acr: 'x', auth_time: NOW + 600 }, 'token.auth_time_invalid'],
  ])('%s → %s', (_what, extra, reason) => {
    expect(evaluate(extra)?.reason).toBe(reason);
  });

  it('a missing scope wins over step-up (403 before the step-up 401)', () => {
    expect(evaluate({ scope: 'read:messages' })?.reason).toBe('scope.insufficient');
    expect(evaluate({ scope: 'read:messages', acr: 'x', auth_time: NOW - 9999 })?.reason).toBe('scope.insufficient');
  });

  it('a malformed auth_time is a token problem: answered before a missing scope', () => {
    expect(evaluate({ scope: 'read:messages', acr: MFA, auth_time: 'yesterday' })?.reason).toBe('token.auth_time_invalid');
  });

  it('organization and claim rules (403) come before step-up too', () => {
    const requirement: AuthorizationRequirement = { scopes: [], organization: 'org_abc', claims: [claimEquals('tier', 'gold')], stepUp: STEP_UP };
    expect(evaluate({ org_id: 'org_other' }, requirement)?.reason).toBe('organization.mismatch');
    expect(evaluate({ org_id: 'org_abc', tier: 'silver' }, requirement)?.reason).toBe('claims.rejected');
    expect(evaluate({ org_id: 'org_abc', tier: 'gold' }, requirement)?.reason).toBe('step_up.acr');
  });

  it('acr only: auth_time is not required and not checked; maxAge only: any acr', () => {
    const acrOnly = { scopes: [], stepUp: resolveStepUp({ acr: [MFA] }) };
    expect(evaluate({ acr: MFA }, acrOnly)).toBeUndefined();
    expect(evaluate({ acr: MFA, auth_time: 'x' }, acrOnly)).toBeUndefined();
    const ageOnly = { scopes: [], stepUp: resolveStepUp({ maxAge: 60 }) };
    expect(evaluate({ auth_time: NOW - 30 }, ageOnly)).toBeUndefined();
    expect(evaluate({ auth_time: NOW - 90 }, ageOnly)?.reason).toBe('step_up.auth_time');
  });

  it('reads own claims only: an inherited acr does not count', () => {
    const proto = Object.create({ acr: MFA, auth_time: NOW }) as Record<string, unknown>;
    Object.assign(proto, BASE);
    expect(evaluateAuthorization(proto as AccessTokenClaims, REQUIREMENT, { scopeClaim: 'scope', now: NOW })?.reason).toBe('step_up.acr');
  });

  it('without a step-up rule nothing about acr or auth_time is judged', () => {
    expect(evaluate({ auth_time: 'garbage' }, { scopes: ['read:data'] })).toBeUndefined();
  });
});

describe('the step-up answer', () => {
  const FACTS = { dpopMode: 'allowed' as const, dpopAlgorithms: ['ES256'], resourceMetadataUrl: 'https://api.example.com/.well-known/oauth-protected-resource' };

  it.each(['step_up.acr', 'step_up.auth_time'] as const)('%s: 401 insufficient_user_authentication, acr_values and max_age on the scheme used', (reason) => {
    for (const scheme of ['bearer', 'dpop'] as const) {
      const error = denialError({ reason, stepUp: STEP_UP }, scheme);
      const response = errorResponse(error, FACTS);
      expect(response.status).toBe(401);
      expect(response.body.error).toBe('insufficient_user_authentication');
      expect(error.reason).toBe(reason);
      const challenges = parseChallenges(response.headers['WWW-Authenticate']!);
      const used = challenges.find((c) => c.scheme.toLowerCase() === scheme)!;
      expect(used.params).toMatchObject({ error: 'insufficient_user_authentication', acr_values: MFA, max_age: '300', resource_metadata: FACTS.resourceMetadataUrl });
      const other = challenges.find((c) => c.scheme.toLowerCase() !== scheme)!;
      expect(other.params.error).toBeUndefined();
      expect(other.params.acr_values).toBeUndefined();
      expect(other.params.resource_metadata).toBe(FACTS.resourceMetadataUrl);
    }
  });

  it('keeps the attributes when the scheme is set later (onScheme)', () => {
    const error = denialError({ reason: 'step_up.acr', stepUp: STEP_UP }, undefined as never).onScheme('dpop');
    expect(error.stepUp).toEqual({ acrValues: [MFA], maxAge: 300 });
  });

  it('an invalid auth_time is 401 invalid_token, without step-up attributes', () => {
    const response = errorResponse(denialError({ reason: 'token.auth_time_invalid' }, 'bearer'), FACTS);
    expect(response.status).toBe(401);
    expect(response.body.error).toBe('invalid_token');
    expect(response.headers['WWW-Authenticate']).not.toContain('acr_values');
  });
});

describe('the stepUp option', () => {
  it('a policy with stepUp carries it into the requirement', () => {
    const policies = resolvePolicies({ recentMfa: { scopes: ['read:data'], stepUp: { acr: [MFA], maxAge: 300 } } });
    expect(requirementOf(policies.get('recentMfa'), ['extra']).stepUp).toEqual({ acr: [MFA], maxAge: 300 });
  });

  it.each<[string, unknown, string]>([
    ['not an object', 'mfa', 'policies.p.stepUp'],
    ['empty', {}, 'policies.p.stepUp'],
    ['an unknown key', { acr: [MFA], max_age: 300 }, 'policies.p.stepUp.max_age'],
    ['acr a string', { acr: MFA }, 'policies.p.stepUp.acr'],
    ['acr empty', { acr: [] }, 'policies.p.stepUp.acr'],
    ['acr with a space', { acr: ['a b'] }, 'policies.p.stepUp.acr'],
    ['acr with a quote', { acr: ['a"b'] }, 'policies.p.stepUp.acr'],
    ['maxAge negative', { maxAge: -1 }, 'policies.p.stepUp.maxAge'],
    ['maxAge fractional', { maxAge: 1.5 }, 'policies.p.stepUp.maxAge'],
    ['maxAge a string', { maxAge: '300' }, 'policies.p.stepUp.maxAge'],
  ])('refuses %s at start-up, naming the option', (_what, stepUp, option) => {
    let thrown: unknown;
    try {
      resolvePolicies({ p: { stepUp } });
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(ConfigurationError);
    expect((thrown as ConfigurationError).option).toBe(option);
    expect((thrown as Error).message).not.toContain('\n');
  });
});
