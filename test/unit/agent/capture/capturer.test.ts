import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { runInNewContext } from 'node:vm';
import { setFlagsFromString } from 'node:v8';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Capturer, capture, resolveCaptureLimits } from '../../../../src/agent/capture/capturer.js';
import { LivetraceError } from '../../../../src/protocol/errors.js';
import type { Value } from '../../../../src/protocol/value.js';

const TRAPS = [
  'get',
  'set',
  'has',
  'deleteProperty',
  'ownKeys',
  'getOwnPropertyDescriptor',
  'defineProperty',
  'getPrototypeOf',
  'setPrototypeOf',
  'isExtensible',
  'preventExtensions',
  'apply',
  'construct',
] as const;

/** A handler whose every trap counts and throws. */
function hostileHandler(): { handler: ProxyHandler<object>; calls: () => number } {
  let calls = 0;
  const handler: ProxyHandler<object> = {};
  for (const trap of TRAPS) {
    (handler as Record<string, unknown>)[trap] = () => {
      calls++;
      throw new Error(`trap ${trap} ran`);
    };
  }
  return { handler, calls: () => calls };
}

/** Every object reachable in a captured value (to prove none is a user object). */
function objectsIn(value: unknown, out = new Set<object>()): Set<object> {
  if (typeof value === 'object' && value !== null && !out.has(value)) {
    out.add(value);
    for (const key of Object.keys(value)) objectsIn((value as Record<string, unknown>)[key], out);
  }
  return out;
}

function json(value: Value): string {
  return JSON.stringify(value);
}

describe('capture: the value forms', () => {
  it('keeps JSON-natural values as themselves', () => {
    expect(capture(1).value).toBe(1);
    expect(capture('abc').value).toBe('abc');
    expect(capture(true).value).toBe(true);
    expect(capture(null).value).toBe(null);
    expect(capture({ role: 'admin', id: 1, tags: ['a', 'b'], nested: { ok: false } }).value).toEqual({
      role: 'admin',
      id: 1,
      tags: ['a', 'b'],
      nested: { ok: false },
    });
  });

  it('tags every value JSON cannot carry', () => {
    expect(capture(undefined).value).toEqual({ $: 'undefined' });
    expect(capture(NaN).value).toEqual({ $: 'number', value: 'NaN' });
    expect(capture(Infinity).value).toEqual({ $: 'number', value: 'Infinity' });
    expect(capture(-Infinity).value).toEqual({ $: 'number', value: '-Infinity' });
    expect(capture(-0).value).toEqual({ $: 'number', value: '-0' });
    expect(capture(0).value).toBe(0);
    expect(capture(10n).value).toEqual({ $: 'bigint', value: '10' });
    expect(capture(-(2n ** 70n)).value).toEqual({ $: 'bigint', value: '-1180591620717411303424' });
    expect(capture(Symbol('x')).value).toEqual({ $: 'symbol', description: 'x' });
    expect(capture(Symbol()).value).toEqual({ $: 'symbol' });
  });

  it('names functions and their kinds', () => {
    function plain() {}
    async function later() {}
    function* gen() {}
    async function* agen() {}
    class Repo {}
    expect(capture(plain).value).toEqual({ $: 'function', name: 'plain' });
    expect(capture(later).value).toEqual({ $: 'function', name: 'later', kind: 'async' });
    expect(capture(gen).value).toEqual({ $: 'function', name: 'gen', kind: 'generator' });
    expect(capture(agen).value).toEqual({ $: 'function', name: 'agen', kind: 'asyncgenerator' });
    expect(capture(Repo).value).toEqual({ $: 'function', name: 'Repo', kind: 'class' });
    expect(capture(plain.bind(null)).value).toEqual({ $: 'function', name: 'bound plain' });
  });

  it('captures class instances, null-prototype objects and objects that own a "$" key', () => {
    class User {
      id = 1;
      name = 'Ada';
    }
    expect(capture(new User()).value).toEqual({ $: 'object', class: 'User', props: { id: 1, name: 'Ada' } });
    const bare = Object.create(null) as Record<string, unknown>;
    bare.a = 1;
    expect(capture(bare).value).toEqual({ $: 'object', class: null, props: { a: 1 } });
    expect(capture({ $: 'undefined' }).value).toEqual({ $: 'object', class: 'Object', props: { $: 'undefined' } });
    expect(capture({ $more: 3 }).value).toEqual({ $: 'object', class: 'Object', props: { $more: 3 } });
    class Anonymous extends (class {} as new () => object) {}
    expect(capture(new Anonymous()).value).toEqual({ $: 'object', class: 'Anonymous', props: {} });
  });

  it('captures Map, Set, WeakMap, WeakSet, Date, RegExp, Promise', () => {
    expect(capture(new Map<unknown, unknown>([['a', 1], [{ k: 1 }, [2]]])).value).toEqual({
      $: 'map',
      size: 2,
      entries: [
        ['a', 1],
        [{ k: 1 }, [2]],
      ],
    });
    class Registry extends Map<number, number> {}
    expect(capture(new Registry([[1, 2]])).value).toEqual({ $: 'map', class: 'Registry', size: 1, entries: [[1, 2]] });
    expect(capture(new Set([1, 'two'])).value).toEqual({ $: 'set', size: 2, values: [1, 'two'] });
    expect(capture(new WeakMap()).value).toEqual({ $: 'weakmap' });
    expect(capture(new WeakSet()).value).toEqual({ $: 'weakset' });
    expect(capture(new Date(0)).value).toEqual({ $: 'date', value: '1970-01-01T00:00:00.000Z' });
    expect(capture(new Date(NaN)).value).toEqual({ $: 'date', value: 'Invalid Date' });
    expect(capture(/a+b/gimsuy).value).toEqual({ $: 'regexp', source: 'a+b', flags: 'gimsuy' });
    expect(capture(new RegExp('x', 'dv')).value).toEqual({ $: 'regexp', source: 'x', flags: 'dv' });
    expect(capture(Promise.resolve(1)).value).toEqual({ $: 'promise' });
  });

  it('captures binary data as bytes and elements', () => {
    expect(capture(Buffer.from('hello')).value).toEqual({ $: 'buffer', length: 5, hex: '68656c6c6f' });
    expect(capture(new Uint16Array([1, 2, 65535])).value).toEqual({ $: 'typedarray', class: 'Uint16Array', length: 3, items: [1, 2, 65535] });
    expect(capture(new Float64Array([NaN, 1.5])).value).toEqual({
      $: 'typedarray',
      class: 'Float64Array',
      length: 2,
      items: [{ $: 'number', value: 'NaN' }, 1.5],
    });
    expect(capture(new BigInt64Array([5n])).value).toEqual({ $: 'typedarray', class: 'BigInt64Array', length: 1, items: [{ $: 'bigint', value: '5' }] });
    expect(capture(new Uint8Array([1, 2]).buffer).value).toEqual({ $: 'arraybuffer', class: 'ArrayBuffer', length: 2, hex: '0102' });
    expect(capture(new SharedArrayBuffer(1)).value).toEqual({ $: 'arraybuffer', class: 'SharedArrayBuffer', length: 1, hex: '00' });
    const bytes = new Uint8Array([9, 8, 7, 6]);
    expect(capture(new DataView(bytes.buffer, 1, 2)).value).toEqual({ $: 'dataview', length: 2, hex: '0807' });
  });

  it('captures boxed primitives, arguments objects and the global object', () => {
    expect(capture(Object(1)).value).toEqual({ $: 'boxed', value: 1 });
    expect(capture(Object('s')).value).toEqual({ $: 'boxed', value: 's' });
    expect(capture(Object(false)).value).toEqual({ $: 'boxed', value: false });
    expect(capture(Object(3n)).value).toEqual({ $: 'boxed', value: { $: 'bigint', value: '3' } });
    expect(capture(Object(Symbol('q'))).value).toEqual({ $: 'boxed', value: { $: 'symbol', description: 'q' } });
    function args(..._: unknown[]) {
      // eslint-disable-next-line prefer-rest-params
      return arguments;
    }
    expect(capture(args(1, 'a')).value).toEqual({ $: 'arguments', items: [1, 'a'] });
    expect(capture(args()).value).toEqual({ $: 'arguments', items: [] });
    expect(capture(globalThis).value).toEqual({ $: 'global' });
  });

  it('captures a module namespace, even with a binding still in its TDZ', () => {
    // Loaded by Node itself (require(esm)): vitest's own import() hands out a Proxy.
    // In the cycle a -> b -> a, b runs first and sees `late` uninitialized.
    const dir = mkdtempSync(join(tmpdir(), 'livetrace-capture-'));
    try {
      writeFileSync(join(dir, 'a.mjs'), "import { seen } from './b.mjs';\nexport function early() {}\nexport let late = 1;\nexport { seen };\n");
      writeFileSync(join(dir, 'b.mjs'), "import * as a from './a.mjs';\nexport const seen = globalThis.__livetraceCapture(a);\n");
      (globalThis as Record<string, unknown>).__livetraceCapture = (ns: object) => capture(ns).value;
      const ns = createRequire(join(dir, 'index.js'))(join(dir, 'a.mjs')) as Record<string, unknown>;
      expect(ns.seen).toEqual({ $: 'module', props: { early: { $: 'function', name: 'early' }, late: { $: 'unreadable' }, seen: { $: 'unreadable' } } });
      // Once evaluated, the binding reads normally (and a captured Value, captured again, is just data).
      expect(capture(ns).value).toMatchObject({ $: 'module', props: { early: { $: 'function', name: 'early' }, late: 1, seen: { $: 'object', class: 'Object' } } });
    } finally {
      delete (globalThis as Record<string, unknown>).__livetraceCapture;
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('captures errors: name, message, class, cause, errors and own fields', () => {
    class NotFound extends Error {
      code = 'E_NOT_FOUND';
    }
    const error = new NotFound('no user 7', { cause: new TypeError('inner') });
    const value = capture(error).value as Record<string, Value>;
    expect(value).toMatchObject({
      $: 'error',
      name: 'Error',
      class: 'NotFound',
      message: 'no user 7',
      cause: { $: 'error', name: 'TypeError', message: 'inner' },
      props: { code: 'E_NOT_FOUND' },
    });
    const named = Object.assign(new Error('m'), { name: 'ValidationError' });
    expect(capture(named).value).toMatchObject({ $: 'error', name: 'ValidationError', message: 'm' });
    const aggregate = capture(new AggregateError([new Error('a'), 2], 'both')).value;
    expect(aggregate).toMatchObject({ $: 'error', name: 'AggregateError', message: 'both', errors: [{ $: 'error', message: 'a' }, 2] });
    // An old-style subclass: no super call, prototype chained by hand.
    function LegacyError(this: { message: string }, message: string) {
      this.message = message;
    }
    LegacyError.prototype = Object.create(Error.prototype, { constructor: { value: LegacyError }, name: { value: 'LegacyError' } });
    const legacy = new (LegacyError as unknown as new (m: string) => object)('old');
    expect(capture(legacy).value).toMatchObject({ $: 'error', name: 'LegacyError', message: 'old' });
  });

  it('reads an error stack only when no user code can format it', () => {
    const saved = Object.getOwnPropertyDescriptor(Error, 'prepareStackTrace');
    let formatted = 0;
    try {
      // A program-installed formatter (source-map-support does this): never run by capture.
      Object.defineProperty(Error, 'prepareStackTrace', {
        value: () => {
          formatted++;
          return 'formatted by user code';
        },
        writable: true,
        configurable: true,
      });
      const withUserFormatter = capture(new Error('a')).value as Record<string, Value>;
      expect(withUserFormatter.stack).toBeUndefined();
      expect(formatted).toBe(0);

      // No formatter at all: V8/Node's default formatting, which capture can trigger safely.
      delete (Error as { prepareStackTrace?: unknown }).prepareStackTrace;
      const plain = capture(new Error('b')).value as Record<string, Value>;
      expect(plain.stack).toMatch(/^Error: b\n {4}at /);

      // A getter on message would run during formatting: no stack, getter never called.
      let reads = 0;
      class Lazy extends Error {
        override get message(): string {
          reads++;
          return 'computed';
        }
      }
      const lazy = capture(new Lazy()).value as Record<string, Value>;
      expect(lazy.message).toEqual({ $: 'getter' });
      expect(lazy.stack).toBeUndefined();
      expect(reads).toBe(0);
    } finally {
      if (saved === undefined) delete (Error as { prepareStackTrace?: unknown }).prepareStackTrace;
      else Object.defineProperty(Error, 'prepareStackTrace', saved);
    }
  });

  it("reads the stack through V8's own accessor (Node 22+), never through a program's getter", () => {
    const saved = Object.getOwnPropertyDescriptor(Error, 'prepareStackTrace');
    try {
      delete (Error as { prepareStackTrace?: unknown }).prepareStackTrace;
      // On Node 20 `stack` is a data property; from Node 22 an own accessor installed by V8.
      const made = new Error('v8');
      const read = capture(made).value as Record<string, Value>;
      expect(read.stack).toMatch(/^Error: v8\n {4}at /);

      let calls = 0;
      const custom = new Error('custom');
      Object.defineProperty(custom, 'stack', {
        get: () => {
          calls++;
          return 'from a getter';
        },
        configurable: true,
      });
      expect((capture(custom).value as Record<string, Value>).stack).toBeUndefined();
      expect(calls).toBe(0);
    } finally {
      if (saved === undefined) delete (Error as { prepareStackTrace?: unknown }).prepareStackTrace;
      else Object.defineProperty(Error, 'prepareStackTrace', saved);
    }
  });

  it('recognizes values from another realm', () => {
    expect(capture(runInNewContext('({ a: 1, b: [2] })')).value).toEqual({ a: 1, b: [2] });
    expect(capture(runInNewContext('new Map([["k", 1]])')).value).toEqual({ $: 'map', size: 1, entries: [['k', 1]] });
    expect(capture(runInNewContext('new Set([1])')).value).toEqual({ $: 'set', size: 1, values: [1] });
    expect(capture(runInNewContext('new Date(0)')).value).toEqual({ $: 'date', value: '1970-01-01T00:00:00.000Z' });
    expect(capture(runInNewContext('new RangeError("far")')).value).toMatchObject({ $: 'error', name: 'RangeError', message: 'far' });
    expect((capture(runInNewContext('new RangeError("far")')).value as Record<string, Value>).stack).toBeUndefined();
    expect(capture(runInNewContext('globalThis')).value).toEqual({ $: 'global' });
    expect(capture(runInNewContext('class Point { x = 1 }; new Point()')).value).toEqual({ $: 'object', class: 'Point', props: { x: 1 } });
  });

  it('produces JSON that round-trips exactly', () => {
    class Box {
      inner = { deep: [1, undefined, -0, NaN, 2n] };
    }
    const samples: unknown[] = [
      new Box(),
      new Map([[Symbol('s'), new Set([new Date(5)])]]),
      Buffer.from([0, 255]),
      [1, , 3], // eslint-disable-line no-sparse-arrays
      new Error('x'),
      { $: 1, $more: 2 },
      Object.create(null),
    ];
    for (const sample of samples) {
      const value = capture(sample).value;
      expect(JSON.parse(JSON.stringify(value))).toEqual(value);
    }
  });
});

describe('capture: any value (property)', () => {
  it('returns JSON that round-trips, holds no input object, and stays within its limits', () => {
    const capturer = new Capturer({ depth: 2, items: 5, fields: 5, stringLimit: 20, eventBytes: 2048 });
    fc.assert(
      fc.property(
        fc.anything({ withBigInt: true, withDate: true, withMap: true, withSet: true, withTypedArray: true, withSparseArray: true, withNullPrototype: true, withBoxedValues: true, withObjectString: true }),
        (input) => {
          const { value } = capturer.capture(input);
          expect(JSON.parse(JSON.stringify(value))).toEqual(value);
          for (const object of objectsIn(value)) expect(object === input).toBe(false);
          expect(JSON.stringify(value).length).toBeLessThan(2048 * 1.25 + 200);
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('capture: hostile values never run user code', () => {
  it('reports getters without calling them, throwing or counting', () => {
    let reads = 0;
    const target = {
      id: 1,
      get counted() {
        reads++;
        return 'no';
      },
      get thrower(): never {
        reads++;
        throw new Error('getter ran');
      },
      set onlySet(_: unknown) {
        reads++;
      },
    };
    Object.defineProperty(target, 'both', { get: () => reads++, set: () => reads++, enumerable: true });
    const list = [1];
    Object.defineProperty(list, 0, { get: () => reads++, enumerable: true });
    const m = new Map([['k', target]]);
    const value = capture({ target, list, m }).value;
    expect(value).toEqual({
      target: { id: 1, counted: { $: 'getter' }, thrower: { $: 'getter' }, onlySet: { $: 'setter' }, both: { $: 'getter', set: true } },
      list: [{ $: 'getter' }],
      m: { $: 'map', size: 1, entries: [['k', { id: 1, counted: { $: 'getter' }, thrower: { $: 'getter' }, onlySet: { $: 'setter' }, both: { $: 'getter', set: true } }]] },
    });
    expect(reads).toBe(0);
  });

  it('reads class, function and error names through data properties only', () => {
    let reads = 0;
    const proto = {};
    Object.defineProperty(proto, 'constructor', { get: () => reads++ });
    class Sneaky {
      static get name(): string {
        reads++;
        return 'Other';
      }
      x = 1;
    }
    const fn = function real() {};
    Object.defineProperty(fn, 'name', { get: () => reads++ });
    class Failure extends Error {
      override get name(): string {
        reads++;
        return 'Renamed';
      }
    }
    expect(capture(Object.create(proto)).value).toEqual({ $: 'object', class: 'Object', props: {} });
    expect(capture(new Sneaky()).value).toEqual({ $: 'object', class: 'Object', props: { x: 1 } });
    expect(capture(fn).value).toEqual({ $: 'function', name: '' });
    expect(capture(new Failure('f')).value).toMatchObject({ $: 'error', name: 'Failure', message: 'f' });
    expect(reads).toBe(0);
  });

  it('never opens a Proxy, wherever it sits', () => {
    const { handler, calls } = hostileHandler();
    const proxy = new Proxy({}, handler);
    const fnProxy = new Proxy(function target() {}, handler);
    const overProxy = Object.create(proxy) as object; // an ordinary object whose prototype is a Proxy
    const errorOverProxy = Object.setPrototypeOf(new Error('e'), proxy) as Error;
    const value = capture({
      proxy,
      fnProxy,
      overProxy,
      errorOverProxy,
      inArray: [proxy],
      inMap: new Map([[proxy, proxy]]),
      inSet: new Set([proxy]),
    }).value;
    expect(value).toMatchObject({
      proxy: { $: 'proxy' },
      fnProxy: { $: 'proxy' },
      inArray: [{ $: 'proxy' }],
      inMap: { $: 'map', entries: [[{ $: 'proxy' }, { $: 'proxy' }]] },
      inSet: { $: 'set', values: [{ $: 'proxy' }] },
    });
    expect(capture(proxy).value).toEqual({ $: 'proxy' });
    expect(capture(overProxy).value).toEqual({ $: 'object', class: 'Object', props: {} });
    expect(capture(errorOverProxy).value).toEqual({ $: 'error', name: 'Error', message: 'e' });
    expect(calls()).toBe(0);
  });

  it('reports a revoked Proxy', () => {
    const { proxy, revoke } = Proxy.revocable({}, {});
    revoke();
    expect(capture(proxy).value).toEqual({ $: 'proxy' });
    expect(capture([proxy, 1]).value).toEqual([{ $: 'proxy' }, 1]);
  });

  it('never calls toString, valueOf, toJSON, Symbol.toPrimitive or inspect.custom', () => {
    let calls = 0;
    const hooks = {
      toString: () => {
        calls++;
        return 'x';
      },
      valueOf: () => {
        calls++;
        return 1;
      },
      toJSON: () => {
        calls++;
        return {};
      },
      [Symbol.toPrimitive]: () => {
        calls++;
        return 2;
      },
      [inspect.custom]: () => {
        calls++;
        return 'custom';
      },
    };
    // Own data properties, shadowing whatever the prototypes hold.
    const attach = <T extends object>(target: T, extra: Record<string, unknown> = {}): T => {
      const all: Record<PropertyKey, unknown> = { ...hooks, ...extra };
      for (const key of Reflect.ownKeys(all)) Object.defineProperty(target, key, { value: all[key], configurable: true, writable: true });
      return target;
    };
    class Tricky {
      a = 1;
    }
    attach(Tricky.prototype);
    const date = attach(new Date(0), { toISOString: hooks.toString, getTime: hooks.valueOf });
    const error = attach(new Error('e'));
    const value = capture({ own: { ...hooks, b: 2 }, inst: new Tricky(), date, error, re: attach(/x/) }).value as Record<string, Value>;
    expect(value.own).toMatchObject({ toString: { $: 'function', name: 'toString' }, b: 2 });
    expect(value.inst).toEqual({ $: 'object', class: 'Tricky', props: { a: 1 } });
    expect(value.date).toEqual({ $: 'date', value: '1970-01-01T00:00:00.000Z' });
    expect(value.error).toMatchObject({ $: 'error', name: 'Error', message: 'e' });
    expect(value.re).toEqual({ $: 'regexp', source: 'x', flags: '' });
    expect(calls).toBe(0);
  });

  it('uses the built-ins it took at load, not replaced prototype methods', () => {
    let calls = 0;
    const count = () => {
      calls++;
      throw new Error('replaced built-in ran');
    };
    const mapIteratorPrototype = Object.getPrototypeOf(new Map().entries()) as object;
    const setIteratorPrototype = Object.getPrototypeOf(new Set().values()) as object;
    const patches: [object, PropertyKey][] = [
      [Map.prototype, 'entries'],
      [Map.prototype, Symbol.iterator],
      [Map.prototype, 'forEach'],
      [Map.prototype, 'size'],
      [mapIteratorPrototype, 'next'],
      [Set.prototype, 'values'],
      [Set.prototype, Symbol.iterator],
      [Set.prototype, 'size'],
      [setIteratorPrototype, 'next'],
      [Array.prototype, Symbol.iterator],
      [Array.prototype, 'push'],
      [String.prototype, 'slice'],
      [String.prototype, 'toLowerCase'],
      [String.prototype, 'includes'],
      [RegExp.prototype, 'exec'],
      [RegExp.prototype, 'source'],
      [RegExp.prototype, 'flags'],
      [RegExp.prototype, 'global'],
      [Date.prototype, 'toISOString'],
      [Date.prototype, 'getTime'],
      [Object.getPrototypeOf(Uint8Array.prototype) as object, 'length'],
      [Symbol.prototype, 'description'],
      [Function.prototype, 'toString'],
      [Object.prototype, 'value'],
      [Object.prototype, 'get'],
      [Object.prototype, 'set'],
      [Object.prototype, 'writable'],
    ];
    const saved = patches.map(([target, key]) => Object.getOwnPropertyDescriptor(target, key));
    const samples = {
      map: new Map([['k', 'a string long enough to be copied']]),
      set: new Set(['v']),
      re: /ab/g,
      date: new Date(0),
      bytes: new Uint8Array([1]),
      sym: Symbol('s'),
      fn: function named() {},
      Password: 'hidden',
      long: 'y'.repeat(300),
      list: [1, 2],
      // Keys that Object.prototype now has setters for: written without calling them.
      value: 'v',
      get: 'g',
    };
    const capturer = new Capturer({ redact: ['*ong'] });
    let value: Value;
    try {
      // Index loops and null-prototype descriptors: the iterators and Object.prototype
      // themselves are being patched.
      for (let i = 0; i < patches.length; i++) {
        const patch = patches[i]!;
        Object.defineProperty(patch[0], patch[1], { __proto__: null, get: count, set: count, configurable: true } as PropertyDescriptor);
      }
      value = capturer.capture(samples).value;
    } finally {
      for (let i = patches.length - 1; i >= 0; i--) {
        const target = patches[i]![0];
        const key = patches[i]![1];
        const descriptor = saved[i];
        if (descriptor === undefined) delete (target as Record<PropertyKey, unknown>)[key];
        else Object.defineProperty(target, key, Object.setPrototypeOf(descriptor, null) as PropertyDescriptor);
      }
    }
    expect(calls).toBe(0);
    expect(value).toEqual({
      map: { $: 'map', size: 1, entries: [['k', 'a string long enough to be copied']] },
      set: { $: 'set', size: 1, values: ['v'] },
      re: { $: 'regexp', source: 'ab', flags: 'g' },
      date: { $: 'date', value: '1970-01-01T00:00:00.000Z' },
      bytes: { $: 'typedarray', class: 'Uint8Array', length: 1, items: [1] },
      sym: { $: 'symbol', description: 's' },
      fn: { $: 'function', name: 'named' },
      Password: { $: 'redacted' },
      long: { $: 'redacted' },
      list: [1, 2],
      value: 'v',
      get: 'g',
    });
  });

  it('does not read symbol-keyed properties (and captures symbol values)', () => {
    let reads = 0;
    const key = Symbol('secretish');
    const target = { a: Symbol('value') } as Record<PropertyKey, unknown>;
    Object.defineProperty(target, key, { get: () => reads++, enumerable: true });
    expect(capture(target).value).toEqual({ a: { $: 'symbol', description: 'value' } });
    expect(reads).toBe(0);
  });

  it('marks cycles, whatever the path', () => {
    const self: Record<string, unknown> = { name: 'self' };
    self.me = self;
    const a: Record<string, unknown> = {};
    const b: Record<string, unknown> = { a };
    a.b = b;
    const list: unknown[] = [];
    list.push(list);
    const m = new Map<string, unknown>();
    m.set('m', m);
    expect(capture(self).value).toEqual({ name: 'self', me: { $: 'circular' } });
    expect(capture(a).value).toEqual({ b: { a: { $: 'circular' } } });
    expect(capture(list).value).toEqual([{ $: 'circular' }]);
    expect(capture(m).value).toEqual({ $: 'map', size: 1, entries: [['m', { $: 'circular' }]] });
    // Shared but not circular: expanded both times.
    const shared = { s: 1 };
    expect(capture([shared, shared]).value).toEqual([{ s: 1 }, { s: 1 }]);
  });

  it('cuts a 10 MB string and a 10 MB Buffer, without keeping them', () => {
    const big = 'x'.repeat(10 * 1024 * 1024);
    const buffer = Buffer.alloc(10 * 1024 * 1024, 0xab);
    const s = capture(big);
    const b = capture(buffer);
    expect(s.value).toEqual({ $: 'string', value: 'x'.repeat(255), length: big.length });
    expect(s.truncated).toBe(true);
    expect(b.value).toEqual({ $: 'buffer', length: buffer.length, hex: 'ab'.repeat(100) });
    expect(b.truncated).toBe(true);
    expect(json(s.value).length + json(b.value).length).toBeLessThan(1000);
  });

  it('does not overflow the stack on 10,000 levels of nesting', () => {
    let deepObject: Record<string, unknown> = { leaf: true };
    let deepArray: unknown[] = ['leaf'];
    for (let i = 0; i < 10_000; i++) {
      deepObject = { next: deepObject };
      deepArray = [deepArray];
    }
    const o = capture(deepObject);
    expect(o.value).toEqual({ next: { next: { next: { next: { $: 'depth', class: 'Object' } } } } });
    expect(o.truncated).toBe(true);
    expect(capture(deepArray).value).toEqual([[[[{ $: 'depth', class: 'Array' }]]]]);
    const deepest = new Capturer({ depth: 100 }).capture(deepObject);
    expect(json(deepest.value).split('"next"').length - 1).toBe(101);
  });

  it('never throws, even when called at the edge of the stack', () => {
    const capturer = new Capturer({ depth: 100 });
    let nested: Record<string, unknown> = {};
    for (let i = 0; i < 200; i++) nested = { n: nested, s: 'a string of some length here' };
    let result: Value | undefined;
    const recurse = (n: number): number => {
      try {
        return recurse(n + 1) + 1;
      } catch {
        // Near the stack limit: capture must still return, whatever it manages to read.
        result = capturer.capture(nested).value;
        return 0;
      }
    };
    expect(() => recurse(0)).not.toThrow();
    expect(result).toBeDefined();
  });

  it('handles objects with thousands of keys and sparse arrays in bounded time and size', () => {
    const wide: Record<string, number> = {};
    for (let i = 0; i < 5000; i++) wide[`k${i}`] = i;
    const start = performance.now();
    const w = capture(wide);
    const sparse: unknown[] = [];
    sparse[1_000_000_000] = 'far';
    const s = capture(sparse);
    expect(performance.now() - start).toBeLessThan(100);
    const value = w.value as Record<string, Value>;
    expect(Object.keys(value)).toHaveLength(21);
    expect(value.$more).toBe(4980);
    expect(value.k19).toBe(19);
    expect(w.truncated).toBe(true);
    expect(s.value).toEqual([{ $: 'hole', count: 100 }, { $: 'more', count: 1_000_000_001 - 100 }]);
    // eslint-disable-next-line no-sparse-arrays
    expect(capture([1, , , 4]).value).toEqual([1, { $: 'hole', count: 2 }, 4]);
  });

  it('copies: no captured object is a user object, and later mutation does not show', () => {
    const inner = { n: 1 };
    const input = { inner, list: [inner], map: new Map([['k', inner]]) };
    const captured = capture(input).value;
    const inputs = new Set<object>([input, inner, input.list, input.map]);
    for (const object of objectsIn(captured)) expect(inputs.has(object)).toBe(false);
    inner.n = 2;
    expect(captured).toEqual({ inner: { n: 1 }, list: [{ n: 1 }], map: { $: 'map', size: 1, entries: [['k', { n: 1 }]] } });
  });

  it('holds no reference that keeps a captured object alive', async () => {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    class Session {
      data = { user: { name: 'x'.repeat(100) } };
    }
    const capturer = new Capturer();
    let refs: WeakRef<object>[] = [];
    const kept: Value[] = [];
    (() => {
      const session = new Session();
      refs = [new WeakRef(session), new WeakRef(session.data), new WeakRef(session.data.user)];
      kept.push(capturer.capture(session).value);
    })();
    await new Promise((resolve) => setImmediate(resolve));
    gc();
    expect(refs.map((ref) => ref.deref())).toEqual([undefined, undefined, undefined]);
    expect(kept[0]).toMatchObject({ $: 'object', class: 'Session' });
  });
});

describe('capture: limits and the truncated flag', () => {
  it('is not truncated when nothing was cut (redaction is not a cut)', () => {
    const r = capture({ a: [1, 2], password: 'p' });
    expect(r.truncated).toBe(false);
    expect(r.value).toEqual({ a: [1, 2], password: { $: 'redacted' } });
  });

  it('cuts at each limit and says so', () => {
    const c = new Capturer({ depth: 1, items: 2, fields: 2, stringLimit: 3 });
    const depth = c.capture({ a: { b: { c: 1 } } });
    expect(depth).toMatchObject({ value: { a: { b: { $: 'depth', class: 'Object' } } }, truncated: true });
    expect(c.capture([1, 2, 3, 4])).toMatchObject({ value: [1, 2, { $: 'more', count: 2 }], truncated: true });
    expect(c.capture({ x: 1, y: 2, z: 3 })).toMatchObject({ value: { x: 1, y: 2, $more: 1 }, truncated: true });
    expect(c.capture({ $: 1, y: 2, z: 3 })).toMatchObject({ value: { $: 'object', class: 'Object', props: { $: 1, y: 2 }, more: 1 }, truncated: true });
    expect(c.capture('abcdef')).toMatchObject({ value: { $: 'string', value: 'abc', length: 6 }, truncated: true });
    expect(c.capture(new Map([[1, 1], [2, 2], [3, 3]]))).toMatchObject({ value: { $: 'map', size: 3, entries: [[1, 1], [2, 2]] }, truncated: true });
    expect(c.capture(new Set([1, 2, 3]))).toMatchObject({ value: { $: 'set', size: 3, values: [1, 2] }, truncated: true });
    expect(c.capture(Buffer.from([1, 2, 3]))).toMatchObject({ value: { $: 'buffer', length: 3, hex: '0102' }, truncated: true });
    expect(c.capture(10n ** 5n)).toMatchObject({ value: { $: 'bigint', value: '0x186', length: 5 }, truncated: true });
    expect(c.capture(1).truncated).toBe(false);
  });

  it('never splits a surrogate pair', () => {
    expect(new Capturer({ stringLimit: 2 }).capture('a😀b').value).toEqual({ $: 'string', value: 'a', length: 4 });
  });

  it('cuts keys longer than the string limit', () => {
    const r = new Capturer({ stringLimit: 4 }).capture({ abcdefgh: 1 });
    expect(r.value).toEqual({ 'abcd…': 1 });
    expect(r.truncated).toBe(true);
  });

  it('keeps an event near its byte budget, shared across values, with a floor per value', () => {
    const row: Record<string, string> = {};
    for (let i = 0; i < 20; i++) row[`field${i}`] = 'z'.repeat(255);
    const fat = Array.from({ length: 100 }, () => ({ ...row }));
    const c = new Capturer({ eventBytes: 8192 });
    c.begin();
    const args = c.values([fat, fat]);
    const self = c.value({ id: 7, name: 'receiver' });
    const result = c.end();
    expect(result.truncated).toBe(true);
    const size = json(args).length;
    expect(size).toBeLessThan(8192 * 1.25);
    expect(size).toBeGreaterThan(8192 * 0.5);
    // The second argument got the leftovers: it still says what it is.
    expect(Array.isArray(args[1])).toBe(true);
    // `this` was captured after the budget was spent: the floor still shows it.
    expect(self).toEqual({ id: 7, name: 'receiver' });
    expect(result.bytes).toBeGreaterThan(8192 * 0.5);
    // A new event starts with a full budget.
    c.begin();
    expect(c.value('fresh')).toBe('fresh');
    expect(c.end()).toEqual({ truncated: false, bytes: 7 });
  });

  it('cuts long argument lists after `items` arguments', () => {
    const c = new Capturer({ items: 2 });
    c.begin();
    expect(c.values([1, 2, 3, 4])).toEqual([1, 2, { $: 'more', count: 2 }]);
    expect(c.end().truncated).toBe(true);
  });

  it('validates its options', () => {
    expect(resolveCaptureLimits()).toEqual({ depth: 3, items: 100, fields: 20, stringLimit: 255, eventBytes: 8192, redact: [], keepValues: [] });
    expect(() => new Capturer({ depth: 101 })).toThrow(LivetraceError);
    expect(() => new Capturer({ items: -1 })).toThrow(/items/);
    expect(() => new Capturer({ fields: 1.5 })).toThrow(/fields/);
    try {
      new Capturer({ redact: ['*'] });
      expect.unreachable();
    } catch (error) {
      expect((error as LivetraceError).code).toBe('LT_OPTION_INVALID');
    }
  });
});
