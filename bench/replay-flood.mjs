// One client floods the default in-memory DPoP replay store (50,000 entries) while 50 others go on as usual
// (docs/decisions.md D17). Simulated clock, real store: the flood is 20,000 fresh proofs a second for
// 60 s (1.2 M proofs, 24× the capacity); the others send 2 proofs a second each. Prints what each side got, and
// what each record costs.
//
//   node bench/replay-flood.mjs        (after npm run build)
import { randomUUID } from 'node:crypto';

const { MemoryReplayStore, ReplayStoreError } = await import(new URL('../build/dist/src/core/index.js', import.meta.url).href);

const WINDOW_MS = 336_000; // the acceptance window of a proof with the defaults (300 s + 30 s leeway + tolerance)
const FLOOD_PER_SECOND = 20_000;
const OTHERS = 50;
const OTHER_PER_SECOND = 2;
const SECONDS = 60;

let now = Date.UTC(2026, 11, 2);
const store = new MemoryReplayStore({ now: () => now });
const record = (owner) => ({ key: randomUUID(), owner, iat: Math.floor(now / 1000), ttlMs: WINDOW_MS });

const stats = {
  flood: { accepted: 0, refused503: 0, replays: 0 },
  others: { accepted: 0, refused503: 0, replays: 0 },
};
const acceptedOthers = [];
let cpu = 0;
let calls = 0;

async function send(who, rec) {
  const started = process.cpuUsage();
  try {
    const fresh = await store.checkAndRemember(rec);
    stats[who][fresh ? 'accepted' : 'replays']++;
    if (fresh && who === 'others') acceptedOthers.push(rec);
  } catch (error) {
    if (!(error instanceof ReplayStoreError)) throw error;
    stats[who].refused503++;
  } finally {
    const used = process.cpuUsage(started);
    cpu += used.user + used.system;
    calls++;
  }
}

for (let second = 0; second < SECONDS; second++) {
  for (let i = 0; i < FLOOD_PER_SECOND; i++) {
    now += 1000 / FLOOD_PER_SECOND;
    await send('flood', record('flooder'));
    if (i % (FLOOD_PER_SECOND / (OTHERS * OTHER_PER_SECOND)) === 0) await send('others', record(`client-${i % OTHERS}`));
  }
}

// Every proof the others got accepted is still refused as a replay: nothing was forgotten to make room.
let replaysRefused = 0;
for (const rec of acceptedOthers) if ((await store.checkAndRemember(rec)) === false) replaysRefused++;

const pct = (n, d) => `${((100 * n) / d).toFixed(1)} %`;
const othersSent = stats.others.accepted + stats.others.refused503 + stats.others.replays;
const floodSent = stats.flood.accepted + stats.flood.refused503 + stats.flood.replays;
console.log(`MemoryReplayStore, default capacity (50,000), ${SECONDS} s simulated:`);
console.log(`| sender | proofs sent | accepted | refused (503) | taken for replays |`);
console.log(`|---|---:|---:|---:|---:|`);
console.log(`| the flooding client (${FLOOD_PER_SECOND}/s) | ${floodSent} | ${pct(stats.flood.accepted, floodSent)} | ${pct(stats.flood.refused503, floodSent)} | ${stats.flood.replays} |`);
console.log(`| ${OTHERS} other clients (${OTHER_PER_SECOND}/s each) | ${othersSent} | ${pct(stats.others.accepted, othersSent)} | ${pct(stats.others.refused503, othersSent)} | ${stats.others.replays} |`);
console.log(`\nReplays of the other clients' accepted proofs refused afterwards: ${replaysRefused} of ${acceptedOthers.length}`);
console.log(`Store size at the end: ${store.size}; CPU per record: ${(cpu / calls).toFixed(2)} µs (${calls} records)`);
if (stats.others.accepted !== othersSent || replaysRefused !== acceptedOthers.length || store.size > 50_000) {
  console.error('UNFAIR: another client was refused, a replay was accepted, or the store grew past its bound');
  process.exit(1);
}
