/**
 * auth0-tsoa-api/express — the Express adapter: `createAuth0Api(options)` gives `install(app)`, `requireAuth()` and
 * the RFC 9728 route; `errorHandler()` answers every error as JSON with the right challenge.
 * @packageDocumentation
 */
export { createAuth0Api, getAuth, getOptionalAuth } from './api.js';
export type { Auth0Api, AuthResult, AuthorizeOptions, RequireAuthOptions } from './api.js';
export { errorHandler, notFoundHandler, jsonClientErrors } from './error-handler.js';
export type { ErrorHandlerOptions } from './error-handler.js';
export { swaggerUiHandlers, type SwaggerUiHandlerOptions, type SwaggerUiOAuthOptions, type SwaggerUiDpopOptions } from './swagger.js';
export { AuthError, AUTH_FAILURE_REASONS } from '../core/errors.js';
// The core's types its signatures use (types only: no runtime name added).
export * from '../core/public-types.js';
