/**
 * Real Redis servers for tests: a single `redis-server` on a free port ({@link startRedisServer}) and a three-master
 * Redis Cluster ({@link startRedisCluster}) in a temporary directory, with kill/restart of one node and teardown.
 */
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { mkdtemp, mkdir, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';

const run = promisify(execFile);

/** A running redis-server child process. */
export interface RedisProcess {
  port: number;
  child: ChildProcess;
  /** SIGKILL, and wait for the exit. */
  kill(): Promise<void>;
}

/** Whether 127.0.0.1:port can be bound right now. */
async function portFree(port: number): Promise<boolean> {
  const server = createServer();
  return new Promise((resolve) => {
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/**
 * A port P such that P and P + 10000 (the cluster bus port) are both free. Picked at random in 20000–29999 (below
 * the usual ephemeral range), so the bus port stays valid.
 */
export async function freeRedisPort(taken: number[] = []): Promise<number> {
  for (let attempt = 0; attempt < 200; attempt++) {
    const port = 20_000 + Math.floor(Math.random() * 10_000);
    if (taken.includes(port)) continue;
    if ((await portFree(port)) && (await portFree(port + 10_000))) return port;
  }
  throw new Error('no free port pair for redis-server');
}

/** Starts `redis-server` with the given arguments (after `--port`/`--bind`) and waits until it accepts connections. */
export async function startRedisServer(port: number, args: string[] = ['--save', '', '--appendonly', 'no']): Promise<RedisProcess> {
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  await new Promise<void>((resolve, reject) => {
    let output = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`redis-server :${port} did not start: ${output}`));
    }, 15_000);
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes('Ready to accept connections')) {
        clearTimeout(timer);
        child.off('exit', onExit);
        resolve();
      }
    };
    const onExit = (code: number | null) => {
      clearTimeout(timer);
      reject(new Error(`redis-server :${port} exited with ${code}: ${output}`));
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.once('exit', onExit);
  });
  // Never outlive the test process, even when it ends without running afterAll.
  const reap = () => child.kill('SIGKILL');
  process.once('exit', reap);
  child.once('exit', () => process.off('exit', reap));
  child.stdout.removeAllListeners('data').resume();
  child.stderr.removeAllListeners('data').resume();
  return {
    port,
    child,
    async kill() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGKILL');
      await exited;
    },
  };
}

/** Polls `check` every 50 ms until it is true; throws after `ms`. */
export async function waitFor(what: string, check: () => Promise<boolean>, ms = 20_000): Promise<void> {
  const until = Date.now() + ms;
  for (;;) {
    if (await check().catch(() => false)) return;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** One command to one node on a short-lived connection. */
async function ask(port: number, ...command: string[]): Promise<unknown> {
  const redis = new Redis({ host: '127.0.0.1', port, lazyConnect: true, enableOfflineQueue: false, maxRetriesPerRequest: 0, retryStrategy: () => null });
  redis.on('error', () => {});
  try {
    await redis.connect();
    return await redis.call(command[0]!, ...command.slice(1));
  } finally {
    redis.disconnect();
  }
}

/** Options of {@link startRedisCluster}. */
export interface RedisClusterOptions {
  /**
   * `none`: no RDB, no AOF (a restarted node comes back empty). `aof-always`: AOF with `appendfsync always`, so every
   * acknowledged write is on disk before the reply and survives SIGKILL. Default `none`.
   */
  persistence?: 'none' | 'aof-always';
  /** `cluster-node-timeout` in ms. Default 1000 (fast failure detection for tests). */
  nodeTimeoutMs?: number;
}

/** A three-master Redis Cluster (0 replicas) started by a test. */
export interface TestRedisCluster {
  /** The masters' ports (node i is `ports[i]`). */
  ports: number[];
  /** Startup nodes for an ioredis `Cluster`. */
  nodes: { host: string; port: number }[];
  /** The port of the master serving `slot` (as the cluster sees it now). */
  portOfSlot(slot: number): number;
  /** SIGKILL one node (no shutdown, no final save). */
  kill(port: number): Promise<void>;
  /** Starts a killed node again on the same port and directory (its nodes.conf: same ID, same slots). */
  restart(port: number, persistence?: RedisClusterOptions['persistence']): Promise<void>;
  /** Until every node is up, sees no failed node, and reports `cluster_state:ok` with all 16384 slots. */
  waitHealthy(): Promise<void>;
  /** Kills every node and removes the temporary directory. */
  close(): Promise<void>;
}

/**
 * Starts three `redis-server --cluster-enabled yes` nodes on free ports in a temporary directory and joins them with
 * `redis-cli --cluster create ... --cluster-replicas 0 --cluster-yes`. `cluster-require-full-coverage no`: while a
 * master is down, the other masters keep serving their slots (with the default `yes` the whole cluster would stop).
 */
export async function startRedisCluster(options: RedisClusterOptions = {}): Promise<TestRedisCluster> {
  const dir = await mkdtemp(join(tmpdir(), 'redis-cluster-'));
  const nodeTimeout = String(options.nodeTimeoutMs ?? 1000);
  const processes = new Map<number, RedisProcess>();
  const ports: number[] = [];
  for (let i = 0; i < 3; i++) ports.push(await freeRedisPort(ports));

  const persistenceArgs = (mode: RedisClusterOptions['persistence']) => (mode === 'aof-always' ? ['--save', '', '--appendonly', 'yes', '--appendfsync', 'always'] : ['--save', '', '--appendonly', 'no']);
  const start = async (port: number, mode: RedisClusterOptions['persistence']) => {
    const nodeDir = join(dir, String(port));
    await mkdir(nodeDir, { recursive: true });
    const args = ['--cluster-enabled', 'yes', '--cluster-config-file', 'nodes.conf', '--cluster-node-timeout', nodeTimeout, '--cluster-require-full-coverage', 'no', '--dir', nodeDir, ...persistenceArgs(mode)];
    processes.set(port, await startRedisServer(port, args));
  };

  let slots: { from: number; to: number; port: number }[] = [];
  const readSlots = async () => {
    const reply = (await ask(ports[0]!, 'CLUSTER', 'SLOTS')) as [number, number, [string, number]][];
    slots = reply.map(([from, to, [, port]]) => ({ from, to, port }));
  };

  const cluster: TestRedisCluster = {
    ports,
    nodes: ports.map((port) => ({ host: '127.0.0.1', port })),
    portOfSlot(slot) {
      const range = slots.find((r) => slot >= r.from && slot <= r.to);
      if (!range) throw new Error(`slot ${slot} is not served`);
      return range.port;
    },
    async kill(port) {
      await processes.get(port)?.kill();
    },
    async restart(port, mode = options.persistence) {
      await start(port, mode);
    },
    async waitHealthy() {
      await waitFor('a healthy cluster', async () => {
        for (const port of ports) {
          const info = String(await ask(port, 'CLUSTER', 'INFO'));
          if (!info.includes('cluster_state:ok') || !info.includes('cluster_slots_ok:16384') || !info.includes('cluster_known_nodes:3')) return false;
          if (/\bfail\??\b/.test(String(await ask(port, 'CLUSTER', 'NODES')))) return false;
        }
        return true;
      });
      await readSlots();
    },
    async close() {
      await Promise.all([...processes.values()].map((p) => p.kill()));
      await rm(dir, { recursive: true, force: true });
    },
  };

  try {
    await Promise.all(ports.map((port) => start(port, options.persistence)));
    await run('redis-cli', ['--cluster', 'create', ...ports.map((p) => `127.0.0.1:${p}`), '--cluster-replicas', '0', '--cluster-yes'], { timeout: 30_000 });
    await cluster.waitHealthy();
  } catch (error) {
    await cluster.close();
    throw error;
  }
  return cluster;
}
