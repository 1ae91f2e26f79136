import { describe, expect, it } from 'vitest';
import { siteOfWrapper } from '../../../../../src/agent/patcher/site.js';
import { pinExports } from '../../../../../src/agent/engines/preload/cjs.js';

function moduleWith(exportsValue: unknown): { filename: string; exports: unknown } {
  return { filename: '/app/m.js', exports: exportsValue };
}

describe('pinExports (CJS idle dispatchers)', () => {
  it('pins plain, arrow and async functions, and each still answers as before', async () => {
    function plain(this: unknown, a: number): unknown {
      return [this, a];
    }
    const arrow = (a: number): number => a + 1;
    const later = async (a: number): Promise<number> => a * 2;
    const exportsValue = { plain, arrow, later, value: 42 };
    expect(pinExports(moduleWith(exportsValue))).toBe(3);
    for (const [key, original] of [['plain', plain], ['arrow', arrow], ['later', later]] as const) {
      const fn = exportsValue[key];
      expect(fn).not.toBe(original);
      expect(siteOfWrapper(fn)?.original).toBe(original);
      expect(siteOfWrapper(fn)?.pinned).toBe(true);
      expect(siteOfWrapper(fn)?.target.engine).toBe('preload');
      expect(fn.name).toBe(original.name);
    }
    const self = {};
    expect(exportsValue.plain.call(self, 1)).toEqual([self, 1]);
    expect(exportsValue.arrow(1)).toBe(2);
    expect(await exportsValue.later(2)).toBe(4);
    expect(exportsValue.value).toBe(42);
  });

  it('pins a function assigned to module.exports', () => {
    const fn = (): string => 'main';
    const module = moduleWith(fn);
    expect(pinExports(module)).toBe(1);
    expect(module.exports).not.toBe(fn);
    expect((module.exports as () => string)()).toBe('main');
  });

  it('pins classes, constructor functions and functions with state as Proxies of themselves; leaves user Proxies alone', () => {
    class Repo {
      static count = 0;
      save(): void {}
    }
    function Legacy(this: { x: number }): void {
      this.x = 1;
    }
    Legacy.prototype.get = function get(): number {
      return 1;
    };
    function counted(): number {
      return ++counted.calls;
    }
    counted.calls = 0;
    let trapped = 0;
    const proxied = new Proxy(function target() {}, {
      ownKeys(t) {
        trapped++;
        return Reflect.ownKeys(t);
      },
      getOwnPropertyDescriptor(t, k) {
        trapped++;
        return Reflect.getOwnPropertyDescriptor(t, k);
      },
    });
    const exportsValue = { Repo, Legacy, counted, proxied, alias: counted };
    expect(pinExports(moduleWith(exportsValue))).toBe(4);
    expect(exportsValue.proxied).toBe(proxied);
    expect(trapped).toBe(0);
    // One wrapper for one function wherever it is held.
    expect(exportsValue.alias).toBe(exportsValue.counted);
    expect(siteOfWrapper(exportsValue.Repo)?.original).toBe(Repo);
    // State is the original's: written through the wrapper, read by the function itself, and back.
    exportsValue.counted();
    expect(exportsValue.counted.calls).toBe(1);
    exportsValue.Repo.count = 5;
    expect(Repo.count).toBe(5);
    expect(Object.getOwnPropertyDescriptor(exportsValue.Repo, 'count')).toEqual(Object.getOwnPropertyDescriptor(Repo, 'count'));
    // Instances point at what importers hold.
    const repo = new exportsValue.Repo();
    expect(repo).toBeInstanceOf(Repo);
    expect(repo.constructor).toBe(exportsValue.Repo);
    expect(new (exportsValue.Legacy as unknown as new () => object)()).toEqual({ x: 1 });
    expect(Function.prototype.toString.call(exportsValue.Repo)).toBe(Function.prototype.toString.call(Repo));
  });

  it('never reads an accessor export, and skips what it cannot write or has already wrapped', () => {
    let reads = 0;
    const exportsValue: Record<string, unknown> = {};
    Object.defineProperty(exportsValue, 'lazy', {
      enumerable: true,
      get() {
        reads++;
        return () => 1;
      },
    });
    Object.defineProperty(exportsValue, 'frozen', { enumerable: true, value: () => 2, writable: false, configurable: false });
    const first = { f: (): number => 3 };
    pinExports(moduleWith(first));
    exportsValue.reexported = first.f;
    expect(pinExports(moduleWith(exportsValue))).toBe(0);
    expect(reads).toBe(0);
    expect(exportsValue.reexported).toBe(first.f);
  });

  it('pinning a module twice installs nothing new', () => {
    const exportsValue = { f: (): number => 1 };
    const module = moduleWith(exportsValue);
    expect(pinExports(module)).toBe(1);
    const wrapper = exportsValue.f;
    expect(pinExports(module)).toBe(0);
    expect(exportsValue.f).toBe(wrapper);
  });
});
