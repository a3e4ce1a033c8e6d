/**
 * One deadline for a whole multi-call operation: every step is bounded by what remains, so the
 * sum can never exceed the budget (per-call timeouts plus retries once added up to 3.4×).
 */
export class Deadline {
  private readonly controller = new AbortController();
  private readonly timer: ReturnType<typeof setTimeout>;
  private readonly endsAt: number;

  constructor(readonly budgetMs: number, private readonly now: () => number = Date.now) {
    this.endsAt = now() + budgetMs;
    this.timer = setTimeout(() => this.controller.abort(), budgetMs);
    (this.timer as { unref?: () => void }).unref?.();
  }

  /** Aborts when the time is up. */
  get signal(): AbortSignal {
    return this.controller.signal;
  }

  get expired(): boolean {
    return this.controller.signal.aborted;
  }

  /** Milliseconds left (0 when expired). */
  remaining(): number {
    return this.expired ? 0 : Math.max(0, this.endsAt - this.now());
  }

  /** Releases the timer once the operation finished early. */
  done(): void {
    clearTimeout(this.timer);
  }

  /** `promise`'s outcome, or `onTimeout()` once the deadline passes, whichever comes first. */
  race<T>(promise: Promise<T>, onTimeout: () => T): Promise<T> {
    if (this.expired) return Promise.resolve(onTimeout());
    return new Promise<T>((resolve, reject) => {
      const onAbort = (): void => resolve(onTimeout());
      this.signal.addEventListener('abort', onAbort, { once: true });
      promise.then(
        (value) => {
          this.signal.removeEventListener('abort', onAbort);
          resolve(value);
        },
        (error: unknown) => {
          this.signal.removeEventListener('abort', onAbort);
          reject(error instanceof Error ? error : new Error(String(error)));
        },
      );
    });
  }
}
