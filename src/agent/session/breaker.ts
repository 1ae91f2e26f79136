/**
 * The overload breaker: livetrace's own time per session, against the session's budget.
 *
 * The session adds the wall-clock span of its own work for every call it reports (capture
 * at entry, post guard and capture at exit) and the probe engine every probe hit in full.
 * Once a second `overBudget()` compares the second's total with the budget. Wall-clock
 * spans on a loaded machine also hold time the thread waited for a core, which livetrace
 * did not spend: the total is scaled by the share of the second the process really ran
 * (its CPU time over the wall time), which estimates livetrace's own CPU time. A single
 * span past HARD_CEILING_MS ends the session at once, but only if the process ran that
 * much CPU since the last tick (a thread descheduled for 100 ms did not spend it). The CPU
 * is read once a tick and on the rare span past the ceiling, never per call.
 */
import { clock } from '../clock.js';

/** livetrace's own work for one call beyond this ends the session with 'overload' at once. */
export const HARD_CEILING_MS = 100;
const HARD_CEILING_NS = HARD_CEILING_MS * 1e6;

// Bound at load: an application's replacement never runs for it.
const cpuUsage = process.cpuUsage.bind(process);
/** CPU time (user and system) the process has used, in ns. */
function cpuNs(): number {
  const usage = cpuUsage();
  return (usage.user + usage.system) * 1000;
}

export class Breaker {
  /** livetrace's own ns since the last tick. */
  private spentNs = 0;
  private cpuAtTick = cpuNs();
  private clockAtTick = clock();

  /** `budgetNs`: own ns per second over which the session stops. */
  constructor(private readonly budgetNs: number) {}

  /**
   * Starts the first second over: the session's attach (a walk of every loaded module,
   * a compile per site, some 200 ms of CPU for the first session of a process under
   * coverage) is not a call's work, but counted since construction it let one call
   * descheduled for 100 ms on a loaded machine pass pastCeiling's CPU check and end
   * the session with 'overload' before it reported anything.
   */
  restart(): void {
    this.spentNs = 0;
    this.cpuAtTick = cpuNs();
    this.clockAtTick = clock();
  }

  add(ns: number): void {
    this.spentNs += ns;
  }

  /** One call's own cost (`ns`) passed the hard ceiling, and the process did run that long. */
  pastCeiling(ns: number): boolean {
    return ns > HARD_CEILING_NS && cpuNs() - this.cpuAtTick >= HARD_CEILING_NS;
  }

  /** Once a second: did the second's estimated own CPU time pass the budget? Starts the next second. */
  overBudget(): boolean {
    const cpu = cpuNs();
    const now = clock();
    const ran = cpu - this.cpuAtTick;
    const share = now > this.clockAtTick ? Math.min(1, ran / (now - this.clockAtTick)) : 1;
    this.cpuAtTick = cpu;
    this.clockAtTick = now;
    const over = this.spentNs * share > this.budgetNs;
    this.spentNs = 0;
    return over;
  }
}
