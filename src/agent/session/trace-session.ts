/**
 * What a library user holds: the session as `trace()` returns it. The class behind it
 * (session.ts) also carries the hot path its hooks call; those methods are not part of
 * this type, so they are not part of the API.
 */
import type { AddedRecord, MatchedFunction, SessionRecord, SessionStats, UnpatchableFunction } from '../../protocol/events.js';

export interface TraceSession extends AsyncIterable<SessionRecord> {
  /** '<pid>-<n>', unique in the process. */
  readonly id: string;
  /** Every pattern of the session, in the order given (trace, then add). */
  readonly patterns: readonly string[];
  /** The functions hooked so far. */
  readonly matched: MatchedFunction[];
  /** Functions a pattern named that could not be hooked, and why. */
  readonly unpatchable: UnpatchableFunction[];
  readonly stats: SessionStats;
  readonly stopped: boolean;
  /** Stopped, and every record taken. */
  readonly ended: boolean;
  /** Adds patterns to the running session; throws LT_SESSION_STOPPED once it has stopped. */
  add(patterns: string | string[]): AddedRecord;
  /** Ends the session; its patches are gone when this resolves. Idempotent. */
  stop(): Promise<void>;
  /** Queued records, without waiting. The first is 'started', the last 'stopped'. */
  take(max?: number): SessionRecord[];
  /** Resolves when `take()` has something, or the session is over and drained. */
  readable(): Promise<void>;
}
