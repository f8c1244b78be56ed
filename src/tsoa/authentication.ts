/**
 * tsoa's `expressAuthentication`, built from an {@link Auth0Api}. Users re-export it from the file named by
 * `routes.authenticationModule` in tsoa.json:
 *
 * ```ts
 * // src/authentication.ts
 * import { createExpressAuthentication } from 'auth0-tsoa-api/tsoa';
 * export const expressAuthentication = createExpressAuthentication();
 * ```
 */
import type { Request } from 'express';
import { Auth0Api } from '../express/api.js';
import type { AccessTokenClaims } from '../core/index.js';

export interface ExpressAuthenticationOptions {
  /** Security names (as in `@Security('auth0', …)`) this function answers for. Default `['auth0', 'bearer', 'dpop']`. */
  securityNames?: readonly string[];
}

export type ExpressAuthentication = (
  request: Request,
  securityName: string,
  scopes?: string[],
) => Promise<AccessTokenClaims>;

/** An error tsoa can pass to Express: always an Error object with a status (tsoa crashes Express 4 otherwise). */
class UnknownSecurityNameError extends Error {
  readonly status = 500;
  constructor(name: string) {
    super(`expressAuthentication: no handler for @Security('${name}')`);
  }
}

/**
 * Creates tsoa's `expressAuthentication`. Pass the {@link Auth0Api} (or a function returning it); without one, the
 * Auth0Api that `auth0.install(app)` registered on the request's app is used, so one module serves several apps.
 *
 * Verification is memoized per request: tsoa runs every OR'd `@Security` alternative in parallel, and each one
 * reuses the same result (one signature check, one DPoP `jti` record). Resolves with the token claims, which tsoa
 * puts on `request.user` (read them with `@Request()` or `@RequestProp('user')`).
 */
export function createExpressAuthentication(api?: Auth0Api | (() => Auth0Api), options: ExpressAuthenticationOptions = {}): ExpressAuthentication {
  const names = new Set(options.securityNames ?? ['auth0', 'bearer', 'dpop']);
  return async function expressAuthentication(request, securityName, scopes) {
    if (!names.has(securityName)) throw new UnknownSecurityNameError(securityName);
    const resolved = typeof api === 'function' ? api() : (api ?? Auth0Api.fromApp(request.app));
    if (!resolved) throw Object.assign(new Error('expressAuthentication: call auth0.install(app) before RegisterRoutes(app)'), { status: 500 });
    const result = await resolved.authorize(request, scopes);
    return result.claims;
  };
}
