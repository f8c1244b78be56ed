/**
 * auth0-tsoa-api — protect tsoa + Express APIs with Auth0 (or any OIDC issuer) access tokens.
 *
 * The root is deliberate, not the sum of the entry points: it holds what an Express + tsoa app needs (the quick start
 * and the guides in docs/): the API object and its error handlers, tsoa's authentication module and the docs route,
 * reading the authentication result, the claim rules for policies, the delegation helpers, the DPoP replay stores,
 * token exchange, and every error class a caller can receive. Plus the types of their signatures (types cost nothing
 * at run time). Everything else lives on its own entry point: `./core` (the framework-free validator and its
 * building blocks), `./express` (Swagger UI handlers, JSON client errors), `./koa`, `./hapi`, `./tsoa` (OpenAPI
 * spec helpers, Koa/hapi authentication), `./client` (browser DPoP), `./dev` (the development issuer).
 * test/api/api-report.test.ts lists the root's runtime names: adding one is a conscious change.
 * @packageDocumentation
 */
export { createAuth0Api, errorHandler, notFoundHandler, getAuth, getOptionalAuth } from './express/index.js';
export type { Auth0Api, AuthResult, AuthorizeOptions, RequireAuthOptions, ErrorHandlerOptions } from './express/index.js';
export { createExpressAuthentication, serveDocs } from './tsoa/index.js';
export type { ExpressAuthentication, ExpressAuthenticationOptions, ServeDocsOptions, SwaggerUiOAuthOptions } from './tsoa/index.js';
export {
  AUTH_FAILURE_REASONS,
  AuthError,
  ConfigurationError,
  PolicySetupError,
  ProviderFetchError,
  ReplayStoreError,
  SetupError,
  TokenExchangeError,
  claimAnyOf,
  claimCheck,
  claimEquals,
  claimIncludes,
  getCurrentActor,
  getDelegationChain,
  createTokenExchanger,
  MemoryReplayStore,
  RedisReplayStore,
} from './core/index.js';
export * from './core/public-types.js';
