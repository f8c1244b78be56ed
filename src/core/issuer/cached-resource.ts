/**
 * A value loaded over the network and kept fresh: one load at a time (concurrent callers share it), refreshed in
 * the background after `maxAge`, served stale up to `maxStaleness` while loads fail, and never loaded more often
 * than once per `minInterval` after a failure (so an outage or a flood cannot hammer the provider).
 */
export interface CachedResourceOptions {
  maxAge: number; // ms
  maxStaleness: number; // ms, beyond maxAge
  minInterval: number; // ms between forced refreshes (unknown `kid`) and between background refreshes
  retryInterval: number; // ms between attempts after a failure
  now?: () => number;
}

export class Unavailable extends Error {
  constructor(
    readonly retryAfterMs: number,
    override readonly cause?: unknown,
  ) {
    super('unavailable');
  }
}

export class CachedResource<T> {
  private value: T | undefined;
  private fetchedAt = 0;
  private lastAttempt = Number.NEGATIVE_INFINITY;
  private lastFailure: unknown;
  private inflight: Promise<T> | undefined;
  private readonly now: () => number;

  constructor(
    private readonly load: () => Promise<T>,
    private readonly options: CachedResourceOptions,
    private readonly onStale?: (ageMs: number) => void,
  ) {
    this.now = options.now ?? Date.now;
  }

  /** The current value, loading it when absent or too stale. Throws {@link Unavailable}. */
  async get(): Promise<T> {
    const value = this.usable();
    if (value !== undefined) return value;
    if (this.inflight) return this.inflight;
    if (this.lastFailure !== undefined && this.now() - this.lastAttempt < this.options.retryInterval) {
      throw new Unavailable(this.lastAttempt + this.options.retryInterval - this.now(), this.lastFailure);
    }
    return this.refresh();
  }

  /** The value if one is loaded, fresh or not. */
  peek(): T | undefined {
    return this.value;
  }

  /**
   * The value while it may still be served: fresh, or stale within `maxStaleness` (a background refresh is then
   * started, at most once per `minInterval`). Undefined beyond that window, so that nothing derived from an
   * outdated value (e.g. a cached token verdict) outlives the staleness bound. Never waits, never throws.
   */
  usable(): T | undefined {
    const value = this.value;
    if (value === undefined) return undefined;
    const age = this.now() - this.fetchedAt;
    if (age <= this.options.maxAge) return value;
    if (age > this.options.maxAge + this.options.maxStaleness) return undefined;
    if (this.mayAttempt())
      this.refresh().catch(() => {}); // stale-while-revalidate
    else if (this.lastFailure !== undefined) this.onStale?.(age);
    return value;
  }

  /** Forces a reload unless one ran within `minInterval`; resolves to whether a reload happened. */
  async refreshIfAllowed(): Promise<boolean> {
    if (this.inflight) {
      await this.inflight.catch(() => {});
      return true;
    }
    if (!this.mayAttempt()) return false;
    await this.refresh();
    return true;
  }

  private mayAttempt(): boolean {
    return this.now() - this.lastAttempt >= this.options.minInterval;
  }

  private refresh(): Promise<T> {
    if (this.inflight) return this.inflight;
    this.lastAttempt = this.now();
    const attempt = this.load().then(
      (value) => {
        this.value = value;
        this.fetchedAt = this.now();
        this.lastFailure = undefined;
        this.inflight = undefined;
        return value;
      },
      (error: unknown) => {
        this.lastFailure = error;
        this.inflight = undefined;
        throw new Unavailable(this.options.retryInterval, error);
      },
    );
    this.inflight = attempt;
    return attempt;
  }
}
