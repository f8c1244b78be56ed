/**
 * auth0-tsoa-api/core — the framework-free validator: no Express, no tsoa. Use it to protect any Node.js server:
 * `createValidator(options)`, then per request `verifyRequest(validator.requestContext(incoming))` (or
 * `verifyRequest({ method, url, headers })`); a refusal is an `AuthError` carrying its `response` (status, headers,
 * body) to write. Authorization beyond scopes: claim rules (`claimEquals`, `claimIncludes`, `claimAnyOf`, `claimCheck`)
 * for the `policies` option, and the delegation helpers `getCurrentActor` / `getDelegationChain` (RFC 8693 `act`).
 * @packageDocumentation
 */
export { createValidator } from './validator.js';
export type { ApiValidator, ApiDocumentation, RequestContext, VerifiedRequest } from './validator.js';
export type { IncomingRequest, RequestSettings } from './http/request.js';
export { compileTrustProxy } from './http/trust-proxy.js';
export type { TrustProxySetting, TrustProxyFunction } from './http/trust-proxy.js';
export { errorResponse, responseOf } from './http/error-response.js';
export type { ErrorResponse, ResponseFacts } from './http/error-response.js';
export { AuthError, ConfigurationError, ReplayStoreError, AUTH_FAILURE_REASONS } from './errors.js';
export type { AuthErrorCode, AuthErrorDetails, AuthFailureReason, AuthScheme, ProviderFetchFailure, StepUpChallenge } from './errors.js';
export type { AuthEvent, AuthEventType, RequestRejectedEvent, ProviderFetchFailedEvent, KeysRefreshedEvent, StaleKeysServedEvent, ReplayStoreFailedEvent, ReplayStoreWarningEvent, DomainsResolverFailedEvent } from './observability/events.js';
export type { ApiOptions, DpopOptions, MtlsOptions, DpopMode, ScopeClaim, DomainsResolver, DomainsResolverContext } from './options.js';
export type { Algorithm } from './token/jws.js';
export type { MtlsMode } from './token/confirmation.js';
export type { AccessTokenClaims } from './token/access-token.js';
export type { VerifiedProof } from './dpop/dpop-proof.js';
export type { RequestHeaders, HeaderValue } from './http/credentials.js';
export type { NonceOptions, NonceRedis } from './dpop/nonce.js';
export type { ProtectedResourceMetadata } from './http/resource-metadata.js';
export { MemoryReplayStore } from './dpop/replay-store.js';
export type { MemoryReplayStoreOptions, ReplayRecord, ReplayStore } from './dpop/replay-store.js';
export { RedisReplayStore } from './dpop/redis-replay-store.js';
export type { RedisLike, RedisReplayStoreOptions } from './dpop/redis-replay-store.js';
export { claimEquals, claimIncludes, claimAnyOf, claimCheck } from './authorization/policies.js';
export type { ClaimRule, ClaimValue, ClaimValuesOptions, OrganizationRule, Policy, StepUpRule, AuthorizationRequirement, RequestFacts } from './authorization/policies.js';
export { getCurrentActor, getDelegationChain } from './token/delegation.js';
export type { Actor } from './token/delegation.js';
export { TokenExchangeError, createTokenExchanger } from './issuer/token-exchange.js';
export type { TokenExchanger, TokenExchangeOptions, ExchangeRequest, SubjectToken, TokenExchangeFailure, TokenExchangeDependencies, ClientAssertionAlgorithm } from './issuer/token-exchange.js';
