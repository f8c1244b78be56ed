/**
 * The demo's authorization policies (the `policies` option of `createAuth0Api`), used by name from the controllers'
 * `@Security(…)`, and the Auth0 Organizations its development issuer knows.
 */
import type { Policy } from '../core/index.js';

export const POLICIES = {
  /** The token must be issued for the organization named by the route's `{orgId}` (an `org_…` ID or a name). */
  orgMember: { organization: { param: 'orgId' } },
} as const satisfies Record<string, Policy>;

/**
 * Organizations of the development issuer: a token requested with `organization=org_abc123` or `organization=acme`
 * carries `org_id: "org_abc123"` and `org_name: "acme"`.
 */
export const DEV_ORGANIZATIONS = [{ id: 'org_abc123', name: 'acme' }] as const;
