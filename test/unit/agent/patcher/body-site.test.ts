/**
 * An instrumented body rejects and drops calls as a compiled wrapper does (body-site.ts
 * `enter`): the one hook's positional pre-test and rate gate decide before the hook is
 * asked, each such call counted in `skipped`, and only the hooked closure of a function
 * made many times reaches its hooks.
 */
import { describe, expect, it } from 'vitest';
import { load, rewrite } from '../source/module-case.js';
import { bodySiteOf } from '../../../../src/agent/patcher/body-registry.js';
import type { Gate, PositionalTest } from '../../../../src/agent/patcher/dispatch.js';
import { RecordingHook } from './recording-hook.js';
import { addHook, removeHook, siteFor } from '../../../../src/agent/patcher/site.js';
import { propertyTarget } from '../../../../src/agent/engines/exports/target.js';

class GatedHook extends RecordingHook {
  constructor(
    readonly pretest: PositionalTest | undefined,
    readonly gate: Gate | undefined,
  ) {
    super();
  }
}

function hooked(exports: Record<string, any>, key: string, hook: RecordingHook): { skipped: () => number; unhook: () => void } {
  const site = siteFor(propertyTarget(exports, key));
  if (typeof site === 'string') throw new Error(site);
  expect(site.wrapper).toBe(exports[key]); // a body site: no wrapper
  expect(addHook(site, hook)).toBe(true);
  return { skipped: () => site.state.skipped, unhook: () => removeHook(site, hook) };
}

const SOURCE = `exports.add = function add(a, b) { return a + b; };
exports.addAsync = async function addAsync(a, b) { return a + b; };
exports.make = function () { return function made(x) { return x; }; };`;

describe('body sites reject and drop before asking the hook', () => {
  it('a call failing the positional pre-test goes by, counted; one passing it is asked', async () => {
    const e = load(rewrite(SOURCE, '/app/body-pre.js'));
    expect(bodySiteOf(e.add)).toBeDefined();
    const hook = new GatedHook({ at: 1, test: (v) => v === 2 }, undefined);
    const { skipped, unhook } = hooked(e, 'add', hook);
    expect(e.add(1, 1)).toBe(2);
    expect(e.add(1)).toBeNaN(); // a missing argument is tested as undefined
    expect(hook.entered).toBe(0);
    expect(skipped()).toBe(2);
    expect(e.add(1, 2)).toBe(3);
    expect(hook.entered).toBe(1);
    expect(hook.endings.map((x) => x.value)).toEqual([3]);
    unhook();
    const asyncHook = new GatedHook({ at: 0, test: (v) => v === null }, undefined);
    const asyncSite = hooked(e, 'addAsync', asyncHook);
    expect(await e.addAsync(1, 2)).toBe(3);
    expect(asyncHook.entered).toBe(0);
    expect(asyncSite.skipped()).toBe(1);
    asyncSite.unhook();
  });

  it('sessions with different pre-tests in turn: each rejects as its own, through a call site of its own in the compiled enter', () => {
    const e = load(rewrite(SOURCE, '/app/body-slots.js'));
    const tests = [(v: unknown) => v === null, (v: unknown) => typeof v === 'number' && v < 0, (v: unknown) => v === 'x', (v: unknown) => v === true, (v: unknown) => v === false];
    const slots: number[] = [];
    for (const test of [...tests, tests[1]!]) {
      const hook = new GatedHook({ at: 0, test }, undefined);
      const { skipped, unhook } = hooked(e, 'add', hook);
      slots.push((bodySiteOf(e.add) as any).single.slot);
      const before = skipped();
      expect(e.add(5, 1)).toBe(6);
      expect(skipped() - before).toBe(1);
      expect(hook.entered).toBe(0);
      unhook();
    }
    // One call site per distinct test text, the last one shared past four; the same text again, the same one.
    expect(slots).toEqual([0, 1, 2, 3, 3, 1]);
  });

  it('a pre-test that throws leaves the decision to the hook', () => {
    const e = load(rewrite(SOURCE, '/app/body-throws.js'));
    const hook = new GatedHook({ at: 0, test: () => { throw new Error('no'); } }, undefined);
    const { skipped, unhook } = hooked(e, 'add', hook);
    expect(e.add(1, 2)).toBe(3);
    expect(hook.entered).toBe(1);
    expect(skipped()).toBe(0);
    unhook();
  });

  it('a closed rate gate drops the call, counted in the gate and in skipped; an open one asks', async () => {
    const e = load(rewrite(SOURCE, '/app/body-gate.js'));
    const gate = { tokens: 0, dropped: 0 };
    const hook = new GatedHook(undefined, gate);
    const { skipped, unhook } = hooked(e, 'addAsync', hook);
    expect(await e.addAsync(1, 2)).toBe(3);
    expect(await e.addAsync(2, 2)).toBe(4);
    expect(hook.entered).toBe(0);
    expect(gate.dropped).toBe(2);
    expect(skipped()).toBe(2);
    gate.tokens = 1;
    expect(await e.addAsync(3, 2)).toBe(5);
    expect(hook.entered).toBe(1);
    expect(hook.settled).toEqual([{ rejected: false, value: 5 }]);
    unhook();
  });

  it('two hooks: no pre-test nor gate, both are asked', () => {
    const e = load(rewrite(SOURCE, '/app/body-two.js'));
    const first = new GatedHook({ at: 0, test: () => false }, { tokens: 0, dropped: 0 });
    const second = new RecordingHook();
    const a = hooked(e, 'add', first);
    const b = hooked(e, 'add', second);
    expect(e.add(1, 2)).toBe(3);
    expect(first.entered).toBe(1);
    expect(second.entered).toBe(1);
    b.unhook();
    expect(e.add(1, 2)).toBe(3);
    expect(first.entered).toBe(1); // alone again: its pre-test rejects
    a.unhook();
  });

  it('of a function made many times, only the hooked closure reaches the hook', () => {
    const e = load(rewrite(SOURCE, '/app/body-closures.js'));
    const holder = { one: e.make(), two: e.make() };
    expect(bodySiteOf(holder.one)).toBe(bodySiteOf(holder.two));
    const hook = new RecordingHook();
    const { unhook } = hooked(holder, 'one', hook);
    expect(holder.two(1)).toBe(1);
    expect(hook.entered).toBe(0);
    expect(holder.one(2)).toBe(2);
    expect(hook.entered).toBe(1);
    unhook();
    expect(holder.one(3)).toBe(3);
    expect(hook.entered).toBe(1);
    expect(bodySiteOf(holder.one)!.hooks).toBeNull();
  });
  it('two closures of one function hooked at once: each call is its own closure\'s, rejected by its own pre-test, counted as its own through the changes', () => {
    const e = load(rewrite(SOURCE, '/app/body-several.js'));
    const holder = { one: e.make(), two: e.make(), three: e.make() };
    const first = new GatedHook({ at: 0, test: (v) => v === 1 }, undefined);
    const second = new GatedHook({ at: 0, test: (v) => v === 2 }, undefined);
    const a = hooked(holder, 'one', first);
    expect(holder.one(5)).toBe(5); // one closure hooked: the compiled enter rejects
    expect(a.skipped()).toBe(1);
    const b = hooked(holder, 'two', second);
    // Several closures hooked: the shared method finds the running one.
    expect(holder.one(2)).toBe(2);
    expect(holder.two(1)).toBe(1);
    expect(holder.three(1)).toBe(1);
    expect([first.entered, second.entered]).toEqual([0, 0]);
    expect([a.skipped(), b.skipped()]).toEqual([2, 1]);
    expect(holder.one(1)).toBe(1);
    expect(holder.two(2)).toBe(2);
    expect([first.entered, second.entered]).toEqual([1, 1]);
    a.unhook();
    // One again: the second's pre-test, read from the site; its count goes on from where it was.
    expect(holder.two(3)).toBe(3);
    expect(holder.one(2)).toBe(2);
    expect(second.entered).toBe(1);
    expect([a.skipped(), b.skipped()]).toEqual([2, 2]);
    expect(holder.two(2)).toBe(2);
    expect(second.entered).toBe(2);
    b.unhook();
    expect([a.skipped(), b.skipped()]).toEqual([2, 2]);
    expect(bodySiteOf(holder.one)!.hooks).toBeNull();
  });
});
