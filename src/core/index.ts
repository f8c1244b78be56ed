/**
 * auth0-tsoa-api/core — the framework-free validator. No Express, no tsoa.
 * @packageDocumentation
 */
export { ApiValidator, createValidator } from './validator.js';
export type { RequestContext, VerifiedRequest, ProtectedResourceMetadata } from './validator.js';
export { AuthError, ConfigurationError, sanitizeDescription, isAuthError } from './errors.js';
export type { AuthErrorCode, AuthScheme, AuthErrorDetails } from './errors.js';
export { buildChallenge } from './challenge.js';
export type { ChallengeInput, DpopMode } from './challenge.js';
export { resolveConfig, normalizeDomain, isLoopbackHost, SUPPORTED_ALGORITHMS } from './config.js';
export type { ApiOptions, DpopOptions, ResolvedConfig, Algorithm, ScopeClaim, DomainsResolver, DomainsResolverContext } from './config.js';
export { parseAuthorization, getDpopProof, getHeader } from './authorization.js';
export type { Credentials, Headers, HeaderValue } from './authorization.js';
export { decodeAccessToken, checkClaims, MAX_TOKEN_LENGTH } from './jwt.js';
export type { AccessTokenClaims } from './jwt.js';
export { verifyProof, accessTokenHash } from './dpop.js';
export type { VerifiedProof, ProofRules } from './dpop.js';
export { normalizeHtu, htuMatches } from './htu.js';
export { grantedScopes, missingScopes, toScopeList } from './scopes.js';
export { MemoryReplayStore, RedisReplayStore, ReplayStoreError } from './replay-store.js';
export type { ReplayStore, RedisLike } from './replay-store.js';
export { NonceManager } from './nonce.js';
export type { NonceOptions, NonceVerdict } from './nonce.js';
export { fetchJson, ProviderFetchError } from './fetch-json.js';
export type { AuthEvent } from './events.js';
