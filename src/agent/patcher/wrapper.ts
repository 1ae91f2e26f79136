/**
 * The wrapper a site installs in place of the original (site.ts).
 *
 * Its hot path is one read of a field of a const object (`state.hooks`); while that is
 * null the wrapper is a plain pass-through, which V8 inlines down to about the cost of
 * the bare call. Otherwise it hands the call to `dispatch` (dispatch.ts). It keeps what
 * the caller sees: the same `this`, arguments, `new.target` and construct semantics, and
 * it looks like the original (name, length, statics, `prototype`, [[Prototype]]).
 *
 * Every site compiles its own copy of a fixed text so that V8 keeps type feedback per
 * wrapper; a process that forbids compiling strings gets equivalent closures instead.
 */
import { types } from 'node:util';
import { ReflectApply, ReflectConstruct } from '../../safe/intrinsics.js';
import { WRAPPER_SOURCE_URL } from '../capture/stack.js';
import { PASS, dispatch, type Hook } from './dispatch.js';

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
  const constructible = isConstructor(original);
  // Like a bound function, the wrapper of one has no `prototype` (its bound `this` is
  // ignored anyway, as the original ignores the caller's).
  const bound = constructible && getOwnPropertyDescriptor(original, 'prototype') === undefined;
  const factory = compileFactory(constructible) ?? (constructible ? constructibleFactory : callableFactory);
  const inner = factory(original, state, dispatch, PASS, reflectApply, reflectConstruct, bound) as Function;
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
      const result = dispatch(hooks, original, this, args, newTarget);
      if (result !== PASS) return result;
    }
    return newTarget === undefined ? reflectApply(original, this, args) : reflectConstruct(original, args, newTarget);
  };
//# sourceURL=${WRAPPER_SOURCE_URL}`;
const CALLABLE_BODY = `'use strict';
  return { wrapper(...args) {
    const hooks = state.hooks;
    if (hooks !== null) {
      const result = dispatch(hooks, original, this, args, undefined);
      if (result !== PASS) return result;
    }
    return reflectApply(original, this, args);
  } }.wrapper;
//# sourceURL=${WRAPPER_SOURCE_URL}`;
const FACTORY_PARAMS = ['original', 'state', 'dispatch', 'PASS', 'reflectApply', 'reflectConstruct', 'bound'] as const;

type Factory = (...params: unknown[]) => unknown;

let codeGeneration = true;
/** Numbers each compiled text: V8's eval cache hands out one shared function for a text it has seen before. */
let compiled = 0;

function compileFactory(constructible: boolean): Factory | undefined {
  if (!codeGeneration) return undefined;
  try {
    const body = `// site ${++compiled}\n${constructible ? CONSTRUCTIBLE_BODY : CALLABLE_BODY}`;
    return new Function(...FACTORY_PARAMS, body) as Factory;
  } catch {
    // --disallow-code-generation-from-strings: shared closures, slower but equivalent.
    codeGeneration = false;
    return undefined;
  }
}

/** The same wrappers as closures, for processes that forbid compiling strings. */
const constructibleFactory: Factory = (original, state, dispatchFn, pass, apply, construct, bound) => {
  const o = original as Function;
  const st = state as SiteState;
  const d = dispatchFn as typeof dispatch;
  const wrapper = function (this: unknown, ...args: unknown[]): unknown {
    const hooks = st.hooks;
    const newTarget = new.target === undefined ? undefined : bound === true && new.target === wrapper ? o : new.target;
    if (hooks !== null) {
      const result = d(hooks, o, this, args, newTarget);
      if (result !== pass) return result;
    }
    return newTarget === undefined ? (apply as typeof reflectApply)(o, this, args) : (construct as typeof reflectConstruct)(o, args, newTarget);
  };
  return wrapper;
};

const callableFactory: Factory = (original, state, dispatchFn, pass, apply) => {
  const o = original as Function;
  const st = state as SiteState;
  const d = dispatchFn as typeof dispatch;
  return {
    wrapper(this: unknown, ...args: unknown[]): unknown {
      const hooks = st.hooks;
      if (hooks !== null) {
        const result = d(hooks, o, this, args, undefined);
        if (result !== pass) return result;
      }
      return (apply as typeof reflectApply)(o, this, args);
    },
  }.wrapper;
};

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
