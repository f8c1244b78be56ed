// Servers and load for the benchmark: fork bench/server.mjs in its own process, read its CPU time and memory,
// drive it with wrk (Debian package `wrk`, preferred: a C client that leaves the cores to the server) or, when wrk
// is not installed or BENCH_CLIENT=autocannon, with autocannon in this process.
import { execFileSync, fork, spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import autocannon from 'autocannon';

const SERVER = new URL('../server.mjs', import.meta.url).pathname;
const WRK_POOL = new URL('./wrk-pool.lua', import.meta.url).pathname;
const WRK_FIXED = new URL('./wrk-fixed.lua', import.meta.url).pathname;

/** Clock ticks per second of /proc/<pid>/stat times (USER_HZ, 100 on Linux). */
const CLK_TCK = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
})();

/** Fields of /proc/<pid>/stat after the command name (which may hold spaces): index 0 is field 3 (state). */
function statFields(pid) {
  const s = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return s.slice(s.lastIndexOf(')') + 2).split(' ');
}

/**
 * CPU time of process `pid` over all its threads, live and exited (utime + stime, fields 14–15 of
 * /proc/<pid>/stat), in µs; resolution one clock tick (10 ms). Undefined where /proc is missing.
 */
export function procCpuMicros(pid) {
  try {
    const f = statFields(pid);
    return ((Number(f[11]) + Number(f[12])) * 1e6) / CLK_TCK;
  } catch {
    return undefined;
  }
}

/** CPU time of this process's waited-for children (cutime + cstime of /proc/self/stat, fields 16–17), in µs. */
function childrenCpuMicros() {
  try {
    const f = statFields('self');
    return ((Number(f[13]) + Number(f[14])) * 1e6) / CLK_TCK;
  } catch {
    return undefined;
  }
}

/**
 * The whole machine's CPU time so far (first line of /proc/stat), in µs: `busy` (all but idle and iowait) and
 * `steal` (taken by the hypervisor). Used to report how much else ran during a measured window.
 */
export function machineCpuMicros() {
  try {
    const [, ...f] = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0].trim().split(/\s+/);
    const [user, nice, system, idle, iowait, irq, softirq, steal = 0] = f.map(Number);
    const us = (t) => (t * 1e6) / CLK_TCK;
    return { busy: us(user + nice + system + irq + softirq), steal: us(steal), idle: us(idle + iowait) };
  } catch {
    return undefined;
  }
}

let wrkAvailable;
/** The load generator in use: 'wrk' when installed (unless BENCH_CLIENT=autocannon), else 'autocannon'. */
export function loadGenerator() {
  if (process.env.BENCH_CLIENT === 'autocannon') return 'autocannon';
  if (wrkAvailable === undefined) {
    try {
      execFileSync('wrk', ['--version'], { stdio: 'ignore' });
      wrkAvailable = true;
    } catch (error) {
      // wrk --version prints its usage and exits 1: installed; ENOENT: not installed.
      wrkAvailable = error?.code !== 'ENOENT';
    }
  }
  if (!wrkAvailable && process.env.BENCH_CLIENT === 'wrk') throw new Error('BENCH_CLIENT=wrk: wrk is not installed (Debian: apt-get install wrk)');
  return wrkAvailable ? 'wrk' : 'autocannon';
}

/**
 * Core pinning (PIN=1 by default on a machine of 2+ cores with `taskset`): the server process and all its threads
 * on the last core, this process and the load generator it spawns on the others. Without it the client and the
 * server take turns on both cores and every switch cools the caches: CPU per request then moves by ±40 % between
 * identical runs on the 2-core machine; pinned, the server has a core to itself and only its own work counts.
 */
export const machineCores = os.availableParallelism(); // read before pinning narrows this process
export const pinning = (() => {
  const cores = machineCores;
  if (process.env.PIN === '0' || cores < 2 || process.platform !== 'linux') return undefined;
  try {
    execFileSync('taskset', ['-cp', `0-${cores - 2}`, String(process.pid)], { stdio: 'ignore' });
    return { server: String(cores - 1), client: `0-${cores - 2}` };
  } catch {
    return undefined; // no taskset: unpinned, as before
  }
})();

/** Starts the server process for `mode`; resolves with { child, url }. */
export async function startServer(mode, { jwks, port, redisUrl, issuerOrigin, execArgv = [], env = {}, wrapper, startTimeoutMs = 30_000 }) {
  // Pinned: fork runs `taskset -c N node …` (taskset execs node in place: same pid, the IPC channel inherited),
  // so every thread the server ever starts is on its core from the first instruction. `wrapper` ({ command, args })
  // runs the server under another program the same way (bench/instructions.mjs: valgrind).
  const wrap = wrapper ?? (pinning ? { command: 'taskset', args: ['-c', pinning.server] } : undefined);
  const child = fork(SERVER, [mode], {
    ...(wrap ? { execPath: wrap.command } : {}),
    execArgv: [...(wrap ? [...wrap.args, process.execPath] : []), '--expose-gc', ...execArgv],
    env: { ...process.env, ...env, BENCH_JWKS: JSON.stringify(jwks), BENCH_PORT: String(port), BENCH_ISSUER_PORT: String(port + 1), BENCH_REDIS_URL: redisUrl ?? '', ...(issuerOrigin ? { BENCH_ISSUER_ORIGIN: issuerOrigin } : {}) },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const url = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`bench server ${mode} did not start`)), startTimeoutMs);
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

/** Asks the server for its memory usage (after a forced GC) and, when available, cache sizes. */
export const serverStats = (child) => ask(child, { cmd: 'stats' }, 'stats');

/**
 * The server's CPU time and memory now, without disturbing it (no GC): `cpu` = user + system µs of all its threads
 * (process.cpuUsage(), i.e. getrusage(RUSAGE_SELF): the event loop, libuv's thread pool, V8's GC and compiler
 * threads), `procCpu` = the same read from /proc/<pid>/stat by this process (10 ms ticks; a cross-check), `rss`.
 */
export async function serverUsage(child) {
  const usage = await ask(child, { cmd: 'usage' }, 'usage');
  return { ...usage, procCpu: procCpuMicros(child.pid) };
}

/** Stops the server: a clean exit, SIGKILL after 5 s. */
export async function stopServer(child) {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.send({ cmd: 'exit' });
  const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
  await exited;
  clearTimeout(timer);
}

/** Writes a pool (one value a line) for wrk-pool.lua; returns { file, size }. */
export function writePool(file, values) {
  writeFileSync(file, values.join('\n') + '\n');
  return { file, size: values.length };
}

/**
 * Drives `url` + `path` for `duration` seconds with `connections` keep-alive connections, as fast as the server
 * answers, or at `rate` requests per second in all (open loop, autocannon).
 * `headers` are sent on every request; `pool` (optional) varies one header per request:
 * { values, file, offset, header, prefix }: request k sends header: prefix + values[offset + k] (wrk reads `file`,
 * autocannon `values`). Returns req/s, latency, counts, how many pool entries were taken, and the client's own CPU.
 */
export async function drive({ url, path, headers = {}, pool, connections, duration, threads = 1, rate }) {
  // A fixed request rate needs autocannon (wrk only runs closed-loop, as fast as the server answers).
  return loadGenerator() === 'wrk' && !rate ? driveWrk({ url, path, headers, pool, connections, duration, threads }) : driveAutocannon({ url, path, headers, pool, connections, duration, rate });
}

async function driveWrk({ url, path, headers, pool, connections, duration, threads }) {
  const args = ['-t', String(threads), '-c', String(connections), '-d', `${duration}s`, '--timeout', '10s'];
  for (const [name, value] of Object.entries(headers)) args.push('-H', `${name}: ${value}`);
  args.push('-s', pool ? WRK_POOL : WRK_FIXED, url + path);
  if (pool) args.push('--', pool.file, String(pool.offset ?? 0), pool.header, pool.prefix ?? '', String(threads));
  // wrk's CPU: this process's reaped-children time, read around the run (no other child exits meanwhile).
  const cpu0 = childrenCpuMicros();
  const out = await new Promise((resolve, reject) => {
    const child = spawn('wrk', args, { stdio: ['ignore', 'pipe', 'inherit'] });
    let text = '';
    child.stdout.on('data', (d) => (text += d));
    child.once('error', reject);
    child.once('close', (code) => (code === 0 ? resolve(text) : reject(new Error(`wrk exited ${code}: ${text}`))));
  });
  const cpu1 = childrenCpuMicros();
  const line = out.split('\n').find((l) => l.startsWith('WRK_JSON '));
  if (!line) throw new Error(`wrk printed no summary:\n${out}`);
  const w = JSON.parse(line.slice('WRK_JSON '.length));
  return {
    rps: w.requests / (w.duration_us / 1e6),
    p50: w.p50_us / 1000,
    p99: w.p99_us / 1000,
    total: w.requests,
    non2xx: w.status,
    errors: w.connect + w.read + w.write,
    timeouts: w.timeout,
    taken: w.taken,
    clientCpu: cpu0 === undefined ? undefined : cpu1 - cpu0,
  };
}

async function driveAutocannon({ url, path, headers, pool, connections, duration, rate }) {
  const options = { url: url + path, connections, duration, headers, ...(rate ? { overallRate: rate } : {}) };
  let taken = 0;
  if (pool) {
    const { values, header, prefix = '', offset = 0 } = pool;
    options.requests = [
      {
        method: 'GET',
        path,
        setupRequest: (req) => {
          req.headers = { ...req.headers, [header]: prefix + values[(offset + taken++) % values.length] };
          return req;
        },
      },
    ];
  }
  const cpu0 = process.cpuUsage();
  const o = await autocannon(options);
  const cpu = process.cpuUsage(cpu0);
  return {
    rps: o.requests.average,
    p50: o.latency.p50,
    p99: o.latency.p99,
    total: o.requests.total,
    non2xx: o.non2xx,
    errors: o.errors,
    timeouts: o.timeouts,
    taken,
    clientCpu: cpu.user + cpu.system,
  };
}
