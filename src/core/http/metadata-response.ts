/**
 * The RFC 9728 document as an HTTP response, for every framework: its body, and its caching (docs/decisions.md D19):
 * its `resource` follows the request's host unless `publicUrl` is set, so it may be cached publicly only then, and
 * otherwise varies with every header that decides the host.
 */
import type { ApiValidator } from '../validator.js';

/** The response to a GET of the metadata document for a request to `url` (the request's public URL). */
export async function resourceMetadataResponse(validator: ApiValidator, url: string, documentationPath: string | undefined, scopes: readonly string[] | undefined): Promise<{ body: unknown; headers: Record<string, string> }> {
  const publicUrl = validator.config.publicUrl;
  const docs = documentationPath === undefined ? undefined : `${publicUrl?.origin ?? new URL(url).origin}${documentationPath}`;
  const body = await validator.protectedResourceMetadata(url, { documentationUrl: docs, scopes });
  if (publicUrl) return { body, headers: { 'Cache-Control': 'public, max-age=300' } };
  return { body, headers: { 'Cache-Control': 'private, max-age=300', Vary: 'Host, X-Forwarded-Host, X-Forwarded-Proto, X-Forwarded-Prefix' } };
}
