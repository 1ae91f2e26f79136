/**
 * A session's time: its deadline, and its two timers (the expiry at `for` and the tick
 * once a second, which checks the overload budget and reports drops and stats).
 *
 * Both timers are unref'd: a session ends on time even if nobody reads it, and never
 * keeps the process alive. A timer cannot fire while the application runs synchronous
 * code, so the hot path also asks `past(now)` before it reports a call (session.ts).
 */
import { ArrayPrototypePush } from '../../safe/intrinsics.js';

export class Schedule {
  /** clock() past which nothing is reported. */
  private readonly deadline: number;
  private readonly timers: NodeJS.Timeout[] = [];

  /** `startedAt`: the session's clock() at its start. */
  constructor(
    startedAt: number,
    private readonly forMs: number,
  ) {
    this.deadline = startedAt + forMs * 1e6;
  }

  /** Arms the expiry and the tick (a session in the loader thread never does). */
  start(expire: () => void, tick: () => void): void {
    const expiry = setTimeout(expire, this.forMs);
    const ticker = setInterval(tick, 1000);
    expiry.unref();
    ticker.unref();
    ArrayPrototypePush(this.timers, expiry, ticker);
  }

  /** `now` (a clock() reading) is past the deadline. */
  past(now: number): boolean {
    return now > this.deadline;
  }

  clear(): void {
    for (let i = 0; i < this.timers.length; i++) clearTimeout(this.timers[i]);
  }
}
