import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { mergeSketches, Sketch, SKETCH_RELATIVE_ACCURACY } from '../../../src/protocol/sketch.js';

/** DDSketch's quantile: the value of rank floor(q (n - 1)) in sorted order. */
function trueQuantile(values: number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(q * (sorted.length - 1))]!;
}

const latencies = fc.array(fc.double({ min: 1, max: 1e12, noNaN: true }), { minLength: 1, maxLength: 400 });
const quantiles = fc.constantFrom(0.01, 0.25, 0.5, 0.9, 0.99, 0.999);

function within(estimate: number, truth: number, alpha = SKETCH_RELATIVE_ACCURACY): boolean {
  return Math.abs(estimate - truth) <= alpha * truth * (1 + 1e-9);
}

describe('Sketch', () => {
  it('answers every quantile within its relative accuracy', () => {
    fc.assert(
      fc.property(latencies, quantiles, (values, q) => {
        const sketch = new Sketch();
        for (const v of values) sketch.add(v);
        expect(within(sketch.quantile(q), trueQuantile(values, q))).toBe(true);
      }),
    );
  });

  it('merged, equals the sketch of the union (within accuracy of the union)', () => {
    fc.assert(
      fc.property(fc.array(latencies, { minLength: 1, maxLength: 6 }), quantiles, (parts, q) => {
        const merged = mergeSketches(
          parts.map((values) => {
            const sketch = new Sketch();
            for (const v of values) sketch.add(v);
            return sketch.toData();
          }),
        );
        const all = parts.flat();
        expect(merged.count).toBe(all.length);
        expect(within(merged.quantile(q), trueQuantile(all, q))).toBe(true);
        const direct = new Sketch();
        for (const v of all) direct.add(v);
        expect(merged.toData().bins).toEqual(direct.toData().bins);
      }),
    );
  });

  it('between two cumulative snapshots holds exactly the values added in between', () => {
    fc.assert(
      fc.property(latencies, latencies, quantiles, (first, second, q) => {
        const sketch = new Sketch();
        for (const v of first) sketch.add(v);
        const earlier = sketch.toData();
        for (const v of second) sketch.add(v);
        const window = Sketch.between(earlier, sketch.toData());
        expect(window.count).toBe(second.length);
        const alone = new Sketch();
        for (const v of second) alone.add(v);
        expect(window.toData().bins).toEqual(alone.toData().bins);
        // min/max of the window are the cumulative ones (bounds), so compare unclamped ranks only.
        expect(within(window.quantile(q), trueQuantile(second, q)) || window.quantile(q) === sketch.max || window.quantile(q) === sketch.min).toBe(true);
      }),
    );
  });

  it('counts zero and negative durations, and is empty-safe', () => {
    const sketch = new Sketch();
    expect(sketch.quantile(0.5)).toBe(0);
    sketch.add(0);
    sketch.add(0);
    sketch.add(100);
    expect(sketch.quantile(0.5)).toBe(0);
    expect(sketch.quantile(1)).toBe(100);
    expect(sketch.toData()).toMatchObject({ count: 3, zero: 2, min: 0, max: 100 });
  });

  it('survives a JSON round trip and refuses to merge another accuracy', () => {
    const sketch = new Sketch();
    for (let i = 1; i <= 1000; i++) sketch.add(i * 1000);
    const copy = Sketch.from(JSON.parse(JSON.stringify(sketch.toData())));
    expect(copy.quantile(0.99)).toBe(sketch.quantile(0.99));
    expect(() => new Sketch(0.05).merge(sketch)).toThrow(/accuracy/);
    expect(() => new Sketch(0)).toThrow(RangeError);
  });

  it('keeps working when the program replaced Map and Array methods', () => {
    const saved = { set: Map.prototype.set, push: Array.prototype.push };
    try {
      Map.prototype.set = () => {
        throw new Error('replaced');
      };
      Array.prototype.push = () => {
        throw new Error('replaced');
      };
      const sketch = new Sketch();
      for (let i = 1; i <= 100; i++) sketch.add(i);
      expect(sketch.toData().count).toBe(100);
      expect(within(sketch.quantile(0.5), 50)).toBe(true);
    } finally {
      Map.prototype.set = saved.set;
      Array.prototype.push = saved.push;
    }
  });
});
