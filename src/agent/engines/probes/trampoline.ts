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
 *   next microtask checkpoint, which no synchronous call can outlive. Its thrown value
 *   is not visible to a probe: it is reported as a NotVisibleToProbe object.
 * - An async function's outcome is its promise, taken at entry (outer-promise.ts) and
 *   watched until it settles.
 *
 * Nothing here throws into the program: every entry point catches everything, and a
 * condition that failed anyway counts as false for V8 (no pause).
 */
import { clock } from '../../clock.js';
import type { Ending, Hook } from '../../patcher/dispatch.js';
import type { Site } from '../../patcher/site.js';
import { isNativePromise, watchPromise } from '../../patcher/promise-watch.js';
import { PROBE_SOURCE_URL } from '../../capture/stack.js';
import { frameDepth } from './frame-depth.js';
import { takeOuterPromise } from './outer-promise.js';
import { ArrayPrototypePush } from '../../../safe/intrinsics.js';

/** What a probe reports where it cannot see the value: a thrown value, or a return it missed. */
export class NotVisibleToProbe {}
const NOT_VISIBLE: NotVisibleToProbe = Object.freeze(new NotVisibleToProbe());

interface OpenCall {
  readonly matched: (Hook | object)[];
  readonly depth: number;
  readonly start: number;
}

export interface ProbeRecord {
  readonly id: number;
  /** The patcher site whose hooks the probe runs (the sessions tracing the function). */
  readonly site: Site;
  readonly async: boolean;
  /** The probe has return breakpoints (a synchronous function). */
  readonly returns: boolean;
  /** Called once when the probe goes over its hit budget. */
  readonly overBudget: (probe: ProbeRecord) => void;
  open: OpenCall[];
  readonly hits: SecondWindow;
  /** Over budget this second: the worker has been asked to take the breakpoints away. */
  cooling: boolean;
}

/**
 * Hits a probe may take per second before it is cooled, and pauses (to read a returned
 * value, about a millisecond and a half each) all probes may take per second; past
 * that, a reported call is reported without its value. 0: no limit.
 */
export const budget = { hitsPerSecond: 0, pausesPerSecond: 0 };

/** Counts events in windows of one second. */
export class SecondWindow {
  /** clock() when the current window began. */
  start = 0;
  private count = 0;

  /** Counts one event; true while this second's count is within `limit` (0: no limit). */
  take(limit: number): boolean {
    if (limit <= 0) return true;
    const now = clock();
    if (now - this.start >= 1e9) {
      this.start = now;
      this.count = 0;
    }
    return ++this.count <= limit;
  }
}

const pauses = new SecondWindow();

const probes = new Map<number, ProbeRecord>();
let pending: { call: OpenCall; end: number } | undefined;
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
}

/** Tells the hooks how a call ended; a returned native promise is watched until it settles. */
function complete(matched: (Hook | object)[], threw: boolean, value: unknown, start: number, end: number): void {
  const pending = !threw && isNativePromise(value);
  const ending: Ending = { threw, pending, value, start, end };
  for (let i = 0; i < matched.length; i += 2) {
    try {
      (matched[i] as Hook).exit(matched[i + 1]!, ending);
    } catch {
      // Hooks guard themselves; this keeps a bug from reaching the program.
    }
  }
  if (pending) watchPromise(value as Promise<unknown>, matched);
}

function thrown(call: OpenCall, end: number): void {
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
    for (const probe of probes.values()) {
      if (probe.open.length === 0) continue;
      const open = probe.open;
      probe.open = [];
      for (const call of open) thrown(call, now);
    }
  } catch {
    // Never into the program's microtask queue.
  }
}

function overBudget(probe: ProbeRecord): boolean {
  if (probe.hits.take(budget.hitsPerSecond)) {
    probe.cooling = false;
    return false;
  }
  if (!probe.cooling) {
    probe.cooling = true;
    probe.overBudget(probe);
  }
  return true;
}

/** The entry points the conditions call. Each returns whether V8 should pause. */
const trampoline = {
  enter(id: number, self: unknown, args: ArrayLike<unknown>): boolean {
    running++;
    try {
      const probe = probes.get(id);
      if (probe === undefined || overBudget(probe)) return false;
      const hooks = probe.site.state.hooks;
      if (hooks === null) return false;
      let matched: (Hook | object)[] | undefined;
      for (let i = 0; i < hooks.length; i++) {
        const hook = hooks[i]!;
        const token = hook.enter(self, args as unknown[], undefined);
        if (token !== undefined) ArrayPrototypePush((matched ??= []), hook, token);
      }
      if (matched === undefined) return false;
      const start = clock();
      if (probe.async) {
        // Its duration is unknown (the call runs on after entry); its settle time is not.
        const promise = takeOuterPromise();
        complete(matched, false, promise !== undefined && isNativePromise(promise) ? promise : NOT_VISIBLE, start, start);
      } else if (probe.returns) {
        ArrayPrototypePush(probe.open, { matched, depth: frameDepth(), start });
        if (!sweepQueued) {
          sweepQueued = true;
          queueMicrotask(sweep);
        }
      } else {
        complete(matched, false, NOT_VISIBLE, start, start);
      }
    } catch {
      // Fall through: no pause.
    } finally {
      running--;
    }
    return false;
  },

  leave(id: number): boolean {
    running++;
    try {
      const probe = probes.get(id);
      if (probe === undefined || probe.open.length === 0) return false;
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
      for (const other of open) {
        if (other === call) continue;
        if (depth !== -1 && other.depth >= depth) thrown(other, end);
        else ArrayPrototypePush(rest, other);
      }
      probe.open = rest;
      if (pending !== undefined) complete(pending.call.matched, false, NOT_VISIBLE, pending.call.start, pending.end);
      if (!pauses.take(budget.pausesPerSecond)) {
        complete(call.matched, false, NOT_VISIBLE, call.start, end);
        return false;
      }
      pending = { call, end };
      return true;
    } catch {
      return false;
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
      complete(taken.call.matched, false, value, taken.call.start, taken.end);
    } catch {
      // The value stays unreported.
    } finally {
      running--;
    }
  },
};

/**
 * Each copy of livetrace in a process (the ESM and the CommonJS build) has its own
 * trampoline and worker, so the key names this copy.
 */
export const TRAMPOLINE_KEY = `livetrace.probe.${process.pid}.${Math.random().toString(36).slice(2, 10)}`;

export function installTrampoline(): void {
  const key = Symbol.for(TRAMPOLINE_KEY);
  if ((globalThis as Record<symbol, unknown>)[key] === trampoline) return;
  Object.defineProperty(globalThis, key, { value: trampoline, configurable: true, enumerable: false, writable: false });
}

/** The condition of a probe's entry breakpoint. */
export function entryCondition(id: number, receiver: boolean, argsExpression: string): string {
  return `globalThis[Symbol.for(${JSON.stringify(TRAMPOLINE_KEY)})].enter(${id}, ${receiver ? 'this' : 'undefined'}, ${argsExpression})\n//# sourceURL=${PROBE_SOURCE_URL}`;
}

/** The condition of a probe's return breakpoints. */
export function exitCondition(id: number): string {
  return `globalThis[Symbol.for(${JSON.stringify(TRAMPOLINE_KEY)})].leave(${id})\n//# sourceURL=${PROBE_SOURCE_URL}`;
}

/** For tests: reported calls of synchronous probes still waiting for their return. */
export function openCalls(): number {
  let n = 0;
  for (const probe of probes.values()) n += probe.open.length;
  return n;
}
