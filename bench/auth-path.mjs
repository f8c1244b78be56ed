// In-process micro-benchmark of the library's own per-request path, without HTTP, Express routing or tsoa:
// `auth0.authorize(req, { scopes })` on a request object shaped like Express's, against a no-op of the same shape.
// CPU µs per call (process.cpuUsage, all threads), medians over interleaved rounds. Cases: Bearer cache hit,
// Bearer unique token (signature), DPoP unique proof (token cached). `node bench/auth-path.mjs`
import crypto from 'node:crypto';
import express from 'express';
import { startIssuer } from './lib/issuer.mjs';
import { AUDIENCE, makeProofKey, makeSigningKey, mintToken, mintProof } from './lib/fixtures.mjs';

const ROUNDS = Number(process.env.ROUNDS ?? 7);
const N = Number(process.env.N ?? 20000);
const { createAuth0Api } = await import(new URL('../build/dist/src/index.js', import.meta.url).href);

const key = makeSigningKey('path-rs256');
const issuer = await startIssuer({ jwks: { keys: [key.publicJwk] } });
const app = express();
const auth0 = createAuth0Api({ domain: issuer.origin, audience: AUDIENCE });
auth0.install(app);
const URL_ = 'http://127.0.0.1:3000/api/private';

function request(headers) {
  const raw = [];
  for (const [k, v] of Object.entries({ host: '127.0.0.1:3000', ...headers })) raw.push(k, v);
  return {
    method: 'GET', originalUrl: '/api/private', url: '/api/private', protocol: 'http', app, query: {}, body: undefined,
    headers: { host: '127.0.0.1:3000', ...headers }, rawHeaders: raw, socket: { remoteAddress: '127.0.0.1' },
    res: { setHeader() {} },
  };
}

const scopes = [];
const token = mintToken(key, issuer.issuer);
const wanted = (name) => !process.env.ONLY || process.env.ONLY.split(',').includes(name);
const uniques = wanted('bearerUnique') ? Array.from({ length: N }, (_, i) => mintToken(key, issuer.issuer, { jti: `u${i}` })) : [];
const proofKey = makeProofKey();
const bound = mintToken(key, issuer.issuer, { cnf: { jkt: proofKey.jkt } });
const proofs = wanted('dpopUnique') ? Array.from({ length: N }, () => mintProof(proofKey, 'GET', URL_, bound)) : [];
await auth0.authorize(request({ authorization: `Bearer ${token}` }), { scopes }); // warm the keys

const cases = {
  noop: async () => { for (let i = 0; i < N; i++) { const r = request({ authorization: `Bearer ${token}` }); await Promise.resolve(r); } },
  bearerHit: async () => { for (let i = 0; i < N; i++) await auth0.authorize(request({ authorization: `Bearer ${token}` }), { scopes }); },
  bearerUnique: async () => { for (let i = 0; i < N; i++) await auth0.authorize(request({ authorization: `Bearer ${uniques[i]}` }), { scopes }); },
  dpopUnique: async () => { for (let i = 0; i < N; i++) await auth0.authorize(request({ authorization: `DPoP ${bound}`, dpop: proofs[i] }), { scopes }); },
  rs256Floor: async () => { const [h, p, s] = token.split('.'); const pk = crypto.createPublicKey({ key: key.publicJwk, format: 'jwk' }); const sig = Buffer.from(s, 'base64url'); for (let i = 0; i < N; i++) crypto.verify('sha256', Buffer.from(`${h}.${p}`), pk, sig); },
};
if (process.env.ONLY) for (const name of Object.keys(cases)) if (!process.env.ONLY.split(',').includes(name)) delete cases[name];
const results = Object.fromEntries(Object.keys(cases).map((k) => [k, []]));
for (let r = 0; r < ROUNDS; r++) {
  for (const [name, run] of Object.entries(cases)) {
    if (name === 'bearerUnique' || name === 'dpopUnique') { /* fresh tokens each round: new auth0 cache miss */ }
    const before = process.cpuUsage();
    await run();
    const used = process.cpuUsage(before);
    results[name].push((used.user + used.system) / N);
  }
  // new unique tokens/proofs for the next round (so unique stays a cache miss / fresh proof)
  if (cases.bearerUnique) for (let i = 0; i < N; i++) uniques[i] = mintToken(key, issuer.issuer, { jti: `u${r}-${i}` });
  if (cases.dpopUnique) for (let i = 0; i < N; i++) proofs[i] = mintProof(proofKey, 'GET', URL_, bound);
}
const median = (a) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)];
for (const [name, values] of Object.entries(results)) console.log(name.padEnd(14), median(values).toFixed(2), 'µs/call', values.map((v) => v.toFixed(1)).join(' '));
if (results.bearerHit && results.noop) console.log('bearerHit - noop', (median(results.bearerHit) - median(results.noop)).toFixed(2), 'µs');
await issuer.close?.();
process.exit(0);
