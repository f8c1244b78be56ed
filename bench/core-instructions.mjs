// Instructions per call of the core validator alone (no HTTP, no Express, no tsoa): `createValidator().verifyRequest`
// on plain request contexts, counted under valgrind (cachegrind, no cache simulation) as the difference between two
// fresh processes that make the same warm-up and then K or 2K calls — startup, loading and warm-up cancel out. A
// quick loop for the library's own path; the judge of the targets stays bench/instructions.mjs.
//
//   node bench/core-instructions.mjs            (CASES=hit,unique,dpop  WARM=2000 K=1000)
//   DIST=<compiled tree> ...                     (another build/dist/src, e.g. a copy made before a change)
//   cg_diff bench/results/raw/core/<case>-1.out bench/results/raw/core/<case>-2.out | cg_annotate /dev/stdin
//                                                (where the K extra calls went, by function)
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { isMainThread } from 'node:worker_threads';
import { makeProofKey, makeSigningKey, mintToken, mintProof } from './lib/fixtures.mjs';

const here = new URL('.', import.meta.url).pathname;

if (process.env.CORE_CHILD) {
  // The measured process: one validator, WARM + COUNT calls of one case.
  const { startIssuer } = await import('./lib/issuer.mjs');
  const data = JSON.parse(readFileSync(process.env.CORE_CHILD, 'utf8'));
  const issuer = await startIssuer({ port: data.port, jwks: data.jwks });
  const dist = process.env.DIST ? pathToFileURL(`${resolve(process.env.DIST)}/`) : new URL('../build/dist/src/', import.meta.url);
  const { createValidator } = await import(new URL('core/index.js', dist).href);
  // Generous timeout: under valgrind the first fetch (loading undici) takes seconds.
  const validator = createValidator({ domain: issuer.origin, audience: data.audience, dpop: { mode: 'allowed' }, timeout: 120_000 });
  const total = Number(process.env.CORE_CALLS);
  const url = `http://127.0.0.1:3000/api/private`;
  const request = (i) =>
    data.case === 'hit'
      ? { method: 'GET', url, headers: { host: '127.0.0.1:3000', authorization: `Bearer ${data.token}` } }
      : data.case === 'unique'
        ? { method: 'GET', url, headers: { host: '127.0.0.1:3000', authorization: `Bearer ${data.values[i]}` } }
        : { method: 'GET', url, headers: { host: '127.0.0.1:3000', authorization: `DPoP ${data.bound}`, dpop: data.values[i] } };
  for (let i = 0; i < total; i++) {
    await validator.verifyRequest(request(i));
    if ((i & 63) === 63) await new Promise(setImmediate);
  }
  await issuer.close();
  process.exit(0);
}

if (isMainThread) {
  const WARM = Number(process.env.WARM ?? 2000);
  const K = Number(process.env.K ?? 1000);
  const CASES = (process.env.CASES ?? 'hit,unique,dpop').split(',');
  const work = join(here, 'results', 'raw', 'core');
  mkdirSync(work, { recursive: true });
  const port = Number(process.env.BENCH_PORT ?? 38380);
  const origin = `http://127.0.0.1:${port}`;
  const key = makeSigningKey('core-rs256');
  const proofKey = makeProofKey();
  const AUDIENCE = 'https://api.bench.example';
  const token = mintToken(key, `${origin}/`);
  const bound = mintToken(key, `${origin}/`, { cnf: { jkt: proofKey.jkt } });
  const n = WARM + 2 * K;
  const results = {};
  for (const c of CASES) {
    const values = c === 'unique' ? Array.from({ length: n }, () => mintToken(key, `${origin}/`)) : c === 'dpop' ? Array.from({ length: n }, () => mintProof(proofKey, 'GET', 'http://127.0.0.1:3000/api/private', bound)) : [];
    const file = join(work, `${c}.json`);
    writeFileSync(file, JSON.stringify({ case: c, port, audience: AUDIENCE, jwks: { keys: [key.publicJwk] }, token, bound, values }));
    const count = (calls, tag) => {
      const out = join(work, `${c}-${tag}.out`);
      execFileSync('nice', ['-n', '19', 'valgrind', '--tool=cachegrind', '--cache-sim=no', '--smc-check=all-non-file', `--cachegrind-out-file=${out}`, '--quiet', process.execPath, new URL(import.meta.url).pathname], {
        stdio: 'inherit',
        env: { ...process.env, CORE_CHILD: file, CORE_CALLS: String(calls) },
      });
      return Number(/^summary: (\d+)/m.exec(readFileSync(out, 'utf8'))[1]);
    };
    const one = count(WARM + K, 1);
    const two = count(WARM + 2 * K, 2);
    results[c] = (two - one) / K;
    console.log(`${c.padEnd(8)} ${(results[c] / 1000).toFixed(1).padStart(8)} k instructions per call`);
  }
}
