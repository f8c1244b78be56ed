/**
 * When the development issuer must not run (docs/decisions.md D16): a production-like `NODE_ENV`, or an `https://`
 * `AUTH0_PUBLIC_URL` (an API published over TLS is not a developer's machine). No dependencies, so the demo's
 * configuration can check it without loading the issuer.
 */

/** `NODE_ENV` values that count as production, compared trimmed and ignoring case. */
const PRODUCTION_NAMES = new Set(['production', 'prod']);

/** True when `NODE_ENV` is `production` or `prod`, ignoring surrounding spaces and case (`Production `, `PROD`). */
export function isProductionLike(env: NodeJS.ProcessEnv = process.env): boolean {
  return PRODUCTION_NAMES.has((env.NODE_ENV ?? '').trim().toLowerCase());
}

/**
 * Why the development issuer must not start in this environment (e.g. `NODE_ENV is "prod"`), or `undefined` when
 * it may start.
 */
export function devIssuerRefusalReason(env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (isProductionLike(env)) return `NODE_ENV is ${JSON.stringify(env.NODE_ENV)}`;
  const publicUrl = (env.AUTH0_PUBLIC_URL ?? '').trim();
  if (/^https:\/\//i.test(publicUrl)) return `AUTH0_PUBLIC_URL is an https:// URL (${publicUrl})`;
  return undefined;
}

/** Thrown by {@link assertDevelopmentEnvironment}; its message is the one line to show. */
export class DevIssuerRefusedError extends Error {
  /** The error's class name, DevIssuerRefusedError (stable: safe to compare). */
  override readonly name = 'DevIssuerRefusedError';
}

/**
 * Throws {@link DevIssuerRefusedError} with one line naming `AUTH0_DOMAIN` when {@link devIssuerRefusalReason}
 * gives a reason.
 */
export function assertDevelopmentEnvironment(env: NodeJS.ProcessEnv = process.env): void {
  const reason = devIssuerRefusalReason(env);
  if (reason) {
    throw new DevIssuerRefusedError(`auth0-tsoa-api: the development issuer does not run when ${reason}: set AUTH0_DOMAIN (and AUTH0_AUDIENCE) to your Auth0 tenant, e.g. tenant.us.auth0.com`);
  }
}
