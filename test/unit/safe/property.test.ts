import { afterEach, describe, expect, it } from 'vitest';
import { capture } from '../../../src/agent/capture/capturer.js';
import { enumerateExports } from '../../../src/agent/catalog/exports-walk.js';
import { FAULT, readFromObject } from '../../../src/safe/read.js';
import {
  ACCESSOR,
  BLOCKED,
  MAX_CHAIN,
  MISSING,
  constructorName,
  functionKind,
  functionName,
  isData,
  lookup,
  ownData,
  ownDescriptor,
  ownKeys,
  prototypeOf,
  readable,
  type Readable,
} from '../../../src/safe/property.js';

/** Counts every call of a getter, setter, Proxy trap or coercion hook a hostile value offers. */
let calls = 0;
afterEach(() => {
  calls = 0;
});

const TRAPS = ['get', 'set', 'has', 'deleteProperty', 'ownKeys', 'getOwnPropertyDescriptor', 'defineProperty', 'getPrototypeOf', 'setPrototypeOf', 'isExtensible', 'preventExtensions', 'apply', 'construct'];

function countingHandler(): ProxyHandler<object> {
  const handler: Record<string, () => never> = {};
  for (const trap of TRAPS) {
    handler[trap] = () => {
      calls++;
      throw new Error(`trap ${trap} ran`);
    };
  }
  return handler;
}

function getter(value: unknown = 5): PropertyDescriptor {
  return {
    get() {
      calls++;
      return value;
    },
    enumerable: true,
    configurable: true,
  };
}

function withHooks<T extends object>(target: T): T {
  for (const key of ['toJSON', 'valueOf', 'toString']) {
    Object.defineProperty(target, key, {
      value: () => {
        calls++;
        return 1;
      },
    });
  }
  Object.defineProperty(target, Symbol.toPrimitive, { value: () => (calls++, 1) });
  Object.defineProperty(target, Symbol.for('nodejs.util.inspect.custom'), { value: () => (calls++, 'x') });
  return target;
}

function chainOf(length: number, top: object): object {
  let value = top;
  for (let i = 0; i < length; i++) value = Object.create(value);
  return value;
}

function revoked(): object {
  const { proxy, revoke } = Proxy.revocable({ id: 1 }, countingHandler());
  revoke();
  return proxy;
}

/** The hostile values every reader must survive, and what `lookup(value, 'id')` must say. */
const HOSTILE: { name: string; make: () => object; id: unknown }[] = [
  { name: 'an own getter', make: () => withHooks(Object.defineProperty({}, 'id', getter())), id: ACCESSOR },
  { name: 'an inherited getter', make: () => Object.create(Object.defineProperty({}, 'id', getter())), id: ACCESSOR },
  { name: 'a setter only', make: () => Object.defineProperty({}, 'id', { set: () => calls++, enumerable: true }), id: ACCESSOR },
  { name: 'a Proxy', make: () => new Proxy({ id: 1 }, countingHandler()), id: BLOCKED },
  { name: 'a revoked Proxy', make: revoked, id: BLOCKED },
  { name: 'a Proxy function', make: () => new Proxy(function f() {}, countingHandler()), id: BLOCKED },
  { name: 'a Proxy on the prototype chain', make: () => Object.create(new Proxy({ id: 1 }, countingHandler())), id: BLOCKED },
  { name: 'a revoked Proxy on the prototype chain', make: () => Object.create(revoked()), id: BLOCKED },
  { name: 'a chain longer than MAX_CHAIN', make: () => chainOf(MAX_CHAIN + 1, { id: 1 }), id: BLOCKED },
  { name: 'a chain just within MAX_CHAIN', make: () => chainOf(MAX_CHAIN - 1, { id: 1 }), id: 1 },
  {
    name: 'a class with a static name getter, an accessor method and a getter constructor',
    make: () => {
      class Hostile {
        static get name(): string {
          calls++;
          return 'Hostile';
        }
        get id(): number {
          calls++;
          return 1;
        }
      }
      Object.defineProperty(Hostile.prototype, 'constructor', getter(Hostile));
      return new Hostile();
    },
    id: ACCESSOR,
  },
  { name: 'hooks only, with a data id', make: () => withHooks({ id: 7 }), id: 7 },
];

/** What lookup says for `value`, whichever door it stops at. */
function lookupFrom(value: object, key: string): unknown {
  const checked = readable(value);
  return checked === undefined ? BLOCKED : lookup(checked, key);
}

describe('the primitive', () => {
  it('opens objects and functions, never a Proxy (live or revoked) or a primitive', () => {
    expect(readable({})).toBeDefined();
    expect(readable(() => 1)).toBeDefined();
    expect(readable(new Proxy({}, countingHandler()))).toBeUndefined();
    expect(readable(revoked())).toBeUndefined();
    for (const primitive of [1, 'a', null, undefined, 1n, Symbol('s'), true]) expect(readable(primitive)).toBeUndefined();
    expect(calls).toBe(0);
  });

  it('reads own data, reports accessors and absence, and never calls a getter', () => {
    const holder = readable(Object.defineProperties({ a: 1, u: undefined }, { g: getter(), s: { set: () => calls++ } }))!;
    expect(ownData(holder, 'a')).toBe(1);
    expect(ownData(holder, 'u')).toBeUndefined();
    expect(ownData(holder, 'g')).toBe(ACCESSOR);
    expect(ownData(holder, 's')).toBe(ACCESSOR);
    expect(ownData(holder, 'nope')).toBe(MISSING);
    expect(isData(ownDescriptor(holder, 'a')!)).toBe(true);
    expect(isData(ownDescriptor(holder, 'g')!)).toBe(false);
    expect(ownKeys(holder)).toEqual(['a', 'u', 'g', 's']);
    expect(calls).toBe(0);
  });

  it('follows the chain through data properties: inherited, shadowed, missing', () => {
    const base = { inherited: 1, shadowed: 1 };
    const child = readable(Object.assign(Object.create(base), { shadowed: 2 }))!;
    expect(lookup(child, 'inherited')).toBe(1);
    expect(lookup(child, 'shadowed')).toBe(2);
    expect(lookup(child, 'missing')).toBe(MISSING);
    expect(lookup(readable(Object.create(null))!, 'x')).toBe(MISSING);
  });

  it.each(HOSTILE)('lookup on $name', ({ make, id }) => {
    expect(lookupFrom(make(), 'id')).toBe(id);
    expect(calls).toBe(0);
  });

  it('a prototype that is a Proxy is BLOCKED, not handed out', () => {
    expect(prototypeOf(readable(Object.create(new Proxy({}, countingHandler())))!)).toBe(BLOCKED);
    expect(prototypeOf(readable({})!)).toBe(Object.prototype);
    expect(prototypeOf(readable(Object.create(null))!)).toBeNull();
    expect(calls).toBe(0);
  });

  it('an inherited `value` on Object.prototype does not make an accessor look like data', () => {
    // Built before the pollution: defining an accessor afterwards would itself read the inherited `value`.
    const holder = readable(Object.defineProperty({}, 'g', getter()))!;
    Object.defineProperty(Object.prototype, 'value', { get: () => (calls++, 'polluted'), configurable: true });
    let seen: unknown[];
    try {
      let faulted = false;
      try {
        readFromObject(holder, 'g');
      } catch {
        faulted = true;
      }
      seen = [ownData(holder, 'g'), lookup(holder, 'g'), faulted];
    } finally {
      delete (Object.prototype as { value?: unknown }).value;
    }
    expect(seen).toEqual([ACCESSOR, ACCESSOR, true]);
    expect(calls).toBe(0);
  });

  it('names functions and constructors from data properties only', () => {
    class Named {}
    expect(functionName(readable(Named)!)).toBe('Named');
    expect(constructorName(readable(Named.prototype)!)).toBe('Named');
    const hostile = HOSTILE.find((h) => h.name.startsWith('a class'))!.make();
    const proto = readable(Object.getPrototypeOf(hostile))!;
    expect(constructorName(proto)).toBe('');
    expect(functionName(readable(class { static get name(): string { calls++; return 'x'; } })!)).toBe('');
    const proxyConstructor = readable({ constructor: new Proxy(function F() {}, countingHandler()) })!;
    expect(constructorName(proxyConstructor)).toBe('');
    expect(calls).toBe(0);
  });

  it('tells classes, async and generator functions apart, and a method named class* is no class', () => {
    const kind = (fn: unknown): unknown => functionKind(readable(fn)!);
    expect(kind(class {})).toBe('class');
    expect(kind(class X extends Array {})).toBe('class');
    expect(kind(async () => 1)).toBe('async');
    expect(kind(function* g() {})).toBe('generator');
    expect(kind(async function* ag() {})).toBe('asyncgenerator');
    expect(kind({ classify() {} }.classify)).toBeUndefined();
    expect(kind({ class() {} }.class)).toBeUndefined();
    expect(kind(class{})).toBe('class');
    expect(kind(function plain() {})).toBeUndefined();
    expect(kind((() => 1).bind(null))).toBeUndefined();
  });

  it('keeps working, and calls nothing, when the program replaces the globals it would use', () => {
    const originals = {
      gopd: Object.getOwnPropertyDescriptor,
      gpo: Object.getPrototypeOf,
      hasOwn: Object.hasOwn,
      keys: Object.keys,
      ownKeys: Reflect.ownKeys,
      toString: Function.prototype.toString,
      startsWith: String.prototype.startsWith,
    };
    const count =
      <F extends (...args: never[]) => unknown>(fn: F): F =>
      ((...args: never[]) => {
        calls++;
        return fn(...args);
      }) as F;
    Object.getOwnPropertyDescriptor = count(originals.gopd);
    Object.getPrototypeOf = count(originals.gpo);
    Object.hasOwn = count(originals.hasOwn);
    Object.keys = count(originals.keys);
    Reflect.ownKeys = count(originals.ownKeys);
    Function.prototype.toString = count(originals.toString);
    String.prototype.startsWith = count(originals.startsWith);
    let seen: unknown[];
    try {
      const holder = readable(Object.assign(Object.create({ inherited: 2 }), { own: 1 }))!;
      seen = [
        ownData(holder, 'own'),
        lookup(holder, 'inherited'),
        ownKeys(holder),
        prototypeOf(holder) === null,
        functionKind(readable(class {})!),
        constructorName(readable(Object.getPrototypeOf(new (class K {})()) as object)!),
        readFromObject(holder, 'inherited'),
      ];
    } finally {
      Object.getOwnPropertyDescriptor = originals.gopd;
      Object.getPrototypeOf = originals.gpo;
      Object.hasOwn = originals.hasOwn;
      Object.keys = originals.keys;
      Reflect.ownKeys = originals.ownKeys;
      Function.prototype.toString = originals.toString;
      String.prototype.startsWith = originals.startsWith;
    }
    expect(seen).toEqual([1, 2, ['own'], false, 'class', 'K', 2]);
    // The test's own Object.getPrototypeOf (building the constructorName case) is the one counted call.
    expect(calls).toBe(1);
  });
});

describe('the matcher, the capturer and the catalog keep the same contract', () => {
  it.each(HOSTILE)("the matcher's written-out read agrees with lookup on $name", ({ make, id }) => {
    const value = make();
    let read: unknown;
    try {
      read = readFromObject(value, 'id');
    } catch (error) {
      read = error === FAULT ? 'fault' : error;
    }
    expect(read).toBe(id === ACCESSOR || id === BLOCKED ? 'fault' : id === MISSING ? undefined : id);
    expect(calls).toBe(0);
  });

  it('the matcher and lookup agree on ordinary values too', () => {
    const cases: [object, string][] = [
      [{ id: 1 }, 'id'],
      [Object.create({ id: 2 }), 'id'],
      [{}, 'id'],
      [Object.create(null), 'id'],
      [[1, 2], '1'],
      [[1, 2], 'length'],
    ];
    for (const [value, key] of cases) {
      const found = lookupFrom(value, key);
      expect(readFromObject(value, key)).toBe(found === MISSING ? undefined : found);
    }
  });

  it.each(HOSTILE)('the capturer runs nothing of $name', ({ make }) => {
    const value = make();
    const { value: captured } = capture({ value, nested: [value], map: new Map([['k', value]]) });
    expect(calls).toBe(0);
    expect(JSON.stringify(captured)).not.toContain('"Hostile"');
  });

  it('the capturer reports what the primitive reports: getters, setters and Proxies as markers', () => {
    const getterHolder = HOSTILE[0]!.make();
    expect(capture(getterHolder).value).toEqual({ id: { $: 'getter' } });
    expect(capture(HOSTILE[2]!.make()).value).toEqual({ id: { $: 'setter' } });
    expect(capture(HOSTILE[3]!.make()).value).toEqual({ $: 'proxy' });
    expect(capture(HOSTILE[4]!.make()).value).toEqual({ $: 'proxy' });
    expect(capture(HOSTILE[6]!.make()).value).toEqual({ $: 'object', class: 'Object', props: {} });
    expect(calls).toBe(0);
  });

  it.each(HOSTILE)('the catalog runs nothing of $name, as an export or as the exports object', ({ make }) => {
    const value = make();
    enumerateExports(value, 'exports');
    const entries = enumerateExports({ value, nested: { value }, fn: Object.assign(function fn() {}, { value }) }, 'exports');
    expect(calls).toBe(0);
    expect(entries.map((e) => e.path)).toContain('fn');
  });

  it('the catalog lists accessors as unpatchable, a Proxy function without looking into it, and no static name getter', () => {
    class Service {
      static get name(): string {
        calls++;
        return 'Evil';
      }
      static create(): void {}
      get state(): number {
        calls++;
        return 1;
      }
      run(): void {}
    }
    const exportsObject = Object.defineProperty({ Service, proxied: new Proxy(function p() {}, countingHandler()) }, 'lazy', getter(() => 1));
    const entries = enumerateExports(exportsObject, 'exports');
    const byPath = Object.fromEntries(entries.map((e) => [e.path, e]));
    expect(Object.keys(byPath).sort()).toEqual(['Service', 'Service#run', 'Service#state', 'Service.create', 'lazy', 'proxied']);
    expect(byPath.lazy!.unpatchable).toMatch(/accessor/);
    expect(byPath['Service#state']!.unpatchable).toMatch(/accessor/);
    expect(byPath.Service!.kind).toBe('class');
    expect(byPath.proxied!.kind).toBe('function');
    expect(calls).toBe(0);
    const defaultExport = enumerateExports(Service, 'exports', { defaultHolder: { exports: Service }, defaultKey: 'exports' });
    expect(defaultExport.map((e) => e.path)).toEqual(['default', 'default.create', 'default#state', 'default#run']);
    expect(calls).toBe(0);
  });
});

// Readable is a type-level promise only: nothing at run time can forge one out of a Proxy.
const _typeCheck: Readable | undefined = readable({});
void _typeCheck;
