/**
 * The active path: what a site's wrapper calls when hooks are attached (site.ts).
 *
 * Each hook's `enter` decides whether it takes the call. When none does, `dispatch`
 * returns PASS and the wrapper calls the original itself, so that call site stays
 * monomorphic. When one does, the call runs inside the call-tree context with the clock
 * read around it, every taking hook hears how it ended, and a native promise it returned
 * is watched (without being touched) for `settle`. Whatever a hook does, the caller gets
 * the very same value or the very same throw.
 *
 * livetrace never traces itself. Its own work (capture, queueing, socket writes, the
 * call-tree context, promise watching) runs with `engine.busy` raised, and a call that
 * arrives here while it is raised is a plain pass-through, whatever was patched: so a
 * pattern that reaches a function livetrace calls (AsyncLocalStorage's methods, an
 * EventEmitter, `Buffer`) sees only the application's calls of it, never livetrace's,
 * and can't recurse. The check is one read of a const object's field on the path that
 * already decided to look at the hooks; the idle path (no hooks) never gets here. The
 * original runs with the count lowered back to zero (context.ts), so the application's
 * calls made inside a traced call are traced as usual.
 *
 * A sync throw is seen in a `catch` and thrown again from here, which is the only way
 * JavaScript lets a caller see the thrown value. V8 then reports the throw at this
 * rethrow, so Node's crash banner for an uncaught throw would print this file's line as
 * where it happened (and, for `throw 42`, as the only place at all); the rethrow line
 * carries Node's `node-do-not-add-exception-line` marker, so the banner prints no
 * source excerpt instead of a wrong one. The error's own stack, which names the real
 * place, is untouched.
 */
import { clock } from '../clock.js';
import { engine } from './guard.js';
import { callContext, type CallFrame } from './context.js';
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
}

/** What `dispatch` returns when no hook took the call: the wrapper then calls the original itself. */
export const PASS: unique symbol = Symbol('livetrace.pass');

/**
 * Asks each hook about the call. If none takes it, returns PASS and the site's own
 * wrapper makes the call (its call site stays monomorphic); else runs it traced.
 */
export function dispatch(hooks: Hook[], original: Function, self: unknown, args: unknown[], newTarget: Function | undefined): unknown {
  if (engine.busy !== 0) return PASS;
  let matched: (Hook | object)[] | undefined;
  for (let i = 0; i < hooks.length; i++) {
    const hook = hooks[i]!;
    const token = hook.enter(self, args, newTarget);
    if (token !== undefined) {
      // Not Array#push: the application may have replaced it.
      if (matched === undefined) matched = [hook, token];
      else {
        matched[matched.length] = hook;
        matched[matched.length] = token;
      }
    }
  }
  if (matched === undefined) return PASS;
  return traced(matched, original, self, args, newTarget);
}

function traced(matched: (Hook | object)[], original: Function, self: unknown, args: unknown[], newTarget: Function | undefined): unknown {
  engine.busy++;
  let frame: CallFrame;
  let start: number;
  try {
    frame = callContext.enter(matched);
    start = clock();
  } finally {
    engine.busy--;
  }
  let value: unknown;
  try {
    value = callContext.run(frame, original, self, args, newTarget);
  } catch (error) {
    finish(matched, true, false, error, start);
    throw error; // node-do-not-add-exception-line
  }
  const pending = finish(matched, false, true, value, start);
  if (pending) {
    engine.busy++;
    try {
      watchPromise(value as Promise<unknown>, matched as readonly unknown[]);
    } catch {
      // Watching is best effort; the caller gets its promise whatever happens here.
    } finally {
      engine.busy--;
    }
  }
  return value;
}

/** Tells every taking hook how the call ended; returns whether a returned value is a native promise to watch. */
function finish(matched: (Hook | object)[], threw: boolean, returned: boolean, value: unknown, start: number): boolean {
  engine.busy++;
  try {
    const end = clock();
    const pending = returned && isNativePromise(value);
    const ending: Ending = { threw, pending, value, start, end };
    for (let i = 0; i < matched.length; i += 2) {
      try {
        (matched[i] as Hook).exit(matched[i + 1]!, ending);
      } catch {
        // Hooks guard themselves; this is the last line so a bug never reaches the caller.
      }
    }
    return pending;
  } catch {
    return false;
  } finally {
    engine.busy--;
  }
}
