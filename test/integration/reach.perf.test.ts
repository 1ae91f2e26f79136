/**
 * The reach check's cost in time (npm run test:perf), from bench/reach.mjs in a process
 * of its own: while a check is open, an unrelated synchronous function costs what it
 * costs under a session whose check is off (precise coverage, the former mechanism,
 * made it ten times slower or more); a checked function called hot is decided within a
 * few breakpoint conditions, and its breakpoint is gone before the loop runs on for long.
 * reach-check.test.ts asserts the mechanism in the default suite.
 */
import { runNode } from '../support/process.js';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot } from './fixture-app.js';

interface Row {
  id: string;
  ns: number;
  conditions?: number;
  extraMs?: number;
}

async function bench(): Promise<Row[]> {
  const stdout = await runNode([join(repoRoot, 'bench/reach.mjs'), '--quick', '--json'], { cwd: repoRoot, timeoutMs: 110_000 });
  return (JSON.parse(stdout) as { rows: Row[] }).rows;
}

describe('reach check timing', () => {
  it('leaves an unrelated function its speed and decides a hot checked function within a few conditions', async () => {
    const rows = new Map((await bench()).map((r) => [r.id, r]));
    const row = (id: string): Row => rows.get(id) ?? expect.fail(`no row ${id}`);
    console.log(JSON.stringify([...rows.values()]));
    // Best of rounds on a shared machine: a margin for noise, far below a deoptimized process.
    expect(row('unrelated-sync-during').ns).toBeLessThan(2 * row('unrelated-sync-off').ns + 2);
    for (const id of ['checked-wrapper-on', 'checked-around-on']) {
      // 5 conditions decide a function reached, 1 one called around its wrapper; a few more may land before the removal.
      expect(row(id).conditions, id).toBeLessThanOrEqual(20);
      expect(row(id).extraMs, id).toBeLessThan(200);
    }
  }, 120_000);
});
