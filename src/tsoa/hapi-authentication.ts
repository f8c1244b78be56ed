/**
 * tsoa's `hapiAuthentication`, for routes generated with `"middleware": "hapi"`. Users re-export it from the file named
 * by `routes.authenticationModule` in tsoa.json:
 *
 * ```ts
 * import { createHapiAuthentication } from 'auth0-tsoa-api/tsoa';
 * export const hapiAuthentication = createHapiAuthentication();
 * ```
 *
 * Security names mean what they mean for `createExpressAuthentication` (core/authorization/security-names.ts). A refusal rejects
 * with a Boom carrying the core's response (status, challenges, JSON body), which tsoa's hapi routes rethrow as it is.
 */
import { interpretSecurityName, type SecurityMeaning } from '../core/authorization/security-names.js';
import type { AccessTokenClaims } from '../core/token/access-token.js';
import { SetupError, type AuthScheme } from '../core/errors.js';

// Structural types, no import of the hapi adapter: auth0-tsoa-api/tsoa (and its declarations) must load for Express
// users, who have neither @hapi/boom nor @hapi/hapi's types.
/** What `hapiAuthentication` uses of the request: the server, whose plugins hold the registered API. */
export interface HapiRequestLike {
  /** The hapi server; the plugin exposes the API in `server.plugins['auth0-tsoa-api'].api`. */
  server: { plugins: object };
}
/** The API `hapiAuthentication` uses: a `HapiAuth0Api` of `auth0-tsoa-api/hapi`. */
export interface HapiAuthorizer {
  /** True when the `policies` option defines `name`. */
  hasPolicy(name: string): boolean;
  /** Authenticates once per request, then checks scheme, scopes and policy; rejects with a Boom carrying the response. */
  authorize(request: never, options: { scopes?: string[] | undefined; schemes?: readonly AuthScheme[] | undefined; optional?: boolean; policy?: string | undefined }): Promise<{ claims: AccessTokenClaims } | undefined>;
}

/** Options of {@link createHapiAuthentication}. */
export interface HapiAuthenticationOptions {
  /** Security names that accept every scheme the DPoP mode allows. Default `['auth0']`. */
  securityNames?: readonly string[];
}

/**
 * The signature tsoa calls: resolves with the claims (tsoa's `request.user`), or null for an anonymous caller of an
 * `-optional` operation (tsoa runs it as a hapi `pre` method, which must not return undefined).
 */
export type HapiAuthentication = (request: HapiRequestLike, securityName: string, scopes?: string[]) => Promise<AccessTokenClaims | null>;

/** A 500 naming the fix: tsoa's hapi route makes it a Boom, the plugin's error rendering logs it. */
function setupError(message: string): Error {
  return new SetupError(message);
}

/** The API whose plugin is registered on the request's server. */
function registered(request: HapiRequestLike): HapiAuthorizer | undefined {
  return (request.server.plugins as Record<string, { api?: HapiAuthorizer } | undefined>)['auth0-tsoa-api']?.api;
}

/**
 * Creates tsoa's `hapiAuthentication`. Pass the HapiAuth0Api (or a function returning it); without one, the API whose
 * plugin is registered on the request's server is used. Verification is memoized per request (one signature check,
 * one DPoP `jti` record for OR'd `@Security` alternatives); policies get the route's path parameters as facts.
 */
export function createHapiAuthentication(api?: HapiAuthorizer | (() => HapiAuthorizer), options: HapiAuthenticationOptions = {}): HapiAuthentication {
  const general = new Set(options.securityNames ?? ['auth0']);
  const meanings = new WeakMap<HapiAuthorizer, Map<string, SecurityMeaning | string>>();
  const meaningOf = (resolved: HapiAuthorizer, securityName: string): SecurityMeaning | string => {
    let byName = meanings.get(resolved);
    if (!byName) meanings.set(resolved, (byName = new Map<string, SecurityMeaning | string>()));
    let meaning = byName.get(securityName);
    if (!meaning) byName.set(securityName, (meaning = interpretSecurityName(securityName, general, (name) => resolved.hasPolicy(name), 'hapiAuthentication')));
    return meaning;
  };
  return async function hapiAuthentication(request, securityName, scopes) {
    const resolved = typeof api === 'function' ? api() : (api ?? registered(request));
    if (!resolved) throw setupError('hapiAuthentication: register auth0.plugin (await server.register(auth0.plugin)) before RegisterRoutes(server)');
    const meaning = meaningOf(resolved, securityName);
    if (typeof meaning === 'string') throw setupError(meaning);
    const result = await resolved.authorize(request as never, { scopes, schemes: meaning.schemes, optional: meaning.optional, policy: meaning.policy });
    return result?.claims ?? null;
  };
}
