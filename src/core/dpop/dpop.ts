/**
 * DPoP for one API configuration (RFC 9449): the proof of a request (§4.3, dpop-proof.ts), then — once the token
 * is verified and bound to the proof key — the server nonce (§9) and replay protection (§11.1).
 */
import { hash } from 'node:crypto';
import { AuthError, ReplayStoreError } from '../errors.js';
import { proofAcceptedUntil, verifyProof, type VerifiedProof } from './dpop-proof.js';
import type { AccessTokenClaims } from '../token/access-token.js';
import type { ReplayRecord, ReplayStore } from './replay-store.js';
import type { NonceManager } from './nonce.js';
import type { Algorithm } from '../token/jws.js';
import type { EventSink } from '../observability/events.js';
import type { Telemetry } from '../observability/telemetry.js';

/** The DPoP verifier's slice of the configuration. */
export interface DpopSettings {
  /** Proof signature algorithms. */
  algorithms: readonly Algorithm[];
  /** Seconds a proof `iat` may lie in the future, and how old it may be. */
  iatLeeway: number;
  iatOffset: number;
  onStoreError: 'reject' | 'accept';
  /** The access tokens' clock skew: replay records outlive a proof's window by it (other instances' clocks). */
  clockTolerance: number;
}

/** What the DPoP verifier uses, built once per validator (services.ts). */
export interface DpopServices {
  replayStore: ReplayStore;
  /** Resource-server nonces (RFC 9449 §9), when the `dpop.nonce` option is on. */
  nonces: NonceManager | undefined;
  emit: EventSink;
  telemetry: Telemetry;
}

/** The replay record of a proof accepted for a token with these claims. */
export function replayRecord(proof: VerifiedProof, claims: Pick<AccessTokenClaims, 'iss' | 'sub'>, settings: Pick<DpopSettings, 'iatOffset' | 'clockTolerance'>, nowMs = Date.now()): ReplayRecord {
  // JSON.stringify escapes lone surrogates (ES2019), so distinct jti strings hash differently (docs/decisions.md
  // D21); a plain UTF-8 encoding would turn every lone surrogate into U+FFFD and make distinct proofs collide.
  const key = hash('sha256', JSON.stringify([proof.thumbprint, proof.jti]), 'base64url');
  const owner = ownerOf(claims.iss, claims.sub);
  // Live for the proof's whole iat window by this clock, plus the skew other instances may have.
  const ttlMs = Math.max(proofAcceptedUntil(proof.iat, settings.iatOffset) - nowMs, 1000) + settings.clockTolerance * 1000;
  return { key, owner, iat: proof.iat, ttlMs };
}

// The last owner hashed: a client's proofs come with the same token, so the same (iss, sub) — compared, not rehashed.
let lastIss: unknown;
let lastSub: unknown;
let lastOwner = '';
function ownerOf(iss: unknown, sub: unknown): string {
  if (iss !== lastIss || sub !== lastSub || lastOwner === '') {
    lastOwner = hash('sha256', JSON.stringify([iss, sub]), 'base64url');
    lastIss = iss;
    lastSub = sub;
  }
  return lastOwner;
}

/** Proof checks, nonces and replay protection. */
export class DpopVerifier {
  constructor(
    private readonly settings: DpopSettings,
    private readonly services: DpopServices,
  ) {}

  /** Checks a request's proof against the request and the token hash (`ath`). Throws `invalid_dpop_proof`. */
  checkProof(proof: string, request: { method: string; url: string }, tokenHash: string): VerifiedProof {
    const { algorithms, iatLeeway, iatOffset } = this.settings;
    return verifyProof(proof, { method: request.method, url: request.url, accessTokenHash: tokenHash, algorithms, iatLeeway, iatOffset });
  }

  /**
   * Accepts a checked proof bound to a verified token: the nonce, then the replay record (last, so that a proof
   * refused for any other reason is not burnt). Resolves with response headers (the next `DPoP-Nonce`).
   */
  async accept(proof: VerifiedProof, claims: AccessTokenClaims): Promise<Record<string, string>> {
    const headers: Record<string, string> = {};
    const nonces = this.services.nonces;
    if (nonces) {
      const verdict = await this.unavailableOnError(() => nonces.verify(proof.nonce));
      if (verdict === 'invalid') {
        const next = await nonces.current().catch(() => undefined); // without it the client retries once more
        throw new AuthError('use_dpop_nonce', 'proof.nonce', 'A fresh DPoP nonce is required', { scheme: 'dpop', dpopNonce: next });
      }
      if (verdict === 'previous') headers['DPoP-Nonce'] = await this.unavailableOnError(() => nonces.current());
    }
    await this.remember(replayRecord(proof, claims, this.settings));
    return headers;
  }

  private async unavailableOnError<T>(step: () => Promise<T>): Promise<T> {
    try {
      return await step();
    } catch (error) {
      this.services.emit({ type: 'replay_store_failed', detail: String((error as Error)?.message ?? error) });
      throw new AuthError('temporarily_unavailable', 'nonce.unavailable', 'DPoP nonces are unavailable; try again later', { retryAfter: 5, cause: error });
    }
  }

  private async remember(record: ReplayRecord): Promise<void> {
    let fresh: boolean;
    const check = this.services.telemetry.startReplayCheck();
    try {
      fresh = await this.services.replayStore.checkAndRemember(record);
    } catch (error) {
      check.done('error', error);
      this.services.emit({ type: 'replay_store_failed', detail: String((error as Error)?.message ?? error) });
      const storeError = error instanceof ReplayStoreError ? error : undefined;
      // Over its share, a client is refused whatever onStoreError says: its proof may be a replay of an evicted one.
      if (storeError?.quota) {
        throw new AuthError('temporarily_unavailable', 'replay_store.quota', 'Too many DPoP proofs from this client; try again later', { retryAfter: storeError.retryAfter, cause: error });
      }
      // Failing open is for outages only: anything else a store throws is a bug, and refuses.
      if (storeError && this.settings.onStoreError === 'accept') return;
      throw new AuthError('temporarily_unavailable', 'replay_store.unavailable', 'DPoP replay protection is unavailable; try again later', {
        retryAfter: storeError?.retryAfter ?? 5,
        cause: error,
      });
    }
    check.done(fresh ? 'fresh' : 'replay');
    if (!fresh) throw new AuthError('invalid_dpop_proof', 'proof.replay', 'The DPoP proof was already used', { scheme: 'dpop' });
  }
}
