/**
 * auth0-tsoa-api/tsoa — tsoa glue: `createExpressAuthentication()` for tsoa's authentication module, the OpenAPI
 * security schemes and spec completion, and `serveDocs()` (the document and Swagger UI in one call).
 * @packageDocumentation
 */
export { createExpressAuthentication, createKoaAuthentication } from './authentication.js';
export type { ExpressAuthentication, ExpressAuthenticationOptions, KoaAuthentication, KoaAuthenticationOptions } from './authentication.js';
export { getAuth, getOptionalAuth } from '../core/http/request-auth.js';
export type { AuthResult } from '../core/http/request-auth.js';
export { securityDefinitions, finalizeSpec } from '../core/docs/spec.js';
export type { SecuritySchemeOptions, FinalizeSpecOptions } from '../core/docs/spec.js';
export { serveDocs } from '../express/docs.js';
export type { ServeDocsOptions } from '../core/docs/site.js';
export { createHapiAuthentication } from './hapi-authentication.js';
export type { HapiAuthentication, HapiAuthenticationOptions, HapiAuthorizer, HapiRequestLike } from './hapi-authentication.js';
export { AuthError, AUTH_FAILURE_REASONS } from '../core/errors.js';
export type { Auth0Api, RequireAuthOptions } from '../express/api.js';
export type { KoaAuth0Api, KoaAdapterOptions, KoaRequireAuthOptions } from '../koa/api.js';
export type { AuthorizeOptions } from '../core/http/request-auth.js';
export type { SwaggerUiOAuthOptions } from '../core/docs/swagger-ui.js';
// The core's types its signatures use (types only: no runtime name added).
export * from '../core/public-types.js';
