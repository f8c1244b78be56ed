/**
 * auth0-tsoa-api/tsoa — tsoa glue: `expressAuthentication` and the OpenAPI security schemes.
 * @packageDocumentation
 */
export { createExpressAuthentication } from './authentication.js';
export type { ExpressAuthentication, ExpressAuthenticationOptions } from './authentication.js';
export { securityDefinitions, finalizeSpec } from './security.js';
export type { SecuritySchemeOptions, FinalizeSpecOptions } from './security.js';
