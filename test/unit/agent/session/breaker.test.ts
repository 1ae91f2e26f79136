import { describe, expect, it } from 'vitest';
import { Breaker, HARD_CEILING_MS } from '../../../../src/agent/session/breaker.js';

/** Spends `ms` of CPU on this thread. */
function burn(ms: number): void {
  const start = process.cpuUsage();
  for (;;) {
    const used = process.cpuUsage(start);
    if ((used.user + used.system) / 1000 >= ms) return;
  }
}

describe('Breaker', () => {
  const pastNs = (HARD_CEILING_MS + 50) * 1e6;

  it('a span past the ceiling trips once the process ran that much CPU since the tick', () => {
    const breaker = new Breaker(1e9);
    burn(HARD_CEILING_MS + 20);
    expect(breaker.pastCeiling(pastNs)).toBe(true);
  });

  it('restart(): CPU spent before it (a session attaching) does not count for a later span', () => {
    const breaker = new Breaker(1e9);
    burn(HARD_CEILING_MS + 20);
    breaker.restart();
    expect(breaker.pastCeiling(pastNs)).toBe(false);
  });
});
