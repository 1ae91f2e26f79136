/**
 * The wrapper a site installs in place of the original (site.ts).
 *
 * Two kinds, chosen by what the original is (issue 12, docs/transparency.md):
 * - A plain synchronous function (no own properties but its shape, an untouched or no
 *   `prototype`) gets a compiled `function` wrapper: the cheapest thing V8 can inline, and nothing
 *   about it can drift from the original since the original has no state of its own.
 * - Anything with state (statics, a class, a constructor with prototype methods), and
 *   async functions and generators (whose kind inspect prints), get a
 *   Proxy of the original with `apply`, `construct` and `get` traps. Every property
 *   operation lands on the original itself (a read that gives the original itself gives
 *   the wrapper: viewOf), so a static written through the export is
 *   the one the library reads (`_.placeholder`), one written by the function on itself
 *   is seen through the export (ajv's `validate.errors`), statics stay data properties,
 *   and `util.inspect` (which looks through a Proxy) prints `[class App] { x: 1 }`.
 *   A Proxy call costs more than an inlined one, so plain functions don't get one.
 * Both kinds show the original's text through `Function.prototype.toString`
 * (installToString below), and carry the original's reflect-metadata (copyMetadata).
 *
 * Its hot path is one read of a field of a const object (`state.hooks`); while that is
 * null the wrapper is a plain pass-through, which V8 inlines down to about the cost of
 * the bare call. Otherwise it asks `enter` (dispatch.ts) whether a hook takes the call
 * and, if one does, calls the original itself between `enter` and `returned`/`threw`,
 * which have both returned while the original runs: the original's caller is the
 * wrapper, the one frame of ours in its stack, reported or not. It keeps what
 * the caller sees: the same `this`, arguments, `new.target` and construct semantics, and
 * it looks like the original (name, length, statics, `prototype`, [[Prototype]]).
 *
 * Every site compiles its own copy of a fixed text so that V8 keeps type feedback per
 * wrapper; a process that forbids compiling strings gets equivalent closures instead.
 *
 * A sync throw is seen in a `catch` and thrown again from the wrapper, which is the only
 * way JavaScript lets a caller see the thrown value. V8 then reports the throw at this
 * rethrow, so Node's crash banner for an uncaught throw would print the wrapper's line as
 * where it happened (and, for `throw 42`, as the only place at all); every rethrow line
 * carries Node's `node-do-not-add-exception-line` marker, so the banner prints no source
 * excerpt instead of a wrong one. The error's own stack, which names the real place, is
 * untouched.
 */
import { types } from 'node:util';
import { ReflectApply, ReflectConstruct } from '../../safe/intrinsics.js';
import { WRAPPER_SOURCE_URL } from '../capture/stack.js';
import { enter, returned, threw, type Hook } from './dispatch.js';
import { ArrayPrototypePush } from '../../safe/intrinsics.js';

/** The one field the wrapper reads per call: null while no hook is attached. */
export interface SiteState {
  hooks: Hook[] | null;
}

// Pristine (src/safe/intrinsics.ts): an application that replaced Reflect.apply before an
// attach must not have its own calls run through its replacement by our wrapper.
const reflectApply = ReflectApply;
const reflectConstruct = ReflectConstruct;
const { defineProperty, getOwnPropertyDescriptor, ownKeys } = Reflect;
const setPrototypeOf = Object.setPrototypeOf;
const getPrototypeOf = Object.getPrototypeOf;

/**
 * Constructible originals (plain functions and classes) get a `function` wrapper that
 * forwards `new` with the same new.target; the rest (arrows, methods, async functions,
 * generators) get a method-shorthand wrapper, which like them is not constructible and
 * has no `prototype`.
 */
export function makeWrapper(original: Function, state: SiteState): Function {
  installToString();
  // Async functions and generators too: a sync wrapper would inspect as `[Function] AsyncFunction`.
  const fast = plainCallable(original) && !types.isAsyncFunction(original) && !types.isGeneratorFunction(original);
  const wrapper = fast ? makeFunctionWrapper(original, state) : makeProxyWrapper(original, state);
  originals.set(wrapper, original);
  copyMetadata(original, wrapper);
  return wrapper;
}

function makeFunctionWrapper(original: Function, state: SiteState): Function {
  const constructible = isConstructor(original);
  // Like a bound function, the wrapper of one has no `prototype` (its bound `this` is
  // ignored anyway, as the original ignores the caller's).
  const bound = constructible && getOwnPropertyDescriptor(original, 'prototype') === undefined;
  const factory = compileFactory(constructible) ?? (constructible ? constructibleFactory : callableFactory);
  const inner = factory(original, state, enter, returned, threw, reflectApply, reflectConstruct, bound) as Function;
  const wrapper = bound ? inner.bind(undefined) : inner;
  mirrorShape(original, wrapper);
  return wrapper;
}

/**
 * Wrapper sources. Every site compiles its own copy (below), because V8 keeps type
 * feedback per function literal: wrappers made from one shared closure would all share
 * one megamorphic call to "the original", and the idle path would cost a real call
 * through a generic stub instead of an inlined one. The text is fixed; nothing from the
 * target or a pattern is ever part of it.
 */
const CONSTRUCTIBLE_BODY = `'use strict';
  return function wrapper(...args) {
    const hooks = state.hooks;
    // A bound original must see itself as new.target to construct its target's instance.
    const newTarget = new.target === undefined ? undefined : bound && new.target === wrapper ? original : new.target;
    if (hooks !== null) {
      const call = enter(hooks, this, args, newTarget);
      if (call !== undefined) {
        let value;
        try {
          value = newTarget === undefined ? reflectApply(original, this, args) : reflectConstruct(original, args, newTarget);
        } catch (error) {
          threw(call, error);
          throw error; // node-do-not-add-exception-line
        }
        returned(call, value);
        return value;
      }
    }
    return newTarget === undefined ? reflectApply(original, this, args) : reflectConstruct(original, args, newTarget);
  };
//# sourceURL=${WRAPPER_SOURCE_URL}`;
const CALLABLE_BODY = `'use strict';
  return { wrapper(...args) {
    const hooks = state.hooks;
    if (hooks !== null) {
      const call = enter(hooks, this, args, undefined);
      if (call !== undefined) {
        let value;
        try {
          value = reflectApply(original, this, args);
        } catch (error) {
          threw(call, error);
          throw error; // node-do-not-add-exception-line
        }
        returned(call, value);
        return value;
      }
    }
    return reflectApply(original, this, args);
  } }.wrapper;
//# sourceURL=${WRAPPER_SOURCE_URL}`;
// A Proxy's traps: `target` is the original. A `new` through the Proxy itself hands the
// original its own new.target (`new.target === App` inside holds, as untraced); a
// subclass's `new` keeps the subclass.
const PROXY_BODY = `'use strict';
  const proxy = new Proxy(original, {
    apply(target, self, args) {
      const hooks = state.hooks;
      if (hooks !== null) {
        const call = enter(hooks, self, args, undefined);
        if (call !== undefined) {
          let value;
          try {
            value = reflectApply(original, self, args);
          } catch (error) {
            threw(call, error);
            throw error; // node-do-not-add-exception-line
          }
          returned(call, value);
          return value;
        }
      }
      return reflectApply(original, self, args);
    },
    construct(target, args, newTarget) {
      const hooks = state.hooks;
      const nt = newTarget === proxy ? original : newTarget;
      if (hooks !== null) {
        const call = enter(hooks, undefined, args, nt);
        if (call !== undefined) {
          let value;
          try {
            value = reflectConstruct(original, args, nt);
          } catch (error) {
            threw(call, error);
            throw error; // node-do-not-add-exception-line
          }
          returned(call, value);
          return value;
        }
      }
      return reflectConstruct(original, args, nt);
    },
    get(target, key, receiver) {
      const value = reflectGet(original, key, receiver);
      return typeof value === 'function' ? viewOf(original, proxy, key, value) : value;
    },
  });
  return proxy;
//# sourceURL=${WRAPPER_SOURCE_URL}`;
const FACTORY_PARAMS = ['original', 'state', 'enter', 'returned', 'threw', 'reflectApply', 'reflectConstruct', 'bound', 'reflectGet', 'viewOf'] as const;

type Factory = (...params: unknown[]) => unknown;

let codeGeneration = true;
/** Numbers each compiled text: V8's eval cache hands out one shared function for a text it has seen before. */
let compiled = 0;

function makeProxyWrapper(original: Function, state: SiteState): Function {
  const factory = compileFactory('proxy') ?? proxyFactory;
  return factory(original, state, enter, returned, threw, reflectApply, reflectConstruct, false, reflectGet, viewOf) as Function;
}

function compileFactory(kind: boolean | 'proxy'): Factory | undefined {
  if (!codeGeneration) return undefined;
  try {
    const text = kind === 'proxy' ? PROXY_BODY : kind ? CONSTRUCTIBLE_BODY : CALLABLE_BODY;
    const body = `// site ${++compiled}\n${text}`;
    return new Function(...FACTORY_PARAMS, body) as Factory;
  } catch {
    // --disallow-code-generation-from-strings: shared closures, slower but equivalent.
    codeGeneration = false;
    return undefined;
  }
}

/** The same wrappers as closures, for processes that forbid compiling strings. */
const constructibleFactory: Factory = (original, state, enterFn, returnedFn, threwFn, apply, construct, bound) => {
  const o = original as Function;
  const st = state as SiteState;
  const en = enterFn as typeof enter;
  const re = returnedFn as typeof returned;
  const th = threwFn as typeof threw;
  const ap = apply as typeof reflectApply;
  const co = construct as typeof reflectConstruct;
  const wrapper = function (this: unknown, ...args: unknown[]): unknown {
    const hooks = st.hooks;
    const newTarget = new.target === undefined ? undefined : bound === true && new.target === wrapper ? o : new.target;
    if (hooks !== null) {
      const call = en(hooks, this, args, newTarget);
      if (call !== undefined) {
        let value: unknown;
        try {
          value = newTarget === undefined ? ap(o, this, args) : co(o, args, newTarget);
        } catch (error) {
          th(call, error);
          throw error; // node-do-not-add-exception-line
        }
        re(call, value);
        return value;
      }
    }
    return newTarget === undefined ? ap(o, this, args) : co(o, args, newTarget);
  };
  return wrapper;
};

const callableFactory: Factory = (original, state, enterFn, returnedFn, threwFn, apply) => {
  const o = original as Function;
  const st = state as SiteState;
  const en = enterFn as typeof enter;
  const re = returnedFn as typeof returned;
  const th = threwFn as typeof threw;
  const ap = apply as typeof reflectApply;
  return {
    wrapper(this: unknown, ...args: unknown[]): unknown {
      const hooks = st.hooks;
      if (hooks !== null) {
        const call = en(hooks, this, args, undefined);
        if (call !== undefined) {
          let value: unknown;
          try {
            value = ap(o, this, args);
          } catch (error) {
            th(call, error);
            throw error; // node-do-not-add-exception-line
          }
          re(call, value);
          return value;
        }
      }
      return ap(o, this, args);
    },
  }.wrapper;
};

/**
 * What a function-valued property read through a Proxy wrapper gives: the wrapper when the
 * value is the original itself, so a getter or static returning the class's own inner
 * binding (`static get default() { return Application }`, koa) gives what importers hold,
 * as untraced. Only the function itself: a read of *another* wrapped function (lodash's
 * `partial.placeholder`, which is `lodash`) must give what the library's own code compares
 * it with, its original. Never for a property a Proxy must report unchanged
 * (non-configurable and non-writable).
 */
function viewOf(original: Function, proxy: Function, key: PropertyKey, value: Function): Function {
  if (value !== original) return value;
  const desc = getOwnPropertyDescriptor(original, key);
  if (desc !== undefined && desc.configurable === false && ('value' in desc ? desc.writable === false : true)) return value;
  return proxy;
}

const reflectGet = Reflect.get;

const proxyFactory: Factory = (original, state, enterFn, returnedFn, threwFn, apply, construct, _bound, get, view) => {
  const o = original as Function;
  const st = state as SiteState;
  const en = enterFn as typeof enter;
  const re = returnedFn as typeof returned;
  const th = threwFn as typeof threw;
  const around = (call: ReturnType<typeof enter>, run: () => unknown): unknown => {
    let value: unknown;
    try {
      value = run();
    } catch (error) {
      th(call!, error);
      throw error; // node-do-not-add-exception-line
    }
    re(call!, value);
    return value;
  };
  const proxy: Function = new Proxy(o, {
    apply(_target, self: unknown, args: unknown[]): unknown {
      const hooks = st.hooks;
      if (hooks !== null) {
        const call = en(hooks, self, args, undefined);
        if (call !== undefined) return around(call, () => (apply as typeof reflectApply)(o, self, args));
      }
      return (apply as typeof reflectApply)(o, self, args);
    },
    construct(_target, args: unknown[], newTarget: Function): object {
      const hooks = st.hooks;
      const nt = newTarget === proxy ? o : newTarget;
      if (hooks !== null) {
        const call = en(hooks, undefined, args, nt);
        if (call !== undefined) return around(call, () => (construct as typeof reflectConstruct)(o, args, nt)) as object;
      }
      return (construct as typeof reflectConstruct)(o, args, nt) as object;
    },
    get(_target, key: PropertyKey, receiver: unknown): unknown {
      const value = (get as typeof reflectGet)(o, key, receiver) as unknown;
      return typeof value === 'function' ? (view as typeof viewOf)(o, proxy, key, value) : value;
    },
  });
  return proxy;
};

const SHAPE_KEYS = new Set<PropertyKey>(['length', 'name', 'prototype', 'arguments', 'caller']);

/**
 * No state of its own, and not a class: no own properties but its shape, and an untouched
 * (or no) prototype. Only such a function can be stood in for by a separate function
 * object without anyone noticing a property that went stale.
 */
export function plainCallable(fn: Function): boolean {
  try {
    if (types.isProxy(fn)) return false;
    const keys = ownKeys(fn);
    for (const key of keys) if (!SHAPE_KEYS.has(key)) return false;
    const prototype = getOwnPropertyDescriptor(fn, 'prototype');
    if (prototype === undefined) return true; // arrows, methods, async functions
    // A class's own `prototype` is read-only, a function's is writable (no need to read its text).
    if (prototype.writable === false) return false;
    const value: unknown = prototype.value;
    if (typeof value !== 'object' || value === null) return false;
    // Generators' own prototype objects inherit from %GeneratorPrototype%, not Object.prototype.
    if (types.isGeneratorFunction(fn)) return ownKeys(value).length === 0;
    if (getPrototypeOf(value) !== Object.prototype) return false;
    const protoKeys = ownKeys(value);
    return protoKeys.length === 1 && protoKeys[0] === 'constructor' && getOwnPropertyDescriptor(value, 'constructor')?.value === fn;
  } catch {
    return false;
  }
}

/**
 * Wrapper → original, for every copy of livetrace in the process: toString and anyone
 * asking "is this one of ours" read it.
 */
const ORIGINALS_KEY = Symbol.for('livetrace.wrapper.originals.v1');
const originals: WeakMap<Function, Function> = ((globalThis as Record<symbol, unknown>)[ORIGINALS_KEY] as WeakMap<Function, Function> | undefined) ??
  ((globalThis as Record<symbol, unknown>)[ORIGINALS_KEY] = new WeakMap<Function, Function>());
const TO_STRING_KEY = Symbol.for('livetrace.wrapper.toString.v1');
const nativeToString: (this: Function) => string = (() => {
  const installed = (globalThis as Record<symbol, unknown>)[TO_STRING_KEY] as { native: (this: Function) => string } | undefined;
  // eslint-disable-next-line @typescript-eslint/unbound-method
  return installed?.native ?? Function.prototype.toString;
})();

/**
 * `Function.prototype.toString` of a wrapper gives the original's text, as it did before
 * the trace (a callable Proxy would give `function () { [native code] }`, a compiled
 * wrapper its own source; code that reads parameter names or checks for native code
 * from it would change behaviour). Installed once per process, at the first wrapper, as
 * Sentry and others do; the replacement has the native one's name, length and shape
 * (a method: no prototype, not constructible), and shows the native text itself. A
 * program that installs its own afterwards simply wins. The preload installs it before
 * the program's first line, so code that keeps `Function.prototype.toString` in a
 * variable (lodash's `isNative`) keeps this one.
 */
export function installToString(): void {
  const global = globalThis as Record<symbol, unknown>;
  if (global[TO_STRING_KEY] !== undefined) return;
  try {
    const native = nativeToString;
    const get = originals.get.bind(originals);
    const replacement = {
      toString(this: Function): string {
        return reflectApply(native, get(this) ?? this, []);
      },
    }.toString;
    const desc = getOwnPropertyDescriptor(Function.prototype, 'toString');
    if (desc === undefined || !('value' in desc) || desc.value !== native || desc.configurable !== true) return;
    originals.set(replacement, native);
    if (defineProperty(Function.prototype, 'toString', { ...desc, value: replacement })) {
      defineProperty(global, TO_STRING_KEY, { value: { native }, configurable: true, enumerable: false, writable: false });
    }
  } catch {
    // toString shows the wrapper's text; calls are unaffected.
  }
}

/**
 * reflect-metadata keeps decorator metadata in a WeakMap keyed by the decorated object
 * (NestJS reads `path`/`method` from `prototype.getHello`, DI reads `design:paramtypes`
 * from the class): a wrapper is a different key, so without a copy a traced controller
 * maps no routes (issue 12, item 12). When the process has reflect-metadata's API on
 * `Reflect` (read as data properties: nothing is run to find it), the original's own
 * metadata is defined on the wrapper too. Those three functions are the library's and
 * only read and store metadata; a failure leaves the wrapper without it.
 */
function copyMetadata(original: Function, wrapper: Function): void {
  try {
    const keysOf = dataFunction(Reflect, 'getOwnMetadataKeys');
    const getOwn = dataFunction(Reflect, 'getOwnMetadata');
    const define = dataFunction(Reflect, 'defineMetadata');
    if (keysOf === undefined || getOwn === undefined || define === undefined) return;
    // Metadata of the function itself, and of its members: TypeScript's parameter
    // decorators store under (class, method name), read back through `instance.constructor`.
    const members: (PropertyKey | undefined)[] = [undefined];
    const proto = getOwnPropertyDescriptor(original, 'prototype');
    for (const holder of [original, proto !== undefined && 'value' in proto ? (proto.value as unknown) : undefined]) {
      if ((typeof holder !== 'object' && typeof holder !== 'function') || holder === null || types.isProxy(holder)) continue;
      for (const key of ownKeys(holder)) if (key !== 'prototype' && key !== 'length' && key !== 'name' && key !== 'constructor') ArrayPrototypePush(members, key);
    }
    for (const member of members) {
      const keys = reflectApply(keysOf, Reflect, member === undefined ? [original] : [original, member]) as unknown;
      if (!Array.isArray(keys)) continue;
      for (const key of keys) {
        const value = reflectApply(getOwn, Reflect, member === undefined ? [key, original] : [key, original, member]) as unknown;
        reflectApply(define, Reflect, member === undefined ? [key, value, wrapper] : [key, value, wrapper, member]);
      }
    }
  } catch {
    // The wrapper is still a faithful call-through; only its metadata is missing.
  }
}

function dataFunction(holder: object, key: string): Function | undefined {
  const desc = getOwnPropertyDescriptor(holder, key);
  return desc !== undefined && 'value' in desc && typeof desc.value === 'function' ? (desc.value as Function) : undefined;
}

/** The original a wrapper stands for (any copy of livetrace's), or undefined. */
export function originalOf(fn: Function): Function | undefined {
  return originals.get(fn);
}

function isConstructor(fn: Function): boolean {
  // Arrows, methods, async functions and generators have no own `prototype` or a
  // non-constructor one; bound functions of constructors are constructors.
  if (types.isAsyncFunction(fn) || types.isGeneratorFunction(fn)) return false;
  const proto = getOwnPropertyDescriptor(fn, 'prototype');
  if (proto !== undefined) return true;
  // Bound functions have no prototype but construct if their target does.
  return fn.name.startsWith('bound ') && isConstructorByProbe(fn);
}

function isConstructorByProbe(fn: Function): boolean {
  try {
    // A Proxy-free construct check: Reflect.construct with a dummy target never calls fn.
    reflectConstruct(String, [], fn);
    return true;
  } catch {
    return false;
  }
}

/**
 * The wrapper looks like the original: same name, length, own property keys (statics,
 * forwarded to the original), same `prototype` object (so `new W() instanceof Original`
 * and `instanceof W` both hold), same [[Prototype]] (a subclass keeps its parent's
 * statics).
 */
function mirrorShape(original: Function, wrapper: Function): void {
  try {
    setPrototypeOf(wrapper, getPrototypeOf(original));
    for (const key of ownKeys(original)) {
      if (key === 'arguments' || key === 'caller') continue;
      const desc = getOwnPropertyDescriptor(original, key);
      if (desc === undefined) continue;
      if (key === 'prototype') {
        // A function's own `prototype` is non-configurable; keep it writable and point it
        // at the original's prototype object. Generators have one too (their objects'
        // prototype), which a method-shorthand wrapper lacks: give it the same.
        if (getOwnPropertyDescriptor(wrapper, 'prototype') !== undefined) {
          defineProperty(wrapper, 'prototype', { value: desc.value, writable: desc.writable ?? false });
        } else {
          defineProperty(wrapper, 'prototype', desc);
        }
        continue;
      }
      if (key === 'name' || key === 'length') {
        defineProperty(wrapper, key, desc);
        continue;
      }
      // Statics and other own properties are forwarded, not copied: reads and writes
      // through the wrapper reach the original's live values, so a static traced on
      // the original (`Repo.create`) is seen through a traced `Repo` too, and state a
      // class keeps on itself stays one. (The descriptor becomes an accessor.)
      defineProperty(wrapper, key, {
        get: () => (original as unknown as Record<PropertyKey, unknown>)[key],
        set: (value: unknown) => {
          (original as unknown as Record<PropertyKey, unknown>)[key] = value;
        },
        enumerable: desc.enumerable ?? false,
        configurable: true,
      });
    }
  } catch {
    // A shape we can't mirror fully (exotic original): the wrapper still forwards calls.
  }
}
