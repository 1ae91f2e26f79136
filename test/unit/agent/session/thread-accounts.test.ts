/** A worker's totals become the main session's counts once each, whatever order and repeats they come in. */
import { describe, expect, it } from 'vitest';
import { Tally } from '../../../../src/agent/session/tally.js';
import { ThreadAccounts, ThreadStats, type ThreadAccount } from '../../../../src/agent/session/thread-accounts.js';
import { Aggregator } from '../../../../src/agent/session/aggregate.js';
import { Sketch } from '../../../../src/protocol/sketch.js';

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

describe('ThreadStats', () => {
  /** A thread's cumulative table, as its session's Aggregator makes it. */
  const table = (durations: number[], fn = 'lib/a.js:f', failed = 0) => {
    const aggregator = new Aggregator();
    durations.forEach((ns, i) => aggregator.record(fn, ns, i < failed, true));
    return aggregator.snapshot();
  };

  it("merges the workers' tables with the main thread's: calls and errors added, sketches merged exactly", () => {
    const stats = new ThreadStats();
    const own = table([1000, 2000]);
    const a = Array.from({ length: 300 }, (_, i) => 5000 + i * 10);
    const b = Array.from({ length: 100 }, (_, i) => 900_000 + i * 1000);
    stats.apply(2, table(a.slice(0, 10)), false);
    // Cumulative: the newer table of a thread replaces its older one.
    stats.apply(2, table(a, 'lib/a.js:f', 3), false);
    stats.apply(3, [...table(b), ...table([7], 'lib/a.js:g')], false);
    const merged = stats.merged(own);
    const f = merged.find((x) => x.fn === 'lib/a.js:f')!;
    expect(f.calls).toBe(402);
    expect(f.errors).toBe(3);
    const all = new Sketch();
    for (const ns of [1000, 2000, ...a, ...b]) all.add(ns);
    expect(f.sketch).toEqual(all.toData());
    expect(f.p99).toBe(Math.round(all.quantile(0.99)));
    expect(merged.find((x) => x.fn === 'lib/a.js:g')!.calls).toBe(1);
    expect(stats.aggregated()).toBe(401);
    expect(stats.byThread().map((t) => t.thread)).toEqual([2, 3]);
  });

  it('waits for the final tables of the threads still running, not for one that exited, and not past its bound', async () => {
    const stats = new ThreadStats();
    stats.apply(2, table([1]), false);
    stats.apply(3, table([1]), false);
    stats.apply(4, table([1]), true);
    expect(stats.pending([2, 3, 4])).toEqual([2, 3]);
    const settled = stats.settled(stats.pending([2, 3, 4]), 60_000);
    let done = false;
    void settled.then(() => (done = true));
    stats.apply(2, table([1, 2]), true);
    await Promise.resolve();
    expect(done).toBe(false);
    stats.exited(3);
    await settled;
    // A final table is the last word: a later one is ignored.
    stats.apply(2, table([1, 2, 3]), false);
    expect(stats.merged([])[0]!.calls).toBe(1 + 2 + 1);
    // Bounded: a thread that never answers is waited for `ms` at most.
    const quiet = new ThreadStats();
    quiet.apply(5, table([1]), false);
    const started = performance.now();
    await quiet.settled([5], 50);
    expect(performance.now() - started).toBeGreaterThanOrEqual(40);
  });
});
