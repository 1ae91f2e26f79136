/**
 * clock() readings are taken by whichever copy of the agent's modules a site or a session
 * loaded (the --import preload's ESM build, a library user's CJS build), and a call's start
 * read by one is subtracted from its end read by another. So every copy must read one
 * clock with one origin; counting from each copy's load once put two copies a whole second
 * apart, and a traced call was charged a second of livetrace's own time.
 */
import { describe, expect, it } from 'vitest';
import { clock, wallTime } from '../../../src/agent/clock.js';

describe('clock', () => {
  it('reads the process-wide monotonic clock, whatever copy of the module reads it', async () => {
    const other = (await import('../../../src/agent/clock.js?copy' as string)) as typeof import('../../../src/agent/clock.js');
    const before = Number(process.hrtime.bigint());
    const a = clock();
    const b = other.clock();
    const after = Number(process.hrtime.bigint());
    // Doubles of ~1e13-1e16 ns: compare to the µs.
    expect(a).toBeGreaterThanOrEqual(before - 1e3);
    expect(b).toBeGreaterThanOrEqual(a - 1e3);
    expect(after).toBeGreaterThanOrEqual(b - 1e3);
  });

  it('converts a reading to wall-clock ms', () => {
    expect(Math.abs(wallTime(clock()) - Date.now())).toBeLessThan(50);
  });
});
