/**
 * Issue 12: body instrumentation of ES modules under the --import preload
 * (source/instrument-esm.ts). The fixture (identity/esm-run.mjs) runs esm-lib.mjs and an
 * import cycle untraced, traced through the preload's rebindable exports and wrappers, and
 * traced with the modules selected (LIVETRACE_INSTRUMENT): selected, the program observes
 * exactly what it does untraced (stored references, aliases, toString, inspect, async
 * functions, the class and its statics, a reference no export holds, a hoisted function
 * called from the cycle before its module's body ran, a module that does not parse), and
 * every call the wrapper path reports is reported the same, with the calls made through
 * the module's own references on top.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { cleanup } from './fixture-app.js';
import { runIdentityScript, type RecordedCall } from './reach-harness.js';

afterEach(cleanup);


type Mode = 'plain' | 'wrapped' | 'instrumented';

function run(mode: Mode): Promise<{ observed: string; calls: RecordedCall[] }> {
  // The session runs in the preload's own copy of livetrace (dist/cjs), as `livetrace run`'s does.
  return runIdentityScript('esm-run.mjs', mode === 'plain' ? 'plain' : 'cjs', 'OBSERVED', {
    preload: mode === 'plain' ? 'none' : 'import',
    env: mode === 'instrumented' ? { LIVETRACE_INSTRUMENT: 'identity/esm-*.mjs' } : {},
  });
}

/** Each call as [fn, parent's fn, outcome, args, value, error message]: comparable across runs. */
function shape(calls: RecordedCall[]): unknown[][] {
  const byId = new Map(calls.map((c) => [c.id, c]));
  const short = (fn: string) => fn.replace(/^identity\/esm-[a-z-]+\.mjs:/, '');
  return calls.map((c) => [short(c.fn), c.parent === null ? null : short(byId.get(c.parent)!.fn), c.outcome, c.args, c.value ?? null, c.error?.message ?? null]);
}

describe('ES modules under body instrumentation', () => {
  it('selected, the program observes what it does untraced; through wrappers, what a wrapper changes differs', async () => {
    const [plain, wrapped, instrumented] = await Promise.all([run('plain'), run('wrapped'), run('instrumented')]);
    expect(instrumented.observed).toBe(plain.observed);
    const observed = JSON.parse(plain.observed);
    expect(observed.results.cycle).toEqual([11, 21]);
    expect(observed.broken).toMatch(/^SyntaxError: /);
    expect(observed.identity).toEqual({ stored: true, alias: true, own: [true, true, true, true, true], constructor: true, private: [true, true] });
    // The wrapper path: an instance's constructor is the class, not its Proxy, and a
    // reference no export holds is the original.
    const viaWrappers = JSON.parse(wrapped.observed);
    expect(viaWrappers.identity.constructor).toBe(false);
    expect(viaWrappers.identity.private).toEqual([false, false]);
    expect({ ...viaWrappers, identity: observed.identity }).toEqual(observed);
  });

  it('every call the wrapper path reports is reported alike, and the calls through the module own references too', async () => {
    const [wrapped, instrumented] = await Promise.all([run('wrapped'), run('instrumented')]);
    const viaWrappers = shape(wrapped.calls);
    const viaBodies = shape(instrumented.calls);
    const key = (call: unknown[]) => JSON.stringify(call);
    const seen = new Set(viaBodies.map(key));
    for (const call of viaWrappers) expect(seen, key(call)).toContain(key(call));
    const wrappedKeys = new Set(viaWrappers.map(key));
    expect(viaBodies.filter((call) => !wrappedKeys.has(key(call))).map((call) => call.slice(0, 4))).toEqual([
      // `new Store()` inside the class's own static reads the class binding, not the export.
      ['Store', 'Store.open', 'return', []],
      // Calls through the module's private Map.
      ['decode', null, 'return', ['%42']],
      ['quick', null, 'resolve', [1]],
    ]);
    // The async call tree across await, with settled values.
    expect(viaBodies.slice(0, 4)).toEqual([
      // earlyAsync(2), called from the cycle before its module ran, resumes and calls early.
      ['early', null, 'return', [2], 21, null],
      ['load', 'loadAll', 'resolve', ['a'], 'A', null],
      ['load', 'loadAll', 'reject', ['bad'], null, 'no bad'],
      ['loadAll', null, 'resolve', [['a', 'bad']], ['A', 'caught no bad'], null],
    ]);
  });
});
