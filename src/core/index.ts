/**
 * auth0-tsoa-api/core — the framework-free validator: no Express, no tsoa. Use it to protect any Node.js server:
 * `createValidator(options)`, then `verifyRequest({ method, url, headers })` per request and `errorResponse()` for
 * refusals. Authorization beyond scopes: claim rules (`claimEquals`, `claimIncludes`, `claimAnyOf`, `claimCheck`)
 * for the `policies` option, and the delegation helpers `getCurrentActor` / `getDelegationChain` (RFC 8693 `act`).
 * @packageDocumentation
 */
export { createValidator } from './validator.js';
export type { ApiValidator, RequestContext, VerifiedRequest } from './validator.js';
export { errorResponse } from './error-response.js';
export type { ErrorResponse, ResponseFacts } from './error-response.js';
export { AuthError, ConfigurationError, ReplayStoreError, AUTH_FAILURE_REASONS } from './errors.js';
export type { AuthErrorCode, AuthErrorDetails, AuthFailureReason, AuthScheme, ProviderFetchFailure } from './errors.js';
export type { AuthEvent, AuthEventType, RequestRejectedEvent, ProviderFetchFailedEvent, KeysRefreshedEvent, StaleKeysServedEvent, ReplayStoreFailedEvent, ReplayStoreWarningEvent, DomainsResolverFailedEvent } from './events.js';
export type { ApiOptions, DpopOptions, MtlsOptions, DpopMode, ScopeClaim, Algorithm, DomainsResolver, DomainsResolverContext } from './config.js';
export type { MtlsMode } from './confirmation.js';
export type { AccessTokenClaims } from './access-token.js';
export type { VerifiedProof } from './dpop-proof.js';
export type { Headers, HeaderValue } from './credentials.js';
export type { NonceOptions, NonceRedis } from './nonce.js';
export type { ProtectedResourceMetadata } from './resource-metadata.js';
export { MemoryReplayStore } from './replay-store.js';
export type { MemoryReplayStoreOptions, ReplayRecord, ReplayStore } from './replay-store.js';
export { RedisReplayStore } from './redis-replay-store.js';
export type { RedisLike, RedisReplayStoreOptions } from './redis-replay-store.js';
export { claimEquals, claimIncludes, claimAnyOf, claimCheck } from './policies.js';
export type { ClaimRule, ClaimValue, ClaimValuesOptions, OrganizationRule, Policy, AuthorizationRequirement, RequestFacts } from './policies.js';
export { getCurrentActor, getDelegationChain } from './delegation.js';
export type { Actor } from './delegation.js';
