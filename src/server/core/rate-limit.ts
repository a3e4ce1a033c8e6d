/**
 * Fixed-window rate limiting on the proxy's store (store.ts): one counter per key per window, so
 * every instance sharing the store counts against the same limit.
 */
import type { ProxyStore } from './store.js';

/** Key namespace of the counters in the store. */
export const RATE_LIMIT_KEY_PREFIX = 'mt:rl:';

export class RateLimit {
  constructor(
    private readonly store: ProxyStore,
    private readonly max: number,
    readonly windowMs: number,
  ) {}

  /** Counts one request for `key`; true while within the limit. Rejects when the store fails. */
  async allow(key: string): Promise<boolean> {
    return (await this.store.increment(RATE_LIMIT_KEY_PREFIX + key, this.windowMs)) <= this.max;
  }
}
