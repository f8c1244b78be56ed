// Benchmark fixtures: signing keys, a JWKS, Auth0-shaped RS256 access tokens and ES256 DPoP proofs, minted with
// synchronous node:crypto (jose's async signing would dominate fixture time). Large batches are split across
// worker threads, before any measurement starts, so minting never competes with a measured run.
import crypto from 'node:crypto';
import os from 'node:os';
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';

export const AUDIENCE = 'https://api.bench.example';

const b64json = (value) => Buffer.from(JSON.stringify(value)).toString('base64url');

/** An RSA-2048 signing key with its public JWK (kid, alg, use). */
export function makeSigningKey(kid = 'bench-rs256') {
  const { privateKey, publicKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
  return { kid, privateKey, publicJwk: { ...publicKey.export({ format: 'jwk' }), kid, alg: 'RS256', use: 'sig' } };
}

/** The signing key of {@link makeSigningKey} from its PKCS#8 PEM (for a pool of tokens kept between runs). */
export function signingKeyFromPem(pem, kid) {
  const privateKey = crypto.createPrivateKey(pem);
  return { kid, privateKey, publicJwk: { ...crypto.createPublicKey(privateKey).export({ format: 'jwk' }), kid, alg: 'RS256', use: 'sig' } };
}

/** An ES256 DPoP key pair with its RFC 7638 thumbprint. */
export function makeProofKey() {
  const { privateKey, publicKey } = crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const { kty, crv, x, y } = publicKey.export({ format: 'jwk' });
  const jwk = { kty, crv, x, y };
  const jkt = crypto.createHash('sha256').update(JSON.stringify({ crv, kty, x, y })).digest('base64url');
  return { privateKey, publicKey, jwk, jkt };
}

/** Signs an access token (compact JWS, RS256, typ at+jwt). `claims` override the Auth0-shaped defaults. */
export function mintToken(key, issuer, claims = {}, header = {}) {
  const now = Math.floor(Date.now() / 1000);
  const payload = {
    iss: issuer,
    sub: 'auth0|bench-user',
    aud: AUDIENCE,
    iat: now,
    exp: now + 7200,
    scope: 'read:messages',
    azp: 'bench-client',
    client_id: 'bench-client',
    gty: 'client-credentials',
    jti: crypto.randomUUID(),
    ...claims,
  };
  const input = `${b64json({ alg: 'RS256', typ: 'at+jwt', kid: key.kid, ...header })}.${b64json(payload)}`;
  return `${input}.${crypto.sign('sha256', Buffer.from(input), key.privateKey).toString('base64url')}`;
}

/** base64url(SHA-256(access token)): the proof's `ath`. */
export const ath = (token) => crypto.createHash('sha256').update(token).digest('base64url');

/** Signs a DPoP proof (RFC 9449 §4.2) for `htm` `htu`, bound to `accessToken`, with a fresh `jti`. */
export function mintProof(proofKey, htm, htu, accessToken, extra = {}) {
  const header = b64json({ typ: 'dpop+jwt', alg: 'ES256', jwk: proofKey.jwk });
  const payload = b64json({ jti: crypto.randomUUID(), htm, htu, iat: Math.floor(Date.now() / 1000), ath: ath(accessToken), ...extra });
  const input = `${header}.${payload}`;
  const sig = crypto.sign('sha256', Buffer.from(input), { key: proofKey.privateKey, dsaEncoding: 'ieee-p1363' });
  return `${input}.${sig.toString('base64url')}`;
}

// --- parallel minting -----------------------------------------------------------------------------------------

function mintBatch({ kind, pem, kid, issuer, claims, n, htm, htu, accessToken }) {
  const privateKey = crypto.createPrivateKey(pem);
  const out = new Array(n);
  if (kind === 'token') {
    const key = { kid, privateKey };
    for (let i = 0; i < n; i++) out[i] = mintToken(key, issuer, claims);
  } else {
    const jwk = crypto.createPublicKey(privateKey).export({ format: 'jwk' });
    const proofKey = { privateKey, jwk: { kty: jwk.kty, crv: jwk.crv, x: jwk.x, y: jwk.y } };
    for (let i = 0; i < n; i++) out[i] = mintProof(proofKey, htm, htu, accessToken);
  }
  return out;
}

if (!isMainThread && workerData?.benchMint) parentPort.postMessage(mintBatch(workerData.benchMint));

/**
 * Mints `n` tokens (`{ kind: 'token', key, issuer, claims }`) or proofs (`{ kind: 'proof', proofKey, htm, htu,
 * accessToken }`) on up to `availableParallelism()` worker threads.
 */
export async function mintMany(n, spec) {
  const pem = (spec.kind === 'token' ? spec.key.privateKey : spec.proofKey.privateKey).export({ type: 'pkcs8', format: 'pem' });
  const base = { kind: spec.kind, pem, kid: spec.key?.kid, issuer: spec.issuer, claims: spec.claims ?? {}, htm: spec.htm, htu: spec.htu, accessToken: spec.accessToken };
  const workers = Math.max(1, Math.min(os.availableParallelism(), Math.ceil(n / 500)));
  const parts = await Promise.all(
    Array.from({ length: workers }, (_, w) => {
      const count = Math.floor(n / workers) + (w < n % workers ? 1 : 0);
      return new Promise((resolve, reject) => {
        const worker = new Worker(new URL(import.meta.url), { workerData: { benchMint: { ...base, n: count } } });
        worker.once('message', resolve);
        worker.once('error', reject);
      });
    }),
  );
  return parts.flat();
}
