/**
 * The rate limit: at most `count` reported calls per `perMs`. The budget is refilled
 * by a timer, never by reading the clock on each call: a clock read costs more than the
 * whole idle path, and the limiter runs on every matching call, including the ones it
 * drops. A drop is then one decrement and one compare; for a pattern that takes every
 * call, the site's wrapper reads the budget itself and drops without asking the session
 * (the limiter is the site's gate, patcher/site.ts).
 */
import type { Gate } from '../patcher/dispatch.js';

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

export class RateLimiter implements Gate {
  /** Calls the budget allows until the next refill (negative once overdrawn). */
  tokens: number;
  /** Calls a site's wrapper dropped itself while no tokens were left (patcher/dispatch.ts Gate); the session takes them into its tally. */
  dropped = 0;
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
