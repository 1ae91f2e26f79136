/**
 * The overload breaker: livetrace's own time per session, against the session's budget.
 *
 * The session adds the wall-clock span of its own work for every call it reports (capture
 * at entry, post guard and capture at exit) and the probe engine every probe hit in full.
 * Once a second `overBudget()` takes the second's total. Wall-clock spans on a loaded
 * machine also hold time the thread waited for a core, which livetrace did not spend: the
 * total is scaled by the share of the second the process really ran (its CPU time over
 * the wall time), which estimates livetrace's own CPU time. A single span past
 * HARD_CEILING_MS, scaled the same way by the share of the second so far, ends the
 * session at once, but only if the process ran that much CPU since the last tick (a
 * thread descheduled for 100 ms did not spend it). The CPU is read once a tick and on
 * the rare span past the ceiling, never per call.
 *
 * The budget (`--cpu-budget N`, ms a second) is a long-run rate with a bounded burst, a
 * token bucket: each second refills N, holds at most BURST_SECONDS x N over what the
 * seconds used, and the session stops once a second spends more than the bucket holds.
 * Put the other way round: any k consecutive seconds may spend at most k x N + BURST x N,
 * so over a long stream livetrace's own time tends to N a second, and no stretch passes
 * it by more than the burst. On top, one second alone may never spend more than
 * CEILING_SECONDS x N: a runaway stops at the first tick whatever the bucket holds.
 *
 * Why not a plain per-second check (the rule until December 2026): the first second of a
 * `--rate off` stream charged 120-260 ms at the default budget of 50 (the capture path's
 * warm-up before the optimizing compiler, inline caches filling, the first collections
 * of a heap that fills with queued records), the later seconds 40-55; a per-second check
 * stopped every such stream after its first second although its long-run cost was
 * within the budget. The burst (6 x N: 300 ms at the default) covers the warm-up second
 * measured (up to 260 ms on a quiet machine, once the stream's encoders got faster and more
 * calls were captured in it); the ceiling (7 x N) is the most any one second may cost, the
 * bucket's own bound when it is full, and lower as soon as earlier seconds drew on it.
 */
import { clock } from '../clock.js';

/** livetrace's own work for one call beyond this ends the session with 'overload' at once. */
export const HARD_CEILING_MS = 100;
const HARD_CEILING_NS = HARD_CEILING_MS * 1e6;
/** The bucket's depth over the rate, in seconds of budget: a burst of at most this x N ms. */
export const BURST_SECONDS = 6;
/** No single second may spend more than this x N ms, whatever the bucket holds. */
export const CEILING_SECONDS = 7;

// Bound at load: an application's replacement never runs for it.
const cpuUsage = process.cpuUsage.bind(process);
/** CPU time (user and system) the process has used, in ns. */
function cpuNs(): number {
  const usage = cpuUsage();
  return (usage.user + usage.system) * 1000;
}

/** The breaker's two readings, apart for the tests: the process's CPU time and the clock, in ns. */
export interface Readings {
  cpu(): number;
  clock(): number;
}
const REAL: Readings = { cpu: cpuNs, clock };

/** ns as whole ms, for a stop's detail. */
const ms = (ns: number): number => Math.round(ns / 1e6);

export class Breaker {
  /** livetrace's own ns since the last tick. */
  private spentNs = 0;
  private cpuAtTick: number;
  private clockAtTick: number;
  /** Estimated own ns over the rate, carried from second to second (never below 0). */
  private debtNs = 0;
  /** The stretch of seconds since the debt was last 0: their own ns and their count (for the detail). */
  private stretchNs = 0;
  private stretchSeconds = 0;
  /** The last tick's estimate of its second's own ns (for the session's debug log). */
  lastSecondNs = 0;

  /** `budgetNs`: own ns a second, the long-run rate. */
  constructor(
    private readonly budgetNs: number,
    private readonly read: Readings = REAL,
  ) {
    this.cpuAtTick = read.cpu();
    this.clockAtTick = read.clock();
  }

  /**
   * Starts the first second over: the session's attach (a walk of every loaded module,
   * a compile per site, some 200 ms of CPU for the first session of a process under
   * coverage) is not a call's work, but counted since construction it let one call
   * descheduled for 100 ms on a loaded machine pass pastCeiling's CPU check and end
   * the session with 'overload' before it reported anything.
   */
  restart(): void {
    this.spentNs = 0;
    this.cpuAtTick = this.read.cpu();
    this.clockAtTick = this.read.clock();
    this.debtNs = 0;
    this.stretchNs = 0;
    this.stretchSeconds = 0;
  }

  add(ns: number): void {
    this.spentNs += ns;
  }

  /**
   * One call's own cost (`ns`, a wall-clock span) passed the hard ceiling: returns the
   * stop's detail, else undefined. The span is scaled by the share of the second so far
   * the process ran, as a second's total is at the tick, and the process must have run
   * that much CPU since the tick: a call whose thread waited 100 ms for a core (a
   * spinning target at load 15 did) did not spend it. Read only for a span past the
   * ceiling, never per call.
   */
  pastCeiling(ns: number): string | undefined {
    if (ns <= HARD_CEILING_NS) return undefined;
    const ran = this.read.cpu() - this.cpuAtTick;
    const wall = this.read.clock() - this.clockAtTick;
    const own = wall > 0 ? ns * Math.min(1, ran / wall) : ns;
    if (own <= HARD_CEILING_NS || ran < HARD_CEILING_NS) return undefined;
    return `overload: ${ms(own)} ms of livetrace's own time in one call (ceiling ${HARD_CEILING_MS})`;
  }

  /**
   * Once a second: the second's estimated own time against the ceiling and the bucket.
   * Returns the stop's detail (which bound tripped, with the figures) when the session
   * must stop, else undefined. Starts the next second.
   */
  overBudget(): string | undefined {
    const cpu = this.read.cpu();
    const now = this.read.clock();
    const ran = cpu - this.cpuAtTick;
    const share = now > this.clockAtTick ? Math.min(1, ran / (now - this.clockAtTick)) : 1;
    this.cpuAtTick = cpu;
    this.clockAtTick = now;
    const second = this.spentNs * share;
    this.spentNs = 0;
    this.lastSecondNs = second;
    const budget = this.budgetNs;
    if (second > CEILING_SECONDS * budget) {
      return `overload: ${ms(second)} ms of livetrace's own time in 1 s (ceiling ${ms(CEILING_SECONDS * budget)})`;
    }
    this.debtNs += second - budget;
    this.stretchNs += second;
    this.stretchSeconds++;
    if (this.debtNs <= 0) {
      this.debtNs = 0;
      this.stretchNs = 0;
      this.stretchSeconds = 0;
      return undefined;
    }
    if (this.debtNs <= BURST_SECONDS * budget) return undefined;
    const k = this.stretchSeconds;
    return `overload: ${ms(this.stretchNs)} ms of livetrace's own time in ${k} s (budget ${k} x ${ms(budget)} + burst ${ms(BURST_SECONDS * budget)} = ${ms((k + BURST_SECONDS) * budget)})`;
  }
}
