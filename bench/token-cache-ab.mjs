// A/B of the verified-token cache's admission rule, in ONE process (the variants take turns, so the machine's drift
// moves both alike): "first-use" caches every verified token; "second-use" caches a token only when it is verified a
// second time while its fingerprint is still in the doorkeeper (src/core/token/token-cache.ts).
//
//   node bench/token-cache-ab.mjs          (ROUNDS=5 N=1000 POPULAR=20; needs --expose-gc, added by re-exec)
//
// Workloads, each variant with its own TokenVerifier (same configuration, same issuer pool) and the same tokens:
//  - one-shot: N tokens never seen again (a unique-token flood): CPU µs per verify, major GCs, and the heap the
//    cache keeps afterwards (after a forced GC);
//  - mix: POPULAR tokens carrying half of the requests, interleaved with one-shot tokens, after a warm-up that puts
//    the popular ones in the cache; the cache holds CACHE entries (default 500), fewer than the one-shot tokens of a
//    round, so admission decides whether the flood evicts the popular tokens: hit rate and CPU µs per request.
import { execFileSync } from 'node:child_process';
import { PerformanceObserver } from 'node:perf_hooks';
import { makeSigningKey, mintMany, mintToken } from './lib/fixtures.mjs';
import { startIssuer } from './lib/issuer.mjs';
import { AUDIENCE } from './lib/fixtures.mjs';

if (typeof globalThis.gc !== 'function') {
  execFileSync(process.execPath, ['--expose-gc', new URL(import.meta.url).pathname], { stdio: 'inherit' });
  process.exit(0);
}
const ROUNDS = Number(process.env.ROUNDS ?? 5);
const N = Number(process.env.N ?? 1000);
const POPULAR = Number(process.env.POPULAR ?? 20);
const CACHE = Number(process.env.CACHE ?? 500);
const dist = new URL('../build/dist/src/core/', import.meta.url);
const { resolveConfig } = await import(new URL('config.js', dist).href);
const { IssuerPool } = await import(new URL('issuer/issuer-pool.js', dist).href);
const { TokenVerifier } = await import(new URL('token/token-verifier.js', dist).href);
const { Telemetry } = await import(new URL('observability/telemetry.js', dist).href);

const key = makeSigningKey('ab-cache');
const issuer = await startIssuer({ jwks: { keys: [key.publicJwk] } });
const config = resolveConfig({ domain: issuer.origin, audience: AUDIENCE, tokenCache: { maxEntries: CACHE } });
const variants = ['first-use', 'second-use'].map((admission) => {
  const telemetry = new Telemetry();
  const issuers = new IssuerPool({ domains: config.domains, issuer: config.issuer }, { emit: () => {}, telemetry });
  return { admission, verifier: new TokenVerifier(config, issuers, telemetry, admission) };
});
const request = { url: 'http://127.0.0.1/api/private', headers: {} };
const popular = Array.from({ length: POPULAR }, () => mintToken(key, issuer.issuer));
for (const v of variants) for (let i = 0; i < 3; i++) for (const t of popular) await v.verifier.verify(t, request); // both: popular ones cached

let majorGcs = 0;
new PerformanceObserver((list) => {
  for (const e of list.getEntries()) if (e.detail?.kind === 4 /* NODE_PERFORMANCE_GC_MAJOR */) majorGcs++;
}).observe({ entryTypes: ['gc'] });

const results = Object.fromEntries(variants.map((v) => [v.admission, { oneShot: [], mix: [], hitRate: [], gcs: 0, heap: [] }]));
const cpu = async (fn, n) => {
  const before = process.cpuUsage();
  await fn();
  const used = process.cpuUsage(before);
  return (used.user + used.system) / n;
};
for (let r = 0; r < ROUNDS; r++) {
  const oneShot = await mintMany(N, { kind: 'token', key, issuer: issuer.issuer });
  const flood = await mintMany(N, { kind: 'token', key, issuer: issuer.issuer });
  const order = r % 2 ? [...variants].reverse() : variants;
  for (const v of order) {
    const res = results[v.admission];
    globalThis.gc();
    const gcsBefore = majorGcs;
    res.oneShot.push(
      await cpu(async () => {
        for (const t of oneShot) await v.verifier.verify(t, request);
      }, N),
    );
    let hits = 0;
    res.mix.push(
      await cpu(async () => {
        for (let i = 0; i < N; i++) {
          if ((await v.verifier.verify(popular[i % POPULAR], request)).cacheHit) hits++;
          await v.verifier.verify(flood[i], request);
        }
      }, 2 * N),
    );
    res.hitRate.push(hits / N);
    res.gcs += majorGcs - gcsBefore;
    globalThis.gc();
    res.heap.push(process.memoryUsage().heapUsed);
  }
}
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
console.log(`rounds ${ROUNDS} × ${N} one-shot tokens + ${N} mix pairs (popular ${POPULAR}, cache ${CACHE} entries)`);
for (const [name, r] of Object.entries(results)) {
  console.log(
    `${name.padEnd(10)} one-shot ${median(r.oneShot).toFixed(2)} µs/verify   mix ${median(r.mix).toFixed(2)} µs/request, popular hit rate ${(median(r.hitRate) * 100).toFixed(1)} %   major GCs ${r.gcs}   cache size ${variants.find((v) => v.admission === name).verifier.cacheSize}`,
  );
}
await issuer.close();
process.exit(0);
