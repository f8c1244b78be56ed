/**
 * auth0-tsoa-api/dev — the development issuer, from code (an app's tests) as from `npx auth0-tsoa-api dev`:
 * a local OpenID provider that issues Auth0-style access tokens, and a client-credentials token helper.
 * Needs the optional peer dependency `oidc-provider` (`npm install --save-dev oidc-provider`).
 *
 * @example
 * ```ts
 * import { startDevIssuer, requestDevToken } from 'auth0-tsoa-api/dev';
 * const issuer = await startDevIssuer({ port: 0, audience: 'https://api.example.com', scopes: { 'read:messages': 'Read messages' } });
 * // start your app with AUTH0_DOMAIN=issuer.domain, AUTH0_AUDIENCE=issuer.audience, then:
 * const token = await requestDevToken({ issuer: issuer.domain, scope: 'read:messages' });
 * await issuer.close();
 * ```
 * @packageDocumentation
 */
export { startDevIssuer, docsRedirectUri, MissingOidcProviderError, SPA_CLIENT_ID, type DevIssuer, type DevIssuerOptions, type DevOrganization } from './issuer.js';
export { requestDevToken, DevTokenError, DEFAULT_DEV_ISSUER, type DevTokenRequest } from './token.js';
export { isProductionLike, devIssuerRefusalReason, assertDevelopmentEnvironment, DevIssuerRefusedError } from './environment.js';
export { scopesFromSpec, SpecError } from './spec.js';
export type { DpopKeyPair, WebCryptoKey } from '../client/dpop.js';
