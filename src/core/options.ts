/**
 * The option types of `createAuth0Api` and `createValidator`: what a user writes. Types only, so that every part of
 * the core can name a setting without importing the module that resolves them (config.ts).
 */
import type { Algorithm } from './token/jws.js';
import type { ReplayStore } from './dpop/replay-store.js';
import type { NonceOptions } from './dpop/nonce.js';
import type { AuthEvent } from './observability/events.js';
import type { MtlsMode } from './token/confirmation.js';
import type { Policy } from './authorization/policies.js';
import type { ScopeClaim } from './authorization/scopes.js';
import type { KeyObject, JsonWebKey } from 'node:crypto';

export type { ScopeClaim };

/** `allowed`: Bearer and DPoP; `required`: DPoP only; `disabled`: Bearer only. */
export type DpopMode = 'allowed' | 'required' | 'disabled';

/** Context given to a {@link DomainsResolver}. Everything in it is attacker-controlled: treat it as untrusted. */
export interface DomainsResolverContext {
  /** The request's public URL. */
  url: string;
  /** The request's headers. */
  headers: Readonly<Record<string, string | readonly string[] | undefined>>;
  /** The token's `iss`, normalized to an origin, before any signature check. */
  unverifiedIssuer: string;
}
/**
 * Chooses the allowed issuer domains per request (e.g. by `Host`, for Auth0 custom domains); sync or async, bounded by
 * `timeout`. A throwing, hanging or malformed resolver is a 503, never an acceptance.
 */
export type DomainsResolver = (context: DomainsResolverContext) => readonly string[] | Promise<readonly string[]>;

/** DPoP (RFC 9449) settings. */
export interface DpopOptions {
  /** `allowed` (default): Bearer and DPoP; `required`: DPoP only; `disabled`: Bearer only. */
  mode?: DpopMode;
  /** Proof signature algorithms. Default `['ES256']`. */
  algorithms?: Algorithm[];
  /** How far in the future a proof `iat` may be, in seconds. Default 30. */
  iatLeeway?: number;
  /** How old a proof may be, in seconds. Default 300. */
  iatOffset?: number;
  /** Where used proofs are remembered. Default: a bounded, fair in-memory store (one instance only). */
  replayStore?: ReplayStore;
  /** Resource-server nonces (RFC 9449 §9). Off by default. */
  nonce?: NonceOptions | boolean;
  /** What to do when the replay store cannot be reached: `reject` (default, 503) or `accept` (not recommended). */
  onStoreError?: 'reject' | 'accept';
}

/** Certificate-bound access tokens (RFC 8705) settings. */
export interface MtlsOptions {
  /**
   * `disabled` (default): tokens bound with `cnf["x5t#S256"]` are refused (401), since they cannot be verified;
   * `allowed`: such tokens are accepted only with the client certificate they are bound to;
   * `required`: every token must be certificate-bound.
   * The certificate comes from the TLS connection, or from a trusted proxy's `Client-Cert` header (RFC 9440).
   */
  mode?: MtlsMode;
}

/** The options of `createAuth0Api` and `createValidator`. Only `audience` and a domain are required. */
export interface ApiOptions {
  /** The tenant (or custom) domain: `tenant.us.auth0.com` or `https://tenant.us.auth0.com`. */
  domain?: string;
  /** Several allowed issuer domains (Auth0 custom domains), or a resolver called per request. */
  domains?: readonly string[] | DomainsResolver;
  /** The API identifier(s) the token's `aud` must contain. Required. */
  audience: string | readonly string[];
  /** Access-token algorithms. Default `['RS256']`. */
  algorithms?: Algorithm[];
  /** Seconds of clock skew allowed for `exp`, `nbf` and `iat`. Default 5. */
  clockTolerance?: number;
  /** Reject tokens whose `iat` is older than this many seconds. */
  maxTokenAge?: number;
  /** RFC 9068 profile: `typ` `at+jwt` and `sub`, `client_id`, `iat`, `jti` required. Default false. */
  strict?: boolean;
  /** Which claim grants scopes. Default `scope`. */
  scopeClaim?: ScopeClaim;
  /** The scopes this API defines (name → description): docs, OpenAPI, RFC 9728 metadata, the development issuer. */
  scopes?: Readonly<Record<string, string>>;
  /** `fetch` used for discovery and key sets. Default: the global `fetch`. */
  fetch?: typeof fetch;
  /** Discovery/JWKS request timeout in ms. Default 5000. */
  timeout?: number;
  /** Minimum seconds between key-set refetches triggered by unknown `kid`s. Default 30. */
  cooldown?: number;
  /** Seconds after which discovery and key sets are refreshed (in the background while they still work). Default 600. */
  cacheMaxAge?: number;
  /** Seconds the last good keys keep serving while the identity provider is down. Default 3600. */
  maxStaleness?: number;
  /** Largest discovery or key-set response accepted, in bytes. Default 1 MiB. */
  maxResponseBytes?: number;
  /** DPoP (RFC 9449) settings. */
  dpop?: DpopOptions;
  /** Certificate-bound tokens (RFC 8705) settings. */
  mtls?: MtlsOptions;
  /** The API's public URL (e.g. `https://api.example.com`): overrides Host and forwarded headers for `htu` and metadata. */
  publicUrl?: string;
  /** Path of the RFC 9728 document, referenced from every 401 challenge; `false` to leave it out. */
  resourceMetadataPath?: string | false;
  /** Cache verified tokens until they expire (successes only). Default on. */
  tokenCache?: boolean | { maxEntries?: number };
  /** Observability hook: called for every rejection and identity-provider fault. Must not throw. */
  onEvent?: (event: AuthEvent) => void;
  /**
   * Named authorization policies: scopes, an Auth0 Organization and claim rules that must all hold, used by name from
   * `@Security('<name>', [...scopes])` and `requireAuth({ policy: '<name>' })`. Checked at start-up.
   */
  policies?: Readonly<Record<string, Policy>>;
  /** The API's own client, to exchange callers' tokens for downstream tokens (RFC 8693; see `exchangeToken`). */
  tokenExchange?: TokenExchangeOptions;
}

/** Algorithms a private-key client assertion may be signed with. */
export type ClientAssertionAlgorithm = 'RS256' | 'PS256' | 'ES256' | 'EdDSA';

/**
 * How the API exchanges tokens (the `tokenExchange` option): its own client, authenticated with a secret or a
 * private key.
 *
 * ```ts
 * tokenExchange: { clientId: process.env.AUTH0_CLIENT_ID, clientSecret: process.env.AUTH0_CLIENT_SECRET }
 * tokenExchange: { clientId, privateKey: readFileSync('client-key.pem', 'utf8'), keyId: 'key-1' } // private_key_jwt
 * ```
 */
export interface TokenExchangeOptions {
  /** The API's own client ID at the authorization server. */
  clientId: string;
  /** Its secret: sent with HTTP Basic (RFC 6749 §2.3.1). Give this or `privateKey`. */
  clientSecret?: string;
  /** A private key (PEM, JWK with `d`, or KeyObject) for `private_key_jwt` assertions (RFC 7523). Give this or `clientSecret`. */
  privateKey?: string | JsonWebKey | KeyObject;
  /** The assertion's algorithm. Default: RS256 for RSA, ES256 for P-256, EdDSA for Ed25519. */
  signingAlgorithm?: ClientAssertionAlgorithm;
  /** The `kid` header of assertions (the key's ID registered with the authorization server). */
  keyId?: string;
  /**
   * The `subject_token_type` sent. Default `urn:ietf:params:oauth:token-type:access_token` (RFC 8693 §3). Auth0's
   * Custom Token Exchange selects its profile by this value and refuses `urn:ietf:` types: there, give the type of
   * your profile (e.g. `urn:acme:auth0-access-token`).
   */
  subjectTokenType?: string;
  /** Milliseconds to wait for the token endpoint. Default 5000. */
  timeout?: number;
  /** Cache of exchanged tokens: `false` to exchange on every call. Default 1000 entries. */
  cache?: false | { maxEntries?: number };
  /** The fetch to use. Default the API's `fetch` option, else the global fetch. */
  fetch?: typeof fetch;
}
