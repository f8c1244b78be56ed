// Soak: bounded load on loopback against the real demo while the identity provider flaps.
//
//   node --expose-gc bench/soak.mjs        env: SOAK_SECONDS (45, total), SOAK_CONN (20), SOAK_FLAP_MS (3000)
//
// Not part of `npm test`. Builds if needed (scripts/build.mjs), then, in this process:
//   - two local identity providers (discovery + JWKS, plain node:http, below) that flap: every SOAK_FLAP_MS they
//     switch between healthy and a fault (503, connection reset, HTML body, in turn);
//   - demo A (AUTH0_DOMAIN = provider A, warmed up before the load) and demo B (provider B, started while B is down:
//     a cold start during an outage);
//   - autocannon, three phases of SOAK_SECONDS/3: valid traffic on A, invalid traffic on A, mixed traffic on A and B.
// Every request is tagged with its kind; each kind has the statuses it may get (e.g. a valid token: 200, or 503 while
// no key is usable). Reported: counts per status and per kind, anything unexpected, errors/timeouts, provider
// fetches, events, RSS/heap before and after (after a forced GC with --expose-gc). Exit code 1 on any violation.
import { execFileSync } from 'node:child_process';
import { createServer } from 'node:http';
import crypto from 'node:crypto';
import autocannon from 'autocannon';

const root = new URL('..', import.meta.url);
execFileSync(process.execPath, [new URL('scripts/build.mjs', root).pathname], { stdio: 'inherit' });
const { startDemo } = await import(new URL('build/dist/src/demo/server.js', root).href);

const TOTAL_SECONDS = Number(process.env.SOAK_SECONDS ?? 45);
const CONNECTIONS = Number(process.env.SOAK_CONN ?? 20);
const FLAP_MS = Number(process.env.SOAK_FLAP_MS ?? 3000);
const PHASE_SECONDS = Math.max(3, Math.round(TOTAL_SECONDS / 3));
const AUDIENCE = 'https://api.example.com';

// --- tokens (node:crypto only: synchronous, so proofs can be made per request inside autocannon) ----------------

const b64u = (value) => Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');
const now = () => Math.floor(Date.now() / 1000);

function sign(header, payload, key, { ec = false } = {}) {
  const input = `${b64u(header)}.${b64u(payload)}`;
  const signature = crypto.sign('sha256', Buffer.from(input), ec ? { key, dsaEncoding: 'ieee-p1363' } : key);
  return `${input}.${signature.toString('base64url')}`;
}

function makeProvider(name) {
  const { privateKey, publicKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
  const jwk = { ...publicKey.export({ format: 'jwk' }), kid: `${name}-k1`, alg: 'RS256', use: 'sig' };
  return { name, privateKey, jwk };
}

function accessToken(provider, issuer, claims = {}, header = {}) {
  const t = now();
  const payload = { iss: issuer, sub: `user-${crypto.randomUUID()}`, aud: AUDIENCE, iat: t, exp: t + 3600, scope: 'read:messages', ...claims };
  for (const [k, v] of Object.entries(payload)) if (v === undefined) delete payload[k];
  return sign({ alg: 'RS256', typ: 'at+jwt', kid: provider.jwk.kid, ...header }, payload, provider.privateKey);
}

const proofKey = crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' });
const proofJwk = (({ kty, crv, x, y }) => ({ kty, crv, x, y }))(proofKey.publicKey.export({ format: 'jwk' }));
const jkt = crypto
  .createHash('sha256')
  .update(JSON.stringify({ crv: proofJwk.crv, kty: proofJwk.kty, x: proofJwk.x, y: proofJwk.y }))
  .digest('base64url');
const ath = (token) => crypto.createHash('sha256').update(token).digest('base64url');

function proof(htu, token) {
  return sign({ alg: 'ES256', typ: 'dpop+jwt', jwk: proofJwk }, { jti: crypto.randomUUID(), htm: 'GET', htu, iat: now(), ath: ath(token) }, proofKey.privateKey, { ec: true });
}

// --- a flapping identity provider --------------------------------------------------------------------------------

const FAULTS = ['status503', 'reset', 'html'];

async function startProvider(provider, { down = false } = {}) {
  const state = { down, fault: FAULTS[0], flaps: 0, counts: { discovery: 0, jwks: 0, failedAnswers: 0 } };
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    const isDiscovery = path === '/.well-known/openid-configuration';
    const isJwks = path === '/.well-known/jwks.json';
    if (isDiscovery) state.counts.discovery++;
    if (isJwks) state.counts.jwks++;
    if (!isDiscovery && !isJwks) return res.writeHead(404).end();
    if (state.down) {
      state.counts.failedAnswers++;
      if (state.fault === 'reset') return req.socket.destroy();
      if (state.fault === 'html') return res.writeHead(200, { 'content-type': 'text/html' }).end('<html>maintenance</html>');
      return res.writeHead(503, { 'content-type': 'text/plain' }).end('down');
    }
    const body = isDiscovery ? { issuer: `${origin}/`, jwks_uri: `${origin}/.well-known/jwks.json` } : { keys: [provider.jwk] };
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const origin = `http://127.0.0.1:${server.address().port}`;
  return {
    origin,
    issuer: `${origin}/`,
    state,
    flap() {
      state.down = !state.down;
      if (state.down) state.fault = FAULTS[state.flaps % FAULTS.length];
      state.flaps++;
    },
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(resolve);
      }),
  };
}

// --- traffic: kinds of request, with the statuses each may get ---------------------------------------------------

const OK_OR_OUTAGE = [200, 503];
const REJECTED = [401, 503]; // 503 when the one refetch an unknown kid may trigger meets the outage
const KINDS = {
  bearer_valid: { allowed: OK_OR_OUTAGE },
  dpop_valid: { allowed: OK_OR_OUTAGE },
  scope_ok: { allowed: OK_OR_OUTAGE },
  bad_signature: { allowed: REJECTED },
  expired: { allowed: REJECTED }, // claims are checked against the discovered issuer: 503 while it is unknown
  random_kid: { allowed: REJECTED },
  alg_none: { allowed: [401] },
  garbage: { allowed: [401] },
  no_credentials: { allowed: [401] },
  wrong_audience: { allowed: REJECTED },
  insufficient_scope: { allowed: [403, 503] },
  dpop_replay: { allowed: REJECTED },
};

function trafficFor(demoUrl, provider, issuer) {
  const pool = (n, claims) => Array.from({ length: n }, () => accessToken(provider, issuer, claims));
  const valid = pool(300);
  const bound = pool(100, { cnf: { jkt } });
  const noScope = pool(50, { scope: 'profile' });
  const wrongAud = pool(50, { aud: 'https://other.example' });
  const expired = pool(50, { exp: now() - 3600, iat: now() - 7200 });
  const [h, p, s] = valid[0].split('.');
  const badSig = `${h}.${p}.${s.slice(0, 10)}${s[10] === 'A' ? 'B' : 'A'}${s.slice(11)}`;
  const replayToken = bound[0];
  const replayProof = proof(`${demoUrl}/api/private`, replayToken);
  const pick = (list) => list[Math.floor(Math.random() * list.length)];
  const auth = (token) => ({ authorization: `Bearer ${token}` });
  const make = {
    bearer_valid: () => ({ path: '/api/private', headers: auth(pick(valid)) }),
    dpop_valid: () => {
      const token = pick(bound);
      return { path: '/api/private', headers: { authorization: `DPoP ${token}`, dpop: proof(`${demoUrl}/api/private`, token) } };
    },
    scope_ok: () => ({ path: '/api/messages', headers: auth(pick(valid)) }),
    bad_signature: () => ({ path: '/api/private', headers: auth(badSig) }),
    expired: () => ({ path: '/api/private', headers: auth(pick(expired)) }),
    random_kid: () => ({ path: '/api/private', headers: auth(`${b64u({ alg: 'RS256', typ: 'at+jwt', kid: crypto.randomUUID() })}.${p}.${s}`) }),
    alg_none: () => ({ path: '/api/private', headers: auth(`${b64u({ alg: 'none', kid: provider.jwk.kid })}.${p}.${s}`) }),
    garbage: () => ({ path: '/api/private', headers: auth(crypto.randomBytes(48).toString('base64url')) }),
    no_credentials: () => ({ path: '/api/private', headers: {} }),
    wrong_audience: () => ({ path: '/api/private', headers: auth(pick(wrongAud)) }),
    insufficient_scope: () => ({ path: '/api/messages', headers: auth(pick(noScope)) }),
    dpop_replay: () => ({ path: '/api/private', headers: { authorization: `DPoP ${replayToken}`, dpop: replayProof } }),
  };
  return { make, replay: { token: replayToken, proof: replayProof } };
}

const MIXES = {
  valid: { bearer_valid: 6, dpop_valid: 2, scope_ok: 2 },
  invalid: { bad_signature: 2, expired: 1, random_kid: 2, alg_none: 1, garbage: 1, no_credentials: 1, wrong_audience: 1, insufficient_scope: 1, dpop_replay: 1 },
  mixed: { bearer_valid: 4, dpop_valid: 1, scope_ok: 1, bad_signature: 1, random_kid: 1, expired: 1, no_credentials: 1, insufficient_scope: 1, garbage: 1 },
};

function weighted(mix) {
  const bag = Object.entries(mix).flatMap(([kind, weight]) => Array(weight).fill(kind));
  return () => bag[Math.floor(Math.random() * bag.length)];
}

/** One autocannon run; tallies statuses per request kind through the per-connection context. */
function load({ url, make, mix, connections, seconds, tally }) {
  const nextKind = weighted(mix);
  return autocannon({
    url,
    connections,
    duration: seconds,
    timeout: 10,
    requests: [
      {
        method: 'GET',
        setupRequest(request, context) {
          const kind = nextKind();
          context.kind = kind;
          const { path, headers } = make[kind]();
          return { ...request, path, headers };
        },
        onResponse(status, _body, context) {
          const byKind = (tally[context.kind] ??= {});
          byKind[status] = (byKind[status] ?? 0) + 1;
        },
      },
    ],
  });
}

// --- run -----------------------------------------------------------------------------------------------------------

const crashes = [];
process.on('uncaughtException', (error) => crashes.push(`uncaughtException: ${error?.stack ?? error}`));
process.on('unhandledRejection', (error) => crashes.push(`unhandledRejection: ${error?.stack ?? error}`));
const serverErrors = [];
const originalConsoleError = console.error;
console.error = (...args) => serverErrors.push(args.map(String).join(' ').slice(0, 300)); // the demo logs 5xx causes here

const gc = globalThis.gc;
const memory = () => {
  gc?.();
  gc?.();
  const m = process.memoryUsage();
  return { rss: m.rss, heapUsed: m.heapUsed, external: m.external };
};

const providerA = makeProvider('a');
const providerB = makeProvider('b');
const issuerA = await startProvider(providerA);
const issuerB = await startProvider(providerB, { down: true });
const events = {};
const onEvent = (event) => {
  const key = event.type === 'provider_fetch_failed' ? `${event.type}:${event.reason}` : event.type;
  events[key] = (events[key] ?? 0) + 1;
};
const env = (issuer) => ({ PORT: '0', HOST: '127.0.0.1', AUTH0_AUDIENCE: AUDIENCE, AUTH0_DOMAIN: issuer.origin, NODE_ENV: 'test' });
const demoA = await startDemo({ env: env(issuerA), onEvent, quiet: true });
const demoB = await startDemo({ env: env(issuerB), onEvent, quiet: true });
const trafficA = trafficFor(demoA.url, providerA, issuerA.issuer);
const trafficB = trafficFor(demoB.url, providerB, issuerB.issuer);
const makeA = trafficA.make;
const makeB = trafficB.make;

// Warm-up: A has its keys; a few hundred requests so that JIT and pools settle before the "before" sample.
const warm = await fetch(`${demoA.url}/api/private`, { headers: makeA.bearer_valid().headers });
if (warm.status !== 200) throw new Error(`warm-up failed: ${warm.status}`);
// Spend the replay proof once, so that every use under load is a replay.
const spent = await fetch(`${demoA.url}/api/private`, { headers: { authorization: `DPoP ${trafficA.replay.token}`, dpop: trafficA.replay.proof } });
if (spent.status !== 200) throw new Error(`replay proof priming failed: ${spent.status}`);
await load({ url: demoA.url, make: makeA, mix: MIXES.valid, connections: CONNECTIONS, seconds: 2, tally: {} });
const before = memory();

let peakRss = before.rss;
const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 500);
const flapper = setInterval(() => {
  issuerA.flap();
  issuerB.flap();
}, FLAP_MS);

const phases = [];
async function phase(name, runs) {
  const tally = {};
  const started = Date.now();
  const results = await Promise.all(runs.map((r) => load({ ...r, seconds: PHASE_SECONDS, tally })));
  phases.push({ name, seconds: (Date.now() - started) / 1000, results, tally, memory: memory() });
}
await phase('valid (A)', [{ url: demoA.url, make: makeA, mix: MIXES.valid, connections: CONNECTIONS }]);
await phase('invalid (A)', [{ url: demoA.url, make: makeA, mix: MIXES.invalid, connections: CONNECTIONS }]);
const half = Math.max(1, Math.floor(CONNECTIONS / 2));
await phase('mixed (A + cold B)', [
  { url: demoA.url, make: makeA, mix: MIXES.mixed, connections: half },
  { url: demoB.url, make: makeB, mix: MIXES.mixed, connections: CONNECTIONS - half },
]);

clearInterval(flapper);
clearInterval(sampler);
await new Promise((r) => setTimeout(r, 500));
const after = memory();
await demoA.close();
await demoB.close();
await issuerA.close();
await issuerB.close();
console.error = originalConsoleError;

// --- report --------------------------------------------------------------------------------------------------------

const MB = (n) => (n / 1024 / 1024).toFixed(1);
const statusTotals = {};
const violations = [];
let requests = 0;
let errors = 0;
let timeouts = 0;
const lines = [];
lines.push(`## Soak: ${TOTAL_SECONDS} s, c=${CONNECTIONS}, provider flapping every ${FLAP_MS} ms (${process.version}, ${gc ? 'forced GC' : 'no --expose-gc'})`, '');
lines.push('| phase | requests | req/s | p50 ms | p99 ms | errors | timeouts | statuses |', '|---|---:|---:|---:|---:|---:|---:|---|');
for (const p of phases) {
  const req = p.results.reduce((n, r) => n + r.requests.total, 0);
  const err = p.results.reduce((n, r) => n + r.errors, 0);
  const to = p.results.reduce((n, r) => n + r.timeouts, 0);
  const st = {};
  for (const r of p.results) for (const [code, { count }] of Object.entries(r.statusCodeStats)) st[code] = (st[code] ?? 0) + count;
  for (const [code, n] of Object.entries(st)) statusTotals[code] = (statusTotals[code] ?? 0) + n;
  requests += req;
  errors += err;
  timeouts += to;
  const p50 = Math.max(...p.results.map((r) => r.latency.p50));
  const p99 = Math.max(...p.results.map((r) => r.latency.p99));
  lines.push(
    `| ${p.name} | ${req} | ${(req / p.seconds).toFixed(0)} | ${p50} | ${p99} | ${err} | ${to} | ${Object.entries(st)
      .map(([c, n]) => `${c}: ${n}`)
      .join(', ')} |`,
  );
  for (const [kind, statuses] of Object.entries(p.tally)) {
    for (const [code, n] of Object.entries(statuses)) {
      if (!KINDS[kind]?.allowed.includes(Number(code))) violations.push(`${p.name}: ${kind} got ${code} ×${n}`);
    }
  }
}
lines.push('', '| kind | allowed | observed |', '|---|---|---|');
const byKind = {};
for (const p of phases) for (const [kind, statuses] of Object.entries(p.tally)) for (const [code, n] of Object.entries(statuses)) (byKind[kind] ??= {})[code] = (byKind[kind][code] ?? 0) + n;
for (const [kind, statuses] of Object.entries(byKind)) {
  lines.push(
    `| ${kind} | ${KINDS[kind].allowed.join('/')} | ${Object.entries(statuses)
      .map(([c, n]) => `${c}: ${n}`)
      .join(', ')} |`,
  );
}
const unexpectedStatuses = Object.keys(statusTotals).filter((c) => ![200, 401, 403, 503].includes(Number(c)));
lines.push(
  '',
  `- total: ${requests} requests; statuses ${Object.entries(statusTotals)
    .map(([c, n]) => `${c}: ${n}`)
    .join(', ')}; errors ${errors}, timeouts ${timeouts}`,
);
lines.push(
  `- 5xx other than 503: ${Object.entries(statusTotals)
    .filter(([c]) => Number(c) >= 500 && Number(c) !== 503)
    .reduce((n, [, v]) => n + v, 0)}; unexpected statuses: ${unexpectedStatuses.join(', ') || 'none'}; per-kind violations: ${violations.length}`,
);
lines.push(`- provider A: ${issuerA.state.flaps} flaps, discovery ${issuerA.state.counts.discovery}, JWKS ${issuerA.state.counts.jwks}, faulty answers ${issuerA.state.counts.failedAnswers}`);
lines.push(`- provider B (cold start while down): ${issuerB.state.flaps} flaps, discovery ${issuerB.state.counts.discovery}, JWKS ${issuerB.state.counts.jwks}, faulty answers ${issuerB.state.counts.failedAnswers}`);
lines.push(
  `- events: ${Object.entries(events)
    .sort()
    .map(([k, n]) => `${k} ×${n}`)
    .join(', ')}`,
);
lines.push(
  `- memory (${gc ? 'after forced GC' : 'no GC forced'}; load generator and servers share this process): RSS ${MB(before.rss)} → ${MB(after.rss)} MB (peak ${MB(peakRss)}), heap ${MB(before.heapUsed)} → ${MB(after.heapUsed)} MB, external ${MB(before.external)} → ${MB(after.external)} MB`,
);
lines.push(`- after each phase: ${phases.map((p) => `${p.name}: RSS ${MB(p.memory.rss)} / heap ${MB(p.memory.heapUsed)} MB`).join('; ')}`);
lines.push(`- crashes: ${crashes.length}; server 5xx logs: ${serverErrors.length}`);
for (const v of violations.slice(0, 20)) lines.push(`  - violation: ${v}`);
for (const c of crashes.slice(0, 5)) lines.push(`  - ${c.split('\n')[0]}`);
for (const e of serverErrors.slice(0, 5)) lines.push(`  - server error: ${e}`);
const pass = violations.length === 0 && unexpectedStatuses.length === 0 && errors === 0 && timeouts === 0 && crashes.length === 0 && serverErrors.length === 0;
lines.push('', `**${pass ? 'PASS' : 'FAIL'}**`);
console.log(lines.join('\n'));
process.exit(pass ? 0 : 1);
