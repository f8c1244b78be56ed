/**
 * The API's documentation in one call: the OpenAPI document tsoa generated, completed by {@link finalizeSpec} with
 * what the {@link Auth0Api} already knows — its scopes (or, when none were configured, the scopes the operations
 * require), its DPoP mode, its audience and its issuer's real token and authorize endpoints (from discovery) — served
 * as JSON, with Swagger UI next to it and advertised as `resource_documentation` in the RFC 9728 document.
 *
 * ```ts
 * serveDocs(app, auth0, spec);   // GET /openapi.json and /docs
 * ```
 */
import type { Application, Request, Response, NextFunction, Router } from 'express';
import type { Auth0Api } from '../express/api.js';
import { swaggerUiHandlers, type SwaggerUiOAuthOptions } from '../express/swagger.js';
import { finalizeSpec, withPolicyScopes } from './security.js';
import type { ResolvedPolicy } from '../core/policies.js';
import { splitSecurityName } from '../core/security-names.js';
import { securityRequirements } from '../core/openapi.js';

type Json = Record<string, unknown>;

/** Options of {@link serveDocs}. */
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
export function scopesOfSpec(spec: Json, name = 'auth0', policies: ReadonlyMap<string, ResolvedPolicy> = new Map()): Record<string, string> {
  const scopes: Record<string, string> = {};
  const add = (list: readonly string[] | undefined) => {
    for (const scope of list ?? []) scopes[scope] ??= scope;
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

/**
 * Serves the completed OpenAPI document at `specPath` and Swagger UI at `path` (Bearer, DPoP and OAuth2 token
 * testing), and advertises the docs in the RFC 9728 document. Call it after `auth0.install(app)`.
 *
 * The issuer's endpoints come from its discovery document, fetched on the first request for the docs; until it
 * answers, Auth0's paths on the configured domain are used (`/oauth/token`, `/authorize`).
 */
export function serveDocs(app: Application, auth0: Auth0Api, spec: Json, options: ServeDocsOptions = {}): void {
  const path = options.path ?? '/docs';
  const specPath = options.specPath ?? '/openapi.json';
  const name = options.securityName ?? 'auth0';
  const config = auth0.documentation();
  const scopes = withPolicyScopes(Object.keys(config.scopes).length > 0 ? config.scopes : scopesOfSpec(spec, name, config.policies), config.policies);
  // Unknown security names fail now, at start-up, not on the first request for the docs.
  finalizeSpec(spec, { scopes, dpopMode: config.dpopMode, name, policies: config.policies });
  auth0.describeScopes(scopes).documentedAt(path);

  let built: { spec: Json; ui: Router } | undefined;
  let pending: Promise<{ spec: Json; ui: Router }> | undefined;
  const build = async () => {
    const discovered = await auth0.validator.discovery().catch(() => undefined);
    const origin = config.issuerOrigin;
    const tokenUrl = discovered?.tokenEndpoint ?? (origin ? `${origin}/oauth/token` : undefined);
    const authorizationUrl = discovered?.authorizationEndpoint ?? (origin ? `${origin}/authorize` : undefined);
    const completed = finalizeSpec(spec, { scopes, dpopMode: config.dpopMode, name, policies: config.policies, ...(tokenUrl ? { tokenUrl } : {}), ...(authorizationUrl ? { authorizationUrl } : {}) });
    const ui = swaggerUiHandlers(completed, {
      dpop: { mode: config.dpopMode },
      oauth: { audience: config.audience, scopes: Object.keys(scopes), usePkce: true, ...options.oauth },
    });
    const result = { spec: completed, ui };
    if (discovered) built = result; // without discovery, try again on the next request
    return result;
  };
  const docs = (): Promise<{ spec: Json; ui: Router }> => {
    if (built) return Promise.resolve(built);
    pending ??= build().finally(() => {
      pending = undefined;
    });
    return pending;
  };

  app.get(specPath, (_req: Request, res: Response, next: NextFunction) => {
    docs().then((d) => res.json(d.spec), next);
  });
  app.use(path, (req: Request, res: Response, next: NextFunction) => {
    docs().then((d) => d.ui(req, res, next), next);
  });
}
