/**
 * The Latency page's arithmetic (Orion for Node): per-function p50/p90/p99 and calls per
 * second, one point a second, across one process or several.
 *
 * Each target runs a `hist` session, whose stats record, once a second, carries each
 * function's *cumulative* sketch (protocol/sketch.ts). The calls of one second of one
 * process are that snapshot minus the previous one (Sketch.between); the calls of one
 * second of the whole selection are those differences merged (mergeSketches), which is
 * exact up to the sketch's 1% relative error because a merge is a bucket-wise sum. The
 * whole run's quantiles come the same way from the last cumulative snapshot of each
 * process, merged: that is the figure the page prints above each chart, and what the
 * end-to-end test holds against the p99 computed from raw call events.
 *
 * Seconds are the agents' record timestamps, floored: agents flush at different phases,
 * so a second is emitted only once it is over by a grace period, and a snapshot that comes
 * later still lands in its own second if that second has not been emitted yet, else in the
 * next one (its calls are never lost, only moved by a second).
 */
import type { CallEvent, StatsRecord } from '../../protocol/events.js';
import { Sketch, mergeSketches, type SketchData } from '../../protocol/sketch.js';
import type { Value } from '../../protocol/value.js';

export interface Quantiles {
  count: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
}

export interface LatencyPoint {
  /** The second, ms since the epoch (start of the second). */
  t: number;
  /** Per function: the calls in that second and their quantiles, ns. */
  functions: Record<string, Quantiles>;
}

export interface SlowCall {
  fn: string;
  pid: number;
  ts: number;
  durationNs: number;
  args: Value[];
  outcome: CallEvent['outcome'];
}

/** Seconds still open for late snapshots before they are emitted. */
const GRACE_MS = 1200;
/** Slowest calls kept per function. */
const SLOWEST = 5;

function quantiles(sketch: Sketch): Quantiles {
  return { count: sketch.count, p50: sketch.quantile(0.5), p90: sketch.quantile(0.9), p99: sketch.quantile(0.99), max: sketch.count === 0 ? 0 : sketch.max };
}

export class LatencyWindow {
  /** Last cumulative snapshot per process and function. */
  private readonly last = new Map<number, Map<string, SketchData>>();
  /** Seconds not yet emitted: second -> function -> merged sketch of that second's calls. */
  private readonly open = new Map<number, Map<string, Sketch>>();
  private emittedUpTo = -Infinity;
  private readonly slow = new Map<string, SlowCall[]>();
  readonly functions = new Set<string>();

  /** A stats record of one target's hist session. */
  addStats(record: StatsRecord): void {
    const byFn = this.last.get(record.pid) ?? new Map<string, SketchData>();
    this.last.set(record.pid, byFn);
    let second = Math.floor(record.ts / 1000) * 1000;
    if (second <= this.emittedUpTo) second = this.emittedUpTo + 1000;
    for (const fn of record.functions) {
      if (fn.sketch === undefined) continue;
      this.functions.add(fn.fn);
      const previous = byFn.get(fn.fn);
      const window = previous === undefined ? Sketch.from(fn.sketch) : Sketch.between(previous, fn.sketch);
      byFn.set(fn.fn, fn.sketch);
      if (window.count === 0) continue;
      const bucket = this.open.get(second) ?? new Map<string, Sketch>();
      this.open.set(second, bucket);
      const merged = bucket.get(fn.fn);
      if (merged === undefined) bucket.set(fn.fn, window);
      else merged.merge(window);
    }
  }

  /** A sampled call: kept when it is among the slowest seen for its function. */
  addCall(call: CallEvent): void {
    const durationNs = call.settleNs ?? call.durationNs;
    const list = this.slow.get(call.fn) ?? [];
    if (list.length >= SLOWEST && list[list.length - 1]!.durationNs >= durationNs) return;
    list.push({ fn: call.fn, pid: call.pid, ts: call.ts, durationNs, args: call.args, outcome: call.outcome });
    list.sort((a, b) => b.durationNs - a.durationNs);
    list.length = Math.min(list.length, SLOWEST);
    this.slow.set(call.fn, list);
  }

  /** The seconds that are over (by the grace period) at `now`, oldest first; every function gets a value, 0 calls included. */
  due(now: number): LatencyPoint[] {
    const out: LatencyPoint[] = [];
    const ready = [...this.open.keys()].filter((s) => s + 1000 + GRACE_MS <= now).sort((a, b) => a - b);
    // Seconds without any snapshot still get a point, so the chart's x axis has no holes.
    const lastDue = Math.floor((now - 1000 - GRACE_MS) / 1000) * 1000;
    // The timeline starts at the first second that has calls.
    if (this.emittedUpTo === -Infinity && ready.length === 0) return out;
    let from = this.emittedUpTo === -Infinity ? ready[0]! : this.emittedUpTo + 1000;
    for (; from <= lastDue; from += 1000) {
      const bucket = this.open.get(from);
      this.open.delete(from);
      const functions: Record<string, Quantiles> = {};
      for (const fn of this.functions) functions[fn] = quantiles(bucket?.get(fn) ?? new Sketch());
      out.push({ t: from, functions });
      this.emittedUpTo = from;
    }
    return out;
  }

  /** Quantiles over the whole run, per function: every process's last cumulative sketch, merged. */
  total(): Record<string, Quantiles> {
    const out: Record<string, Quantiles> = {};
    for (const fn of this.functions) out[fn] = quantiles(mergeSketches([...this.last.values()].map((byFn) => byFn.get(fn))));
    return out;
  }

  slowest(): Record<string, SlowCall[]> {
    return Object.fromEntries(this.slow);
  }
}
