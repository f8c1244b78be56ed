/**
 * auth0-tsoa-api — protect tsoa + Express APIs with Auth0 (or any OIDC issuer) access tokens.
 *
 * Layers: `./core` (framework-free validator), `./express` (adapter), `./tsoa` (glue), `./client` (DPoP helper).
 * @packageDocumentation
 */
export * from './core/index.js';
export * from './express/index.js';
export * from './tsoa/index.js';
