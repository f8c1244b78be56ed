// Instructions per request, counted by valgrind's callgrind: the same count whatever else the machine is doing, so
// ratios that CPU time cannot settle on a VM whose speed drifts (see README "Performance") can be read here.
//
//   node bench/instructions.mjs          (about 20 minutes; N=6000 WARM_N=10000 per case)
//
// Each case's server runs under `valgrind --tool=callgrind --instr-atstart=no`; after WARM_N requests (the JIT
// settles: V8 tiers up by invocation counts, not by time — with 4,000 warm-up requests Node's own http functions were
// still deoptimized and recompiled between requests 5,000 and 10,000 (--trace-deopt), and one case counted 1,057 k
// per request over 1,500 requests against 849–880 k over 6,000 after 10,000), instrumentation is switched on with `callgrind_control -i on`,
// exactly N requests are sent (autocannon `amount`, 8 connections), it is switched off and the counts dumped.
// Instructions of the whole server process, all threads, user space only: the kernel's share (syscalls, loopback
// TCP) is not counted — it is the same for every case of the same route and response. Authentication = a case minus
// the same app's /api/public; floors = instructions of one sync RS256 / ES256 `crypto.verify` under callgrind
// (the difference between 4,000 and 2,000 calls, over 2,000). Results: bench/results/instructions.md.
import { execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import { readFileSync, readdirSync, rmSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import autocannon from 'autocannon';
import { startIssuer } from './lib/issuer.mjs';
import { AUDIENCE, makeProofKey, makeSigningKey, mintMany, mintToken } from './lib/fixtures.mjs';
import { startServer, stopServer } from './lib/load.mjs';

const N = Number(process.env.N ?? 6000);
const WARM_N = Number(process.env.WARM_N ?? 10000);
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

const key = makeSigningKey('instr-rs256');
const jwks = { keys: [key.publicJwk] };
const issuer = await startIssuer({ port: PORT + 1, jwks });
const proofKey = makeProofKey();
const token = mintToken(key, issuer.issuer);
const bound = mintToken(key, issuer.issuer, { cnf: { jkt: proofKey.jkt } });

const CASES = [
  { id: 'public', label: 'ours (demo): /api/public', mode: 'demo', kind: 'public' },
  { id: 'ours-bearer', label: 'ours: Bearer, one reused token', mode: 'demo', kind: 'bearer', base: 'public', noop: 'noop-bearer', peer: 'peer-bearer' },
  { id: 'ours-bearer-unique', label: 'ours: Bearer, a new token per request', mode: 'demo', kind: 'bearer-unique', base: 'public', peer: 'peer-bearer-unique', floor: 'rs256' },
  { id: 'ours-dpop', label: 'ours: DPoP, a new proof per request', mode: 'demo', kind: 'dpop', base: 'public', peer: 'peer-dpop', floor: 'es256' },
  { id: 'noop-public', label: 'no-op authenticator app: /api/public', mode: 'demo-stub', kind: 'public' },
  { id: 'noop-bearer', label: 'no-op authenticator in the same tsoa app', mode: 'demo-stub', kind: 'bearer', base: 'noop-public' },
  { id: 'peer-public', label: 'peer (express-oauth2-jwt-bearer in the demo app): /api/public', mode: 'demo-eojb', kind: 'public' },
  { id: 'peer-bearer', label: 'peer: Bearer, one reused token', mode: 'demo-eojb', kind: 'bearer', base: 'peer-public' },
  { id: 'peer-bearer-unique', label: 'peer: Bearer, a new token per request', mode: 'demo-eojb', kind: 'bearer-unique', base: 'peer-public', floor: 'rs256' },
  { id: 'peer-dpop', label: 'peer: DPoP, a new proof per request', mode: 'demo-eojb', kind: 'dpop', base: 'peer-public', floor: 'es256' },
  // VARIANT_DIST=<another compiled tree, e.g. a copy of build/dist/src from before a change>: the same cases on it.
  ...(process.env.VARIANT_DIST
    ? [
        { id: 'variant-public', label: `variant ${process.env.VARIANT_DIST}: /api/public`, mode: 'demo', env: { BENCH_DIST: process.env.VARIANT_DIST }, kind: 'public' },
        { id: 'variant-bearer', label: 'variant: Bearer, one reused token', mode: 'demo', env: { BENCH_DIST: process.env.VARIANT_DIST }, kind: 'bearer', base: 'variant-public', noop: 'noop-bearer', peer: 'peer-bearer' },
        { id: 'variant-bearer-unique', label: 'variant: Bearer, a new token per request', mode: 'demo', env: { BENCH_DIST: process.env.VARIANT_DIST }, kind: 'bearer-unique', base: 'variant-public', peer: 'peer-bearer-unique', floor: 'rs256' },
        { id: 'variant-dpop', label: 'variant: DPoP, a new proof per request', mode: 'demo', env: { BENCH_DIST: process.env.VARIANT_DIST }, kind: 'dpop', base: 'variant-public', peer: 'peer-dpop', floor: 'es256' },
      ]
    : []),
].filter((c) => !process.env.CASES || process.env.CASES.split(',').includes(c.id));

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
  const files = readdirSync(work).filter((f) => f.startsWith(prefix)).sort();
  let total = 0;
  for (const f of files) {
    const m = /^(?:summary|totals): (\d+)/m.exec(readFileSync(join(work, f), 'utf8'));
    if (m) total += Number(m[1]);
  }
  return total;
}

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
  if (bad) throw new Error(`${url}: ${bad} of ${amount} requests failed`);
  return result.requests.total;
}

async function measure(c) {
  const prefix = `${c.id}.out`;
  const { child, url } = await startServer(c.mode, {
    jwks,
    port: PORT,
    issuerOrigin: issuer.origin,
    wrapper: { command: 'valgrind', args: ['--tool=callgrind', '--instr-atstart=no', `--callgrind-out-file=${join(work, prefix)}`, '--quiet'] },
    startTimeoutMs: 180_000,
    ...(c.env ? { env: c.env } : {}),
  });
  try {
    const path = c.kind === 'public' ? '/api/public' : '/api/private';
    const total = WARM_N + N;
    let values = [];
    if (c.kind === 'bearer-unique') values = await mintMany(total, { kind: 'token', key, issuer: issuer.issuer, claims: { sub: 'auth0|bench-user' } });
    if (c.kind === 'dpop') values = await mintMany(total, { kind: 'proof', proofKey, htm: 'GET', htu: url + path, accessToken: bound });
    const headersFor = (i) =>
      c.kind === 'public' ? {} : c.kind === 'bearer' ? { authorization: `Bearer ${token}` } : c.kind === 'bearer-unique' ? { authorization: `Bearer ${values[i]}` } : { authorization: `DPoP ${bound}`, dpop: values[i] };
    let offset = 0;
    const at = (base) => (i) => headersFor(base + i);
    await send(url + path, at(offset), WARM_N);
    offset += WARM_N;
    // Commands reach valgrind asynchronously: give "on" a moment (an idle event loop counts next to nothing), and dump
    // before switching off.
    execFileSync('callgrind_control', ['-i', 'on', String(child.pid)], { stdio: 'ignore' });
    await new Promise((r) => setTimeout(r, 1000));
    await send(url + path, at(offset), N);
    execFileSync('callgrind_control', ['-d', String(child.pid)], { stdio: 'ignore' });
    await new Promise((r) => setTimeout(r, 1000));
    const ir = dumpedInstructions(prefix);
    log(`${c.id.padEnd(20)} ${(ir / N / 1000).toFixed(1).padStart(8)} k instructions per request`);
    return ir / N;
  } finally {
    await stopServer(child);
  }
}

/**
 * Instructions of one sync verify under callgrind: (4,000 calls − 2,000 calls) / 2,000, each in a fresh node, with the
 * key made here (key generation would differ between the two processes).
 */
function floorInstructions(alg) {
  const pair = alg === 'rs256' ? crypto.generateKeyPairSync('rsa', { modulusLength: 2048 }) : crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const pem = pair.privateKey.export({ type: 'pkcs8', format: 'pem' });
  const script = (n) => `
    const crypto = require('node:crypto');
    const privateKey = crypto.createPrivateKey(process.env.FLOOR_KEY);
    const publicKey = crypto.createPublicKey(privateKey);
    const data = Buffer.alloc(700, 1);
    const dsa = ${alg === 'es256' ? "{ dsaEncoding: 'ieee-p1363' }" : '{}'};
    const sig = crypto.sign('sha256', data, { key: privateKey, ...dsa });
    for (let i = 0; i < ${n}; i++) if (!crypto.verify('sha256', data, { key: publicKey, ...dsa }, sig)) throw new Error('no');`;
  const count = (n) => {
    const file = join(work, `floor-${alg}-${n}.out`);
    execFileSync('valgrind', ['--tool=callgrind', `--callgrind-out-file=${file}`, '--quiet', process.execPath, '-e', script(n)], { stdio: 'ignore', env: { ...process.env, FLOOR_KEY: pem } });
    return Number(/^(?:summary|totals): (\d+)/m.exec(readFileSync(file, 'utf8'))[1]);
  };
  return (count(4000) - count(2000)) / 2000;
}

const started = Date.now();
const floors = { rs256: floorInstructions('rs256'), es256: floorInstructions('es256') };
log(`floors: RS256 verify ${(floors.rs256 / 1000).toFixed(1)} k, ES256 verify ${(floors.es256 / 1000).toFixed(1)} k instructions`);
const ir = {};
for (const c of CASES) ir[c.id] = await measure(c);
await issuer.close();

const k = (x) => (Number.isFinite(x) ? (x / 1000).toFixed(1) : '–');
const auth = (c) => (c.base && ir[c.base] !== undefined ? ir[c.id] - ir[c.base] : NaN);
const byId = Object.fromEntries(CASES.map((c) => [c.id, c]));
const rows = CASES.map((c) => {
  const a = auth(c);
  const peer = c.peer && byId[c.peer] ? auth(byId[c.peer]) : NaN;
  const noop = c.noop && byId[c.noop] ? auth(byId[c.noop]) : NaN;
  return `| ${c.label} | ${k(ir[c.id])} | ${k(a)} | ${Number.isFinite(noop) ? k(a - noop) : '–'} | ${Number.isFinite(peer) ? `${(a / peer).toFixed(2)}×` : '–'} | ${c.floor ? `${(a / floors[c.floor]).toFixed(2)}× ${c.floor.toUpperCase()}` : '–'} |`;
});
const md = [
  '# Instructions per request — `node bench/instructions.mjs`',
  '',
  `- date: ${new Date().toISOString()}; code: commit ${commitOf()}; node ${process.version}, OpenSSL ${process.versions.openssl}; ${((Date.now() - started) / 1000).toFixed(0)} s`,
  `- valgrind callgrind, user-space instructions of the whole server process; ${WARM_N} warm-up requests, then ${N} counted (autocannon, 8 connections); one run. Read differences of tens of k with care: a major GC or a late JIT compile that falls inside one case's window is counted in that case (callgrind_annotate on bench/results/raw/callgrind/*.out.1 shows it)`,
  `- floors: RS256 (RSA-2048) verify **${k(floors.rs256)} k**, ES256 (P-256) verify **${k(floors.es256)} k** instructions`,
  '',
  '| case | k instructions / request | authentication (− same app’s /api/public) | beyond no-op | vs peer | vs floor |',
  '|---|---:|---:|---:|---:|---:|',
  ...rows,
  '',
];
// A subset (CASES) is a check, not the results: it goes to raw/ so that the committed table stays whole.
writeFileSync(process.env.CASES ? join(here, 'results', 'raw', 'instructions-subset.md') : join(here, 'results', 'instructions.md'), md.join('\n'));
console.log(md.join('\n'));
