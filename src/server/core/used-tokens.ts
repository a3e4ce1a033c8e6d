/**
 * Identity tokens are single use: the first identify that presents a token spends it, and a
 * replay (same browser or another) is refused before any upstream call. The store is pluggable
 * like the rate limit's, so several proxy instances can share it (Redis `SET NX PX`, a Durable
 * Object, a database row with a unique key…).
 */

/**
 * Remembers spent tokens until they expire.
 *
 * @example
 * const redisTokens: UsedTokenStore = {
 *   async claim(id, expiresAtMs) {
 *     // NX: only the first caller sets it; PX: forget it once the token has expired anyway.
 *     return (await redis.set(`mt:token:${id}`, '1', { NX: true, PX: Math.max(1, expiresAtMs - Date.now()) })) === 'OK';
 *   },
 * };
 */
export interface UsedTokenStore {
  /**
   * Marks the token `id` as spent. Resolves `true` for the first claim, `false` when it was
   * claimed before. `expiresAtMs` is when the token expires: the entry may be forgotten then.
   */
  claim(id: string, expiresAtMs: number): Promise<boolean> | boolean;
}

/**
 * In-memory store with bounded memory (default 100 000 tokens, ~10 MB at most). Expired entries
 * are swept when it is full; if it is still full, the entry expiring first is forgotten (logged
 * by the caller through the `evicted` count), which only reopens a replay window for that one token.
 */
export class MemoryUsedTokenStore implements UsedTokenStore {
  private readonly spent = new Map<string, number>();
  private readonly maxTokens: number;
  private readonly now: () => number;
  /** Unexpired tokens forgotten to stay within `maxTokens` (a sign the limit is too small). */
  evicted = 0;

  constructor(options: { maxTokens?: number; now?: () => number } = {}) {
    this.maxTokens = Math.max(1, options.maxTokens ?? 100_000);
    this.now = options.now ?? Date.now;
  }

  get size(): number {
    return this.spent.size;
  }

  claim(id: string, expiresAtMs: number): boolean {
    const now = this.now();
    const known = this.spent.get(id);
    if (known !== undefined && known > now) return false;
    if (known !== undefined) this.spent.delete(id);
    if (this.spent.size >= this.maxTokens) this.sweep(now);
    if (this.spent.size >= this.maxTokens) this.evictSoonest();
    this.spent.set(id, expiresAtMs);
    return true;
  }

  private sweep(now: number): void {
    for (const [id, expiresAt] of this.spent) if (expiresAt <= now) this.spent.delete(id);
  }

  private evictSoonest(): void {
    let soonest: string | undefined;
    let at = Infinity;
    for (const [id, expiresAt] of this.spent) {
      if (expiresAt < at) {
        at = expiresAt;
        soonest = id;
      }
    }
    if (soonest !== undefined) {
      this.spent.delete(soonest);
      this.evicted += 1;
    }
  }
}
