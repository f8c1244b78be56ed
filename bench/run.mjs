// `npm run bench`: what authentication costs the server, per request, in one command.
//
//  1. floors   sync crypto.verify RS256 (2048) and ES256: CPU µs per call, measured in this process between rounds
//  2. cases    per round, every server the cases need in its own forked process (bench/server.mjs), all alive at
//              once and pinned to one core, load from wrk (or autocannon) on the other core; after a warm-up per
//              case, the load moves between cases in short slices (CYCLES × SLICE s, order rotated each cycle). Per
//              slice: the server's CPU time (user + system, all threads) divided by the requests completed; a case
//              is compared with its base/no-op/peer of the same cycle; medians over (round, cycle).
//  3. memory   ours and the peer, each in a fresh server: RSS at start, after a run (every kind of request), and
//              after a second run of the same length (flat = no growth)
//  4. report   bench/results/latest.md + latest.svg (BENCH_QUICK: bench/results/raw/quick.md + quick.svg, so that a
//              smoke run never overwrites the committed results); every target printed with PASS/FAIL
//
// CPU is read by the server itself with process.cpuUsage() (getrusage(RUSAGE_SELF): all threads of the process,
// live and exited: the event loop, libuv's thread pool where crypto jobs run, V8's GC and compiler threads) and
// cross-checked against /proc/<pid>/stat utime+stime read from here. It does not depend on how fast the client
// is: a starved server serves fewer requests, but each costs about the same CPU. Heavy other work on the machine
// does inflate it (preemption, cold caches: seen here up to 2–3× at a load average of 10 on 2 cores), so every
// window also records how many cores everything else used and how often the server was preempted.
//
// Environment knobs (defaults: about 7 minutes on the 2-core machine):
//   BENCH_QUICK=1               smoke run (1–2 min): 1 round, short windows, short memory runs; writes raw/quick.md
//   ROUNDS=3                    rounds (fresh server processes each)
//   CYCLES=5 SLICE=2 WARM=4     per round and case: CYCLES measured slices of SLICE seconds, interleaved with the other
//                               cases (order rotated each cycle), after WARM seconds of warm-up; each slice after
//                               REWARM=1 s of unmeasured load (a server idle since its last slice runs slow at first);
//                               DUR (PROFILE only)
//   RATE=0 RATE_CONN=8          RATE=n: CPU per request measured at n req/s, the same for every case (open loop,
//                               autocannon, RATE_CONN connections); each cycle then also runs a closed-loop slice per
//                               case for the throughput table. Default 0: CPU from the closed-loop slices (see below
//                               why a fixed rate is not the default).
//   PIN=0                       no core pinning (default: server on the last core, client on the others)
//   CONN=50 WRK_THREADS=1       connections; wrk threads
//   BENCH_CLIENT=wrk|autocannon load generator (default: wrk when installed — Debian `apt-get install wrk` —
//                               else autocannon in this process)
//   MEM_DUR=24                  seconds per memory run (split over the three kinds of request); SKIP_MEMORY=1
//   MEM_PEER=peer               the memory run the memory targets compare with: peer (express-oauth2-jwt-bearer in
//                               the demo app, default) or plain-peer (in a plain Express app; added to the runs)
//   FLOOR_MS=300                sampling per floor and round
//   CASES=id,id                 subset of cases (ids in CASES below; the base, no-op and peer cases they compare
//                               to are added)
//   OTEL=1                      optional cases ours-bearer-otel-metrics and ours-dpop-otel-sdk (ours-bearer-otel-sdk
//                               always runs): an OpenTelemetry SDK registered before the app (bench/lib/otel-sdk.mjs),
//                               compared with API only (ref)
//   REDIS=1 CREATEAPP=1 PLAIN=1 optional cases: ours-dpop-redis (REDIS_URL or redis://127.0.0.1:6379); ours in the
//                               createApp shell of the no-op and peer servers (lib-*); a plain Express app without
//                               tsoa, ours vs the peer (plain-*; PLAIN=1 also adds that peer to the memory runs).
//                               STUB=1 is accepted: the no-op authenticator case always runs now
//   VARIANT_DIST=path           variant-* cases: the demo on that compiled tree (A/B in one run; VARIANT_LABEL)
//   PROFILE=case-id             also run that case once more under the V8 profiler; prints where the server's time goes
//   MICRO=1                     also run bench/micro.mjs (core micro-benchmark vs the floor)
//   FLOODS=1                    also run the floods of bench/memory.mjs (bounded caches under garbage/unique input)
//   TOKENS=12000                minimum unique-token pool (BENCH_QUICK: 0; grown to what a run needs; kept for an hour in
//                               bench/results/raw/token-pool.json so that re-runs skip minting)
//   BENCH_PORT=38180            app port (the local issuer uses BENCH_PORT+1)
//   BENCH_DIST=path             servers load this compiled tree instead of build/dist/src
import { execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import os from 'node:os';
import * as dpop from 'dpop';
import { makeProofKey, makeSigningKey, mintMany, mintToken, signingKeyFromPem } from './lib/fixtures.mjs';
import { ask, drive, loadGenerator, machineCores, pinning, machineCpuMicros, serverStats, serverUsage, startServer, stopServer, writePool } from './lib/load.mjs';
import { writeReport } from './lib/report.mjs';
import { startIssuer } from './lib/issuer.mjs';
import { summarizeProfile } from './lib/cpuprofile.mjs';

const env = process.env;
const QUICK = Boolean(env.BENCH_QUICK && env.BENCH_QUICK !== '0');
const ROUNDS = Number(env.ROUNDS ?? (QUICK ? 1 : 3));
const SLICE = Number(env.SLICE ?? (QUICK ? 1 : 2));
const CYCLES = Number(env.CYCLES ?? (QUICK ? 2 : 5));
const DUR = Number(env.DUR ?? CYCLES * SLICE);
const REWARM = Number(env.REWARM ?? 1);
const WARM = Number(env.WARM ?? (QUICK ? 2 : 4)); // a fresh process needs ~3 s of load before its JIT settles
const CONN = Number(env.CONN ?? 50);
// RATE: closed-loop, a slow case runs at a lower request rate than its base, and a server's per-request cost depends
// on its load (requests in flight, garbage per second, how the event loop batches), so "case − base" compares two
// loads. At one fixed rate for all, it does not. Measured here (one run, 4 s windows, autocannon for both): the unique-token
// case cost 326 µs per request closed-loop (2,957 req/s) and 264 µs at 700 req/s, the peer's 391 and 339 µs, while
// /api/public cost 172 µs either way. Not the default: an idle server wakes up for each request, and on this VM
// (Firecracker) a wake-up is dear and erratic — at 300 req/s /api/public cost 590–890 µs per request against 350–560
// closed-loop in the same run — and in the host's slow phases the peer's DPoP case cannot sustain 600 req/s. The
// rate must stay below every case's capacity; a slice that falls short is flagged.
const RATE = Number(env.RATE ?? 0);
const RATE_CONN = Number(env.RATE_CONN ?? 8);
const THREADS = Number(env.WRK_THREADS ?? 1);
const MEM_DUR = Number(env.MEM_DUR ?? (QUICK ? 3 : 24));
const FLOOR_MS = Number(env.FLOOR_MS ?? (QUICK ? 150 : 300));
const PORT = Number(env.BENCH_PORT ?? 38180);
const REDIS_URL = env.REDIS_URL || 'redis://127.0.0.1:6379';
const here = new URL('.', import.meta.url).pathname;
const resultsDir = join(here, 'results');
const rawDir = join(resultsDir, 'raw');
mkdirSync(rawDir, { recursive: true });
const started = Date.now();
const log = (...a) => console.log(`[${((Date.now() - started) / 1000).toFixed(0).padStart(3)}s]`, ...a);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const CLIENT = loadGenerator();
const loadAtStart = os.loadavg();

// --- fixtures ------------------------------------------------------------------------------------------------------
const ISSUER = `http://127.0.0.1:${PORT + 1}/`;
// Unique access tokens: one pool for every run (each server process starts with an empty cache, so reusing the
// pool across runs is still "never seen before" for that server). Pools are sized so that a run never wraps; a
// run that did is flagged. RS256 signing costs ~0.3 ms per token, so the pool (and its bench-only key) is kept on
// disk for an hour.
const POOL_FILE = join(rawDir, 'token-pool.json');
const TOKENS_TXT = join(rawDir, 'pool-tokens.txt');
const PROOFS_TXT = join(rawDir, 'pool-proofs.txt');
let tokens = [];
let tokensWritten = 0;
let key;
let createdAt = Date.now();
try {
  const saved = JSON.parse(readFileSync(POOL_FILE, 'utf8'));
  if (saved.issuer === ISSUER && Date.now() - saved.createdAt < 3600_000) {
    key = signingKeyFromPem(saved.pem, saved.kid);
    tokens = saved.tokens;
    createdAt = saved.createdAt;
  }
} catch {
  /* no saved pool */
}
key ??= makeSigningKey('bench-rs256');
const jwks = { keys: [key.publicJwk] };
const proofKey = makeProofKey();
const bearerToken = mintToken(key, ISSUER);
const boundToken = mintToken(key, ISSUER, { cnf: { jkt: proofKey.jkt } });

// --- cases ---------------------------------------------------------------------------------------------------------
// One line per case. kind: public | bearer (one token, reused: our cache hit) | bearer-unique (a new token per
// request) | dpop (token reused, a new proof per request, replay store on). base: the same app's unauthenticated
// case (authentication's CPU = this case − base); noop: the no-op authenticator in the same tsoa app; peer: the
// peer's case; floor: rs256 | es256 (the signature check the case cannot avoid); ref: another case to report the
// difference to (e.g. an OpenTelemetry SDK case vs API only); optional: the env var that enables it; env: extra
// environment for the server (BENCH_PRELOAD=<module> is imported before the app, e.g. to register an SDK).
// Adding a case is one line: e.g. ours-bearer-otel-sdk, ours with an OpenTelemetry SDK registered, compared with
// ours-bearer (API only: @opentelemetry/api installed, no SDK: the library's no-op path).
const CASES = [
  { id: 'public', label: 'ours (demo): unauthenticated /api/public', server: 'demo', kind: 'public' },
  { id: 'ours-bearer', label: 'ours: Bearer, one reused token (cache hit)', server: 'demo', kind: 'bearer', base: 'public', noop: 'noop-bearer', peer: 'peer-bearer' },
  { id: 'ours-bearer-unique', label: 'ours: Bearer, a new token per request', server: 'demo', kind: 'bearer-unique', base: 'public', noop: 'noop-bearer', peer: 'peer-bearer-unique', floor: 'rs256' },
  { id: 'ours-dpop', label: 'ours: DPoP, a new proof per request (memory replay store)', server: 'demo', kind: 'dpop', base: 'public', noop: 'noop-bearer', peer: 'peer-dpop', floor: 'es256' },
  { id: 'noop-public', label: 'no-op authenticator app: unauthenticated /api/public', server: 'demo-stub', kind: 'public' },
  { id: 'noop-bearer', label: 'no-op authenticator in the same tsoa app (tsoa @Security cost alone)', server: 'demo-stub', kind: 'bearer', base: 'noop-public' },
  { id: 'peer-public', label: 'peer app (express-oauth2-jwt-bearer in the demo app): /api/public', server: 'demo-eojb', kind: 'public' },
  { id: 'peer-bearer', label: 'peer: Bearer, one reused token', server: 'demo-eojb', kind: 'bearer', base: 'peer-public', noop: 'noop-bearer' },
  { id: 'peer-bearer-unique', label: 'peer: Bearer, a new token per request', server: 'demo-eojb', kind: 'bearer-unique', base: 'peer-public', noop: 'noop-bearer', floor: 'rs256' },
  { id: 'peer-dpop', label: 'peer: DPoP, a new proof per request (it has no replay store)', server: 'demo-eojb', kind: 'dpop', base: 'peer-public', noop: 'noop-bearer', floor: 'es256' },
  {
    id: 'ours-bearer-otel-sdk',
    label: 'ours: Bearer, one reused token, OpenTelemetry SDK registered (metrics + every span)',
    server: 'demo',
    kind: 'bearer',
    base: 'public',
    noop: 'noop-bearer',
    ref: 'ours-bearer',
    env: { BENCH_PRELOAD: 'bench/lib/otel-sdk.mjs' },
  },
  {
    id: 'ours-bearer-otel-metrics',
    label: 'ours: Bearer, one reused token, OpenTelemetry metrics only (no tracer, no context manager)',
    server: 'demo',
    kind: 'bearer',
    base: 'public',
    noop: 'noop-bearer',
    ref: 'ours-bearer',
    env: { BENCH_PRELOAD: 'bench/lib/otel-sdk.mjs', BENCH_OTEL: 'metrics' },
    optional: 'OTEL',
  },
  {
    id: 'ours-dpop-otel-sdk',
    label: 'ours: DPoP, a new proof per request, OpenTelemetry SDK registered',
    server: 'demo',
    kind: 'dpop',
    base: 'public',
    noop: 'noop-bearer',
    floor: 'es256',
    ref: 'ours-dpop',
    env: { BENCH_PRELOAD: 'bench/lib/otel-sdk.mjs' },
    optional: 'OTEL',
  },
  { id: 'ours-dpop-redis', label: 'ours: DPoP, a new proof per request, Redis replay store', server: 'demo', kind: 'dpop', redis: true, base: 'public', noop: 'noop-bearer', peer: 'peer-dpop', floor: 'es256', optional: 'REDIS' },
  { id: 'lib-public', label: 'ours in the createApp shell: /api/public', server: 'demo-lib', kind: 'public', optional: 'CREATEAPP' },
  { id: 'lib-bearer', label: 'ours in the createApp shell: Bearer, one reused token', server: 'demo-lib', kind: 'bearer', base: 'lib-public', noop: 'noop-bearer', peer: 'peer-bearer', optional: 'CREATEAPP' },
  { id: 'plain-public', label: 'plain Express app (no tsoa): /api/public', server: 'plain', kind: 'public', optional: 'PLAIN' },
  { id: 'plain-bearer', label: 'plain Express app, ours requireAuth(): Bearer, one reused token', server: 'plain', kind: 'bearer', base: 'plain-public', peer: 'plain-peer-bearer', optional: 'PLAIN' },
  { id: 'plain-peer-public', label: 'plain Express app, peer: /api/public', server: 'eojb', kind: 'public', optional: 'PLAIN' },
  { id: 'plain-peer-bearer', label: 'plain Express app, peer auth(): Bearer, one reused token', server: 'eojb', kind: 'bearer', base: 'plain-peer-public', optional: 'PLAIN' },
  { id: 'variant-public', label: `variant ${env.VARIANT_LABEL ?? env.VARIANT_DIST ?? ''}: /api/public`, server: 'demo', env: { BENCH_DIST: env.VARIANT_DIST }, kind: 'public', optional: 'VARIANT_DIST' },
  {
    id: 'variant-bearer',
    label: `variant ${env.VARIANT_LABEL ?? env.VARIANT_DIST ?? ''}: Bearer, one reused token`,
    server: 'demo',
    env: { BENCH_DIST: env.VARIANT_DIST },
    kind: 'bearer',
    base: 'variant-public',
    noop: 'noop-bearer',
    peer: 'peer-bearer',
    ref: 'ours-bearer',
    optional: 'VARIANT_DIST',
  },
  {
    id: 'variant-bearer-unique',
    label: `variant ${env.VARIANT_LABEL ?? env.VARIANT_DIST ?? ''}: Bearer, a new token per request`,
    server: 'demo',
    env: { BENCH_DIST: env.VARIANT_DIST },
    kind: 'bearer-unique',
    base: 'variant-public',
    noop: 'noop-bearer',
    peer: 'peer-bearer-unique',
    floor: 'rs256',
    ref: 'ours-bearer-unique',
    optional: 'VARIANT_DIST',
  },
  {
    id: 'variant-dpop',
    label: `variant ${env.VARIANT_LABEL ?? env.VARIANT_DIST ?? ''}: DPoP, a new proof per request`,
    server: 'demo',
    env: { BENCH_DIST: env.VARIANT_DIST },
    kind: 'dpop',
    base: 'variant-public',
    noop: 'noop-bearer',
    peer: 'peer-dpop',
    floor: 'es256',
    ref: 'ours-dpop',
    optional: 'VARIANT_DIST',
  },
];
// The memory runs: ours as `npm start` runs it, and the peer in the same demo app.
// The peer's demo app is built by the demo's createApp, which imports this library's Express adapter too.
const MEMORY_SERVERS = [
  { id: 'ours', label: 'ours (demo, startDemo)', server: 'demo' },
  { id: 'peer', label: 'peer (express-oauth2-jwt-bearer in the demo app)', server: 'demo-eojb' },
  { id: 'plain-peer', label: 'peer in a plain Express app (no tsoa, no Swagger UI routes of the demo)', server: 'eojb', optional: 'PLAIN' },
  { id: 'variant', label: `variant ${env.VARIANT_LABEL ?? env.VARIANT_DIST ?? ''} (demo, startDemo)`, server: 'demo', env: { BENCH_DIST: env.VARIANT_DIST }, optional: 'VARIANT_DIST' },
].filter((m) => !m.optional || env[m.optional] || env.MEM_PEER === m.id);
const MEM_PEER = env.MEM_PEER ?? 'peer';
if (!MEMORY_SERVERS.some((m) => m.id === MEM_PEER)) throw new Error(`MEM_PEER: unknown memory run ${MEM_PEER} (peer or plain-peer)`);

const selected = env.CASES ? new Set(env.CASES.split(',').map((s) => s.trim())) : undefined;
const wanted = new Set(CASES.filter((c) => (selected ? selected.has(c.id) : !c.optional || env[c.optional])).map((c) => c.id));
for (const id of selected ?? []) if (!CASES.some((c) => c.id === id)) throw new Error(`CASES: unknown case ${id} (known: ${CASES.map((c) => c.id).join(', ')})`);
for (let grew = true; grew;) {
  grew = false;
  for (const c of CASES) {
    if (!wanted.has(c.id)) continue;
    for (const dep of [c.base, c.noop, c.peer, c.ref]) if (dep && !wanted.has(dep)) (wanted.add(dep), (grew = true));
  }
}
const cases = CASES.filter((c) => wanted.has(c.id));

// --- fixtures on demand ----------------------------------------------------------------------------------------------
async function ensureTokens(n) {
  if (tokens.length < n) {
    const t0 = Date.now();
    const added = await mintMany(n - tokens.length, { kind: 'token', key, issuer: ISSUER });
    tokens = tokens.concat(added);
    log(`minted ${added.length} unique RS256 tokens, pool ${tokens.length} (${((Date.now() - t0) / 1000).toFixed(1)} s)`);
    writeFileSync(POOL_FILE, JSON.stringify({ issuer: ISSUER, kid: key.kid, pem: key.privateKey.export({ type: 'pkcs8', format: 'pem' }), createdAt, tokens }));
  }
  if (tokensWritten !== tokens.length) tokensWritten = writePool(TOKENS_TXT, tokens).size;
  return { values: tokens, file: TOKENS_TXT, header: 'authorization', prefix: 'Bearer ' };
}

/** Fresh DPoP proofs (iat = now, unique jti) for `htu`, bound to `boundToken`. */
async function freshProofs(n, htu) {
  const values = await mintMany(n, { kind: 'proof', proofKey, htm: 'GET', htu, accessToken: boundToken });
  writePool(PROOFS_TXT, values);
  return { values, file: PROOFS_TXT, header: 'dpop', prefix: '', offset: 0 };
}

// Pools must outlast a slice.
const bestRate = {};
let maxRate = 0;
const MIN_TOKENS = Number(env.TOKENS ?? (QUICK ? 0 : 12_000));
// Sized from the fastest rate seen so far for the case or for any case (a case's first slices run slower than its
// later ones), with 25 % headroom.
const need = (id, seconds) => Math.ceil(Math.max(bestRate[id] ?? 0, maxRate || 6000) * seconds * 1.25) + CONN * 4;
// The memory runs' unique tokens: from the unique-token cases' own best rate (50 % headroom) once known — sizing them
// by the 7,000 req/s public route made pools of 350,000 tokens (81 s of minting, a 330 MB file per wrk run).
const uniqueTokensFor = (seconds) => {
  const rates = cases.filter((c) => c.kind === 'bearer-unique' && bestRate[c.id] !== undefined).map((c) => bestRate[c.id]);
  return Math.ceil((rates.length ? Math.max(...rates) * 1.5 : (maxRate || 6000) * 1.25) * seconds) + CONN * 4;
};

/** The pool a slice of case `c` on server `s` takes its header values from (undefined: one fixed header). */
async function poolFor(c, s, seconds) {
  if (c.kind === 'bearer-unique') return { ...(await ensureTokens(s.tokenOffset + need(c.id, seconds))), offset: s.tokenOffset };
  if (c.kind === 'dpop') return freshProofs(need(c.id, seconds), s.url + pathFor(c.kind));
  return undefined;
}

const headersFor = (kind) => (kind === 'bearer' ? { authorization: `Bearer ${bearerToken}` } : kind === 'dpop' ? { authorization: `DPoP ${boundToken}` } : {});
const pathFor = (kind) => (kind === 'public' ? '/api/public' : '/api/private');

// --- floors --------------------------------------------------------------------------------------------------------
/** CPU µs per synchronous crypto.verify of a JWS-sized input: RS256 (RSA-2048) and ES256 (P-256, IEEE P1363). */
function measureFloors() {
  const rsa = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
  const ec = crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const data = Buffer.from(bearerToken.slice(0, bearerToken.lastIndexOf('.')));
  const rsSig = crypto.sign('sha256', data, rsa.privateKey);
  const ecKey = { key: ec.publicKey, dsaEncoding: 'ieee-p1363' };
  const esSig = crypto.sign('sha256', data, { key: ec.privateKey, dsaEncoding: 'ieee-p1363' });
  const sample = (fn) => {
    for (let i = 0; i < 50; i++) fn();
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    let n = 0;
    do {
      for (let i = 0; i < 32; i++) if (!fn()) throw new Error('floor: signature did not verify');
      n += 32;
    } while (performance.now() - t0 < FLOOR_MS);
    const c = process.cpuUsage(c0);
    return (c.user + c.system) / n;
  };
  return {
    rs256: sample(() => crypto.verify('sha256', data, rsa.publicKey, rsSig)),
    es256: sample(() => crypto.verify('sha256', data, ecKey, esSig)),
  };
}

// --- one round ----------------------------------------------------------------------------------------------------
// Every case's server is started at once (a fresh process per case and round, pinned to the server core) and the load moves
// between the cases in short slices: each case gets CYCLES slices of SLICE seconds, the order rotated every cycle.
// This machine's speed drifts by up to 2× over tens of seconds (the host, not the process: a sync RSA verify loop
// shows it too), so a case and its base measured minutes apart could not be compared; slices seconds apart can.
// Each cycle pairs a case with its base, no-op and peer of the same cycle; the report takes medians over
// (round, cycle).
const results = Object.fromEntries(cases.map((c) => [c.id, []]));
// RATE > 0: the closed-loop slices, for the throughput table (results then holds the fixed-rate slices).
const throughput = Object.fromEntries(cases.map((c) => [c.id, []]));
const floorRuns = [];
let failures = 0;
const issuer = await startIssuer({ port: PORT + 1, jwks });
// One server process per case: a case never pays for the garbage or the cache churn of another kind of traffic
// (a demo process that served unique tokens answers even /api/public at up to 2× the CPU until its old generation
// is collected).
const serverKey = (c) => c.id;

async function runRound(round) {
  const servers = new Map();
  for (const c of cases) if (!servers.has(serverKey(c))) servers.set(serverKey(c), { c, port: PORT + 10 + servers.size });
  const uniqueSeconds = WARM + CYCLES * (REWARM + SLICE);
  // Unique tokens, minted before any server starts: each server process starts with an empty cache, so one pool
  // serves every server of the round (each from its own offset 0).
  if (cases.some((c) => c.kind === 'bearer-unique')) await ensureTokens(Math.max(MIN_TOKENS, need('ours-bearer-unique', uniqueSeconds), need('peer-bearer-unique', uniqueSeconds)));
  try {
    for (const s of servers.values()) {
      const env = Object.fromEntries(Object.entries(s.c.env ?? {}).filter(([, v]) => v !== undefined));
      Object.assign(s, await startServer(s.c.server, { jwks, port: s.port, issuerOrigin: issuer.origin, redisUrl: s.c.redis ? REDIS_URL : undefined, env }), { tokenOffset: 0 });
    }
    const serverOf = (c) => servers.get(serverKey(c));
    for (const c of cases) {
      const s = serverOf(c);
      const pool = await poolFor(c, s, 0); // a few values: the warm-up takes its own
      const sanity = await sanityCheck(c, s.url + pathFor(c.kind), pool?.values.slice(pool.offset));
      if (c.kind === 'bearer-unique') s.tokenOffset += sanity.used;
      if (WARM > 0) await measure(c, s, 'warm-up', WARM);
      if (sanity.note) log(`${c.id}: ${sanity.note}`);
    }
    for (let cycle = 0; cycle < CYCLES; cycle++) {
      const order = cases.map((_, i) => cases[(i + cycle) % cases.length]);
      for (const c of order) {
        // A server idle since its last slice has shrunk its heap and cooled its caches: re-warm it, unmeasured.
        if (REWARM > 0) await measure(c, serverOf(c), 're-warm', REWARM, RATE);
        results[c.id].push(await measure(c, serverOf(c), `${round}.${cycle}`, SLICE, RATE));
        if (RATE > 0) throughput[c.id].push(await measure(c, serverOf(c), `${round}.${cycle} closed`, SLICE));
      }
    }
  } finally {
    await Promise.all([...servers.values()].filter((s) => s.child).map((s) => stopServer(s.child)));
  }
}

/**
 * One slice: `seconds` of load on case `c` (server `s`), at `rate` requests per second or (no rate) as fast as the
 * server answers; CPU per request from the server's own usage.
 */
async function measure(c, s, round, seconds, rate = 0) {
  const pool = await poolFor(c, s, seconds);
  const path = pathFor(c.kind);
  const before = await serverUsage(s.child);
  const machine0 = machineCpuMicros();
  const t0 = performance.now();
  const r = await drive({ url: s.url, path, headers: headersFor(c.kind), pool, connections: rate ? RATE_CONN : CONN, duration: seconds, threads: THREADS, rate });
  await sleep(100); // requests in flight when the client stopped finish inside the window
  const after = await serverUsage(s.child);
  const machine1 = machineCpuMicros();
  const wall = (performance.now() - t0) * 1000;
  if (c.kind === 'bearer-unique') s.tokenOffset += r.taken;
  const run = {
    round,
    ...r,
    cpuPerReq: (after.cpu - before.cpu) / r.total,
    userPerReq: (after.user - before.user) / r.total,
    procCpuPerReq: after.procCpu === undefined ? undefined : (after.procCpu - before.procCpu) / r.total,
    clientCpuPerReq: r.clientCpu === undefined ? undefined : r.clientCpu / r.total,
    // Noise indicators: how often the server was preempted, and how many cores everything else (not the server,
    // not the load generator) kept busy during the window.
    preemptedPer1k: ((after.preempted - before.preempted) * 1000) / r.total,
    otherCores: machine0 && machine1 && r.clientCpu !== undefined ? (machine1.busy - machine0.busy - (after.cpu - before.cpu) - r.clientCpu) / wall : undefined,
    stealCores: machine0 && machine1 ? (machine1.steal - machine0.steal) / wall : undefined,
    rss: after.rss,
    poolSize: pool?.values.length,
    wrapped: pool ? pool.offset + r.taken > pool.values.length : false,
    rate: rate || undefined,
    // The server could not keep up with the fixed rate: its CPU figure is then a saturated one (see RATE).
    belowRate: rate ? r.total / seconds < rate * 0.95 : undefined,
  };
  delete run.clientCpu;
  bestRate[c.id] = Math.max(bestRate[c.id] ?? 0, r.rps);
  maxRate = Math.max(maxRate, r.rps);
  if (run.non2xx || run.errors || run.timeouts || run.wrapped) failures++;
  log(
    `${String(round).padEnd(7)} ${c.id.padEnd(19)} cpu/req=${run.cpuPerReq.toFixed(1).padStart(6)} µs` +
      ` (proc ${run.procCpuPerReq?.toFixed(0) ?? '?'}) req/s=${r.rps.toFixed(0).padStart(5)} p99=${r.p99.toFixed(1)} ms` +
      ` client=${run.clientCpuPerReq?.toFixed(0) ?? '?'} µs/req other=${run.otherCores?.toFixed(2) ?? '?'} cores non2xx=${r.non2xx} err=${r.errors + r.timeouts}` +
      (pool ? ` pool=${pool.offset + r.taken}/${pool.values.length}${run.wrapped ? ' WRAPPED' : ''}` : '') +
      (rate ? ` rate=${rate}${run.belowRate ? ' BELOW THE RATE' : ''}` : ''),
  );
  return run;
}

/** A V8 CPU profile of one case's server over DUR seconds after a warm-up (PROFILE=case-id). */
async function profileCase(c, file) {
  const s = { c, port: PORT + 9, tokenOffset: 0 };
  if (c.kind === 'bearer-unique') await ensureTokens(need(c.id, WARM + DUR));
  Object.assign(s, await startServer(c.server, { jwks, port: s.port, issuerOrigin: issuer.origin, redisUrl: c.redis ? REDIS_URL : undefined, env: Object.fromEntries(Object.entries(c.env ?? {}).filter(([, v]) => v !== undefined)) }));
  try {
    if (WARM > 0) await measure(c, s, 'warm-up', WARM);
    await ask(s.child, { cmd: 'profile-start' }, 'profiling');
    await measure(c, s, 'profile', DUR);
    await ask(s.child, { cmd: 'profile-stop', file }, 'profiled');
  } finally {
    await stopServer(s.child);
  }
}

/** One request must succeed before measuring; for DPoP, a replayed proof is also tried (and a dpop-library proof). */
async function sanityCheck(c, url, pool) {
  const get = (h) => fetch(url, { headers: h }).then(async (res) => ({ status: res.status, body: await res.text(), www: res.headers.get('www-authenticate') }));
  const expect200 = (r, what) => {
    if (r.status !== 200) throw new Error(`${c.id}: sanity ${what} → ${r.status} ${r.body} ${r.www ?? ''}`);
  };
  if (c.kind === 'public') expect200(await get({}), 'GET');
  const withUser = (r, what) => {
    expect200(r, what);
    if (!r.body.includes('auth0|bench-user')) throw new Error(`${c.id}: sanity ${what}: the handler did not get the claims: ${r.body}`);
  };
  if (c.kind === 'bearer') withUser(await get({ authorization: `Bearer ${bearerToken}` }), 'Bearer');
  if (c.kind === 'bearer-unique') withUser(await get({ authorization: `Bearer ${pool[0]}` }), 'Bearer');
  if (c.kind !== 'dpop') return { used: c.kind === 'bearer-unique' ? 1 : 0, note: '' };
  const first = { authorization: `DPoP ${boundToken}`, dpop: pool[0] };
  withUser(await get(first), 'DPoP');
  const replay = await get(first);
  // A proof made by the `dpop` library (WebCrypto) must be accepted too: the fixtures are not home-made only.
  const { subtle } = globalThis.crypto;
  const keyPair = {
    privateKey: await subtle.importKey('jwk', proofKey.privateKey.export({ format: 'jwk' }), { name: 'ECDSA', namedCurve: 'P-256' }, false, ['sign']),
    publicKey: await subtle.importKey('jwk', proofKey.jwk, { name: 'ECDSA', namedCurve: 'P-256' }, true, ['verify']),
  };
  expect200(await get({ authorization: `DPoP ${boundToken}`, dpop: await dpop.generateProof(keyPair, url, 'GET', undefined, boundToken) }), 'dpop-library proof');
  if (!c.server.includes('eojb') && replay.status === 200) throw new Error(`${c.id}: a replayed proof was accepted`);
  return { used: 1, note: `replayed proof → ${replay.status}` };
}

// --- memory ----------------------------------------------------------------------------------------------------------
/** RSS at start, after a run of every kind of request, and after a second run of the same length. */
async function memoryRuns(m) {
  const { child, url } = await startServer(m.server, { jwks, port: PORT + 9, issuerOrigin: issuer.origin, env: m.env ?? {} });
  const kinds = ['bearer', 'bearer-unique', 'dpop'];
  const each = Math.max(1, Math.round(MEM_DUR / kinds.length));
  const samples = [];
  const sample = async (label, extra = {}) => {
    const u = await serverUsage(child);
    samples.push({ label, rss: u.rss, heapUsed: u.heapUsed, external: u.external, ...extra });
  };
  let tokenOffset = 1;
  try {
    const tokenPool = await ensureTokens(Math.max(MIN_TOKENS, 2 * uniqueTokensFor(each)));
    const proofs = await freshProofs(4, url + pathFor('dpop'));
    for (const kind of kinds) await sanityCheck({ id: `memory ${m.id}`, server: m.server, kind }, url + pathFor(kind), kind === 'dpop' ? proofs.values : tokenPool.values);
    await sample('at start (after start-up and one request of each kind)');
    let requests = 0;
    let bad = 0;
    for (const runNo of [1, 2]) {
      for (const kind of kinds) {
        const pool = kind === 'bearer-unique' ? { ...tokenPool, offset: tokenOffset } : kind === 'dpop' ? await freshProofs(need(`ours-dpop`, each), url + pathFor('dpop')) : undefined;
        const r = await drive({ url, path: pathFor(kind), headers: headersFor(kind), pool, connections: CONN, duration: each, threads: THREADS });
        if (kind === 'bearer-unique') tokenOffset += r.taken;
        requests += r.total;
        bad += r.non2xx + r.errors + r.timeouts;
      }
      await sleep(500); // requests in flight finish
      await sample(`after run ${runNo} (${kinds.length} × ${each} s)`, { requests });
    }
    const s = await serverStats(child);
    const result = { id: m.id, label: m.label, server: m.server, seconds: each * kinds.length, samples, heapAfterGc: s.memory.heapUsed, bad };
    log(`memory ${m.id.padEnd(5)} RSS MB: ${samples.map((x) => (x.rss / 2 ** 20).toFixed(0)).join(' → ')}; heap after GC ${(s.memory.heapUsed / 2 ** 20).toFixed(1)} MB; ${requests} requests, non-2xx/errors ${bad}`);
    if (bad) failures++;
    return result;
  } finally {
    await stopServer(child);
  }
}

// --- run -------------------------------------------------------------------------------------------------------------
const estimate = cases.length * ROUNDS * (WARM + CYCLES * (REWARM + (RATE > 0 ? 2 : 1) * (SLICE + 0.6)) + 1) + (env.SKIP_MEMORY ? 0 : MEMORY_SERVERS.length * (2 * MEM_DUR + 8));
log(
  `${cases.length} cases × ${ROUNDS} rounds × (${WARM} s warm-up + ${CYCLES} interleaved slices of ${SLICE} s${RATE > 0 ? ` at ${RATE} req/s (CPU) and as many closed-loop (throughput)` : ''}), c=${CONN}, ${pinning ? `server core ${pinning.server}, client core ${pinning.client}` : 'unpinned'}, client ${CLIENT}${CLIENT === 'wrk' ? ` (${THREADS} thread)` : ''}; memory runs 2 × ${MEM_DUR} s for ${MEMORY_SERVERS.map((m) => m.id).join(', ')}${QUICK ? ' [BENCH_QUICK]' : ''}; about ${Math.ceil(estimate / 60)} min`,
);
if (loadAtStart[0] > machineCores / 2) log(`warning: load average ${loadAtStart[0].toFixed(2)} at start: other work shares the ${machineCores} cores, which inflates CPU per request (see "other cores" in the report)`);
if (CLIENT !== 'wrk')
  log(
    `${env.BENCH_CLIENT === 'autocannon' ? 'BENCH_CLIENT=autocannon' : 'wrk is not installed (Debian: apt-get install wrk)'}: autocannon drives the load from this process and takes more CPU from the server; CPU per request is still measured on the server`,
  );
for (let round = 0; round < ROUNDS; round++) {
  const f = measureFloors();
  floorRuns.push(f);
  log(`r${round} floors: RS256 verify ${f.rs256.toFixed(1)} µs, ES256 verify ${f.es256.toFixed(1)} µs (CPU per call, sync)`);
  await runRound(round);
}
if (env.PROFILE) {
  const c = CASES.find((x) => x.id === env.PROFILE);
  if (!c) throw new Error(`PROFILE: unknown case ${env.PROFILE}`);
  const file = join(rawDir, `profile-${c.id}.cpuprofile`);
  log(`profiling ${c.id} (V8 CPU profile of the measured ${DUR} s, in the server process)…`);
  await profileCase(c, file);
  const summary = summarizeProfile(JSON.parse(readFileSync(file, 'utf8')));
  writeFileSync(join(rawDir, `profile-${c.id}.txt`), summary);
  console.log(summary);
}

const memory = [];
if (!env.SKIP_MEMORY) for (const m of MEMORY_SERVERS) memory.push(await memoryRuns(m));
await issuer.close();

let micro;
if (env.MICRO) {
  log('micro-benchmark (bench/micro.mjs)…');
  const out = join(rawDir, 'micro.json');
  execFileSync(process.execPath, [join(here, 'micro.mjs'), '--json', out], { stdio: 'inherit', env: { ...env, MICRO_ROUNDS: env.MICRO_ROUNDS ?? '5', MICRO_MS: env.MICRO_MS ?? '200' } });
  micro = JSON.parse(readFileSync(out, 'utf8'));
}
let floods;
if (env.FLOODS) {
  log('floods (bench/memory.mjs)…');
  const out = join(rawDir, 'floods.json');
  const fixtures = join(rawDir, 'tokens.json');
  writeFileSync(fixtures, JSON.stringify({ issuer: ISSUER, kid: key.kid, pem: key.privateKey.export({ type: 'pkcs8', format: 'pem' }), tokens }));
  execFileSync(process.execPath, ['--expose-gc', join(here, 'memory.mjs'), '--json', out], { stdio: 'inherit', env: { ...env, MEM_SUSTAINED: '0', MEM_FIXTURES: fixtures } });
  rmSync(fixtures, { force: true });
  floods = JSON.parse(readFileSync(out, 'utf8')).floods;
}

// --- report ----------------------------------------------------------------------------------------------------------
const meta = {
  date: new Date().toISOString(),
  command: commandLine(),
  quick: QUICK,
  node: process.version,
  openssl: process.versions.openssl,
  cpus: `${os.cpus().length} × ${os.cpus()[0]?.model ?? '?'}`,
  cores: machineCores,
  pinning: pinning ? `server on core ${pinning.server}, load generator and this process on ${pinning.client}` : 'none',
  loadavg: os
    .loadavg()
    .map((x) => x.toFixed(2))
    .join(' '),
  loadavgStart: loadAtStart.map((x) => x.toFixed(2)).join(' '),
  rounds: ROUNDS,
  duration: DUR,
  slice: SLICE,
  cycles: CYCLES,
  warmup: WARM,
  connections: CONN,
  rate: RATE,
  rateConnections: RATE_CONN,
  client: CLIENT === 'wrk' ? `wrk ${wrkVersion()} (${THREADS} thread, Lua pool script)` : 'autocannon (in the benchmark process)',
  memDuration: MEM_DUR,
  memPeer: MEM_PEER,
  eojb: JSON.parse(readFileSync(new URL('../node_modules/express-oauth2-jwt-bearer/package.json', import.meta.url), 'utf8')).version,
  elapsed: Math.round((Date.now() - started) / 1000),
};
writeFileSync(join(rawDir, 'results.json'), JSON.stringify({ meta, cases, results, throughput, floors: floorRuns, memory, micro, floods }, null, 2));
const out = QUICK ? { dir: rawDir, name: 'quick' } : { dir: resultsDir, name: 'latest' };
const { markdown, targets } = writeReport({ ...out, meta, cases, results, throughput, floors: floorRuns, memory, micro, floods });
console.log(`\n${markdown}`);
console.log('Targets:');
for (const t of targets) console.log(`  ${t.pass === undefined ? 'n/a ' : t.pass ? 'PASS' : 'FAIL'}  ${t.what}: ${t.shown} (goal ${t.goal})`);
log(`wrote ${join(out.dir, out.name).replace(`${here}`, 'bench/')}.md and .svg (${meta.elapsed} s)`);
if (failures) {
  console.error(`${failures} run(s) had non-2xx responses, errors or a wrapped fixture pool: see the table`);
  process.exitCode = 1;
}

function commandLine() {
  const knobs = [
    'BENCH_QUICK',
    'ROUNDS',
    'SLICE',
    'CYCLES',
    'REWARM',
    'DUR',
    'PIN',
    'WARM',
    'RATE',
    'RATE_CONN',
    'CONN',
    'WRK_THREADS',
    'BENCH_CLIENT',
    'MEM_DUR',
    'MEM_PEER',
    'CASES',
    'REDIS',
    'CREATEAPP',
    'PLAIN',
    'VARIANT_DIST',
    'PROFILE',
    'MICRO',
    'FLOODS',
    'SKIP_MEMORY',
  ];
  const set = knobs.filter((k) => env[k] !== undefined).map((k) => `${k}=${env[k]}`);
  return [...set, 'npm run bench'].join(' ');
}

function wrkVersion() {
  try {
    execFileSync('wrk', ['--version'], { encoding: 'utf8', stdio: 'pipe' });
    return '';
  } catch (error) {
    return /wrk (\S+)/.exec(String(error.stdout))?.[1] ?? '';
  }
}
