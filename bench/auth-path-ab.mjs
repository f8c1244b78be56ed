// A/B of the library's in-process cache-hit path between compiled trees, in ONE process: differences of a tenth of
// a microsecond are lost between separate runs on a shared 2-core machine (CPU frequency and neighbours move whole
// runs by more than that), so the trees take turns within one run.
//
//   node bench/auth-path-ab.mjs base=/path/to/other/checkout this=.      (each: a checkout with build/dist/src built)
//
// Each tree gets its own Auth0Api on an Express app; `authorize(req, { scopes: [] })` on the same reused token (a
// verified-token cache hit) is timed in rounds of N calls, the trees' rounds interleaved in a rotating order; CPU µs
// per call (process.cpuUsage), median, first quartile and minimum over rounds. Import order matters a little (run both
// orders). E.g. the check that @opentelemetry/api with no SDK costs nothing: base = the commit before, this = HEAD.
// ROUNDS=31 N=20000.
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import express from 'express';
import { startIssuer } from './lib/issuer.mjs';
import { AUDIENCE, makeSigningKey, mintToken } from './lib/fixtures.mjs';

const ROUNDS = Number(process.env.ROUNDS ?? 31);
const N = Number(process.env.N ?? 20000);
const trees = process.argv.slice(2).map((arg) => {
  const [name, dir] = arg.split('=');
  if (!name || !dir) throw new Error(`expected name=checkout, got ${arg}`);
  return { name, entry: pathToFileURL(resolve(dir, 'build/dist/src/index.js')).href };
});
if (trees.length < 2) throw new Error('usage: node bench/auth-path-ab.mjs a=<checkout> b=<checkout> [...]');

const key = makeSigningKey('ab-rs256');
const issuer = await startIssuer({ jwks: { keys: [key.publicJwk] } });
const token = mintToken(key, issuer.issuer);
const runs = {};
for (const { name, entry } of trees) {
  const { createAuth0Api } = await import(entry);
  const app = express();
  const auth0 = createAuth0Api({ domain: issuer.origin, audience: AUDIENCE });
  auth0.install(app);
  const headers = { host: '127.0.0.1:3000', authorization: `Bearer ${token}` };
  const request = () => ({
    method: 'GET',
    originalUrl: '/api/private',
    url: '/api/private',
    protocol: 'http',
    app,
    query: {},
    body: undefined,
    headers: { ...headers },
    rawHeaders: Object.entries(headers).flat(),
    socket: { remoteAddress: '127.0.0.1' },
    res: { setHeader() {} },
  });
  await auth0.authorize(request(), { scopes: [] }); // fetch the keys, fill the cache
  runs[name] = async () => {
    for (let i = 0; i < N; i++) await auth0.authorize(request(), { scopes: [] });
  };
}

const names = Object.keys(runs);
const results = Object.fromEntries(names.map((n) => [n, []]));
for (let r = 0; r < ROUNDS; r++) {
  for (let k = 0; k < names.length; k++) {
    const name = names[(r + k) % names.length];
    const before = process.cpuUsage();
    await runs[name]();
    const used = process.cpuUsage(before);
    results[name].push((used.user + used.system) / N);
  }
}
const at = (values, q) => [...values].sort((a, b) => a - b)[Math.floor(values.length * q)];
for (const [name, values] of Object.entries(results)) {
  console.log(`${name.padEnd(10)} median ${at(values, 0.5).toFixed(3)}  q1 ${at(values, 0.25).toFixed(3)}  min ${Math.min(...values).toFixed(3)} µs/call`);
}
const [first, ...others] = names;
for (const other of others) console.log(`${other} − ${first}: ${(at(results[other], 0.5) - at(results[first], 0.5)).toFixed(3)} µs (medians)`);
await issuer.close?.();
process.exit(0);
