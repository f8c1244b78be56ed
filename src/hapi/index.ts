/**
 * auth0-tsoa-api/hapi — `createAuth0Api(options).plugin`: the `auth0` strategy, RFC 9728 route and JSON errors, as on Express.
 * @packageDocumentation
 */
export { createAuth0Api, getAuth, getOptionalAuth, toBoom, PLUGIN_NAME, DEFAULT_BODY_LIMIT } from './api.js';
export type { AuthResult, AuthorizeOptions } from '../core/http/request-auth.js';
export type { HapiAuth0Api, HapiApiOptions, HapiRequirement, HapiAuthorizeOptions } from './api.js';
export type { ErrorRenderingOptions } from './errors.js';
export { serveDocs } from './docs.js';
export { AuthError, AUTH_FAILURE_REASONS } from '../core/errors.js';
export type { ServeDocsOptions } from '../core/docs/site.js';
export type { SwaggerUiOAuthOptions } from '../core/docs/swagger-ui.js';
// The core's types its signatures use (types only: no runtime name added).
export * from '../core/public-types.js';
