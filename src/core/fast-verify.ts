/**
 * Synchronous JWS (RFC 7515 compact serialization) signature verification with an already-imported `KeyObject`,
 * using `node:crypto.verify` directly. It gives the same verdict as jose's `compactVerify` (checked by the
 * differential test in test/core/fast-verify.test.ts) without jose's WebCrypto hop to the libuv thread pool,
 * which costs several times the signature check itself for RSA on a small machine.
 *
 * Deliberately stricter than jose in three places, all of which jose accepts on Node 20:
 *  - base64url must be canonical (RFC 4648 §3.5, RFC 7515 §2): no padding, no whitespace, zero trailing bits, so a
 *    token has exactly one encoding (jose decodes with `atob`, which ignores trailing bits and whitespace);
 *  - `crit` and `b64` (RFC 7797) header parameters are refused outright (access tokens and DPoP proofs never use
 *    them; jose accepts `crit: ["b64"]`);
 *  - the header must decode as UTF-8 JSON object (same as jose), and the payload segment must be canonical too.
 *
 * Algorithm ↔ key rules (same as jose): RS*\/PS* need an `rsa` key of at least 2048 bits (PS* with the digest
 * length as salt length, MGF1 with the same hash); ES256/384/512 need an EC key on P-256/P-384/P-521 and an
 * IEEE P1363 (r‖s) signature of exactly 64/96/132 bytes (DER is refused); EdDSA/Ed25519 need an Ed25519 key.
 * `none` and HMAC are never verified here.
 */
import { constants, verify as cryptoVerify, type KeyObject } from 'node:crypto';

export type FastAlgorithm = 'RS256' | 'RS384' | 'RS512' | 'PS256' | 'PS384' | 'PS512' | 'ES256' | 'ES384' | 'ES512' | 'EdDSA' | 'Ed25519';

export type FastVerifyFailure = 'malformed' | 'header' | 'alg' | 'crit' | 'key' | 'signature';

export class FastVerifyError extends Error {
  override readonly name = 'FastVerifyError';
  constructor(readonly reason: FastVerifyFailure, message: string) {
    super(message);
  }
}

interface AlgorithmSpec {
  hash: string | null;
  kind: 'rsa' | 'pss' | 'ec' | 'ed25519';
  /** Named curve (node's name) for ECDSA. */
  curve?: string;
  /** Exact IEEE P1363 signature length for ECDSA. */
  sigLength?: number;
  /** PSS salt length (= digest length). */
  saltLength?: number;
}

// Null prototype: `SPECS['constructor']` and friends are undefined, not inherited members.
const SPECS: Readonly<Record<string, AlgorithmSpec | undefined>> = Object.freeze(Object.assign(Object.create(null) as Record<string, AlgorithmSpec>, {
  RS256: { hash: 'sha256', kind: 'rsa' },
  RS384: { hash: 'sha384', kind: 'rsa' },
  RS512: { hash: 'sha512', kind: 'rsa' },
  PS256: { hash: 'sha256', kind: 'pss', saltLength: 32 },
  PS384: { hash: 'sha384', kind: 'pss', saltLength: 48 },
  PS512: { hash: 'sha512', kind: 'pss', saltLength: 64 },
  ES256: { hash: 'sha256', kind: 'ec', curve: 'prime256v1', sigLength: 64 },
  ES384: { hash: 'sha384', kind: 'ec', curve: 'secp384r1', sigLength: 96 },
  ES512: { hash: 'sha512', kind: 'ec', curve: 'secp521r1', sigLength: 132 },
  EdDSA: { hash: null, kind: 'ed25519' },
  Ed25519: { hash: null, kind: 'ed25519' },
}));

/** True for the algorithms this module verifies. */
export function isFastAlgorithm(alg: unknown): alg is FastAlgorithm {
  return typeof alg === 'string' && SPECS[alg] !== undefined;
}

const BASE64URL = /^[A-Za-z0-9_-]*$/;
// Value of each base64url character, for the trailing-bits check.
const B64_VALUE = new Int8Array(128).fill(-1);
'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'.split('').forEach((c, i) => (B64_VALUE[c.charCodeAt(0)] = i));

/** True when `text` is canonical unpadded base64url: alphabet only, a possible length, and zero trailing bits. */
export function isCanonicalBase64url(text: string): boolean {
  const rest = text.length & 3;
  if (rest === 1 || !BASE64URL.test(text)) return false;
  if (rest === 0) return true;
  const last = B64_VALUE[text.charCodeAt(text.length - 1)]!;
  return rest === 2 ? (last & 0x0f) === 0 : (last & 0x03) === 0;
}

/** Decodes canonical base64url; undefined for anything else (see {@link isCanonicalBase64url}). */
export function decodeBase64urlStrict(text: string): Buffer | undefined {
  return isCanonicalBase64url(text) ? Buffer.from(text, 'base64url') : undefined;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Whether `key` may verify `alg` (key type, RSA size ≥ 2048, EC curve), as jose requires on Node 20. */
export function keyMatchesAlgorithm(key: KeyObject, alg: string): boolean {
  const spec = SPECS[alg];
  if (spec === undefined || key?.type !== 'public') return false;
  const type = key.asymmetricKeyType;
  switch (spec.kind) {
    case 'rsa':
    case 'pss':
      return type === 'rsa' && (key.asymmetricKeyDetails?.modulusLength ?? 0) >= 2048;
    case 'ec':
      return type === 'ec' && key.asymmetricKeyDetails?.namedCurve === spec.curve;
    case 'ed25519':
      return type === 'ed25519';
  }
}

/**
 * Verifies `signature` over `signingInput` for `alg` with `key`. False for a wrong signature, a key that does not
 * fit the algorithm, an ECDSA signature of the wrong length, or anything OpenSSL refuses. Never throws.
 */
export function verifySignature(alg: string, key: KeyObject, signingInput: Buffer, signature: Buffer): boolean {
  const spec = SPECS[alg];
  if (spec === undefined || !keyMatchesAlgorithm(key, alg)) return false;
  try {
    switch (spec.kind) {
      case 'rsa':
        return cryptoVerify(spec.hash, signingInput, key, signature);
      case 'pss':
        return cryptoVerify(spec.hash, signingInput, { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: spec.saltLength! }, signature);
      case 'ec':
        if (signature.length !== spec.sigLength) return false; // DER or truncated: refused before OpenSSL sees it
        return cryptoVerify(spec.hash, signingInput, { key, dsaEncoding: 'ieee-p1363' }, signature);
      case 'ed25519':
        return cryptoVerify(null, signingInput, key, signature);
    }
  } catch {
    return false;
  }
}

/**
 * {@link verifySignature} as a libuv thread-pool job (the callback form of `crypto.verify`, as jose 4 and
 * express-oauth2-jwt-bearer do): the same OpenSSL call and verdict, but the event loop only pays for dispatching
 * it, so that under concurrent load the signature math runs on another core. Costs a thread-pool round trip of
 * latency per call. Never rejects.
 */
export function verifySignatureAsync(alg: string, key: KeyObject, signingInput: Buffer, signature: Buffer): Promise<boolean> {
  const spec = SPECS[alg];
  if (spec === undefined || !keyMatchesAlgorithm(key, alg)) return Promise.resolve(false);
  if (spec.kind === 'ec' && signature.length !== spec.sigLength) return Promise.resolve(false);
  const input =
    spec.kind === 'pss'
      ? { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: spec.saltLength! }
      : spec.kind === 'ec'
        ? { key, dsaEncoding: 'ieee-p1363' as const }
        : key;
  return new Promise((resolve) => {
    try {
      cryptoVerify(spec.hash, signingInput, input, signature, (error, ok) => resolve(!error && ok === true));
    } catch {
      resolve(false);
    }
  });
}

/** Splits a compact JWS for signature checking; throws `malformed` unless it has three canonical segments. */
function signingParts(jws: string): [Buffer, Buffer] {
  const first = jws.indexOf('.');
  const second = first < 0 ? -1 : jws.indexOf('.', first + 1);
  if (second < 0 || jws.indexOf('.', second + 1) !== -1) throw new FastVerifyError('malformed', 'Invalid Compact JWS');
  if (!isCanonicalBase64url(jws.slice(0, first)) || !isCanonicalBase64url(jws.slice(first + 1, second))) {
    throw new FastVerifyError('malformed', 'JWS segments must be canonical base64url');
  }
  const signature = decodeBase64urlStrict(jws.slice(second + 1));
  if (signature === undefined) throw new FastVerifyError('malformed', 'JWS signature must be canonical base64url');
  return [Buffer.from(jws.slice(0, second), 'latin1'), signature];
}

/**
 * Verifies the signature of a compact JWS whose header was already decoded and checked by the caller (`alg`
 * allowed and matching the header): only the signing input and the signature are looked at. Throws a
 * {@link FastVerifyError} (`malformed` or `signature`).
 */
export function verifyCompactSignature(jws: string, alg: string, key: KeyObject): void {
  const [signingInput, signature] = signingParts(jws);
  if (!verifySignature(alg, key, signingInput, signature)) throw new FastVerifyError('signature', 'signature verification failed');
}

/** {@link verifyCompactSignature} with the signature math on the thread pool ({@link verifySignatureAsync}). */
export async function verifyCompactSignatureAsync(jws: string, alg: string, key: KeyObject): Promise<void> {
  const [signingInput, signature] = signingParts(jws);
  if (!(await verifySignatureAsync(alg, key, signingInput, signature))) throw new FastVerifyError('signature', 'signature verification failed');
}

export interface FastVerifiedJws {
  protectedHeader: Record<string, unknown>;
  payload: Buffer;
}

/**
 * The synchronous counterpart of jose's `compactVerify(jws, key, { algorithms })`: three canonical base64url
 * segments, a JSON-object protected header with an allowed `alg` and no `crit`/`b64`, a key fitting `alg`, and a
 * valid signature. Returns the header and the raw payload bytes; throws a {@link FastVerifyError}.
 */
export function compactVerifySync(jws: string, key: KeyObject, algorithms: readonly string[]): FastVerifiedJws {
  if (typeof jws !== 'string') throw new FastVerifyError('malformed', 'Compact JWS must be a string');
  const first = jws.indexOf('.');
  const second = first < 0 ? -1 : jws.indexOf('.', first + 1);
  if (second < 0 || jws.indexOf('.', second + 1) !== -1) throw new FastVerifyError('malformed', 'Invalid Compact JWS');
  const headerBytes = decodeBase64urlStrict(jws.slice(0, first));
  const payload = decodeBase64urlStrict(jws.slice(first + 1, second));
  const signature = decodeBase64urlStrict(jws.slice(second + 1));
  if (headerBytes === undefined || payload === undefined || signature === undefined) {
    throw new FastVerifyError('malformed', 'JWS segments must be canonical base64url');
  }
  let header: unknown;
  try {
    header = JSON.parse(utf8.decode(headerBytes));
  } catch {
    throw new FastVerifyError('header', 'JWS Protected Header is invalid');
  }
  if (header === null || typeof header !== 'object' || Array.isArray(header)) throw new FastVerifyError('header', 'JWS Protected Header is invalid');
  const h = header as Record<string, unknown>;
  if (h.crit !== undefined || h.b64 !== undefined) throw new FastVerifyError('crit', 'crit and b64 header parameters are not supported');
  const alg = h.alg;
  if (typeof alg !== 'string' || alg.length === 0) throw new FastVerifyError('alg', 'JWS "alg" (Algorithm) Header Parameter missing or invalid');
  if (!algorithms.includes(alg) || SPECS[alg] === undefined) throw new FastVerifyError('alg', '"alg" (Algorithm) Header Parameter value not allowed');
  if (!keyMatchesAlgorithm(key, alg)) throw new FastVerifyError('key', `the key does not fit the ${alg} algorithm`);
  if (!verifySignature(alg, key, Buffer.from(jws.slice(0, second), 'latin1'), signature)) {
    throw new FastVerifyError('signature', 'signature verification failed');
  }
  return { protectedHeader: h, payload };
}
