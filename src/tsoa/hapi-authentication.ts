/**
 * tsoa's `hapiAuthentication`, for routes generated with `"middleware": "hapi"`. Users re-export it from the file named
 * by `routes.authenticationModule` in tsoa.json:
 *
 * ```ts
 * import { createHapiAuthentication } from 'auth0-tsoa-api/tsoa';
 * export const hapiAuthentication = createHapiAuthentication();
 * ```
 *
 * Security names mean what they mean for `createExpressAuthentication` (core/security-names.ts). A refusal rejects
 * with a Boom carrying the core's response (status, challenges, JSON body), which tsoa's hapi routes rethrow as it is.
 */
import type { Request } from '@hapi/hapi';
// Types only: loading this module (auth0-tsoa-api/tsoa) must not load @hapi/boom for Express users.
import type { HapiAuth0Api } from '../hapi/api.js';
import { interpretSecurityName, type SecurityMeaning } from '../core/security-names.js';
import type { AccessTokenClaims } from '../core/access-token.js';

/** Options of {@link createHapiAuthentication}. */
export interface HapiAuthenticationOptions {
  /** Security names that accept every scheme the DPoP mode allows. Default `['auth0']`. */
  securityNames?: readonly string[];
}

/**
 * The signature tsoa calls: resolves with the claims (tsoa's `request.user`), or null for an anonymous caller of an
 * `-optional` operation (tsoa runs it as a hapi `pre` method, which must not return undefined).
 */
export type HapiAuthentication = (request: Request, securityName: string, scopes?: string[]) => Promise<AccessTokenClaims | null>;

/** A 500 naming the fix: tsoa's hapi route makes it a Boom, the plugin's error rendering logs it. */
function setupError(message: string): Error {
  return Object.assign(new Error(message), { status: 500 });
}

/** The API whose plugin is registered on the request's server. */
function registered(request: Request): HapiAuth0Api | undefined {
  return (request.server.plugins as Record<string, { api?: HapiAuth0Api } | undefined>)['auth0-tsoa-api']?.api;
}

/**
 * Creates tsoa's `hapiAuthentication`. Pass the HapiAuth0Api (or a function returning it); without one, the API whose
 * plugin is registered on the request's server is used. Verification is memoized per request (one signature check,
 * one DPoP `jti` record for OR'd `@Security` alternatives); policies get the route's path parameters as facts.
 */
export function createHapiAuthentication(api?: HapiAuth0Api | (() => HapiAuth0Api), options: HapiAuthenticationOptions = {}): HapiAuthentication {
  const general = new Set(options.securityNames ?? ['auth0']);
  const meanings = new WeakMap<HapiAuth0Api, Map<string, SecurityMeaning | string>>();
  const meaningOf = (resolved: HapiAuth0Api, securityName: string): SecurityMeaning | string => {
    let byName = meanings.get(resolved);
    if (!byName) meanings.set(resolved, (byName = new Map()));
    let meaning = byName.get(securityName);
    if (!meaning) byName.set(securityName, (meaning = interpretSecurityName(securityName, general, (name) => resolved.hasPolicy(name), 'hapiAuthentication')));
    return meaning;
  };
  return async function hapiAuthentication(request, securityName, scopes) {
    const resolved = typeof api === 'function' ? api() : (api ?? registered(request));
    if (!resolved) throw setupError('hapiAuthentication: register auth0.plugin (await server.register(auth0.plugin)) before RegisterRoutes(server)');
    const meaning = meaningOf(resolved, securityName);
    if (typeof meaning === 'string') throw setupError(meaning);
    const result = await resolved.authorize(request, { scopes, schemes: meaning.schemes, optional: meaning.optional, policy: meaning.policy });
    return result?.claims ?? null;
  };
}
