/**
 * The arity-specialised wrappers (wrapper-function.ts): named parameters for an original
 * of 0-4 parameters, the original called with exactly what the caller passed, and the
 * site's positional pre-test and rate gate (site.ts refreshSite) run before any hook.
 */
import { describe, expect, it } from 'vitest';
import type { Gate, Hook } from '../../../../src/agent/patcher/dispatch.js';
import { addHook, refreshSite, removeHook, siteFor, type Site } from '../../../../src/agent/patcher/site.js';
import { propertyTarget } from '../../../../src/agent/engines/exports/target.js';
import { compilePatterns } from '../../../../src/pattern/index.js';
import { originalOf, patch, RecordingHook } from './recording-hook.js';

function siteOf(holder: object, key: string): Site {
  const site = siteFor(propertyTarget(holder, key));
  if (typeof site === 'string') throw new Error(site);
  return site;
}

/** A recording hook with a positional pre-test and/or a gate. */
class TestingHook extends RecordingHook implements Hook {
  constructor(
    readonly pretest: Hook['pretest'],
    readonly gate: Gate | undefined = undefined,
  ) {
    super();
  }
}

describe('arity-specialised wrappers pass the very arguments on', () => {
  for (const arity of [0, 1, 2, 3, 4, 5]) {
    it(`an original of ${arity} parameters, called with fewer, as many and more arguments, idle and traced`, () => {
      const original = originalOf(arity, 'sync');
      const holder = { f: original };
      const { site, hook, unpatch } = patch(holder, 'f');
      expect(holder.f).not.toBe(original);
      expect(holder.f.length).toBe(arity);
      expect(site.state.arity).toBe(arity <= 4 ? arity : -1);
      for (let n = 0; n <= arity + 2; n++) {
        const args = Array.from({ length: n }, (_, i) => ({ i }));
        const result = holder.f.apply(holder, args);
        expect(result.count).toBe(n);
        expect(result.args).toEqual(args);
        expect(result.args.every((a, i) => a === args[i])).toBe(true);
        expect(result.self).toBe(holder);
      }
      expect(hook.entered).toBe(arity + 3);
      unpatch();
    });
  }

  it('a constructor of 2 parameters: new with 1, 2 and 3 arguments keeps new.target and the arguments', () => {
    function Point(this: { args: unknown[]; target: unknown }, _x?: unknown, _y?: unknown): void {
      this.args = [...arguments];
      this.target = new.target;
    }
    const holder = { Point };
    const site = siteOf(holder, 'Point');
    const hook = new RecordingHook();
    addHook(site, hook);
    const W = holder.Point as unknown as new (...args: unknown[]) => { args: unknown[]; target: unknown };
    for (const args of [[1], [1, 2], [1, 2, 3]]) {
      const p = new W(...args);
      expect(p.args).toEqual(args);
      expect(p).toBeInstanceOf(Point);
      expect(p.target).toBe(W);
    }
    expect(hook.entered).toBe(3);
    removeHook(site, hook);
  });
});

describe('the positional pre-test', () => {
  it('runs on its argument before the hook: a call it rejects goes by untouched and is counted, one it passes reaches the hook', () => {
    const holder = { add: (a: unknown, b: number): unknown => (typeof a === 'number' ? a + b : a) };
    const site = siteOf(holder, 'add');
    const hook = new TestingHook({ at: 0, test: (v) => v === null });
    addHook(site, hook);
    expect(site.state.pre).not.toBeNull();
    expect(holder.add(1, 2)).toBe(3);
    expect(holder.add(5, 2)).toBe(7);
    expect(hook.entered).toBe(0);
    expect(site.state.skipped).toBe(2);
    expect(holder.add(null, 2)).toBe(null);
    expect(hook.entered).toBe(1);
    removeHook(site, hook);
  });

  it('a test that throws leaves the call to the hook', () => {
    const holder = { f: (a: unknown): unknown => a };
    const site = siteOf(holder, 'f');
    const hook = new TestingHook({
      at: 0,
      test: () => {
        throw new Error('bug');
      },
    });
    addHook(site, hook);
    expect(holder.f(1)).toBe(1);
    expect(hook.entered).toBe(1);
    removeHook(site, hook);
  });

  it('is not set for a position past the wrapper\'s named parameters, nor with two hooks on the site', () => {
    const holder = { f: (a: unknown, ..._more: unknown[]): unknown => a };
    const site = siteOf(holder, 'f');
    const far = new TestingHook({ at: 1, test: () => false });
    addHook(site, far);
    expect(site.state.pre).toBeNull();
    holder.f(1, 2);
    expect(far.entered).toBe(1);
    removeHook(site, far);
    const one = new TestingHook({ at: 0, test: () => false });
    const two = new RecordingHook();
    addHook(site, one);
    expect(site.state.pre).not.toBeNull();
    addHook(site, two);
    expect(site.state.pre).toBeNull();
    holder.f(1);
    expect(one.entered + two.entered).toBe(2);
    removeHook(site, two);
    expect(site.state.pre).not.toBeNull();
    removeHook(site, one);
    refreshSite(site);
    expect(site.state.pre).toBeNull();
  });
});

describe('the rate gate', () => {
  it('drops calls itself while the gate has no tokens, counting them in the gate; the hook is asked again once it has', () => {
    const holder = { f: (a: number): number => a * 2 };
    const site = siteOf(holder, 'f');
    const gate = { tokens: 0, dropped: 0 };
    const hook = new TestingHook(undefined, gate);
    addHook(site, hook);
    expect(holder.f(2)).toBe(4);
    expect(holder.f(3)).toBe(6);
    expect(hook.entered).toBe(0);
    expect(gate.dropped).toBe(2);
    expect(site.state.skipped).toBe(2);
    gate.tokens = 1;
    expect(holder.f(4)).toBe(8);
    expect(hook.entered).toBe(1);
    removeHook(site, hook);
  });
});

describe('what a pattern offers as a positional test', () => {
  const positional = (source: string) => compilePatterns([source])[0]!.positional;

  it('the first argument test that binds nothing', () => {
    const p = positional('m:f(X, nil)');
    expect(p?.at).toBe(1);
    expect(p?.test(null)).toBe(true);
    expect(p?.test(0)).toBe(false);
  });

  it('a pre-guard comparison of a whole argument with a constant', () => {
    const p = positional('m:f(_, X) when X < 0');
    expect(p?.at).toBe(1);
    expect(p?.test(-1)).toBe(true);
    expect(p?.test(1)).toBe(false);
    expect(p?.test('a')).toBe(false);
    const eq = positional("m:f(X) when X == 'a' && true");
    expect(eq?.test('a')).toBe(true);
    expect(eq?.test('b')).toBe(false);
  });

  it('none for a name bound inside a structure, a post-guard or no filter; acceptsAll only without any', () => {
    expect(positional('m:f({id: X}) when X < 0')).toBeUndefined();
    expect(positional('m:f(X) when ret < 0')).toBeUndefined();
    expect(positional('m:f')).toBeUndefined();
    expect(compilePatterns(['m:f'])[0]!.acceptsAll).toBe(true);
    expect(compilePatterns(['m:f/2'])[0]!.acceptsAll).toBe(false);
    expect(compilePatterns(['m:f when ms > 1'])[0]!.acceptsAll).toBe(false);
  });
});
