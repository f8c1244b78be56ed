/**
 * The services of one validator, built once from its configuration (config.ts: plain data): the telemetry, the safe
 * event sink, the replay store, the nonces, the issuer pool and the two verifiers. Each is given only its slice of
 * the configuration and only the services it uses, so no part below the validator reads the whole configuration.
 */
import type { ResolvedConfig } from './config.js';
import { Telemetry } from './observability/telemetry.js';
import { safeSink } from './observability/diagnostics.js';
import type { EventSink } from './observability/events.js';
import { MemoryReplayStore, type ReplayStore } from './dpop/replay-store.js';
import { NonceManager } from './dpop/nonce.js';
import { DpopVerifier } from './dpop/dpop.js';
import { IssuerPool } from './issuer/issuer-pool.js';
import { TokenVerifier } from './token/token-verifier.js';

/** What a validator works with, built by {@link buildServices}. */
export interface Services {
  /** OpenTelemetry metrics and spans (telemetry.ts): reported when the application registered an SDK. */
  telemetry: Telemetry;
  /** The `onEvent` hook, made safe (a throwing hook never changes a verdict), or the default log. */
  emit: EventSink;
  /** The application's replay store, or a bounded in-memory one (one instance only). */
  replayStore: ReplayStore;
  issuers: IssuerPool;
  tokens: TokenVerifier;
  dpop: DpopVerifier;
}

/** Builds a validator's services from its resolved configuration. Call it once per validator: nothing is shared. */
export function buildServices(config: ResolvedConfig): Services {
  const telemetry = new Telemetry();
  const emit = safeSink(config.onEvent);
  const replayStore = config.dpop.replayStore ?? new MemoryReplayStore();
  const nonces = config.dpop.nonce === undefined ? undefined : new NonceManager(config.dpop.nonce);

  const { domains, audiences, algorithms, clockTolerance, maxTokenAge, strict, tokenCacheSize } = config;
  const issuers = new IssuerPool({ domains, issuer: config.issuer }, { emit, telemetry });
  const tokens = new TokenVerifier({ domains, audiences, algorithms, clockTolerance, maxTokenAge, strict, tokenCacheSize }, issuers, telemetry);
  const { iatLeeway, iatOffset, onStoreError } = config.dpop;
  const dpop = new DpopVerifier({ algorithms: config.dpop.algorithms, iatLeeway, iatOffset, onStoreError, clockTolerance }, { replayStore, nonces, emit, telemetry });
  return { telemetry, emit, replayStore, issuers, tokens, dpop };
}
