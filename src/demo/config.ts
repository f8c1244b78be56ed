/**
 * The demo's configuration, read from the environment (and `.env`). Mistakes stop the start-up with one line that
 * names the variable and the fix.
 */
import { MAX_STATIC_DOMAINS, normalizeDomain, type DpopMode, type ScopeClaim } from '../core/config.js';
import { ConfigurationError } from '../core/errors.js';
import { compileTrustProxy } from '../core/http/trust-proxy.js';
import { devIssuerRefusalReason } from '../dev/environment.js';

/** The web frameworks the demo runs on (`DEMO_FRAMEWORK`): the same routes, answers and decisions on each. */
export const FRAMEWORKS = ['express', 'koa', 'hapi'] as const;
export type Framework = (typeof FRAMEWORKS)[number];

export interface DemoConfig {
  /** `DEMO_FRAMEWORK`: express (default), koa or hapi. */
  framework: Framework;
  host: string;
  port: number;
  /** Issuer domains; empty means "start the development issuer". */
  domains: string[];
  /** True when AUTH0_DOMAINS (several custom domains) was set. */
  multipleDomains: boolean;
  audience: string;
  dpop: DpopMode;
  dpopNonce: boolean;
  trustProxy: boolean | number | string | undefined;
  redisUrl: string | undefined;
  scopeClaim: ScopeClaim;
  strict: boolean;
  publicUrl: string | undefined;
  /** OAuth2 client id Swagger UI uses for authorization code + PKCE against your tenant. */
  docsClientId: string | undefined;
  devIssuer: { port: number; clientId: string; clientSecret: string } | undefined;
  /** `GET /api/relay` (RFC 8693 token exchange), when `DOWNSTREAM_URL` is set. */
  relay: RelayConfig | undefined;
}

/** The downstream API `GET /api/relay` calls, and the API's own client that exchanges tokens for it. */
export interface RelayConfig {
  downstreamUrl: string;
  audience: string;
  scope: string | undefined;
  clientId: string;
  clientSecret: string;
}

export const DEV_AUDIENCE = 'https://api.example.com';

function fail(variable: string, message: string): never {
  throw new ConfigurationError(variable, message);
}

function oneOf<T extends string>(variable: string, value: string | undefined, allowed: readonly T[], fallback: T): T {
  if (value === undefined || value === '') return fallback;
  if (!(allowed as readonly string[]).includes(value)) fail(variable, `expected one of ${allowed.join(', ')}, got "${value}"`);
  return value as T;
}

function boolean(variable: string, value: string | undefined): boolean {
  const v = value?.trim().toLowerCase();
  if (v === undefined || v === '' || v === 'false' || v === '0') return false;
  if (v === 'true' || v === '1') return true;
  return fail(variable, `expected true or false, got "${value}"`);
}

function port(variable: string, value: string | undefined, fallback: number): number {
  if (value === undefined || value.trim() === '') return fallback;
  const n = Number(value.trim()); // Number(' ') is 0: a blank value must not mean "any free port"
  if (!Number.isInteger(n) || n < 0 || n > 65535) fail(variable, `expected a port number, got "${value}"`);
  return n;
}

/** `AUTH0_TRUST_PROXY` uses Express's `trust proxy` syntax: true/false, a hop count, or addresses/subnets. */
function trustProxy(value: string | undefined): DemoConfig['trustProxy'] {
  if (value === undefined || value === '') return undefined;
  if (value === 'true') return true;
  if (value === 'false') return false;
  const setting = /^\d+$/.test(value) ? Number(value) : value;
  try {
    compileTrustProxy(setting); // the same check Express makes in app.set('trust proxy'), here at start-up
  } catch (error) {
    fail('AUTH0_TRUST_PROXY', `${(error as Error).message}; use true, false, a hop count, loopback/linklocal/uniquelocal, or addresses and subnets such as "10.0.0.0/8, ::1"`);
  }
  return setting;
}

/** Empty, or the text a shell or template leaves for a missing value. */
function unset(value: string | undefined): boolean {
  const v = value?.trim();
  return !v || v === 'undefined' || v === 'null';
}

/** `AUTH0_PUBLIC_URL`: the API's public URL as clients call it. Checked here so the message names the variable. */
function publicUrl(value: string | undefined): string | undefined {
  if (value === undefined || value.trim() === '') return undefined;
  let url: URL;
  try {
    url = new URL(value.trim());
  } catch {
    return fail('AUTH0_PUBLIC_URL', `"${value}" is not an absolute URL; use e.g. https://api.example.com`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') fail('AUTH0_PUBLIC_URL', `expected an http(s) URL, got "${value}"`);
  if (url.search || url.hash || url.username || url.password) fail('AUTH0_PUBLIC_URL', `must not have credentials, a query or a fragment, got "${value}"`);
  return value.trim();
}

export function readConfig(env: NodeJS.ProcessEnv = process.env): DemoConfig {
  const rawDomains = env.AUTH0_DOMAINS?.trim();
  const rawDomain = env.AUTH0_DOMAIN?.trim();
  const multipleDomains = Boolean(rawDomains);
  const domains = rawDomains
    ? rawDomains
        .split(',')
        .map((d) => d.trim())
        .filter(Boolean)
        .map((d) => normalizeDomain(d, 'AUTH0_DOMAINS'))
    : rawDomain
      ? [normalizeDomain(rawDomain, 'AUTH0_DOMAIN')]
      : [];
  if (multipleDomains && domains.length === 0) fail('AUTH0_DOMAINS', 'expected a comma-separated list of domains');
  if (domains.length > MAX_STATIC_DOMAINS) fail('AUTH0_DOMAINS', `lists ${domains.length} domains; at most ${MAX_STATIC_DOMAINS} are held at once`);

  const httpPort = port('PORT', env.PORT, 3000);
  let devIssuer: DemoConfig['devIssuer'];
  if (domains.length === 0) {
    // Decision 16: the development issuer never starts in a production-like setting.
    const refusal = devIssuerRefusalReason(env);
    if (refusal) fail('AUTH0_DOMAIN', `is required when ${refusal} (the development issuer runs only locally): set AUTH0_DOMAIN (and AUTH0_AUDIENCE) to your Auth0 tenant, e.g. tenant.us.auth0.com`);
    devIssuer = {
      port: port('AUTH0_DEV_ISSUER_PORT', env.AUTH0_DEV_ISSUER_PORT, httpPort === 0 ? 0 : httpPort + 1),
      clientId: env.AUTH0_DEV_CLIENT_ID || 'demo-client',
      clientSecret: env.AUTH0_DEV_CLIENT_SECRET || 'demo-secret',
    };
  }
  const audience = unset(env.AUTH0_AUDIENCE) ? (devIssuer ? DEV_AUDIENCE : '') : env.AUTH0_AUDIENCE!.trim();
  if (!audience) fail('AUTH0_AUDIENCE', 'is required when a domain is set: set it to your API identifier, e.g. https://api.example.com');

  const relay = relayConfig(env, devIssuer);

  return {
    framework: oneOf('DEMO_FRAMEWORK', env.DEMO_FRAMEWORK, FRAMEWORKS, 'express'),
    host: env.HOST || '127.0.0.1',
    port: httpPort,
    domains,
    multipleDomains,
    audience,
    dpop: oneOf('AUTH0_DPOP', env.AUTH0_DPOP, ['allowed', 'required', 'disabled'] as const, 'allowed'),
    dpopNonce: boolean('AUTH0_DPOP_NONCE', env.AUTH0_DPOP_NONCE),
    trustProxy: trustProxy(env.AUTH0_TRUST_PROXY),
    redisUrl: env.REDIS_URL || undefined,
    scopeClaim: oneOf('AUTH0_SCOPE_CLAIM', env.AUTH0_SCOPE_CLAIM, ['scope', 'permissions', 'scope,permissions'] as const, 'scope'),
    strict: boolean('AUTH0_STRICT', env.AUTH0_STRICT),
    publicUrl: publicUrl(env.AUTH0_PUBLIC_URL),
    docsClientId: env.AUTH0_DOCS_CLIENT_ID || undefined,
    devIssuer,
    relay,
  };
}

/**
 * `DOWNSTREAM_URL` turns on `GET /api/relay`; then `DOWNSTREAM_AUDIENCE`, `AUTH0_CLIENT_ID` and `AUTH0_CLIENT_SECRET`
 * are required (with the development issuer, the client defaults to its confidential client). docs/decisions.md D24.
 */
function relayConfig(env: NodeJS.ProcessEnv, devIssuer: DemoConfig['devIssuer']): RelayConfig | undefined {
  if (unset(env.DOWNSTREAM_URL)) return undefined;
  const raw = env.DOWNSTREAM_URL!.trim();
  let url: URL | undefined;
  try {
    url = new URL(raw);
  } catch {
    url = undefined;
  }
  if (!url || (url.protocol !== 'https:' && url.protocol !== 'http:') || url.username || url.password || url.hash) {
    fail('DOWNSTREAM_URL', `expected the downstream API's http(s) URL without credentials or fragment, e.g. https://downstream.example.com/api/items, got "${raw}"`);
  }
  const required = (variable: string, fallback: string | undefined, example: string): string => {
    if (!unset(env[variable])) return env[variable]!.trim();
    if (fallback !== undefined) return fallback;
    return fail(variable, `is required when DOWNSTREAM_URL is set: ${example}`);
  };
  const audience = required('DOWNSTREAM_AUDIENCE', undefined, "set it to the downstream API's identifier, e.g. https://downstream.example.com");
  if (!URL.canParse(audience)) fail('DOWNSTREAM_AUDIENCE', `expected the downstream API's identifier (an absolute URI), e.g. https://downstream.example.com, got "${audience}"`);
  const clientId = required('AUTH0_CLIENT_ID', devIssuer?.clientId, "set it to the client ID of this API's own application (allowed to exchange tokens)");
  const clientSecret = required('AUTH0_CLIENT_SECRET', devIssuer?.clientSecret, 'set it to the client secret of that application');
  const scope = unset(env.DOWNSTREAM_SCOPE) ? undefined : env.DOWNSTREAM_SCOPE!.trim().split(/\s+/).join(' ');
  if (scope !== undefined && !/^[\x21\x23-\x5b\x5d-\x7e]+( [\x21\x23-\x5b\x5d-\x7e]+)*$/.test(scope)) fail('DOWNSTREAM_SCOPE', `expected space-separated scope names such as "read:items", got "${env.DOWNSTREAM_SCOPE}"`);
  return { downstreamUrl: url.href, audience, scope, clientId, clientSecret };
}
