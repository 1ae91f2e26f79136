/**
 * A `count`/`hist` table's rows (FunctionStats), made in one place: from a function's
 * counts and latency sketch, and by merging several tables function by function. The agent
 * merges its worker threads' tables into its session's; the client merges targets'. Calls
 * and errors add up; the quantiles come from the bucket-wise sum of the sketches
 * (sketch.ts), so a merged p99 is within the sketch's 1% of the p99 of every call, which
 * an average of p99s is not. Like sketch.ts this runs inside the target too, where the
 * program may have replaced Map or Array.prototype.push: a null-prototype dictionary and
 * index stores only.
 */
import type { FunctionStats } from './events.js';
import { Sketch } from './sketch.js';

/** One row: quantiles rounded to whole ns, the sketch itself for later merges; no latency without a sketch (`count`). */
export function functionStats(fn: string, calls: number, errors: number, sketch: Sketch | undefined): FunctionStats {
  if (sketch === undefined) return { fn, calls, errors };
  return {
    fn,
    calls,
    errors,
    p50: Math.round(sketch.quantile(0.5)),
    p90: Math.round(sketch.quantile(0.9)),
    p99: Math.round(sketch.quantile(0.99)),
    max: sketch.count === 0 ? 0 : Math.round(sketch.max),
    sketch: sketch.toData(),
  };
}

/** Rows in a table's order: most calls first, then by name. */
export function byCalls(rows: FunctionStats[]): FunctionStats[] {
  return rows.sort((a, b) => b.calls - a.calls || (a.fn < b.fn ? -1 : a.fn > b.fn ? 1 : 0));
}

/** Several tables merged by function name, in byCalls order. */
export function mergeFunctionStats(tables: readonly (readonly FunctionStats[])[]): FunctionStats[] {
  const byFn: Record<string, { calls: number; errors: number; sketch: Sketch | undefined }> = Object.create(null) as Record<string, never>;
  const names: string[] = [];
  for (let t = 0; t < tables.length; t++) {
    const table = tables[t]!;
    for (let i = 0; i < table.length; i++) {
      const row = table[i]!;
      let entry = byFn[row.fn];
      if (entry === undefined) {
        entry = byFn[row.fn] = { calls: 0, errors: 0, sketch: undefined };
        names[names.length] = row.fn;
      }
      entry.calls += row.calls;
      entry.errors += row.errors;
      if (row.sketch !== undefined) (entry.sketch ??= new Sketch(row.sketch.alpha)).merge(row.sketch);
    }
  }
  const out: FunctionStats[] = [];
  for (let i = 0; i < names.length; i++) {
    const entry = byFn[names[i]!]!;
    out[out.length] = functionStats(names[i]!, entry.calls, entry.errors, entry.sketch);
  }
  return byCalls(out);
}
