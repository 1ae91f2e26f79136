/**
 * The wrapper a site installs in place of the original (site.ts).
 *
 * Two kinds, chosen by what the original is (issue 12, docs/transparency.md):
 * - A plain synchronous function (no own properties but its shape, an untouched or no
 *   `prototype`) gets a compiled `function` wrapper (wrapper-function.ts): the cheapest
 *   thing V8 can inline, and nothing about it can drift from the original since the
 *   original has no state of its own.
 * - Anything with state (statics, a class, a constructor with prototype methods), and
 *   async functions and generators (whose kind inspect prints), get a Proxy of the
 *   original (wrapper-proxy.ts), on which every property operation lands on the original
 *   itself. A Proxy call costs more than an inlined one, so plain functions don't get one.
 * Both kinds show the original's text through `Function.prototype.toString` and carry the
 * original's reflect-metadata (wrapper-identity.ts).
 *
 * Its hot path is one read of a field of a const object (`state.hooks`); while that is
 * null the wrapper is a plain pass-through, which V8 inlines down to about the cost of
 * the bare call. Otherwise it asks the site's first hook itself, then `enter`
 * (dispatch.ts) the others, and, if one takes the call, calls the original itself between
 * `enter` and `returned`/`threw`, which have both returned while the original runs: the
 * original's caller is the wrapper, the one frame of ours in its stack, reported or not.
 * It keeps what the caller sees: the same `this`, arguments, `new.target` and construct
 * semantics, and it looks like the original (name, length, statics, `prototype`,
 * [[Prototype]]).
 *
 * Every site compiles its own copy of a fixed text so that V8 keeps type feedback per
 * wrapper (wrapper-compile.ts); a process that forbids compiling strings gets equivalent
 * closures instead.
 */
import { types } from 'node:util';
import { ReflectApply, ReflectConstruct } from '../../safe/intrinsics.js';
import { enter, returned, threw } from './dispatch.js';
import type { SiteState } from './wrapper-compile.js';
import { engine } from './guard.js';
import { copyMetadata, installToString, originals } from './wrapper-identity.js';
import { makeFunctionWrapper, type WrapperParts } from './wrapper-function.js';
import { makeProxyWrapper } from './wrapper-proxy.js';

export { installToString, originalOf } from './wrapper-identity.js';

export type { SiteState } from './wrapper-compile.js';

// Pristine (src/safe/intrinsics.ts): an application that replaced Reflect.apply before an
// attach must not have its own calls run through its replacement by our wrapper.
const parts: WrapperParts = {
  guard: engine,
  enter,
  returned,
  threw,
  reflectApply: ReflectApply,
  reflectConstruct: ReflectConstruct,
};
const reflectConstruct = ReflectConstruct;
const { defineProperty, getOwnPropertyDescriptor, ownKeys } = Reflect;
const setPrototypeOf = Object.setPrototypeOf;
const getPrototypeOf = Object.getPrototypeOf;

export function makeWrapper(original: Function, state: SiteState): Function {
  installToString();
  // Async functions and generators too: a sync wrapper would inspect as `[Function] AsyncFunction`.
  const fast = plainCallable(original) && !types.isAsyncFunction(original) && !types.isGeneratorFunction(original);
  const wrapper = fast ? functionWrapper(original, state) : makeProxyWrapper(original, state, parts);
  originals.set(wrapper, original);
  copyMetadata(original, wrapper);
  return wrapper;
}

function functionWrapper(original: Function, state: SiteState): Function {
  const constructible = isConstructor(original);
  // Like a bound function, the wrapper of one has no `prototype` (its bound `this` is
  // ignored anyway, as the original ignores the caller's).
  const bound = constructible && getOwnPropertyDescriptor(original, 'prototype') === undefined;
  const inner = makeFunctionWrapper(original, state, parts, constructible, bound);
  const wrapper = bound ? inner.bind(undefined) : inner;
  mirrorShape(original, wrapper);
  return wrapper;
}

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
