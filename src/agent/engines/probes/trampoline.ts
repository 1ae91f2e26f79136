/**
 * The trampoline: what a probe's breakpoint condition calls, on the main thread, in the
 * middle of the probed call.
 *
 * A probe's entry breakpoint sits on the function's first instruction with the condition
 * `globalThis[Symbol.for(KEY)].enter(id, this, arguments)` (an arrow's arguments are
 * rebuilt from its parameters, and it has no `this` of its own). `enter` runs the
 * hooks of the probe's site, exactly those a dispatch wrapper runs: each session's hook
 * tests its patterns and limits and, if the call is reported, snapshots the arguments
 * and the stack and gives back a token. Then `enter` returns false, so V8 never pauses
 * there. A call no session wants costs the condition and nothing else.
 *
 * How a reported call ends:
 * - A synchronous function also has a breakpoint on each of its return positions, with
 *   the condition `leave(id)`. When a reported call of that probe is open, `leave` finds
 *   it by the depth of the current frame (a recursive call is at another depth), and
 *   returns true: V8 pauses, the worker reads the returned value from the paused frame
 *   and hands it to `returned`, on this thread, then resumes. Only reported calls ever
 *   pause, and only so many a second (budget.pausesPerSecond): past that, a reported
 *   call is closed here with its duration and without its value. A call that throws never reaches a return position; its frame is gone, so
 *   it is closed as thrown when a shallower return of the same probe is seen, or at the
 *   next microtask checkpoint, which no synchronous call can outlive. That holds only
 *   while its return breakpoints are in place: a probe that cools (its hit budget) while
 *   a reported call of it is open keeps them until that call is over (`returnsHeld`),
 *   else a call that returned would be taken for a throw. Its thrown value
 *   is not visible to a probe: it is reported as a NotVisibleToProbe object.
 * - An async function's outcome is its promise, taken at entry (outer-promise.ts) and
 *   watched until it settles.
 *
 * A reported call of a synchronous probe is a parent, as a wrapper's call is: `enter`
 * opens its frame in the call-tree context (context.ts `openFrame`) for the rest of the
 * call, and the return that closes the call puts the caller's context back
 * (`closeFrame`); a call closed as thrown leaves a stale frame. What the call
 * schedules (promises, callbacks, an async callee's continuations) keeps its frame. An
 * async probe's call is no parent: the context would have to be put back where the
 * function first suspends, and no hook runs there after V8 has captured the context for
 * the continuation (its callees nest under the nearest enclosing traced call).
 *
 * What a hit costs is charged to the sessions tracing the function (`Hook#charge`), for
 * their overload breaker: the time spent here, measured, less what the sessions' hooks
 * measure themselves (capture and reporting), plus the compile of the
 * condition itself, which runs before any of this code and is measured once when the
 * Debugger comes on (condition.ts `calibrateCondition`), plus, for a pause, the time from the
 * condition that asked for it to the hand-over of the value (the program's thread is
 * held in the Debugger all along).
 *
 * Nothing here throws into the program: every entry point catches everything, and a
 * condition that failed anyway counts as false for V8 (no pause).
 */
import { clock } from '../../clock.js';
import type { Hook } from '../../patcher/dispatch.js';
import { checkpoint, closeFrame, openFrame } from '../../patcher/context.js';
import { engine } from '../../patcher/guard.js';
import { ArrayPrototypePush, SafeMap } from '../../../safe/intrinsics.js';
import { isNativePromise, watchPromise } from '../../patcher/promise-watch.js';
import { conditionCost, TRAMPOLINE_KEY } from './condition.js';
import { budget, charge, chargeMatched, SecondWindow } from './hit-budget.js';
import { NOT_VISIBLE, PARK_AFTER_MAX, type OpenCall, type ProbeRecord } from './probe-record.js';
import { frameDepth } from './frame-depth.js';
import { takeOuterPromise } from './outer-promise.js';

export { calibrateCondition, conditionCost, countCondition, entryCondition, exitCondition, TRAMPOLINE_KEY } from './condition.js';

const pauses = new SecondWindow();

/**
 * ns spent in the sessions' hooks, running total: a session measures its own capture
 * and reporting (session.ts), so a hit's charge leaves that part out.
 */
let hooksNs = 0;

/** clock() when a pause was asked for (leave returned true), for the pause's charge. */
let pauseAskedAt = 0;

const probes = new SafeMap<number, ProbeRecord>();
/** Counting breakpoints (the reach check's): what each one's condition calls. */
const counters = new SafeMap<number, () => void>();
/** Conditions of counting breakpoints run so far, counted or not (for tests and bench/reach.mjs). */
let countHits = 0;

export function countingHits(): number {
  return countHits;
}
let pending: { call: OpenCall; end: number } | undefined;
/**
 * A call that paused at its entry for its probe's return breakpoints to be set again,
 * until the worker says they are (`unparked`). Left at the next microtask checkpoint,
 * the pause never came (the worker stopped): its call is closed without an outcome
 * rather than taken for a throw, since no return breakpoint was there to see it return.
 */
let unparking: { probe: ProbeRecord; call: OpenCall } | undefined;
let sweepQueued = false;
/** How many trampoline calls are running (a condition, or a pause's value hand-over). */
let running = 0;

/**
 * True inside a condition or a pause. The worker can't be asked anything synchronously
 * then: the inspector would hold the request until the condition or the pause is over,
 * which is after the wait. A session that stops here (its max reached) has its probes
 * disarmed once the current call is over.
 */
export function insideProbe(): boolean {
  return running > 0;
}

export function registerProbe(probe: ProbeRecord): void {
  probes.set(probe.id, probe);
}

/** Its conditions run no hook from now on; a call of it still open ends untraced (its session has stopped). */
export function unregisterProbe(id: number): void {
  probes.delete(id);
  counters.delete(id);
}

/** `hit` runs, inside the condition, on each call that reaches counting breakpoint `id` (never from livetrace's own calls). */
export function registerCounter(id: number, hit: () => void): void {
  counters.set(id, hit);
}

/** Tells the hooks how a call ended; a returned native promise is watched until it settles. */
function complete(matched: (Hook | object)[], threw: boolean, value: unknown, start: number, end: number): void {
  const pending = !threw && isNativePromise(value);
  const h0 = clock();
  for (let i = 0; i < matched.length; i += 2) {
    try {
      (matched[i] as Hook).exit(matched[i + 1]!, threw, pending, value, start, end);
    } catch {
      // Hooks guard themselves; this keeps a bug from reaching the program.
    }
  }
  hooksNs += clock() - h0;
  if (pending) watchPromise(value as Promise<unknown>, matched);
}

function thrown(call: OpenCall, end: number): void {
  closeFrame(call.frame, false);
  complete(call.matched, true, NOT_VISIBLE, call.start, end);
}

/** Closes what no synchronous call can still be running: called at a microtask checkpoint. */
function sweep(): void {
  sweepQueued = false;
  try {
    const now = clock();
    if (pending !== undefined) {
      // The worker could not hand the value over (it stopped, or the pause was refused).
      const { call, end } = pending;
      pending = undefined;
      complete(call.matched, false, NOT_VISIBLE, call.start, end);
    }
    if (unparking !== undefined) unparkFailed();
    // forEach of the safe map: a for-of would go through the program's iterator protocol.
    probes.forEach((probe) => {
      if (probe.open.length > 0) {
        const open = probe.open;
        probe.open = [];
        for (let i = 0; i < open.length; i++) thrown(open[i]!, now);
      }
      releaseHeld(probe);
    });
    checkpoint();
  } catch {
    // Never into the program's microtask queue.
  }
}

/** The return breakpoints were not set again: the call that asked is closed with no outcome, the probe stays parked. */
function unparkFailed(): void {
  const { probe, call } = unparking!;
  unparking = undefined;
  probe.parked = true;
  const at = probe.open.indexOf(call);
  if (at === -1) return;
  probe.open.splice(at, 1);
  closeFrame(call.frame, false);
  complete(call.matched, false, NOT_VISIBLE, call.start, call.start);
}

/** A cooling probe with no call open any more lets its return breakpoints go. */
function releaseHeld(probe: ProbeRecord): void {
  if (!probe.returnsHeld || probe.open.length > 0) return;
  probe.returnsHeld = false;
  if (probe.cooling) probe.releaseReturns(probe);
}

function overBudget(probe: ProbeRecord): boolean {
  if (probe.hits.take(budget.hitsPerSecond)) {
    probe.cooling = false;
    return false;
  }
  if (!probe.cooling) {
    probe.cooling = true;
    probe.returnsHeld = probe.open.length > 0;
    probe.overBudget(probe);
  }
  return true;
}

/** The entry points the conditions call. Each returns whether V8 should pause. */
const trampoline = {
  enter(id: number, self: unknown, args: ArrayLike<unknown>): boolean {
    // livetrace's own calls are never traced (patcher/dispatch.ts).
    if (engine.busy !== 0) return false;
    running++;
    const began = clock();
    const hooksBefore = hooksNs;
    let probe: ProbeRecord | undefined;
    try {
      probe = probes.get(id);
      if (probe === undefined || overBudget(probe)) return false;
      const hooks = probe.site.state.hooks;
      if (hooks === null) return false;
      let matched: (Hook | object)[] | undefined;
      const h0 = clock();
      for (let i = 0; i < hooks.length; i++) {
        const hook = hooks[i]!;
        const token = hook.enter(self, args as unknown[], undefined);
        if (token !== undefined) ArrayPrototypePush((matched ??= []), hook, token);
      }
      hooksNs += clock() - h0;
      if (matched === undefined) return false;
      probe.idleReturns = 0;
      const start = clock();
      if (probe.async) {
        // Its duration is unknown (the call runs on after entry); its settle time is not.
        const promise = takeOuterPromise();
        complete(matched, false, promise !== undefined && isNativePromise(promise) ? promise : NOT_VISIBLE, start, start);
      } else if (probe.returns) {
        // The call's callees (and what it schedules) nest under it, as under a wrapper.
        const frame = openFrame(matched);
        const call: OpenCall = { matched, depth: frameDepth(), start, frame };
        ArrayPrototypePush(probe.open, call);
        if (!sweepQueued) {
          sweepQueued = true;
          queueMicrotask(sweep);
        }
        if (probe.parked && unparking === undefined) {
          // Pause here: the worker sets the return breakpoints before this call goes on.
          probe.parked = false;
          probe.parkAfter = Math.min(probe.parkAfter * 2, PARK_AFTER_MAX);
          unparking = { probe, call };
          pauseAskedAt = clock();
          return true;
        }
        if (probe.parked) {
          // Another probe's call is unparking (a nested call in its pause): this one can't.
          probe.open.pop();
          closeFrame(frame, false);
          complete(matched, false, NOT_VISIBLE, start, start);
        }
      } else {
        complete(matched, false, NOT_VISIBLE, start, start);
      }
    } catch {
      // Fall through: no pause.
    } finally {
      if (probe !== undefined) charge(probe.site, clock() - began - (hooksNs - hooksBefore) + conditionCost.ns);
      running--;
    }
    return false;
  },

  leave(id: number): boolean {
    if (engine.busy !== 0) return false;
    running++;
    const began = clock();
    const hooksBefore = hooksNs;
    let probe: ProbeRecord | undefined;
    try {
      probe = probes.get(id);
      if (probe === undefined) return false;
      if (probe.open.length === 0) {
        // No reported call is waiting for its return: this condition was for nothing.
        if (++probe.idleReturns >= probe.parkAfter && !probe.parked && !probe.cooling && !probe.returnsHeld) {
          probe.parked = true;
          probe.idleReturns = 0;
          probe.park(probe);
        }
        return false;
      }
      const depth = frameDepth();
      const open = probe.open;
      let at = open.length - 1;
      // Without a depth (frozen Error properties) the latest open call is taken.
      if (depth !== -1) while (at >= 0 && open[at]!.depth !== depth) at--;
      if (at < 0) return false;
      const end = clock();
      const call = open[at]!;
      // Calls at this depth or deeper that are still open lost their frames: they threw.
      const rest: OpenCall[] = [];
      for (let i = 0; i < open.length; i++) {
        const other = open[i]!;
        if (other === call) continue;
        if (depth !== -1 && other.depth >= depth) thrown(other, end);
        else ArrayPrototypePush(rest, other);
      }
      probe.open = rest;
      releaseHeld(probe);
      closeFrame(call.frame, true);
      if (pending !== undefined) complete(pending.call.matched, false, NOT_VISIBLE, pending.call.start, pending.end);
      if (!pauses.take(budget.pausesPerSecond)) {
        complete(call.matched, false, NOT_VISIBLE, call.start, end);
        return false;
      }
      pending = { call, end };
      pauseAskedAt = clock();
      return true;
    } catch {
      return false;
    } finally {
      if (probe !== undefined) charge(probe.site, clock() - began - (hooksNs - hooksBefore) + conditionCost.ns);
      running--;
    }
  },

  /** A counting breakpoint's condition: tells its counter, never pauses. */
  count(id: number): boolean {
    countHits++;
    if (engine.busy !== 0) return false;
    running++;
    try {
      counters.get(id)?.();
    } catch {
      // The counter guards itself; this keeps a bug from reaching the program.
    } finally {
      running--;
    }
    return false;
  },

  /** What `calibrateCondition` runs: the shape of a condition that takes no call. */
  noop(): boolean {
    return false;
  },

  /** The worker set the probe's return breakpoints again during the entry pause `enter` asked for (`ok` false: it could not). */
  unparked(id: number, ok: boolean): void {
    running++;
    try {
      const taken = unparking;
      if (taken === undefined || taken.probe.id !== id) return;
      chargeMatched(taken.call.matched, clock() - pauseAskedAt);
      if (ok) unparking = undefined;
      else unparkFailed();
    } catch {
      // Swept at the next microtask.
    } finally {
      running--;
    }
  },

  /** The worker hands over the value of the paused return. */
  returned(value: unknown): void {
    running++;
    try {
      const taken = pending;
      pending = undefined;
      if (taken === undefined) return;
      // The pause so far; its resume is one more message, not measured.
      chargeMatched(taken.call.matched, clock() - pauseAskedAt);
      complete(taken.call.matched, false, value, taken.call.start, taken.end);
    } catch {
      // The value stays unreported.
    } finally {
      running--;
    }
  },
};

export function installTrampoline(): void {
  const key = Symbol.for(TRAMPOLINE_KEY);
  if ((globalThis as Record<symbol, unknown>)[key] === trampoline) return;
  Object.defineProperty(globalThis, key, { value: trampoline, configurable: true, enumerable: false, writable: false });
}

/** For tests: reported calls of synchronous probes still waiting for their return. */
export function openCalls(): number {
  let n = 0;
  probes.forEach((probe) => {
    n += probe.open.length;
  });
  return n;
}
