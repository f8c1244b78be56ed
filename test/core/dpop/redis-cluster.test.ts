/**
 * the Redis replay store and the nonce secret on a real Redis Cluster — three
 * `redis-server --cluster-enabled yes` masters (0 replicas) started here, two ioredis `Cluster` clients standing for
 * two API instances. Stores are driven directly (the validator turns a ReplayStoreError into its 503).
 *
 * Durability: the nodes run with `appendonly yes` + `appendfsync always`, so every write Redis acknowledged is on disk
 * before the reply and survives a SIGKILL. That is what lets "nothing is accepted twice" hold across a node restart;
 * the last test shows what happens without persistence (the restarted master comes back empty, and proofs it had
 * recorded are accepted again) — why the README asks for AOF (or replicas) on the store's Redis.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Cluster, type Redis } from 'ioredis';
import { RedisReplayStore } from '../../../src/core/dpop/redis-replay-store.js';
import { ReplayStoreError } from '../../../src/core/errors.js';
import type { ReplayRecord } from '../../../src/core/dpop/replay-store.js';
import { NonceManager } from '../../../src/core/dpop/nonce.js';
import { startRedisCluster, waitFor, type TestRedisCluster } from '../../support/redis-cluster.js';

const hash = () => randomBytes(32).toString('base64url');
const TTL = 120_000;
const record = (owner: string, key = hash()): ReplayRecord => ({ owner, key, iat: Math.floor(Date.now() / 1000), ttlMs: TTL });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let cluster: TestRedisCluster;
let clientA: Cluster;
let clientB: Cluster;
let storeA: RedisReplayStore;
let storeB: RedisReplayStore;

/** An API instance's Cluster client: no offline queue, so an unreachable slot fails instead of waiting. */
async function connectCluster(): Promise<Cluster> {
  const client = new Cluster(cluster.nodes, { enableOfflineQueue: false, redisOptions: { commandTimeout: 1_000 } });
  client.on('error', () => {}); // node outages are provoked on purpose; the store reports them
  await new Promise((resolve, reject) => {
    client.once('ready', resolve);
    setTimeout(() => reject(new Error('cluster client not ready')), 10_000);
  });
  return client;
}

/** The master port that serves an owner's keys (both keys of a record share the owner hash tag). */
async function portOfOwner(owner: string): Promise<number> {
  const { proof, counter } = storeA.keysOf({ owner, key: 'x' });
  const [slot, counterSlot] = [Number(await clientA.cluster('KEYSLOT', proof)), Number(await clientA.cluster('KEYSLOT', counter))];
  expect(counterSlot).toBe(slot);
  return cluster.portOfSlot(slot);
}

/** `count` owners per master, so traffic reaches every node. */
async function ownersPerNode(count: number): Promise<Map<number, string[]>> {
  const byPort = new Map<number, string[]>(cluster.ports.map((p) => [p, []]));
  while ([...byPort.values()].some((owners) => owners.length < count)) {
    const owner = hash();
    const owners = byPort.get(await portOfOwner(owner))!;
    if (owners.length < count) owners.push(owner);
  }
  return byPort;
}

beforeAll(async () => {
  const started = Date.now();
  cluster = await startRedisCluster({ persistence: 'aof-always' });
  [clientA, clientB] = [await connectCluster(), await connectCluster()];
  storeA = new RedisReplayStore(clientA, { timeoutMs: 1_500 });
  storeB = new RedisReplayStore(clientB, { timeoutMs: 1_500 });
  console.info(`redis cluster (3 masters, AOF always) up in ${Date.now() - started} ms on ports ${cluster.ports.join(', ')}`);
});
afterAll(async () => {
  clientA?.disconnect();
  clientB?.disconnect();
  await cluster?.close();
});

describe('Redis Cluster for real (three masters started by the test)', () => {
  it('spreads proofs of different owners over all three masters; each owner keeps its proof and counter keys on one node', async () => {
    const records = Array.from({ length: 60 }, () => record(hash()));
    expect(await Promise.all(records.map((r) => storeA.checkAndRemember(r)))).toEqual(Array(60).fill(true));
    const masters = clientA.nodes('master');
    expect(masters).toHaveLength(3);
    const proofsPerNode: number[] = [];
    for (const node of masters) {
      const keys = await scanAll(node, 'auth0-tsoa-api:dpop:*');
      const proofs = keys.filter((k) => k.includes('}:p:'));
      proofsPerNode.push(proofs.length);
      // Every proof's counter lives on the same node (same {owner} hash tag): the script never crosses slots.
      for (const proof of proofs) expect(await node.exists(proof.replace(/:p:[^:]+$/, ':n'))).toBe(1);
    }
    expect(proofsPerNode.every((n) => n > 0)).toBe(true);
    expect(proofsPerNode.reduce((a, b) => a + b)).toBeGreaterThanOrEqual(60);
  });

  it('refuses on instance B a proof accepted on instance A, and the other way round', async () => {
    for (const [first, second] of [
      [storeA, storeB],
      [storeB, storeA],
    ] as const) {
      const proof = record(hash());
      expect(await first.checkAndRemember(proof)).toBe(true);
      expect(await second.checkAndRemember(proof)).toBe(false);
      expect(await first.checkAndRemember(proof)).toBe(false);
    }
  });

  it('accepts one proof exactly once when both instances receive it at the same time', async () => {
    for (let round = 0; round < 10; round++) {
      const proof = record(hash());
      const answers = await Promise.all(Array.from({ length: 10 }, (_, i) => (i % 2 ? storeA : storeB).checkAndRemember(proof)));
      expect(answers.filter((a) => a === true)).toHaveLength(1);
    }
  });

  it('shares the nonce secret across instances through the Cluster', async () => {
    const redisKey = `auth0-tsoa-api-test:nonce-secret:${hash()}`;
    const [a, b] = [new NonceManager({ redis: clientA, redisKey }), new NonceManager({ redis: clientB, redisKey })];
    const [nonceA, nonceB] = await Promise.all([a.current(), b.current()]);
    expect(nonceA).toBe(nonceB); // one secret won the SET NX race; both read it
    expect(await b.verify(nonceA)).toBe('current');
    expect(await a.verify(nonceB)).toBe('current');
    expect(await new NonceManager({ redis: clientB, redisKey: `${redisKey}-other` }).verify(nonceA)).toBe('invalid');
  });

  it('checks maxmemory-policy through the Cluster client (noeviction: silent; volatile-lru: one warning)', async () => {
    const warnings: string[] = [];
    expect(await new RedisReplayStore(clientA, { onWarning: (m) => warnings.push(m) }).checkEvictionPolicy()).toBe('noeviction');
    const masters = clientA.nodes('master');
    try {
      await Promise.all(masters.map((node) => node.config('SET', 'maxmemory-policy', 'volatile-lru')));
      expect(await new RedisReplayStore(clientA, { onWarning: (m) => warnings.push(m) }).checkEvictionPolicy()).toBe('volatile-lru');
      expect(warnings).toHaveLength(1);
      expect(warnings[0]).toMatch(/"volatile-lru"/);
    } finally {
      await Promise.all(masters.map((node) => node.config('SET', 'maxmemory-policy', 'noeviction')));
    }
  });

  it('the per-owner quota holds across instances; another owner on the same node is still accepted', async () => {
    const owners = await ownersPerNode(2);
    const [greedy, neighbour] = owners.get(cluster.ports[0]!)!; // same master, different owners
    const [quotaA, quotaB] = [new RedisReplayStore(clientA, { maxPerOwner: 5 }), new RedisReplayStore(clientB, { maxPerOwner: 5 })];
    const accepted: ReplayRecord[] = [];
    for (let i = 0; i < 5; i++) {
      const proof = record(greedy!);
      expect(await (i < 3 ? quotaA : quotaB).checkAndRemember(proof)).toBe(true);
      accepted.push(proof);
    }
    for (const store of [quotaA, quotaB]) {
      const error = await store.checkAndRemember(record(greedy!)).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(ReplayStoreError);
      expect((error as ReplayStoreError).retryAfter).toBeGreaterThanOrEqual(TTL / 1000 - 5); // the window's real remaining time
      expect((error as ReplayStoreError).retryAfter).toBeLessThanOrEqual(TTL / 1000);
    }
    for (let i = 0; i < 5; i++) expect(await quotaB.checkAndRemember(record(neighbour!))).toBe(true); // its own full quota
    for (const proof of accepted) expect(await quotaA.checkAndRemember(proof)).toBe(false); // replays stay 401, not 503
  });

  it('a master killed (SIGKILL) during traffic: its slots fail closed, the others keep working, it recovers after a restart, nothing is accepted twice', async () => {
    const owners = await ownersPerNode(4);
    const victim = cluster.ports[1]!;
    const everyone = [0, 1, 2, 3].flatMap((i) => cluster.ports.map((port) => owners.get(port)![i]!)); // nodes interleaved
    type Outcome = { owner: string; port: number; proof: ReplayRecord; start: number; end: number; result: boolean | ReplayStoreError; replay: boolean };
    const outcomes: Outcome[] = [];
    const accepted: ReplayRecord[] = [];
    const portOf = new Map([...owners].flatMap(([port, list]) => list.map((o) => [o, port] as const)));
    const unexpected: unknown[] = [];

    // Open-loop traffic, like independent clients: every 10 ms one request per instance, whatever is still in flight.
    // Owners go round the nodes; every fourth request replays an already accepted proof.
    async function request(n: number, store: RedisReplayStore) {
      const replay = n % 4 === 3 && accepted.length > 0;
      const proof = replay ? accepted[Math.floor(Math.random() * accepted.length)]! : record(everyone[n % everyone.length]!);
      const start = Date.now();
      let result: boolean | ReplayStoreError;
      try {
        result = await store.checkAndRemember(proof);
      } catch (error) {
        if (!(error instanceof ReplayStoreError)) return void unexpected.push(error);
        result = error;
      }
      outcomes.push({ owner: proof.owner, port: portOf.get(proof.owner)!, proof, start, end: Date.now(), result, replay });
      if (result === true && !replay) accepted.push(proof);
    }
    const inflight = new Set<Promise<void>>();
    let n = 0;
    const ticker = setInterval(() => {
      for (const store of [storeA, storeB]) {
        const pending = request(n++, store);
        inflight.add(pending);
        void pending.finally(() => inflight.delete(pending));
      }
    }, 10);

    const t0 = Date.now();
    await sleep(800);
    await cluster.kill(victim);
    const killed = Date.now();
    await sleep(2_500);
    const restarting = Date.now();
    await cluster.restart(victim);
    await cluster.waitHealthy();
    const healthy = Date.now();
    await waitFor('a proof on the restarted master to be accepted', async () => outcomes.some((o) => o.port === victim && o.start > healthy && o.result === true));
    const recovered = Date.now();
    await sleep(500);
    clearInterval(ticker);
    await Promise.all(inflight);
    const ended = Date.now();

    expect(unexpected).toEqual([]);
    const onVictim = (o: Outcome) => o.port === victim;
    const fresh = outcomes.filter((o) => !o.replay);
    const during = fresh.filter((o) => o.start >= killed && o.end <= restarting);
    const failedClosed = during.filter((o) => onVictim(o));
    const othersDuring = during.filter((o) => !onVictim(o));

    // Nothing is accepted twice, during any phase: no replay was answered true; no fresh proof was called a replay.
    expect(outcomes.filter((o) => o.replay && o.result === true)).toEqual([]);
    expect(fresh.filter((o) => o.result === false)).toEqual([]);
    // Before the kill, every node accepted.
    expect(new Set(fresh.filter((o) => o.end < killed && o.result === true).map((o) => o.port)).size).toBe(3);
    // While the victim was down: each of its proofs failed closed (ReplayStoreError, retryAfter ≥ 1), none accepted.
    expect(failedClosed.length).toBeGreaterThan(0);
    for (const o of failedClosed) {
      expect(o.result).toBeInstanceOf(ReplayStoreError);
      expect((o.result as ReplayStoreError).retryAfter).toBeGreaterThanOrEqual(1);
    }
    // ... and the two other masters kept accepting (cluster-require-full-coverage no).
    expect(othersDuring.length).toBeGreaterThan(failedClosed.length);
    expect(othersDuring.filter((o) => o.result !== true)).toEqual([]);
    // After the restart: new proofs on the victim's slots are accepted again.
    expect(fresh.filter((o) => onVictim(o) && o.start > healthy && o.result === true).length).toBeGreaterThan(0);

    // Every proof ever accepted — on the victim before it was killed too (AOF, fsync always) — is refused now, on both instances.
    const acceptedOnVictimBeforeKill = accepted.filter((p) => portOf.get(p.owner) === victim && outcomes.find((o) => o.proof === p)!.end < killed);
    expect(acceptedOnVictimBeforeKill.length).toBeGreaterThan(0);
    for (const store of [storeA, storeB]) {
      const answers = await Promise.all(accepted.map((p) => store.checkAndRemember(p)));
      expect(answers.filter((a) => a !== false)).toEqual([]);
    }

    console.info(
      `node restart: ${outcomes.length} requests in ${ended - t0} ms (${accepted.length} proofs accepted, ` +
        `${outcomes.filter((o) => o.result instanceof ReplayStoreError).length} failed closed, ${outcomes.filter((o) => o.replay).length} replays refused); ` +
        `kill→restart ${restarting - killed} ms, restart→healthy ${healthy - restarting} ms, healthy→first accepted ${recovered - healthy} ms; ` +
        `victim slots while down: ${failedClosed.length} refused in ${Math.round(avg(failedClosed.map((o) => o.end - o.start)))} ms on average; ` +
        `other slots: ${othersDuring.length} accepted in ${Math.round(avg(othersDuring.map((o) => o.end - o.start)))} ms on average`,
    );
  });

  it('without persistence a restarted master comes back empty and re-opens replays of what it had recorded (why AOF)', async () => {
    const victim = cluster.ports[2]!;
    const [owner] = (await ownersPerNode(1)).get(victim)!;
    const proof = record(owner!);
    expect(await storeA.checkAndRemember(proof)).toBe(true);
    expect(await storeB.checkAndRemember(proof)).toBe(false);
    await cluster.kill(victim);
    await cluster.restart(victim, 'none'); // same node (nodes.conf), same slots, but no AOF loaded: no data
    await cluster.waitHealthy();
    let answer: boolean | undefined;
    await waitFor('the restarted master to answer', async () => {
      answer = await storeB.checkAndRemember(proof);
      return true;
    });
    expect(answer).toBe(true); // the same proof, accepted a second time
  });
});

function avg(values: number[]): number {
  return values.length === 0 ? 0 : values.reduce((a, b) => a + b) / values.length;
}

async function scanAll(node: Redis, pattern: string): Promise<string[]> {
  const keys: string[] = [];
  let cursor = '0';
  do {
    const [next, batch] = await node.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
    keys.push(...batch);
    cursor = next;
  } while (cursor !== '0');
  return keys;
}
