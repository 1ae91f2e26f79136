import { describe, expect, it } from 'vitest';
import type { Hook } from '../../../../src/agent/patcher/dispatch.js';
import { addHook, isPatched, pinSite, removeHook, siteFor, siteOfWrapper, type Site } from '../../../../src/agent/patcher/site.js';
import { propertyTarget } from '../../../../src/agent/engines/exports/target.js';

class CountingHook implements Hook {
  readonly sessionKey = {};
  calls: unknown[][] = [];
  enter(_self: unknown, args: unknown[]): object {
    this.calls.push([...args]);
    return {};
  }
  exit(): void {}
  settle(): void {}
}

function pinned(holder: object, key: string): Site {
  const site = siteFor(propertyTarget(holder, key, 'preload'));
  if (typeof site === 'string') throw new Error(site);
  expect(pinSite(site)).toBe(true);
  return site;
}

describe('pinned sites (the preload engine idle dispatchers)', () => {
  it('installs a pass-through wrapper that a destructured reference keeps using', () => {
    const original = (a: number, b: number): number => a + b;
    const exportsObject = { add: original };
    const site = pinned(exportsObject, 'add');
    expect(exportsObject.add).toBe(site.wrapper);
    expect(siteOfWrapper(exportsObject.add)).toBe(site);
    const { add } = exportsObject;
    expect(add(2, 3)).toBe(5);
    expect(isPatched(exportsObject, 'add')).toBe(false);

    const hook = new CountingHook();
    expect(addHook(site, hook)).toBe(true);
    // The wrapper installed at pin time is the one hooks run in.
    expect(exportsObject.add).toBe(site.wrapper);
    expect(isPatched(exportsObject, 'add')).toBe(true);
    expect(add(4, 5)).toBe(9);
    expect(hook.calls).toEqual([[4, 5]]);

    removeHook(site, hook);
    // Still installed, still the same site: the destructured reference can be traced again.
    expect(exportsObject.add).toBe(site.wrapper);
    expect(isPatched(exportsObject, 'add')).toBe(false);
    expect(siteFor(propertyTarget(exportsObject, 'add'))).toBe(site);
    const again = new CountingHook();
    addHook(site, again);
    add(1, 1);
    expect(again.calls).toEqual([[1, 1]]);
    expect(hook.calls).toEqual([[4, 5]]);
    removeHook(site, again);
  });

  it('pinning twice is one site and one wrapper', () => {
    const holder = { f: (): number => 1 };
    const site = pinned(holder, 'f');
    const wrapper = holder.f;
    expect(pinned(holder, 'f')).toBe(site);
    expect(holder.f).toBe(wrapper);
  });

  it('a pinned export the module later replaces gets a fresh site; the old wrapper keeps working', () => {
    const first = (): string => 'first';
    const second = (): string => 'second';
    const holder: { f: () => string } = { f: first };
    const site = pinned(holder, 'f');
    const held = holder.f;
    holder.f = second;
    const fresh = siteFor(propertyTarget(holder, 'f'));
    if (typeof fresh === 'string') throw new Error(fresh);
    expect(fresh).not.toBe(site);
    expect(fresh.original).toBe(second);
    expect(held()).toBe('first');
    const hook = new CountingHook();
    addHook(fresh, hook);
    holder.f();
    expect(hook.calls).toEqual([[]]);
    removeHook(fresh, hook);
    expect(holder.f).toBe(second);
  });

  it('a place that cannot be written is not pinned', () => {
    const holder = {};
    Object.defineProperty(holder, 'f', { value: () => 1, writable: false, configurable: false, enumerable: true });
    const site = siteFor(propertyTarget(holder, 'f', 'preload'));
    expect(typeof site).toBe('string');
  });
});
