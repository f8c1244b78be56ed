/**
 * auth0-tsoa-api/express — the Express adapter.
 * @packageDocumentation
 */
export { Auth0Api, createAuth0Api, getAuth } from './api.js';
export type { AuthResult, RequireAuthOptions } from './api.js';
export { errorHandler, notFoundHandler, jsonClientErrors } from './error-handler.js';
export { publicRequestUrl, toRequestContext } from './request.js';
export { swaggerUiHandlers, swaggerUiOptions, SWAGGER_ASSETS_PATH, type SwaggerUiHandlerOptions, type SwaggerUiOAuthOptions, type SwaggerUiDpopOptions } from './swagger.js';
