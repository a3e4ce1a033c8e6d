/**
 * Mautic's optional API rate limiter (docs/protocol.md §7): a fixed one-hour window per key, starting at
 * the key's first call. Answers carry X-RateLimit-Limit/Remaining/Reset (Unix seconds).
 */
import { RATE_LIMIT_HEADERS } from '../../protocol/rest.js';

const WINDOW_MS = 3600 * 1000;

export interface RateDecision {
  allowed: boolean;
  headers: Record<string, string>;
  limit: number;
}

export class RateLimiter {
  private windows = new Map<string, { startMs: number; count: number }>();

  constructor(private readonly limitPerHour: number) {}

  get enabled(): boolean {
    return this.limitPerHour > 0;
  }

  hit(key: string, nowMs: number): RateDecision {
    let window = this.windows.get(key);
    if (!window || nowMs >= window.startMs + WINDOW_MS) {
      window = { startMs: nowMs, count: 0 };
      this.windows.set(key, window);
    }
    window.count += 1;
    const allowed = window.count <= this.limitPerHour;
    return {
      allowed,
      limit: this.limitPerHour,
      headers: {
        [RATE_LIMIT_HEADERS.limit]: String(this.limitPerHour),
        [RATE_LIMIT_HEADERS.remaining]: String(Math.max(0, this.limitPerHour - window.count)),
        [RATE_LIMIT_HEADERS.reset]: String(Math.ceil((window.startMs + WINDOW_MS) / 1000)),
      },
    };
  }

  clear(): void {
    this.windows.clear();
  }
}
