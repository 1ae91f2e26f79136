/**
 * The engine's monotonic clock, in ns as a double. A clock read costs about 65 ns on
 * this machine (more than a whole idle wrapper), so the engine reads it only for calls
 * it reports: once at entry, once at return, once at settle.
 */
import { performance } from 'node:perf_hooks';

const now = performance.now.bind(performance);
const origin = performance.timeOrigin;

export function clock(): number {
  return now() * 1e6;
}

/** Wall-clock ms since the epoch for a `clock()` reading, without a second clock read. */
export function wallTime(ns: number): number {
  return Math.round(origin + ns / 1e6);
}
