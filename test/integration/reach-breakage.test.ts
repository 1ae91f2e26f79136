/**
 * The shapes that break export-rewriting loaders (import cycles that call hoisted
 * functions, classes built after a temporal dead zone, ambiguous `export *`, `let`
 * exports that change, re-exports, getters, default exports, top-level await) behave
 * exactly as without livetrace: with the preload in both forms, and with a trace on every
 * function of theirs from the first line.
 */
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { cleanup, launchApp, type Preload } from './fixture-app.js';
import { reachDir, runReach } from './reach-harness.js';

afterEach(cleanup);

/** breakage/all.mjs runs every fixture in turn (cycle, tdz, star, let, reexport, getters, defaults, anonymous-class, const-assigned, tla). */
async function plainRun(preload: Preload): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const app = await launchApp([join(reachDir, 'breakage', 'all.mjs')], { preload, ready: null });
  const exit = await app.exited;
  return { code: exit.code, stdout: app.lines.join('\n'), stderr: app.stderr() };
}

describe('breakage fixtures', () => {
  it('behave as without the preload, in both preload forms', async () => {
    const [plain, imported, required] = await Promise.all([plainRun('none'), plainRun('import'), plainRun('require')]);
    expect(plain.code).toBe(0);
    expect(plain.stdout.split('\n').filter((line) => line.startsWith('-- '))).toHaveLength(10);
    expect(imported).toEqual(plain);
    expect(required).toEqual(plain);
  });

  it('behave the same under a trace of all their functions from the first line', async () => {
    const [plain, traced] = await Promise.all([plainRun('none'), runReach('import', 'before', ['breakage/**:*'], ['./breakage/all.mjs'])]);
    expect(traced.output.join('\n')).toBe(plain.stdout);
    expect(traced.stderr).toBe('');
    expect(traced.calls.length).toBeGreaterThan(10);
  });

  it('the trace is really on: the cycle fixture is seen calling across the cycle', async () => {
    const traced = await runReach('import', 'before', ['breakage/**:*'], ['./breakage/cycle.mjs']);
    // cycle-b.mjs calls hoisted('early') while cycle-a.mjs is still evaluating (not yet
    // registered); the later calls go through the rebound variables.
    expect(traced.calls.map((c) => [c.fn, ...c.args])).toEqual([
      ['breakage/cycle-a.mjs:hoisted', 'late'],
      ['breakage/cycle-b.mjs:fromB'],
      ['breakage/cycle-a.mjs:callB'],
    ]);
  });

  it('the let fixture: the module replacing a traced export wins, and the trace sees the calls before', async () => {
    const traced = await runReach('require', 'before', ['breakage/let-counter:*'], ['./breakage/let.mjs']);
    expect(traced.output).toEqual(['let before 0 first 0', 'let after 1 second 1 second']);
    expect(traced.calls.map((c) => c.fn)).toEqual(['breakage/let-counter.mjs:handler', 'breakage/let-counter.mjs:bump']);
  });
});
