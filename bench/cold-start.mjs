// Cold start: what the first authenticated request costs the server, against a warm one, and whether it fetches
// discovery or keys. The demo calls `auth0.ready()` at start-up (discovery and JWKS loaded before it listens for
// requests); VARIANT_DIST=<a build without it> measures the same on that tree for comparison.
//
//   node bench/cold-start.mjs        (SERVERS=3 fresh servers per tree, WARM=300, SAMPLES=21; PRIME=1, see below)
//
// Per fresh server: server CPU (process.cpuUsage in the server, all threads) of the first Bearer request with a new
// token, and the issuer's discovery/JWKS fetches during it; then WARM requests with new tokens; then SAMPLES single
// requests with new tokens, each measured the same way: the warm figure is their median. Wall-clock latency is
// reported too. A new token every time: each request pays the signature, as the first one does.
import { startIssuer } from './lib/issuer.mjs';
import { makeSigningKey, mintMany } from './lib/fixtures.mjs';
import { serverUsage, startServer, stopServer } from './lib/load.mjs';

const SERVERS = Number(process.env.SERVERS ?? 3);
const WARM = Number(process.env.WARM ?? 300);
const SAMPLES = Number(process.env.SAMPLES ?? 21);
const PORT = Number(process.env.BENCH_PORT ?? 38480);
const key = makeSigningKey('cold-rs256');
const jwks = { keys: [key.publicJwk] };
const issuer = await startIssuer({ port: PORT + 1, jwks });
const trees = [{ name: 'this tree', env: {} }, ...(process.env.VARIANT_DIST ? [{ name: `variant ${process.env.VARIANT_DIST}`, env: { BENCH_DIST: process.env.VARIANT_DIST } }] : [])];
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const fetches = () => (issuer.counts['/.well-known/openid-configuration'] ?? 0) + (issuer.counts['/.well-known/jwks.json'] ?? 0);

for (const tree of trees) {
  const firsts = [];
  const warms = [];
  const firstFetches = [];
  const latency = { first: [], warm: [] };
  for (let s = 0; s < SERVERS; s++) {
    const tokens = await mintMany(1 + WARM + SAMPLES, { kind: 'token', key, issuer: issuer.issuer });
    const { child, url } = await startServer('demo', { jwks, port: PORT, issuerOrigin: issuer.origin, env: tree.env });
    try {
      const one = async (token) => {
        const before = await serverUsage(child);
        const t0 = performance.now();
        const res = await fetch(`${url}/api/private`, { headers: { authorization: `Bearer ${token}` } });
        await res.arrayBuffer();
        const ms = performance.now() - t0;
        const after = await serverUsage(child);
        if (res.status !== 200) throw new Error(`${tree.name}: ${res.status}`);
        return { cpu: after.cpu - before.cpu, ms };
      };
      // PRIME=1: one unauthenticated request and one without credentials (401) first, so that the measured request
      // finds Express and tsoa's routes already run once: what is left is the token path's own first run.
      if (process.env.PRIME) for (const path of ['/api/public', '/api/private']) await (await fetch(`${url}${path}`)).arrayBuffer();
      const before = fetches();
      const first = await one(tokens[0]);
      firstFetches.push(fetches() - before);
      firsts.push(first.cpu);
      latency.first.push(first.ms);
      for (let i = 1; i <= WARM; i += 8) await Promise.all(tokens.slice(i, Math.min(i + 8, WARM + 1)).map((t) => fetch(`${url}/api/private`, { headers: { authorization: `Bearer ${t}` } }).then((r) => r.arrayBuffer())));
      const samples = [];
      for (let i = 0; i < SAMPLES; i++) samples.push(await one(tokens[1 + WARM + i]));
      warms.push(median(samples.map((x) => x.cpu)));
      latency.warm.push(median(samples.map((x) => x.ms)));
    } finally {
      await stopServer(child);
    }
  }
  const f = median(firsts);
  const w = median(warms);
  console.log(
    `${tree.name}: first request ${(f / 1000).toFixed(2)} ms server CPU (${firsts.map((x) => (x / 1000).toFixed(2)).join(' / ')}), warm ${(w / 1000).toFixed(2)} ms → ${(f / w).toFixed(2)}×; ` +
      `latency first ${median(latency.first).toFixed(1)} ms, warm ${median(latency.warm).toFixed(1)} ms; discovery/JWKS fetches during the first request: ${firstFetches.join(', ')}`,
  );
}
await issuer.close();
process.exit(0);
