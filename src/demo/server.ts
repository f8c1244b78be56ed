/**
 * Starts the demo API: reads the configuration, starts the development issuer when no Auth0 domain is set,
 * and listens. `npm start` runs this file.
 *
 * The development issuer (oidc-provider), ioredis and the OpenTelemetry SDK are imported only when used: a demo with
 * a real domain, no Redis and no `OTEL_*` variable does not load them.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import type { Redis } from 'ioredis';
import { jsonClientErrors } from '../core/http/error-reply.js';
import type { ServeDocsOptions } from '../tsoa/index.js';
import { RedisReplayStore, type AuthEvent, type ApiOptions } from '../core/index.js';
import { demoApp } from './frameworks.js';
import { readConfig } from './config.js';
import { isProductionLike } from '../dev/environment.js';
import { generatedSpec, projectRoot } from './openapi.js';
import { SCOPES } from './scopes.js';
import { DEV_ORGANIZATIONS, POLICIES } from './policies.js';
import { clearRelay, Relay, setRelay } from './relay.js';
import type { DevIssuer } from '../dev/index.js';
import type { DemoTelemetry } from './telemetry.js';

/** The variables that load the OpenTelemetry SDK (src/demo/telemetry.ts, which is imported only then). */
const OTEL_VARIABLES = ['OTEL_METRICS_EXPORTER', 'OTEL_TRACES_EXPORTER', 'OTEL_SERVICE_NAME'];

export interface RunningDemo {
  url: string;
  issuer: DevIssuer | undefined;
  /** The OpenTelemetry SDK started from `OTEL_*` variables, if any. */
  telemetry: DemoTelemetry | undefined;
  close(): Promise<void>;
}

export interface StartOptions {
  env?: NodeJS.ProcessEnv;
  onEvent?: (event: AuthEvent) => void;
  /** Override fetch for discovery/JWKS (tests that simulate identity-provider faults). */
  fetch?: typeof fetch;
  quiet?: boolean;
}

export async function startDemo(options: StartOptions = {}): Promise<RunningDemo> {
  const env = options.env ?? process.env;
  const config = readConfig(env);
  const origin = (port: number) => `http://${config.host.includes(':') ? `[${config.host}]` : config.host}:${port}`;

  // Before the server exists: the SDK registers globally, and its HTTP instrumentation wraps the server's requests.
  const telemetry = OTEL_VARIABLES.some((name) => (env[name] ?? '').trim() !== '') ? await (await import('./telemetry.js')).startTelemetry(env) : undefined;

  // Listen first: the development issuer registers Swagger UI's redirect URI, which needs the real port.
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.port, config.host, () => resolve());
  }).catch(async (error: unknown) => {
    await telemetry?.shutdown();
    throw error;
  });
  const url = origin((server.address() as AddressInfo).port);

  let issuer: DevIssuer | undefined;
  let redis: Redis | undefined;
  let redisDown = false;
  let relay: Relay | undefined;
  const close = async () => {
    clearRelay(relay);
    server.closeAllConnections?.();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await issuer?.close();
    redis?.disconnect();
    await telemetry?.shutdown(); // last: flushes the spans of the requests above
  };

  try {
    let domains = config.domains;
    if (config.devIssuer) {
      const { startDevIssuer } = await import('../dev/issuer.js');
      issuer = await startDevIssuer({
        env: options.env ?? process.env,
        port: config.devIssuer.port,
        audience: config.audience,
        // The downstream API of GET /api/relay: the issuer exchanges tokens for it (RFC 8693).
        ...(config.relay ? { audiences: [config.relay.audience] } : {}),
        scopes: { ...SCOPES },
        clientId: config.devIssuer.clientId,
        clientSecret: config.devIssuer.clientSecret,
        organizations: DEV_ORGANIZATIONS,
        spaRedirectUris: [`${url}/docs/oauth2-redirect.html`],
        corsOrigins: [url],
      });
      domains = [issuer.issuer];
    }

    if (config.redisUrl) {
      const { Redis } = await import('ioredis');
      // Fail fast instead of queueing: an unreachable store must answer 503 at once, not hang requests.
      redis = new Redis(config.redisUrl, { enableOfflineQueue: false, maxRetriesPerRequest: 1, commandTimeout: 2000 });
      redis.on('error', () => {}); // reported through onEvent when a request needs it
      // Without the offline queue, a request that came before the connection would be a 503: serve once connected.
      // A Redis that is down at start-up does not stop the API (Bearer works; DPoP answers 503 until it is back).
      redisDown = !(await connected(redis, REDIS_START_WAIT_MS));
    }

    const api: ApiOptions = {
      ...(config.multipleDomains ? { domains } : { domain: domains[0]! }),
      audience: config.audience,
      scopeClaim: config.scopeClaim,
      strict: config.strict,
      scopes: SCOPES,
      policies: POLICIES,
      dpop: {
        mode: config.dpop,
        ...(redis ? { replayStore: new RedisReplayStore(redis) } : {}),
        ...(config.dpopNonce ? { nonce: redis ? { redis } : true } : {}),
      },
      ...(config.publicUrl ? { publicUrl: config.publicUrl } : {}),
      ...(options.fetch ? { fetch: options.fetch } : {}),
      ...(options.onEvent ? { onEvent: options.onEvent } : {}),
      // GET /api/relay: this API's own client exchanges callers' tokens at the issuer's token endpoint (RFC 8693).
      ...(config.relay ? { tokenExchange: { clientId: config.relay.clientId, clientSecret: config.relay.clientSecret } } : {}),
    };

    // Swagger UI's Authorize dialog: the development clients, or your own SPA client for Auth0 (AUTH0_DOCS_CLIENT_ID).
    const docsClientId = issuer ? issuer.spaClientId : config.docsClientId;
    const docs: ServeDocsOptions = {
      oauth: {
        ...(docsClientId ? { clientId: docsClientId } : {}),
        ...(issuer ? { clientCredentials: { clientId: issuer.clientId, clientSecret: issuer.clientSecret } } : {}),
      },
    };
    const auth0 = await (await demoApp(config.framework))(server, { api, spec: generatedSpec(), trustProxy: config.trustProxy, docs });
    relay = config.relay ? new Relay(config.relay, (caller, request) => auth0.validator.exchangeToken(caller, request)) : undefined;
    setRelay(relay);
    // Discovery and keys before the first request; a provider down now is one warning, and requests answer 503 until it is back.
    await auth0.validator.ready().catch((error: Error) => options.quiet || console.warn(`auth0-tsoa-api: the identity provider is not reachable yet (${error.message}); requests answer 503 until it is`));

    jsonClientErrors(server);
  } catch (error) {
    await close();
    throw error;
  }

  if (!options.quiet) printBanner(url, issuer, config.audience, config.devIssuer?.clientId, config.devIssuer?.clientSecret, telemetry);
  if (!options.quiet && redisDown) {
    console.warn(`auth0-tsoa-api: Redis at REDIS_URL is not reachable yet (${REDIS_START_WAIT_MS / 1000} s); DPoP requests answer 503 until it is`);
  }
  if (!options.quiet && isProductionLike(options.env ?? process.env) && !config.publicUrl) {
    // DPoP `htu` and RFC 9728 URLs then come from the Host header (or trusted forwarded headers): see README, Security.
    console.warn('auth0-tsoa-api: set AUTH0_PUBLIC_URL to the public URL of this API (e.g. https://api.example.com) in production');
  }
  return { url, issuer, telemetry, close };
}

const REDIS_START_WAIT_MS = 2000;

/** Resolves true once `redis` is ready, false after `ms` without a connection. */
function connected(redis: Redis, ms: number): Promise<boolean> {
  if (redis.status === 'ready') return Promise.resolve(true);
  return new Promise((resolve) => {
    const done = (ready: boolean) => {
      clearTimeout(timer);
      redis.off('ready', onReady);
      resolve(ready);
    };
    const onReady = () => done(true);
    const timer = setTimeout(() => done(false), ms);
    redis.once('ready', onReady);
  });
}

function printBanner(url: string, issuer: DevIssuer | undefined, audience: string, clientId?: string, clientSecret?: string, telemetry?: DemoTelemetry) {
  const lines = [`auth0-tsoa-api demo listening on ${url}  (docs: ${url}/docs)`];
  if (telemetry) {
    const exports = [...(telemetry.metricsUrl ? [`metrics ${telemetry.metricsUrl}`] : []), ...telemetry.tracesExporters.map((kind) => `traces → ${kind}`)];
    lines.push(`OpenTelemetry (service.name=${telemetry.serviceName}): ${exports.join(', ') || 'no exporter'}`);
  }
  if (issuer) {
    lines.push(
      '',
      `Development issuer (no AUTH0_DOMAIN set): ${issuer.issuer}`,
      `  client_id=${clientId}  client_secret=${clientSecret}  audience=${audience}`,
      `  Swagger UI: Authorize with "auth0 (OAuth2, clientCredentials)" or the PKCE client "${issuer.spaClientId}".`,
      '',
      'Try it:',
      `  TOKEN=$(curl -s -u ${clientId}:${clientSecret} -d grant_type=client_credentials -d audience=${audience} ${issuer.tokenEndpoint} | node -pe 'JSON.parse(require("fs").readFileSync(0)).access_token')`,
      `  curl -H "Authorization: Bearer $TOKEN" ${url}/api/private`,
    );
  }
  console.log(lines.join('\n'));
}

export async function main(): Promise<void> {
  const envFile = join(projectRoot(), '.env');
  if (existsSync(envFile)) process.loadEnvFile(envFile);
  let demo: RunningDemo;
  try {
    demo = await startDemo();
  } catch (error) {
    console.error(error instanceof Error ? error.message.split('\n')[0] : String(error));
    process.exit(1);
  }
  const stop = () => {
    void demo.close().finally(() => process.exit(0)); // void: the process exits whether closing succeeds or not
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) void main();
