// In-process cost of MemoryReplayStore.checkAndRemember (CPU µs per call, median of ROUNDS × N calls): 50 owners,
// 500 proofs/s on a manual clock with a 70 s TTL, so the default 50,000-entry store fills and sweeps as in service.
// VARIANT_DIST=<another compiled tree, e.g. a copy of build/dist/src from an earlier commit> measures that store too,
// interleaved in the same process (A/B).   node bench/replay-store.mjs
import crypto from 'node:crypto';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const N = Number(process.env.N ?? 200_000);
const ROUNDS = Number(process.env.ROUNDS ?? 5);
const load = async (dir) => (await import(pathToFileURL(resolve(dir, 'core/dpop/replay-store.js')).href)).MemoryReplayStore;
const stores = [['built', await load(new URL('../build/dist/src', import.meta.url).pathname)]];
if (process.env.VARIANT_DIST) stores.push([`variant ${process.env.VARIANT_DIST}`, await load(process.env.VARIANT_DIST)]);
const keys = Array.from({ length: N }, () => crypto.randomBytes(32).toString('base64url'));
const owners = Array.from({ length: 50 }, (_, i) => crypto.createHash('sha256').update(`owner-${i}`).digest('base64url'));
const results = Object.fromEntries(stores.map(([name]) => [name, []]));
for (let round = 0; round < ROUNDS; round++) {
  for (const [name, Store] of stores) {
    let now = 1_700_000_000_000;
    const store = new Store({ now: () => now });
    const before = process.cpuUsage();
    for (let i = 0; i < N; i++) {
      now += 2;
      if (!(await store.checkAndRemember({ key: keys[i], owner: owners[i % 50], iat: Math.floor(now / 1000), ttlMs: 70_000 }))) throw new Error('a fresh proof was refused');
    }
    const used = process.cpuUsage(before);
    results[name].push((used.user + used.system) / N);
  }
}
const median = (a) => [...a].sort((x, y) => x - y)[a.length >> 1];
for (const [name, values] of Object.entries(results)) console.log(`${name}: ${median(values).toFixed(3)} µs per checkAndRemember (${values.map((v) => v.toFixed(2)).join(' ')})`);
