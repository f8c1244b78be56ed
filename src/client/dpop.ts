/**
 * Client-side DPoP (RFC 9449): a key pair, one proof per request, and `DPoP-Nonce` handling, for browsers and
 * Node.js 20+.
 *
 * This file uses nothing but WebCrypto (`globalThis.crypto.subtle`), `fetch`, `Request` and `Response`: no Node.js
 * module and no npm package. Its compiled form (`build/dist/src/client/dpop.js`) is served to browsers as it is
 * (Swagger UI loads it from `/docs/auth0-tsoa-api/dpop.js`), so it must keep having no imports.
 *
 * @example Plain fetch
 * ```ts
 * const keys = await createDpopKeyPair();
 * const jkt = await jwkThumbprint(keys); // ask the authorization server for a token bound to this key
 * const dpopFetch = createDpopFetch(keys, () => accessToken);
 * const response = await dpopFetch('https://api.example.com/api/messages');
 * ```
 *
 * @packageDocumentation
 */

/**
 * A WebCrypto key, described by shape so these typings need neither the DOM nor the Node.js library types. A real
 * `CryptoKey` (browsers, `globalThis.crypto` in Node.js) fits.
 */
export interface WebCryptoKey {
  /** `private` or `public`. */
  readonly type: string;
  /** False for the private key made by `createDpopKeyPair`: it can sign but never be read. */
  readonly extractable: boolean;
  /** The WebCrypto algorithm (ECDSA P-256). */
  readonly algorithm: object;
  /** `sign` or `verify`. */
  readonly usages: readonly string[];
}

/**
 * The key pair that signs DPoP proofs: what `createDpopKeyPair` returns (a WebCrypto `CryptoKeyPair`).
 * It is structured-cloneable, so a browser can keep it in IndexedDB and still never see the private key.
 */
export interface DpopKeyPair {
  /** Signs proofs; not extractable. */
  readonly privateKey: WebCryptoKey;
  /** Goes into every proof's `jwk` header. */
  readonly publicKey: WebCryptoKey;
}

/** The public JWK put in every proof's header: a P-256 EC key with only the required members. */
export interface DpopPublicJwk {
  /** Key type. */
  kty: 'EC';
  /** Curve. */
  crv: 'P-256';
  /** The x coordinate, base64url. */
  x: string;
  /** The y coordinate, base64url. */
  y: string;
}

/** What a proof is made for. */
export interface DpopProofOptions {
  /** The request URL (absolute, or relative to the page in a browser). Query and fragment are left out of `htu`. */
  url: string | URL;
  /** The HTTP method, sent as `htm` exactly as given (methods are case-sensitive: use `GET`, `POST`, …). */
  method: string;
  /** The access token the request carries: adds `ath` (base64url SHA-256 of the token). Leave out for token requests. */
  accessToken?: string | undefined;
  /** A `DPoP-Nonce` value the server handed out. */
  nonce?: string | undefined;
  /** Override the issue time (seconds since the epoch); default now. */
  iat?: number | undefined;
}

/**
 * Where the access token comes from: a string, or a function called before every request (return the current
 * token, refreshing it if needed; `undefined` sends no `Authorization` header, only a proof, as for a token request).
 */
export type AccessTokenSource = string | undefined | (() => string | undefined | Promise<string | undefined>);

/** Options shared by {@link createDpopFetch}, {@link heyApiDpopInterceptor} and {@link openapiFetchDpopMiddleware}. */
export interface DpopClientOptions {
  /** Nonce memory; share one between helpers that talk to the same servers. Default: a new one per helper. */
  nonces?: DpopNonceStore;
  /** The fetch used to send requests (and retries). Default `globalThis.fetch`. */
  fetch?: (input: Request) => Promise<Response>;
}

const subtle = (): SubtleCrypto => {
  const c = globalThis.crypto;
  if (!c?.subtle) throw new Error('DPoP needs WebCrypto (crypto.subtle): use Node.js 20+ or a secure browser context (https or localhost)');
  return c.subtle;
};

const encoder = new TextEncoder();

function base64url(bytes: ArrayBuffer | Uint8Array): string {
  const view = bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes);
  let binary = '';
  for (let i = 0; i < view.length; i += 0x8000) binary += String.fromCharCode(...view.subarray(i, i + 0x8000));
  return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

const jsonPart = (value: object): string => base64url(encoder.encode(JSON.stringify(value)));

const ES256 = { name: 'ECDSA', namedCurve: 'P-256' } as const;

/**
 * Creates an ES256 (P-256) key pair for DPoP. The private key is **not extractable**: it can sign, but no script
 * (and no XSS) can read it out. The public key is extractable, as WebCrypto always makes it.
 */
export async function createDpopKeyPair(): Promise<DpopKeyPair> {
  return await subtle().generateKey(ES256, false, ['sign', 'verify']);
}

const publicJwks = new WeakMap<object, Promise<DpopPublicJwk>>();

/** The public key as the minimal JWK (`kty`, `crv`, `x`, `y`) that goes into the proof header. Cached per key. */
export function publicJwk(keyPair: DpopKeyPair): Promise<DpopPublicJwk> {
  let jwk = publicJwks.get(keyPair.publicKey);
  if (!jwk) {
    jwk = subtle()
      .exportKey('jwk', keyPair.publicKey as CryptoKey)
      .then((full) => {
        if (full.kty !== 'EC' || full.crv !== 'P-256' || !full.x || !full.y) throw new Error('DPoP keys must be P-256 EC keys (ES256)');
        return { kty: 'EC', crv: 'P-256', x: full.x, y: full.y };
      });
    publicJwks.set(keyPair.publicKey, jwk);
    jwk.catch(() => publicJwks.delete(keyPair.publicKey));
  }
  return jwk;
}

/**
 * The RFC 7638 JWK SHA-256 thumbprint of the public key, base64url: the `jkt` an authorization server puts in a
 * DPoP-bound token's `cnf` claim. Give it to whatever mints tokens for this key.
 */
export async function jwkThumbprint(keyPair: DpopKeyPair): Promise<string> {
  const { crv, kty, x, y } = await publicJwk(keyPair);
  // Required members only, in lexicographic order, no whitespace (RFC 7638 §3).
  const canonical = `{"crv":"${crv}","kty":"${kty}","x":"${x}","y":"${y}"}`;
  return base64url(await subtle().digest('SHA-256', encoder.encode(canonical)));
}

/** `ath`: base64url of the SHA-256 of the access token's ASCII bytes (RFC 9449 §4.2). */
export async function accessTokenHash(accessToken: string): Promise<string> {
  return base64url(await subtle().digest('SHA-256', encoder.encode(accessToken)));
}

/** Resolves a URL: absolute as is, relative against the page's location in a browser. */
function absoluteUrl(url: string | URL): URL {
  const base = (globalThis as { location?: { href?: string } }).location?.href;
  return base ? new URL(String(url), base) : new URL(String(url));
}

/** `htu` for a URL: scheme, authority and path, without query and fragment (RFC 9449 §4.2). */
export function dpopHtu(url: string | URL): string {
  const u = absoluteUrl(url);
  return `${u.protocol}//${u.host}${u.pathname}`;
}

function randomJti(): string {
  return base64url(globalThis.crypto.getRandomValues(new Uint8Array(24)));
}

/**
 * Creates a DPoP proof JWT for one request: header `typ: dpop+jwt`, `alg: ES256` and the public `jwk`; claims
 * `jti` (random), `iat`, `htm`, `htu` (without query/fragment), plus `ath` when an access token is given and
 * `nonce` when one is. Make a new proof for every request, retries included: servers reject a reused `jti`.
 */
export async function createDpopProof(keyPair: DpopKeyPair, options: DpopProofOptions): Promise<string> {
  const header = { typ: 'dpop+jwt', alg: 'ES256', jwk: await publicJwk(keyPair) };
  const payload: Record<string, string | number> = {
    jti: randomJti(),
    htm: options.method,
    htu: dpopHtu(options.url),
    iat: options.iat ?? Math.floor(Date.now() / 1000),
  };
  if (options.accessToken !== undefined) payload.ath = await accessTokenHash(options.accessToken);
  if (options.nonce !== undefined) payload.nonce = options.nonce;
  const input = `${jsonPart(header)}.${jsonPart(payload)}`;
  // WebCrypto's ECDSA signature is r || s (IEEE P1363), exactly the JWS ES256 format.
  const signature = await subtle().sign({ name: 'ECDSA', hash: 'SHA-256' }, keyPair.privateKey as CryptoKey, encoder.encode(input));
  return `${input}.${base64url(signature)}`;
}

/**
 * Remembers the last `DPoP-Nonce` each server (origin) sent, so the next proof to that server can carry it and
 * skip a `use_dpop_nonce` round trip (RFC 9449 §8, §9).
 */
export class DpopNonceStore {
  private readonly nonces = new Map<string, string>();

  /** The last nonce seen from the origin of `url`, if any. */
  get(url: string | URL): string | undefined {
    return this.nonces.get(absoluteUrl(url).origin);
  }

  /** Stores a nonce for the origin of `url`. */
  set(url: string | URL, nonce: string): void {
    this.nonces.set(absoluteUrl(url).origin, nonce);
  }

  /** Stores the `DPoP-Nonce` header of a response (any status), if it has one. Returns it. */
  remember(url: string | URL, response: Response): string | undefined {
    const nonce = response.headers.get('DPoP-Nonce') ?? undefined;
    if (nonce) this.set(url, nonce);
    return nonce;
  }
}

/**
 * When `response` asks for a DPoP nonce, returns the nonce to retry with; otherwise `undefined`. Recognises both
 * forms of RFC 9449: a resource server's `401` with `WWW-Authenticate: DPoP error="use_dpop_nonce"` (§9) and an
 * authorization server's `400` with `{"error":"use_dpop_nonce"}` (§8), each with a `DPoP-Nonce` header. Does not
 * consume the response body.
 */
export async function nonceToRetryWith(response: Response): Promise<string | undefined> {
  const nonce = response.headers.get('DPoP-Nonce');
  if (!nonce) return undefined;
  if (response.status === 401) {
    return /(^|[\s,])error\s*=\s*"?use_dpop_nonce"?/i.test(response.headers.get('WWW-Authenticate') ?? '') ? nonce : undefined;
  }
  if (response.status === 400) {
    try {
      const body = (await response.clone().json()) as { error?: unknown } | null;
      return body?.error === 'use_dpop_nonce' ? nonce : undefined;
    } catch {
      return undefined;
    }
  }
  return undefined;
}

async function resolveToken(source: AccessTokenSource): Promise<string | undefined> {
  const token = typeof source === 'function' ? await source() : source;
  return token === '' ? undefined : token;
}

/**
 * Returns `request` with `Authorization: DPoP <token>` (when there is a token) and a fresh `DPoP` proof, carrying
 * the remembered nonce for its origin. The input request is not changed.
 */
async function signRequest(request: Request, keyPair: DpopKeyPair, token: string | undefined, nonce: string | undefined): Promise<Request> {
  const headers = new Headers(request.headers);
  if (token !== undefined) headers.set('Authorization', `DPoP ${token}`);
  headers.set('DPoP', await createDpopProof(keyPair, { url: request.url, method: request.method, accessToken: token, nonce }));
  return new Request(request, { headers });
}

const defaultFetch = (input: Request): Promise<Response> => globalThis.fetch(input);

/** A fetch function that sends DPoP: call it like `fetch`. */
export type DpopFetch = (input: string | URL | Request, init?: RequestInit) => Promise<Response>;

/**
 * Wraps `fetch` so that every request carries `Authorization: DPoP <token>` and a fresh proof with `ath`. When the
 * server answers `use_dpop_nonce`, the request is sent once more with a new proof carrying the server's nonce;
 * nonces from any response are remembered per origin for the next requests.
 *
 * @param keyPair - the key the token is bound to (see {@link jwkThumbprint}).
 * @param getToken - the access token, or a function returning it per request; leave out for token requests.
 */
export function createDpopFetch(keyPair: DpopKeyPair, getToken?: AccessTokenSource, options: DpopClientOptions = {}): DpopFetch {
  const nonces = options.nonces ?? new DpopNonceStore();
  const send = options.fetch ?? defaultFetch;
  return async (input, init) => {
    const request = new Request(input, init);
    const token = await resolveToken(getToken);
    // Keep an unsent copy: a body can be read once, and the retry needs it again.
    const spare = request.clone();
    let response = await send(await signRequest(request, keyPair, token, nonces.get(request.url)));
    const nonce = await nonceToRetryWith(response);
    nonces.remember(request.url, response);
    if (nonce === undefined) return response;
    await response.body?.cancel();
    response = await send(await signRequest(spare, keyPair, token, nonce));
    nonces.remember(request.url, response);
    return response;
  };
}

/** The part of a client's resolved options the helpers read: its `fetch`, used for the nonce retry. */
export interface FetchOptionsLike {
  /** The client's `fetch`. */
  fetch?: ((input: Request) => Promise<Response>) | undefined;
}

/**
 * Signs requests and retries `use_dpop_nonce` answers for the `@hey-api/client-fetch` client that
 * `@hey-api/openapi-ts` generates. That generator drops the `http` `DPoP` scheme (it only knows Bearer), so DPoP
 * goes through interceptors, which run after its `auth` callback and replace any `Authorization` it set:
 *
 * ```ts
 * import { client } from './sdk/client.gen.js';
 * const dpop = heyApiDpopInterceptor(keys, () => accessToken);
 * client.interceptors.request.use(dpop.request);
 * client.interceptors.response.use(dpop.response);
 * ```
 *
 * `request` adds `Authorization: DPoP <token>` and a fresh proof; `response` remembers `DPoP-Nonce` headers and,
 * on `use_dpop_nonce`, sends the request once more (with the client's `fetch`) with a proof carrying the nonce.
 */
export function heyApiDpopInterceptor(
  keyPair: DpopKeyPair,
  getToken?: AccessTokenSource,
  options: DpopClientOptions = {},
): {
  request: (request: Request, options?: FetchOptionsLike) => Promise<Request>;
  response: (response: Response, request: Request, options?: FetchOptionsLike) => Promise<Response>;
} {
  const signer = dpopSigner(keyPair, getToken, options);
  return {
    request: (request) => signer.sign(request),
    response: (response, request, clientOptions) => signer.afterResponse(response, request, clientOptions?.fetch),
  };
}

/**
 * An `openapi-fetch` middleware (`client.use(...)`) that signs every request with DPoP and retries once on
 * `use_dpop_nonce`:
 *
 * ```ts
 * import createClient from 'openapi-fetch';
 * const client = createClient<paths>({ baseUrl: 'https://api.example.com' });
 * client.use(openapiFetchDpopMiddleware(keys, () => accessToken));
 * ```
 */
export function openapiFetchDpopMiddleware(
  keyPair: DpopKeyPair,
  getToken?: AccessTokenSource,
  options: DpopClientOptions = {},
): {
  onRequest: (context: { request: Request }) => Promise<Request>;
  onResponse: (context: { request: Request; response: Response; options?: FetchOptionsLike }) => Promise<Response>;
} {
  const signer = dpopSigner(keyPair, getToken, options);
  return {
    onRequest: ({ request }) => signer.sign(request),
    onResponse: ({ request, response, options: clientOptions }) => signer.afterResponse(response, request, clientOptions?.fetch),
  };
}

/** The request/response halves shared by the client-library adapters. */
function dpopSigner(keyPair: DpopKeyPair, getToken: AccessTokenSource, options: DpopClientOptions) {
  const nonces = options.nonces ?? new DpopNonceStore();
  // Signed request -> what the retry needs: an unsent copy (bodies are read once) and the token it was signed for.
  const pending = new WeakMap<Request, { spare: Request; token: string | undefined }>();
  return {
    async sign(request: Request): Promise<Request> {
      const token = await resolveToken(getToken);
      const spare = request.clone();
      const signed = await signRequest(request, keyPair, token, nonces.get(request.url));
      pending.set(signed, { spare, token });
      return signed;
    },
    async afterResponse(response: Response, request: Request, clientFetch: FetchOptionsLike['fetch']): Promise<Response> {
      const nonce = await nonceToRetryWith(response);
      nonces.remember(request.url, response);
      const entry = pending.get(request);
      pending.delete(request);
      if (nonce === undefined || !entry) return response;
      await response.body?.cancel();
      const send = options.fetch ?? clientFetch ?? defaultFetch;
      const retried = await send(await signRequest(entry.spare, keyPair, entry.token, nonce));
      nonces.remember(request.url, retried);
      return retried;
    },
  };
}
