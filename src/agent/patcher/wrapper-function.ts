/**
 * The plain function wrapper (wrapper.ts says when a site gets one): a `function` or a
 * method, compiled per site (wrapper-compile.ts), standing for an original with no state
 * of its own.
 *
 * Its paths, in the order a call meets them:
 * - idle (`state.hooks` null): a plain call of the original, which V8 inlines down to about
 *   the cost of the bare call;
 * - livetrace's own call (`guard.busy` raised, dispatch.ts): the same plain call;
 * - hooked: for a plain function of 0-4 parameters (named `a0`..`a3`, no argument array),
 *   first the site's positional pre-test on its argument and its rate gate (site.ts
 *   refreshSite), which let a call go by without any array or hook call; then the site's
 *   first hook decides (`hooks[0].enter` through the per-site `ask`, one target per site,
 *   so V8 can inline the pattern's pre-test and the rate limit); `enter` is called only
 *   when that hook took the call or there are others to ask;
 * - taken: the original runs between `enter` and `returned`/`threw`, which have both
 *   returned while it runs, so the wrapper is the one frame of ours in its stack.
 *
 * A sync throw is seen in a `catch` and thrown again from the wrapper, which is the only
 * way JavaScript lets a caller see the thrown value. V8 then reports the throw at this
 * rethrow, so Node's crash banner for an uncaught throw would print the wrapper's line as
 * where it happened (and, for `throw 42`, as the only place at all); every rethrow line
 * carries Node's `node-do-not-add-exception-line` marker, so the banner prints no source
 * excerpt instead of a wrong one. The error's own stack, which names the real place, is
 * untouched. A hook that throws (none should) is caught before the original runs and the
 * call goes by untraced.
 */
import type { enter as Enter, returned as Returned, threw as Threw } from './dispatch.js';
import type { engine as Guard } from './guard.js';
import type { ReflectApply, ReflectConstruct } from '../../safe/intrinsics.js';
import { compileFactory, type Factory, type SiteState } from './wrapper-compile.js';
import { ReflectGetOwnPropertyDescriptor, uncurryThis } from '../../safe/intrinsics.js';

/** The dispatch functions and pristine intrinsics a wrapper closes over. */
export interface WrapperParts {
  readonly guard: typeof Guard;
  readonly enter: typeof Enter;
  readonly returned: typeof Returned;
  readonly threw: typeof Threw;
  readonly reflectApply: typeof ReflectApply;
  readonly reflectConstruct: typeof ReflectConstruct;
}

/** A function wrapper for `original`; `bound` when the original is a bound constructor (its wrapper is bound too, by the caller). */
export function makeFunctionWrapper(original: Function, state: SiteState, parts: WrapperParts, constructible: boolean, bound: boolean): Function {
  const arity = namedArity(original);
  const text = arity < 0 ? (constructible ? CONSTRUCTIBLE_BODY : CALLABLE_BODY) : constructible ? constructibleArity(arity) : callableArity(arity);
  const compiled = compileFactory(text);
  const factory = compiled ?? (constructible ? constructibleFactory : callableFactory);
  // Only a compiled arity-specialised wrapper runs the positional pre-test.
  state.arity = compiled === undefined ? -1 : arity;
  const direct = uncurryThis(original as (this: unknown, ...args: unknown[]) => unknown);
  return factory(original, state, parts.guard, parts.enter, parts.returned, parts.threw, parts.reflectApply, parts.reflectConstruct, bound, undefined, undefined, direct, argsOf) as Function;
}

/** Parameters a wrapper of `original` names: its `length` when 0 to MAX_NAMED, else -1 (a rest wrapper). */
function namedArity(original: Function): number {
  const length: unknown = ReflectGetOwnPropertyDescriptor(original, 'length')?.value;
  return typeof length === 'number' && Number.isInteger(length) && length >= 0 && length <= MAX_NAMED ? length : -1;
}

/** Wrappers name up to this many parameters; an original declaring more gets a rest wrapper. */
export const MAX_NAMED = 4;

/**
 * The arguments of a call to an arity-specialised wrapper as an array: the `n` the caller
 * passed, from the `k` named parameters and the rest. Index writes (a program may have
 * replaced Array.prototype.push or the array iterator a spread would use).
 */
export function argsOf(k: number, n: number, more: unknown[], a0?: unknown, a1?: unknown, a2?: unknown, a3?: unknown): unknown[] {
  const out: unknown[] = [];
  const named = n < k ? n : k;
  if (named > 0) out[0] = a0;
  if (named > 1) out[1] = a1;
  if (named > 2) out[2] = a2;
  if (named > 3) out[3] = a3;
  for (let i = 0; i < more.length; i++) out[out.length] = more[i];
  return out;
}

/**
 * The texts of the arity-specialised wrappers: `k` named parameters `a0`.. and the rest in
 * `more`, so that a call the positional pre-test rejects, and an idle call, pass the
 * caller's arguments on as they came, without an array: `direct` is the pristine
 * `Function.prototype.call` bound to the original (a bound call V8 reduces to a direct
 * call of the original, with no property read), used when the caller passed exactly `k`;
 * any other count takes the array `argsOf` builds, so the original always sees the very
 * arguments (and `arguments.length`) it was called with. Reading `arguments.length` is the
 * only use of `arguments`: any other use makes V8 build the object on every call.
 * A hooked call that passes the pre-test builds the array only then, on its own branch
 * (the hooks keep it as the captured arguments), and still calls the original with its
 * named parameters when the caller passed exactly `k` (`traced`): the same arguments as
 * the array's, without Reflect.apply spreading the array back onto the stack.
 */
function arityText(k: number): { params: string; args: string; pick: string; direct: string; traced: string; list: string } {
  const named = Array.from({ length: k }, (_, i) => `a${i}`);
  const list = named.map((a) => `, ${a}`).join('');
  const args = `(n === ${k} ? [${named.join(', ')}] : argsOf(${k}, n, more${list}))`;
  let pick = named[k - 1] ?? 'undefined';
  for (let i = k - 2; i >= 0; i--) pick = `at === ${i} ? a${i} : ${pick}`;
  return {
    params: [...named, '...more'].join(', '),
    args,
    pick,
    list,
    direct: `(n === ${k} ? direct(this${list}) : reflectApply(original, this, argsOf(${k}, n, more${list})))`,
    traced: `(n === ${k} ? direct(this${list}) : reflectApply(original, this, args))`,
  };
}

/**
 * Whether the call goes on to the hooks: no positional pre-test, or the call passes it
 * (a test that throws leaves the decision to the hooks). A call it rejects is counted.
 */
function preTest(k: number): string {
  const gate = '(state.gate === null || open(state.gate))';
  if (k === 0) return gate;
  return `(state.pre === null || passes(state.pre, state.at${[...Array(k).keys()].map((i) => `, a${i}`).join('')})) && ${gate}`;
}

/** The per-site helpers of an arity-specialised wrapper: the pre-test, the gate, the first hook's question. */
/** The rate gate's test in a compiled wrapper (this one's and the Proxy wrapper's): a token left, or the call is dropped and counted. */
export const OPEN_GATE = `  const open = (gate) => {
    if (gate.tokens > 0) return true;
    gate.dropped++;
    state.skipped++;
    return false;
  };
`;

function helpers(params: string, pick: string): string {
  return `  const passes = (pre, at${params.replace('...more', '').replace(/, $/, '').replace(/^(?=a)/, ', ')}) => {
    try {
      if (pre(${pick})) return true;
    } catch {
      return true;
    }
    state.skipped++;
    return false;
  };
${OPEN_GATE}  const ask = (hooks, self, args, newTarget) => {
    let first;
    try {
      first = hooks[0].enter(self, args, newTarget);
    } catch {}
    return first === undefined && hooks.length === 1 ? undefined : enter(hooks, first, self, args, newTarget);
  };
`;
}

// The wrapper's text is kept small: V8 inlines a function into its caller only under a
// bytecode size (460 bytes), and an idle or rejected call costs a bare call only inlined.
// So the argument array and the call of the original are each written once.
function callableArity(k: number): string {
  const { params, args, pick, direct, traced } = arityText(k);
  return `'use strict';
${helpers(params, pick)}  return { wrapper(${params}) {
    const n = arguments.length;
    const hooks = state.hooks;
    if (hooks !== null && guard.busy === 0 && ${preTest(k)}) {
      const args = ${args};
      const call = ask(hooks, this, args, undefined);
      if (call !== undefined) {
        let value;
        try {
          value = ${traced};
        } catch (error) {
          threw(call, error);
          throw error; // node-do-not-add-exception-line
        }
        returned(call, value);
        return value;
      }
    }
    return ${direct};
  } }.wrapper;`;
}

function constructibleArity(k: number): string {
  const { params, args, pick, direct, list } = arityText(k);
  return `'use strict';
${helpers(params, pick)}  return function wrapper(${params}) {
    const n = arguments.length;
    const hooks = state.hooks;
    // A bound original must see itself as new.target to construct its target's instance.
    const newTarget = new.target === undefined ? undefined : bound && new.target === wrapper ? original : new.target;
    if (hooks !== null && guard.busy === 0 && ${preTest(k)}) {
      const args = ${args};
      const call = ask(hooks, this, args, newTarget);
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
    return newTarget === undefined ? ${direct} : reflectConstruct(original, argsOf(${k}, n, more${list}), newTarget);
  };`;
}

/**
 * The rest wrappers, for an original declaring more than MAX_NAMED parameters (or a
 * `length` that is not a small integer). Constructible originals (plain functions and classes) get a `function` wrapper that
 * forwards `new` with the same new.target; the rest (arrows, methods, async functions,
 * generators) get a method-shorthand wrapper, which like them is not constructible and
 * has no `prototype`.
 */
const CONSTRUCTIBLE_BODY = `'use strict';
  return function wrapper(...args) {
    const hooks = state.hooks;
    // A bound original must see itself as new.target to construct its target's instance.
    const newTarget = new.target === undefined ? undefined : bound && new.target === wrapper ? original : new.target;
    if (hooks !== null && guard.busy === 0) {
      let first;
      try {
        first = hooks[0].enter(this, args, newTarget);
      } catch {}
      const call = first === undefined && hooks.length === 1 ? undefined : enter(hooks, first, this, args, newTarget);
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
  };`;
const CALLABLE_BODY = `'use strict';
  return { wrapper(...args) {
    const hooks = state.hooks;
    if (hooks !== null && guard.busy === 0) {
      let first;
      try {
        first = hooks[0].enter(this, args, undefined);
      } catch {}
      const call = first === undefined && hooks.length === 1 ? undefined : enter(hooks, first, this, args, undefined);
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
  } }.wrapper;`;

/** What the first hook said and, if anyone took the call, the call (the closures' shared `enter` step). */
export function ask(parts: WrapperParts, hooks: NonNullable<SiteState['hooks']>, self: unknown, args: unknown[], newTarget: Function | undefined): ReturnType<typeof Enter> {
  let first: object | undefined;
  try {
    first = hooks[0]!.enter(self, args, newTarget);
  } catch {
    // Hooks guard themselves; this is the last line so a bug never reaches the caller.
  }
  return first === undefined && hooks.length === 1 ? undefined : parts.enter(hooks, first, self, args, newTarget);
}

/** The same wrappers as closures, for processes that forbid compiling strings. */
const constructibleFactory: Factory = (original, state, guard, enter, returned, threw, apply, construct, bound) => {
  const o = original as Function;
  const st = state as SiteState;
  const parts = { guard, enter, returned, threw, reflectApply: apply, reflectConstruct: construct } as WrapperParts;
  const wrapper = function (this: unknown, ...args: unknown[]): unknown {
    const hooks = st.hooks;
    const newTarget = new.target === undefined ? undefined : bound === true && new.target === wrapper ? o : new.target;
    if (hooks !== null && parts.guard.busy === 0) {
      const call = ask(parts, hooks, this, args, newTarget);
      if (call !== undefined) {
        let value: unknown;
        try {
          value = newTarget === undefined ? parts.reflectApply(o, this, args) : parts.reflectConstruct(o, args, newTarget);
        } catch (error) {
          parts.threw(call, error);
          throw error; // node-do-not-add-exception-line
        }
        parts.returned(call, value);
        return value;
      }
    }
    return newTarget === undefined ? parts.reflectApply(o, this, args) : parts.reflectConstruct(o, args, newTarget);
  };
  return wrapper;
};

const callableFactory: Factory = (original, state, guard, enter, returned, threw, apply) => {
  const o = original as Function;
  const st = state as SiteState;
  const parts = { guard, enter, returned, threw, reflectApply: apply } as WrapperParts;
  return {
    wrapper(this: unknown, ...args: unknown[]): unknown {
      const hooks = st.hooks;
      if (hooks !== null && parts.guard.busy === 0) {
        const call = ask(parts, hooks, this, args, undefined);
        if (call !== undefined) {
          let value: unknown;
          try {
            value = parts.reflectApply(o, this, args);
          } catch (error) {
            parts.threw(call, error);
            throw error; // node-do-not-add-exception-line
          }
          parts.returned(call, value);
          return value;
        }
      }
      return parts.reflectApply(o, this, args);
    },
  }.wrapper;
};
