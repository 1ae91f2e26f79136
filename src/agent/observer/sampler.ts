/**
 * The sampling behind `livetrace info`, one per connection that asks for it.
 *
 * Observer's rule: only the open view refreshes. A process nobody watches pays nothing,
 * so nothing here runs until a connection's first info request, and everything stops when
 * that connection closes. While it runs, two things sample: the loop-delay histogram
 * (perf_hooks.monitorEventLoopDelay, a libuv timer every RESOLUTION_MS that never keeps the
 * process alive) and a PerformanceObserver for 'gc' entries, which costs the process one
 * callback per batch of collections. The rest (CPU, loop utilization, memory) are counters
 * the process keeps anyway; the sampler only remembers their values at the previous request
 * so the next one can report the difference.
 *
 * Each read covers the time since the previous read of the same connection, then resets:
 * two watchers do not see each other's intervals.
 */
import {
  monitorEventLoopDelay,
  performance,
  PerformanceObserver,
  type EventLoopUtilization,
  type IntervalHistogram,
  type PerformanceEntry,
} from 'node:perf_hooks';
import type { GcKind, GcKindInfo, LoopDelayInfo } from '../../protocol/observer.js';

/** Period of the loop-delay timer, ms (Node's default). */
export const RESOLUTION_MS = 10;

/** perf_hooks.constants.NODE_PERFORMANCE_GC_* by value. */
const GC_KINDS: Record<number, GcKind> = { 1: 'minor', 4: 'major', 8: 'incremental', 16: 'weakcb' };

export interface IntervalSample {
  intervalMs: number;
  cpuPercent: number;
  utilization: number;
  delay: LoopDelayInfo | null;
  gc: { count: number; pauseMs: number; byKind: Partial<Record<GcKind, GcKindInfo>> };
}

export class Sampler {
  private readonly histogram: IntervalHistogram;
  private readonly observer: PerformanceObserver;
  private gc = new Map<GcKind, GcKindInfo>();
  private lastAt = performance.now();
  private lastCpu = process.cpuUsage();
  private lastElu: EventLoopUtilization = performance.eventLoopUtilization();
  private stopped = false;

  constructor() {
    this.histogram = monitorEventLoopDelay({ resolution: RESOLUTION_MS });
    this.histogram.enable();
    this.observer = new PerformanceObserver((list) => {
      try {
        for (const entry of list.getEntries()) this.countGc(entry);
      } catch {
        // A malformed entry is not worth an exception in the target.
      }
    });
    this.observer.observe({ entryTypes: ['gc'] });
  }

  private countGc(entry: PerformanceEntry): void {
    const detail = (entry as PerformanceEntry & { detail?: { kind?: number } }).detail;
    const kind = GC_KINDS[detail?.kind ?? 0] ?? 'other';
    const figures = this.gc.get(kind) ?? { count: 0, pauseMs: 0 };
    figures.count++;
    figures.pauseMs += entry.duration;
    this.gc.set(kind, figures);
  }

  /** The figures since the previous read (or since the sampler started), then a fresh interval. */
  read(): IntervalSample {
    const now = performance.now();
    const cpu = process.cpuUsage(this.lastCpu);
    const elu = performance.eventLoopUtilization(this.lastElu);
    const intervalMs = now - this.lastAt;
    const count = this.histogram.count;
    const ms = (ns: number): number => round(ns / 1e6);
    const delay: LoopDelayInfo | null =
      count === 0
        ? null
        : {
            p50: ms(this.histogram.percentile(50)),
            p99: ms(this.histogram.percentile(99)),
            max: ms(this.histogram.max),
            mean: ms(this.histogram.mean),
            resolutionMs: RESOLUTION_MS,
          };
    let gcCount = 0;
    let gcPause = 0;
    const byKind: Partial<Record<GcKind, GcKindInfo>> = {};
    for (const [kind, figures] of this.gc) {
      gcCount += figures.count;
      gcPause += figures.pauseMs;
      byKind[kind] = { count: figures.count, pauseMs: round(figures.pauseMs) };
    }
    this.gc = new Map();
    this.histogram.reset();
    this.lastAt = now;
    this.lastCpu = process.cpuUsage();
    this.lastElu = performance.eventLoopUtilization();
    return {
      intervalMs: round(intervalMs),
      cpuPercent: intervalMs > 0 ? round(((cpu.user + cpu.system) / 1000 / intervalMs) * 100) : 0,
      utilization: round(elu.utilization, 4),
      delay,
      gc: { count: gcCount, pauseMs: round(gcPause), byKind },
    };
  }

  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    this.histogram.disable();
    this.observer.disconnect();
  }
}

function round(value: number, digits = 2): number {
  const scale = 10 ** digits;
  return Math.round(value * scale) / scale;
}
