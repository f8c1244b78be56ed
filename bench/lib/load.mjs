// One measured HTTP run: fork bench/server.mjs in its own process, sanity-check the route, drive it with autocannon
// on 127.0.0.1 (bounded duration), collect the numbers, stop the server.
import { fork } from 'node:child_process';
import autocannon from 'autocannon';

const SERVER = new URL('../server.mjs', import.meta.url).pathname;

/** Starts the server process for `mode`; resolves with { child, url }. */
export async function startServer(mode, { jwks, port, redisUrl, execArgv = [], env = {} }) {
  const child = fork(SERVER, [mode], {
    execArgv: ['--expose-gc', ...execArgv],
    env: { ...process.env, ...env, BENCH_JWKS: JSON.stringify(jwks), BENCH_PORT: String(port), BENCH_ISSUER_PORT: String(port + 1), BENCH_REDIS_URL: redisUrl ?? '' },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const url = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`bench server ${mode} did not start`)), 30_000);
    child.once('exit', (code) => reject(new Error(`bench server ${mode} exited (${code})`)));
    child.on('message', (m) => {
      if (m?.ready) {
        clearTimeout(timer);
        resolve(m.url);
      }
    });
  });
  return { child, url };
}

/** Sends `message` to the server and resolves with the `reply` member of its answer. */
export function ask(child, message, reply) {
  return new Promise((resolve) => {
    const onMessage = (m) => {
      if (m?.[reply] !== undefined) {
        child.off('message', onMessage);
        resolve(m[reply]);
      }
    };
    child.on('message', onMessage);
    child.send(message);
  });
}

/** Asks the server for its memory usage and cache sizes. */
export const serverStats = (child) => ask(child, { cmd: 'stats' }, 'stats');

/** Stops the server: a clean exit, SIGKILL after 5 s. */
export async function stopServer(child) {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.send({ cmd: 'exit' });
  const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
  await exited;
  clearTimeout(timer);
}

/**
 * Runs autocannon against `url` + `path`. `next()` (optional) returns the headers of the next request: with it,
 * every request is rebuilt (unique tokens/proofs); without it, `headers` are sent on every request.
 */
export async function drive({ url, path, headers = {}, next, connections, duration }) {
  const options = { url: url + path, connections, duration };
  if (next) {
    options.requests = [{ method: 'GET', path, setupRequest: (req) => { Object.assign(req.headers, next()); return req; } }];
  } else {
    options.headers = headers;
  }
  const o = await autocannon(options);
  return {
    rps: o.requests.average,
    p50: o.latency.p50,
    p99: o.latency.p99,
    total: o.requests.total,
    non2xx: o.non2xx,
    errors: o.errors,
    timeouts: o.timeouts,
  };
}
