/**
 * The Proxy wrapper (wrapper.ts says when a site gets one): for originals with state of
 * their own (statics, a class, a constructor with prototype methods) and for async
 * functions and generators, whose kind `util.inspect` prints. Every property operation
 * lands on the original itself, so a static written through the export is the one the
 * library reads (`_.placeholder`), one written by the function on itself is seen through
 * the export (ajv's `validate.errors`), statics stay data properties, and `util.inspect`
 * (which looks through a Proxy) prints `[class App] { x: 1 }`. A read that gives the
 * original itself gives the wrapper (viewOf).
 *
 * Its `apply` and `construct` traps take the same paths as the function wrapper
 * (wrapper-function.ts): idle, livetrace's own call, the site's first hook asked in the
 * trap itself, and a taken call run between `enter` and `returned`/`threw`. The rethrow
 * lines carry Node's `node-do-not-add-exception-line` marker for the same reason.
 */
import { types } from 'node:util';
import { ask, MAX_NAMED, OPEN_GATE, type WrapperParts } from './wrapper-function.js';
import { returnedPromise } from './dispatch.js';
import { ReflectGetOwnPropertyDescriptor, uncurryThis } from '../../safe/intrinsics.js';
import { ANY_ARITY, compileFactory, type Factory, type SiteState } from './wrapper-compile.js';

const reflectGet = Reflect.get;
const { getOwnPropertyDescriptor } = Reflect;

export function makeProxyWrapper(original: Function, state: SiteState, parts: WrapperParts): Function {
  const compiled = compileFactory(proxyText(namedArity(original)));
  const factory = compiled ?? proxyFactory;
  // The traps hold the argument array already: any position can be pre-tested.
  state.arity = compiled === undefined ? -1 : ANY_ARITY;
  const direct = uncurryThis(original as (this: unknown, ...args: unknown[]) => unknown);
  // An async function's call returns the promise it made (an async generator's, a generator object).
  const returned = types.isAsyncFunction(original) && !types.isGeneratorFunction(original) ? returnedPromise : parts.returned;
  return factory(original, state, parts.guard, parts.enter, returned, parts.threw, parts.reflectApply, parts.reflectConstruct, false, reflectGet, viewOf, direct) as Function;
}

/** Parameters the original declares (its own `length`), when 0 to MAX_NAMED; else -1. */
function namedArity(original: Function): number {
  const length: unknown = ReflectGetOwnPropertyDescriptor(original, 'length')?.value;
  return typeof length === 'number' && Number.isInteger(length) && length >= 0 && length <= MAX_NAMED ? length : -1;
}

/**
 * How the `apply` trap calls the original with the trap's argument array. When the caller
 * passed as many arguments as the original declares (`k`, 0 to MAX_NAMED), it passes them
 * one by one through `direct` (the pristine `Function.prototype.call` bound to the
 * original, as wrapper-function.ts does): V8 makes that a direct call of the original,
 * where `Reflect.apply` with an array is a call through the generic CallWithArrayLike
 * builtin that copies the array onto the stack (about 20 ns of an awaited call's ~100,
 * measured). Any other count keeps `Reflect.apply`, so the original always sees the very
 * arguments, and `arguments.length`, it was called with.
 */
function callText(k: number): string {
  if (k < 0) return 'reflectApply(original, self, args)';
  const list = Array.from({ length: k }, (_, i) => `, args[${i}]`).join('');
  return `(args.length === ${k} ? direct(self${list}) : reflectApply(original, self, args))`;
}

// A Proxy's traps: `target` is the original. Like the arity-specialised function wrapper,
// they run the site's positional pre-test and rate gate before asking any hook: a Proxy
// call already costs a trap (the floor for async functions, which keep the Proxy for
// inspect's sake), so a rejected or dropped call should cost no more than that. A `new` through the Proxy itself hands the
// original its own new.target (`new.target === App` inside holds, as untraced); a
// subclass's `new` keeps the subclass.
function proxyText(k: number): string {
  const call = callText(k);
  return `'use strict';
  const passes = (pre, value) => {
    try {
      if (pre(value)) return true;
    } catch {
      return true;
    }
    state.skipped++;
    return false;
  };
${OPEN_GATE}  const proxy = new Proxy(original, {
    apply(target, self, args) {
      const hooks = state.hooks;
      if (hooks !== null && guard.busy === 0 && (state.pre === null || passes(state.pre, args[state.at])) && (state.gate === null || open(state.gate))) {
        let first;
        try {
          first = hooks[0].enter(self, args, undefined);
        } catch {}
        const call = first === undefined && hooks.length === 1 ? undefined : enter(hooks, first, self, args, undefined);
        if (call !== undefined) {
          let value;
          try {
            value = ${call};
          } catch (error) {
            threw(call, error);
            throw error; // node-do-not-add-exception-line
          }
          returned(call, value);
          return value;
        }
      }
      return ${call};
    },
    construct(target, args, newTarget) {
      const hooks = state.hooks;
      const nt = newTarget === proxy ? original : newTarget;
      if (hooks !== null && guard.busy === 0 && (state.pre === null || passes(state.pre, args[state.at])) && (state.gate === null || open(state.gate))) {
        let first;
        try {
          first = hooks[0].enter(undefined, args, nt);
        } catch {}
        const call = first === undefined && hooks.length === 1 ? undefined : enter(hooks, first, undefined, args, nt);
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
  return proxy;`;
}

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

/** The same Proxy with closures, for processes that forbid compiling strings. */
const proxyFactory: Factory = (original, state, guard, enter, returned, threw, apply, construct, _bound, get, view) => {
  const o = original as Function;
  const st = state as SiteState;
  const parts = { guard, enter, returned, threw, reflectApply: apply, reflectConstruct: construct } as WrapperParts;
  const around = (call: NonNullable<ReturnType<typeof ask>>, run: () => unknown): unknown => {
    let value: unknown;
    try {
      value = run();
    } catch (error) {
      parts.threw(call, error);
      throw error; // node-do-not-add-exception-line
    }
    parts.returned(call, value);
    return value;
  };
  const proxy: Function = new Proxy(o, {
    apply(_target, self: unknown, args: unknown[]): unknown {
      const hooks = st.hooks;
      if (hooks !== null && parts.guard.busy === 0) {
        const call = ask(parts, hooks, self, args, undefined);
        if (call !== undefined) return around(call, () => parts.reflectApply(o, self, args));
      }
      return parts.reflectApply(o, self, args);
    },
    construct(_target, args: unknown[], newTarget: Function): object {
      const hooks = st.hooks;
      const nt = newTarget === proxy ? o : newTarget;
      if (hooks !== null && parts.guard.busy === 0) {
        const call = ask(parts, hooks, undefined, args, nt);
        if (call !== undefined) return around(call, () => parts.reflectConstruct(o, args, nt)) as object;
      }
      return parts.reflectConstruct(o, args, nt) as object;
    },
    get(_target, key: PropertyKey, receiver: unknown): unknown {
      const value = (get as typeof reflectGet)(o, key, receiver) as unknown;
      return typeof value === 'function' ? (view as typeof viewOf)(o, proxy, key, value) : value;
    },
  });
  return proxy;
};
