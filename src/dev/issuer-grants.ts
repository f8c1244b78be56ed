/**
 * What the development issuer adds for step-up (RFC 9470) and token exchange (RFC 8693), kept apart from the
 * provider's configuration (./issuer.ts):
 *
 * - token-request claims: `acr`, `auth_time` and extra claims on a client-credentials token request (the `token`
 *   command's `--acr`, `--auth-time`, `--claim`), as if a user had signed in that way; a code-flow token carries the
 *   `acr` and `auth_time` of the sign-in;
 * - the authorization endpoint honours `acr_values`: a session whose `acr` is not one of them signs in again, and the
 *   sign-in gets the first requested value (the login page stands for any method); `max_age` is oidc-provider's own;
 * - the token-exchange grant for the confidential client: the caller's access token (issued here, for any audience
 *   served) becomes one for the requested audience, keeping `sub` and adding `act: {"sub": <client id>}` (§4.1).
 */
import { createPublicKey, verify, type JsonWebKey } from 'node:crypto';

/** RFC 8693 §2.1 and §3. */
export const TOKEN_EXCHANGE_GRANT = 'urn:ietf:params:oauth:grant-type:token-exchange';
const ACCESS_TOKEN_TYPE = 'urn:ietf:params:oauth:token-type:access_token';

/** Claims a token request may not set: the ones the issuer decides. */
const RESERVED_CLAIMS = new Set(['iss', 'sub', 'aud', 'exp', 'iat', 'nbf', 'jti', 'client_id', 'scope', 'cnf', 'act', 'azp', 'gty', 'acr', 'auth_time']);
const MAX_EXTRA_CLAIMS_LENGTH = 4096;

// The slice of oidc-provider used here (it ships no types).
interface TokenLike {
  kind: string;
  clientId: string;
  accountId?: string;
}
interface RequestContext {
  oidc: {
    body?: Record<string, unknown>;
    params?: Record<string, unknown>;
    client?: { clientId: string };
    entities?: { AuthorizationCode?: { acr?: string; authTime?: number } };
    provider: unknown;
  };
  body?: unknown;
}
type OidcError = new (description?: string, detail?: string) => Error;
interface ErrorClasses {
  InvalidRequest: OidcError;
  InvalidGrant: OidcError;
  InvalidTarget: OidcError;
  InvalidScope: OidcError;
  UnauthorizedClient?: OidcError;
}
interface AccessTokenInstance extends TokenLike {
  resourceServer?: unknown;
  expiration: number;
  save(): Promise<string>;
}
interface ProviderWithTokens {
  issuer: string;
  AccessToken: new (init: { accountId: string; client: unknown; scope?: string | undefined; gty?: string }) => AccessTokenInstance;
  registerGrantType(name: string, handler: (ctx: RequestContext) => Promise<void>, params: string[]): void;
  interactionFinished(...args: unknown[]): Promise<unknown>;
  interactionDetails(req: unknown, res: unknown): Promise<{ params: Record<string, unknown> }>;
}

/** Claims to add to exchanged tokens (set by the grant, read by `extraTokenClaims`). */
const exchanged = new WeakMap<object, Record<string, unknown>>();

/**
 * Extra claims of a token from the request that made it: step-up and custom claims of a client-credentials request
 * (development only), the sign-in's `acr` / `auth_time` in the code flow, `act` (and the caller's sign-in) in an
 * exchanged token.
 */
export function requestedTokenClaims(ctx: { oidc: Pick<RequestContext['oidc'], 'body' | 'entities'> } | undefined, token: TokenLike): Record<string, unknown> {
  const fromExchange = exchanged.get(token);
  if (fromExchange) return fromExchange;
  if (ctx === undefined) return {};
  if (token.kind === 'ClientCredentials') return clientCredentialsClaims(ctx.oidc.body ?? {});
  const code = ctx.oidc.entities?.AuthorizationCode;
  if (token.kind === 'AccessToken' && code) {
    return { ...(code.acr !== undefined ? { acr: code.acr } : {}), ...(code.authTime !== undefined ? { auth_time: code.authTime } : {}) };
  }
  return {};
}

function clientCredentialsClaims(body: Record<string, unknown>): Record<string, unknown> {
  const claims: Record<string, unknown> = {};
  if (typeof body.extra_claims === 'string' && body.extra_claims.length <= MAX_EXTRA_CLAIMS_LENGTH) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(body.extra_claims);
    } catch {
      parsed = undefined;
    }
    if (parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed)) {
      for (const [name, value] of Object.entries(parsed)) if (!RESERVED_CLAIMS.has(name) && name !== '__proto__') claims[name] = value;
    }
  }
  if (typeof body.acr === 'string' && body.acr !== '') claims.acr = body.acr;
  if (typeof body.auth_time === 'string' && /^\d{1,12}$/.test(body.auth_time)) claims.auth_time = Number(body.auth_time);
  return claims;
}

// --- step-up at the authorization endpoint --------------------------------------------------------------------------

interface InteractionPolicyModule {
  base(): Array<{ name: string; checks: unknown[] }> & { get(name: string): { checks: unknown[] } | undefined };
  Check: new (reason: string, description: string, error: string, check: (ctx: { oidc: { params: Record<string, unknown>; session: { acr?: string } } }) => boolean) => unknown;
}

/** oidc-provider's prompts, plus: a session whose `acr` is not one of `acr_values` signs in again (RFC 9470 §4). */
export function stepUpInteractionPolicy(module: InteractionPolicyModule): unknown {
  const policy = module.base();
  policy.get('login')?.checks.push(
    new module.Check('acr_values', 'the requested authentication context is not satisfied', 'login_required', ({ oidc }) => {
      const requested = acrValues(oidc.params.acr_values);
      return requested.length > 0 && !requested.includes(oidc.session.acr ?? '');
    }),
  );
  return policy;
}

/** A sign-in on the development login page is taken as meeting the first requested `acr_values` (any method will do). */
export function honourAcrValues(provider: ProviderWithTokens): void {
  const finish = provider.interactionFinished.bind(provider);
  provider.interactionFinished = async (req: unknown, res: unknown, result: unknown, ...rest: unknown[]) => {
    const login = (result as { login?: { acr?: string } } | undefined)?.login;
    if (login && login.acr === undefined) {
      const [acr] = acrValues((await provider.interactionDetails(req, res)).params.acr_values);
      if (acr !== undefined) login.acr = acr;
    }
    return finish(req, res, result, ...rest);
  };
}

function acrValues(value: unknown): string[] {
  return typeof value === 'string' ? value.split(' ').filter(Boolean) : [];
}

// --- token exchange -------------------------------------------------------------------------------------------------

/** What the token-exchange grant needs from the issuer. */
export interface TokenExchangeGrantOptions {
  /** The confidential client allowed to exchange. */
  clientId: string;
  /** Audiences served; the first is the default. */
  audiences: readonly string[];
  /** Scopes that may be requested. */
  scopes: readonly string[];
  /** The signing key (its public part verifies subject tokens). */
  signingKey: JsonWebKey;
  /** The resource-server description of an audience (JWT access tokens). */
  resourceServer(audience: string): unknown;
  errors: ErrorClasses;
}

/** Registers the RFC 8693 grant: access token in, access token for `audience` out, `sub` kept, `act` added. */
export function registerTokenExchange(provider: ProviderWithTokens, options: TokenExchangeGrantOptions): void {
  const { errors } = options;
  const publicKey = createPublicKey({ key: options.signingKey, format: 'jwk' });
  provider.registerGrantType(
    TOKEN_EXCHANGE_GRANT,
    async (ctx) => {
      const { client, params } = ctx.oidc;
      if (!client || client.clientId !== options.clientId) throw new errors.InvalidGrant('only the confidential client may exchange tokens');
      if (params?.subject_token_type !== ACCESS_TOKEN_TYPE) throw new errors.InvalidRequest(`subject_token_type must be ${ACCESS_TOKEN_TYPE}`);
      if (params.requested_token_type !== undefined && params.requested_token_type !== ACCESS_TOKEN_TYPE) {
        throw new errors.InvalidRequest(`requested_token_type must be ${ACCESS_TOKEN_TYPE}`);
      }
      const audience = typeof params.audience === 'string' && params.audience !== '' ? params.audience : options.audiences[0]!;
      if (!options.audiences.includes(audience)) throw new errors.InvalidTarget(`unknown audience, this issuer serves ${options.audiences.join(', ')}`);
      const subject = verifySubjectToken(params.subject_token, publicKey, provider.issuer, options.audiences);
      if (!subject) throw new errors.InvalidGrant('subject_token is invalid or expired');
      const requested = typeof params.scope === 'string' ? params.scope.split(' ').filter(Boolean) : [];
      const unknown = requested.filter((scope) => !options.scopes.includes(scope));
      if (unknown.length > 0) throw new errors.InvalidScope('requested scope is not allowed', unknown.join(' '));

      const token = new provider.AccessToken({ accountId: subject.sub, client, scope: requested.join(' ') || undefined, gty: 'token-exchange' });
      token.resourceServer = options.resourceServer(audience);
      exchanged.set(token, {
        act: { sub: client.clientId },
        ...(typeof subject.acr === 'string' ? { acr: subject.acr } : {}),
        ...(typeof subject.auth_time === 'number' ? { auth_time: subject.auth_time } : {}),
      });
      const value = await token.save();
      ctx.body = {
        access_token: value,
        issued_token_type: ACCESS_TOKEN_TYPE,
        token_type: 'Bearer',
        expires_in: token.expiration,
        ...(requested.length > 0 ? { scope: requested.join(' ') } : {}),
      };
    },
    ['subject_token', 'subject_token_type', 'requested_token_type', 'audience', 'scope', 'actor_token', 'actor_token_type', 'resource'],
  );
}

interface SubjectClaims {
  sub: string;
  acr?: unknown;
  auth_time?: unknown;
}

/** A JWT access token this issuer signed (RS256), for one of its audiences, not expired. */
function verifySubjectToken(token: unknown, key: ReturnType<typeof createPublicKey>, issuer: string, audiences: readonly string[]): SubjectClaims | undefined {
  if (typeof token !== 'string' || token.length > 16_384) return undefined;
  const parts = token.split('.');
  if (parts.length !== 3) return undefined;
  try {
    const header = JSON.parse(Buffer.from(parts[0]!, 'base64url').toString('utf8')) as { alg?: unknown };
    if (header.alg !== 'RS256') return undefined;
    if (!verify('sha256', Buffer.from(`${parts[0]}.${parts[1]}`), key, Buffer.from(parts[2]!, 'base64url'))) return undefined;
    const claims = JSON.parse(Buffer.from(parts[1]!, 'base64url').toString('utf8')) as Record<string, unknown>;
    const aud = Array.isArray(claims.aud) ? claims.aud : [claims.aud];
    if (claims.iss !== issuer || typeof claims.sub !== 'string' || typeof claims.exp !== 'number' || claims.exp <= Date.now() / 1000) return undefined;
    if (!aud.some((value) => typeof value === 'string' && audiences.includes(value))) return undefined;
    return claims as unknown as SubjectClaims;
  } catch {
    return undefined;
  }
}
