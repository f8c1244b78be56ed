/**
 * auth0-tsoa-api/hapi — the hapi adapter: `createAuth0Api(options)` gives a plugin (`server.register(auth0.plugin)`)
 * with the `auth0-tsoa-api` auth scheme and `auth0` strategy, the RFC 9728 route and JSON errors answering as the
 * Express adapter does; `serveDocs()` serves the OpenAPI document and Swagger UI.
 * @packageDocumentation
 */
export { createAuth0Api, getAuth, getOptionalAuth, toBoom, PLUGIN_NAME, DEFAULT_BODY_LIMIT } from './api.js';
export type { HapiAuth0Api, HapiApiOptions, HapiRequirement, HapiAuthorizeOptions } from './api.js';
export type { ErrorRenderingOptions } from './errors.js';
export { serveDocs } from './docs.js';
