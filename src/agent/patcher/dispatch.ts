/**
 * The active path: what a site's wrapper calls when hooks are attached (site.ts).
 *
 * Each hook's `enter` decides whether it takes the call. When none does, `dispatch`
 * returns PASS and the wrapper calls the original itself, so that call site stays
 * monomorphic. When one does, the call runs inside the call-tree context with the clock
 * read around it, every taking hook hears how it ended, and a native promise it returned
 * is watched (without being touched) for `settle`. Whatever a hook does, the caller gets
 * the very same value or the very same throw.
 */
import { clock } from '../clock.js';
import { callContext } from './context.js';
import { isNativePromise, watchPromise } from './promise-watch.js';

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
  /**
   * Time the process spent on this hook's behalf outside the hook's own code: a probe
   * hit's breakpoint condition and pause. For the session's overload breaker. Never throws.
   */
  charge?(ns: number): void;
}

/** What `dispatch` returns when no hook took the call: the wrapper then calls the original itself. */
export const PASS: unique symbol = Symbol('livetrace.pass');

/**
 * Asks each hook about the call. If none takes it, returns PASS and the site's own
 * wrapper makes the call (its call site stays monomorphic); else runs it traced.
 */
export function dispatch(hooks: Hook[], original: Function, self: unknown, args: unknown[], newTarget: Function | undefined): unknown {
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
