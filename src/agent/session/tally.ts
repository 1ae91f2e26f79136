/**
 * A session's counts, as its 'stopped' record (SessionStats) and its 'dropped' records
 * report them. Drops are told in 'dropped' records at most once a second (at the tick and
 * at stop), one per reason, each with the count since the last one: the tally remembers
 * how many of each reason were already told.
 */
import type { DroppedRecord, DropReason, SessionStats, StopReason } from '../../protocol/events.js';
import type { Matcher } from '../../pattern/match/matcher.js';
import { clock } from '../clock.js';
import { droppedRecord } from './records.js';

const REASONS: readonly DropReason[] = ['rate', 'queue', 'overload'];

export class Tally {
  /** Calls that passed the pattern (before limits). */
  calls = 0;
  /** Calls reported as events (or aggregated by count/hist). */
  reported = 0;
  internalErrors = 0;
  /** Guard errors of the session's sessions in worker threads (thread-accounts.ts); the main thread's are its matchers'. */
  guardErrorsElsewhere = 0;
  readonly dropped = { rate: 0, queue: 0, overload: 0 };
  private readonly droppedReported = { rate: 0, queue: 0, overload: 0 };

  stats(stopReason: StopReason | null, startedAt: number, matchers: readonly Matcher[]): SessionStats {
    let guardErrors = this.guardErrorsElsewhere;
    for (const m of matchers) guardErrors += m.guardErrors;
    return {
      calls: this.calls,
      reported: this.reported,
      dropped: { ...this.dropped },
      guardErrors,
      internalErrors: this.internalErrors,
      stopReason,
      elapsedMs: Math.round((clock() - startedAt) / 1e6),
    };
  }

  /** Hands `push` one record per reason with drops not told yet. */
  reportDrops(session: string, push: (record: DroppedRecord) => void): void {
    for (const reason of REASONS) {
      const count = this.dropped[reason] - this.droppedReported[reason];
      if (count <= 0) continue;
      this.droppedReported[reason] = this.dropped[reason];
      push(droppedRecord(session, reason, count));
    }
  }
}
