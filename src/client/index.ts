/**
 * auth0-tsoa-api/client — client-side DPoP (RFC 9449) for browsers and Node.js 20+: key pair, per-request proofs
 * with `ath`, `DPoP-Nonce` retry, and adapters for `fetch`, `@hey-api/openapi-ts` clients and `openapi-fetch`.
 * Uses only WebCrypto; no Node.js modules.
 * @packageDocumentation
 */
export { accessTokenHash, createDpopFetch, createDpopKeyPair, createDpopProof, dpopHtu, DpopNonceStore, heyApiDpopInterceptor, jwkThumbprint, nonceToRetryWith, openapiFetchDpopMiddleware, publicJwk } from './dpop.js';
export type { AccessTokenSource, DpopClientOptions, DpopFetch, DpopKeyPair, DpopProofOptions, DpopPublicJwk, FetchOptionsLike, WebCryptoKey } from './dpop.js';
