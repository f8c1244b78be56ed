// `npm run bench`: the authentication-overhead benchmark of issue 6, in one command.
//
//  1. micro   bench/micro.mjs in its own process: core verify vs the raw node:crypto floor
//  2. HTTP    each case's server in its own forked process (bench/server.mjs), autocannon in this one, cases
//             interleaved over ROUNDS rounds; medians of req/s and p99; ratios to (a) and to the peer
//  3. memory  bench/memory.mjs: RSS under a sustained unique-token run, bounded caches under floods
//
// Writes bench/results/latest.md, bench/results/latest.svg and raw JSON under bench/results/raw/ (git-ignored).
//
// Environment knobs (defaults fit `npm run bench` in about 5 minutes on the 2-core machine):
//   ROUNDS=3 DUR=8 CONN=50      HTTP rounds, seconds per run, connections
//   CASES=id,id                 subset of HTTP cases (ids below); REDIS=1 adds ours-dpop-redis (REDIS_URL or
//                               redis://127.0.0.1:6379); PEER_PUBLIC=1 adds the peer app's public route (same
//                               app as (a)); PLAIN=1 adds a plain Express app (no tsoa) with ours vs the peer
//   STUB=1                      adds stub-bearer: the demo app with a no-op authentication (the ceiling of (b))
//   TOKENS=12000                initial unique-token pool (topped up between runs when a run gets close to it);
//                               kept for an hour in bench/results/raw/token-pool.json so that re-runs skip minting
//   PROOFS=10000                DPoP proofs minted (fresh) before each DPoP run (more when a run got close)
//   MICRO_ROUNDS=5 MICRO_MS=200 micro-benchmark sampling;  SKIP_MICRO=1 / SKIP_HTTP=1 / SKIP_MEMORY=1
//   MEM_DUR=20                  memory run seconds (the issue's 1-minute run: MEM_DUR=60)
//   PROFILE=case-id             also run that case once more under the V8 profiler; prints where the server's time goes
//   BENCH_PORT=38180            app port (the local issuer uses BENCH_PORT+1)
//   BENCH_DIST=path             servers load this compiled tree instead of build/dist/src
//   VARIANT_DIST=path           adds variant-* cases: the demo on that compiled tree, interleaved with the others
//                               (A/B of a change in one run; VARIANT_LABEL names it)
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import os from 'node:os';
import * as dpop from 'dpop';
import { makeProofKey, makeSigningKey, mintMany, mintToken, signingKeyFromPem } from './lib/fixtures.mjs';
import { ask, drive, startServer, stopServer } from './lib/load.mjs';
import { writeReport } from './lib/report.mjs';
import { summarizeProfile } from './lib/cpuprofile.mjs';

const env = process.env;
const ROUNDS = Number(env.ROUNDS ?? 3);
const DUR = Number(env.DUR ?? 8);
const CONN = Number(env.CONN ?? 50);
const PORT = Number(env.BENCH_PORT ?? 38180);
const REDIS_URL = env.REDIS_URL || 'redis://127.0.0.1:6379';
const here = new URL('.', import.meta.url).pathname;
const resultsDir = join(here, 'results');
const rawDir = join(resultsDir, 'raw');
mkdirSync(rawDir, { recursive: true });
const started = Date.now();
const log = (...a) => console.log(`[${((Date.now() - started) / 1000).toFixed(0).padStart(3)}s]`, ...a);

// --- 1. micro ----------------------------------------------------------------------------------------------------
let micro;
if (!env.SKIP_MICRO) {
  log('micro-benchmark (bench/micro.mjs)…');
  const out = join(rawDir, 'micro.json');
  execFileSync(process.execPath, [join(here, 'micro.mjs'), '--json', out], {
    stdio: 'inherit',
    env: { ...env, MICRO_ROUNDS: env.MICRO_ROUNDS ?? '5', MICRO_MS: env.MICRO_MS ?? '200' },
  });
  micro = JSON.parse(readFileSync(out, 'utf8'));
}

// --- 2. HTTP -------------------------------------------------------------------------------------------------------
const ISSUER = `http://127.0.0.1:${PORT + 1}/`;
const HTU = `http://127.0.0.1:${PORT}/api/private`;
// Unique access tokens: one pool for every run (each server process starts with an empty cache, so reusing the
// pool across runs is still "never seen before" for that server). A run that goes through the whole pool would
// start hitting our cache: that is detected ("wrapped") and the pool is topped up before the next run. RS256
// signing costs ~1 ms per token, so the pool (and its bench-only key) is kept on disk for an hour.
const POOL_FILE = join(rawDir, 'token-pool.json');
const TOKENS = Number(env.TOKENS ?? 12_000);
let tokens = [];
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

/** HTTP cases. `kind`: public | bearer (same token) | bearer-unique | dpop (unique proof per request). */
const ALL_CASES = [
  { id: 'public', label: '(a) unauthenticated /api/public (demo app)', server: 'demo', kind: 'public' },
  { id: 'ours-bearer', label: '(b) ours: Bearer, same token', server: 'demo', kind: 'bearer', peer: 'peer-bearer' },
  { id: 'ours-bearer-unique', label: '(b2) ours: Bearer, unique token per request', server: 'demo', kind: 'bearer-unique', peer: 'peer-bearer-unique' },
  { id: 'ours-dpop', label: '(c) ours: DPoP, unique proof, memory replay store', server: 'demo', kind: 'dpop', peer: 'peer-dpop' },
  { id: 'ours-dpop-redis', label: '(c2) ours: DPoP, unique proof, Redis replay store', server: 'demo', kind: 'dpop', redis: true, peer: 'peer-dpop', optional: 'REDIS' },
  { id: 'stub-bearer', label: '(s) same demo app, authentication that verifies nothing (tsoa @Security cost alone)', server: 'demo-stub', kind: 'bearer', optional: 'STUB' },
  { id: 'lib-bearer', label: 'ours, demo app built by createApp() (not startDemo): Bearer, same token', server: 'demo-lib', kind: 'bearer', peer: 'peer-bearer', optional: 'STUB' },
  { id: 'peer-public', label: '(d0) peer: same demo app, /api/public', server: 'demo-eojb', kind: 'public', optional: 'PEER_PUBLIC' },
  { id: 'peer-bearer', label: '(d) peer eojb in the same demo app: Bearer, same token', server: 'demo-eojb', kind: 'bearer' },
  { id: 'peer-bearer-unique', label: '(d2) peer eojb in the same demo app: Bearer, unique token', server: 'demo-eojb', kind: 'bearer-unique' },
  { id: 'peer-dpop', label: '(d3) peer eojb in the same demo app: DPoP, unique proof (it has no replay store)', server: 'demo-eojb', kind: 'dpop' },
  // A/B of a variant build of the library (VARIANT_DIST=path/to/dist/src, loaded by the same demo app).
  { id: 'variant-bearer', label: `variant ${env.VARIANT_LABEL ?? env.VARIANT_DIST ?? ''}: Bearer, same token`, server: 'demo', dist: env.VARIANT_DIST, kind: 'bearer', peer: 'peer-bearer', optional: 'VARIANT_DIST' },
  { id: 'variant-bearer-unique', label: `variant ${env.VARIANT_LABEL ?? env.VARIANT_DIST ?? ''}: Bearer, unique token`, server: 'demo', dist: env.VARIANT_DIST, kind: 'bearer-unique', peer: 'peer-bearer-unique', optional: 'VARIANT_DIST' },
  { id: 'variant-dpop', label: `variant ${env.VARIANT_LABEL ?? env.VARIANT_DIST ?? ''}: DPoP, unique proof, memory replay store`, server: 'demo', dist: env.VARIANT_DIST, kind: 'dpop', peer: 'peer-dpop', optional: 'VARIANT_DIST' },
  { id: 'plain-public', label: 'plain Express app (no tsoa): /api/public', server: 'plain', kind: 'public', optional: 'PLAIN' },
  { id: 'plain-bearer', label: 'plain Express app, ours requireAuth(): Bearer, same token', server: 'plain', kind: 'bearer', peer: 'plain-peer-bearer', optional: 'PLAIN' },
  { id: 'plain-peer-bearer', label: 'plain Express app, peer auth(): Bearer, same token', server: 'eojb', kind: 'bearer', optional: 'PLAIN' },
];
const selected = env.CASES ? env.CASES.split(',').map((s) => s.trim()) : undefined;
const cases = ALL_CASES.filter((c) => (selected ? selected.includes(c.id) : !c.optional || env[c.optional]));
if (selected && !cases.some((c) => c.id === 'public')) cases.unshift(ALL_CASES[0]);

async function ensureTokens(n) {
  if (tokens.length >= n) return;
  const t0 = Date.now();
  const added = await mintMany(n - tokens.length, { kind: 'token', key, issuer: ISSUER });
  tokens = tokens.concat(added);
  log(`minted ${added.length} unique RS256 tokens, pool ${tokens.length} (${((Date.now() - t0) / 1000).toFixed(1)} s)`);
  writeFileSync(POOL_FILE, JSON.stringify({ issuer: ISSUER, kid: key.kid, pem: key.privateKey.export({ type: 'pkcs8', format: 'pem' }), createdAt, tokens }));
}
// Pools must outlast a run: sized from the fastest rate seen so far in any case (the unauthenticated route runs
// first in every round and bounds the others), with 20 % headroom.
const bestRate = {};
let maxRate = 0;
const need = (id) => Math.ceil(Math.max(bestRate[id] ?? 0, maxRate) * DUR * 1.2) + CONN * 2;

const results = Object.fromEntries(cases.map((c) => [c.id, []]));
let failures = 0;

async function runCase(c, round, { profileFile } = {}) {
  // Fixtures for this run, made before the server starts so that minting never competes with it.
  let headers = {};
  let next;
  let pool;
  let used = 0;
  if (c.kind === 'bearer') headers = { authorization: `Bearer ${bearerToken}` };
  if (c.kind === 'bearer-unique') {
    await ensureTokens(Math.max(TOKENS, need(c.id)));
    pool = tokens;
  }
  if (c.kind === 'dpop') {
    // Proofs carry iat = now and are valid for 300 s: minted fresh for every run.
    pool = await mintMany(Math.max(Number(env.PROOFS ?? 10_000), need(c.id)), { kind: 'proof', proofKey, htm: 'GET', htu: HTU, accessToken: boundToken });
  }
  const path = c.kind === 'public' ? '/api/public' : '/api/private';
  const { child, url } = await startServer(c.server, {
    jwks,
    port: PORT,
    redisUrl: c.redis ? REDIS_URL : undefined,
    env: c.dist ? { BENCH_DIST: c.dist } : {},
  });
  try {
    const sanity = await sanityCheck(c, url + path, pool);
    if (pool) {
      used = sanity.used;
      next = c.kind === 'dpop'
        ? () => ({ authorization: `DPoP ${boundToken}`, dpop: pool[used++ % pool.length] })
        : () => ({ authorization: `Bearer ${pool[used++ % pool.length]}` });
    }
    if (profileFile) await ask(child, { cmd: 'profile-start' }, 'profiling');
    const r = await drive({ url, path, headers, next, connections: CONN, duration: DUR });
    if (profileFile) await ask(child, { cmd: 'profile-stop', file: profileFile }, 'profiled');
    r.round = round;
    r.poolSize = pool?.length;
    r.used = pool ? used : undefined;
    r.wrapped = pool ? used > pool.length : false;
    r.sanity = sanity.note;
    bestRate[c.id] = Math.max(bestRate[c.id] ?? 0, r.rps);
    maxRate = Math.max(maxRate, r.rps);
    const bad = r.non2xx || r.errors || r.timeouts;
    if (bad || r.wrapped) failures++;
    log(`r${round} ${c.id.padEnd(19)} req/s=${r.rps.toFixed(0).padStart(5)} p50=${r.p50} p99=${r.p99} non2xx=${r.non2xx} err=${r.errors}` +
      (pool ? ` pool=${used}/${pool.length}${r.wrapped ? ' WRAPPED' : ''}` : '') + (sanity.note ? ` (${sanity.note})` : ''));
    return r;
  } finally {
    await stopServer(child);
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
  if (c.kind !== 'dpop') return { used: 1, note: '' };
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

if (!env.SKIP_HTTP) {
  log(`HTTP: ${cases.length} cases × ${ROUNDS} rounds × ${DUR} s, c=${CONN}, server in a forked process, autocannon here`);
  await ensureTokens(TOKENS);
  for (let round = 0; round < ROUNDS; round++) {
    for (const c of cases) results[c.id].push(await runCase(c, round));
  }
  if (env.PROFILE) {
    const c = ALL_CASES.find((x) => x.id === env.PROFILE);
    if (!c) throw new Error(`PROFILE: unknown case ${env.PROFILE}`);
    const file = join(rawDir, `profile-${c.id}.cpuprofile`);
    log(`profiling ${c.id} (V8 CPU profile of the measured ${DUR} s, in the server process)…`);
    await runCase(c, 'profile', { profileFile: file });
    const summary = summarizeProfile(JSON.parse(readFileSync(file, 'utf8')));
    writeFileSync(join(rawDir, `profile-${c.id}.txt`), summary);
    console.log(summary);
  }
}

// --- 3. memory ---------------------------------------------------------------------------------------------------
let memory;
if (!env.SKIP_MEMORY) {
  log('memory (bench/memory.mjs)…');
  const out = join(rawDir, 'memory.json');
  const fixtures = join(rawDir, 'tokens.json');
  if (tokens.length) writeFileSync(fixtures, JSON.stringify({ issuer: ISSUER, kid: key.kid, pem: key.privateKey.export({ type: 'pkcs8', format: 'pem' }), tokens }));
  execFileSync(process.execPath, ['--expose-gc', join(here, 'memory.mjs'), '--json', out], {
    stdio: 'inherit',
    env: { ...env, MEM_DUR: env.MEM_DUR ?? '20', ...(tokens.length ? { MEM_FIXTURES: fixtures } : {}) },
  });
  rmSync(fixtures, { force: true });
  memory = JSON.parse(readFileSync(out, 'utf8'));
}

// --- report --------------------------------------------------------------------------------------------------------
const meta = {
  date: new Date().toISOString(),
  node: process.version,
  openssl: process.versions.openssl,
  cpus: `${os.cpus().length} × ${os.cpus()[0]?.model ?? '?'}`,
  loadavg: os.loadavg().map((x) => x.toFixed(2)).join(' '),
  rounds: ROUNDS,
  duration: DUR,
  connections: CONN,
  eojb: JSON.parse(readFileSync(new URL('../node_modules/express-oauth2-jwt-bearer/package.json', import.meta.url), 'utf8')).version,
  elapsed: Math.round((Date.now() - started) / 1000),
};
writeFileSync(join(rawDir, 'http.json'), JSON.stringify({ meta, cases: ALL_CASES.filter((c) => results[c.id]), results }, null, 2));
const { markdown } = writeReport({ dir: resultsDir, meta, cases: cases.filter((c) => results[c.id]?.length), results, micro, memory });
console.log(`\n${markdown}`);
log(`wrote bench/results/latest.md and latest.svg (${meta.elapsed} s)`);
if (failures) {
  console.error(`${failures} run(s) had non-2xx responses, errors or a wrapped fixture pool: see the table`);
  process.exitCode = 1;
}
