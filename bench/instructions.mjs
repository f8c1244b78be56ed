// Instructions per request, counted by valgrind's callgrind: the same count whatever else the machine is doing, so
// ratios that CPU time cannot settle on a VM whose speed drifts (see README "Performance") can be read here. The
// judge of the performance targets: `npm run bench:instructions`.
//
//   npm run bench:instructions               (REPEAT=3: every target case three times, medians, PASS/FAIL)
//   CASES=public,ours-bearer-unique REPEAT=1 node bench/instructions.mjs     (a subset while iterating)
//   APPS=ours,koa,hapi ...                    (only the apps named; a framework is one row of APPS below)
//   N=2000 OTHERS_ROUNDS=1 ...                (a shorter run: 2,000 counted requests; no-op and peer apps once)
//
// Each case's server runs under `valgrind --tool=callgrind --instr-atstart=no --smc-check=all-non-file`. Warm-up:
// WARM_RUNS runs of WARM_N requests, each run on new connections (five of 2,000: one run of 10,000 on the same
// connections left V8's optimizing compiler working inside the counted window, 38–75 k per request of it); then
// instrumentation is switched on with `callgrind_control -i on`, exactly N requests are sent (autocannon `amount`,
// 8 connections), the counts are dumped and it is switched off. Instructions of the whole server process, all
// threads, user space only: the kernel's share (syscalls, loopback TCP) is not counted — it is the same for every
// case of the same route and response. Authentication = a case minus the same app's /api/public.
//
// Floors: instructions of one synchronous `crypto.verify` of the very token (RS256) and proof (ES256) the cases send —
// the cost depends on the signed input's length — under callgrind: (2,000 calls − 1,000 calls) / 1,000, measured in
// the first round only (FLOOR_ROUNDS=n: in n rounds; floors vary by ±2 % between runs).
//
// REPEAT rounds, each round every case once (rounds interleave cases, so a slow drift cannot favour one case);
// medians per case, spread = (max − min) / median. Results and the commit measured: bench/results/instructions.md
// (a subset, CASES or APPS, goes to bench/results/raw/instructions-subset.md).
import { execFileSync } from 'node:child_process';
import { readFileSync, readdirSync, rmSync, mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import autocannon from 'autocannon';
import { startIssuer } from './lib/issuer.mjs';
import { makeProofKey, makeSigningKey, mintMany, mintToken, mintProof } from './lib/fixtures.mjs';
import { startServer, stopServer } from './lib/load.mjs';

const N = Number(process.env.N ?? 6000);
const WARM_N = Number(process.env.WARM_N ?? 2000);
const WARM_RUNS = Number(process.env.WARM_RUNS ?? 5);
const REPEAT = Number(process.env.REPEAT ?? 3);
const PORT = Number(process.env.BENCH_PORT ?? 38280);
const here = new URL('.', import.meta.url).pathname;
const work = join(here, 'results', 'raw', 'callgrind');
rmSync(work, { recursive: true, force: true });
mkdirSync(work, { recursive: true });
const log = (...a) => console.log(new Date().toISOString().slice(11, 19), ...a);

try {
  execFileSync('valgrind', ['--version'], { stdio: 'ignore' });
} catch {
  console.error('bench/instructions.mjs needs valgrind (Debian: apt-get install valgrind)');
  process.exit(1);
}

/**
 * The servers measured, one row per app: `mode` is bench/server.mjs's mode, `kinds` the requests sent to it. A
 * framework adapter (Koa, hapi) is one more row with `sameAs: 'ours'`: its authentication is then compared with
 * ours on Express (target: within 10 %). Rows with `optional: true` run only when APPS names them.
 */
const APPS = [
  { id: 'ours', label: 'ours (demo, Express)', mode: 'demo', kinds: ['public', 'bearer', 'bearer-unique', 'dpop'], noop: 'noop', peer: 'peer' },
  { id: 'noop', label: 'no-op authenticator in the same tsoa app', mode: 'demo-stub', kinds: ['public', 'bearer'] },
  { id: 'peer', label: 'peer (express-oauth2-jwt-bearer in the demo app)', mode: 'demo-eojb', kinds: ['public', 'bearer', 'dpop'], extraKinds: ['bearer-unique'] },
  { id: 'koa', label: 'ours (demo, Koa)', mode: 'demo-koa', kinds: ['public', 'bearer', 'bearer-unique', 'dpop'], sameAs: 'ours', optional: true },
  { id: 'hapi', label: 'ours (demo, hapi)', mode: 'demo-hapi', kinds: ['public', 'bearer', 'bearer-unique', 'dpop'], sameAs: 'ours', optional: true },
  // VARIANT_DIST=<another compiled tree, e.g. a copy of build/dist/src from before a change>: our cases on it.
  ...(process.env.VARIANT_DIST
    ? [{ id: 'variant', label: `variant ${process.env.VARIANT_DIST}`, mode: 'demo', env: { BENCH_DIST: process.env.VARIANT_DIST }, kinds: ['public', 'bearer', 'bearer-unique', 'dpop'], noop: 'noop', peer: 'peer' }]
    : []),
];
const KIND_LABEL = { public: '/api/public', bearer: 'Bearer, one reused token', 'bearer-unique': 'Bearer, a new token per request', dpop: 'DPoP, a new proof per request (token reused)' };
const FLOOR_OF = { 'bearer-unique': 'rs256', dpop: 'es256' };
const caseId = (app, kind) => (kind === 'public' ? `${app}-public` : `${app}-${kind}`);
const appsWanted = process.env.APPS?.split(',');
const ALL_CASES = APPS.filter((a) => (appsWanted ? appsWanted.includes(a.id) : !a.optional)).flatMap((app) =>
  [...app.kinds, ...(process.env.EXTRA ? (app.extraKinds ?? []) : [])].map((kind) => ({ id: caseId(app.id, kind), app, kind, label: `${app.label}: ${KIND_LABEL[kind]}` })),
);
// Old names kept working: "public" is ours' /api/public.
const wanted = process.env.CASES?.split(',').map((c) => (c === 'public' ? 'ours-public' : c));
const CASES = ALL_CASES.filter((c) => !wanted || wanted.includes(c.id));
const subset = Boolean(process.env.CASES || process.env.APPS);

/** The targets (medians): what each compares, and its bound. */
const TARGETS = [
  { name: 'Bearer new token ≤ 1.4× the RS256 floor', value: (m) => m.auth('ours-bearer-unique') / m.floors.rs256, max: 1.4, unit: '×' },
  { name: 'DPoP new proof ≤ 1.2× the ES256 floor', value: (m) => m.auth('ours-dpop') / m.floors.es256, max: 1.2, unit: '×' },
  { name: 'DPoP new proof ≤ 0.4× the peer', value: (m) => m.auth('ours-dpop') / m.auth('peer-dpop'), max: 0.4, unit: '×' },
  { name: 'Bearer reused ≤ 0.15× the peer', value: (m) => m.auth('ours-bearer') / m.auth('peer-bearer'), max: 0.15, unit: '×' },
  { name: 'Bearer reused ≤ 30 k beyond the no-op authenticator', value: (m) => (m.auth('ours-bearer') - m.auth('noop-bearer')) / 1000, max: 30, unit: ' k' },
  ...APPS.filter((a) => a.sameAs && (appsWanted ? appsWanted.includes(a.id) : !a.optional)).flatMap((a) =>
    ['bearer', 'bearer-unique', 'dpop'].map((kind) => ({
      name: `${a.label}: ${KIND_LABEL[kind]} within 10 % of ${a.sameAs} on Express`,
      value: (m) => m.auth(caseId(a.id, kind)) / m.auth(caseId(a.sameAs, kind)),
      max: 1.1,
      unit: '×',
    })),
  ),
];

/** The checked-out commit (and "+ changes" when the tree differs from it), for the results' header. */
function commitOf() {
  try {
    const head = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--untracked-files=no', 'src'], { encoding: 'utf8' }).trim();
    return dirty ? `${head} + changes in src/` : head;
  } catch {
    return 'unknown';
  }
}

/** Total Ir of the callgrind dumps whose file names start with `prefix` (one case's server). */
function dumpedInstructions(prefix) {
  const files = readdirSync(work)
    .filter((f) => f.startsWith(prefix))
    .sort();
  let total = 0;
  for (const f of files) {
    const m = /^(?:summary|totals): (\d+)/m.exec(readFileSync(join(work, f), 'utf8'));
    if (m) total += Number(m[1]);
  }
  return total;
}

/** One autocannon run: `amount` requests on 8 new connections. */
async function send(url, headersFor, amount) {
  let i = 0;
  const result = await autocannon({
    url,
    connections: 8,
    amount,
    timeout: 60,
    requests: [{ method: 'GET', setupRequest: (req) => ({ ...req, headers: { ...req.headers, ...headersFor(i++) } }) }],
  });
  const bad = result.non2xx + result.errors + result.timeouts;
  if (bad) throw new Error(`${url}: ${bad} of ${amount} requests failed (statuses ${JSON.stringify(result.statusCodeStats)}, ${result.errors} errors, ${result.timeouts} timeouts)`);
  return result.requests.total;
}

// callgrind_control finds the server through vgdb files named after HOST and USER: the same values as the server's
// (otherwise it prints "OK" and does nothing).
const controlEnv = { ...process.env, HOST: process.env.HOST ?? os.hostname(), USER: process.env.USER ?? os.userInfo().username };
const serverEnv = { HOST: controlEnv.HOST, USER: controlEnv.USER };

const key = makeSigningKey('instr-rs256');
const jwks = { keys: [key.publicJwk] };
const issuer = await startIssuer({ port: PORT + 1, jwks });
const proofKey = makeProofKey();
const token = mintToken(key, issuer.issuer);
const bound = mintToken(key, issuer.issuer, { cnf: { jkt: proofKey.jkt } });

async function measure(c, round) {
  const prefix = `${c.id}.r${round}.out`;
  const { child, url } = await startServer(c.app.mode, {
    jwks,
    port: PORT,
    issuerOrigin: issuer.origin,
    wrapper: { command: 'nice', args: ['-n', '19', 'valgrind', '--tool=callgrind', '--instr-atstart=no', '--smc-check=all-non-file', `--callgrind-out-file=${join(work, prefix)}`, '--quiet'] },
    startTimeoutMs: 300_000,
    env: { ...serverEnv, ...(c.app.env ?? {}) },
  });
  try {
    const path = c.kind === 'public' ? '/api/public' : '/api/private';
    const total = WARM_N * WARM_RUNS + N;
    let values = [];
    if (c.kind === 'bearer-unique') values = await mintMany(total, { kind: 'token', key, issuer: issuer.issuer, claims: { sub: 'auth0|bench-user' } });
    // Proofs are minted just before each run that sends them: under valgrind on a busy machine the warm-up can outlast
    // a proof's iat window.
    const proofsFor = async (from, amount) => {
      if (c.kind !== 'dpop') return;
      const fresh = await mintMany(amount, { kind: 'proof', proofKey, htm: 'GET', htu: url + path, accessToken: bound });
      for (let i = 0; i < amount; i++) values[from + i] = fresh[i];
    };
    const headersFor = (i) =>
      c.kind === 'public' ? {} : c.kind === 'bearer' ? { authorization: `Bearer ${token}` } : c.kind === 'bearer-unique' ? { authorization: `Bearer ${values[i]}` } : { authorization: `DPoP ${bound}`, dpop: values[i] };
    let offset = 0;
    const at = (base) => (i) => headersFor(base + i);
    for (let r = 0; r < WARM_RUNS; r++) {
      await proofsFor(offset, WARM_N);
      await send(url + path, at(offset), WARM_N);
      offset += WARM_N;
    }
    // Commands reach valgrind asynchronously: give "on" a moment (an idle event loop counts next to nothing), and dump
    // before switching off.
    await proofsFor(offset, N);
    execFileSync('callgrind_control', ['-i', 'on', String(child.pid)], { stdio: 'ignore', env: controlEnv });
    await new Promise((r) => setTimeout(r, 1000));
    await send(url + path, at(offset), N);
    execFileSync('callgrind_control', ['-d', String(child.pid)], { stdio: 'ignore', env: controlEnv });
    await new Promise((r) => setTimeout(r, 1000));
    const ir = dumpedInstructions(prefix);
    if (ir === 0) throw new Error(`${c.id}: nothing dumped (callgrind_control could not reach the server)`);
    log(`${c.id.padEnd(24)} round ${round + 1}: ${(ir / N / 1000).toFixed(1).padStart(8)} k instructions per request`);
    return ir / N;
  } finally {
    await stopServer(child);
  }
}

/**
 * Instructions of one sync verify of `jws` with `publicKey` under callgrind: (2,000 calls − 1,000 calls) / 1,000,
 * each in a fresh node.
 */
function floorInstructions(alg, jws, publicKey) {
  const dot = jws.lastIndexOf('.');
  const script = (n) => `
    const crypto = require('node:crypto');
    const publicKey = crypto.createPublicKey({ key: JSON.parse(process.env.FLOOR_KEY), format: 'jwk' });
    const jws = process.env.FLOOR_JWS;
    const data = Buffer.from(jws.slice(0, ${dot}), 'latin1');
    const sig = Buffer.from(jws.slice(${dot + 1}), 'base64url');
    const dsa = ${alg === 'es256' ? "{ dsaEncoding: 'ieee-p1363' }" : '{}'};
    for (let i = 0; i < ${n}; i++) if (!crypto.verify('sha256', data, { key: publicKey, ...dsa }, sig)) throw new Error('no');`;
  const count = (n) => {
    const file = join(work, `floor-${alg}-${n}.out`);
    execFileSync('nice', ['-n', '19', 'valgrind', '--tool=callgrind', '--smc-check=all-non-file', `--callgrind-out-file=${file}`, '--quiet', process.execPath, '-e', script(n)], {
      stdio: 'ignore',
      env: { ...process.env, FLOOR_KEY: JSON.stringify(publicKey), FLOOR_JWS: jws },
    });
    return Number(/^(?:summary|totals): (\d+)/m.exec(readFileSync(file, 'utf8'))[1]);
  };
  return (count(2000) - count(1000)) / 1000;
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const spread = (xs) => (xs.length > 1 ? (Math.max(...xs) - Math.min(...xs)) / median(xs) : 0);

const started = Date.now();
const sampleProof = mintProof(proofKey, 'GET', `http://127.0.0.1:${PORT}/api/private`, bound);
const floorRuns = { rs256: [], es256: [] };
const runs = Object.fromEntries(CASES.map((c) => [c.id, []]));
const FLOOR_ROUNDS = Number(process.env.FLOOR_ROUNDS ?? 1);
// OTHERS_ROUNDS=n: the no-op and peer apps (whose code this project does not change) in the first n rounds only.
const OTHERS_ROUNDS = Number(process.env.OTHERS_ROUNDS ?? REPEAT);
for (let round = 0; round < REPEAT; round++) {
  if (round < FLOOR_ROUNDS) {
    floorRuns.rs256.push(floorInstructions('rs256', token, key.publicJwk));
    floorRuns.es256.push(floorInstructions('es256', sampleProof, proofKey.jwk));
    log(`round ${round + 1} floors: RS256 verify ${(floorRuns.rs256.at(-1) / 1000).toFixed(1)} k, ES256 verify ${(floorRuns.es256.at(-1) / 1000).toFixed(1)} k`);
  }
  for (const c of CASES) {
    if (round >= OTHERS_ROUNDS && c.app.id !== 'ours') continue;
    runs[c.id].push(await measure(c, round));
    report(false);
  }
}
await issuer.close();

/** Writes the results so far (after every case, so that a run stopped early leaves its figures). */
function report(final) {
  const ir = Object.fromEntries(
    Object.entries(runs)
      .filter(([, xs]) => xs.length > 0)
      .map(([id, xs]) => [id, median(xs)]),
  );
  const floors = { rs256: median(floorRuns.rs256), es256: median(floorRuns.es256) };
  const byId = Object.fromEntries(CASES.map((c) => [c.id, c]));
  const baseOf = (c) => caseId(c.app.id, 'public');
  /** Authentication of a case: its median minus its app's /api/public median (NaN when either was not run). */
  const auth = (id) => (byId[id] && ir[baseOf(byId[id])] !== undefined && byId[id].kind !== 'public' ? ir[id] - ir[baseOf(byId[id])] : NaN);
  const k = (x) => (Number.isFinite(x) ? (x / 1000).toFixed(1) : '–');
  const pct = (x) => `±${((x * 100) / 2).toFixed(1)} %`;
  const rows = CASES.map((c) => {
    const a = auth(c.id);
    const peer = c.app.peer ? auth(caseId(c.app.peer, c.kind)) : NaN;
    const noop = c.app.noop ? auth(caseId(c.app.noop, c.kind)) : NaN;
    const floor = FLOOR_OF[c.kind];
    return `| ${c.label} | ${k(ir[c.id])} | ${runs[c.id].map(k).join(' / ')} (${pct(spread(runs[c.id]))}) | ${k(a)} | ${Number.isFinite(noop) ? k(a - noop) : '–'} | ${Number.isFinite(peer) ? `${(a / peer).toFixed(2)}×` : '–'} | ${floor && Number.isFinite(a) ? `${(a / floors[floor]).toFixed(2)}× ${floor.toUpperCase()}` : '–'} |`;
  });
  const m = { auth, floors };
  const targetRows = TARGETS.map((t) => {
    const v = t.value(m);
    const verdict = Number.isFinite(v) ? (v <= t.max ? 'PASS' : 'FAIL') : 'not run';
    return {
      line: `| ${t.name} | ${Number.isFinite(v) ? `${v.toFixed(t.unit === '×' ? 2 : 1)}${t.unit}` : '–'} | ${verdict} |`,
      console: `${verdict.padEnd(7)} ${t.name}: ${Number.isFinite(v) ? v.toFixed(t.unit === '×' ? 2 : 1) + t.unit : '–'}`,
    };
  });
  const md = [
    '# Instructions per request — `npm run bench:instructions`',
    '',
    ...(final ? [] : ['**Partial: the run is still going (or was stopped); rounds so far.**', '']),
    `- date: ${new Date().toISOString()}; code: commit ${commitOf()}; node ${process.version}, OpenSSL ${process.versions.openssl}; ${((Date.now() - started) / 1000).toFixed(0)} s`,
    `- valgrind callgrind (--smc-check=all-non-file), user-space instructions of the whole server process; warm-up ${WARM_RUNS} runs of ${WARM_N} requests on new connections, then ${N} counted (autocannon, 8 connections); ${Math.max(...Object.values(runs).map((xs) => xs.length))} of ${REPEAT} round(s)${OTHERS_ROUNDS < REPEAT ? ` (no-op and peer apps: ${OTHERS_ROUNDS})` : ''}, medians; spread = (max − min) / 2 around the median. A major GC or a late JIT compile that falls inside one window is counted in that case (callgrind_annotate on bench/results/raw/callgrind/*.out.1 shows it)`,
    `- floors (one sync \`crypto.verify\` of the token / proof the cases send): RS256 (RSA-2048) **${k(floors.rs256)} k** (${floorRuns.rs256.map(k).join(' / ')}), ES256 (P-256) **${k(floors.es256)} k** (${floorRuns.es256.map(k).join(' / ')})`,
    '',
    '| target (medians) | measured | verdict |',
    '|---|---:|---|',
    ...targetRows.map((r) => r.line),
    '',
    '| case | k instructions / request (median) | runs | authentication (− same app’s /api/public) | beyond no-op | vs peer | vs floor |',
    '|---|---:|---:|---:|---:|---:|---:|',
    ...rows,
    '',
  ];
  writeFileSync(subset ? join(here, 'results', 'raw', 'instructions-subset.md') : join(here, 'results', 'instructions.md'), md.join('\n'));
  if (final) {
    console.log(md.join('\n'));
    for (const r of targetRows) console.log(r.console);
  }
}
report(true);
