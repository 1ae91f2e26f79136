import { describe, expect, it } from 'vitest';
import type { Hook } from '../../../../src/agent/patcher/dispatch.js';
import { engine } from '../../../../src/agent/patcher/guard.js';
import { addHook, removeHook } from '../../../../src/agent/patcher/site.js';
import { patch } from './recording-hook.js';

describe('promise identity and settlement', () => {
  it('returns the very same promise object and reports its settle', async () => {
    let made: Promise<number> | undefined;
    const holder = { f: () => (made = new Promise<number>((r) => setTimeout(() => r(5), 5))) };
    const { hook, unpatch } = patch(holder, 'f');
    const p = holder.f();
    expect(p).toBe(made);
    expect(await p).toBe(5);
    await new Promise((r) => setImmediate(r));
    expect(hook.settled).toEqual([{ rejected: false, value: 5 }]);
    unpatch();
  });

  it('never calls then on a foreign thenable', () => {
    let thenCalls = 0;
    const lazy = { then: () => void thenCalls++ };
    const holder = { f: () => lazy };
    const { hook, unpatch } = patch(holder, 'f');
    expect(holder.f()).toBe(lazy);
    expect(thenCalls).toBe(0);
    expect(hook.endings[0]?.value).toBe(lazy);
    unpatch();
  });
});

/** A hook whose `enter` does what `decide` says: take (a token), let go (undefined) or throw. */
function hookThat(decide: () => object | undefined): Hook & { exits: number } {
  return {
    sessionKey: {},
    exits: 0,
    enter: decide,
    exit() {
      this.exits++;
    },
    settle() {},
  };
}

// The wrapper asks the site's first hook itself and dispatch.enter the others: every
// combination must behave as one loop over the hooks did. A plain function gets the
// compiled function wrapper, a class the Proxy wrapper: both paths are checked.
describe.each([
  ['function wrapper', () => ({ f: (a: number, b: number) => a + b })],
  ['Proxy wrapper', () => ({ f: Object.assign((a: number, b: number) => a + b, { stat: 1 }) })],
])('the first hook and the others (%s)', (_kind, make) => {
  it('a first hook that lets a call go and a second that takes it: the second hears it', () => {
    const holder = make();
    const { site, hook: first, unpatch } = patch(holder, 'f');
    first.enter = () => undefined as unknown as object;
    const second = hookThat(() => ({}));
    addHook(site, second);
    expect(holder.f(2, 3)).toBe(5);
    expect(second.exits).toBe(1);
    expect(first.endings).toEqual([]);
    removeHook(site, second);
    unpatch();
  });

  it('a first hook that throws: the caller sees nothing, the second hook still takes the call', () => {
    const holder = make();
    const { site, hook: first, unpatch } = patch(holder, 'f');
    first.enter = () => {
      throw new Error('a bug in a hook');
    };
    const second = hookThat(() => ({}));
    addHook(site, second);
    expect(holder.f(2, 3)).toBe(5);
    expect(second.exits).toBe(1);
    removeHook(site, second);
    unpatch();
  });

  it('a lone first hook that throws: a plain call', () => {
    const holder = make();
    const { hook, unpatch } = patch(holder, 'f');
    hook.enter = () => {
      throw new Error('a bug in a hook');
    };
    expect(holder.f(2, 3)).toBe(5);
    expect(hook.endings).toEqual([]);
    unpatch();
  });

  it('asks no hook while livetrace itself runs (engine.busy)', () => {
    const holder = make();
    const { hook, unpatch } = patch(holder, 'f');
    engine.busy++;
    try {
      expect(holder.f(2, 3)).toBe(5);
    } finally {
      engine.busy--;
    }
    expect(hook.entered).toBe(0);
    expect(holder.f(2, 3)).toBe(5);
    expect(hook.entered).toBe(1);
    expect(hook.endings.length).toBe(1);
    unpatch();
  });
});
