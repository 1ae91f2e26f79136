import { describe, expect, it } from 'vitest';
import { Aggregator } from '../../../../src/agent/session/aggregate.js';

describe('Aggregator', () => {
  it('counts calls and errors per function, sorted by calls', () => {
    const agg = new Aggregator();
    agg.record('a', 100, false, false);
    agg.record('b', 100, true, false);
    agg.record('b', 100, false, false);
    const snap = agg.snapshot();
    expect(snap).toEqual([
      { fn: 'b', calls: 2, errors: 1 },
      { fn: 'a', calls: 1, errors: 0 },
    ]);
  });

  it('keeps quantiles only for the functions a hist pattern saw', () => {
    const agg = new Aggregator();
    agg.record('counted', 100, false, false);
    agg.record('timed', 2000, false, true);
    const snap = agg.snapshot();
    expect(snap.find((s) => s.fn === 'counted')).toEqual({ fn: 'counted', calls: 1, errors: 0 });
    expect(snap.find((s) => s.fn === 'timed')).toMatchObject({ calls: 1, max: 2000 });
  });

  it('reports quantiles within 4% of the true values', () => {
    const agg = new Aggregator();
    // 1..10000 µs, uniformly.
    for (let i = 1; i <= 10_000; i++) agg.record('f', i * 1000, false, true);
    const [s] = agg.snapshot();
    const near = (got: number, want: number): void => expect(Math.abs(got - want) / want).toBeLessThan(0.045);
    near(s!.p50!, 5_000_000);
    near(s!.p90!, 9_000_000);
    near(s!.p99!, 9_900_000);
    expect(s!.max).toBe(10_000_000);
  });

  it('handles zero and huge durations', () => {
    const agg = new Aggregator();
    agg.record('f', 0, false, true);
    agg.record('f', 1e15, false, true);
    const [s] = agg.snapshot();
    expect(s!.p50).toBeLessThanOrEqual(1);
    expect(s!.max).toBe(1e15);
  });
});
