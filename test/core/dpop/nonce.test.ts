/**
 * Resource-server DPoP nonces (RFC 9449 §9): HMAC over a time window. Current and previous windows verify, older
 * or forged nonces do not; managers sharing a secret (in options or in the real Redis on 127.0.0.1:6379) accept
 * each other's nonces, managers with different secrets do not.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { NonceManager } from '../../../src/core/dpop/nonce.js';
import { closedPort } from '../../support/helpers.js';

const WINDOW = 60;
const START = 1_749_999_980_000; // 20 s into a 60 s window (1_749_999_960 is a multiple of 60)

function clock(start = START) {
  let now = start;
  return { now: () => now, advance: (seconds: number) => void (now += seconds * 1000) };
}

/** Replaces one character of the MAC part, keeping the nonce's shape. */
function forge(nonce: string): string {
  const [index, mac] = nonce.split('.') as [string, string];
  const flipped = mac[5] === 'A' ? 'B' : 'A';
  return `${index}.${mac.slice(0, 5)}${flipped}${mac.slice(6)}`;
}

describe('NonceManager time windows', () => {
  it('verifies the current nonce as current', async () => {
    const manager = new NonceManager({ window: WINDOW, now: clock().now });
    const nonce = await manager.current();
    expect(nonce).toMatch(/^[0-9a-z]+\.[A-Za-z0-9_-]{32}$/);
    expect(await manager.verify(nonce)).toBe('current');
  });

  it('hands out the same nonce within a window and a new one in the next', async () => {
    const time = clock();
    const manager = new NonceManager({ window: WINDOW, now: time.now });
    const first = await manager.current();
    time.advance(39); // 59 s into the window
    expect(await manager.current()).toBe(first);
    time.advance(1);
    expect(await manager.current()).not.toBe(first);
  });

  it('accepts a nonce of the previous window as previous', async () => {
    const time = clock();
    const manager = new NonceManager({ window: WINDOW, now: time.now });
    const nonce = await manager.current();
    time.advance(WINDOW);
    expect(await manager.verify(nonce)).toBe('previous');
  });

  it('refuses a nonce two windows old', async () => {
    const time = clock();
    const manager = new NonceManager({ window: WINDOW, now: time.now });
    const nonce = await manager.current();
    time.advance(2 * WINDOW);
    expect(await manager.verify(nonce)).toBe('invalid');
  });

  it('refuses a nonce at the first instant of the window after next', async () => {
    const time = clock();
    const manager = new NonceManager({ window: WINDOW, now: time.now });
    const nonce = await manager.current(); // issued 20 s into window i: valid until window i+1 ends, 100 s later
    time.advance(99.999);
    expect(await manager.verify(nonce)).toBe('previous');
    time.advance(0.001);
    expect(await manager.verify(nonce)).toBe('invalid');
  });

  it('honours a custom window length', async () => {
    const time = clock(0);
    const manager = new NonceManager({ window: 5, now: time.now });
    const nonce = await manager.current();
    time.advance(5);
    expect(await manager.verify(nonce)).toBe('previous');
    time.advance(5);
    expect(await manager.verify(nonce)).toBe('invalid');
  });

  it('refuses a nonce from a future window', async () => {
    const time = clock();
    const ahead = clock(START + 2 * WINDOW * 1000);
    const secret = randomBytes(32);
    const now = new NonceManager({ window: WINDOW, secret, now: time.now });
    const later = new NonceManager({ window: WINDOW, secret, now: ahead.now });
    expect(await now.verify(await later.current())).toBe('invalid');
  });
});

describe('NonceManager refuses forged and malformed nonces', () => {
  it('refuses a forged MAC', async () => {
    const manager = new NonceManager({ window: WINDOW, now: clock().now });
    const nonce = await manager.current();
    expect(await manager.verify(forge(nonce))).toBe('invalid');
  });

  it('refuses the MAC of one window presented with another window index', async () => {
    const time = clock();
    const manager = new NonceManager({ window: WINDOW, now: time.now });
    const old = await manager.current();
    time.advance(WINDOW);
    const [currentIndex] = (await manager.current()).split('.');
    expect(await manager.verify(`${currentIndex}.${old.split('.')[1]}`)).toBe('invalid');
  });

  it('refuses garbage', async () => {
    const manager = new NonceManager({ window: WINDOW, now: clock().now });
    const nonce = await manager.current();
    const [index, mac] = nonce.split('.') as [string, string];
    const garbage: unknown[] = [
      undefined,
      null,
      42,
      {},
      [nonce],
      '',
      '.',
      'garbage',
      nonce.toUpperCase(),
      `${nonce}x`,
      ` ${nonce}`,
      `${index}.${mac.slice(1)}`,
      `${index}.${mac}.${mac}`,
      `-1.${mac}`,
      `${index}..${mac}`,
      'x'.repeat(10_000),
      `${'z'.repeat(13)}.${mac}`,
    ];
    for (const value of garbage) expect(await manager.verify(value)).toBe('invalid');
  });

  it('refuses a nonce issued under another secret', async () => {
    const time = clock();
    const a = new NonceManager({ window: WINDOW, secret: randomBytes(32), now: time.now });
    const b = new NonceManager({ window: WINDOW, secret: randomBytes(32), now: time.now });
    expect(await b.verify(await a.current())).toBe('invalid');
  });

  it('gives each process its own random secret when none is configured', async () => {
    const time = clock();
    const a = new NonceManager({ window: WINDOW, now: time.now });
    const b = new NonceManager({ window: WINDOW, now: time.now });
    expect(await a.current()).not.toBe(await b.current());
    expect(await b.verify(await a.current())).toBe('invalid');
  });

  it('accepts across managers that share a configured secret', async () => {
    const time = clock();
    const secret = 'a shared secret that is at least 32 bytes long';
    const a = new NonceManager({ window: WINDOW, secret, now: time.now });
    const b = new NonceManager({ window: WINDOW, secret, now: time.now });
    expect(await b.verify(await a.current())).toBe('current');
  });

  it('refuses a configured secret shorter than 32 bytes', () => {
    expect(() => new NonceManager({ secret: 'too short' })).toThrow(/dpop\.nonce\.secret/);
    expect(() => new NonceManager({ secret: randomBytes(31) })).toThrow(/at least 32/);
  });
});

describe('NonceManager with the secret in Redis (real Redis on 127.0.0.1:6379)', () => {
  const redisKey = `auth0-tsoa-api-test:${randomUUID()}:nonce-secret`;
  const otherKey = `auth0-tsoa-api-test:${randomUUID()}:nonce-secret`;
  const clients: Redis[] = [];

  async function client(): Promise<Redis> {
    const redis = new Redis({ host: '127.0.0.1', port: 6379, lazyConnect: true });
    await redis.connect();
    clients.push(redis);
    return redis;
  }

  beforeAll(async () => {
    await client();
  });
  afterAll(async () => {
    await clients[0]?.del(redisKey, otherKey);
    for (const c of clients) c.disconnect();
  });

  it("two managers on separate connections accept each other's nonces", async () => {
    const time = clock();
    const a = new NonceManager({ window: WINDOW, redis: await client(), redisKey, now: time.now });
    const b = new NonceManager({ window: WINDOW, redis: await client(), redisKey, now: time.now });
    expect(await b.verify(await a.current())).toBe('current');
    expect(await a.verify(await b.current())).toBe('current');
    time.advance(WINDOW);
    const old = await a.current();
    time.advance(WINDOW);
    expect(await b.verify(old)).toBe('previous');
  });

  it('managers racing to create the secret all end up with the same one', async () => {
    const key = `auth0-tsoa-api-test:${randomUUID()}:nonce-secret`;
    try {
      const time = clock();
      const redis = await Promise.all(Array.from({ length: 5 }, () => client()));
      const managers = redis.map((r) => new NonceManager({ window: WINDOW, redis: r, redisKey: key, now: time.now }));
      const nonces = await Promise.all(managers.map((m) => m.current()));
      expect(new Set(nonces).size).toBe(1);
    } finally {
      await clients[0]!.del(key);
    }
  });

  it("managers with different Redis secrets refuse each other's nonces", async () => {
    const time = clock();
    const a = new NonceManager({ window: WINDOW, redis: await client(), redisKey, now: time.now });
    const b = new NonceManager({ window: WINDOW, redis: await client(), redisKey: otherKey, now: time.now });
    expect(await b.verify(await a.current())).toBe('invalid');
    expect(await a.verify(await b.current())).toBe('invalid');
  });

  it('converges on a new secret after Redis lost the old one (restart without persistence), within one window', async () => {
    const key = `auth0-tsoa-api-test:${randomUUID()}:nonce-secret`;
    try {
      const time = clock();
      const old = new NonceManager({ window: WINDOW, redis: await client(), redisKey: key, now: time.now });
      const before = await old.current();
      await clients[0]!.del(key); // Redis lost its data
      const newcomer = new NonceManager({ window: WINDOW, redis: await client(), redisKey: key, now: time.now });
      expect(await newcomer.verify(before)).toBe('invalid'); // a new secret was written
      time.advance(WINDOW);
      expect(await old.current()).toBe(await newcomer.current());
      expect(await old.verify(await newcomer.current())).toBe('current');
    } finally {
      await clients[0]!.del(key);
    }
  });

  it('keeps serving the loaded secret while Redis is unreachable', async () => {
    const time = clock();
    const connection = await client();
    const manager = new NonceManager({ window: WINDOW, redis: connection, redisKey, now: time.now });
    const nonce = await manager.current();
    connection.disconnect();
    time.advance(WINDOW); // the secret is due for a re-read, which fails
    expect(await manager.verify(nonce)).toBe('previous');
    const next = await manager.current();
    expect(next).not.toBe(nonce);
    expect(await manager.verify(next)).toBe('current');
  });

  it('rejects (does not answer valid or invalid) when Redis is unreachable before the secret is loaded', async () => {
    const down = new Redis({ host: '127.0.0.1', port: await closedPort(), enableOfflineQueue: false, maxRetriesPerRequest: 1, lazyConnect: true });
    down.on('error', () => {});
    down.connect().catch(() => {});
    try {
      const manager = new NonceManager({ window: WINDOW, redis: down, redisKey, now: clock().now });
      await expect(manager.current()).rejects.toThrow();
      await expect(manager.verify('0.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA')).resolves.toBe('invalid'); // malformed: no store needed
      await expect(manager.verify(`${Math.floor(START / 1000 / WINDOW).toString(36)}.${'A'.repeat(32)}`)).rejects.toThrow();
    } finally {
      down.disconnect();
    }
  });
});
