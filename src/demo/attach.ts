/**
 * What every framework's demo app is built from and returns (see frameworks.ts, which loads the one chosen by
 * `DEMO_FRAMEWORK`). Types only: the apps import them, and frameworks.ts imports the apps.
 */
import type { Server } from 'node:http';
import type { ApiOptions } from '../core/options.js';
import type { ApiValidator } from '../core/validator.js';
import type { TrustProxySetting } from '../core/http/trust-proxy.js';
import type { ServeDocsOptions } from '../core/docs/site.js';

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

/** What the demo's start-up needs of the framework's API object: its validator (`ready()`, `exchangeToken`). */
export interface AttachedApi {
  readonly validator: ApiValidator;
}

/**
 * Builds the app on `server` (its request handler) and returns its API object. Throws a ConfigurationError on bad
 * options.
 */
export type AttachApp = (server: Server, options: DemoAppOptions) => Promise<AttachedApi>;
