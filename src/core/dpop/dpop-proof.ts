/**
 * DPoP proof checks (RFC 9449 §4.3): one compact JWS with `typ` `dpop+jwt`, an allowed asymmetric `alg`, a public
 * `jwk` (bounded, see jws.ts) that verifies the signature, `htm`, `htu`, the `iat` window, `exp`, `jti` and `ath`
 * bound to the access token. The token binding (`cnf.jkt`), nonces and replay are dpop.ts' job.
 */
import { hash, type KeyObject } from 'node:crypto';
import { AuthError, type AuthFailureReason } from '../errors.js';
import { hasUnsupportedHeader, importPublicJwk, JwkError, parseCompactJwsOr, PROOF_KEY_BOUNDS, verifySignature, type Algorithm, type ImportedKey } from '../token/jws.js';
import { htuMatches } from '../http/htu.js';
import { nowSeconds } from '../token/access-token.js';

/** Largest proof accepted before any parsing. */
export const MAX_PROOF_LENGTH = 8 * 1024;
/** Longest `jti` accepted (RFC 9449 §11.1: enough entropy fits in far less). */
export const MAX_JTI_LENGTH = 256;
/** Imported proof keys by thumbprint: a client reuses its key, and importing one costs ~100 µs. Bounded (FIFO). */
const KEY_CACHE_SIZE = 1000;
const keyCache = new Map<string, KeyObject>();
const boundedKeyCache = {
  get: (thumbprint: string) => keyCache.get(thumbprint),
  set(thumbprint: string, key: KeyObject) {
    if (keyCache.size >= KEY_CACHE_SIZE) keyCache.delete(keyCache.keys().next().value as string);
    keyCache.set(thumbprint, key);
  },
};

/** What a proof is checked against. */
export interface ProofRules {
  method: string;
  /** The absolute public URL of the request. */
  url: string;
  /** `ath`: base64url(SHA-256(access token)), see {@link accessTokenHash}. */
  accessTokenHash: string;
  algorithms: readonly Algorithm[];
  /** Seconds a proof `iat` may be in the future. */
  iatLeeway: number;
  /** Seconds a proof `iat` may be in the past. */
  iatOffset: number;
  /** Now, in seconds (tests). */
  now?: number;
}

/** A proof that passed every check of §4.3. */
export interface VerifiedProof {
  /** RFC 7638 thumbprint of the proof key: what `cnf.jkt` must equal. */
  thumbprint: string;
  /** The proof's unique identifier (replay protection). */
  jti: string;
  /** When the proof was made, in seconds since the epoch. */
  iat: number;
  /** The server nonce the proof carries, if any (RFC 9449 §9). */
  nonce: unknown;
  /** Every claim of the proof. */
  payload: Record<string, unknown>;
}

function bad(reason: AuthFailureReason, description: string): AuthError {
  return new AuthError('invalid_dpop_proof', reason, description, { scheme: 'dpop' });
}

// The last token hashed: a client sends the same token with every proof, and comparing ~1 KB costs a tenth of hashing it.
let lastToken = '';
let lastHash = '';

/** base64url(SHA-256(access token)): the `ath` value (RFC 9449 §4.2). */
export function accessTokenHash(token: string): string {
  if (token !== lastToken) {
    lastHash = hash('sha256', token, 'base64url');
    lastToken = token;
  }
  return lastHash;
}

const JWS_REASONS = {
  too_large: ['proof.malformed', 'The DPoP proof is not a compact JWS'],
  malformed: ['proof.malformed', 'The DPoP proof is not a compact JWS'],
  header: ['proof.malformed_header', 'The DPoP proof header is malformed'],
  payload: ['proof.malformed_payload', 'The DPoP proof payload is not a JSON object'],
} as const;

const JWK_REASONS = {
  unsupported: ['proof.jwk_unsupported', 'The DPoP proof jwk key type is not supported'],
  private: ['proof.jwk_private', 'The DPoP proof jwk must be a public key'],
  invalid: ['proof.jwk_invalid', 'The DPoP proof jwk is invalid'],
  alg_mismatch: ['proof.jwk_alg_mismatch', 'The DPoP proof jwk does not match its alg'],
} as const;

/** The header `jwk` as a bounded public key fitting `alg`, imported once per thumbprint. */
function proofKey(jwk: unknown, alg: Algorithm): ImportedKey {
  if (jwk === null || typeof jwk !== 'object' || Array.isArray(jwk)) throw bad('proof.jwk_missing', 'The DPoP proof has no jwk header');
  try {
    return importPublicJwk(jwk, PROOF_KEY_BOUNDS, alg, boundedKeyCache);
  } catch (error) {
    if (!(error instanceof JwkError)) throw error;
    const [reason, description] = JWK_REASONS[error.failure];
    throw bad(reason, description);
  }
}

/** Checks one proof against the request (§4.3 steps 1–11, without replay and nonce). Throws `invalid_dpop_proof`. */
export function verifyProof(proof: string, rules: ProofRules): VerifiedProof {
  const parsed = parseCompactJwsOr(proof, MAX_PROOF_LENGTH, (failure) => bad(JWS_REASONS[failure][0], JWS_REASONS[failure][1]));
  const { header } = parsed;
  if (header.typ !== 'dpop+jwt') throw bad('proof.typ', 'The DPoP proof typ must be dpop+jwt');
  const alg = header.alg;
  if (typeof alg !== 'string' || !(rules.algorithms as readonly string[]).includes(alg)) throw bad('proof.alg_not_allowed', 'The DPoP proof alg is not allowed');
  if (hasUnsupportedHeader(header)) throw bad('proof.unsupported_header', 'The DPoP proof uses unsupported header parameters');
  const { key, thumbprint } = proofKey(header.jwk, alg as Algorithm);
  if (!verifySignature(alg, key, parsed.signingInput, parsed.signature)) throw bad('proof.signature', 'The DPoP proof signature is invalid');
  return checkProofClaims(parsed.payload, thumbprint, rules);
}

/**
 * Until when (ms since the epoch, by this clock) a proof with this `iat` passes the `iat` window: the replay
 * entry must live at least that long. Whole-second clocks accept `iat` up to `floor(iat + iatOffset)` inclusive.
 */
export function proofAcceptedUntil(iat: number, iatOffset: number): number {
  return (Math.floor(iat + iatOffset) + 1) * 1000;
}

/** The claim checks of a proof whose signature is verified. */
export function checkProofClaims(payload: Record<string, unknown>, thumbprint: string, rules: ProofRules): VerifiedProof {
  const now = rules.now ?? nowSeconds();
  const { jti, htm, htu, iat, ath, exp } = payload;
  if (typeof jti !== 'string' || jti.length === 0) throw bad('proof.jti_missing', 'The DPoP proof has no jti');
  if (jti.length > MAX_JTI_LENGTH) throw bad('proof.jti_too_long', 'The DPoP proof jti is too long');
  if (htm !== rules.method) throw bad('proof.htm', 'The DPoP proof htm does not match the request method');
  if (!htuMatches(htu, rules.url)) throw bad('proof.htu', 'The DPoP proof htu does not match the request URL');
  if (typeof iat !== 'number' || !Number.isFinite(iat)) throw bad('proof.iat_missing', 'The DPoP proof has no valid iat');
  if (iat > now + rules.iatLeeway) throw bad('proof.iat_future', 'The DPoP proof iat is in the future');
  if (iat < now - rules.iatOffset) throw bad('proof.too_old', 'The DPoP proof is too old');
  if (exp !== undefined && (typeof exp !== 'number' || exp <= now)) throw bad('proof.expired', 'The DPoP proof expired');
  if (typeof ath !== 'string' || ath !== rules.accessTokenHash) throw bad('proof.ath', 'The DPoP proof ath does not match the access token');
  return { thumbprint, jti, iat, nonce: payload.nonce, payload };
}
