/**
 * The active path: what a site's wrapper calls when hooks are attached (site.ts).
 *
 * The wrapper calls the original itself, always, so that the original's caller in any
 * stack trace is the wrapper and nothing else of ours (the one livetrace frame a trace
 * adds). Around that call it makes two calls here, each of which has returned before
 * the original runs or after it ended:
 * - The wrapper asks the site's first hook itself (inlined there: the reject and drop
 *   paths), then `enter` asks the others. When none takes the call `enter` returns
 *   undefined (or is not even called) and the wrapper makes a plain call. When one does, it makes the call the
 *   enclosing one for the call tree (context.ts), reads the clock, and returns the call.
 * - `returned` or `threw`, as the original ended: the call tree is put back, every
 *   taking hook hears how it ended, and a native promise it returned is watched
 *   (without being touched) for `settle`.
 * Whatever a hook does, the caller gets the very same value or the very same throw: the
 * wrapper returns or rethrows what it got, never what these return.
 *
 * livetrace never traces itself. Its own work (capture, queueing, socket writes, the
 * call-tree context, promise watching) runs with `engine.busy` raised (guard.ts), and a
 * call that reaches a wrapper with hooks while it is raised is a plain pass-through, whatever was
 * patched: so a pattern that reaches a function livetrace calls (an EventEmitter,
 * `Buffer`, a built-in the application replaced) sees only the application's calls of
 * it, never livetrace's, and can't recurse. The check is one read of a const object's
 * field, made by the wrapper on the path that already decided to look at the hooks; the
 * idle path (no hooks) never makes it. The bookkeeping here raises it too, and since `enter` and
 * `returned`/`threw` have returned before the original runs and after it ended, the
 * original always runs with the count as the caller had it: zero for the application's
 * calls, so the calls it makes inside a traced call are traced as usual.
 */
import { clock } from '../clock.js';
import { engine } from './guard.js';
import { adoptFrame, endFrame, popFrame, pushCall, pushFrame, type PushedFrame } from './context.js';
import { isNativePromise, isOwnPromise, watchCall } from './promise-watch.js';

/** How a call ended, as the site tells a hook (`Hook.exit`'s arguments, as one object for those that keep it). */
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

/** A test of one argument that every call a hook takes passes (pattern/match/matcher.ts `Positional`). */
export interface PositionalTest {
  readonly at: number;
  readonly test: (value: unknown) => boolean;
}

/**
 * A rate limit the wrapper can apply itself (session/limiter.ts): no `tokens` left means
 * the hook would drop the call; the wrapper then counts it in `dropped` instead of asking.
 */
export interface Gate {
  readonly tokens: number;
  dropped: number;
}

export interface Hook {
  /**
   * When set, the hook takes every call while `gate` has tokens and drops every call (as
   * over the rate) while it has none: the site's wrapper drops those itself (site.ts).
   */
  readonly gate?: Gate | undefined;
  /**
   * When set, every call this hook could take passes `test` on its argument `at`: the
   * site's wrapper runs it first and lets a call that fails go by without asking the hook
   * (site.ts refreshSite). May throw (the wrapper then asks the hook).
   */
  readonly pretest?: PositionalTest | undefined;
  /**
   * Pre-call decision. Undefined lets the call go by untouched. Never throws. `args` is
   * the call's arguments; when it is an Array, it is one the caller made for this call
   * alone (a wrapper's named parameters or rest array, a Proxy trap's list, a body site's
   * copy, a probe's list) and nobody changes it afterwards, so a hook may keep it as the
   * captured arguments (capture/capturer.ts `values`, `keep`). Anything else (a probe's
   * `arguments`) is the program's and is only read.
   */
  enter(self: unknown, args: unknown[], newTarget: unknown): object | undefined;
  /**
   * The call returned or threw (`Ending`'s fields, passed one by one: an object per
   * reported call would be one more allocation on the hot path). Never throws.
   */
  exit(token: object, threw: boolean, pending: boolean, value: unknown, start: number, end: number): void;
  /** A native promise returned by the call settled. Never throws. */
  settle(token: object, rejected: boolean, value: unknown, at: number): void;
  /**
   * True when every token this hook's `enter` returns can be a call's frame in the
   * call-tree context: it has PushedFrame's fields, unset, and its `hook` is this hook
   * (context.ts adoptFrame). A call only this hook takes then has no frame object of its
   * own. The session's hooks' tokens are (session/call.ts entryToken).
   */
  readonly tokenFrames?: boolean;
  /** Which session the hook belongs to (call-tree parents are per session). */
  readonly sessionKey: object;
  /**
   * Time the process spent on this hook's behalf outside the hook's own code: a probe
   * hit's breakpoint condition and pause. For the session's overload breaker. Never throws.
   */
  charge?(ns: number): void;
}

/**
 * A call some hook took, between `enter` and `returned`/`threw`: its frame in the call-tree
 * context, which also holds its start. Opaque to the wrapper.
 */
export type ActiveCall = PushedFrame;

/**
 * The rest of the decision, after the wrapper asked the site's first hook itself (`first`
 * is what that hook's `enter` returned: see wrapper-compile.ts for why the wrapper makes
 * that call) and only when there is more to do: a token to keep, or further hooks to ask.
 * The wrapper has checked `engine.busy` before asking the first hook. Undefined when no
 * hook takes the call (the wrapper then makes a plain call); else the call, now the
 * enclosing one, with its start time. Never throws.
 */
export function enter(hooks: Hook[], first: object | undefined, self: unknown, args: unknown[], newTarget: Function | undefined): ActiveCall | undefined {
  // The one hook that took the call so far, and its token: a call one hook takes (a site
  // with one session) needs no [hook, token] list (context.ts CallFrame).
  let one: Hook | undefined;
  let oneToken: object | undefined;
  // Every [hook, token] pair, once a second hook takes the call.
  let matched: (Hook | object)[] | undefined;
  if (first !== undefined) {
    one = hooks[0]!;
    oneToken = first;
  }
  for (let i = 1; i < hooks.length; i++) {
    const hook = hooks[i]!;
    let token: object | undefined;
    try {
      token = hook.enter(self, args, newTarget);
    } catch {
      // Hooks guard themselves; this is the last line so a bug never reaches the caller.
    }
    if (token !== undefined) {
      if (one === undefined) {
        one = hook;
        oneToken = token;
        continue;
      }
      // Index writes, not push: a program may have replaced Array.prototype.push.
      matched ??= [one, oneToken!];
      matched[matched.length] = hook;
      matched[matched.length] = token;
    }
  }
  if (one === undefined) return undefined;
  engine.busy++;
  try {
    const frame = matched !== undefined ? pushFrame(matched) : one.tokenFrames === true ? adoptFrame(oneToken as PushedFrame) : pushCall(one, oneToken!);
    frame.start = clock();
    return frame;
  } finally {
    engine.busy--;
  }
}

/** The original returned `value` (which the wrapper returns itself). Never throws. */
export function returned(call: ActiveCall, value: unknown): void {
  ended(call, value, false);
}

/**
 * `returned` for a site whose original is an async function (wrapper-proxy.ts): what it
 * returned is the promise that very call made, of its realm's intrinsic Promise, so it
 * needs neither `util.types.isPromise` (a call into C++) nor the look-up of a watch it
 * might already have. Never throws.
 */
export function returnedPromise(call: ActiveCall, value: unknown): void {
  ended(call, value, true);
}

function ended(call: ActiveCall, value: unknown, fresh: boolean): void {
  engine.busy++;
  try {
    const end = clock();
    popFrame(call);
    let pending = false;
    try {
      // A promise is an object: the typeof test spares most calls isPromise's C++ call.
      pending = typeof value === 'object' && value !== null && (fresh ? isOwnPromise(value) : isNativePromise(value));
    } catch {
      // Not reachable for a value V8 calls a promise; kept so nothing reaches the caller.
    }
    finish(call, false, pending, value, call.start, end);
    if (pending) {
      try {
        // The call is over when its promise settles (context.ts endFrame).
        watchCall(value as Promise<unknown>, call, fresh);
      } catch {
        // Likewise: the wrapper returns `value` whatever happens here.
        endFrame(call);
      }
    } else {
      endFrame(call);
    }
  } finally {
    engine.busy--;
  }
}

/**
 * An instrumented async function suspended for the first time (body-site.ts): its caller
 * now holds its promise, as a wrapper's `returned` would have been told of it; `settled`
 * follows when the body ends. The body has no promise to hand over: `value` is undefined
 * (a pending ending's value is not reported). Never throws.
 */
export function suspended(call: ActiveCall): void {
  end(call, false, true, undefined);
}

/** What a call's promise settled with, to every hook that took it (as promise-watch.ts tells them). Never throws. */
export function settled(call: ActiveCall, rejected: boolean, value: unknown): void {
  const at = clock();
  endFrame(call);
  const hook = call.hook as Hook | undefined;
  if (hook !== undefined) {
    try {
      hook.settle(call.token as object, rejected, value, at);
    } catch {
      // Hooks guard themselves.
    }
    return;
  }
  const m = call.matched!;
  for (let i = 0; i < m.length; i += 2) {
    try {
      (m[i] as Hook).settle(m[i + 1] as object, rejected, value, at);
    } catch {
      // Hooks guard themselves.
    }
  }
}

/** The original threw `error` (which the wrapper rethrows itself). Never throws. */
export function threw(call: ActiveCall, error: unknown): void {
  end(call, true, false, error);
}

/** A call's end that needs no look at its value (a throw, a first suspension). Never throws. */
function end(call: ActiveCall, threw: boolean, pending: boolean, value: unknown): void {
  engine.busy++;
  try {
    const at = clock();
    popFrame(call);
    // A first suspension is not the end: `settled` follows.
    if (!pending) endFrame(call);
    finish(call, threw, pending, value, call.start, at);
  } finally {
    engine.busy--;
  }
}

/** Every hook that took the call hears how it ended. */
function finish(call: ActiveCall, threw: boolean, pending: boolean, value: unknown, start: number, end: number): void {
  const hook = call.hook as Hook | undefined;
  if (hook !== undefined) {
    try {
      hook.exit(call.token as object, threw, pending, value, start, end);
    } catch {
      // Hooks guard themselves; this is the last line so a bug never reaches the caller.
    }
    return;
  }
  const matched = call.matched!;
  for (let i = 0; i < matched.length; i += 2) {
    try {
      (matched[i] as Hook).exit(matched[i + 1]!, threw, pending, value, start, end);
    } catch {
      // Hooks guard themselves; this is the last line so a bug never reaches the caller.
    }
  }
}
