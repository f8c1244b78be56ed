/**
 * A value loaded over the network and kept fresh (src/core/issuer/cached-resource.ts): one load at a time, fresh
 * within `maxAge`, served stale (with a background refresh) up to `maxStaleness`, refused beyond it, and never
 * reloaded more often than `minInterval` / `retryInterval` allow after a failure. A hand-driven clock and a real
 * loader function stand in for time and the provider.
 */
import { describe, expect, it } from 'vitest';
import { CachedResource, Unavailable, type CachedResourceOptions } from '../../../src/core/issuer/cached-resource.js';

const OPTIONS = { maxAge: 1000, maxStaleness: 500, minInterval: 100, retryInterval: 300 };
const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** A loader whose answers the test decides: `next` values, or an error. Counts its calls. */
function setup(overrides: Partial<CachedResourceOptions> = {}) {
  let clock = 0;
  let version = 0;
  let failWith: Error | undefined;
  let gate: Promise<void> | undefined;
  const stale: number[] = [];
  const state = { calls: 0 };
  const load = async (): Promise<string> => {
    state.calls++;
    if (gate) await gate;
    if (failWith) throw failWith;
    return `v${++version}`;
  };
  const resource = new CachedResource(load, { ...OPTIONS, now: () => clock, ...overrides }, (age) => stale.push(age));
  return {
    resource,
    state,
    stale,
    advance: (ms: number) => {
      clock += ms;
    },
    fail: (error: Error | undefined) => {
      failWith = error;
    },
    hold: () => {
      let release!: () => void;
      gate = new Promise((resolve) => (release = resolve));
      return () => {
        gate = undefined;
        release();
      };
    },
  };
}

async function unavailable(promise: Promise<unknown>): Promise<Unavailable> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(Unavailable);
  return error as Unavailable;
}

describe('CachedResource: loading and freshness', () => {
  it('loads on first use and serves the value while fresh (up to maxAge inclusive)', async () => {
    const { resource, state, advance } = setup();
    expect(resource.peek()).toBeUndefined();
    expect(resource.usable()).toBeUndefined();
    expect(await resource.get()).toBe('v1');
    advance(1000);
    expect(await resource.get()).toBe('v1');
    expect(resource.usable()).toBe('v1');
    expect(state.calls).toBe(1);
  });

  it('shares one load among concurrent callers', async () => {
    const { resource, state, hold } = setup();
    const release = hold();
    const all = Promise.all([resource.get(), resource.get(), resource.get()]);
    release();
    expect(await all).toEqual(['v1', 'v1', 'v1']);
    expect(state.calls).toBe(1);
  });

  it('serves a stale value at once and refreshes it in the background', async () => {
    const { resource, state, advance } = setup();
    await resource.get();
    advance(1001);
    expect(await resource.get()).toBe('v1'); // stale, served without waiting
    expect(state.calls).toBe(2); // the background refresh started
    await settle();
    expect(await resource.get()).toBe('v2');
    expect(state.calls).toBe(2); // fresh again
  });

  it('starts at most one background refresh per minInterval', async () => {
    const { resource, state, advance, hold } = setup();
    await resource.get();
    advance(1001);
    const release = hold();
    resource.usable();
    resource.usable();
    advance(50);
    resource.usable();
    expect(state.calls).toBe(2);
    release();
    await settle();
    expect(resource.usable()).toBe('v2');
  });

  it('refuses a value older than maxAge + maxStaleness and waits for a new one', async () => {
    const atBound = setup();
    await atBound.resource.get();
    atBound.advance(1500);
    expect(atBound.resource.usable()).toBe('v1'); // exactly at the bound: still served

    const { resource, state, advance } = setup();
    await resource.get();
    advance(1501);
    expect(resource.usable()).toBeUndefined();
    expect(state.calls).toBe(1); // usable() never loads beyond the window
    expect(resource.peek()).toBe('v1'); // still known, not servable
    expect(await resource.get()).toBe('v2');
    expect(state.calls).toBe(2);
  });
});

describe('CachedResource: failures', () => {
  it('turns a failed first load into Unavailable with the cause and retryInterval', async () => {
    const { resource, fail } = setup();
    const cause = new Error('ECONNREFUSED');
    fail(cause);
    const error = await unavailable(resource.get());
    expect(error.retryAfterMs).toBe(300);
    expect(error.cause).toBe(cause);
    expect(error.message).toBe('unavailable');
  });

  it('does not call the provider again within retryInterval, and says how long to wait', async () => {
    const { resource, state, fail, advance } = setup();
    const cause = new Error('down');
    fail(cause);
    await unavailable(resource.get());
    advance(120);
    const error = await unavailable(resource.get());
    expect(error.retryAfterMs).toBe(180);
    expect(error.cause).toBe(cause);
    expect(state.calls).toBe(1);
    advance(180);
    fail(undefined);
    expect(await resource.get()).toBe('v1');
    expect(state.calls).toBe(2);
  });

  it('keeps serving the stale value while refreshes fail, reporting its age once minInterval blocks retries', async () => {
    const { resource, state, stale, fail, advance } = setup();
    await resource.get();
    fail(new Error('down'));
    advance(1100);
    expect(await resource.get()).toBe('v1'); // refresh started in the background, fails
    await settle();
    expect(state.calls).toBe(2);
    expect(stale).toEqual([]);
    advance(50); // within minInterval of the failed attempt
    expect(resource.usable()).toBe('v1');
    expect(stale).toEqual([1150]);
    expect(state.calls).toBe(2);
    advance(50); // minInterval passed: another attempt
    expect(resource.usable()).toBe('v1');
    expect(state.calls).toBe(3);
    await settle();
    advance(400); // 1600 ms old: beyond the staleness window
    expect(resource.usable()).toBeUndefined();
    await unavailable(resource.get());
  });

  it('a success clears the failure: no staleness report afterwards', async () => {
    const { resource, stale, fail, advance, hold } = setup();
    await resource.get();
    fail(new Error('down'));
    advance(1100);
    resource.usable();
    await settle();
    fail(undefined);
    advance(100);
    resource.usable(); // refresh succeeds in the background
    await settle();
    expect(resource.usable()).toBe('v2');
    advance(1050);
    const release = hold();
    resource.usable(); // a background refresh starts (and waits)
    advance(10);
    expect(resource.usable()).toBe('v2'); // within minInterval, no failure since the success: nothing to report
    expect(stale).toEqual([]);
    release();
    await settle();
    expect(resource.usable()).toBe('v3');
  });
});

describe('CachedResource.refreshIfAllowed (an unknown key id)', () => {
  it('reloads when minInterval has passed since the last attempt, and not before', async () => {
    const { resource, state, advance } = setup();
    await resource.get();
    advance(99);
    expect(await resource.refreshIfAllowed()).toBe(false);
    expect(state.calls).toBe(1);
    advance(1);
    expect(await resource.refreshIfAllowed()).toBe(true);
    expect(state.calls).toBe(2);
    expect(resource.peek()).toBe('v2');
  });

  it('reloads a resource never loaded', async () => {
    const { resource, state } = setup();
    expect(await resource.refreshIfAllowed()).toBe(true);
    expect(state.calls).toBe(1);
    expect(resource.peek()).toBe('v1');
  });

  it('joins a load in flight instead of starting another, even if that load fails', async () => {
    const { resource, state, hold, fail } = setup();
    const release = hold();
    fail(new Error('down'));
    const first = resource.get().catch((e: unknown) => e);
    const joined = resource.refreshIfAllowed();
    release();
    expect(await joined).toBe(true);
    expect(await first).toBeInstanceOf(Unavailable);
    expect(state.calls).toBe(1);
  });

  it('rejects with Unavailable when the forced reload fails', async () => {
    const { resource, fail } = setup();
    fail(new Error('down'));
    await unavailable(resource.refreshIfAllowed());
  });
});
