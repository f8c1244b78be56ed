/**
 * The seam between the demo's start-up (server.ts) and its web framework (`DEMO_FRAMEWORK`): each framework module
 * attaches the same API — tsoa's routes generated for that framework, the same controllers, errors, docs and RFC 9728
 * route — to the Node HTTP server. Loaded on demand, so a framework that is not used is not loaded.
 */
import type { Server } from 'node:http';
import type { ApiOptions } from '../core/options.js';
import type { ApiValidator } from '../core/validator.js';
import type { TrustProxySetting } from '../core/trust-proxy.js';
import type { ServeDocsOptions } from '../tsoa/docs-source.js';
import type { Framework } from './config.js';

/** The frameworks wired in (tests run the demo suites on each); hapi joins once hapi-app.ts attaches its adapter. */
export const WIRED_FRAMEWORKS: readonly Framework[] = ['express', 'koa'];

/** What every framework's demo app is built from. */
export interface DemoAppOptions {
  /** The API options (createAuth0Api / createKoaAuth0Api / …). */
  api: ApiOptions;
  /** The OpenAPI document tsoa generated (build/tsoa/swagger.json). */
  spec: Record<string, unknown>;
  /** `AUTH0_TRUST_PROXY` in Express's `trust proxy` forms; the same meaning on every framework. */
  trustProxy: TrustProxySetting | undefined;
  /** The OAuth2 clients of Swagger UI's Authorize dialog. */
  docs: ServeDocsOptions;
}

/** What the demo's start-up needs of the framework's API object: its validator (discovery, `ready()`, telemetry). */
export interface AttachedApi {
  readonly validator: ApiValidator;
}

/**
 * Builds the app on `server` (its request handler) and returns its API object. Throws a ConfigurationError on bad
 * options.
 */
export type AttachApp = (server: Server, options: DemoAppOptions) => Promise<AttachedApi>;

/** The demo app for a framework. */
export async function demoApp(framework: Framework): Promise<AttachApp> {
  switch (framework) {
    case 'express':
      return (await import('./app.js')).attachExpressApp;
    case 'koa':
      return (await import('./koa-app.js')).attachKoaApp;
    case 'hapi':
      return (await import('./hapi-app.js')).attachHapiApp;
  }
}
