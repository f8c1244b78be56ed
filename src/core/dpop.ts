/**
 * DPoP proof checks (RFC 9449 §4.3): one compact JWS with `typ` `dpop+jwt`, an allowed asymmetric `alg`, a public
 * `jwk` that verifies the signature, `htm`, `htu`, `iat` window, `jti`, and `ath` bound to the access token.
 * Binding to the token (`cnf.jkt`), nonces and replay are applied by the validator, which knows the token.
 */
import { createHash, createPublicKey, type KeyObject } from 'node:crypto';
import { compactVerify, calculateJwkThumbprint, type JWK } from 'jose';
import { AuthError } from './errors.js';
import { htuMatches } from './htu.js';
import { keyFitsAlgorithm } from './issuer.js';
import type { Algorithm } from './config.js';

export const MAX_PROOF_LENGTH = 8 * 1024;
export const MAX_JTI_LENGTH = 256;
const COMPACT_JWS = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;
const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'];

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

function decodeJson(segment: string): Record<string, unknown> | undefined {
  try {
    const v: unknown = JSON.parse(Buffer.from(segment, 'base64url').toString('utf8'));
    return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/** base64url(SHA-256(access token)), the `ath` value (RFC 9449 §4.2). */
export function accessTokenHash(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('base64url');
}

/** Imports the header `jwk` as a public key, refusing private members and keys that do not fit `alg`. */
function importProofKey(jwk: unknown, alg: Algorithm): KeyObject {
  if (jwk === null || typeof jwk !== 'object' || Array.isArray(jwk)) throw bad('The DPoP proof has no jwk header', 'jwk_missing');
  const members = jwk as Record<string, unknown>;
  if (PRIVATE_MEMBERS.some((m) => m in members)) throw bad('The DPoP proof jwk must be a public key', 'jwk_private');
  if (members.kty !== 'EC' && members.kty !== 'RSA' && members.kty !== 'OKP') throw bad('The DPoP proof jwk key type is not supported', 'jwk_kty');
  let key: KeyObject;
  try {
    key = createPublicKey({ key: members as import('node:crypto').JsonWebKey, format: 'jwk' });
  } catch {
    throw bad('The DPoP proof jwk is invalid', 'jwk_invalid');
  }
  if (!keyFitsAlgorithm(key, alg)) throw bad('The DPoP proof jwk does not match its alg', 'jwk_alg');
  return key;
}

/** Checks one proof against the request. Throws `invalid_dpop_proof` AuthErrors. */
export async function verifyProof(proof: string, rules: ProofRules): Promise<VerifiedProof> {
  if (proof.length > MAX_PROOF_LENGTH || !COMPACT_JWS.test(proof)) throw bad('The DPoP proof is not a compact JWS', 'malformed');
  const [h, p] = proof.split('.') as [string, string, string];
  const header = decodeJson(h);
  if (!header) throw bad('The DPoP proof header is malformed', 'malformed_header');
  if (header.typ !== 'dpop+jwt') throw bad('The DPoP proof typ must be dpop+jwt', 'typ');
  const alg = header.alg;
  if (typeof alg !== 'string' || !(rules.algorithms as readonly string[]).includes(alg)) throw bad('The DPoP proof alg is not allowed', 'alg');
  if (header.crit !== undefined || header.b64 !== undefined) throw bad('The DPoP proof uses unsupported header parameters', 'crit');
  const key = importProofKey(header.jwk, alg as Algorithm);
  try {
    await compactVerify(proof, key, { algorithms: [alg] });
  } catch {
    throw bad('The DPoP proof signature is invalid', 'signature');
  }
  const payload = decodeJson(p);
  if (!payload) throw bad('The DPoP proof payload is not a JSON object', 'malformed_payload');
  return checkProofClaims(payload, header.jwk as JWK, rules);
}

/** The claim checks of a proof whose signature is already verified. */
export async function checkProofClaims(payload: Record<string, unknown>, jwk: JWK, rules: ProofRules): Promise<VerifiedProof> {
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
  return { thumbprint: await calculateJwkThumbprint(jwk, 'sha256'), jti, iat, nonce: payload.nonce, payload };
}
