import { describe, expect, it } from 'vitest';
import { siteFor, siteOfWrapper } from '../../../../src/agent/patcher/site.js';
import { propertyTarget } from '../../../../src/agent/engines/exports/target.js';
import { patch } from './recording-hook.js';

describe('installation', () => {
  it('keeps property attributes and restores them', () => {
    const holder = {};
    const fn = () => 1;
    Object.defineProperty(holder, 'f', { value: fn, enumerable: false, writable: true, configurable: true });
    const { unpatch } = patch(holder, 'f');
    const desc = Object.getOwnPropertyDescriptor(holder, 'f')!;
    expect(desc.enumerable).toBe(false);
    expect(desc.writable).toBe(true);
    unpatch();
    expect(Object.getOwnPropertyDescriptor(holder, 'f')).toEqual({ value: fn, enumerable: false, writable: true, configurable: true });
  });

  it('patches a writable non-configurable property', () => {
    const holder = {};
    const fn = () => 1;
    Object.defineProperty(holder, 'f', { value: fn, writable: true, configurable: false });
    const { unpatch } = patch(holder, 'f');
    expect((holder as { f: Function }).f).not.toBe(fn);
    unpatch();
    expect((holder as { f: Function }).f).toBe(fn);
  });

  it('reports a frozen export as not patchable, and a getter without calling it', () => {
    const frozen = Object.freeze({ f: () => 1 });
    expect(siteFor(propertyTarget(frozen, 'f'))).toMatch(/read-only/);
    let reads = 0;
    const withGetter = {
      get f() {
        reads++;
        return () => 1;
      },
    };
    expect(siteFor(propertyTarget(withGetter, 'f'))).toMatch(/accessor/);
    expect(reads).toBe(0);
  });

  it('stays a pass-through under another patcher, and shares one wrapper across hooks', () => {
    const original = (x: number) => x + 1;
    const holder = { f: original };
    const a = patch(holder, 'f');
    const wrapped = holder.f;
    const b = patch(holder, 'f');
    expect(holder.f).toBe(wrapped);
    expect(holder.f(1)).toBe(2);
    expect(a.hook.entered).toBe(1);
    expect(b.hook.entered).toBe(1);
    // Someone else wraps on top of us.
    const theirs = (x: number) => wrapped(x) * 10;
    holder.f = theirs;
    a.unpatch();
    b.unpatch();
    expect(holder.f).toBe(theirs);
    expect(holder.f(1)).toBe(20);
    expect(siteOfWrapper(wrapped)?.hooks.length).toBe(0);
  });

  it('sees a static patched on the original through a patched class, in either order', () => {
    for (const classFirst of [true, false]) {
      class Repo {
        static open(): string {
          return 'opened';
        }
      }
      const holder = { Repo };
      const patches = classFirst ? [patch(holder, 'Repo'), patch(Repo, 'open')] : [patch(Repo, 'open'), patch(holder, 'Repo')];
      const [classPatch, staticPatch] = classFirst ? patches : [patches[1]!, patches[0]!];
      expect(holder.Repo.open()).toBe('opened');
      expect(staticPatch!.hook.entered).toBe(1);
      expect(classPatch!.hook.entered).toBe(0);
      for (const p of patches) p.unpatch();
      expect(holder.Repo).toBe(Repo);
    }
  });

  it('forwards writes of an existing static to the original', () => {
    class Counter {
      static count = 0;
    }
    const holder = { Counter };
    const { unpatch } = patch(holder, 'Counter');
    holder.Counter.count = 5;
    expect(Counter.count).toBe(5);
    unpatch();
  });

  it('ends sessions in either order and restores the original', () => {
    for (const order of [[0, 1], [1, 0]]) {
      const original = () => 1;
      const holder = { f: original };
      const hooks = [patch(holder, 'f'), patch(holder, 'f')];
      for (const i of order) hooks[i]!.unpatch();
      expect(holder.f).toBe(original);
    }
  });
});
