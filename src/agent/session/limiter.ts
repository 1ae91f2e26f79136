/**
 * The rate limit: at most `count` reported calls per `perMs`. The budget is refilled
 * by a timer, never by reading the clock on each call: a clock read costs more than the
 * whole idle path, and the limiter runs on every matching call, including the ones it
 * drops. A drop is then one decrement and one compare.
 */
export interface Timers {
  setInterval(fn: () => void, ms: number): unknown;
  clearInterval(handle: unknown): void;
}

const realTimers: Timers = {
  setInterval(fn, ms) {
    const handle = setInterval(fn, ms);
    handle.unref();
    return handle;
  },
  clearInterval(handle) {
    clearInterval(handle as NodeJS.Timeout);
  },
};

export class RateLimiter {
  private tokens: number;
  private readonly count: number;
  private handle: unknown;
  private readonly timers: Timers;

  constructor(count: number, perMs: number, timers: Timers = realTimers) {
    this.count = count;
    this.tokens = count;
    this.timers = timers;
    this.handle = timers.setInterval(() => {
      this.tokens = this.count;
    }, perMs);
  }

  /** True if the call may be reported; false means over the rate for this period. */
  take(): boolean {
    return --this.tokens >= 0;
  }

  close(): void {
    this.timers.clearInterval(this.handle);
  }
}
