/**
 * Every site compiles its own copy of a wrapper's fixed text, because V8 keeps type
 * feedback per function literal: wrappers made from one shared closure would all share
 * one megamorphic call to "the original" and one to "the first hook", and the idle path
 * would cost a real call through a generic stub instead of an inlined one. With a copy per
 * site, the call to the original and the call to the site's first hook (`hooks[0].enter`,
 * which holds the pattern's pre-test and the rate limit) see one target each, so V8 can
 * inline the whole reject and drop path into the wrapper and drop the argument array that
 * never escapes it. The positional pre-test and the rate gate in the state (site.ts) go
 * further for a plain function of 0-4 parameters: the wrapper rejects or drops such a call
 * before any argument array or hook call exists (wrapper-function.ts).
 *
 * The text is fixed; nothing from the target or a pattern is ever part of it. It is
 * compiled by `vm.compileFunction` with the file name `livetrace-wrapper`, not by
 * `new Function`: V8 gives eval'd code no file name, so a wrapper frame's
 * `CallSite#getFileName()` would be undefined, and code that reads the stack at a fixed
 * index across a traced function and takes the name for a string (import-jsx's
 * `path.dirname(callerPath())`) would throw. compileFunction also compiles afresh on
 * every call (no eval cache), and is not refused by --disallow-code-generation-from-strings,
 * which governs eval and `new Function` only. Should it throw all the same (a runtime
 * without it), the site gets the equivalent closures of wrapper-function.ts and
 * wrapper-proxy.ts instead: slower (one feedback vector for all sites), never different.
 */
import { compileFunction } from 'node:vm';
import { WRAPPER_SOURCE_URL } from '../capture/stack.js';
import type { Gate, Hook } from './dispatch.js';

/**
 * What the wrapper reads per call. `hooks` is null while no hook is attached (the idle
 * check). The rest is the site's positional pre-test (site.ts sets it): when the site's
 * one hook has one pattern whose first test looks at one argument, `pre` is that test
 * and `at` the argument's position, and an arity-specialised wrapper (wrapper-function.ts)
 * runs it on its named parameter before anything else; a call it rejects goes by
 * untouched, counted in `skipped` (the hook's `entered` adds them up). `arity` is how many
 * parameters the wrapper names (0-4); ANY_ARITY for a compiled Proxy, whose traps hold the
 * argument array; -1 for a wrapper that never looks at `pre` or `gate` (a rest wrapper,
 * the closures): the site sets `pre` only for `at < arity`.
 * `gate` is the one hook's rate limit when its pattern takes every call (dispatch.ts
 * Gate): while it has no tokens left the wrapper drops the call itself, counted in the
 * gate and in `skipped`.
 */
export interface SiteState {
  hooks: Hook[] | null;
  pre: ((value: unknown) => boolean) | null;
  at: number;
  gate: Gate | null;
  arity: number;
  skipped: number;
}

/** The `arity` of a wrapper that can pre-test any argument position (a compiled Proxy). */
export const ANY_ARITY = 0x7fffffff;

/** A site's state before any hook. */
export function idleState(): SiteState {
  return { hooks: null, pre: null, at: 0, gate: null, arity: -1, skipped: 0 };
}

/** What every factory, compiled or closure, takes, in this order. */
export const FACTORY_PARAMS = ['original', 'state', 'guard', 'enter', 'returned', 'threw', 'reflectApply', 'reflectConstruct', 'bound', 'reflectGet', 'viewOf', 'direct', 'argsOf'] as const;

export type Factory = (...params: unknown[]) => unknown;

let codeGeneration = true;
/** Numbers each compiled text, so that no cache of V8's or Node's can ever hand two sites one function. */
let compiled = 0;

/** A fresh factory for `text` (a body taking FACTORY_PARAMS), or undefined where it can't be compiled. */
export function compileFactory(text: string): Factory | undefined {
  if (!codeGeneration) return undefined;
  try {
    const body = `// site ${++compiled}\n${text}\n//# sourceURL=${WRAPPER_SOURCE_URL}`;
    return compileFunction(body, [...FACTORY_PARAMS], { filename: WRAPPER_SOURCE_URL }) as Factory;
  } catch {
    // Strings can't be compiled here: shared closures, slower but equivalent.
    codeGeneration = false;
    return undefined;
  }
}
