// Hit rate and bound of the token-exchange cache (src/core/issuer/token-exchange.ts) under a small load: REQUESTS exchanges
// over CALLERS caller tokens (picked at random, CONCURRENCY in flight), against a real local token endpoint that
// issues 1-hour tokens. Run with the default bound and with a bound below the number of callers.
//   node scripts/build.mjs && node bench/token-exchange-cache.mjs        (REQUESTS=2000 CALLERS=50 CONCURRENCY=20)
import { createServer } from 'node:http';
import { randomUUID } from 'node:crypto';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const REQUESTS = Number(process.env.REQUESTS ?? 2000);
const CALLERS = Number(process.env.CALLERS ?? 50);
const CONCURRENCY = Number(process.env.CONCURRENCY ?? 20);
const { createTokenExchanger } = await import(pathToFileURL(resolve(new URL('../build/dist/src', import.meta.url).pathname, 'core/issuer/token-exchange.js')).href);

let exchanges = 0;
const server = createServer((req, res) => {
  req.resume().on('end', () => {
    exchanges++;
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ access_token: `x-${randomUUID()}`, token_type: 'Bearer', expires_in: 3600, issued_token_type: 'urn:ietf:params:oauth:token-type:access_token' }));
  });
});
await new Promise((r) => server.listen(0, '127.0.0.1', r));
const endpoint = `http://127.0.0.1:${server.address().port}/oauth/token`;
const exp = Math.floor(Date.now() / 1000) + 3600;
const callers = Array.from({ length: CALLERS }, () => ({ token: `caller-${randomUUID()}`, claims: { exp } }));

async function run(maxEntries) {
  exchanges = 0;
  const exchanger = createTokenExchanger({ clientId: 'bench', clientSecret: 'bench', cache: { maxEntries } }, { tokenEndpoint: async () => endpoint });
  let next = 0;
  let maxHeld = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < REQUESTS) {
        next++;
        await exchanger.exchange(callers[Math.floor(Math.random() * CALLERS)], { audience: 'https://downstream.example.com' });
        maxHeld = Math.max(maxHeld, exchanger.size);
      }
    }),
  );
  const ms = performance.now() - started;
  const served = REQUESTS - exchanges;
  console.log(
    `maxEntries=${maxEntries}: ${REQUESTS} requests over ${CALLERS} caller tokens → ${exchanges} exchanges, hit rate ${((100 * served) / REQUESTS).toFixed(1)} % ` +
      `(cache or shared in-flight), entries held ${exchanger.size} (max ${maxHeld}), ${ms.toFixed(0)} ms`,
  );
}

await run(1000);
await run(Math.max(1, Math.floor(CALLERS / 2)));
server.close();
