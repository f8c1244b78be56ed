/**
 * DPoP proof checks (RFC 9449 §4.3): one compact JWS with `typ` `dpop+jwt`, an allowed asymmetric `alg`, a public
 * `jwk` that verifies the signature, `htm`, `htu`, `iat` window, `jti`, and `ath` bound to the access token.
 * Binding to the token (`cnf.jkt`), nonces and replay are applied by the validator, which knows the token.
 */
import { createHash, createPublicKey, type KeyObject } from 'node:crypto';
import { AuthError } from './errors.js';
import { FastVerifyError, verifyCompactSignatureAsync } from './fast-verify.js';
import { htuMatches } from './htu.js';
import { decodeJsonSegment } from './jwt.js';
import { keyFitsAlgorithm } from './issuer.js';
import type { Algorithm } from './config.js';

export const MAX_PROOF_LENGTH = 8 * 1024;
export const MAX_JTI_LENGTH = 256;
const COMPACT_JWS = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;
const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'];
/** RFC 7638 §3.2: the required members of each key type, in lexicographic order. */
const THUMBPRINT_MEMBERS: Readonly<Record<string, readonly string[]>> = { EC: ['crv', 'kty', 'x', 'y'], RSA: ['e', 'kty', 'n'], OKP: ['crv', 'kty', 'x'] };
/** Imported proof keys by thumbprint: a client reuses its key, and importing one costs ~100 µs. Bounded. */
const KEY_CACHE_SIZE = 1000;
const keyCache = new Map<string, KeyObject>();

export interface ProofRules {
  method: string;
  url: string;
  accessToken: string;
  algorithms: readonly Algorithm[];
  iatLeeway: number;
  iatOffset: number;
  now?: number; // seconds
}

export interface VerifiedProof {
  /** RFC 7638 thumbprint of the proof key. */
  thumbprint: string;
  jti: string;
  iat: number;
  nonce: unknown;
  payload: Record<string, unknown>;
}

function bad(description: string, reason: string): AuthError {
  return new AuthError('invalid_dpop_proof', description, { scheme: 'dpop', reason });
}

/** base64url(SHA-256(access token)), the `ath` value (RFC 9449 §4.2). */
export function accessTokenHash(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('base64url');
}

/** RFC 7638 thumbprint (SHA-256) of a JWK whose `kty` is known; undefined when a required member is not a string. */
function thumbprintOf(members: Record<string, unknown>): string | undefined {
  const canonical: Record<string, string> = {};
  for (const name of THUMBPRINT_MEMBERS[members.kty as string] ?? []) {
    const value = members[name];
    if (typeof value !== 'string' || value.length === 0) return undefined;
    canonical[name] = value;
  }
  return createHash('sha256').update(JSON.stringify(canonical)).digest('base64url');
}

/** The public key for the required members behind `thumbprint`, imported once. */
function publicKeyFor(thumbprint: string, members: Record<string, unknown>): KeyObject {
  let key = keyCache.get(thumbprint);
  if (key) return key;
  try {
    key = createPublicKey({ key: members as import('node:crypto').JsonWebKey, format: 'jwk' });
  } catch {
    throw bad('The DPoP proof jwk is invalid', 'jwk_invalid');
  }
  if (keyCache.size >= KEY_CACHE_SIZE) keyCache.delete(keyCache.keys().next().value as string);
  keyCache.set(thumbprint, key);
  return key;
}

/**
 * Imports the header `jwk` as a public key, refusing private members and keys that do not fit `alg`.
 * Returns the key and its RFC 7638 thumbprint.
 */
function importProofKey(jwk: unknown, alg: Algorithm): { key: KeyObject; thumbprint: string } {
  if (jwk === null || typeof jwk !== 'object' || Array.isArray(jwk)) throw bad('The DPoP proof has no jwk header', 'jwk_missing');
  const members = jwk as Record<string, unknown>;
  if (PRIVATE_MEMBERS.some((m) => m in members)) throw bad('The DPoP proof jwk must be a public key', 'jwk_private');
  if (members.kty !== 'EC' && members.kty !== 'RSA' && members.kty !== 'OKP') throw bad('The DPoP proof jwk key type is not supported', 'jwk_kty');
  const thumbprint = thumbprintOf(members);
  if (thumbprint === undefined) throw bad('The DPoP proof jwk is invalid', 'jwk_invalid');
  const key = publicKeyFor(thumbprint, members);
  if (key.type !== 'public' || !keyFitsAlgorithm(key, alg)) throw bad('The DPoP proof jwk does not match its alg', 'jwk_alg');
  return { key, thumbprint };
}

/** Checks one proof against the request. Throws `invalid_dpop_proof` AuthErrors. */
export async function verifyProof(proof: string, rules: ProofRules): Promise<VerifiedProof> {
  if (proof.length > MAX_PROOF_LENGTH || !COMPACT_JWS.test(proof)) throw bad('The DPoP proof is not a compact JWS', 'malformed');
  const [h, p] = proof.split('.') as [string, string, string];
  const header = decodeJsonSegment(h);
  if (!header) throw bad('The DPoP proof header is malformed', 'malformed_header');
  if (header.typ !== 'dpop+jwt') throw bad('The DPoP proof typ must be dpop+jwt', 'typ');
  const alg = header.alg;
  if (typeof alg !== 'string' || !(rules.algorithms as readonly string[]).includes(alg)) throw bad('The DPoP proof alg is not allowed', 'alg');
  if (header.crit !== undefined || header.b64 !== undefined) throw bad('The DPoP proof uses unsupported header parameters', 'crit');
  const { key, thumbprint } = importProofKey(header.jwk, alg as Algorithm);
  try {
    await verifyCompactSignatureAsync(proof, alg, key); // node:crypto on the thread pool, no WebCrypto layer
  } catch (error) {
    if (error instanceof FastVerifyError && error.reason === 'malformed') throw bad('The DPoP proof is not a compact JWS', 'malformed');
    throw bad('The DPoP proof signature is invalid', 'signature');
  }
  const payload = decodeJsonSegment(p);
  if (!payload) throw bad('The DPoP proof payload is not a JSON object', 'malformed_payload');
  return checkProofClaims(payload, thumbprint, rules);
}

/** The claim checks of a proof whose signature is already verified. */
export function checkProofClaims(payload: Record<string, unknown>, thumbprint: string, rules: ProofRules): VerifiedProof {
  const now = rules.now ?? Math.floor(Date.now() / 1000);
  const { jti, htm, htu, iat, ath, exp } = payload;
  if (typeof jti !== 'string' || jti.length === 0) throw bad('The DPoP proof has no jti', 'jti_missing');
  if (jti.length > MAX_JTI_LENGTH) throw bad('The DPoP proof jti is too long', 'jti_too_long');
  if (htm !== rules.method) throw bad('The DPoP proof htm does not match the request method', 'htm');
  if (!htuMatches(htu, rules.url)) throw bad('The DPoP proof htu does not match the request URL', 'htu');
  if (typeof iat !== 'number' || !Number.isFinite(iat)) throw bad('The DPoP proof has no valid iat', 'iat_missing');
  if (iat > now + rules.iatLeeway) throw bad('The DPoP proof iat is in the future', 'iat_future');
  if (iat < now - rules.iatOffset) throw bad('The DPoP proof is too old', 'iat_old');
  if (exp !== undefined && (typeof exp !== 'number' || exp <= now)) throw bad('The DPoP proof expired', 'exp');
  if (typeof ath !== 'string' || ath !== accessTokenHash(rules.accessToken)) throw bad('The DPoP proof ath does not match the access token', 'ath');
  return { thumbprint, jti, iat, nonce: payload.nonce, payload };
}
