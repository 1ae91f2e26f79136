/**
 * The worker threads' part of a main-thread session (issue 17). Each worker runs the
 * session as a session of its own, under its own limits (threads/worker.ts), and reports
 * its figures to the main thread as totals (threads/channel.ts ThreadAccount): the calls
 * that passed its patterns, its drops by reason, its errors, and, once it stopped on its
 * own, why. Here the difference from that thread's previous report is added to the main
 * session's tally, so the session's stats, its 'dropped' records and its 'stopped' record
 * count every thread's calls and drops, and the stop line the CLI prints accounts for
 * them. A worker whose session ended on its own (overload, a rate trip, an error, its
 * thread exiting) is told in a note at once, and every worker's end is listed in the
 * 'stopped' record's `threads`.
 *
 * A worker reports before it relays each batch of calls and at its session's tick (drops
 * without calls come out there, as 'dropped' records do in the main thread), so what it
 * dropped up to a call that made the main session reach `max` is counted; drops in the
 * last second before a stop the main thread decided (time, the user) may not be.
 */
import type { FunctionStats, StopReason, ThreadEnd, ThreadFunctionStats } from '../../protocol/events.js';
import { mergeFunctionStats } from '../../protocol/function-stats.js';
import { ArrayPrototypePush, SafeMap } from '../../safe/intrinsics.js';
import type { ThreadAccount } from '../threads/channel.js';

export type { ThreadAccount };
import type { Tally } from './tally.js';

/** Ends of the session in a worker that the main thread's own stop explains: no note. */
const EXPECTED: readonly StopReason[] = ['user', 'max', 'time', 'client-gone'];

export class ThreadAccounts {
  private readonly last = new SafeMap<number, ThreadAccount>();

  /**
   * Adds what `thread` counted since its previous report to `tally`. Returns the note's
   * text when the session just ended in that thread for a reason of its own.
   */
  apply(tally: Tally, thread: number, account: ThreadAccount): string | undefined {
    const before = this.last.get(thread);
    if (before?.stopped !== undefined) return undefined;
    tally.calls += Math.max(0, account.calls - (before?.calls ?? 0));
    tally.dropped.rate += Math.max(0, account.dropped.rate - (before?.dropped.rate ?? 0));
    tally.dropped.queue += Math.max(0, account.dropped.queue - (before?.dropped.queue ?? 0));
    tally.dropped.overload += Math.max(0, account.dropped.overload - (before?.dropped.overload ?? 0));
    tally.guardErrorsElsewhere += Math.max(0, account.guardErrors - (before?.guardErrors ?? 0));
    tally.internalErrors += Math.max(0, account.internalErrors - (before?.internalErrors ?? 0));
    this.last.set(thread, account);
    const stopped = account.stopped;
    if (stopped === undefined || EXPECTED.includes(stopped.reason)) return undefined;
    return `the session stopped in thread ${thread}: ${stopped.detail} (${stopped.reason}); the other threads go on`;
  }

  /** The workers that ran the session and had not ended it on their own when they last reported. */
  running(): number[] {
    const out: number[] = [];
    for (const [thread, account] of this.last) if (account.stopped === undefined) ArrayPrototypePush(out, thread);
    return out;
  }

  /** Every worker that reported, for the 'stopped' record; undefined when none did. */
  ends(): ThreadEnd[] | undefined {
    if (this.last.size === 0) return undefined;
    const ends: ThreadEnd[] = [];
    for (const [thread, account] of this.last) {
      ArrayPrototypePush(ends, { thread, reason: account.stopped?.reason ?? null, detail: account.stopped?.detail ?? null, calls: account.calls, dropped: { ...account.dropped } });
    }
    return ends.sort((a, b) => a.thread - b.thread);
  }
}

/**
 * The workers' `count`/`hist` figures of a session, merged with the main thread's into the
 * one table the operator sees (per function: calls and errors added, latency sketches
 * merged bucket by bucket, protocol/sketch.ts, so a merged p99 is within 1% of the p99 of
 * every thread's calls). Each worker reports its session's cumulative 'stats' record
 * (threads/worker.ts), so the last one of each thread is all that is kept.
 *
 * Stopping: the worker's final figures come after the main thread told it to stop. The
 * session waits for them (settled) up to FINAL_WAIT_MS before its own final 'stats' and
 * 'stopped' records: from each worker that reported and has not ended or exited, so a
 * `--count` over 5 s counts the workers' last second too.
 */
export class ThreadStats {
  private readonly latest = new SafeMap<number, { functions: FunctionStats[]; final: boolean }>();
  private readonly gone = new SafeMap<number, true>();
  private waiting: { threads: number[]; done: () => void } | undefined;

  get size(): number {
    return this.latest.size;
  }

  apply(thread: number, functions: FunctionStats[], final: boolean): void {
    if (this.latest.get(thread)?.final === true) return;
    this.latest.set(thread, { functions, final });
    this.check();
  }

  exited(thread: number): void {
    this.gone.set(thread, true);
    this.check();
  }

  /** The threads among `reported` (the threads that ran the session) still to send their final figures. */
  pending(reported: readonly number[]): number[] {
    return reported.filter((thread) => this.gone.get(thread) !== true && this.latest.get(thread)?.final !== true);
  }

  /** Resolves once every thread of `threads` sent its final figures or exited, or after `ms`. */
  settled(threads: number[], ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => finish(), ms);
      timer.unref();
      const finish = (): void => {
        clearTimeout(timer);
        this.waiting = undefined;
        resolve();
      };
      this.waiting = { threads, done: finish };
      this.check();
    });
  }

  private check(): void {
    if (this.waiting !== undefined && this.pending(this.waiting.threads).length === 0) this.waiting.done();
  }

  /** The session's table: `own` (the main thread's) with every worker's. */
  merged(own: FunctionStats[]): FunctionStats[] {
    if (this.latest.size === 0) return own;
    const lists: FunctionStats[][] = [own];
    for (const { functions } of this.latest.values()) ArrayPrototypePush(lists, functions);
    return mergeFunctionStats(lists);
  }

  /** The calls the workers aggregated (their tables' calls). */
  aggregated(): number {
    let calls = 0;
    for (const { functions } of this.latest.values()) for (const f of functions) calls += f.calls;
    return calls;
  }

  /** Each worker's own table, for a per-thread view. */
  byThread(): ThreadFunctionStats[] {
    const out: ThreadFunctionStats[] = [];
    for (const [thread, { functions }] of this.latest) if (functions.length > 0) ArrayPrototypePush(out, { thread, functions });
    return out.sort((a, b) => a.thread - b.thread);
  }
}
