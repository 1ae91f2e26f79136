import { describe, expect, it } from 'vitest';
import { RateLimiter, type Timers } from '../../../../src/agent/session/limiter.js';

/** A fake clock: intervals fire only when the test advances time. */
class FakeTimers implements Timers {
  now = 0;
  private intervals: { fn: () => void; ms: number; next: number; id: number }[] = [];
  private ids = 0;
  setInterval(fn: () => void, ms: number): unknown {
    const id = ++this.ids;
    this.intervals.push({ fn, ms, next: this.now + ms, id });
    return id;
  }
  clearInterval(handle: unknown): void {
    this.intervals = this.intervals.filter((i) => i.id !== handle);
  }
  advance(ms: number): void {
    const until = this.now + ms;
    for (;;) {
      const due = this.intervals.filter((i) => i.next <= until).sort((a, b) => a.next - b.next)[0];
      if (due === undefined) break;
      this.now = due.next;
      due.next += due.ms;
      due.fn();
    }
    this.now = until;
  }
  get active(): number {
    return this.intervals.length;
  }
}

describe('RateLimiter', () => {
  it('admits count calls per period and refills on the timer, never reading a clock', () => {
    const timers = new FakeTimers();
    const limiter = new RateLimiter(3, 1000, timers);
    expect([limiter.take(), limiter.take(), limiter.take(), limiter.take()]).toEqual([true, true, true, false]);
    timers.advance(999);
    expect(limiter.take()).toBe(false);
    timers.advance(1);
    expect([limiter.take(), limiter.take(), limiter.take(), limiter.take()]).toEqual([true, true, true, false]);
    limiter.close();
    expect(timers.active).toBe(0);
  });

  it('does not bank unused budget across periods', () => {
    const timers = new FakeTimers();
    const limiter = new RateLimiter(2, 100, timers);
    timers.advance(1000);
    expect([limiter.take(), limiter.take(), limiter.take()]).toEqual([true, true, false]);
    limiter.close();
  });
});
