/**
 * Per-function counts for the `count` action, and latency too for `hist`. The latency is a
 * mergeable sketch (protocol/sketch.ts: quantiles within 1% of the true value, memory
 * fixed whatever the number of calls). Each snapshot carries the sketch itself besides its
 * quantiles, so a client merges targets, threads and time windows exactly.
 */
import type { FunctionStats } from '../../protocol/events.js';
import type { Matcher } from '../../pattern/match/matcher.js';
import { byCalls, functionStats } from '../../protocol/function-stats.js';
import { Sketch } from '../../protocol/sketch.js';
import { ArrayPrototypePush, SafeMap } from '../../safe/intrinsics.js';

interface FunctionAggregate {
  calls: number;
  errors: number;
  /** Only once a `hist` pattern has seen the function. */
  latency: Sketch | undefined;
}

export class Aggregator {
  private readonly byFn = new SafeMap<string, FunctionAggregate>();

  /** `hist`: the call's latency goes into the function's quantiles too. */
  record(fn: string, ns: number, failed: boolean, hist: boolean): void {
    let agg = this.byFn.get(fn);
    if (agg === undefined) this.byFn.set(fn, (agg = { calls: 0, errors: 0, latency: undefined }));
    agg.calls++;
    if (failed) agg.errors++;
    if (hist) (agg.latency ??= new Sketch()).add(ns);
  }

  get size(): number {
    return this.byFn.size;
  }

  snapshot(): FunctionStats[] {
    const out: FunctionStats[] = [];
    for (const [fn, agg] of this.byFn) ArrayPrototypePush(out, functionStats(fn, agg.calls, agg.errors, agg.latency));
    return byCalls(out);
  }
}

/** Whether any of a session's patterns counts or times its calls (and so the session sends 'stats' records). */
export function aggregating(matchers: readonly Matcher[]): boolean {
  return matchers.some((m) => m.actions.count || m.actions.hist);
}

/**
 * Whether any of a session's patterns reports calls one by one (and so may give them a
 * parent): a session that only counts or times its calls sends stats, whose calls have no
 * parent, and so never needs the async call-tree context (async-parents.ts).
 */
export function reportsCalls(matchers: readonly Matcher[]): boolean {
  return matchers.some((m) => !m.actions.count && !m.actions.hist);
}
