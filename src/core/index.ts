/**
 * auth0-tsoa-api/core — the framework-free validator: no Express, no tsoa. Use it to protect any Node.js server:
 * `createValidator(options)`, then per request `verifyRequest(validator.requestContext(incoming))` (or
 * `verifyRequest({ method, url, headers })`); a refusal is an `AuthError` carrying its `response` (status, headers,
 * body) to write. Authorization beyond scopes: claim rules (`claimEquals`, `claimIncludes`, `claimAnyOf`, `claimCheck`)
 * for the `policies` option, and the delegation helpers `getCurrentActor` / `getDelegationChain` (RFC 8693 `act`).
 * @packageDocumentation
 */
export { createValidator } from './validator.js';
export * from './public-types.js';
export { compileTrustProxy } from './http/trust-proxy.js';
export { errorResponse } from './http/error-response.js';
export { AuthError, ConfigurationError, ReplayStoreError, ProviderFetchError, SetupError, AUTH_FAILURE_REASONS } from './errors.js';
export { MemoryReplayStore } from './dpop/replay-store.js';
export { RedisReplayStore } from './dpop/redis-replay-store.js';
export { claimEquals, claimIncludes, claimAnyOf, claimCheck, PolicySetupError } from './authorization/policies.js';
export { getCurrentActor, getDelegationChain } from './token/delegation.js';
export { TokenExchangeError, createTokenExchanger } from './issuer/token-exchange.js';
