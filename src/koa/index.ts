/**
 * auth0-tsoa-api/koa — the Koa adapter: `createKoaAuth0Api(options)` gives `install(app)`, `requireAuth()` and the
 * RFC 9728 route; `errorHandler()` answers every error as JSON with the right challenge, as on Express.
 * @packageDocumentation
 */
export { createKoaAuth0Api, errorHandler } from './api.js';
export type { KoaAuth0Api, KoaAdapterOptions, KoaRequireAuthOptions, KoaErrorHandlerOptions } from './api.js';
export { serveDocs } from './docs.js';
export { getAuth, getOptionalAuth } from '../core/http/request-auth.js';
export type { AuthResult, AuthorizeOptions } from '../core/http/request-auth.js';
export type { ServeDocsOptions } from '../core/docs/site.js';
export { AuthError, AUTH_FAILURE_REASONS } from '../core/errors.js';
export type { SwaggerUiOAuthOptions } from '../core/docs/swagger-ui.js';
// The core's types its signatures use (types only: no runtime name added).
export * from '../core/public-types.js';
