// Memory: RSS under a sustained run with unique tokens, and bounded caches under floods.
//
//   node --expose-gc bench/memory.mjs [--json FILE]     env: MEM_DUR (seconds, default 60), CONN (50),
//                                                      BENCH_PORT (38180), FLOOD_SCALE (1), MEM_SUSTAINED=0 (floods
//                                                      only: run.mjs FLOODS=1), MEM_FIXTURES (token pool written by
//                                                      run.mjs)
//
// 1. Sustained: the demo app in its own process; autocannon sends a different valid token on every request, from a
//    pool larger than the token cache, cycled in order: an LRU cache always evicts the token that comes back next,
//    so every request is a cache miss and the cache stays full. RSS and heap (after GC) are sampled before, during and after the load.
// 2. Floods, in this process, straight into the core validator: random garbage tokens, well-formed tokens with
//    random signatures, unique valid tokens, random `kid`s, unique DPoP proofs, a full replay store, and proofs
//    from ever-new keys. Reported: outcome, cache sizes, heap growth after GC, JWKS fetches.
import { readFileSync, writeFileSync } from 'node:fs';
import crypto from 'node:crypto';
import v8 from 'node:v8';
import vm from 'node:vm';
import { AUDIENCE, makeProofKey, makeSigningKey, mintMany, mintProof, mintToken, signingKeyFromPem } from './lib/fixtures.mjs';
import { startIssuer } from './lib/issuer.mjs';
import { drive, serverStats, startServer, stopServer, writePool } from './lib/load.mjs';

v8.setFlagsFromString('--expose-gc');
const gc = globalThis.gc ?? vm.runInNewContext('gc');
const dist = new URL('../build/dist/src/core/', import.meta.url);
const TOKEN_CACHE_SIZE = 2_000; // the library default (config.ts tokenCache.maxEntries)

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const heap = () => {
  gc();
  gc();
  return process.memoryUsage().heapUsed;
};

/** The signing key and a pool of more than TOKEN_CACHE_SIZE valid tokens: run.mjs's pool when given, else minted. */
async function fixtures(port) {
  const issuerUrl = `http://127.0.0.1:${port + 1}/`;
  const shared = process.env.MEM_FIXTURES ? JSON.parse(readFileSync(process.env.MEM_FIXTURES, 'utf8')) : undefined;
  if (shared?.issuer === issuerUrl && shared.tokens.length > TOKEN_CACHE_SIZE * 1.1) {
    return { key: signingKeyFromPem(shared.pem, shared.kid), pool: shared.tokens }; // no need to mint 12k RSA signatures again
  }
  const key = makeSigningKey('mem-rs256');
  return { key, pool: await mintMany(TOKEN_CACHE_SIZE * 1.2, { kind: 'token', key, issuer: issuerUrl }) };
}

async function sustained({ port, duration, connections, key, pool }) {
  const { child, url } = await startServer('demo', { jwks: { keys: [key.publicJwk] }, port, env: { BENCH_CACHE_SIZES: '1' } });
  const poolFile = writePool(new URL('results/raw/memory-tokens.txt', import.meta.url).pathname, pool).file;
  const samples = [];
  const sample = async (label) => {
    const s = await serverStats(child);
    samples.push({ label, rss: s.memory.rss, heapUsed: s.memory.heapUsed, tokenCache: s.tokenCache, replayStore: s.replayStore });
  };
  try {
    const first = await fetch(`${url}/api/private`, { headers: { authorization: `Bearer ${pool[0]}` } });
    if (first.status !== 200) throw new Error(`memory: sanity request → ${first.status}`);
    await sample('before load (after start-up and one request)');
    let stop = false;
    const sampler = (async () => {
      for (let t = 5; !stop; t += 5) {
        await sleep(5000);
        if (!stop) await sample(`during load, t=${t} s`);
      }
    })();
    const r = await drive({
      url,
      path: '/api/private',
      connections,
      duration,
      pool: { values: pool, file: poolFile, offset: 1, header: 'authorization', prefix: 'Bearer ' },
    });
    stop = true;
    await sampler;
    await sample('after load');
    await sleep(1000);
    await sample('after load + 1 s idle');
    return { duration, pool: pool.length, requests: r.total, rps: r.rps, non2xx: r.non2xx + r.errors, samples };
  } finally {
    await stopServer(child);
  }
}

/** Runs `n` calls of `fn(i)` with `concurrency` in flight; counts outcomes by error code (or 'ok'). */
async function flood(n, concurrency, fn) {
  const outcomes = {};
  let i = 0;
  const worker = async () => {
    while (i < n) {
      const k = i++;
      let code = 'ok';
      try {
        await fn(k);
      } catch (error) {
        code = `${error?.status ?? ''} ${error?.code ?? error?.message ?? error}`.trim();
      }
      outcomes[code] = (outcomes[code] ?? 0) + 1;
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return Object.entries(outcomes)
    .map(([k, v]) => `${k}: ${v}`)
    .join(', ');
}

async function floods({ port, scale, key, pool }) {
  const core = await import(new URL('index.js', dist).href);
  const proofKey = makeProofKey();
  const issuer = await startIssuer({ port: port + 1, jwks: { keys: [key.publicJwk] } });
  const rows = [];
  const n = (x) => Math.max(1, Math.round(x * scale));
  const sizes = (v) => {
    // The services built once per validator (src/core/services.ts): issuer pool, token verifier, DPoP replay store.
    const c = v.issuers?.peek?.(issuer.origin);
    const replayStore = v.dpop?.services?.replayStore;
    return [
      `token cache ${v.tokens?.cacheSize ?? '?'}`,
      replayStore?.size !== undefined ? `replay store ${replayStore.size}` : undefined,
      c ? `JWKS kids ${c.keys?.peek?.()?.byKid?.size ?? '?'}` : undefined,
      ...Object.entries(v)
        .filter(([name, x]) => /proof|thumb|jwk/i.test(name) && typeof x?.size === 'number')
        .map(([name, x]) => `${name} ${x.size}`),
    ]
      .filter(Boolean)
      .join(', ');
  };
  const make = (options = {}) => core.createValidator({ domain: issuer.origin, audience: AUDIENCE, dpop: { mode: 'allowed', ...options.dpop }, ...options.api });
  const run = async (name, validator, count, concurrency, fn) => {
    const fetchesBefore = issuer.counts['/.well-known/jwks.json'] ?? 0;
    const before = heap();
    const outcome = await flood(count, concurrency, fn);
    const after = heap();
    rows.push({ name, requests: count, outcome, sizes: sizes(validator), heapDelta: after - before, jwksFetches: (issuer.counts['/.well-known/jwks.json'] ?? 0) - fetchesBefore });
    console.log(`  ${name}: ${count} → ${outcome}; ${rows.at(-1).sizes}; heap Δ ${((after - before) / 2 ** 20).toFixed(1)} MB; JWKS fetches ${rows.at(-1).jwksFetches}`);
  };
  const b64 = (o) => Buffer.from(JSON.stringify(o)).toString('base64url');
  const randomB64 = (bytes) => crypto.randomBytes(bytes).toString('base64url');
  const payload = () => {
    const now = Math.floor(Date.now() / 1000);
    return b64({ iss: issuer.issuer, sub: 'flood', aud: AUDIENCE, iat: now, exp: now + 3600, jti: crypto.randomUUID() });
  };
  try {
    // Warm the validator (discovery + JWKS fetched once) so that floods measure steady state.
    const v = make();
    await v.verifyAccessToken(mintToken(key, issuer.issuer));

    await run('random garbage tokens', v, n(50_000), 1, () => v.verifyAccessToken(`${randomB64(24)}.${randomB64(200)}.${randomB64(256)}`));
    await run('well-formed tokens, known kid, random signature', v, n(2_000), 32, () => v.verifyAccessToken(`${b64({ alg: 'RS256', typ: 'at+jwt', kid: key.kid })}.${payload()}.${randomB64(256)}`));
    await run('random kid per token', v, n(20_000), 32, () => v.verifyAccessToken(`${b64({ alg: 'RS256', typ: 'at+jwt', kid: crypto.randomUUID() })}.${payload()}.${randomB64(256)}`));
    await run(`unique valid tokens (cache max ${TOKEN_CACHE_SIZE})`, v, pool.length, 32, (i) => v.verifyAccessToken(pool[i]));

    const bound = mintToken(key, issuer.issuer, { cnf: { jkt: proofKey.jkt } });
    const htu = 'https://api.bench.example/api/private';
    const dpopRequest = (validator, proof) => validator.verifyRequest({ method: 'GET', url: htu, headers: { authorization: `DPoP ${bound}`, dpop: proof } });
    const proofs = await mintMany(n(4_000), { kind: 'proof', proofKey, htm: 'GET', htu, accessToken: bound });
    await run('unique DPoP proofs (memory replay store, max 100000)', v, proofs.length, 32, (i) => dpopRequest(v, proofs[i]));
    const small = make({ dpop: { replayStore: new core.MemoryReplayStore({ maxEntries: 500 }) } });
    await small.verifyAccessToken(mintToken(key, issuer.issuer));
    const more = await mintMany(n(1_500), { kind: 'proof', proofKey, htm: 'GET', htu, accessToken: bound });
    await run('unique DPoP proofs into a full replay store (max 500)', small, more.length, 32, (i) => dpopRequest(small, more[i]));
    // Ever-new proof keys (not bound to the token): every proof costs a key import; nothing may pile up.
    const fresh = Array.from({ length: n(2_000) }, () => mintProof(makeProofKey(), 'GET', htu, bound));
    await run('DPoP proofs from ever-new keys (unbound)', v, fresh.length, 32, (i) => dpopRequest(v, fresh[i]));
  } finally {
    await issuer.close();
  }
  return rows;
}

export async function runMemory({ port = 38180, duration = 60, connections = 50, scale = 1, sustainedRun = true } = {}) {
  const { key, pool } = await fixtures(port);
  let load;
  if (sustainedRun) {
    console.log(`memory: sustained ${duration} s run (unique tokens) against the demo…`);
    load = await sustained({ port, duration, connections, key, pool });
    for (const s of load.samples) console.log(`  ${s.label.padEnd(46)} RSS ${(s.rss / 2 ** 20).toFixed(1)} MB  heap ${(s.heapUsed / 2 ** 20).toFixed(1)} MB  token cache ${s.tokenCache ?? '?'}`);
    console.log(`  ${load.requests} requests, ${load.rps.toFixed(0)} req/s, non-2xx ${load.non2xx}`);
  }
  console.log('memory: floods (in-process validator)…');
  const rows = await floods({ port, scale, key, pool });
  return { load, floods: rows };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const result = await runMemory({
    port: Number(process.env.BENCH_PORT ?? 38180),
    duration: Number(process.env.MEM_DUR ?? 60),
    connections: Number(process.env.CONN ?? 50),
    scale: Number(process.env.FLOOD_SCALE ?? 1),
    sustainedRun: process.env.MEM_SUSTAINED !== '0',
  });
  const i = process.argv.indexOf('--json');
  if (i > 0) writeFileSync(process.argv[i + 1], JSON.stringify(result, null, 2));
}
