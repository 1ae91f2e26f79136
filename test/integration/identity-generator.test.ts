/**
 * Issue 12: generators and async generators of a module selected for body instrumentation
 * (LIVETRACE_INSTRUMENT) under the --require and --import preloads. The program observes exactly what it
 * does untraced (results, return()/throw() part way, a generator never iterated, the
 * library's own references to its functions, text, name, length, inspect), each call made
 * through the exports is reported as the wrapper path (pinning) reports it, and the calls
 * the library makes through its own references are seen too, with their call-tree parents.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { cleanup } from './fixture-app.js';
import { runIdentityScript, type RecordedCall } from './reach-harness.js';

afterEach(cleanup);


/** 'cjs': the --require preload (CJS build); 'esm': the --import preload (ESM build). */
function run(flavour: 'plain' | 'cjs' | 'esm', env: Record<string, string> = {}): Promise<{ observed: string; calls: RecordedCall[] }> {
  return runIdentityScript('gen-run.mjs', flavour, 'OBSERVED', { preload: flavour === 'plain' ? 'none' : flavour === 'cjs' ? 'require' : 'import', env });
}

const short = (fn: string) => fn.replace('identity/gen-lib.cjs:', '');
const GENERATORS = new Set(['range', 'evens', 'ticks', 'never', 'Bag#map', 'Bag.of']);
const GENERATOR_OBJECT = { $: 'object', class: 'Object', props: {} };

describe('generators under body instrumentation', () => {
  it('the program observes what it does untraced, its own references included; the calls are reported as the wrapper path reports them, and more', async () => {
    const [plain, traced, pinned] = await Promise.all([run('plain'), run('cjs', { LIVETRACE_INSTRUMENT: 'identity/gen-lib.cjs' }), run('cjs')]);
    expect(traced.observed).toBe(plain.observed);
    const viaImport = await run('esm', { LIVETRACE_INSTRUMENT: 'identity/gen-lib.cjs' });
    expect(viaImport.observed).toBe(plain.observed);
    // This session is the ESM build's, the body sites the preload's (the CJS build): the
    // call-tree context is one per process (patcher/context.ts), so parents match too.
    const withParents = (calls: RecordedCall[]) => {
      const ids = new Map(calls.map((c) => [c.id, c]));
      return calls.map((c) => [c.fn, c.parent === null ? null : ids.get(c.parent)!.fn, c.args, c.value]);
    };
    expect(withParents(viaImport.calls)).toEqual(withParents(traced.calls));
    const observed = JSON.parse(plain.observed) as { own: boolean[]; log: string[] };
    expect(observed.own).toEqual([true, true, true, true, true, true]);
    expect(observed.log).not.toContain('never ran');
    // Pinning (the wrapper path) cannot keep the library's own references.
    expect((JSON.parse(pinned.observed) as { own: boolean[] }).own).toEqual([false, false, false, false, false, false]);

    const byId = new Map(traced.calls.map((c) => [c.id, c]));
    const shape = traced.calls.map((c) => [short(c.fn), c.parent === null ? null : short(byId.get(c.parent)!.fn), JSON.stringify(c.args)]);
    // Records come in the order calls end: a generator's at its call. Its body runs later, in
    // whatever call runs it (sum's for-of), like a wrapper's original after the wrapper returned.
    expect(shape).toEqual([
      ['evens', null, '[5]'],
      ['range', null, '[0,5]'],
      ['step', null, '[0]'],
      ['step', null, '[1]'],
      ['step', null, '[2]'],
      ['step', null, '[3]'],
      ['step', null, '[4]'],
      ['range', 'sum', '[0,3]'],
      ['step', 'sum', '[0]'],
      ['step', 'sum', '[1]'],
      ['step', 'sum', '[2]'],
      ['sum', null, '[3]'],
      ['range', null, '[1,4]'],
      ['step', null, '[1]'],
      ['range', null, '[0,2]'],
      ['step', null, '[0]'],
      ['ticks', null, '[2]'],
      ['step', null, '[0]'],
      ['step', null, '[1]'],
      ['Bag', null, '[[1,2]]'],
      ['Bag#map', null, '[{"$":"function","name":""}]'],
      ['Bag.of', null, '["a","b"]'],
      ['Bag', null, '[["a","b"]]'],
      ['never', null, '[7]'],
      ['isOwn', null, JSON.stringify([[['range', 'generator'], ['evens', 'generator'], ['ticks', 'asyncgenerator'], ['never', 'generator'], ['map', 'generator'], ['of', 'generator']].map(([name, kind]) => ({ $: 'function', name, kind }))])],
    ]);
    for (const call of traced.calls) if (GENERATORS.has(short(call.fn))) expect([call.outcome, call.value]).toEqual(['return', GENERATOR_OBJECT]);

    // Every generator call the wrapper path reports is reported alike: outcome, arguments,
    // value, parent (the instrumented run also sees the library's own calls).
    const record = (c: RecordedCall) => JSON.stringify([short(c.fn), c.parent === null, c.outcome, c.args, c.value]);
    const wrapped = pinned.calls.filter((c) => GENERATORS.has(short(c.fn))).map(record);
    expect(wrapped.map((r) => JSON.parse(r)[0])).toEqual(['evens', 'range', 'range', 'ticks', 'Bag#map', 'Bag.of', 'never']);
    const instrumented = traced.calls.map(record);
    for (const r of wrapped) {
      const at = instrumented.indexOf(r);
      expect(at, r).toBeGreaterThanOrEqual(0);
      instrumented.splice(at, 1);
    }
  });
});
