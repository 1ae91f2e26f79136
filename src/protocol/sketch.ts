/**
 * A mergeable latency sketch: the one quantile structure of livetrace, shared by the
 * agent's `hist` sessions, the CLI's merge across targets, the dashboard's latency charts
 * and the fleet's merge through Redis.
 *
 * It is DDSketch's logarithmic mapping (Masson, Rim and Lee, VLDB 2019) with a sparse
 * store: a value x > 0 goes to bucket i = ceil(log_γ x), γ = (1 + α) / (1 − α), and a
 * bucket stands for 2γ^i / (γ + 1), which is within a relative error α of every value the
 * bucket holds. Two properties make it the right tool here, and why a t-digest or a
 * reservoir is not:
 * - *Merging is exact*: the sketch of the union of two streams is the bucket-wise sum of
 *   their sketches, so a p99 merged from eight workers (or from sixty one-second windows)
 *   is within α of the true p99 of all their calls, not an average of p99s.
 * - *Windows by subtraction*: a cumulative sketch minus the previous snapshot is the sketch
 *   of the calls in between, so an agent sends cumulative snapshots (a lost one costs
 *   resolution, not correctness) and a chart takes the last 60 s by subtracting.
 *
 * Quantiles follow DDSketch's definition: the value of rank ⌊q·(n − 1)⌋ in sorted order
 * (0-based), reported as its bucket's representative and clamped to the exact min and max.
 * With α = 1% and values between 1 ns and 10^13 ns, a sketch holds at most ~1,500
 * buckets; real latencies fill a few dozen.
 *
 * It runs inside the target too, after the program may have replaced Map or Array
 * methods: bins live in a null-prototype object and the Math functions are taken at load.
 */

const { log, ceil, floor, abs } = Math;
const keysOf = Object.keys;

/** The relative accuracy of every sketch livetrace makes: quantiles within 1% of the true value. */
export const SKETCH_RELATIVE_ACCURACY = 0.01;

/** A sketch as data, on the wire and in JSON output. Bins are [index, count], sorted by index. */
export interface SketchData {
  /** Relative accuracy (α). Sketches merge only with sketches of the same α. */
  alpha: number;
  count: number;
  /** Values ≤ 0 (a clock that did not move). */
  zero: number;
  min: number;
  max: number;
  sum: number;
  bins: [number, number][];
}

export class Sketch {
  readonly alpha: number;
  private readonly logGamma: number;
  private readonly gamma: number;
  /** Bucket index → count. */
  private readonly bins: Record<number, number> = Object.create(null) as Record<number, number>;
  count = 0;
  zero = 0;
  min = Infinity;
  max = -Infinity;
  sum = 0;

  constructor(alpha = SKETCH_RELATIVE_ACCURACY) {
    if (!(alpha > 0 && alpha < 1)) throw new RangeError(`sketch accuracy must be in (0, 1), got ${alpha}`);
    this.alpha = alpha;
    this.gamma = (1 + alpha) / (1 - alpha);
    this.logGamma = log(this.gamma);
  }

  static from(data: SketchData): Sketch {
    const sketch = new Sketch(data.alpha);
    sketch.merge(data);
    return sketch;
  }

  add(value: number, times = 1): void {
    if (!(times > 0) || Number.isNaN(value)) return;
    this.count += times;
    this.sum += value * times;
    if (value < this.min) this.min = value;
    if (value > this.max) this.max = value;
    if (value <= 0) {
      this.zero += times;
      return;
    }
    const index = ceil(log(value) / this.logGamma);
    this.bins[index] = (this.bins[index] ?? 0) + times;
  }

  /** Adds another sketch (or its data): afterwards this is the sketch of both streams. */
  merge(other: Sketch | SketchData): void {
    const data = other instanceof Sketch ? other.toData() : other;
    if (abs(data.alpha - this.alpha) > 1e-12) throw new RangeError(`cannot merge a sketch of accuracy ${data.alpha} into one of ${this.alpha}`);
    if (data.count === 0) return;
    this.count += data.count;
    this.zero += data.zero;
    this.sum += data.sum;
    if (data.min < this.min) this.min = data.min;
    if (data.max > this.max) this.max = data.max;
    for (let i = 0; i < data.bins.length; i++) {
      const [index, n] = data.bins[i]!;
      this.bins[index] = (this.bins[index] ?? 0) + n;
    }
  }

  /**
   * The sketch of the values added to `later` after `earlier` was taken (both cumulative
   * snapshots of one stream). min and max are those of `later`: bounds, not exact.
   */
  static between(earlier: SketchData, later: SketchData): Sketch {
    const out = new Sketch(later.alpha);
    const before: Record<number, number> = Object.create(null) as Record<number, number>;
    for (const [index, n] of earlier.bins) before[index] = n;
    out.count = later.count - earlier.count;
    out.zero = later.zero - earlier.zero;
    out.sum = later.sum - earlier.sum;
    for (const [index, n] of later.bins) {
      const left = n - (before[index] ?? 0);
      if (left > 0) out.bins[index] = left;
    }
    if (out.count > 0) {
      out.min = later.min;
      out.max = later.max;
    }
    return out;
  }

  /** The q-quantile (0 ≤ q ≤ 1) within α of the true one; 0 when empty. */
  quantile(q: number): number {
    if (this.count === 0) return 0;
    if (q <= 0) return this.min;
    if (q >= 1) return this.max;
    const rank = floor(q * (this.count - 1));
    if (rank < this.zero) return this.min > 0 ? this.min : 0;
    let seen = this.zero;
    for (const index of this.indexes()) {
      seen += this.bins[index]!;
      if (seen > rank) return clamp((2 * this.gamma ** index) / (this.gamma + 1), this.min, this.max);
    }
    return this.max;
  }

  private indexes(): number[] {
    const keys = keysOf(this.bins);
    const out: number[] = [];
    for (let i = 0; i < keys.length; i++) out[i] = +keys[i]!;
    return out.sort((a, b) => a - b);
  }

  toData(): SketchData {
    const bins: [number, number][] = [];
    for (const index of this.indexes()) bins[bins.length] = [index, this.bins[index]!];
    return {
      alpha: this.alpha,
      count: this.count,
      zero: this.zero,
      min: this.count === 0 ? 0 : this.min,
      max: this.count === 0 ? 0 : this.max,
      sum: this.sum,
      bins,
    };
  }
}

function clamp(value: number, low: number, high: number): number {
  return value < low ? low : value > high ? high : value;
}

/** Merges sketches (or their data) into a new one; undefined entries are skipped. */
export function mergeSketches(sketches: Iterable<SketchData | Sketch | undefined>): Sketch {
  let out: Sketch | undefined;
  for (const sketch of sketches) {
    if (sketch === undefined) continue;
    out ??= new Sketch(sketch.alpha);
    out.merge(sketch);
  }
  return out ?? new Sketch();
}
