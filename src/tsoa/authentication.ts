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
import { SetupError } from '../core/errors.js';
import { missingInstallReporter } from '../express/setup-check.js';
import type { Request } from 'express';
import type { Request as KoaRequest } from 'koa';
import { Auth0Api } from '../express/api.js';
import { KoaAuth0Api } from '../koa/api.js';
import { interpretSecurityName, type SecurityMeaning } from '../core/authorization/security-names.js';
import type { AccessTokenClaims } from '../core/token/access-token.js';

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
  const meaningOf = securityMeanings<Auth0Api>(options, 'expressAuthentication');
  const reportMissingInstall = missingInstallReporter();
  return async function expressAuthentication(request, securityName, scopes) {
    const resolved = typeof api === 'function' ? api() : (api ?? Auth0Api.fromApp(request.app));
    if (!resolved) throw reportMissingInstall(new SetupError('expressAuthentication: call auth0.install(app) before RegisterRoutes(app)'));
    const meaning = meaningOf(resolved, securityName);
    const result = await resolved.authorize(request, { scopes, schemes: meaning.schemes, optional: meaning.optional, policy: meaning.policy });
    return result?.claims;
  };
}

/**
 * What security names mean for an API object (its policies): worked out once per pair, not per request. Throws the
 * setup error (500) naming the fix for a name nothing handles.
 */
function securityMeanings<Api extends { hasPolicy(name: string): boolean }>(options: ExpressAuthenticationOptions, prefix: string): (api: Api, securityName: string) => SecurityMeaning {
  const general = new Set(options.securityNames ?? ['auth0']);
  const meanings = new WeakMap<Api, Map<string, SecurityMeaning | string>>();
  return (api, securityName) => {
    let byName = meanings.get(api);
    if (!byName) meanings.set(api, (byName = new Map<string, SecurityMeaning | string>()));
    let meaning = byName.get(securityName);
    if (!meaning) byName.set(securityName, (meaning = interpretSecurityName(securityName, general, (name) => api.hasPolicy(name), prefix)));
    if (typeof meaning === 'string') throw new SetupError(meaning);
    return meaning;
  };
}

/** Options of {@link createKoaAuthentication}: the same as for Express. */
export type KoaAuthenticationOptions = ExpressAuthenticationOptions;

/**
 * The signature tsoa's Koa routes call: `koaAuthentication(ctx.request, securityName, scopes, ctx.response)`.
 * Resolves with the claims (tsoa's `ctx.request.user`), or undefined for an anonymous caller of an `-optional`
 * operation.
 */
export type KoaAuthentication = (request: KoaRequest, securityName: string, scopes?: string[], response?: unknown) => Promise<AccessTokenClaims | undefined>;

/**
 * Creates tsoa's `koaAuthentication` (tsoa.json `"middleware": "koa"`). Security names mean what they mean for
 * Express; without an API object, the KoaAuth0Api that `auth0.install(app)` registered on the request's app is used.
 * A refusal rejects with an answered AuthError, which the Koa `errorHandler()` writes.
 *
 * ```ts
 * // src/authentication.ts
 * import { createKoaAuthentication } from 'auth0-tsoa-api/tsoa';
 * export const koaAuthentication = createKoaAuthentication();
 * ```
 */
export function createKoaAuthentication(api?: KoaAuth0Api | (() => KoaAuth0Api), options: KoaAuthenticationOptions = {}): KoaAuthentication {
  const meaningOf = securityMeanings<KoaAuth0Api>(options, 'koaAuthentication');
  return async function koaAuthentication(request, securityName, scopes) {
    const ctx = request.ctx;
    const resolved = typeof api === 'function' ? api() : (api ?? KoaAuth0Api.fromApp(ctx?.app));
    if (!resolved || !ctx) throw new SetupError('koaAuthentication: call auth0.install(app) before RegisterRoutes(router)');
    const meaning = meaningOf(resolved, securityName);
    const result = await resolved.authorize(ctx, { scopes, schemes: meaning.schemes, optional: meaning.optional, policy: meaning.policy });
    return result?.claims;
  };
}
