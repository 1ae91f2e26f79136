/** Attach's clock: phase durations for AttachResult, and the poll interval of its waits. */
import type { AttachPhaseName, AttachResult } from './types.js';

/** How often a wait looks again (for the inspector, the agent, a closed port). */
export const POLL_MS = 5;

export class PhaseClock {
  readonly start = performance.now();
  private last = this.start;
  readonly phases: AttachResult['phases'] = [];

  mark(name: AttachPhaseName): void {
    const now = performance.now();
    this.phases.push({ name, ms: round(now - this.last) });
    this.last = now;
  }

  elapsed(): number {
    return round(performance.now() - this.start);
  }
}

/** ms to one decimal. */
export function round(ms: number): number {
  return Math.round(ms * 10) / 10;
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
