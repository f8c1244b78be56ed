/**
 * Spec completion for the docs: the OpenAPI security schemes (also tsoa's `spec.securityDefinitions`), the
 * post-processing that gives every secured operation its alternatives (OAuth2 with scopes, Bearer, DPoP) and documents
 * its 401/403 answers, and the scopes a document requires (what the docs offer when no scopes are configured).
 *
 * Why the post-processing: in OpenAPI 3.0 (what tsoa 6 emits) only `oauth2`/`openIdConnect` requirements may list
 * scopes. So `@Security('auth0', [...scopes])` maps to an `oauth2` scheme that carries them, and the `http` Bearer and
 * DPoP schemes are added next to it with empty scope lists. OpenAPI 3.1 (tsoa 7's `specVersion: 3.1`) lets any
 * scheme list scopes (§4.8.30.2), so there the Bearer and DPoP requirements list the operation's scopes too. The
 * document keeps its version; operations are read with the shared walker (src/core/openapi.ts). A policy name (`@Security('admin', [...])`) becomes the
 * same `oauth2` requirement with the policy's scopes added; a `-optional` name adds the empty requirement `{}`
 * (OpenAPI: "anonymous allowed") after the token schemes.
 */
import { ConfigurationError } from '../errors.js';
import { resolvePolicies, type Policy, type ResolvedPolicy } from '../authorization/policies.js';
import { isSchemeName, SCHEME_SECURITY_NAMES, splitSecurityName } from '../authorization/security-names.js';
import type { DpopMode } from '../options.js';
import { openApiVersion, operations, requirementsOf, scopesOnAnyScheme, securityRequirements, securitySchemes } from '../openapi.js';

/** Options of {@link securityDefinitions}. */
export interface SecuritySchemeOptions {
  /** Scope name → description: the one place scopes are described. */
  scopes: Readonly<Record<string, string>>;
  /** The issuer's authorization endpoint (Auth0: `https://TENANT/authorize`). */
  authorizationUrl?: string;
  /** The issuer's token endpoint (Auth0: `https://TENANT/oauth/token`). */
  tokenUrl?: string;
  /** Name used in `@Security(…)`. Default `auth0`. */
  name?: string;
}

/** Security schemes: `auth0` (OAuth2 with the scopes), `bearer` (RFC 6750) and `dpop` (RFC 9449). */
export function securityDefinitions(options: SecuritySchemeOptions): Record<string, Record<string, unknown>> {
  const scopes = { ...options.scopes };
  const tokenUrl = options.tokenUrl ?? '/oauth/token';
  return {
    [options.name ?? 'auth0']: {
      type: 'oauth2',
      description: 'OAuth 2.0 access token from the authorization server. Scopes listed per operation are all required.',
      flows: {
        clientCredentials: { tokenUrl, scopes },
        authorizationCode: { authorizationUrl: options.authorizationUrl ?? '/authorize', tokenUrl, scopes },
      },
    },
    bearer: {
      type: 'http',
      scheme: 'bearer',
      bearerFormat: 'JWT',
      description: 'Access token sent as `Authorization: Bearer <token>` (RFC 6750).',
    },
    dpop: {
      type: 'http',
      scheme: 'DPoP',
      description: 'DPoP-bound JWT access token sent as `Authorization: DPoP <token>` with a fresh `DPoP` proof header per request (RFC 9449).',
    },
  };
}

/** Options of {@link finalizeSpec}. */
export interface FinalizeSpecOptions extends SecuritySchemeOptions {
  /** Which schemes operations offer: Bearer and DPoP (`allowed`, default), DPoP only, or Bearer only. */
  dpopMode?: DpopMode;
  /**
   * The `policies` given to `createAuth0Api` (`serveDocs` passes them): operations secured by a policy list its
   * scopes and document its 403. A security name that is neither a scheme, the general name, a policy nor a scheme
   * of the document is a ConfigurationError, raised here at start-up.
   */
  policies?: Readonly<Record<string, Policy>> | ReadonlyMap<string, ResolvedPolicy>;
}

const ERROR_SCHEMA = {
  type: 'object',
  description: 'RFC 6750 error body. The `WWW-Authenticate` header carries the same code as a challenge.',
  required: ['error', 'error_description'],
  properties: {
    error: {
      type: 'string',
      example: 'invalid_token',
      description: 'unauthorized, invalid_request, invalid_token, insufficient_scope, invalid_dpop_proof, use_dpop_nonce, insufficient_user_authentication, temporarily_unavailable, …',
    },
    error_description: { type: 'string', example: 'The access token expired' },
  },
};

/** An example body per status, so that each documented error shows a fitting `error` code. */
const EXAMPLES: Readonly<Record<string, { error: string; error_description: string }>> = {
  '400': { error: 'invalid_request', error_description: 'The Authorization header is malformed' },
  '401': { error: 'invalid_token', error_description: 'The access token expired' },
  '403': { error: 'insufficient_scope', error_description: 'The access token lacks a required scope' },
  '503': { error: 'temporarily_unavailable', error_description: 'The authorization server is unavailable; try again later' },
};

const errorResponse = (status: keyof typeof EXAMPLES, description: string, headers: string[]) => ({
  description,
  headers: Object.fromEntries(headers.map((h) => [h, { schema: { type: 'string' }, description: `${h} response header` }])),
  content: { 'application/json': { schema: { $ref: '#/components/schemas/AuthError' }, example: EXAMPLES[status] } },
});

type Requirement = Record<string, string[]>;

/** What an operation's `security` means once names are resolved. */
interface Translated {
  alternatives: Requirement[];
  /** Token schemes are involved (the operation answers 400/401/503). */
  secured: boolean;
  /** A `-optional` name: anonymous callers are served too. */
  anonymous: boolean;
  /** Policies that apply (for the 403's description). */
  policies: ResolvedPolicy[];
}

/**
 * `scopes` plus every scope of the `policies` it lacks (described by its own name): the OAuth2 scheme, Swagger UI and
 * `scopes_supported` then offer every scope the app can require, not only the ones `scopes` describes.
 */
export function withPolicyScopes(scopes: Readonly<Record<string, string>>, policies: ReadonlyMap<string, ResolvedPolicy>): Record<string, string> {
  const out: Record<string, string> = { ...scopes };
  for (const policy of policies.values()) for (const scope of policy.scopes) out[scope] ??= scope;
  return out;
}

/**
 * Every scope an operation of the spec requires under `name` or a policy (with or without `-optional`), described by
 * its own name.
 */
export function scopesOfSpec(spec: Record<string, unknown>, name = 'auth0', policies: ReadonlyMap<string, ResolvedPolicy> = new Map()): Record<string, string> {
  const scopes: Record<string, string> = {};
  const add = (list: unknown) => {
    if (Array.isArray(list)) for (const scope of list) if (typeof scope === 'string') scopes[scope] ??= scope;
  };
  for (const requirement of securityRequirements(spec)) {
    for (const [key, list] of Object.entries(requirement)) {
      const { base } = splitSecurityName(key);
      const policy = policies.get(base);
      if (base !== name && !policy) continue;
      add(policy?.scopes);
      add(list);
    }
  }
  return scopes;
}

function union(a: readonly string[] | undefined, b: readonly string[]): string[] {
  return [...new Set([...(a ?? []), ...b])];
}

/**
 * Resolves the security names of one operation: the general name and policies become the `oauth2` requirement
 * (plus Bearer/DPoP alternatives per mode), `-optional` names also allow `{}`, other defined schemes stay as they are.
 */
function translate(security: Requirement[], where: string, context: { name: string; mode: DpopMode; policies: ReadonlyMap<string, ResolvedPolicy>; definedSchemes: ReadonlySet<string>; scopesOnAnyScheme: boolean }): Translated {
  const { name, mode, policies } = context;
  const out: Translated = { alternatives: [], secured: false, anonymous: false, policies: [] };
  for (const requirement of security) {
    const translated: Requirement = {};
    let general = false;
    for (const [key, scopes] of Object.entries(requirement)) {
      const list = Array.isArray(scopes) ? scopes : [];
      const { base, optional } = splitSecurityName(key, context.definedSchemes);
      if (optional) out.anonymous = true;
      const policy = policies.get(base);
      if (base === name) {
        translated[name] = union(translated[name], list);
        general = true;
      } else if (policy) {
        translated[name] = union(translated[name], [...policy.scopes, ...list]);
        out.policies.push(policy);
        general = true;
      } else if (isSchemeName(base)) {
        translated[base] = list;
        out.secured = true;
      } else if (context.definedSchemes.has(key)) {
        translated[key] = list;
      } else {
        throw new ConfigurationError('policies', `@Security('${key}') on ${where} names no security scheme or policy; define the policy in createAuth0Api({ policies }) and pass the same policies to finalizeSpec`);
      }
    }
    out.alternatives.push(translated);
    if (general) {
      out.secured = true;
      // OpenAPI 3.1 lets http schemes list the scopes they need; 3.0 only oauth2/openIdConnect (empty lists here).
      const scopes = context.scopesOnAnyScheme ? [...(translated[name] ?? [])] : [];
      if (mode !== 'required') out.alternatives.push({ bearer: scopes });
      if (mode !== 'disabled') out.alternatives.push({ dpop: [...scopes] });
    }
  }
  return out;
}

/** The 403 description: the scopes, then what the policies check beyond them. */
function forbiddenDescription(scopes: readonly string[], policies: readonly ResolvedPolicy[]): string | undefined {
  const reasons: string[] = [];
  if (scopes.length > 0) reasons.push(`lacks a required scope (${scopes.join(', ')})`);
  for (const policy of policies) {
    const { organization } = policy;
    if (organization !== undefined) {
      reasons.push(typeof organization === 'string' ? `is not for the organization \`${organization}\`` : `is not for the organization in the path (\`{${organization.param}}\`: an \`org_…\` ID or a name)`);
    }
    for (const rule of policy.claims) reasons.push(`fails the claim rule \`${rule.description}\``);
  }
  return reasons.length === 0 ? undefined : `The token ${[...new Set(reasons)].join(', or ')}.`;
}

/**
 * Completes a tsoa-generated OpenAPI 3.0 or 3.1 document, keeping its version: security schemes, per-operation
 * alternatives by DPoP mode, policies and optional authentication, and the error responses of secured operations
 * (with an example per status). Returns a new document. Throws a ConfigurationError for a security name it cannot
 * resolve, or for a document of another version (Swagger 2.0: set tsoa.json's `spec.specVersion` to 3 or 3.1).
 */
export function finalizeSpec<T extends Record<string, unknown>>(spec: T, options: FinalizeSpecOptions): T {
  const version = openApiVersion(spec);
  if (version !== '3.0' && version !== '3.1') {
    const found = JSON.stringify(spec.openapi ?? spec.swagger);
    throw new ConfigurationError('spec', `finalizeSpec needs an OpenAPI 3.0 or 3.1 document, got version ${found}: set tsoa.json's spec.specVersion to 3 (or 3.1 with tsoa 7)`);
  }
  const doc = structuredClone(spec) as Record<string, unknown>;
  const name = options.name ?? 'auth0';
  const mode = options.dpopMode ?? 'allowed';
  const policies = options.policies instanceof Map ? options.policies : resolvePolicies(options.policies);
  // Schemes the document defines itself (tsoa.json's securityDefinitions), other than the ones defined here.
  const ours = new Set([name, ...Object.keys(SCHEME_SECURITY_NAMES)]);
  const definedSchemes = new Set(Object.keys(securitySchemes(doc)).filter((scheme) => !ours.has(scheme)));
  const anyScheme = scopesOnAnyScheme(doc);

  for (const { path, method, operation } of operations(doc)) {
    if (!Array.isArray(operation.security)) continue;
    const op = operation as Record<string, unknown> & { security: Requirement[]; responses?: Record<string, unknown> };
    const where = `${method.toUpperCase()} ${path}`;
    const { alternatives, secured, anonymous, policies: applied } = translate(requirementsOf(op.security), where, { name, mode, policies, definedSchemes, scopesOnAnyScheme: anyScheme });
    // The empty requirement goes last: clients (and Swagger UI) try the token schemes first.
    const withoutEmpty = dedupe(alternatives).filter((r) => Object.keys(r).length > 0);
    const hadEmpty = alternatives.some((r) => Object.keys(r).length === 0);
    op.security = anonymous || hadEmpty ? [...withoutEmpty, {}] : withoutEmpty;
    if (!secured) continue;
    const scopes = [...new Set(op.security.flatMap((r) => r[name] ?? []))];
    // A 403 of an earlier pass (policies already resolved into scopes) keeps what it said: finalizeSpec is idempotent.
    const earlier = op.responses?.['403'] as Record<string, unknown> | undefined;
    const earlierOurs = applied.length === 0 && typeof earlier?.description === 'string' && JSON.stringify(earlier.content ?? {}).includes('#/components/schemas/AuthError');
    const forbidden = earlierOurs ? (earlier.description as string) : forbiddenDescription(scopes, applied);
    op.responses = {
      ...op.responses,
      '400': op.responses?.['400'] ?? errorResponse('400', 'Malformed request or credentials (`invalid_request`).', ['WWW-Authenticate']),
      '401': stepUpUnauthorized(
        errorResponse('401', anonymous || hadEmpty ? 'Invalid access token or DPoP proof (anonymous requests send no `Authorization` header).' : 'Missing or invalid access token or DPoP proof.', ['WWW-Authenticate', 'DPoP-Nonce']),
        applied,
        op.responses?.['401'] as Record<string, unknown> | undefined,
      ),
      ...(forbidden ? { '403': errorResponse('403', forbidden, ['WWW-Authenticate']) } : {}),
      '503': errorResponse('503', 'The authorization server is unreachable; retry later.', ['Retry-After']),
    };
  }

  const components = (doc.components as Record<string, unknown> | undefined) ?? {};
  // All schemes stay defined in every mode (docs/decisions.md D10); the DPoP mode decides which ones operations offer.
  // The OAuth2 scheme offers every scope the app can require: the described ones and the policies' scopes.
  const schemeOptions = { ...options, scopes: withPolicyScopes(options.scopes, policies) };
  components.securitySchemes = { ...(components.securitySchemes ?? {}), ...securityDefinitions(schemeOptions) };
  components.schemas = { ...(components.schemas ?? {}), AuthError: ERROR_SCHEMA };
  doc.components = components;
  return doc as T;
}

/**
 * RFC 9470: the 401 of an operation whose policies require step-up names the required `acr` and `max_age`, and its
 * example is the step-up answer. A 401 of an earlier pass that documents step-up is kept (finalizeSpec is idempotent).
 */
function stepUpUnauthorized(response: Record<string, unknown>, policies: readonly ResolvedPolicy[], earlier: Record<string, unknown> | undefined): Record<string, unknown> {
  const rules = policies.flatMap((policy) => (policy.stepUp ? [policy.stepUp] : []));
  if (rules.length === 0) {
    const example = ((earlier?.content as Record<string, unknown> | undefined)?.['application/json'] as Record<string, unknown> | undefined)?.example as Record<string, unknown> | undefined;
    return example?.error === 'insufficient_user_authentication' ? earlier! : response;
  }
  const needs = rules.map((rule) =>
    [rule.acr ? `\`acr\` ${rule.acr.map((value) => `\`${value}\``).join(' or ')}` : undefined, rule.maxAge !== undefined ? `\`max_age\` ${rule.maxAge} seconds (\`auth_time\` at most that old)` : undefined].filter(Boolean).join(' and '),
  );
  const content = response.content as Record<string, Record<string, unknown>>;
  return {
    ...response,
    description: `${response.description as string} Step-up (RFC 9470): the user must have signed in with ${needs.join('; and with ')}; otherwise \`insufficient_user_authentication\` with \`acr_values\` and \`max_age\` in the \`WWW-Authenticate\` challenge.`,
    content: { 'application/json': { ...content['application/json'], example: { error: 'insufficient_user_authentication', error_description: 'A stronger authentication method is required' } } },
  };
}

function dedupe(list: Array<Record<string, string[]>>): Array<Record<string, string[]>> {
  const seen = new Set<string>();
  return list.filter((r) => {
    const key = JSON.stringify(r);
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
