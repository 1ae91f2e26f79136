/**
 * The patcher: one dispatch wrapper per patched function, shared by every session.
 *
 * A *site* is one place a function is reachable from (an export property, a prototype
 * method, a static, an ESM binding). Patching a site installs a wrapper there, with the
 * original property's attributes, and keeps the original. The wrapper's hot path is one
 * read of a field of a const object (`state.hooks`); while it is null the wrapper is a
 * plain pass-through, which V8 inlines down to about the cost of the bare call.
 *
 * Sessions attach *hooks* to a site. A hook's `enter` decides (pattern, guard, limits)
 * whether this call is reported and returns a per-call token, or undefined to let the
 * call go by; only then does the site read the clock, run the call inside the call-tree
 * context and tell the hook how it ended. The wrapper never changes what the caller
 * sees: the same `this`, the same arguments, `new.target` and construct semantics, the
 * very same return value (a promise keeps its identity), the same thrown value, sync or
 * async. Hooks never throw: each hook guards itself, and the site guards again.
 *
 * Removing the last hook restores the original only if our wrapper is still what is
 * installed; if someone patched on top of us, our wrapper stays under theirs as a
 * pass-through (the shimmer / require-in-the-middle rule), so their patch keeps working.
 *
 * A *pinned* site (the preload engine's idle dispatchers) is installed before anyone
 * asks and stays installed for good, hooks or not: callers may hold its wrapper (a
 * destructured export), so removing it would leave them with a wrapper nobody can hook.
 *
 * The site table lives on a global symbol so that the ESM and CJS builds of livetrace,
 * both loaded in one process, share sites instead of wrapping each other's wrappers.
 */
import { types } from 'node:util';
import type { Engine } from '../../protocol/events.js';
import { clock } from '../clock.js';
import { callContext } from './context.js';
import { isNativePromise, watchPromise } from './promise-watch.js';
import { WRAPPER_SOURCE_URL } from '../capture/stack.js';

/** How a call ended, as the site tells a hook. */
export interface Ending {
  threw: boolean;
  /** The call returned a native promise, which the site watches: `settle` follows. */
  pending: boolean;
  /** Return value, or thrown value when `threw`. */
  value: unknown;
  /** Monotonic ns at entry and at return/throw. */
  start: number;
  end: number;
}

export interface Hook {
  /** Pre-call decision. Undefined lets the call go by untouched. Never throws. */
  enter(self: unknown, args: unknown[], newTarget: unknown): object | undefined;
  /** The call returned or threw. Never throws. */
  exit(token: object, ending: Ending): void;
  /** A native promise returned by the call settled. Never throws. */
  settle(token: object, rejected: boolean, value: unknown, at: number): void;
  /** Which session the hook belongs to (call-tree parents are per session). */
  readonly sessionKey: object;
}

/** Where a function lives and how to swap it. */
export interface PatchTarget {
  /** Identity of the place: the holder object (with `key`, makes the site unique). */
  readonly holder: object;
  readonly key: PropertyKey;
  readonly engine: Engine;
  /** Current value at the place, read without running user code (undefined for an accessor). */
  read(): unknown;
  /** Installs `value`; returns false when the place can't be written. */
  write(value: Function): boolean;
  /** Why the place can't be patched, or undefined when it can. */
  unpatchable(): string | undefined;
  /** After a `write` that returned false: why, when the target knows. */
  failure?(): string | undefined;
  /** Called after every install and restore (builtins re-sync their ESM namespace). */
  afterChange?(): void;
}

interface SiteState {
  hooks: Hook[] | null;
}

export class Site {
  readonly target: PatchTarget;
  readonly original: Function;
  readonly wrapper: Function;
  /** A const object's field, read once per call: the idle check. */
  readonly state: SiteState = { hooks: null };
  installed = false;
  /** Installed for good: never restored, never forgotten (see pinSite). */
  pinned = false;

  constructor(target: PatchTarget, original: Function) {
    this.target = target;
    this.original = original;
    this.wrapper = makeWrapper(original, this.state);
    wrappers.set(this.wrapper, this);
  }

  get hooks(): readonly Hook[] {
    return this.state.hooks ?? [];
  }
}

/** Sites by holder and key; wrappers to their site (to never wrap a wrapper). */
interface SiteTable {
  version: 1;
  byHolder: WeakMap<object, Map<PropertyKey, Site>>;
  wrappers: WeakMap<Function, Site>;
}

const TABLE_KEY = Symbol.for('livetrace.sites.v1');
const table: SiteTable = ((globalThis as Record<symbol, unknown>)[TABLE_KEY] as SiteTable | undefined) ??
  ((globalThis as Record<symbol, unknown>)[TABLE_KEY] = {
    version: 1,
    byHolder: new WeakMap(),
    wrappers: new WeakMap(),
  } satisfies SiteTable) as SiteTable;
const wrappers = table.wrappers;

/** The site whose wrapper `fn` is, if it is one of ours. */
export function siteOfWrapper(fn: unknown): Site | undefined {
  return typeof fn === 'function' ? wrappers.get(fn) : undefined;
}

/** The function as the user wrote it: unwraps our wrapper if `fn` is one. */
export function unwrap(fn: Function): Function {
  return wrappers.get(fn)?.original ?? fn;
}

/**
 * The site for a place, created (not yet installed) if needed. Returns a string saying
 * why when the place can't be patched.
 */
export function siteFor(target: PatchTarget): Site | string {
  let byKey = table.byHolder.get(target.holder);
  const existing = byKey?.get(target.key);
  if (existing !== undefined) {
    if (!isStalePin(existing)) return existing;
    // The module replaced a pinned export: the old wrapper stays with whoever holds it;
    // the place gets a site of its own for what it holds now.
    forget(existing);
  }
  const why = target.unpatchable();
  if (why !== undefined) return why;
  const current = target.read();
  if (typeof current !== 'function') return 'not a function';
  // Already our wrapper (copied here from a patched place): share that site's hooks by
  // patching the same original again would double-report; reuse the original instead.
  const original = unwrap(current);
  const site = new Site(target, original);
  if (byKey === undefined) table.byHolder.set(target.holder, (byKey = new Map()));
  byKey.set(target.key, site);
  return site;
}

/** Adds a hook; installs the wrapper when it is the site's first. False if it can't be installed. */
export function addHook(site: Site, hook: Hook): boolean {
  if (!site.installed && !install(site)) return false;
  const hooks = site.state.hooks;
  site.state.hooks = hooks === null ? [hook] : [...hooks, hook];
  return true;
}

/** Removes a hook; with the last one gone, restores the original if our wrapper is still installed. */
export function removeHook(site: Site, hook: Hook): void {
  const hooks = site.state.hooks;
  if (hooks === null) return;
  const rest = hooks.filter((h) => h !== hook);
  site.state.hooks = rest.length === 0 ? null : rest;
  if (rest.length > 0 || !site.installed || site.pinned) return;
  site.installed = false;
  if (site.target.read() === site.wrapper) {
    site.target.write(site.original);
    site.target.afterChange?.();
  }
  // Else someone patched over us: our wrapper stays below theirs as a pass-through.
  forget(site);
}

/**
 * Installs the site's wrapper now, with no hooks (a pass-through), and keeps it installed
 * for good: later hooks reuse it, removing the last hook leaves it. False if the place
 * could not be written.
 */
export function pinSite(site: Site): boolean {
  if (!site.installed && !install(site)) return false;
  site.pinned = true;
  return true;
}

function install(site: Site): boolean {
  const current = site.target.read();
  const ok = (current === site.original || current === site.wrapper) && site.target.write(site.wrapper);
  if (!ok) {
    forget(site);
    return false;
  }
  site.installed = true;
  site.target.afterChange?.();
  return true;
}

function isStalePin(site: Site): boolean {
  return site.pinned && site.state.hooks === null && site.target.read() !== site.wrapper;
}

function forget(site: Site): void {
  const byKey = table.byHolder.get(site.target.holder);
  if (byKey?.get(site.target.key) === site) byKey.delete(site.target.key);
}

/** Sites that currently have hooks (for tests and `ls`); an idle pinned wrapper has none. */
export function isPatched(holder: object, key: PropertyKey): boolean {
  const site = table.byHolder.get(holder)?.get(key);
  return site !== undefined && site.installed && site.state.hooks !== null;
}

// ---------------------------------------------------------------------------------------
// The wrapper

const reflectApply = Reflect.apply;
const reflectConstruct = Reflect.construct;
const { defineProperty, getOwnPropertyDescriptor, ownKeys } = Reflect;
const setPrototypeOf = Object.setPrototypeOf;
const getPrototypeOf = Object.getPrototypeOf;

/**
 * Constructible originals (plain functions and classes) get a `function` wrapper that
 * forwards `new` with the same new.target; the rest (arrows, methods, async functions,
 * generators) get a method-shorthand wrapper, which like them is not constructible and
 * has no `prototype`.
 */
function makeWrapper(original: Function, state: SiteState): Function {
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

// ---------------------------------------------------------------------------------------
// The active path

/** What `dispatch` returns when no hook took the call: the wrapper then calls the original itself. */
const PASS: unique symbol = Symbol('livetrace.pass');

/**
 * Asks each hook about the call. If none takes it, returns PASS and the site's own
 * wrapper makes the call (its call site stays monomorphic); else runs it traced.
 */
function dispatch(hooks: Hook[], original: Function, self: unknown, args: unknown[], newTarget: Function | undefined): unknown {
  let matched: (Hook | object)[] | undefined;
  for (let i = 0; i < hooks.length; i++) {
    const hook = hooks[i]!;
    const token = hook.enter(self, args, newTarget);
    if (token !== undefined) (matched ??= []).push(hook, token);
  }
  if (matched === undefined) return PASS;
  return traced(matched, original, self, args, newTarget);
}

function traced(matched: (Hook | object)[], original: Function, self: unknown, args: unknown[], newTarget: Function | undefined): unknown {
  const frame = callContext.enter(matched);
  const start = clock();
  let value: unknown;
  try {
    value = callContext.run(frame, original, self, args, newTarget);
  } catch (error) {
    const end = clock();
    finish(matched, { threw: true, pending: false, value: error, start, end });
    throw error;
  }
  const end = clock();
  const pending = isNativePromise(value);
  finish(matched, { threw: false, pending, value, start, end });
  if (pending) watchPromise(value as Promise<unknown>, matched as readonly unknown[]);
  return value;
}

function finish(matched: (Hook | object)[], ending: Ending): void {
  for (let i = 0; i < matched.length; i += 2) {
    try {
      (matched[i] as Hook).exit(matched[i + 1]!, ending);
    } catch {
      // Hooks guard themselves; this is the last line so a bug never reaches the caller.
    }
  }
}
