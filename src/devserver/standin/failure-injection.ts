/** Failure injection: which requests fail, and how (status, delay, hang, refuse). */
import type { InjectOptions, StandinRoute } from './types.js';

export interface Injection {
  status?: number;
  body?: string;
  delayMs?: number;
  hang?: boolean;
  refuse?: boolean;
}

interface ActiveInjection extends Injection {
  route: NonNullable<InjectOptions['route']>;
  remaining: number;
}

export class FailureInjector {
  private active: ActiveInjection[] = [];

  add(options: InjectOptions): void {
    const times = options.times ?? Number.POSITIVE_INFINITY;
    if (!(times > 0)) throw new RangeError('inject: times must be a positive number');
    if (options.status !== undefined && !(Number.isInteger(options.status) && options.status >= 100 && options.status <= 599)) {
      throw new RangeError('inject: status must be an HTTP status code (100–599)');
    }
    if (options.delayMs !== undefined && !(options.delayMs >= 0)) {
      throw new RangeError('inject: delayMs must be >= 0');
    }
    const injection: ActiveInjection = { route: options.route ?? 'any', remaining: times };
    if (options.status !== undefined) injection.status = options.status;
    if (options.body !== undefined) injection.body = options.body;
    if (options.delayMs !== undefined) injection.delayMs = options.delayMs;
    if (options.hang) injection.hang = true;
    if (options.refuse) injection.refuse = true;
    this.active.push(injection);
  }

  /** The first matching injection, consumed once. Preflights are never affected. */
  take(route: StandinRoute): Injection | undefined {
    if (route === 'preflight') return undefined;
    const index = this.active.findIndex((entry) => entry.route === 'any' || entry.route === route);
    if (index === -1) return undefined;
    const entry = this.active[index];
    if (!entry) return undefined;
    entry.remaining -= 1;
    if (entry.remaining <= 0) this.active.splice(index, 1);
    const { route: _route, remaining: _remaining, ...injection } = entry;
    return injection;
  }

  clear(): void {
    this.active = [];
  }
}
