// Micro-benchmark of the core verify path against the raw node:crypto floor (same machine, same run).
//
//   node bench/micro.mjs [--json FILE]        env: MICRO_ROUNDS (default 9), MICRO_MS (default 300)
//
// Interleaved rounds: every case is sampled once per round for MICRO_MS, median ops/s over rounds. "seq" cases
// await one call at a time (per-request latency view); "c32" keeps 32 calls in flight (throughput view).
// Ratios are to the floor of the group: a synchronous crypto.verify of the same signature over pre-split input.
import crypto from 'node:crypto';
import { writeFileSync } from 'node:fs';
import * as jose from 'jose';
import { startIssuer } from './lib/issuer.mjs';
import { AUDIENCE, ath, makeProofKey, makeSigningKey, mintMany, mintProof, mintToken } from './lib/fixtures.mjs';

const ROUNDS = Number(process.env.MICRO_ROUNDS ?? 9);
const MS = Number(process.env.MICRO_MS ?? 300);
const jsonOut = process.argv.includes('--json') ? process.argv[process.argv.indexOf('--json') + 1] : undefined;
const dist = new URL('../build/dist/src/core/', import.meta.url);
const core = await import(new URL('index.js', dist).href);
let fast;
try {
  fast = await import(new URL('fast-verify.js', dist).href);
} catch {
  fast = undefined; // src/core/fast-verify.ts not built
}

// --- fixtures --------------------------------------------------------------------------------------------------
const key = makeSigningKey('micro-rs256');
const proofKey = makeProofKey();
const issuer = await startIssuer({ jwks: { keys: [key.publicJwk] } });
const token = mintToken(key, issuer.issuer);
const boundToken = mintToken(key, issuer.issuer, { cnf: { jkt: proofKey.jkt } });
const htu = 'http://127.0.0.1:38180/api/private';
const proof = mintProof(proofKey, 'GET', htu, boundToken);
const publicKey = crypto.createPublicKey({ key: key.publicJwk, format: 'jwk' });
const split = (jws) => {
  const i = jws.lastIndexOf('.');
  return [Buffer.from(jws.slice(0, i)), Buffer.from(jws.slice(i + 1), 'base64url')];
};
const [atInput, atSig] = split(token);
const [proofInput, proofSig] = split(proof);
const proofPub = { key: proofKey.publicKey, dsaEncoding: 'ieee-p1363' };
const POOL = Number(process.env.MICRO_PROOFS ?? 20_000);
const proofs = await mintMany(POOL, { kind: 'proof', proofKey, htm: 'GET', htu, accessToken: boundToken });
let nextProof = 0;

const validator = (tokenCache) => new core.ApiValidator({ domain: issuer.origin, audience: AUDIENCE, tokenCache, dpop: { mode: 'allowed' } });
const miss = validator(false);
const hit = validator(true);
const dpopValidator = validator(true);
const bearerRequest = { method: 'GET', url: htu, headers: { authorization: `Bearer ${token}` } };
const rules = { method: 'GET', url: htu, accessToken: boundToken, algorithms: ['ES256'], iatLeeway: 30, iatOffset: 300 };
const joseOptions = { issuer: issuer.issuer, audience: AUDIENCE, algorithms: ['RS256'] };
const thumbprint = (j) => crypto.createHash('sha256').update(`{"crv":"${j.crv}","kty":"EC","x":"${j.x}","y":"${j.y}"}`).digest('base64url');

// --- cases -------------------------------------------------------------------------------------------------------
const cases = [];
const add = (group, name, fn, mode = 'sync', floor = false) => cases.push({ group, name, fn, mode, floor, samples: [] });

add('bearer', 'raw crypto.verify RS256 (floor)', () => crypto.verify('sha256', atInput, publicKey, atSig), 'sync', true);
add('bearer', 'jose jwtVerify(KeyObject) RS256', () => jose.jwtVerify(token, publicKey, joseOptions), 'seq');
add('bearer', 'core verifyAccessToken, cache off (miss)', () => miss.verifyAccessToken(token), 'seq');
add('bearer', 'core verifyAccessToken, cache off, c32', () => miss.verifyAccessToken(token), 'c32');
add('bearer', 'core verifyAccessToken, cache on (hit)', () => hit.verifyAccessToken(token), 'seq');
add('bearer', 'core verifyRequest Bearer, cache on (hit)', () => hit.verifyRequest(bearerRequest), 'seq');
if (fast) {
  add('bearer', 'fast-verify compactVerifySync RS256', () => fast.compactVerifySync(token, publicKey, ['RS256']));
  add('bearer', 'fast-verify verifyCompactSignature RS256', () => fast.verifyCompactSignature(token, 'RS256', publicKey));
  if (fast.verifyCompactSignatureAsync) {
    add('bearer', 'fast-verify verifyCompactSignatureAsync RS256 (thread pool)', () => fast.verifyCompactSignatureAsync(token, 'RS256', publicKey), 'seq');
    add('bearer', 'fast-verify verifyCompactSignatureAsync RS256, c32', () => fast.verifyCompactSignatureAsync(token, 'RS256', publicKey), 'c32');
  }
}
if (fast) {
  // Projection (not the library's code path today): what Bearer verification costs with the sync verifier, i.e.
  // decodeAccessToken + checkClaims + verifyCompactSignature on the cached KeyObject (what jwt.ts could do).
  const claimRules = { issuer: issuer.issuer, audiences: [AUDIENCE], clockTolerance: 5, maxTokenAge: undefined, strict: false };
  add('bearer', 'projection: decode + checkClaims + fast-verify (sync miss)', () => {
    const d = core.decodeAccessToken(token, ['RS256'], false);
    core.checkClaims(d.payload, claimRules);
    fast.verifyCompactSignature(token, d.alg, publicKey);
  });
}
add('bearer', 'part decodeAccessToken (split+JSON)', () => core.decodeAccessToken(token, ['RS256'], false));
add('bearer', 'part sha256(token) cache key (createHash)', () => crypto.createHash('sha256').update(token).digest('base64url'));
if (typeof crypto.hash === 'function') add('bearer', 'part sha256(token) one-shot crypto.hash', () => crypto.hash('sha256', token, 'base64url'));
add('bearer', 'part parseAuthorization', () => core.parseAuthorization(bearerRequest.headers));
const claims = core.decodeAccessToken(token, ['RS256'], false).payload;
add('bearer', 'part structuredClone(claims) (per cache hit)', () => structuredClone(claims));

add('dpop', 'raw ES256 verify + sha256 ath (floor)', () => crypto.verify('sha256', proofInput, proofPub, proofSig) && ath(boundToken), 'sync', true);
add('dpop', 'core verifyProof (same proof)', () => core.verifyProof(proof, rules), 'seq');
add(
  'dpop',
  'core verifyRequest DPoP, unique proofs, memory replay',
  () => {
    if (nextProof >= proofs.length) throw new Error('micro: proof pool exhausted, raise MICRO_PROOFS');
    return dpopValidator.verifyRequest({ method: 'GET', url: htu, headers: { authorization: `DPoP ${boundToken}`, dpop: proofs[nextProof++] } });
  },
  'seq',
);
if (fast) {
  add('dpop', 'fast-verify compactVerifySync ES256 proof', () => fast.compactVerifySync(proof, proofKey.publicKey, ['ES256']));
  // Projection of dpop.ts verifyProof with proof keys cached by RFC 7638 thumbprint (bounded Map) and the sync
  // verifier: the same checks (typ, alg, private members, key fits alg, signature, jti, htm, htu, iat, ath).
  const keyCache = new Map();
  add('dpop', 'projection: verifyProof with key cache + fast-verify', () => {
    const dot = proof.indexOf('.');
    const header = JSON.parse(Buffer.from(proof.slice(0, dot), 'base64url').toString('utf8'));
    if (header.typ !== 'dpop+jwt' || header.alg !== 'ES256' || header.crit !== undefined || header.b64 !== undefined) throw new Error('header');
    const jwk = header.jwk;
    if (!jwk || typeof jwk !== 'object' || 'd' in jwk || jwk.kty !== 'EC') throw new Error('jwk');
    const jkt = thumbprint(jwk);
    let k = keyCache.get(jkt);
    if (!k) {
      k = crypto.createPublicKey({ key: { kty: 'EC', crv: jwk.crv, x: jwk.x, y: jwk.y }, format: 'jwk' });
      if (keyCache.size >= 10_000) keyCache.delete(keyCache.keys().next().value);
      keyCache.set(jkt, k);
    }
    fast.verifyCompactSignature(proof, 'ES256', k);
    const p = JSON.parse(Buffer.from(proof.slice(proof.indexOf('.', dot + 1) === -1 ? 0 : dot + 1, proof.lastIndexOf('.')), 'base64url').toString('utf8'));
    const now = Math.floor(Date.now() / 1000);
    if (typeof p.jti !== 'string' || p.htm !== 'GET' || !core.htuMatches(p.htu, htu) || p.iat > now + 30 || p.iat < now - 300 || p.ath !== ath(boundToken)) throw new Error('claims');
    return jkt;
  });
}
add('dpop', 'part createPublicKey(jwk) P-256', () => crypto.createPublicKey({ key: proofKey.jwk, format: 'jwk' }));
add('dpop', 'part jose calculateJwkThumbprint', () => jose.calculateJwkThumbprint(proofKey.jwk), 'seq');
add('dpop', 'part sync sha256 thumbprint', () => thumbprint(proofKey.jwk));
add('dpop', 'part jose compactVerify ES256 (KeyObject)', () => jose.compactVerify(proof, proofKey.publicKey, { algorithms: ['ES256'] }), 'seq');

// --- sampling ----------------------------------------------------------------------------------------------------
async function sample(c, ms) {
  let n = 0;
  const t0 = performance.now();
  const end = t0 + ms;
  if (c.mode === 'sync')
    do {
      for (let i = 0; i < 16; i++) c.fn();
      n += 16;
    } while (performance.now() < end);
  else if (c.mode === 'seq')
    do {
      for (let i = 0; i < 16; i++) await c.fn();
      n += 16;
    } while (performance.now() < end);
  else
    do {
      await Promise.all(Array.from({ length: 32 }, c.fn));
      n += 32;
    } while (performance.now() < end);
  return (n * 1000) / (performance.now() - t0);
}

for (const c of cases) {
  const r = await c.fn(); // sanity: every case must succeed
  if (r === false) throw new Error(`micro: ${c.name} did not verify`);
}
for (const c of cases) await sample(c, Math.min(MS, 150)); // warm-up
for (let r = 0; r < ROUNDS; r++) for (const c of cases) c.samples.push(await sample(c, MS));
await issuer.close();

const median = (a) => [...a].sort((x, y) => x - y)[a.length >> 1];
const floors = Object.fromEntries(cases.filter((c) => c.floor).map((c) => [c.group, median(c.samples)]));
const rows = cases.map((c) => {
  const m = median(c.samples);
  return { group: c.group, name: c.name, mode: c.mode, median: Math.round(m), min: Math.round(Math.min(...c.samples)), max: Math.round(Math.max(...c.samples)), vsFloor: m / floors[c.group], usPerOp: 1e6 / m };
});
const result = { node: process.version, openssl: process.versions.openssl, rounds: ROUNDS, ms: MS, fastVerify: Boolean(fast), rows };

console.log(`micro: node ${process.version} openssl ${process.versions.openssl}, ${ROUNDS} rounds x ${MS} ms, median ops/s`);
console.log(`${'case'.padEnd(56)} ${'mode'.padEnd(4)} ${'ops/s'.padStart(8)} ${'µs/op'.padStart(7)} ${'min'.padStart(8)} ${'max'.padStart(8)}  /floor`);
for (const r of rows) {
  console.log(`${`${r.group}: ${r.name}`.padEnd(56)} ${r.mode.padEnd(4)} ${String(r.median).padStart(8)} ${r.usPerOp.toFixed(1).padStart(7)} ${String(r.min).padStart(8)} ${String(r.max).padStart(8)}  ${r.vsFloor.toFixed(2).padStart(6)}`);
}
if (jsonOut) writeFileSync(jsonOut, JSON.stringify(result, null, 2));
