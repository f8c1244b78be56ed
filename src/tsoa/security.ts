/**
 * OpenAPI security schemes for tsoa's `spec.securityDefinitions`, and the spec post-processing that gives every
 * secured operation its alternatives (OAuth2 with scopes, Bearer, DPoP) and documents its 401/403 answers.
 *
 * Why the post-processing: in OpenAPI 3.0 (what tsoa 6 emits) only `oauth2`/`openIdConnect` requirements may list
 * scopes. So `@Security('auth0', [...scopes])` maps to an `oauth2` scheme that carries them, and the `http` Bearer and
 * DPoP schemes are added next to it with empty scope lists.
 */
import type { DpopMode } from '../core/config.js';

export interface SecuritySchemeOptions {
  /** Scope name → description: the one place scopes are described. */
  scopes: Readonly<Record<string, string>>;
  /** OAuth2 endpoints of the issuer (Auth0: `https://TENANT/authorize`, `https://TENANT/oauth/token`). */
  authorizationUrl?: string;
  tokenUrl?: string;
  /** Name used in `@Security(…)`. Default `auth0`. */
  name?: string;
}

type Json = Record<string, unknown>;

/** Security schemes: `auth0` (OAuth2 with the scopes), `bearer` (RFC 6750) and `dpop` (RFC 9449). */
export function securityDefinitions(options: SecuritySchemeOptions): Record<string, Json> {
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
      description:
        'DPoP-bound JWT access token sent as `Authorization: DPoP <token>` with a fresh `DPoP` proof header per request (RFC 9449).',
    },
  };
}

export interface FinalizeSpecOptions extends SecuritySchemeOptions {
  dpopMode?: DpopMode;
}

const ERROR_SCHEMA = {
  type: 'object',
  description: 'RFC 6750 error body. The `WWW-Authenticate` header carries the same code as a challenge.',
  required: ['error', 'error_description'],
  properties: {
    error: {
      type: 'string',
      example: 'invalid_token',
      description: 'unauthorized, invalid_request, invalid_token, insufficient_scope, invalid_dpop_proof, use_dpop_nonce, temporarily_unavailable, …',
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

/** The `http` schemes that name one authentication scheme each (`@Security('bearer')`, `@Security('dpop')`). */
const SCHEME_NAMES = ['bearer', 'dpop'];

/**
 * Completes a tsoa-generated OpenAPI 3.0 document: security schemes, per-operation alternatives by DPoP mode,
 * and the error responses of secured operations (with an example per status). Returns a new document.
 */
export function finalizeSpec<T extends Json>(spec: T, options: FinalizeSpecOptions): T {
  const doc = structuredClone(spec) as Json;
  const name = options.name ?? 'auth0';
  const mode = options.dpopMode ?? 'allowed';

  for (const pathItem of Object.values((doc.paths as Json | undefined) ?? {})) {
    for (const operation of Object.values(pathItem as Json)) {
      if (operation === null || typeof operation !== 'object' || !Array.isArray((operation as Json).security)) continue;
      const op = operation as Json & { security: Array<Record<string, string[]>>; responses?: Json };
      const alternatives: Array<Record<string, string[]>> = [];
      let secured = false;
      for (const requirement of op.security) {
        alternatives.push(requirement);
        if (SCHEME_NAMES.some((scheme) => scheme in requirement)) secured = true;
        if (name in requirement) {
          secured = true;
          if (mode !== 'required') alternatives.push({ bearer: [] });
          if (mode !== 'disabled') alternatives.push({ dpop: [] });
        }
      }
      op.security = dedupe(alternatives);
      if (!secured) continue;
      const scopes = op.security.flatMap((r) => r[name] ?? []);
      op.responses = {
        ...op.responses,
        '400': op.responses?.['400'] ?? errorResponse('400', 'Malformed request or credentials (`invalid_request`).', ['WWW-Authenticate']),
        '401': errorResponse('401', 'Missing or invalid access token or DPoP proof.', ['WWW-Authenticate', 'DPoP-Nonce']),
        ...(scopes.length > 0 ? { '403': errorResponse('403', `The token lacks a required scope (${scopes.join(', ')}).`, ['WWW-Authenticate']) } : {}),
        '503': errorResponse('503', 'The authorization server is unreachable; retry later.', ['Retry-After']),
      };
    }
  }

  const components = ((doc.components as Json | undefined) ?? {}) as Json;
  // All schemes stay defined in every mode (contract decision 10); the DPoP mode decides which ones operations offer.
  components.securitySchemes = { ...((components.securitySchemes as Json | undefined) ?? {}), ...securityDefinitions(options) };
  components.schemas = { ...((components.schemas as Json | undefined) ?? {}), AuthError: ERROR_SCHEMA };
  doc.components = components;
  return doc as T;
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
