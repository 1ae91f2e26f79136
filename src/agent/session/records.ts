/**
 * Every record a session produces (docs/events.md) starts with the same header: `v`
 * (the schema version, EVENT_SCHEMA_VERSION), `type`, `session`, `pid`, `ts`, in that
 * order. The control records are built here, through `header()`. The call record, built
 * once per reported call on the hot path, writes the same header from the same constants
 * in its one object literal (call.ts `callEvent`), so that reporting a call costs no
 * extra object or call; its field order is the one docs/events.md shows.
 */
import type {
  AddedRecord,
  DroppedRecord,
  DropReason,
  FunctionStats,
  MatchedFunction,
  NoteKind,
  NoteRecord,
  SessionRecord,
  SessionStats,
  StartedRecord,
  StatsRecord,
  StoppedRecord,
  StopReason,
  ThreadEnd,
  ThreadFunctionStats,
  UnpatchableFunction,
} from '../../protocol/events.js';
import { EVENT_SCHEMA_VERSION } from '../../protocol/events.js';
import type { ResolvedOptions } from '../../protocol/options.js';
import type { Matcher } from '../../pattern/match/matcher.js';

export const RECORD_VERSION = EVENT_SCHEMA_VERSION;
export const RECORD_PID = process.pid;

export interface RecordHeader<T extends SessionRecord['type']> {
  v: typeof EVENT_SCHEMA_VERSION;
  type: T;
  session: string;
  pid: number;
  ts: number;
}

export function header<T extends SessionRecord['type']>(type: T, session: string, ts: number = Date.now()): RecordHeader<T> {
  return { v: RECORD_VERSION, type, session, pid: RECORD_PID, ts };
}

interface Hooked {
  matched: MatchedFunction[];
  unpatchable: UnpatchableFunction[];
}

interface Patterns {
  readonly patterns: readonly string[];
  readonly matchers: readonly Matcher[];
}

export function startedRecord(session: string, ts: number, p: Patterns, hooked: Hooked, o: ResolvedOptions): StartedRecord {
  const started: StartedRecord = {
    ...header('started', session, ts),
    patterns: [...p.patterns],
    matched: hooked.matched,
    unpatchable: hooked.unpatchable,
    limits: {
      max: o.max,
      forMs: o.forMs,
      rate: { ...o.rate },
      trip: o.trip,
      queueEvents: o.queueEvents,
      queueBytes: o.queueBytes,
      overloadMsPerSec: o.overloadMsPerSec,
    },
  };
  // Only aggregated calls: max and rate do not apply, and the header says so.
  if (p.matchers.length > 0 && p.matchers.every((m) => m.actions.count || m.actions.hist)) started.aggregate = true;
  return started;
}

export function addedRecord(session: string, patterns: string[], hooked: Hooked): AddedRecord {
  return { ...header('added', session), patterns, matched: hooked.matched, unpatchable: hooked.unpatchable };
}

export function droppedRecord(session: string, reason: DropReason, count: number): DroppedRecord {
  return { ...header('dropped', session), reason, count };
}

export function noteRecord(session: string, kind: NoteKind, message: string, about: { fn?: string; pattern?: string } = {}): NoteRecord {
  return { ...header('note', session), kind, ...about, message };
}

export function statsRecord(session: string, final: boolean, functions: FunctionStats[], threads?: ThreadFunctionStats[]): StatsRecord {
  return { ...header('stats', session), final, functions, ...(threads === undefined ? {} : { threads }) };
}

/** `threads`: the worker threads' ends (thread-accounts.ts), when any ran the session. */
export function stoppedRecord(session: string, reason: StopReason, o: ResolvedOptions, stats: SessionStats, detail?: string, threads?: ThreadEnd[]): StoppedRecord {
  return { ...header('stopped', session), reason, detail: detail ?? stopDetail(reason, o), stats, ...(threads === undefined ? {} : { threads }) };
}

function stopDetail(reason: StopReason, o: ResolvedOptions): string {
  switch (reason) {
    case 'max':
      return `max ${o.max} calls`;
    case 'time':
      return `time limit ${formatMs(o.forMs)}`;
    case 'rate':
      return `rate over ${o.rate.count}/${formatMs(o.rate.perMs)} (--trip)`;
    case 'overload':
      return `overload: livetrace's own time passed its budget of ${o.overloadMsPerSec} ms a second`;
    case 'client-gone':
      return 'the client disconnected';
    case 'exit':
      return 'the process is exiting';
    case 'error':
      return 'an internal error';
    case 'user':
      return 'stopped by the user';
  }
}

function formatMs(ms: number): string {
  if (ms % 3_600_000 === 0) return `${ms / 3_600_000}h`;
  if (ms % 60_000 === 0) return `${ms / 60_000}m`;
  if (ms % 1000 === 0) return `${ms / 1000}s`;
  return `${ms}ms`;
}
