/**
 * What probes may spend, and who pays. A hit runs in the middle of the program's call, so
 * its cost is charged to the sessions tracing the function (their overload breaker), and
 * hits and pauses are counted per second against the budget: past it a probe cools and a
 * reported call loses its value rather than pausing the program again.
 */
import { clock } from '../../clock.js';
import type { Hook } from '../../patcher/dispatch.js';
import type { Site } from '../../patcher/site.js';

/**
 * Hits a probe may take per second before it is cooled, and pauses (to read a returned
 * value, about a millisecond and a half each) all probes may take per second; past
 * that, a reported call is reported without its value. 0: no limit.
 */
export const budget = { hitsPerSecond: 0, pausesPerSecond: 0 };

/** Counts events in windows of one second. */
export class SecondWindow {
  /** clock() when the current window began. */
  start = 0;
  private count = 0;

  /** Counts one event; true while this second's count is within `limit` (0: no limit). */
  take(limit: number): boolean {
    if (limit <= 0) return true;
    const now = clock();
    if (now - this.start >= 1e9) {
      this.start = now;
      this.count = 0;
    }
    return ++this.count <= limit;
  }
}

/** Charges `ns` to every hook on the site (each session tracing it pays the whole hit). */
export function charge(site: Site, ns: number): void {
  const hooks = site.state.hooks;
  if (hooks === null) return;
  for (let i = 0; i < hooks.length; i++) {
    try {
      hooks[i]!.charge?.(ns);
    } catch {
      // Hooks guard themselves.
    }
  }
}

export function chargeMatched(matched: (Hook | object)[], ns: number): void {
  for (let i = 0; i < matched.length; i += 2) {
    try {
      (matched[i] as Hook).charge?.(ns);
    } catch {
      // Hooks guard themselves.
    }
  }
}

