/**
 * The demo's authorization policies (the `policies` option of `createAuth0Api`), used by name from the controllers'
 * `@Security(…)`, and the Auth0 Organizations its development issuer knows.
 */
import type { Policy } from '../core/index.js';

/** The `acr` of a multi-factor sign-in (OpenID PAPE), as Auth0 issues it after MFA. */
export const MULTI_FACTOR_ACR = 'http://schemas.openid.net/pape/policies/2007/06/multi-factor';

export const POLICIES = {
  /** The token must be issued for the organization named by the route's `{orgId}` (an `org_…` ID or a name). */
  orgMember: { organization: { param: 'orgId' } },
  /** Step-up (RFC 9470): a multi-factor sign-in within the last 5 minutes (docs/decisions.md D23). */
  recentMfa: { stepUp: { acr: [MULTI_FACTOR_ACR], maxAge: 300 } },
} as const satisfies Record<string, Policy>;

/**
 * Organizations of the development issuer: a token requested with `organization=org_abc123` or `organization=acme`
 * carries `org_id: "org_abc123"` and `org_name: "acme"`.
 */
export const DEV_ORGANIZATIONS = [{ id: 'org_abc123', name: 'acme' }] as const;
