/**
 * An instrumented function after a session (npm run test:perf: it needs V8's natives
 * syntax, in a process of its own): every session leaves type feedback for the body's
 * hooked branch, so V8's optimized code then keeps that branch, and a body that handed
 * `arguments` to the tracer had that code make an arguments object on every call, idle
 * again or not (bench/body.mjs `body-ended`: 4-7x a bare call, on main before branch
 * body6). Counted without a clock: young-generation collections over three million calls
 * of the optimized loop (an object per call is dozens of them; none is none), in sloppy
 * mode (a mapped `arguments`) and in strict mode.
 */
import { runNode } from '../support/process.js';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot } from './fixture-app.js';

interface Outcome {
  calls: number;
  scavenges: number;
  optimized: boolean;
}

async function run(mode: 'sloppy' | 'strict'): Promise<Outcome> {
  const script = join(repoRoot, 'test/fixtures/body-idle/after-session.mjs');
  const stdout = await runNode(['--allow-natives-syntax', script, repoRoot, mode], { cwd: repoRoot, env: { ...process.env, LIVETRACE_REACH_CHECK_MS: '0' }, timeoutMs: 25_000 });
  return JSON.parse(stdout) as Outcome;
}

describe('an instrumented function after its sessions ended', () => {
  for (const mode of ['sloppy', 'strict'] as const) {
    it(`allocates nothing per call once optimized (${mode} mode)`, async () => {
      const outcome = await run(mode);
      expect(outcome.optimized).toBe(true);
      // A collection or two can come from the loop's own start; an object per call is 13 (strict) to 62 (sloppy).
      expect(outcome.scavenges).toBeLessThanOrEqual(2);
    });
  }
});
