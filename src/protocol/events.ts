/**
 * The records a session produces, schema version 1 (docs/events.md). These objects are
 * what the library's async iterator yields, and exactly what `--format json` prints, one
 * per line. Add fields freely; never change the meaning of one (bump `v` instead).
 */
import type { SketchData } from './sketch.js';
import type { Value } from './value.js';

export const EVENT_SCHEMA_VERSION = 1 as const;

export type Engine = 'exports' | 'preload' | 'probe';

export type CallOutcome = 'return' | 'throw' | 'resolve' | 'reject';

export type StopReason = 'max' | 'time' | 'rate' | 'overload' | 'client-gone' | 'user' | 'error' | 'exit';

/** One stack frame of the caller, source-mapped when a source map is known. */
export interface StackFrame {
  fn: string;
  file: string;
  line: number;
  column: number;
}

/** One traced call that matched. */
export interface CallEvent {
  v: typeof EVENT_SCHEMA_VERSION;
  type: 'call';
  session: string;
  /** Unique within the process (not only the session), so trees across sessions stay sound. */
  id: number;
  /** Id of the nearest enclosing traced call of the same session, or null. */
  parent: number | null;
  /** Number of enclosing traced calls of the same session (0 for a root call). */
  depth: number;
  /** 'src/users.js:findUser' */
  fn: string;
  /** 'src/users.js' */
  module: string;
  engine: Engine;
  pid: number;
  /** The thread the call ran in: its worker_threads threadId, 0 for the main thread (docs/events.md). */
  thread: number;
  /** Wall-clock time of the call, ms since the epoch. */
  ts: number;
  args: Value[];
  this?: Value;
  outcome: CallOutcome;
  /** Return or resolve value (outcome return/resolve). */
  value?: Value;
  /** Thrown or rejection value (outcome throw/reject). */
  error?: Value;
  /** From entry to return (or throw), ns. */
  durationNs: number;
  /** For a promise: from entry to settle, ns. */
  settleNs?: number;
  stack?: StackFrame[];
  /** True when any captured value was cut by a capture limit. */
  truncated: boolean;
}

export interface MatchedFunction {
  /** 'src/users.js:findUser' */
  fn: string;
  module: string;
  engine: Engine;
  /**
   * Set when the wrapper was put where the function was found, while references to the
   * original may have been taken before (a destructured export, the module's own
   * `module.exports`): those callers are not seen, and compare unequal to it. Says how to avoid it.
   */
  identity?: string;
}

export interface UnpatchableFunction {
  fn: string;
  module: string;
  reason: string;
}

export interface Limits {
  max: number;
  forMs: number;
  rate: { count: number; perMs: number };
  trip: boolean;
  queueEvents: number;
  queueBytes: number;
  overloadMsPerSec: number;
}

export interface StartedRecord {
  v: typeof EVENT_SCHEMA_VERSION;
  type: 'started';
  session: string;
  pid: number;
  ts: number;
  patterns: string[];
  matched: MatchedFunction[];
  unpatchable: UnpatchableFunction[];
  limits: Limits;
  /**
   * Every pattern of the session is a `count` or `hist`: calls are aggregated, never
   * reported one by one, so `max` and `rate` do not apply (`for` and the overload breaker do).
   */
  aggregate?: true;
}

/** A live session gained patterns (`add`). */
export interface AddedRecord {
  v: typeof EVENT_SCHEMA_VERSION;
  type: 'added';
  session: string;
  pid: number;
  ts: number;
  patterns: string[];
  matched: MatchedFunction[];
  unpatchable: UnpatchableFunction[];
}

export type DropReason = 'rate' | 'queue' | 'overload';

/** Calls that matched but were not reported, since the previous `dropped` record. */
export interface DroppedRecord {
  v: typeof EVENT_SCHEMA_VERSION;
  type: 'dropped';
  session: string;
  pid: number;
  ts: number;
  reason: DropReason;
  count: number;
}

/**
 * Something the agent found out about the trace while it runs and the user should know,
 * in one line: a function whose callers hold references taken before the trace, now
 * traced by a probe instead (`kind: 'switched'`), or one whose reach could not be checked
 * (`kind: 'unchecked'`) with the pattern that would reach it.
 */
export interface NoteRecord {
  v: typeof EVENT_SCHEMA_VERSION;
  type: 'note';
  session: string;
  pid: number;
  ts: number;
  kind: NoteKind;
  /** The function the note is about ('controllers/user/index.js:show'), when there is one. */
  fn?: string;
  /** The pattern that reaches it ('controllers/user/index:~show'), when there is one. */
  pattern?: string;
  /** The line to show. */
  message: string;
}

export type NoteKind = 'switched' | 'unchecked' | 'thread-stopped';

export interface FunctionStats {
  fn: string;
  calls: number;
  errors: number;
  /** Latency quantiles in ns (of settle time for promises): `hist` only; a `count` has calls and errors. */
  p50?: number;
  p90?: number;
  p99?: number;
  max?: number;
  /** `hist`: the latency sketch since the session started (protocol/sketch.ts), to merge targets and windows. */
  sketch?: SketchData;
}

/** `count` / `hist` sessions: a snapshot once a second and one at the end (`final`). */
export interface StatsRecord {
  v: typeof EVENT_SCHEMA_VERSION;
  type: 'stats';
  session: string;
  pid: number;
  ts: number;
  final: boolean;
  /** Since the session started; with worker threads, every thread's calls together. */
  functions: FunctionStats[];
  /** When worker threads ran the session: each thread's own table (thread 0 is the main thread), sorted by thread. */
  threads?: ThreadFunctionStats[];
}

/** One thread's part of a `count`/`hist` table. */
export interface ThreadFunctionStats {
  thread: number;
  functions: FunctionStats[];
}

export interface SessionStats {
  /** Calls that passed the pattern (before limits). */
  calls: number;
  /** Calls reported as events (or aggregated by count/hist). */
  reported: number;
  dropped: { rate: number; queue: number; overload: number };
  guardErrors: number;
  internalErrors: number;
  stopReason: StopReason | null;
  /** Time since the session started, ms. */
  elapsedMs: number;
}

export interface StoppedRecord {
  v: typeof EVENT_SCHEMA_VERSION;
  type: 'stopped';
  session: string;
  pid: number;
  ts: number;
  reason: StopReason;
  /** Human detail for the reason, e.g. 'max 20 calls'. */
  detail: string;
  /** The whole session's: the calls and drops of its worker threads are counted in. */
  stats: SessionStats;
  /** Each worker thread that ran the session, as it last reported (docs/events.md#threads); absent when none did. */
  threads?: ThreadEnd[];
}

/** A worker thread's part of a session, as its own session there reported it to the main thread. */
export interface ThreadEnd {
  thread: number;
  /** Why the session ended in that thread on its own; null when it ran until the main thread's stop. */
  reason: StopReason | null;
  detail: string | null;
  calls: number;
  dropped: { rate: number; queue: number; overload: number };
}

export type SessionRecord = CallEvent | StartedRecord | AddedRecord | DroppedRecord | NoteRecord | StatsRecord | StoppedRecord;
