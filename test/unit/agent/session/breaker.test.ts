import { describe, expect, it } from 'vitest';
import { Breaker, BURST_SECONDS, CEILING_SECONDS, HARD_CEILING_MS, type Readings } from '../../../../src/agent/session/breaker.js';

/** Spends `ms` of CPU on this thread. */
function burn(ms: number): void {
  const start = process.cpuUsage();
  for (;;) {
    const used = process.cpuUsage(start);
    if ((used.user + used.system) / 1000 >= ms) return;
  }
}

const MS = 1e6;
const SECOND = 1000 * MS;

/**
 * A breaker on fake readings: each `second(ms, share)` charges `ms` of own time, moves the
 * clock one second and the CPU `share` of it, and ticks. Returns the tick's detail.
 */
function fakeBreaker(budgetMs: number) {
  const clock = { cpu: 0, wall: 0 };
  const readings: Readings = { cpu: () => clock.cpu, clock: () => clock.wall };
  const breaker = new Breaker(budgetMs * MS, readings);
  return {
    breaker,
    clock,
    second(ms: number, share = 1): string | undefined {
      breaker.add(ms * MS);
      clock.wall += SECOND;
      clock.cpu += share * SECOND;
      return breaker.overBudget();
    },
  };
}

describe('Breaker', () => {
  const pastNs = (HARD_CEILING_MS + 50) * 1e6;

  it('a span past the ceiling trips once the process ran that much CPU since the tick', () => {
    const { breaker, clock } = fakeBreaker(1000);
    clock.cpu += (HARD_CEILING_MS + 60) * MS;
    clock.wall += (HARD_CEILING_MS + 60) * MS;
    expect(breaker.pastCeiling(HARD_CEILING_MS * MS)).toBeUndefined();
    expect(breaker.pastCeiling(pastNs)).toBe("overload: 150 ms of livetrace's own time in one call (ceiling 100)");
  });

  it('a span of a thread that waited for a core does not trip: scaled by the share of the second the process ran', () => {
    // A spinning target at load 15: 103 ms for one call, in 400 ms of which the process ran 160.
    const { breaker, clock } = fakeBreaker(50);
    clock.cpu += 160 * MS;
    clock.wall += 400 * MS;
    expect(breaker.pastCeiling(103 * MS)).toBeUndefined();
    expect(breaker.pastCeiling(300 * MS)).toBe("overload: 120 ms of livetrace's own time in one call (ceiling 100)");
  });

  it('restart(): CPU spent before it (a session attaching) does not count for a later span', () => {
    const breaker = new Breaker(1e9);
    burn(HARD_CEILING_MS + 20);
    breaker.restart();
    expect(breaker.pastCeiling(pastNs)).toBeUndefined();
  });

  it('lets a warm-up second over the budget pass when the next seconds pay it back (the old per-second rule stopped it)', () => {
    // A `--rate off` stream at the default budget, as measured: 120-260 ms in its first
    // second, 40-48 in the next ones.
    const { second } = fakeBreaker(50);
    expect(second(260)).toBeUndefined();
    for (let s = 0; s < 60; s++) expect(second(40 + (s % 9)), `second ${s + 2}`).toBeUndefined();
  });

  it('bounds the long-run rate: seconds that keep costing over the budget stop once they used the burst', () => {
    const { second } = fakeBreaker(50);
    // 60 ms a second is 10 over: the burst of 6 x 50 = 300 lasts 30 seconds.
    const details: (string | undefined)[] = [];
    for (let s = 0; s < 40 && details.at(-1) === undefined; s++) details.push(second(60));
    expect(details).toHaveLength(31);
    expect(details.at(-1)).toBe("overload: 1860 ms of livetrace's own time in 31 s (budget 31 x 50 + burst 300 = 1850)");
    expect(BURST_SECONDS).toBe(6);
  });

  it('a burst is paid back by cheaper seconds, never saved up past the bucket', () => {
    const { second } = fakeBreaker(50);
    // Idle seconds do not bank budget for later: after them the burst is still 6 x 50.
    for (let s = 0; s < 100; s++) second(0);
    expect(second(350)).toBeUndefined();
    // 300 over the rate now: the next second over the budget trips.
    expect(second(51)).toBe("overload: 401 ms of livetrace's own time in 2 s (budget 2 x 50 + burst 300 = 400)");
  });

  it('stops at the first tick a single second passes the ceiling (7 x the budget), and says so', () => {
    const { second } = fakeBreaker(50);
    expect(CEILING_SECONDS).toBe(7);
    expect(second(362)).toBe("overload: 362 ms of livetrace's own time in 1 s (ceiling 350)");
  });

  it('the ceiling holds however long the seconds before stayed under the budget', () => {
    const { second } = fakeBreaker(10);
    for (let s = 0; s < 20; s++) expect(second(1)).toBeUndefined();
    expect(second(71)).toBe("overload: 71 ms of livetrace's own time in 1 s (ceiling 70)");
  });

  it('scales a second by the share of it the process ran (waiting for a core is not own time)', () => {
    const { second } = fakeBreaker(50);
    // 600 ms of wall-clock spans in a second the process ran 50% of: 300 ms of own time.
    expect(second(600, 0.5)).toBeUndefined();
    expect(second(600, 1)).toBe("overload: 600 ms of livetrace's own time in 1 s (ceiling 350)");
  });

  it('restart() empties the bucket', () => {
    const { breaker, second } = fakeBreaker(50);
    // 290 over the rate: without the restart, 70 more would pass the burst of 300.
    expect(second(340)).toBeUndefined();
    breaker.restart();
    expect(second(70)).toBeUndefined();
  });

});
