/** A worker's totals become the main session's counts once each, whatever order and repeats they come in. */
import { describe, expect, it } from 'vitest';
import { Tally } from '../../../../src/agent/session/tally.js';
import { ThreadAccounts, type ThreadAccount } from '../../../../src/agent/session/thread-accounts.js';

const account = (calls: number, rate: number, extra: Partial<ThreadAccount> = {}): ThreadAccount => ({
  calls,
  dropped: { rate, queue: 0, overload: 0 },
  guardErrors: 0,
  internalErrors: 0,
  ...extra,
});

describe('ThreadAccounts', () => {
  it('adds what each thread counted since its last report', () => {
    const tally = new Tally();
    const threads = new ThreadAccounts();
    threads.apply(tally, 2, account(5, 3));
    threads.apply(tally, 3, account(1, 0));
    threads.apply(tally, 2, account(9, 4, { guardErrors: 2 }));
    // A repeated report changes nothing.
    threads.apply(tally, 2, account(9, 4, { guardErrors: 2 }));
    expect(tally.calls).toBe(10);
    expect(tally.dropped).toEqual({ rate: 4, queue: 0, overload: 0 });
    expect(tally.stats(null, 0, []).guardErrors).toBe(2);
    expect(threads.ends()).toEqual([
      { thread: 2, reason: null, detail: null, calls: 9, dropped: { rate: 4, queue: 0, overload: 0 } },
      { thread: 3, reason: null, detail: null, calls: 1, dropped: { rate: 0, queue: 0, overload: 0 } },
    ]);
  });

  it("tells a thread's own end once, not an end the main thread's stop explains", () => {
    const tally = new Tally();
    const threads = new ThreadAccounts();
    const overload = { reason: 'overload' as const, detail: 'livetrace spent over 50ms per second in the target' };
    expect(threads.apply(tally, 2, account(3, 0, { stopped: overload }))).toBe(
      'the session stopped in thread 2: livetrace spent over 50ms per second in the target (overload); the other threads go on',
    );
    expect(threads.apply(tally, 2, account(7, 0, { stopped: overload }))).toBeUndefined();
    expect(tally.calls).toBe(3);
    expect(threads.apply(tally, 4, account(1, 0, { stopped: { reason: 'max', detail: 'max 1 calls' } }))).toBeUndefined();
    expect(threads.ends()?.map((t) => t.reason)).toEqual(['overload', 'max']);
  });

  it('lists nothing when no worker reported', () => {
    expect(new ThreadAccounts().ends()).toBeUndefined();
  });
});
