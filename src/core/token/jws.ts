/**
 * The one JWS module (RFC 7515 compact serialization, RFC 7518 algorithms, RFC 7517/7638 keys), used by access
 * tokens and DPoP proofs alike: splitting and decoding, canonical base64url, which key fits which algorithm, key
 * import with size bounds, thumbprints, and signature verification with `node:crypto`.
 *
 * One signature path: a synchronous `crypto.verify` on an imported `KeyObject`. Measured on this project's 2-core
 * machine, it costs the signature math and nothing else; a thread-pool hop (the callback form, or WebCrypto as jose
 * uses) adds a libuv round trip and more CPU per request than it moves off the event loop for RS256/ES256 (bench/).
 * jose stays the reference: test/core/jws.test.ts compares every verdict with jose's `compactVerify`.
 *
 * Deliberately stricter than jose where jose is lenient on Node 20:
 *  - base64url must be canonical (RFC 4648 §3.5, RFC 7515 §2): no padding, no whitespace, zero trailing bits, so a
 *    JWS has exactly one encoding (jose decodes with `atob`, which ignores trailing bits);
 *  - `crit` and `b64` (RFC 7797) are refused outright (access tokens and proofs never use them);
 *  - imported public keys have bounded sizes, a normal RSA exponent and an exact curve (see {@link importPublicJwk}).
 */
import { constants, createPublicKey, hash, verify as cryptoVerify, type JsonWebKey, type KeyObject } from 'node:crypto';

/** An asymmetric JWS algorithm this library verifies (RFC 7518 §3, RFC 8037). `none` and `HS*` never are. */
export type Algorithm = 'RS256' | 'RS384' | 'RS512' | 'PS256' | 'PS384' | 'PS512' | 'ES256' | 'ES384' | 'ES512' | 'EdDSA' | 'Ed25519';
/** Every {@link Algorithm}. */
export const SUPPORTED_ALGORITHMS: readonly Algorithm[] = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA', 'Ed25519'];

interface AlgorithmSpec {
  hash: string | null;
  kind: 'rsa' | 'pss' | 'ec' | 'ed25519';
  /** JWK `crv` and node's name of the curve, for ECDSA. */
  crv?: string;
  curve?: string;
  /** Exact IEEE P1363 (r‖s) signature length for ECDSA, and the length of each coordinate. */
  sigLength?: number;
  /** PSS salt length (= digest length, RFC 7518 §3.5). */
  saltLength?: number;
}

// Null prototype: `SPECS['constructor']` is undefined, not an inherited member.
const SPECS: Readonly<Record<string, AlgorithmSpec | undefined>> = Object.freeze(
  Object.assign(Object.create(null) as Record<string, AlgorithmSpec>, {
    RS256: { hash: 'sha256', kind: 'rsa' },
    RS384: { hash: 'sha384', kind: 'rsa' },
    RS512: { hash: 'sha512', kind: 'rsa' },
    PS256: { hash: 'sha256', kind: 'pss', saltLength: 32 },
    PS384: { hash: 'sha384', kind: 'pss', saltLength: 48 },
    PS512: { hash: 'sha512', kind: 'pss', saltLength: 64 },
    ES256: { hash: 'sha256', kind: 'ec', crv: 'P-256', curve: 'prime256v1', sigLength: 64 },
    ES384: { hash: 'sha384', kind: 'ec', crv: 'P-384', curve: 'secp384r1', sigLength: 96 },
    ES512: { hash: 'sha512', kind: 'ec', crv: 'P-521', curve: 'secp521r1', sigLength: 132 },
    EdDSA: { hash: null, kind: 'ed25519' },
    Ed25519: { hash: null, kind: 'ed25519' },
  }),
);

/** True for the algorithms this module verifies. */
export function isSupportedAlgorithm(alg: unknown): alg is Algorithm {
  return typeof alg === 'string' && SPECS[alg] !== undefined;
}

// ---------------------------------------------------------------------------------------------------------------
// Encoding

const BASE64URL = /^[A-Za-z0-9_-]*$/;
// Value of each base64url character, for the trailing-bits check.
const B64_VALUE = new Int8Array(128).fill(-1);
'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'.split('').forEach((c, i) => (B64_VALUE[c.charCodeAt(0)] = i));

/** True when `text` is canonical unpadded base64url: alphabet only, a possible length, and zero trailing bits. */
export function isCanonicalBase64url(text: string): boolean {
  return BASE64URL.test(text) && canonicalEnd(text);
}

/** The length and trailing-bits half of {@link isCanonicalBase64url}, for text whose alphabet is already checked. */
function canonicalEnd(text: string): boolean {
  const rest = text.length & 3;
  if (rest === 1) return false;
  if (rest === 0) return true;
  const last = B64_VALUE[text.charCodeAt(text.length - 1)]!;
  return rest === 2 ? (last & 0x0f) === 0 : (last & 0x03) === 0;
}

/** Decodes canonical base64url; undefined for anything else (see {@link isCanonicalBase64url}). */
export function decodeBase64urlStrict(text: string): Buffer | undefined {
  return isCanonicalBase64url(text) ? Buffer.from(text, 'base64url') : undefined;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Strict UTF-8 holding a JSON object; undefined for anything else. */
function jsonObject(bytes: Buffer): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(utf8.decode(bytes));
    return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Compact serialization

/** Why a compact JWS could not be parsed. */
export type JwsFailure = 'too_large' | 'malformed' | 'header' | 'payload';

/** A JWS that could not be parsed; callers map {@link JwsError.failure} to their own reasons. */
export class JwsError extends Error {
  override readonly name = 'JwsError';
  constructor(readonly failure: JwsFailure) {
    super(`invalid compact JWS (${failure})`);
  }
}

/** A parsed, not yet verified, compact JWS. */
export interface ParsedJws {
  header: Record<string, unknown>;
  payload: Record<string, unknown>;
  /** `BASE64URL(header) . BASE64URL(payload)`, what the signature covers. */
  signingInput: string;
  signature: Buffer;
}

const COMPACT = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;

/**
 * Decoded headers by their base64url text. Tokens of one issuer share a handful of headers, and a client's DPoP proofs
 * all carry the same one (its `jwk` included): decoding each once saves a base64url pass, a UTF-8 check and a
 * `JSON.parse` per request, and gives later steps the same object to key their own memos on (see
 * {@link importPublicJwk}). The objects are deeply frozen: every request that sends the text shares them. Bounded,
 * oldest first out; a flood of distinct headers only makes misses.
 */
const HEADER_MEMO_SIZE = 256;
const headerMemo = new Map<string, Readonly<Record<string, unknown>>>();

function decodeHeader(h: string): Record<string, unknown> | undefined {
  const known = headerMemo.get(h);
  if (known !== undefined) return known;
  const header = jsonObject(Buffer.from(h, 'base64url'));
  if (header === undefined) return undefined;
  deepFreeze(header);
  if (headerMemo.size >= HEADER_MEMO_SIZE) headerMemo.delete(headerMemo.keys().next().value as string);
  headerMemo.set(h, header);
  return header;
}

/** Freezes a JSON value and everything in it. */
export function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const member of Object.values(value)) deepFreeze(member);
  }
  return value;
}

/**
 * Splits and decodes a compact JWS: exactly three canonical base64url segments, a JSON-object header and a
 * JSON-object payload. Throws a {@link JwsError}. Trusts nothing: the signature is not checked here. The header is
 * deeply frozen (shared by every JWS with the same header text).
 */
export function parseCompactJws(text: string): ParsedJws {
  if (typeof text !== 'string' || !COMPACT.test(text)) throw new JwsError('malformed');
  const first = text.indexOf('.');
  const second = text.indexOf('.', first + 1);
  const h = text.slice(0, first);
  const p = text.slice(first + 1, second);
  const s = text.slice(second + 1);
  // One token, one spelling: lenient decoders ignore the unused low bits of the last character (RFC 4648 §3.5),
  // so without this check 15 other strings would carry the same signature. (COMPACT has checked the alphabet: a
  // second scan of ~1 KB per segment would cost more than the rest of this check.)
  if (!canonicalEnd(h) || !canonicalEnd(p) || !canonicalEnd(s)) throw new JwsError('malformed');
  const header = decodeHeader(h);
  if (!header) throw new JwsError('header');
  const payload = jsonObject(Buffer.from(p, 'base64url'));
  if (!payload) throw new JwsError('payload');
  return { header, payload, signingInput: text.slice(0, second), signature: Buffer.from(s, 'base64url') };
}

/**
 * {@link parseCompactJws} after a size check (before any parsing), with failures turned into the caller's own error
 * (access tokens and DPoP proofs name the same failures differently).
 */
export function parseCompactJwsOr(text: string, maxLength: number, refuse: (failure: JwsFailure) => Error): ParsedJws {
  if (text.length > maxLength) throw refuse('too_large');
  try {
    return parseCompactJws(text);
  } catch (error) {
    throw refuse((error as JwsError).failure);
  }
}

/** True when the header uses parameters this library never accepts: `crit` and `b64` (RFC 7515 §4.1.11, RFC 7797). */
export function hasUnsupportedHeader(header: Record<string, unknown>): boolean {
  return header.crit !== undefined || header.b64 !== undefined;
}

// ---------------------------------------------------------------------------------------------------------------
// Keys

/** What {@link keyFitsAlgorithm} reads of a key, read once per key: each read of `asymmetricKeyDetails` is a call
 * into C++ that builds a new object (with a BigInt exponent for RSA) — per request, it cost more than a cache hit. */
interface KeyFacts {
  type: string | undefined;
  modulusLength: number;
  namedCurve: string | undefined;
}
const keyFacts = new WeakMap<KeyObject, KeyFacts>();

function factsOf(key: KeyObject): KeyFacts {
  let facts = keyFacts.get(key);
  if (facts === undefined) {
    const details = key.asymmetricKeyDetails;
    facts = { type: key.asymmetricKeyType, modulusLength: details?.modulusLength ?? 0, namedCurve: details?.namedCurve };
    keyFacts.set(key, facts);
  }
  return facts;
}

/** Whether `key` may verify `alg` (RFC 7518 §3): key type, RSA size ≥ 2048 bits, exact EC curve. */
export function keyFitsAlgorithm(key: KeyObject, alg: string): boolean {
  const spec = SPECS[alg];
  if (spec === undefined || key?.type !== 'public') return false;
  const facts = factsOf(key);
  switch (spec.kind) {
    case 'rsa':
    case 'pss':
      // An `rsa` key for PS* too (as jose on Node 20): JWK import never yields `rsa-pss` keys.
      return facts.type === 'rsa' && facts.modulusLength >= 2048;
    case 'ec':
      return facts.type === 'ec' && facts.namedCurve === spec.curve;
    case 'ed25519':
      return facts.type === 'ed25519';
  }
}

/** Why a JWK was not imported. */
export type JwkFailure = 'unsupported' | 'private' | 'invalid' | 'alg_mismatch';

/** A JWK that was refused before (or by) the import; callers map {@link JwkError.failure} to their own reasons. */
export class JwkError extends Error {
  override readonly name = 'JwkError';
  constructor(readonly failure: JwkFailure) {
    super(`unusable JWK (${failure})`);
  }
}

/** Bounds for {@link importPublicJwk}. */
export interface JwkBounds {
  /** Largest RSA modulus accepted, in bits. */
  maxRsaBits: number;
}

/** Proof keys come from clients: 4096 bits is the largest RSA key anyone uses for DPoP. */
export const PROOF_KEY_BOUNDS: JwkBounds = { maxRsaBits: 4096 };
/** Issuer keys come from the configured identity provider over HTTPS: still bounded, more generously. */
export const ISSUER_KEY_BOUNDS: JwkBounds = { maxRsaBits: 8192 };

const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'];
/** RFC 7638 §3.2: the required members of each key type, in lexicographic order. */
const THUMBPRINT_MEMBERS: Readonly<Record<string, readonly string[]>> = { EC: ['crv', 'kty', 'x', 'y'], RSA: ['e', 'kty', 'n'], OKP: ['crv', 'kty', 'x'] };
const EC_COORDINATE_BYTES: Readonly<Record<string, number>> = { 'P-256': 32, 'P-384': 48, 'P-521': 66 };
/** NIST SP 800-56B rev. 2 §6.2: 65537 ≤ e < 2^256, e odd. Anything else is a DoS vector (a huge e) or a weak key. */
const MIN_RSA_EXPONENT = 65537n;
const MAX_RSA_EXPONENT_BYTES = 32;

function bitLength(bytes: Buffer): number {
  let i = 0;
  while (i < bytes.length && bytes[i] === 0) i++;
  if (i === bytes.length) return 0;
  return (bytes.length - i - 1) * 8 + (32 - Math.clz32(bytes[i]!));
}

/**
 * Checks a JWK's members before anything is imported: key type supported, no private members, every required
 * member canonical base64url, RSA modulus between 2048 bits and `bounds.maxRsaBits` with a normal exponent, EC and
 * OKP coordinates of exactly the curve's size. Returns the RFC 7638 members (the thumbprint input).
 */
function checkJwkMembers(jwk: unknown, bounds: JwkBounds): Record<string, string> {
  if (jwk === null || typeof jwk !== 'object' || Array.isArray(jwk)) throw new JwkError('invalid');
  const members = jwk as Record<string, unknown>;
  if (PRIVATE_MEMBERS.some((m) => m in members)) throw new JwkError('private');
  const names = THUMBPRINT_MEMBERS[members.kty as string];
  if (typeof members.kty !== 'string' || names === undefined || !Object.hasOwn(THUMBPRINT_MEMBERS, members.kty)) throw new JwkError('unsupported');
  const required: Record<string, string> = {};
  for (const name of names) {
    const value = members[name];
    if (typeof value !== 'string' || value.length === 0) throw new JwkError('invalid');
    required[name] = value;
  }
  const bytes = (name: string) => {
    const decoded = decodeBase64urlStrict(required[name]!);
    if (decoded === undefined || decoded.length === 0) throw new JwkError('invalid');
    return decoded;
  };
  if (members.kty === 'RSA') {
    const n = bytes('n');
    // Bounded before parsing: the modulus length alone is the cost of a verification.
    if (n.length > bounds.maxRsaBits / 8 + 1) throw new JwkError('invalid');
    const bits = bitLength(n);
    if (bits < 2048 || bits > bounds.maxRsaBits) throw new JwkError('invalid');
    const e = bytes('e');
    if (e.length > MAX_RSA_EXPONENT_BYTES) throw new JwkError('invalid');
    const exponent = BigInt(`0x${e.toString('hex')}`);
    if (exponent < MIN_RSA_EXPONENT || (exponent & 1n) === 0n) throw new JwkError('invalid');
  } else if (members.kty === 'EC') {
    const size = EC_COORDINATE_BYTES[required.crv!];
    if (size === undefined || !Object.hasOwn(EC_COORDINATE_BYTES, required.crv!)) throw new JwkError('unsupported');
    if (bytes('x').length !== size || bytes('y').length !== size) throw new JwkError('invalid');
  } else {
    if (required.crv !== 'Ed25519') throw new JwkError('unsupported');
    if (bytes('x').length !== 32) throw new JwkError('invalid');
  }
  return required;
}

/** RFC 7638 thumbprint (SHA-256, base64url) of checked JWK members. */
function thumbprintOfMembers(required: Record<string, string>): string {
  // JSON.stringify keeps insertion order, which THUMBPRINT_MEMBERS gives lexicographically.
  return hash('sha256', JSON.stringify(required), 'base64url');
}

/** RFC 7638 thumbprint of a public JWK; throws a {@link JwkError} when the key would not be imported. */
export function jwkThumbprint(jwk: unknown, bounds: JwkBounds = PROOF_KEY_BOUNDS): string {
  return thumbprintOfMembers(checkJwkMembers(jwk, bounds));
}

/** An imported public key and the RFC 7638 thumbprint that identifies its material. */
export interface ImportedKey {
  key: KeyObject;
  thumbprint: string;
}

/** A bounded cache of imported keys by thumbprint (importing costs ~100 µs; a client reuses its key). */
export interface KeyImportCache {
  get(thumbprint: string): KeyObject | undefined;
  set(thumbprint: string, key: KeyObject): void;
}

/**
 * Imports a public JWK after {@link checkJwkMembers}' bounds (all before OpenSSL sees it). When `alg` is given,
 * the key must fit it (type and exact curve). With a `cache`, a key already imported under the same thumbprint is
 * reused. Throws a {@link JwkError}.
 */
export function importPublicJwk(jwk: unknown, bounds: JwkBounds, alg?: string, cache?: KeyImportCache): ImportedKey {
  // A frozen jwk (a memoized header's, see parseCompactJws) cannot change: its checks and import are done once.
  const frozen = jwk !== null && typeof jwk === 'object' && Object.isFrozen(jwk);
  const known = frozen ? importedJwks.get(jwk) : undefined;
  if (known !== undefined && known.bounds === bounds) {
    if (alg !== undefined && (!algorithmFitsMembers(alg, known.required) || !keyFitsAlgorithm(known.imported.key, alg))) throw new JwkError('alg_mismatch');
    return known.imported;
  }
  const required = checkJwkMembers(jwk, bounds);
  if (alg !== undefined && !algorithmFitsMembers(alg, required)) throw new JwkError('alg_mismatch');
  const thumbprint = thumbprintOfMembers(required);
  let key = cache?.get(thumbprint);
  if (key === undefined) {
    try {
      key = createPublicKey({ key: required as JsonWebKey, format: 'jwk' });
    } catch {
      throw new JwkError('invalid');
    }
    cache?.set(thumbprint, key);
  }
  if (alg !== undefined && !keyFitsAlgorithm(key, alg)) throw new JwkError('alg_mismatch');
  const imported = { key, thumbprint };
  if (frozen) importedJwks.set(jwk, { bounds, required, imported });
  return imported;
}

/** Imports of frozen JWK objects (held as long as the header memo holds their header). */
const importedJwks = new WeakMap<object, { bounds: JwkBounds; required: Record<string, string>; imported: ImportedKey }>();

/** Whether checked members can serve `alg` (cheap pre-import check; the imported key is checked again). */
function algorithmFitsMembers(alg: string, required: Record<string, string>): boolean {
  const spec = SPECS[alg];
  if (spec === undefined) return false;
  if (spec.kind === 'rsa' || spec.kind === 'pss') return required.kty === 'RSA';
  if (spec.kind === 'ec') return required.kty === 'EC' && required.crv === spec.crv;
  return required.kty === 'OKP' && required.crv === 'Ed25519';
}

// ---------------------------------------------------------------------------------------------------------------
// Signatures

/**
 * Verifies `signature` over `signingInput` for `alg` with `key`. False for a wrong signature, a key that does not
 * fit the algorithm, an ECDSA signature of the wrong length (DER is refused), or anything OpenSSL refuses. Never
 * throws.
 */
export function verifySignature(alg: string, key: KeyObject, signingInput: string, signature: Buffer): boolean {
  const spec = SPECS[alg];
  if (spec === undefined || !keyFitsAlgorithm(key, alg)) return false;
  // latin1: the signing input is base64url and dots, one byte per character; no UTF-8 encoding pass needed.
  const data = Buffer.from(signingInput, 'latin1');
  try {
    switch (spec.kind) {
      case 'rsa':
        return cryptoVerify(spec.hash, data, key, signature);
      case 'pss':
        return cryptoVerify(spec.hash, data, { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: spec.saltLength! }, signature);
      case 'ec':
        if (signature.length !== spec.sigLength) return false;
        return cryptoVerify(spec.hash, data, { key, dsaEncoding: 'ieee-p1363' }, signature);
      case 'ed25519':
        return cryptoVerify(null, data, key, signature);
    }
  } catch {
    return false;
  }
}

/** Why {@link compactVerify} refused a JWS. */
export type CompactVerifyFailure = JwsFailure | 'alg' | 'crit' | 'key' | 'signature';

/** A refusal of {@link compactVerify}. */
export class CompactVerifyError extends Error {
  override readonly name = 'CompactVerifyError';
  constructor(readonly failure: CompactVerifyFailure) {
    super(`JWS refused (${failure})`);
  }
}

/**
 * The synchronous counterpart of jose's `compactVerify(jws, key, { algorithms })`, built from this module's parts:
 * parse, an allowed `alg`, no `crit`/`b64`, a key fitting `alg`, a valid signature. Used by the differential test;
 * the validator composes the same parts with its own error reasons.
 */
export function compactVerify(jws: string, key: KeyObject, algorithms: readonly string[]): ParsedJws {
  let parsed: ParsedJws;
  try {
    parsed = parseCompactJws(jws);
  } catch (error) {
    throw new CompactVerifyError((error as JwsError).failure);
  }
  if (hasUnsupportedHeader(parsed.header)) throw new CompactVerifyError('crit');
  const alg = parsed.header.alg;
  if (typeof alg !== 'string' || !algorithms.includes(alg) || !isSupportedAlgorithm(alg)) throw new CompactVerifyError('alg');
  if (!keyFitsAlgorithm(key, alg)) throw new CompactVerifyError('key');
  if (!verifySignature(alg, key, parsed.signingInput, parsed.signature)) throw new CompactVerifyError('signature');
  return parsed;
}
