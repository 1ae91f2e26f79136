/**
 * Watching a returned promise settle, without changing what the program sees.
 *
 * To learn a promise's outcome we must attach a reaction to it, and attaching a
 * reaction marks a rejection as handled: a rejection the program never handles would
 * no longer be reported by Node (in the default mode, the process would no longer
 * crash). So while watched promises are pending, a V8 promise hook notices every
 * reaction the *program* attaches to a watched promise (`then`, `catch`, `finally`,
 * `await`, `Promise.all`, a thenable resolution all create a child promise whose parent
 * is the watched one). If a watched promise rejects and the program has attached
 * nothing, we reject a fresh promise with the same reason and attach nothing to it:
 * Node reports that one as unhandled, with the same reason, exactly when it would have
 * reported the original. If the program attaches a handler to the original later, in the
 * same turn or any later one, the hook marks the mirror handled too, as Node would have
 * marked the original: in a later turn that makes Node emit 'rejectionHandled' (for the
 * mirror) after the 'unhandledRejection' it emitted, as it would have untraced. So a
 * rejected promise nobody has handled stays watched (and the hook stays on) until the
 * program handles it or drops it: a FinalizationRegistry forgets it when it is collected.
 * (In Node's default mode such a rejection ends the process; it only lives on with an
 * 'unhandledRejection' listener or --unhandled-rejections=warn/none.)
 *
 * Only native promises whose prototype is the intrinsic Promise.prototype are watched:
 * reacting to a subclass instance would run its constructor (species), and a foreign
 * thenable (a lazy query builder) must never be `.then`ed. Those are reported as plain
 * return values. The promise hook is installed only while something is pending, so it
 * costs nothing when no traced async call is in flight; it is taken off at the next
 * check phase of the event loop after the last one settled, not at once: installing and
 * removing it cost more than the rest of a watch together, and a hot async function that
 * is awaited in a loop would otherwise pay both on every call. A program that runs long
 * on microtasks alone (an `await` loop) may not reach a check phase for a long time, and
 * meanwhile every promise it makes would still go through the hook for nothing (a rate
 * limit that took one call and drops the rest kept the hook on for the whole loop): so
 * the hook also counts the promises made while nothing is pending, and after IDLE_INITS
 * of them queues its own removal as a microtask, which amortises a later reinstall over
 * at least that many promises.
 *
 * Where a watch is kept: the one made last in a variable (`recent`), every other one still
 * needed in a private field on its promise (`Stamp`); see `watchOf`. `recent` keeps at
 * most one promise (one that never settles) reachable until the next watch replaces it.
 *
 * Known limits: the promise an 'unhandledRejection' or 'rejectionHandled' listener
 * receives is the mirror, not the original (the reason is the same). A promise that was
 * already rejected and handled elsewhere before a traced function returned it (a cached
 * rejected promise) and that the caller ignores is reported once more as unhandled. Node
 * keeps no public record of "handled".
 */
import { types } from 'node:util';
import { promiseHooks } from 'node:v8';
import { clock } from '../clock.js';
import { SafeWeakMap } from '../../safe/intrinsics.js';
import { endFrame, type PushedFrame } from './context.js';

interface Settler {
  settle(token: object, rejected: boolean, value: unknown, at: number): void;
}

interface Watch {
  readonly promise: Promise<unknown>;
  /** The [hook, token] pairs to tell, when the watch has no frame (a probe's call, a test). */
  readonly matched: readonly unknown[] | undefined;
  /** The call's frame, over when the promise settles (context.ts endFrame); its hooks are told when `matched` is undefined. */
  readonly frame: PushedFrame | undefined;
  handled: boolean;
  mirror: Promise<unknown> | undefined;
  /** Still counted in `pending` (keeps the hook on). */
  live: boolean;
  /** Found through the promise's private field (Stamp), not as `recent`. */
  stamped: boolean;
  /**
   * What the FinalizationRegistry holds for a rejected, unhandled watch (it must not
   * reference the promise): made only then, not for every watched call.
   */
  held: { live: boolean } | undefined;
}

const IntrinsicPromise = Promise;
const isPromise = types.isPromise;
const promisePrototype = Promise.prototype;
const then = Promise.prototype.then;
const getPrototypeOf = Object.getPrototypeOf;
const hasOwn = Object.prototype.hasOwnProperty;
const noop = (): void => {};

/**
 * A promise's watch is kept on the promise itself, in a private field that a constructor
 * returning another object installs on it (the "return override"): a WeakMap entry per
 * call cost ~250 ns (set and delete of a fresh key: V8 makes the promise an identity hash
 * and grows, then thins, an ephemeron table in the runtime), a private field ~30 ns (an
 * inline-cached map transition, the same for every promise an async function returns).
 * The program cannot see it: private names are in no key list, no descriptor, no
 * `inspect` output, and they are not properties that freezing or a Proxy could reach.
 * A promise that cannot take one (an engine that refuses private fields on a
 * non-extensible object) falls back to the WeakMap.
 */
class Identity {
  constructor(target: object) {
    return target;
  }
}
class Stamp extends Identity {
  #watch: Watch | undefined;
  private constructor(target: object, watch: Watch) {
    super(target);
    this.#watch = watch;
  }
  /** The watch `promise` holds, if any (a promise never stamped has none). */
  static of(promise: object): Watch | undefined {
    if (#watch in promise) return (promise as Stamp).#watch;
    // Asked of every parent promise the hook sees: a WeakMap look-up would give each one an identity hash.
    return overflowUsed ? overflow.get(promise) : undefined;
  }
  static set(promise: object, watch: Watch): void {
    if (#watch in promise) {
      (promise as Stamp).#watch = watch;
      return;
    }
    try {
      new Stamp(promise, watch);
    } catch {
      overflowUsed = true;
      overflow.set(promise, watch);
    }
  }
  static clear(promise: object): void {
    if (#watch in promise) (promise as Stamp).#watch = undefined;
    else if (overflowUsed) overflow.delete(promise);
  }
}
/** Watches of promises that refused a private field (see Stamp). */
const overflow = new SafeWeakMap<object, Watch>();
/** Some promise refused a private field (overflow has been written). */
let overflowUsed = false;
/** Watches that keep the hook on: in flight, or rejected and not yet handled. */
let pending = 0;
/** Rejected, unhandled watches whose promise was collected: the hook no longer needs them. */
const collected = new FinalizationRegistry<{ live: boolean }>((held) => {
  if (held.live) {
    held.live = false;
    unhook();
  }
});
let stopHook: (() => void) | undefined;
/** A late unhook is scheduled (see above). */
let unhookScheduled = false;
// Livetrace's own: an application's replacement installed later must not run for us.
const schedule = setImmediate;
const queueMicrotaskOwn = queueMicrotask;
/** Promises the hook saw created while no watch was pending, since the last one settled. */
let idleInits = 0;
/** After this many, the hook queues its removal without waiting for a check phase. */
const IDLE_INITS = 1024;
/** True while we attach our own reactions, so the hook ignores them. */
let attaching = false;

/**
 * `isNativePromise` for what an async function of this realm just returned: it is a promise
 * (the C++ `isPromise` is skipped); the rest still holds only for one of our Promise.prototype
 * nobody has given a `then` or `constructor` of its own.
 */
export function isOwnPromise(value: object): value is Promise<unknown> {
  return getPrototypeOf(value) === promisePrototype && !hasOwn.call(value, 'then') && !hasOwn.call(value, 'constructor');
}

export function isNativePromise(value: unknown): value is Promise<unknown> {
  return (
    isPromise(value) &&
    getPrototypeOf(value) === promisePrototype &&
    !hasOwn.call(value, 'then') &&
    !hasOwn.call(value, 'constructor')
  );
}

/**
 * The watch made last, while it needs finding: it is not stamped (see `watchOf`). Every
 * other watch that onInit may still need to find is stamped.
 */
let recent: Watch | undefined;

/**
 * A watched promise's watch. The one made last is kept in `recent` instead of a private
 * field on its promise: a caller that awaits (or `then`s) the promise does so right after
 * the wrapper returned it, before any other watched call, so onInit finds it there, and
 * its settle releases it before the next call makes a watch: in that common case no
 * promise is ever stamped (a property store and ~46 bytes a call, and no field on the
 * program's promise at all). A watch is stamped only when a newer one takes its place
 * while it is still pending or rejected unhandled (calls in flight together: `Promise.all`).
 */
function watchOf(promise: object): Watch | undefined {
  const last = recent;
  if (last !== undefined && last.promise === promise) return last;
  return Stamp.of(promise);
}

/**
 * Makes `watch` the recent one. The one it replaces gets its stamp: a recent watch is
 * always still needed (a settled one leaves `recent` in `settled`/`release`).
 */
function track(watch: Watch): void {
  const last = recent;
  if (last !== undefined) {
    last.stamped = true;
    Stamp.set(last.promise, last);
  }
  recent = watch;
}

/** A watch for `promise`, for the hooks in `matched` ([hook, token] pairs): a probe's call, whose frame (if any) is not the site's. */
export function watchPromise(promise: Promise<unknown>, matched: readonly unknown[], frame?: PushedFrame): void {
  if (watchOf(promise) !== undefined) {
    // Returned before and watched already: this call is over as far as the context goes.
    if (frame !== undefined) endFrame(frame);
    return;
  }
  startWatch(promise, matched, frame);
}

/**
 * A watch for the promise a site's call returned (`call`, its frame, holds the hooks that
 * took it: dispatch.ts). `fresh`: the promise was made by this very call (the original is
 * an async function), so it cannot be watched already.
 */
export function watchCall(promise: Promise<unknown>, call: PushedFrame, fresh: boolean): void {
  if (!fresh && watchOf(promise) !== undefined) {
    endFrame(call);
    return;
  }
  startWatch(promise, undefined, call);
}

function startWatch(promise: Promise<unknown>, matched: readonly unknown[] | undefined, frame: PushedFrame | undefined): void {
  const watch: Watch = { promise, matched, frame, handled: false, mirror: undefined, live: true, stamped: false, held: undefined };
  track(watch);
  if (pending++ === 0) {
    idleInits = 0;
    if (stopHook === undefined) stopHook = promiseHooks.onInit(onInit) as () => void;
  }
  attaching = true;
  try {
    then.call(
      promise,
      (value) => settled(watch, false, value),
      (reason) => settled(watch, true, reason),
    );
  } finally {
    attaching = false;
  }
}

function onInit(_child: Promise<unknown>, parent: Promise<unknown> | undefined): void {
  if (attaching) return;
  if (pending === 0) {
    // Nothing to notice: the hook outlives the last watch (see above) but not for long.
    if (++idleInits === IDLE_INITS) {
      try {
        queueMicrotaskOwn(idleUnhook);
      } catch {
        // The check phase's removal is still scheduled.
      }
    }
    return;
  }
  if (parent === undefined) return;
  const watch = watchOf(parent);
  if (watch === undefined || watch.handled) return;
  watch.handled = true;
  if (watch.mirror !== undefined) {
    // Rejected, reported unhandled (or about to be): Node hears of the handler through the mirror.
    handleMirror(watch.mirror);
    release(watch);
  }
}

function handleMirror(mirror: Promise<unknown>): void {
  attaching = true;
  try {
    then.call(mirror, undefined, noop);
  } finally {
    attaching = false;
  }
}

function settled(watch: Watch, rejected: boolean, value: unknown): void {
  const at = clock();
  const frame = watch.frame;
  if (frame !== undefined) endFrame(frame);
  // A site's call tells the hooks its frame holds, as dispatch.ts does at its end.
  const m = watch.matched ?? frame!.matched;
  if (m === undefined) {
    try {
      (frame!.hook as Settler).settle(frame!.token as object, rejected, value, at);
    } catch {
      // Hooks guard themselves.
    }
  } else {
    for (let i = 0; i < m.length; i += 2) {
      try {
        (m[i] as Settler).settle(m[i + 1] as object, rejected, value, at);
      } catch {
        // Hooks guard themselves.
      }
    }
  }
  if (rejected && !watch.handled) {
    // Node decides "unhandled" after the microtask queue drains, and hears of a handler
    // attached any time later: the watch stays (and the hook on) until the program
    // handles the original (onInit) or lets it be collected (the registry).
    attaching = true;
    try {
      watch.mirror = IntrinsicPromise.reject(value);
    } finally {
      attaching = false;
    }
    // The registry now counts it down if the promise is collected unhandled (the watch
    // itself, which holds the promise, is then unreachable too).
    const held = { live: true };
    watch.held = held;
    if (watch === recent) {
      // `recent` would keep the promise from the registry: it is found by its stamp instead.
      recent = undefined;
      watch.stamped = true;
      Stamp.set(watch.promise, watch);
    }
    watch.live = false;
    collected.register(watch.promise, held);
  } else {
    release(watch);
  }
}

/**
 * Forgets a settled promise at once: the watch holds the call's tokens and the promise
 * may live on in the program (a cached promise), and a fallback WeakMap holding many dead
 * entries makes every garbage collection slower (ephemeron processing).
 */
function release(watch: Watch): void {
  if (watch === recent) recent = undefined;
  else if (watch.stamped) {
    watch.stamped = false;
    Stamp.clear(watch.promise);
  }
  const held = watch.held;
  if (held !== undefined) {
    if (!held.live) return;
    held.live = false;
  } else {
    if (!watch.live) return;
    watch.live = false;
  }
  unhook();
}

function unhook(): void {
  if (--pending === 0 && stopHook !== undefined && !unhookScheduled) {
    unhookScheduled = true;
    try {
      // Unref'd: the hook never keeps the process alive.
      schedule(lateUnhook).unref();
    } catch {
      lateUnhook();
    }
  }
}

/** The idle count's removal: the check phase's, if scheduled, stays scheduled (and finds nothing to do). */
function idleUnhook(): void {
  if (pending === 0 && stopHook !== undefined) {
    stopHook();
    stopHook = undefined;
  }
}

function lateUnhook(): void {
  unhookScheduled = false;
  if (pending === 0 && stopHook !== undefined) {
    stopHook();
    stopHook = undefined;
  }
}

/** For tests: how many watched promises are pending (the hook is on while > 0). */
export function pendingWatches(): number {
  return pending;
}

/** For tests: whether V8's promise hook is installed (it outlives the last watch by one check phase). */
export function promiseHookOn(): boolean {
  return stopHook !== undefined;
}
