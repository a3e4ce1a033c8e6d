/**
 * The one storage contract behind every piece of state the proxy keeps between requests: the
 * identify rate limit, the spent identity tokens, the hit ids that make retried sends
 * exactly-once, and the OAuth2 token cache. One proxy needs nothing (the memory store is the
 * default); several instances pass one shared store (Redis, Cloudflare…) once, as
 * `createMauticProxy({ store })`, and every piece of state moves with it.
 *
 * Three operations, each atomic on the store's side, are enough for all of them: a counter with
 * expiry (rate limit), set-if-absent with expiry (single use, exactly once) and plain get/set
 * with expiry (token cache). Keys are namespaced by the caller (`mt:rl:…`, `mt:tok:…`).
 *
 * Keys under `CACHE_KEY_PREFIX` (`mt:cache:…`, e.g. the OAuth2 token cache) hold values any
 * instance can fetch again: a store may keep those in weaker, eventually consistent storage
 * (Workers KV). Every other key needs its operations atomic and visible to every instance at once.
 */
export const CACHE_KEY_PREFIX = 'mt:cache:';

export interface ProxyStore {
  /**
   * Adds one to the counter at `key` and resolves the new count. The first increment creates the
   * counter, which expires `ttlMs` after that first increment (a fixed window); later increments
   * do not extend it.
   */
  increment(key: string, ttlMs: number): Promise<number>;
  /**
   * Sets `key` to `value` for `ttlMs` only if it holds nothing (or only an expired value).
   * Resolves `true` when this call set it, `false` when it was already set.
   */
  setIfAbsent(key: string, value: string, ttlMs: number): Promise<boolean>;
  /** Resolves the unexpired value at `key`, or `undefined`. */
  get(key: string): Promise<string | undefined>;
  /** Sets `key` to `value`, replacing what was there; it expires after `ttlMs`. */
  set(key: string, value: string, ttlMs: number): Promise<void>;
}

/** Bounds of the memory store. */
export interface MemoryStoreOptions {
  /** Entries held at most; when full, expired entries are swept, then the soonest to expire goes. Default 100 000. */
  maxEntries?: number;
  /** Clock, for tests. */
  now?: () => number;
}

/**
 * The default store: one process's memory, bounded, so a flood of distinct keys cannot grow it
 * without limit. Right for a single instance; with several, each would keep its own state.
 */
export class MemoryStore implements ProxyStore {
  private readonly entries = new Map<string, { value: string; expiresAt: number }>();
  private readonly maxEntries: number;
  private readonly now: () => number;
  /** Unexpired entries forgotten to stay within `maxEntries` (a sign the bound is too small). */
  evicted = 0;

  constructor(options: MemoryStoreOptions = {}) {
    this.maxEntries = Math.max(1, options.maxEntries ?? 100_000);
    this.now = options.now ?? Date.now;
  }

  /** Entries currently held, expired ones not yet swept included (for tests and metrics). */
  get size(): number {
    return this.entries.size;
  }

  async increment(key: string, ttlMs: number): Promise<number> {
    const live = this.live(key);
    if (live) {
      const count = Number(live.value) + 1;
      live.value = String(count);
      return count;
    }
    this.put(key, '1', ttlMs);
    return 1;
  }

  async setIfAbsent(key: string, value: string, ttlMs: number): Promise<boolean> {
    if (this.live(key)) return false;
    this.put(key, value, ttlMs);
    return true;
  }

  async get(key: string): Promise<string | undefined> {
    return this.live(key)?.value;
  }

  async set(key: string, value: string, ttlMs: number): Promise<void> {
    this.put(key, value, ttlMs);
  }

  private live(key: string): { value: string; expiresAt: number } | undefined {
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    if (entry.expiresAt > this.now()) return entry;
    this.entries.delete(key);
    return undefined;
  }

  private put(key: string, value: string, ttlMs: number): void {
    this.entries.delete(key);
    if (this.entries.size >= this.maxEntries) this.makeRoom();
    this.entries.set(key, { value, expiresAt: this.now() + Math.max(1, ttlMs) });
  }

  private makeRoom(): void {
    const now = this.now();
    for (const [key, entry] of this.entries) if (entry.expiresAt <= now) this.entries.delete(key);
    if (this.entries.size < this.maxEntries) return;
    let soonest: string | undefined;
    let at = Infinity;
    for (const [key, entry] of this.entries) {
      if (entry.expiresAt < at) {
        at = entry.expiresAt;
        soonest = key;
      }
    }
    if (soonest !== undefined) {
      this.entries.delete(soonest);
      this.evicted += 1;
    }
  }
}
