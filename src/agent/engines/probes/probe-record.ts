/**
 * A probe as the trampoline sees it: the site whose hooks it runs, its reported calls still
 * open, and the state of its return breakpoints (cooling, held, parked). engine.ts makes
 * one per probed function; trampoline.ts reads and updates it on every hit.
 */
import type { Hook } from '../../patcher/dispatch.js';
import type { Site } from '../../patcher/site.js';
import type { PushedFrame } from '../../patcher/context.js';
import type { SecondWindow } from './hit-budget.js';

/** What a probe reports where it cannot see the value: a thrown value, or a return it missed. */
export class NotVisibleToProbe {}
export const NOT_VISIBLE: NotVisibleToProbe = Object.freeze(new NotVisibleToProbe());

export interface OpenCall {
  readonly matched: (Hook | object)[];
  readonly depth: number;
  readonly start: number;
  /** The call's frame in the call-tree context (it knows the context it replaced). */
  readonly frame: PushedFrame;
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
  /** Called when the calls that were open as the probe cooled are over (see `returnsHeld`). */
  readonly releaseReturns: (probe: ProbeRecord) => void;
  /** Called when the probe's return breakpoints are to be taken away (`parked`). */
  readonly park: (probe: ProbeRecord) => void;
  open: OpenCall[];
  readonly hits: SecondWindow;
  /** Over budget this second: the worker has been asked to take the breakpoints away. */
  cooling: boolean;
  /**
   * It cooled while reported calls of it were open: its return breakpoints stay until
   * those calls are over, since a call that never meets its return is taken for a throw.
   */
  returnsHeld: boolean;
  /**
   * Its return breakpoints are away: their conditions ran `parkAfter` times in a row
   * with no reported call open (the sessions reject its calls). The next call a session
   * takes pauses at its entry, where the worker sets them again (`unparked`).
   */
  parked: boolean;
  /** Return conditions run in a row with no reported call open. */
  idleReturns: number;
  /** Idle returns that park the return breakpoints; doubled at each unpark, so a probe that keeps taking a call now and then stops pausing for it. */
  parkAfter: number;
}

/** Idle returns that first park a probe's return breakpoints, and the most it grows to. */
export const PARK_AFTER = 8;
export const PARK_AFTER_MAX = 4096;

