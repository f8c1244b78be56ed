/**
 * The framework-neutral half of `serveDocs`: the OpenAPI document completed with what the API object knows (its
 * scopes or the operations', its DPoP mode, its audience, its issuer's endpoints from discovery) and the Swagger UI
 * settings, built on the first request and kept once discovery answered. Each adapter only serves the result.
 */
import { finalizeSpec, withPolicyScopes } from './security.js';
import { securityRequirements } from '../core/openapi.js';
import { swaggerUiOptions, type SwaggerUiHandlerOptions, type SwaggerUiOAuthOptions } from '../express/swagger.js';
import type { ResolvedPolicy } from '../core/authorization/policies.js';
import { splitSecurityName } from '../core/authorization/security-names.js';
import type { ApiDocumentation } from '../core/validator.js';
import type { Discovery } from '../core/issuer/issuer.js';

/** Options of `serveDocs` (Express and Koa). */
export interface ServeDocsOptions {
  /** Where Swagger UI is served. Default `/docs`. */
  path?: string;
  /** Where the OpenAPI document is served. Default `/openapi.json`. */
  specPath?: string;
  /**
   * The OAuth2 clients of Swagger UI's "Authorize" dialog: `clientId` of a public (SPA) client for authorization code +
   * PKCE, whose callback is `<origin><path>/oauth2-redirect.html`; `clientCredentials` for development issuers only
   * (anyone who can load the page can read the secret).
   */
  oauth?: Pick<SwaggerUiOAuthOptions, 'clientId' | 'clientCredentials' | 'appName'>;
  /** The security name of `@Security(…)` that carries scopes. Default `auth0`. */
  securityName?: string;
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

/** What `serveDocs` needs of an API object (Express `Auth0Api`, `KoaAuth0Api`, …). */
export interface DocumentedApi {
  documentation(): ApiDocumentation;
  describeScopes(scopes: Readonly<Record<string, string>>): unknown;
  documentedAt(path: string): unknown;
  readonly validator: { discovery(): Promise<Discovery | undefined> };
}

/** The completed document and what the adapter built to serve Swagger UI for it. */
export interface BuiltDocs<Ui> {
  spec: Record<string, unknown>;
  ui: Ui;
}

/**
 * Checks the spec now (unknown security names fail at start-up), advertises the docs path, and returns the builder
 * of the served document and UI. `makeUi(spec, options)` is the adapter's Swagger UI for the completed document.
 */
export function documentationSource<Ui>(api: DocumentedApi, spec: Record<string, unknown>, options: ServeDocsOptions, makeUi: (completed: Record<string, unknown>, ui: SwaggerUiHandlerOptions) => Ui): () => Promise<BuiltDocs<Ui>> {
  const path = options.path ?? '/docs';
  const name = options.securityName ?? 'auth0';
  const config = api.documentation();
  const scopes = withPolicyScopes(Object.keys(config.scopes).length > 0 ? config.scopes : scopesOfSpec(spec, name, config.policies), config.policies);
  finalizeSpec(spec, { scopes, dpopMode: config.dpopMode, name, policies: config.policies });
  api.describeScopes(scopes);
  api.documentedAt(path);

  let built: BuiltDocs<Ui> | undefined;
  let pending: Promise<BuiltDocs<Ui>> | undefined;
  const build = async (): Promise<BuiltDocs<Ui>> => {
    const discovered = await api.validator.discovery().catch(() => undefined);
    const origin = config.issuerOrigin;
    const tokenUrl = discovered?.tokenEndpoint ?? (origin ? `${origin}/oauth/token` : undefined);
    const authorizationUrl = discovered?.authorizationEndpoint ?? (origin ? `${origin}/authorize` : undefined);
    const completed = finalizeSpec(spec, { scopes, dpopMode: config.dpopMode, name, policies: config.policies, ...(tokenUrl ? { tokenUrl } : {}), ...(authorizationUrl ? { authorizationUrl } : {}) });
    const ui = makeUi(completed, {
      dpop: { mode: config.dpopMode },
      oauth: { audience: config.audience, scopes: Object.keys(scopes), usePkce: true, ...options.oauth },
    });
    const result = { spec: completed, ui };
    if (discovered) built = result; // without discovery, try again on the next request
    return result;
  };
  return () => {
    if (built) return Promise.resolve(built);
    pending ??= build().finally(() => {
      pending = undefined;
    });
    return pending;
  };
}

export { swaggerUiOptions };
