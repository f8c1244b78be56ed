/** Issuer domains as settings: normalized to origins, `http://` only for loopback hosts. */
import { ConfigurationError } from '../errors.js';
import type { DomainsResolver } from '../options.js';

/** Where issuers come from: one domain, a fixed list (the token's `iss` picks one), or a resolver per request. */
export type DomainSource = { kind: 'single'; origin: string } | { kind: 'list'; origins: readonly string[] } | { kind: 'resolver'; resolve: DomainsResolver };

const LOOPBACK = /^(localhost|127(?:\.\d{1,3}){3}|\[::1\])$/i;

/** True for hosts that never leave the machine: only these may use plain `http://` (development and tests). */
export function isLoopbackHost(hostname: string): boolean {
  return LOOPBACK.test(hostname);
}

/**
 * Normalizes a domain setting to an origin: `tenant.auth0.com`, `HTTPS://Tenant.auth0.com/` → `https://tenant.auth0.com`.
 * `http://` only for loopback hosts; no path, query, fragment or credentials.
 */
export function normalizeDomain(value: unknown, option = 'domain'): string {
  if (typeof value !== 'string' || value.trim() === '' || value.trim() === 'undefined' || value.trim() === 'null') {
    throw new ConfigurationError(option, `expected your Auth0 domain such as "tenant.us.auth0.com", got ${describe(value)} (is the environment variable set?)`);
  }
  const raw = value.trim();
  // URL parsing silently drops tabs and newlines: "tenant\nevil.example" would become another host.
  if (/[\x00-\x1f\x7f]/.test(raw)) throw new ConfigurationError(option, 'contains control characters; use the bare host, e.g. "tenant.us.auth0.com"');
  const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(raw) ? raw : `https://${raw}`;
  let url: URL;
  try {
    url = new URL(withScheme);
  } catch {
    throw new ConfigurationError(option, `"${raw}" is not a valid domain; use the bare host, e.g. "tenant.us.auth0.com"`);
  }
  if (url.username || url.password) throw new ConfigurationError(option, `"${raw}" contains credentials; use the bare host, e.g. "tenant.us.auth0.com"`);
  if (url.pathname !== '/' && url.pathname !== '') throw new ConfigurationError(option, `"${raw}" has a path; use the bare host, e.g. "tenant.us.auth0.com"`);
  if (url.search || url.hash || raw.includes('?') || raw.includes('#')) throw new ConfigurationError(option, `"${raw}" has a query or fragment; use the bare host, e.g. "tenant.us.auth0.com"`);
  if (url.protocol === 'http:' && !isLoopbackHost(url.hostname)) {
    throw new ConfigurationError(option, `"${raw}" uses http://; use https:// (plain http is allowed only for localhost/127.0.0.1)`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new ConfigurationError(option, `"${raw}" must be an https:// URL or a bare host`);
  return url.origin;
}

/** A setting's value as an error message shows it. */
export function describe(value: unknown): string {
  if (value === undefined) return 'undefined';
  if (typeof value === 'string') return JSON.stringify(value);
  return typeof value;
}
