/**
 * The conditions of a probe's breakpoints: the expressions V8 evaluates on every hit,
 * which call the trampoline (trampoline.ts) under a key on globalThis, and what
 * evaluating one costs before the trampoline runs (charged to the sessions with each hit).
 *
 * Each copy of livetrace in a process (the ESM and the CommonJS build) has its own
 * trampoline and worker, so the key names this copy. A condition's frames carry
 * PROBE_SOURCE_URL, so a stack taken in a probed call never shows them.
 */
import { clock } from '../../clock.js';
import { PROBE_SOURCE_URL } from '../../capture/stack.js';

export const TRAMPOLINE_KEY = `livetrace.probe.${process.pid}.${Math.random().toString(36).slice(2, 10)}`;

/**
 * What evaluating a condition costs before the trampoline runs (V8 compiles it like an
 * `eval` each time, with the Debugger's compilation cache off), ns. Measured by
 * `calibrateCondition` once the Debugger is on; until then a conservative guess.
 */
export const conditionCost = { ns: 100_000 };

/** The condition of a probe's entry breakpoint. */
export function entryCondition(id: number, receiver: boolean, argsExpression: string): string {
  return `globalThis[Symbol.for(${JSON.stringify(TRAMPOLINE_KEY)})].enter(${id}, ${receiver ? 'this' : 'undefined'}, ${argsExpression})\n//# sourceURL=${PROBE_SOURCE_URL}`;
}

/** The condition of a probe's return breakpoints. */
export function exitCondition(id: number): string {
  return `globalThis[Symbol.for(${JSON.stringify(TRAMPOLINE_KEY)})].leave(${id})\n//# sourceURL=${PROBE_SOURCE_URL}`;
}

/** The condition of a counting breakpoint (the reach check's): it only counts the call. */
export function countCondition(id: number): string {
  return `globalThis[Symbol.for(${JSON.stringify(TRAMPOLINE_KEY)})].count(${id})\n//# sourceURL=${PROBE_SOURCE_URL}`;
}

/**
 * Measures what a condition costs before the trampoline runs: compiling and running a
 * script of the same shape, with the Debugger on (so with V8's compilation cache off and
 * the script reported to the worker), as V8 does for each condition. The fastest of a
 * few runs: delays only ever slow one down. A process that forbids compiling strings
 * keeps the guess.
 */
export function calibrateCondition(): void {
  const key = JSON.stringify(TRAMPOLINE_KEY);
  let best = Infinity;
  try {
    for (let i = 0; i < 5; i++) {
      const text = `globalThis[Symbol.for(${key})].noop(${i}, undefined, [])\n//# sourceURL=${PROBE_SOURCE_URL}`;
      const t0 = clock();
      (0, eval)(text);
      best = Math.min(best, clock() - t0);
    }
  } catch {
    return;
  }
  if (Number.isFinite(best)) conditionCost.ns = best;
}
