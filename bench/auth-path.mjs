// In-process benchmark of the library's per-request path on real Express request objects, without sockets, the
// kernel or tsoa: each call makes a node:http IncomingMessage + ServerResponse and hands them to `app.handle()`, whose
// route runs `auth0.authorize(req, { scopes })`; the same route shape with a no-op authenticator (it sets `req.auth`,
// as the HTTP benchmark's no-op does) is the reference. CPU µs per call (process.cpuUsage, all threads), medians over
// interleaved rounds. Cases: public (no authentication), noop, Bearer cache hit, Bearer unique token (signature), DPoP
// unique proof (token cached), and the RS256 verify floor.
//
//   node bench/auth-path.mjs        (ROUNDS=7 N=20000; ONLY=bearerHit,noop to pick cases)
//
// Why real request objects: Express gives every request object a map of its own, so every property read on one is a
// full lookup and every added property a runtime map transition; a plain object standing in for the request (what
// this benchmark used before) hid about half of the cache hit's cost (2.3–3 µs beyond the no-op then).
import crypto from 'node:crypto';
import http from 'node:http';
import net from 'node:net';
import express from 'express';
import { startIssuer } from './lib/issuer.mjs';
import { AUDIENCE, makeProofKey, makeSigningKey, mintToken, mintProof } from './lib/fixtures.mjs';

const ROUNDS = Number(process.env.ROUNDS ?? 7);
const N = Number(process.env.N ?? 20000);
const { createAuth0Api } = await import(new URL('../build/dist/src/index.js', import.meta.url).href);

const key = makeSigningKey('path-rs256');
const issuer = await startIssuer({ jwks: { keys: [key.publicJwk] } });
const app = express();
const auth0 = createAuth0Api({ domain: issuer.origin, audience: AUDIENCE, dpop: { mode: 'allowed' } });
auth0.install(app);
const HOST = '127.0.0.1:3000';
const URL_ = `http://${HOST}/api/private`;
const scopes = [];
const fail = (error) => {
  console.error(error);
  process.exit(1);
};
let done = 0;
app.get('/api/public', (_req, res) => res.end());
app.get('/api/noop', (req, res) => {
  new Promise((resolve) => {
    req.auth = { claims: { sub: 'auth0|bench-user' }, token: '' };
    resolve(req.auth);
  }).then(() => res.end(), fail);
});
app.get('/api/private', (req, res) => {
  auth0.authorize(req, { scopes }).then(() => res.end(), fail);
});

// A request as Node's parser leaves it (method, url, rawHeaders, lower-cased headers), answered into the void.
const socket = new net.Socket();
function handle(path, headers) {
  const req = new http.IncomingMessage(socket);
  req.method = 'GET';
  req.url = path;
  const all = { host: HOST, accept: '*/*', ...headers };
  req.rawHeaders = Object.entries(all).flat();
  req.headers = all;
  req.complete = true;
  const res = new http.ServerResponse(req);
  res.end = function end() {
    done++;
    return this;
  };
  app.handle(req, res, (error) => fail(error ?? new Error(`${path}: no route answered`)));
}

const token = mintToken(key, issuer.issuer);
const wanted = (name) => !process.env.ONLY || process.env.ONLY.split(',').includes(name);
const uniques = wanted('bearerUnique') ? Array.from({ length: N }, (_, i) => mintToken(key, issuer.issuer, { jti: `u${i}` })) : [];
const proofKey = makeProofKey();
const bound = mintToken(key, issuer.issuer, { cnf: { jkt: proofKey.jkt } });
const proofs = wanted('dpopUnique') ? Array.from({ length: N }, () => mintProof(proofKey, 'GET', URL_, bound)) : [];

/** N requests, 64 at a time (the event loop turns between batches, as a server's does between reads). */
const loop = (path, headersFor) => async () => {
  done = 0;
  for (let i = 0; i < N; i++) {
    handle(path, headersFor(i));
    if ((i & 63) === 63) await new Promise(setImmediate);
  }
  while (done < N) await new Promise(setImmediate);
};
const cases = {
  public: loop('/api/public', () => ({})),
  noop: loop('/api/noop', () => ({ authorization: `Bearer ${token}` })),
  bearerHit: loop('/api/private', () => ({ authorization: `Bearer ${token}` })),
  bearerUnique: loop('/api/private', (i) => ({ authorization: `Bearer ${uniques[i]}` })),
  dpopUnique: loop('/api/private', (i) => ({ authorization: `DPoP ${bound}`, dpop: proofs[i] })),
  rs256Floor: async () => {
    const [h, p, s] = token.split('.');
    const pk = crypto.createPublicKey({ key: key.publicJwk, format: 'jwk' });
    const sig = Buffer.from(s, 'base64url');
    for (let i = 0; i < N; i++) crypto.verify('sha256', Buffer.from(`${h}.${p}`), pk, sig);
  },
};
if (process.env.ONLY) for (const name of Object.keys(cases)) if (!process.env.ONLY.split(',').includes(name)) delete cases[name];
const results = Object.fromEntries(Object.keys(cases).map((k) => [k, []]));
for (const run of Object.values(cases)) await run(); // warm-up round, not counted
for (let r = 0; r < ROUNDS; r++) {
  // New unique tokens and proofs each round, so that they stay a cache miss and a fresh proof.
  if (cases.bearerUnique) for (let i = 0; i < N; i++) uniques[i] = mintToken(key, issuer.issuer, { jti: `u${r}-${i}` });
  if (cases.dpopUnique) for (let i = 0; i < N; i++) proofs[i] = mintProof(proofKey, 'GET', URL_, bound);
  const names = Object.keys(cases);
  for (const name of r % 2 ? names.reverse() : names) {
    const before = process.cpuUsage();
    await cases[name]();
    const used = process.cpuUsage(before);
    results[name].push((used.user + used.system) / N);
  }
}
const median = (a) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)];
for (const [name, values] of Object.entries(results)) console.log(name.padEnd(14), median(values).toFixed(2), 'µs/call', values.map((v) => v.toFixed(1)).join(' '));
// Differences paired by round (the machine's speed drifts between rounds).
const paired = (a, b) => median(results[a].map((v, i) => v - results[b][i]));
for (const [a, b] of [
  ['bearerHit', 'noop'],
  ['noop', 'public'],
  ['bearerUnique', 'noop'],
  ['dpopUnique', 'noop'],
]) {
  if (results[a] && results[b]) console.log(`${a} − ${b}`.padEnd(24), paired(a, b).toFixed(2), 'µs (median of per-round differences)');
}
await issuer.close?.();
process.exit(0);
