/**
 * One `count`/`hist` table for many processes: the latest cumulative `stats` record of
 * each target, merged function by function. Calls and errors add up; latency quantiles
 * come from the bucket-wise sum of the targets' sketches (protocol/sketch.ts), so the
 * merged p99 is within the sketch's 1% of the p99 of every call of every target, which
 * an average of per-target p99s is not. A target's records are cumulative, so keeping
 * only its latest loses nothing, and a target that stopped keeps counting with its final
 * record.
 */
import type { StatsRecord } from '../protocol/events.js';
import { mergeFunctionStats } from '../protocol/function-stats.js';

/** A stats record standing for several targets: `pids` says which; `session` is 'merged'. */
export interface MergedStatsRecord extends StatsRecord {
  merged: true;
  pids: number[];
}

export class StatsMerger {
  /** Latest stats record per target, keyed by pid, or by the caller's key (a fleet's agent id: pids repeat across hosts). */
  private readonly latest = new Map<string, StatsRecord>();
  private changed = false;

  /** Keeps a target's newest record (an older one arriving late is ignored). */
  push(record: StatsRecord, key: string = String(record.pid)): void {
    const previous = this.latest.get(key);
    if (previous !== undefined && previous.ts > record.ts && !record.final) return;
    this.latest.set(key, record);
    this.changed = true;
  }

  /** True when a record arrived since the last merged(). */
  get dirty(): boolean {
    return this.changed;
  }

  get targets(): number {
    return this.latest.size;
  }

  /** The merged record of every target seen so far. */
  merged(final: boolean, ts = Date.now()): MergedStatsRecord {
    this.changed = false;
    const records = [...this.latest.values()];
    return {
      v: 1,
      type: 'stats',
      session: 'merged',
      pid: 0,
      ts,
      final,
      merged: true,
      pids: records.map((r) => r.pid).sort((a, b) => a - b),
      functions: mergeFunctionStats(records.map((r) => r.functions)),
    };
  }
}
