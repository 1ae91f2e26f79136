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
import type { StopReason, ThreadEnd } from '../../protocol/events.js';
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
