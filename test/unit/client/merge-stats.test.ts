import { describe, expect, it } from 'vitest';
import { StatsMerger } from '../../../src/client/merge-stats.js';
import type { StatsRecord } from '../../../src/protocol/events.js';
import { Sketch } from '../../../src/protocol/sketch.js';

function record(pid: number, values: number[], ts = 1000, final = false): StatsRecord {
  const sketch = new Sketch();
  for (const v of values) sketch.add(v);
  return {
    v: 1, type: 'stats', session: `${pid}-1`, pid, ts, final,
    functions: [{ fn: 'a.js:f', calls: values.length, errors: 1, p50: 1, p90: 1, p99: 1, max: 1, sketch: sketch.toData() }, { fn: 'a.js:g', calls: 2, errors: 0 }],
  };
}

describe('merging stats records of several targets', () => {
  it('adds calls and errors and takes quantiles from the merged sketch, within 1% of the raw ones', () => {
    const a = Array.from({ length: 900 }, (_, i) => 1000 + i);
    const b = Array.from({ length: 100 }, (_, i) => 1_000_000 + i * 1000);
    const merger = new StatsMerger();
    merger.push(record(1, a));
    merger.push(record(2, b));
    const merged = merger.merged(true);
    expect(merged).toMatchObject({ type: 'stats', merged: true, pids: [1, 2], final: true, session: 'merged' });
    const f = merged.functions.find((x) => x.fn === 'a.js:f')!;
    expect(f).toMatchObject({ calls: 1000, errors: 2 });
    const all = [...a, ...b].sort((x, y) => x - y);
    const p99 = all[Math.floor(0.99 * 999)]!;
    expect(Math.abs(f.p99! - p99)).toBeLessThanOrEqual(0.01 * p99 + 1);
    expect(f.max).toBe(1_099_000);
    // A count function has no quantiles, merged or not.
    expect(merged.functions.find((x) => x.fn === 'a.js:g')).toEqual({ fn: 'a.js:g', calls: 4, errors: 0 });
  });

  it('keeps only the newest cumulative record of each target', () => {
    const merger = new StatsMerger();
    merger.push(record(1, [5, 6, 7], 2000));
    merger.push(record(1, [5], 1000));
    expect(merger.merged(false).functions[0]!.calls).toBe(3);
    expect(merger.dirty).toBe(false);
    merger.push(record(1, [5, 6, 7, 8], 3000));
    expect(merger.dirty).toBe(true);
    expect(merger.merged(false).functions[0]!.calls).toBe(4);
  });
});
