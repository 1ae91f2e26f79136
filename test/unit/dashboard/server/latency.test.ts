/**
 * The Latency page's windows: per-second sketches by subtraction of cumulative snapshots,
 * merged across processes, checked against quantiles computed from the raw values.
 */
import { describe, expect, it } from 'vitest';
import { LatencyWindow } from '../../../../src/dashboard/server/latency.js';
import { histPattern } from '../../../../src/dashboard/server/channel.js';
import type { StatsRecord } from '../../../../src/protocol/events.js';
import { Sketch } from '../../../../src/protocol/sketch.js';

function stats(pid: number, ts: number, sketches: Record<string, Sketch>): StatsRecord {
  return {
    v: 1, type: 'stats', session: `${pid}-1`, pid, ts, final: false,
    functions: Object.entries(sketches).map(([fn, sketch]) => ({ fn, calls: sketch.count, errors: 0, sketch: sketch.toData() })),
  };
}

function rawQuantile(values: number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(q * (sorted.length - 1))]!;
}

describe('LatencyWindow', () => {
  it('gives each second the calls of that second, merged across processes, within the sketch error', () => {
    const window = new LatencyWindow();
    const cumulative = [new Sketch(), new Sketch()];
    const perSecond: number[][] = [[], [], []];
    const all: number[] = [];
    let seed = 7;
    const random = (): number => ((seed = (seed * 48271) % 2147483647) / 2147483647);
    for (let second = 0; second < 3; second++) {
      for (const [pid, sketch] of cumulative.entries()) {
        // Process 1 is ten times slower in second 1: the merged p99 must see its tail.
        for (let i = 0; i < 500; i++) {
          const value = 1e5 * (1 + random() * 9) * (pid === 1 && second === 1 ? 10 : 1);
          sketch.add(value);
          perSecond[second]!.push(value);
          all.push(value);
        }
        window.addStats(stats(100 + pid, 10_000 + second * 1000 + 900 + pid * 50, { 'a.js:f': sketch }));
      }
    }
    const points = window.due(12_000 + 1000 + 1200);
    expect(points.map((p) => p.t)).toEqual([10_000, 11_000, 12_000]);
    for (const [second, point] of points.entries()) {
      const q = point.functions['a.js:f']!;
      expect(q.count).toBe(1000);
      for (const [name, quantile] of [['p50', 0.5], ['p90', 0.9], ['p99', 0.99]] as const) {
        const truth = rawQuantile(perSecond[second]!, quantile);
        expect(Math.abs(q[name] - truth) / truth, `${name} of second ${second}`).toBeLessThanOrEqual(0.0101);
      }
    }
    const total = window.total()['a.js:f']!;
    expect(total.count).toBe(3000);
    expect(Math.abs(total.p99 - rawQuantile(all, 0.99)) / rawQuantile(all, 0.99)).toBeLessThanOrEqual(0.0101);
  });

  it('emits a second only after its grace period, gives quiet seconds zero calls, and moves a late snapshot to the next open second', () => {
    const window = new LatencyWindow();
    const sketch = new Sketch();
    sketch.add(1000);
    window.addStats(stats(1, 5_100, { f: sketch }));
    expect(window.due(6_000)).toEqual([]);
    const first = window.due(7_300);
    expect(first.map((p) => [p.t, p.functions.f!.count])).toEqual([[5_000, 1]]);
    sketch.add(2000);
    // A snapshot stamped in the second already emitted: its call lands in the next one.
    window.addStats(stats(1, 5_900, { f: sketch }));
    const next = window.due(9_300);
    expect(next.map((p) => [p.t, p.functions.f!.count])).toEqual([[6_000, 1], [7_000, 0]]);
  });

  it('keeps the slowest sampled calls per function', () => {
    const window = new LatencyWindow();
    for (let i = 1; i <= 8; i++) {
      window.addCall({ v: 1, type: 'call', session: 's', id: i, parent: null, depth: 0, fn: 'f', module: 'm', engine: 'exports', pid: 1, thread: 0, ts: i, args: [i], outcome: 'return', durationNs: i * 100, truncated: false });
    }
    expect(window.slowest().f!.map((c) => c.durationNs)).toEqual([800, 700, 600, 500, 400]);
  });
});

describe('histPattern', () => {
  it('keeps the functions and the guard and replaces the actions with hist', () => {
    expect(histPattern('src/users:findUser(id, ...) when ms > 5 -> stack')).toBe('src/users:findUser(id, ...) when ms > 5 -> hist');
    expect(histPattern('db:query')).toBe('db:query -> hist');
  });
});
