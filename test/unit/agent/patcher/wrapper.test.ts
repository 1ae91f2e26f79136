import { EventEmitter } from 'node:events';
import { isDeepStrictEqual } from 'node:util';
import { describe, expect, it } from 'vitest';
import { patch } from './recording-hook.js';

interface Observed {
  threw: boolean;
  value: unknown;
}

async function observe(run: () => unknown): Promise<Observed> {
  try {
    let value = run();
    if (value instanceof Promise) {
      try {
        value = { resolved: await value };
      } catch (error) {
        return { threw: true, value: { rejected: describeThrown(error) } };
      }
    }
    return { threw: false, value };
  } catch (error) {
    return { threw: true, value: describeThrown(error) };
  }
}

function describeThrown(error: unknown): unknown {
  return error instanceof Error ? { class: error.constructor.name, message: error.message } : error;
}

class Base {
  x: number;
  constructor(x: number) {
    this.x = x;
  }
  static make(x: number): Base {
    return new this(x);
  }
  get doubled(): number {
    return this.x * 2;
  }
  add(y: number): number {
    return this.x + y;
  }
}
class Derived extends Base {
  constructor(x: number) {
    super(x + 1);
  }
}

function withProps(a: number, b: number): number {
  return a * b;
}
withProps.meta = { tag: 'x' };

interface Shape {
  name: string;
  make: () => Function;
  call: (f: any) => unknown;
}

// Each shape builds a fresh function so traced and untraced runs are independent.
const shapes: Shape[] = [
  { name: 'plain function', make: () => function add(a: number, b: number) { return a + b; }, call: (f) => f(2, 3) },
  { name: 'arrow', make: () => (a: number) => a * 2, call: (f) => f(21) },
  { name: 'arrow returning object', make: () => () => ({ a: 1 }), call: (f) => f() },
  { name: 'method using this', make: () => function (this: { v: number }) { return this.v; }, call: (f) => f.call({ v: 7 }) },
  { name: 'this undefined in strict', make: () => function (this: unknown) { return this === undefined; }, call: (f) => f() },
  { name: 'class constructor via new', make: () => class P { v = 1; }, call: (f) => { const o = new f(); return [o.v, o instanceof f]; } },
  { name: 'class called without new throws', make: () => class Q {}, call: (f) => f() },
  { name: 'subclass constructor', make: () => class extends Derived {}, call: (f) => { const o = new f(1); return [o.x, o instanceof Base, o.add(1)]; } },
  { name: 'static method inherited', make: () => class extends Base {}, call: (f) => f.make(4).x },
  { name: 'new.target inside function', make: () => function T(this: unknown) { return new.target === undefined ? 'call' : undefined; }, call: (f) => [f(), typeof new f()] },
  { name: 'new.target is the wrapper', make: () => function U(this: { nt?: unknown }) { this.nt = new.target; }, call: (f) => new f().nt === f },
  { name: 'function with own properties', make: () => Object.assign(function g() { return 1; }, { meta: 1 }), call: (f) => [f(), f.meta] },
  { name: 'bound function', make: () => function (this: { k: number }, a: number) { return this.k + a; }.bind({ k: 10 }), call: (f) => f(5) },
  { name: 'bound constructor', make: () => Base.bind(null, 3), call: (f) => new f().x },
  { name: 'default parameters', make: () => (a = 5, b = a * 2) => [a, b], call: (f) => [f(), f(1), f(undefined, 3)] },
  { name: 'variadic arguments.length', make: () => function (..._rest: unknown[]) { return arguments.length; }, call: (f) => [f(), f(1), f(1, undefined)] },
  { name: 'arguments object', make: () => function () { return Array.from(arguments); }, call: (f) => f(1, 'a', null) },
  { name: 'recursive via export', make: () => { const o: any = {}; o.fact = (n: number): number => (n <= 1 ? 1 : n * o.fact(n - 1)); return o.fact; }, call: (f) => f(6) },
  { name: 'async resolving', make: () => async (x: number) => x + 1, call: (f) => f(1) },
  { name: 'async rejecting', make: () => async () => { throw new RangeError('bad'); }, call: (f) => f() },
  { name: 'async awaiting', make: () => async (x: number) => { await null; return x * 3; }, call: (f) => f(3) },
  { name: 'sync throw of Error', make: () => () => { throw new TypeError('boom'); }, call: (f) => f() },
  { name: 'sync throw of string', make: () => () => { throw 'str'; }, call: (f) => f() },
  { name: 'sync throw of undefined', make: () => () => { throw undefined; }, call: (f) => f() },
  { name: 'sync throw of object', make: () => () => { throw { code: 42 }; }, call: (f) => f() },
  { name: 'function returning a rejected promise', make: () => () => Promise.reject(new Error('no')), call: (f) => f() },
  { name: 'generator', make: () => function* gen(n: number) { yield n; yield n + 1; }, call: (f) => [...f(1)] },
  { name: 'generator object identity', make: () => function* () { yield 1; }, call: (f) => Object.prototype.toString.call(f()) },
  { name: 'async generator', make: () => async function* (n: number) { yield n; yield n * 2; }, call: async (f) => { const out = []; for await (const v of f(2)) out.push(v); return out; } },
  { name: 'callback style', make: () => (x: number, cb: (e: null, v: number) => void) => setImmediate(() => cb(null, x + 1)), call: (f) => new Promise((r) => f(1, (_e: null, v: number) => r(v))) },
  { name: 'returning a thenable', make: () => () => ({ then: (r: (v: number) => void) => r(9) }), call: (f) => typeof f().then },
  { name: 'returning a Promise subclass', make: () => { class MyP extends Promise<number> {} return () => MyP.resolve(5); }, call: (f) => { const p = f(); return [p.constructor.name]; } },
  { name: 'returning this for chaining', make: () => function (this: object) { return this; }, call: (f) => { const o = { f }; return o.f() === o; } },
  { name: 'returning undefined', make: () => () => undefined, call: (f) => f() },
  { name: 'returning a function', make: () => () => (y: number) => y, call: (f) => f()(4) },
  { name: 'getter on the prototype of a class', make: () => class extends Base {}, call: (f) => new f(2).doubled },
  { name: 'EventEmitter subclass', make: () => class extends EventEmitter {}, call: (f) => { const e = new f(); let got = 0; e.on('x', (v: number) => (got = v)); e.emit('x', 3); return got; } },
  { name: 'constructor returning an object', make: () => function () { return { replaced: true }; }, call: (f) => new f() },
  { name: 'async method using this', make: () => async function (this: { v: number }) { return this.v; }, call: (f) => f.call({ v: 2 }) },
  { name: 'Symbol.hasInstance on prototype chain', make: () => class R {}, call: (f) => [new f() instanceof f, Object.getPrototypeOf(new f()) === f.prototype] },
  { name: 'arguments with holes and undefined', make: () => (...a: unknown[]) => a.length, call: (f) => f(undefined, undefined) },
  { name: 'deep recursion stack', make: () => { const o: any = {}; o.depth = (n: number): number => (n === 0 ? 0 : 1 + o.depth(n - 1)); return o.depth; }, call: (f) => f(500) },
];

function shapeOf(fn: Function): unknown {
  return {
    name: fn.name,
    length: fn.length,
    keys: Reflect.ownKeys(fn).filter((k) => k !== 'arguments' && k !== 'caller').map(String).sort(),
    hasPrototype: Object.prototype.hasOwnProperty.call(fn, 'prototype'),
    proto: Object.getPrototypeOf(fn),
  };
}

describe('dispatch wrapper transparency', () => {
  expect(shapes.length).toBeGreaterThanOrEqual(40);
  for (const shape of shapes) {
    it(shape.name, async () => {
      const plain = { f: shape.make() };
      const expected = await observe(() => shape.call(plain.f));
      const original = shape.make();
      const holder = { f: original };
      const { hook, unpatch } = patch(holder, 'f');
      expect(holder.f).not.toBe(original);
      expect(shapeOf(holder.f)).toEqual(shapeOf(original));
      // Calls through the wrapper see what untraced calls see.
      const traced = await observe(() => shape.call(holder.f));
      expect(isDeepStrictEqual(traced, expected) ? true : { traced, expected }).toBe(true);
      expect(hook.entered).toBeGreaterThan(0);
      unpatch();
      expect(holder.f).toBe(original);
    });
  }
});

/**
 * Issue 12, items 2, 3, 5, 12: what a wrapper looks like from outside. Plain functions get a
 * function wrapper, anything with state a Proxy of the original; both must be seen as the
 * original by inspect, toString, property reads and writes, and reflect-metadata.
 */
describe('wrapper shape beyond calls', () => {
  const shapesWithState: { name: string; make: () => Function }[] = [
    { name: 'class with statics', make: () => class App { static version = '1'; static create(): App { return new App(); } } },
    { name: 'derived class', make: () => class Sub extends EventEmitter { static kind = 'sub'; } },
    {
      name: 'function with statics (lodash-like)',
      make: () => {
        function lodash(value: unknown): unknown {
          return (lodash as unknown as { placeholder?: unknown }).placeholder ?? value;
        }
        lodash.map = (list: unknown[], fn: (x: unknown) => unknown): unknown[] => list.map(fn);
        return lodash;
      },
    },
    {
      name: 'constructor function with prototype methods',
      make: () => {
        function Legacy(this: { x: number }): void {
          this.x = 1;
        }
        Legacy.prototype.get = function get(): number {
          return 1;
        };
        return Legacy;
      },
    },
    { name: 'plain function', make: () => function plain(a: number, b = 2): number { return a + b; } },
    { name: 'async arrow', make: () => async (a: number): Promise<number> => a },
  ];
  for (const shape of shapesWithState) {
    it(shape.name, async () => {
      const { inspect } = await import('node:util');
      const original = shape.make();
      const holder = { f: original };
      const { unpatch } = patch(holder, 'f');
      const wrapper = holder.f;
      expect(wrapper).not.toBe(original);
      expect(inspect(wrapper)).toBe(inspect(original));
      expect(inspect(wrapper, { getters: true })).toBe(inspect(original, { getters: true }));
      expect(Function.prototype.toString.call(wrapper)).toBe(Function.prototype.toString.call(original));
      expect(String(wrapper)).toBe(String(original));
      for (const key of Reflect.ownKeys(original)) {
        expect(Object.getOwnPropertyDescriptor(wrapper, key), String(key)).toEqual(Object.getOwnPropertyDescriptor(original, key));
      }
      unpatch();
    });
  }

  it('writes through a stateful wrapper land on the original, and the original\'s own writes are seen through it', () => {
    function validate(data: unknown): boolean {
      (validate as unknown as { errors: unknown }).errors = typeof data === 'string' ? null : ['must be string'];
      return typeof data === 'string';
    }
    validate.default = validate;
    const holder = { f: validate };
    const { unpatch } = patch(holder, 'f');
    const wrapper = holder.f as typeof validate & { errors?: unknown; placeholder?: unknown };
    expect(wrapper(1)).toBe(false);
    expect(wrapper.errors).toEqual(['must be string']);
    wrapper.placeholder = {};
    expect(Object.prototype.hasOwnProperty.call(validate, 'placeholder')).toBe(true);
    unpatch();
  });

  it('Function.prototype.toString itself still looks native', () => {
    const holder = { f: function f(): void {} };
    const { unpatch } = patch(holder, 'f');
    expect(Function.prototype.toString.call(Function.prototype.toString)).toBe('function toString() { [native code] }');
    expect(Function.prototype.toString.name).toBe('toString');
    expect(Function.prototype.toString.length).toBe(0);
    expect('prototype' in Function.prototype.toString).toBe(false);
    expect(() => Function.prototype.toString.call({})).toThrow(TypeError);
    unpatch();
  });
});
