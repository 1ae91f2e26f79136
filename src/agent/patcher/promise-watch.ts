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
 * reported the original. If the program attaches a handler to the original later in the
 * same turn, the hook marks the mirror handled too, as Node would have.
 *
 * Only native promises whose prototype is the intrinsic Promise.prototype are watched:
 * reacting to a subclass instance would run its constructor (species), and a foreign
 * thenable (a lazy query builder) must never be `.then`ed. Those are reported as plain
 * return values. The promise hook is installed only while something is pending, so it
 * costs nothing when no traced async call is in flight.
 *
 * One known limit: a promise that was already rejected and handled elsewhere before a
 * traced function returned it (a cached rejected promise) and that the caller ignores
 * is reported once more as unhandled. Node keeps no public record of "handled".
 */
import { types } from 'node:util';
import { promiseHooks } from 'node:v8';
import { clock } from '../clock.js';

interface Settler {
  settle(token: object, rejected: boolean, value: unknown, at: number): void;
}

interface Watch {
  readonly promise: Promise<unknown>;
  readonly matched: readonly unknown[];
  handled: boolean;
  mirror: Promise<unknown> | undefined;
}

const IntrinsicPromise = Promise;
const isPromise = types.isPromise;
const promisePrototype = Promise.prototype;
const then = Promise.prototype.then;
const getPrototypeOf = Object.getPrototypeOf;
const hasOwn = Object.prototype.hasOwnProperty;
const noop = (): void => {};

const watches = new WeakMap<object, Watch>();
let pending = 0;
let stopHook: (() => void) | undefined;
/** True while we attach our own reactions, so the hook ignores them. */
let attaching = false;

export function isNativePromise(value: unknown): value is Promise<unknown> {
  return (
    isPromise(value) &&
    getPrototypeOf(value) === promisePrototype &&
    !hasOwn.call(value, 'then') &&
    !hasOwn.call(value, 'constructor')
  );
}

export function watchPromise(promise: Promise<unknown>, matched: readonly unknown[]): void {
  if (watches.has(promise)) return;
  const watch: Watch = { promise, matched, handled: false, mirror: undefined };
  watches.set(promise, watch);
  if (pending++ === 0) stopHook = promiseHooks.onInit(onInit) as () => void;
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
  if (attaching || parent === undefined) return;
  const watch = watches.get(parent);
  if (watch === undefined || watch.handled) return;
  watch.handled = true;
  if (watch.mirror !== undefined) handleMirror(watch.mirror);
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
  const m = watch.matched;
  for (let i = 0; i < m.length; i += 2) {
    try {
      (m[i] as Settler).settle(m[i + 1] as object, rejected, value, at);
    } catch {
      // Hooks guard themselves.
    }
  }
  if (rejected && !watch.handled) {
    // Node checks for unhandled rejections after the microtask queue drains; keep the
    // hook until then so a handler attached later in this turn still counts.
    attaching = true;
    try {
      watch.mirror = IntrinsicPromise.reject(value);
    } finally {
      attaching = false;
    }
    setImmediate(() => release(watch)).unref();
  } else {
    release(watch);
  }
}

/**
 * Forgets a settled promise at once: a WeakMap holding many dead entries makes every
 * garbage collection slower (ephemeron processing), and a hot async function can leave
 * thousands between two collections.
 */
function release(watch: Watch): void {
  watches.delete(watch.promise);
  if (--pending === 0 && stopHook !== undefined) {
    stopHook();
    stopHook = undefined;
  }
}

/** For tests: how many watched promises are pending (the hook is on while > 0). */
export function pendingWatches(): number {
  return pending;
}
