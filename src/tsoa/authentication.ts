/**
 * tsoa's `expressAuthentication`, built from an `Auth0Api`. Users re-export it from the file named by
 * `routes.authenticationModule` in tsoa.json:
 *
 * ```ts
 * // src/authentication.ts
 * import { createExpressAuthentication } from 'auth0-tsoa-api/tsoa';
 * export const expressAuthentication = createExpressAuthentication();
 * ```
 *
 * Security names mean what they say:
 * - `@Security('bearer')` accepts only `Authorization: Bearer`, `@Security('dpop')` only `Authorization: DPoP` with a
 *   proof, and the general name (`@Security('auth0')` by default) whatever the DPoP mode accepts;
 * - a policy name of the `policies` option (`@Security('admin', ['extra:scope'])`) accepts what the general name
 *   accepts, then checks the policy (its scopes plus the listed ones, its organization, its claim rules);
 * - any of these followed by `-optional` (`@Security('auth0-optional')`, `@Security('admin-optional')`) also serves
 *   anonymous callers: a request without an `Authorization` header reaches the controller with `request.user`
 *   undefined; credentials that are sent are judged exactly as without the suffix.
 */
import { missingInstallReporter } from '../express/setup-check.js';
import type { Request } from 'express';
import { Auth0Api } from '../express/api.js';
import { OPTIONAL_SUFFIX } from '../core/policies.js';
import type { AccessTokenClaims } from '../core/access-token.js';
import type { AuthScheme } from '../core/errors.js';

/** Options of {@link createExpressAuthentication}. */
export interface ExpressAuthenticationOptions {
  /** Security names (as in `@Security('auth0', …)`) that accept every scheme the DPoP mode allows. Default `['auth0']`. */
  securityNames?: readonly string[];
}

/**
 * The signature tsoa calls. Resolves with the claims (tsoa's `request.user`), or undefined for an anonymous caller
 * of an `-optional` operation.
 */
export type ExpressAuthentication = (request: Request, securityName: string, scopes?: string[]) => Promise<AccessTokenClaims | undefined>;

/** An error tsoa can pass to Express: always an Error object with a status (tsoa crashes Express 4 otherwise). */
class AuthenticationSetupError extends Error {
  readonly status = 500;
}

/** `bearer` and `dpop` name one scheme each (they are also the names of the OpenAPI `http` schemes). */
const SCHEME_NAMES: Readonly<Record<string, readonly AuthScheme[]>> = { bearer: ['bearer'], dpop: ['dpop'] };

/**
 * Creates tsoa's `expressAuthentication`. Pass the `Auth0Api` (or a function returning it); without one, the
 * Auth0Api that `auth0.install(app)` registered on the request's app is used, so one module serves several apps.
 *
 * Verification is memoized per request: tsoa runs every OR'd `@Security` alternative in parallel, and each one
 * reuses the same result (one signature check, one DPoP `jti` record). Resolves with the token claims, which tsoa
 * puts on `request.user` (read them with `@Request()` and `getAuth`/`getOptionalAuth`, or `@RequestProp('user')`).
 * An unknown security name rejects with a 500 error whose message names the fix.
 */
export function createExpressAuthentication(api?: Auth0Api | (() => Auth0Api), options: ExpressAuthenticationOptions = {}): ExpressAuthentication {
  const general = new Set(options.securityNames ?? ['auth0']);
  // What a security name means depends only on the Auth0Api (its policies): worked out once per pair, not per request.
  const meanings = new WeakMap<Auth0Api, Map<string, SecurityMeaning | string>>();
  const meaningOf = (resolved: Auth0Api, securityName: string): SecurityMeaning | string => {
    let byName = meanings.get(resolved);
    if (!byName) meanings.set(resolved, (byName = new Map()));
    let meaning = byName.get(securityName);
    if (!meaning) byName.set(securityName, (meaning = interpret(resolved, securityName, general)));
    return meaning;
  };
  const reportMissingInstall = missingInstallReporter();
  return async function expressAuthentication(request, securityName, scopes) {
    const resolved = typeof api === 'function' ? api() : (api ?? Auth0Api.fromApp(request.app));
    if (!resolved) throw reportMissingInstall(new AuthenticationSetupError('expressAuthentication: call auth0.install(app) before RegisterRoutes(app)'));
    const meaning = meaningOf(resolved, securityName);
    if (typeof meaning === 'string') throw new AuthenticationSetupError(meaning);
    const result = await resolved.authorize(request, { scopes, schemes: meaning.schemes, optional: meaning.optional, policy: meaning.policy });
    return result?.claims;
  };
}

/** What `@Security(name)` asks for: the schemes, the policy and whether anonymous callers are served. */
interface SecurityMeaning {
  schemes: readonly AuthScheme[] | undefined;
  policy: string | undefined;
  optional: boolean;
}

/** The meaning of a security name for `api`, or the message of the setup error naming the fix. */
function interpret(api: Auth0Api, securityName: string, general: ReadonlySet<string>): SecurityMeaning | string {
  const optional = securityName.endsWith(OPTIONAL_SUFFIX);
  const name = optional ? securityName.slice(0, -OPTIONAL_SUFFIX.length) : securityName;
  const schemes = Object.hasOwn(SCHEME_NAMES, name) ? SCHEME_NAMES[name] : undefined;
  const isPolicy = api.validator.config.policies.has(name);
  if (isPolicy && general.has(name)) {
    return `expressAuthentication: "${name}" is both a general security name and a policy; rename the policy`;
  }
  if (!schemes && !isPolicy && !general.has(name)) {
    return `expressAuthentication: no handler for @Security('${securityName}'); use ${[...general].map((n) => `'${n}'`).join(', ')}, 'bearer', 'dpop' or a policy of createAuth0Api({ policies }), optionally followed by '${OPTIONAL_SUFFIX}'`;
  }
  return { schemes, policy: isPolicy ? name : undefined, optional };
}
