/**
 * Reach: for each way a caller can hold a function, a fixture calls it that way under a
 * trace, and the trace sees exactly the expected calls. With the preload (`--import` and
 * `--require` forms) every path is seen; without it, what the exports engine misses is
 * missed, and `ls` says so.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { cleanup, type Preload } from './fixture-app.js';
import { callsOf, runReach } from './reach-harness.js';

afterEach(cleanup);

const callers = ['./lib/callers.cjs', './lib/esm-callers.mjs'];
const patterns = ['lib/math:*', 'lib/greet:hello', 'lib/greet:default', 'lib/greet:shout', 'lib/greet:Repo#save', 'lib/greet:helloAll'];

/** Every call esm-callers.mjs and callers.cjs make through their imports, in completion order. */
const everyPath = [
  ['lib/math.cjs:add', 1, 2], // property lookup: math.add()
  ['lib/math.cjs:add', 3, 4], // destructured before the trace: const { add } = require()
  ['lib/greet.mjs:hello', 'named'], // import { hello }
  ['lib/greet.mjs:hello', 'namespace'], // import * as greet
  ['lib/greet.mjs:default', 'default'], // import welcome from
  ['lib/greet.mjs:shout', 'const'], // export const shout = () => ...
  ['lib/greet.mjs:Repo#save', 'method'], // a method of an exported class
  ['lib/greet.mjs:hello', 'renamed re-export'], // export { hello as hi } from
  ['lib/greet.mjs:hello', 'star re-export'], // export * from
  ['lib/greet.mjs:hello', 'a'], // the module's own call to its export (the variable is rebound)
  ['lib/greet.mjs:hello', 'b'],
  ['lib/greet.mjs:helloAll', ['a', 'b']],
];

describe('with the preload, a trace started after the callers took their references sees every path', () => {
  for (const preload of ['import', 'require', 'node-options-import'] as Preload[]) {
    it(preload, async () => {
      const run = await runReach(preload, 'after', patterns, callers);
      expect(callsOf(run)).toEqual(everyPath);
      expect(new Set(run.calls.map((c) => c.engine))).toEqual(new Set(['preload']));
      expect(run.stderr).toBe('');
    });
  }
});

describe('without the preload', () => {
  it('the exports engine sees property lookups only, and ls warns about destructured callers', async () => {
    const run = await runReach('none', 'after', patterns, callers);
    expect(callsOf(run).filter((c) => String(c[0]).startsWith('lib/math.cjs:'))).toEqual([['lib/math.cjs:add', 1, 2]]);
    expect(run.calls.find((c) => c.fn === 'lib/math.cjs:add')!.engine).toBe('exports');
    const add = run.listed.find((l) => l.fn === 'lib/math.cjs:add');
    expect(add).toEqual({
      fn: 'lib/math.cjs:add',
      engine: 'exports',
      warning: 'callers that destructured this export before the trace started are not seen; use --import livetrace/register or a probe',
    });
    // ES modules without the preload: found through V8's module list, their exports
    // traced by probes (esm-source.ts), so every caller is seen, however it holds them.
    const esm = run.listed.filter((l) => l.fn.startsWith('lib/greet.mjs:'));
    expect(esm.length).toBeGreaterThan(0);
    for (const l of esm) expect(l.engine, l.fn).toBe('probe');
    const esmCalls = run.calls.filter((c) => c.fn.startsWith('lib/greet.mjs:'));
    expect(esmCalls.length).toBeGreaterThan(0);
    for (const c of esmCalls) expect(c.engine, c.fn).toBe('probe');
  });
});

describe('ls with the preload', () => {
  it('lists pinned CJS exports and ESM exports as preload, with no warning', async () => {
    const run = await runReach('import', 'after', ['lib/math:add'], callers);
    const byFn = new Map(run.listed.map((l) => [l.fn, l]));
    for (const fn of ['lib/math.cjs:add', 'lib/math.cjs:twice', 'lib/greet.mjs:hello', 'lib/greet.mjs:default', 'lib/greet.mjs:Repo#save', 'lib/barrel.mjs:hi']) {
      expect(byFn.get(fn), fn).toEqual({ fn, engine: 'preload', warning: null });
    }
    // A CJS class is pinned too (as a Proxy of itself: its statics stay its own); its
    // prototype methods are not (instances reach them through the prototype).
    expect(byFn.get('lib/math.cjs:Counter')).toEqual({ fn: 'lib/math.cjs:Counter', engine: 'preload', warning: null });
    expect(byFn.get('lib/math.cjs:Counter#increment')).toEqual({ fn: 'lib/math.cjs:Counter#increment', engine: 'exports', warning: null });
  });
});

describe('re-exports, constructors and statics', () => {
  it('a pattern on the re-exporting module reaches the same function by every path', async () => {
    const run = await runReach('import', 'after', ['lib/barrel:hi'], callers);
    expect(callsOf(run)).toEqual([
      ['lib/barrel.mjs:hi', 'named'],
      ['lib/barrel.mjs:hi', 'namespace'],
      ['lib/barrel.mjs:hi', 'renamed re-export'],
      ['lib/barrel.mjs:hi', 'star re-export'],
      ['lib/barrel.mjs:hi', 'a'],
      ['lib/barrel.mjs:hi', 'b'],
    ]);
  });

  it('an exported class is traced as a constructor (calls from its own body use the inner binding)', async () => {
    const run = await runReach('import', 'after', ['lib/greet:Repo'], callers);
    // `new Repo()` in esm-callers; Repo.open's `new Repo(name)` refers to the class's own name.
    expect(callsOf(run)).toEqual([['lib/greet.mjs:Repo']]);
  });

  it('a static method of an exported class', async () => {
    const run = await runReach('require', 'after', ['lib/greet:Repo.open'], callers);
    expect(callsOf(run)).toEqual([['lib/greet.mjs:Repo.open', 'static']]);
  });
});

describe('a trace started before the modules load (as livetrace run)', () => {
  for (const preload of ['import', 'require'] as Preload[]) {
    it(`hooks each module as it loads, before its importers run (${preload})`, async () => {
      const run = await runReach(preload, 'before', ['lib/math:*', 'lib/late*:*'], ['./lib/callers.cjs', './lib/late.mjs', './lib/late.cjs']);
      expect(callsOf(run)).toEqual([
        ['lib/math.cjs:add', 100, 1], // callers.cjs's top level, right after its nested require of math.cjs
        ['lib/math.cjs:twice', 10], // late.cjs's top level, through a destructured reference
        ['lib/math.cjs:add', 1, 2],
        ['lib/math.cjs:add', 3, 4],
        // late.mjs calls lateEsm(1) during its own evaluation, before it is registered: not seen.
        ['lib/late.mjs:lateEsm', 2],
        ['lib/late.mjs:run'],
        ['lib/math.cjs:twice', 5],
        ['lib/late.cjs:lateCjs', 5],
        ['lib/late.cjs:run'],
      ]);
    });
  }

  it('without the preload, CJS modules loading later are hooked as each one finishes loading', async () => {
    const run = await runReach('none', 'before', ['lib/math:*', 'lib/late*:*'], ['./lib/callers.cjs', './lib/late.cjs']);
    // module-watch reports each CJS module as its own load returns, so math.cjs is hooked
    // before callers.cjs destructures `add` from it: even the destructured calls are seen.
    expect(callsOf(run)).toEqual([
      ['lib/math.cjs:add', 100, 1],
      ['lib/math.cjs:twice', 10],
      ['lib/math.cjs:add', 1, 2],
      ['lib/math.cjs:add', 3, 4],
      ['lib/math.cjs:twice', 5],
      ['lib/late.cjs:lateCjs', 5],
      ['lib/late.cjs:run'],
    ]);
  });
});
