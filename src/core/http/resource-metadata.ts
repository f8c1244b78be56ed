/**
 * OAuth 2.0 Protected Resource Metadata (RFC 9728): the document, and its URL that every 401 challenge names.
 */
import type { IssuerPool } from '../issuer/issuer-pool.js';
import type { DpopMode } from '../options.js';
import type { MtlsMode } from '../token/confirmation.js';

/** The slice of the configuration the RFC 9728 document and its URL are made of. */
export interface ResourceMetadataSettings {
  publicUrl: URL | undefined;
  /** Undefined when the document is turned off. */
  resourceMetadataPath: string | undefined;
  dpop: { mode: DpopMode; algorithms: readonly string[] };
  mtls: { mode: MtlsMode };
  /** The `scopes` option, and the `policies` whose scopes it lacks. */
  scopes: Readonly<Record<string, string>>;
  policies: ReadonlyMap<string, { scopes: readonly string[] }>;
}

/** RFC 9728 §2 protected resource metadata. */
export interface ProtectedResourceMetadata {
  /** The API's public origin. */
  resource: string;
  /** The issuers whose tokens the API accepts. */
  authorization_servers: string[];
  /** The scopes the API defines. */
  scopes_supported: string[];
  /** How tokens may be sent: always `["header"]`. */
  bearer_methods_supported: string[];
  /** The API documentation (Swagger UI), when served. */
  resource_documentation?: string;
  /** DPoP proof algorithms (RFC 9449 §5.1), unless DPoP is disabled. */
  dpop_signing_alg_values_supported?: string[];
  /** True when DPoP is required. */
  dpop_bound_access_tokens_required?: boolean;
  /** True when certificate-bound tokens (RFC 8705) are verified. */
  tls_client_certificate_bound_access_tokens?: boolean;
}

/** The API's public origin: `publicUrl`'s, else the request URL's. Undefined for an unparseable URL. */
export function publicOrigin(config: Pick<ResourceMetadataSettings, 'publicUrl'>, requestUrl: string): string | undefined {
  if (config.publicUrl) return config.publicUrl.origin;
  try {
    return new URL(requestUrl).origin;
  } catch {
    return undefined;
  }
}

/** Absolute URL of the RFC 9728 document for a request URL, or undefined when metadata is turned off. */
export function resourceMetadataUrl(config: Pick<ResourceMetadataSettings, 'publicUrl' | 'resourceMetadataPath'>, requestUrl: string): string | undefined {
  const path = config.resourceMetadataPath;
  if (path === undefined) return undefined;
  const origin = publicOrigin(config, requestUrl);
  return origin ? `${origin}${path}` : undefined;
}

/**
 * The RFC 9728 document for the API at `requestUrl`'s origin (or `publicUrl`). `authorization_servers` holds each
 * configured issuer exactly as its discovery document names it (Auth0: with the trailing slash).
 */
export async function protectedResourceMetadata(
  config: ResourceMetadataSettings,
  issuers: IssuerPool,
  requestUrl: string,
  extra: { documentationUrl?: string | undefined; scopes?: readonly string[] | undefined } = {},
): Promise<ProtectedResourceMetadata> {
  const servers: string[] = [];
  for (const origin of issuers.configuredOrigins()) {
    try {
      servers.push((await issuers.client(origin).getDiscovery()).issuer);
    } catch {
      servers.push(`${origin}/`);
    }
  }
  const { mode, algorithms } = config.dpop;
  return {
    resource: publicOrigin(config, requestUrl) ?? requestUrl,
    authorization_servers: servers,
    scopes_supported: extra.scopes ? [...extra.scopes] : supportedScopes(config),
    bearer_methods_supported: ['header'],
    ...(extra.documentationUrl !== undefined ? { resource_documentation: extra.documentationUrl } : {}),
    ...(mode !== 'disabled' ? { dpop_signing_alg_values_supported: [...algorithms], dpop_bound_access_tokens_required: mode === 'required' } : {}),
    ...(config.mtls.mode !== 'disabled' ? { tls_client_certificate_bound_access_tokens: true } : {}),
  };
}

/** The `scopes` option's scopes, then the scopes of the `policies` it lacks: every scope the API can require. */
function supportedScopes(config: Pick<ResourceMetadataSettings, 'scopes' | 'policies'>): string[] {
  return [...new Set([...Object.keys(config.scopes), ...[...config.policies.values()].flatMap((policy) => policy.scopes)])];
}
