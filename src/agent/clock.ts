/**
 * The engine's monotonic clock, in ns as a double, and the wall time of a reading.
 *
 * A reported call reads it twice (its start and its end), so its cost is the largest
 * single item of a captured call. Measured in-process, one reading in a tight loop
 * (CPU time, 2 x 10^6 reads, 7 December 2026, load 5-8):
 *
 * | Node | performance.now() | process.hrtime() | hrtime.bigint() | Date.now() |
 * |---|---:|---:|---:|---:|
 * | 20.20 | 68-73 ns | 47 ns | 103 ns | 71 ns |
 * | 22.23 | 68-71 ns | 47 ns | 97 ns | 73 ns |
 * | 24.22 | 54-58 ns | 43 ns | 73 ns | 71 ns |
 *
 * `process.hrtime()` is the cheapest: the same monotonic source (uv_hrtime) written into
 * a buffer Node shares with its binding, returned as a fresh `[seconds, ns]` array, while
 * `performance.now()` checks its receiver (a rest-parameter frame hider and
 * `validateInternalField`) before it reads the same thing. The array is escape-analysed
 * away where `clock()` is inlined (every caller on the hot path: a loop of 2 x 10^7 reads
 * makes two scavenges); where it is not, it is a young-generation object of 32 bytes.
 * BigInt readings allocate a BigInt and cost a conversion. A shared buffer updated by
 * another thread would be cheaper still to read, but only Node's own binding writes one.
 *
 * Readings are the system's monotonic clock as it is, ns since the machine booted, so that
 * every copy of this module in the process (the preload's ESM build, a library user's CJS
 * build, a worker thread's) reads the same clock: a call's start read by one copy and its
 * end by another still subtract. (Counting from each copy's load gave copies loaded in
 * different seconds readings a whole second apart.) A double holds them to the ns for
 * 104 days of uptime, then to 2 ns, 4 ns after 208 days: below what a call's timing means.
 */
import { performance } from 'node:perf_hooks';

// Bound at load: an application's replacement of process.hrtime never runs for livetrace.
const hrtime = process.hrtime;

export function clock(): number {
  const t = hrtime();
  return t[0] * 1e9 + t[1];
}

/**
 * Wall-clock ms since the epoch at clock() zero: performance's time origin (the process's
 * start, as Date.now() then) plus the monotonic ms from there to the reading below.
 */
const ORIGIN_MS = performance.timeOrigin + performance.now() - clock() / 1e6;

/** Wall-clock ms since the epoch for a `clock()` reading, without a second clock read. */
export function wallTime(ns: number): number {
  return Math.round(ORIGIN_MS + ns / 1e6);
}
