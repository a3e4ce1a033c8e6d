/**
 * Fixed-window rate limiting behind a pluggable store, so several proxy instances can share a
 * counter (Redis, Durable Objects, KV…) while a single instance needs nothing.
 */

/**
 * Counts hits per key per window.
 *
 * @example
 * const redisStore: RateLimitStore = {
 *   async hit(key, windowMs) {
 *     const n = await redis.incr(key);
 *     if (n === 1) await redis.pexpire(key, windowMs);
 *     return n;
 *   },
 * };
 */
export interface RateLimitStore {
  /** Records one hit for `key` and returns the number of hits in the current window, this one included. */
  hit(key: string, windowMs: number): Promise<number> | number;
}

/**
 * In-memory store with bounded memory: at most `maxKeys` keys; expired windows are swept, and
 * when full the oldest window is evicted (a flood of distinct IPs cannot grow it further).
 */
export class MemoryRateLimitStore implements RateLimitStore {
  private readonly windows = new Map<string, { start: number; count: number }>();
  private readonly maxKeys: number;
  private readonly now: () => number;

  constructor(options: { maxKeys?: number; now?: () => number } = {}) {
    this.maxKeys = Math.max(1, options.maxKeys ?? 10_000);
    this.now = options.now ?? Date.now;
  }

  /** Number of keys currently held (for tests and metrics). */
  get size(): number {
    return this.windows.size;
  }

  hit(key: string, windowMs: number): number {
    const now = this.now();
    const current = this.windows.get(key);
    if (current && now - current.start < windowMs) {
      current.count += 1;
      return current.count;
    }
    if (current) this.windows.delete(key);
    if (this.windows.size >= this.maxKeys) this.sweep(now, windowMs);
    while (this.windows.size >= this.maxKeys) {
      const oldest = this.windows.keys().next();
      if (oldest.done) break;
      this.windows.delete(oldest.value);
    }
    // Re-inserting keeps the Map in window-start order, so the first key is the oldest.
    this.windows.set(key, { start: now, count: 1 });
    return 1;
  }

  private sweep(now: number, windowMs: number): void {
    for (const [key, w] of this.windows) {
      if (now - w.start < windowMs) break;
      this.windows.delete(key);
    }
  }
}
