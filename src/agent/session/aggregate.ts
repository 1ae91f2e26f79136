/**
 * Per-function counts for the `count` action, and latency quantiles too for `hist`. A
 * histogram of log-spaced buckets (each about 4% wide) keeps memory fixed whatever the
 * number of calls, and quantiles within 4% of the true value, which is what a latency
 * question needs.
 */
import type { FunctionStats } from '../../protocol/events.js';
import { ArrayPrototypePush, SafeMap } from '../../safe/intrinsics.js';

const GROWTH = 1.04;
const LOG_GROWTH = Math.log(GROWTH);
/** Buckets up to about 2.5e13 ns (7 hours): more than any session lasts. */
const BUCKETS = 800;

class Histogram {
  private readonly counts = new Float64Array(BUCKETS);
  total = 0;
  max = 0;

  record(ns: number): void {
    const v = ns < 1 ? 1 : ns;
    const index = Math.min(BUCKETS - 1, Math.floor(Math.log(v) / LOG_GROWTH));
    this.counts[index]! += 1;
    this.total++;
    if (ns > this.max) this.max = ns;
  }

  quantile(q: number): number {
    if (this.total === 0) return 0;
    const rank = Math.ceil(q * this.total);
    let seen = 0;
    for (let i = 0; i < BUCKETS; i++) {
      seen += this.counts[i]!;
      // Report the bucket's upper bound, capped by the true maximum.
      if (seen >= rank) return Math.min(this.max, Math.round(GROWTH ** (i + 1)));
    }
    return this.max;
  }
}

interface FunctionAggregate {
  calls: number;
  errors: number;
  /** Only once a `hist` pattern has seen the function. */
  latency: Histogram | undefined;
}

export class Aggregator {
  private readonly byFn = new SafeMap<string, FunctionAggregate>();

  /** `hist`: the call's latency goes into the function's quantiles too. */
  record(fn: string, ns: number, failed: boolean, hist: boolean): void {
    let agg = this.byFn.get(fn);
    if (agg === undefined) this.byFn.set(fn, (agg = { calls: 0, errors: 0, latency: undefined }));
    agg.calls++;
    if (failed) agg.errors++;
    if (hist) (agg.latency ??= new Histogram()).record(ns);
  }

  get size(): number {
    return this.byFn.size;
  }

  snapshot(): FunctionStats[] {
    const out: FunctionStats[] = [];
    for (const [fn, agg] of this.byFn) {
      const latency = agg.latency;
      ArrayPrototypePush(out, 
        latency === undefined
          ? { fn, calls: agg.calls, errors: agg.errors }
          : {
              fn,
              calls: agg.calls,
              errors: agg.errors,
              p50: latency.quantile(0.5),
              p90: latency.quantile(0.9),
              p99: latency.quantile(0.99),
              max: Math.round(latency.max),
            },
      );
    }
    return out.sort((a, b) => b.calls - a.calls || a.fn.localeCompare(b.fn));
  }
}
