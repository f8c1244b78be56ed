/**
 * The core's public types, in one list: `./core`, the root and every adapter entry point re-export them (`export *`
 * of a module with types only adds no runtime name), so a type an entry point's signatures use is always exported
 * by that entry point.
 */
export type { ApiValidator, ApiDocumentation, RequestContext, VerifiedRequest } from './validator.js';
export type { IncomingRequest, RequestSettings } from './http/request.js';
export type { TrustProxySetting, TrustProxyFunction } from './http/trust-proxy.js';
export type { ErrorResponse, ResponseFacts } from './http/error-response.js';
export type { AuthErrorCode, AuthErrorDetails, AuthFailureReason, AuthScheme, ProviderFetchFailure, StepUpChallenge } from './errors.js';
export type {
  AuthEvent,
  AuthEventType,
  RequestRejectedEvent,
  ProviderFetchFailedEvent,
  KeysRefreshedEvent,
  StaleKeysServedEvent,
  ReplayStoreFailedEvent,
  ReplayStoreWarningEvent,
  DomainsResolverFailedEvent,
  TokenExchangeFailedEvent,
  TokenExchangeFailedReason,
} from './observability/events.js';
export type { ApiOptions, DpopOptions, MtlsOptions, DpopMode, ScopeClaim, DomainsResolver, DomainsResolverContext } from './options.js';
export type { Algorithm } from './token/jws.js';
export type { MtlsMode } from './token/confirmation.js';
export type { AccessTokenClaims } from './token/access-token.js';
export type { VerifiedProof } from './dpop/dpop-proof.js';
export type { RequestHeaders, HeaderValue } from './http/credentials.js';
export type { NonceOptions, NonceRedis } from './dpop/nonce.js';
export type { ProtectedResourceMetadata } from './http/resource-metadata.js';
export type { MemoryReplayStoreOptions, ReplayRecord, ReplayStore } from './dpop/replay-store.js';
export type { RedisLike, RedisReplayStoreOptions } from './dpop/redis-replay-store.js';
export type { ClaimRule, ClaimValue, ClaimValuesOptions, OrganizationRule, Policy, ResolvedPolicy, StepUpRule, AuthorizationRequirement, RequestFacts } from './authorization/policies.js';
export type { Actor } from './token/delegation.js';
export type { TokenExchanger, TokenExchangeOptions, ExchangeRequest, SubjectToken, TokenExchangeFailure, TokenExchangeDependencies, ClientAssertionAlgorithm } from './issuer/token-exchange.js';
