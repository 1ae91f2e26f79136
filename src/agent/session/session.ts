/**
 * A session is one trace: its patterns, its limits, its queue of records, its hooks.
 *
 * How it stays safe, in the order a call meets it:
 * - The site's wrapper asks each session's hook `enter`. A stopped session has no hooks
 *   left; a running one first runs the compiled pre-test (arity, argument patterns,
 *   pre-guard), which rejects without allocating and never runs user code.
 * - A call that matches is counted, then must pass the limits before anything is
 *   captured: `max` (calls admitted), the rate (a timer-refilled budget, so a dropped
 *   call costs a decrement), and the session's state. Only then are arguments
 *   snapshotted, the stack taken, and the clock read (by the site).
 * - A pattern with a post-guard (`when ms > 100`, `when threw`) must snapshot the
 *   arguments of every call that passes the pre-test, since it can only decide after
 *   the call; its limits are applied when the post-guard passes.
 * - Records go to a queue bounded in events and bytes; over either bound new records
 *   are dropped and counted, so memory stays bounded when nobody reads.
 * - The engine's own time is measured for every call it reports (the exit's part on one
 *   call in TIMED_EVERY and on every heavy one, the others charged the measured exits'
 *   mean) and for every probe hit (`charge`); the overload breaker
 *   (breaker.ts) stops the session with 'overload' when the seconds' totals pass the budget
 *   (a long-run rate with a bounded burst, and a ceiling for any one second), or one call
 *   passes HARD_CEILING_MS. Calls
 *   dropped before capture (pre-test, max, a full queue, rate) are not timed: they cost a
 *   compare or a decrement, and matching runs in bounded time (linear regexes only).
 * - Expiry and every other timer run inside the process and are unref'd: a session ends
 *   on time even if nobody reads it, and never keeps the process alive. A timer cannot
 *   fire while the application runs synchronous code, so the deadline is also checked
 *   whenever a call is about to be reported: past it, the session stops with 'time'
 *   then and there, and the call is not reported.
 * Stopping removes every hook (restoring originals) before `stop()` resolves; calls
 * still in flight then finish untraced.
 */
import type { AddedRecord, CallEvent, CallOutcome, FunctionStats, MatchedFunction, SessionRecord, SessionStats, StopReason, UnpatchableFunction } from '../../protocol/events.js';
import { LivetraceError, toLivetraceError } from '../../protocol/errors.js';
import { resolveOptions, type ResolvedOptions, type TraceOptions } from '../../protocol/options.js';
import type { Bindings, Matcher } from '../../pattern/match/matcher.js';
import { aggregating, Aggregator, reportsCalls } from './aggregate.js';
import { Capturer } from '../capture/capturer.js';
import { clock, wallTime } from '../clock.js';
import { enclosing, enclosingDepth } from '../patcher/context.js';
import { RateLimiter } from './limiter.js';
import { log } from '../log.js';
import { IN_LOADER_THREAD } from '../thread.js';
import { onModulesLoaded } from '../catalog/module-watch.js';
import { SessionHooks, type HookOwner, type Hooked, type SessionHook, type Token } from './hooks.js';
import { SessionReach } from './reach.js';
import { RecordQueue } from './queue.js';
import { addedRecord, noteRecord, RECORD_PID, startedRecord, statsRecord, stoppedRecord } from './records.js';
import { AsyncParents } from './async-parents.js';
import { callEvent, entryToken, RECORD_OVERHEAD_BYTES } from './call.js';
import { loaderThreadRecords } from './loader-thread.js';
import { readRecords } from './reader.js';
import { Tally } from './tally.js';
import { releaseShared, shareWithThreads, unshareWithThreads } from '../threads/relay.js';
import { ThreadAccounts, ThreadStats, type ThreadAccount } from './thread-accounts.js';
import { Breaker, HARD_CEILING_MS } from './breaker.js';
import { Schedule } from './schedule.js';
import { engine, sessionStarted, sessionStopped } from './registry.js';
import type { TraceSession } from './trace-session.js';

export type { TraceOptions } from '../../protocol/options.js';
export type { TraceSession } from './trace-session.js';
export { activeSessions, engine } from './registry.js';

export { HARD_CEILING_MS } from './breaker.js';
const HARD_CEILING_NS = HARD_CEILING_MS * 1e6;

/**
 * One reported call in this many has the exit part of its own time measured with the
 * clock (so does every call with a stack or a cut or large capture); the others are
 * charged the measured exits' running mean. A clock read costs about 60 ns on this
 * machine, and measuring every exit took a fourth read per reported call (after the
 * reading before the entry's capture, the call's start and its end), more than half the
 * rest of the exit's work. The entry part likewise: measured (a read before its capture)
 * on one call in TIMED_EVERY and on every call whose capture could take long (lightEntry
 * says which cannot), the others charged the measured entries' mean. A call that is only
 * timed (`hist`) thus reads the clock twice, for its start and its end, and nothing else.
 */
const TIMED_EVERY = 16;
/** A timed exit longer than this (1 ms) is not a sample of what exits cost: see ownTime. */
const MEAN_SAMPLE_MAX_NS = 1_000_000;
/** Captured bytes (entry and exit) over which an exit is measured whatever its turn. */
const TIMED_BYTES = 2048;
/** How long a stopping `count`/`hist` session waits for its workers' final figures (thread-accounts.ts ThreadStats), ms. */
const THREAD_FINAL_WAIT_MS = 500;

let nextSessionNumber = 1;

/** Longest string argument whose capture counts as light (bounded by the string limits anyway). */
const LIGHT_STRING = 1024;

/**
 * Whether capturing a call's entry is light whatever the call: nothing captured
 * (`aggregate`), or a few primitive arguments, no `this`, no stack. Such an entry's time
 * is sampled (snapshot); any other is measured every time.
 */
function lightEntry(matcher: Matcher, stack: boolean, aggregate: boolean, args: unknown[]): boolean {
  if (aggregate) return true;
  if (stack || matcher.actions.stack || matcher.actions.this || args.length > 8) return false;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    const type = typeof arg;
    if (type === 'string' ? (arg as string).length > LIGHT_STRING : type === 'function' || (type === 'object' && arg !== null)) return false;
  }
  return true;
}

/** Starts a session. Throws LivetraceError for a bad pattern or option, or a pattern that matches nothing. */
export function trace(patterns: string | string[], options: TraceOptions = {}): Session {
  return new Session(Array.isArray(patterns) ? patterns : [patterns], options);
}

/** The library hands this class out typed as TraceSession: `admit`, `exit` and `settle` are its hooks' business. */
export class Session implements TraceSession, HookOwner {
  readonly id: string;
  private readonly options: ResolvedOptions;
  private readonly hooks: SessionHooks;
  private readonly capturer: Capturer;
  private readonly limiter: RateLimiter;
  private readonly aggregator = new Aggregator();
  private readonly queue: RecordQueue;
  private readonly startedAt = clock();
  private readonly unwatchModules: () => void;

  private running = true;
  /** Reported calls until the next one whose exit is timed (ownTime). */
  private untimed = 0;
  /** Running mean of a timed exit's own ns: what an untimed exit is charged. */
  private meanExitNs = 0;
  private measuredExits = 0;
  /** Admitted calls until the next light one whose entry is timed (snapshot). */
  private untimedEntries = 0;
  /** Running mean of a timed light entry's own ns: what an untimed entry is charged. */
  private meanEntryNs = 0;
  private measuredEntries = 0;
  private stopReasonValue: StopReason | null = null;
  private admitted = 0;
  private readonly tally = new Tally();
  private readonly threads = new ThreadAccounts();
  private readonly threadStats = new ThreadStats();
  /** Stopped, waiting for the workers' final figures before the final 'stats' and 'stopped' records. */
  private finishing = false;
  /** Resolves once the 'stopped' record is queued. */
  private finished: Promise<void> = Promise.resolve();
  private readonly breaker: Breaker;
  /** Which bound of the breaker stopped the session, with its figures (breaker.ts). */
  private overloadDetail: string | undefined;
  /** The deadline, the expiry and the tick (schedule.ts). */
  private readonly schedule: Schedule;
  /** Hooks of the exports engine whose reach is still to be checked (flushed after their record). */
  private readonly reach: SessionReach;
  /** The async call-tree context, held once the session traces two functions (async-parents.ts). */
  private readonly asyncParents: AsyncParents;

  constructor(patterns: string[], options: TraceOptions) {
    this.options = resolveOptions(options);
    this.id = `${RECORD_PID}-${nextSessionNumber++}`;
    this.capturer = new Capturer(this.options.capture);
    this.queue = new RecordQueue(this.options.queueEvents, this.options.queueBytes);
    this.breaker = new Breaker(this.options.overloadMsPerSec * 1e6);
    this.schedule = new Schedule(this.startedAt, this.options.forMs);
    this.asyncParents = new AsyncParents(this.options.parents);
    this.reach = new SessionReach({
      id: this.id,
      running: () => this.running,
      hooks: () => this.hooks,
      push: (record) => this.queue.push(record, 0, true),
      internalError: (error, doing) => this.internalError(error, doing),
    });
    this.hooks = new SessionHooks(this, this.options, this.capturer.redactor, (hooks) => this.reach.hooked(hooks));
    if (IN_LOADER_THREAD) {
      // Inert (loader-thread.ts).
      this.limiter = new RateLimiter(this.options.rate.count, this.options.rate.perMs);
      this.limiter.close();
      this.unwatchModules = () => {};
      this.running = false;
      this.stopReasonValue = 'error';
      for (const record of loaderThreadRecords(this.id, wallTime(this.startedAt), this.hooks, this.options, patterns, () => this.stats)) this.queue.push(record, 0, true);
      return;
    }
    // Before the hooks: a site asks for the limiter as its gate when a hook is added.
    this.limiter = new RateLimiter(this.options.rate.count, this.options.rate.perMs);
    let attached: Hooked;
    try {
      attached = this.hooks.attach(patterns, true);
    } catch (error) {
      this.limiter.close();
      throw error;
    }
    const { matched, unpatchable } = attached;
    this.breaker.restart();
    this.asyncParents.update(this.running, this.hooks.matched.length, reportsCalls(this.hooks.matchers));
    sessionStarted(this);
    this.unwatchModules = onModulesLoaded((files) => this.modulesLoaded(files.map((f) => f.filename)));
    this.schedule.start(() => this.expire(), () => this.tick());
    this.queue.push(startedRecord(this.id, wallTime(this.startedAt), this.hooks, { matched, unpatchable }, this.options), 0, true);
    this.reach.check();
    shareWithThreads(this, options);
  }

  get patterns(): string[] {
    return this.hooks.patterns;
  }

  get matched(): MatchedFunction[] {
    return [...this.hooks.matched];
  }

  get unpatchable(): UnpatchableFunction[] {
    return [...this.hooks.unpatchable];
  }

  get stopped(): boolean {
    return !this.running;
  }

  /** Stopped, and every record taken. */
  get ended(): boolean {
    return !this.running && !this.finishing && this.queue.empty;
  }

  get stats(): SessionStats {
    this.takeGateDrops();
    const stats = this.tally.stats(this.stopReasonValue, this.startedAt, this.hooks.matchers);
    // The workers' `count`/`hist` calls are reported as the main thread's own are: aggregated.
    stats.reported += this.threadStats.aggregated();
    return stats;
  }

  /** Adds patterns to the running session ("one level deeper"). */
  add(patterns: string | string[]): AddedRecord {
    if (!this.running) {
      throw new LivetraceError('LT_SESSION_STOPPED', `session ${this.id} has stopped (${this.stopReasonValue})`, { input: this.id });
    }
    const list = Array.isArray(patterns) ? patterns : [patterns];
    const record = addedRecord(this.id, list, this.hooks.attach(list, false));
    this.asyncParents.update(this.running, this.hooks.matched.length, reportsCalls(this.hooks.matchers));
    this.queue.push(record, 0, true);
    this.reach.check();
    shareWithThreads(this, {});
    return record;
  }

  /**
   * Ends the session; its patches are gone when this resolves, and its 'stopped' record
   * queued (a `count`/`hist` session that ran in worker threads first waits a little for
   * their final figures: THREAD_FINAL_WAIT_MS). Idempotent.
   */
  stop(reason: StopReason = 'user'): Promise<void> {
    if (!this.running) return this.finished;
    this.running = false;
    this.stopReasonValue = reason;
    engine.busy++;
    try {
      // Each step on its own: one that fails (a bug, a built-in the application replaced)
      // must not leave hooks installed, timers running or the 'stopped' record unsent.
      this.step('removing a hook', () => this.hooks.removeAll((error) => this.internalError(error, 'removing a hook')));
      this.schedule.clear();
      this.step('ending the reach check', () => this.reach.stop());
      this.step('closing the rate limiter', () => this.limiter.close());
      this.step('unwatching modules', () => this.unwatchModules());
      this.step('releasing the call context', () => this.asyncParents.release());
      this.step('unregistering', () => sessionStopped(this));
      this.step('stopping in worker threads', () => unshareWithThreads(this.id));
      const waitFor = aggregating(this.hooks.matchers) ? this.threadStats.pending(this.threads.running()) : [];
      if (waitFor.length === 0) this.finish(reason);
      else {
        this.finishing = true;
        this.finished = this.threadStats.settled(waitFor, THREAD_FINAL_WAIT_MS).then(() => {
          this.finishing = false;
          engine.busy++;
          try {
            this.finish(reason);
          } finally {
            engine.busy--;
          }
        });
      }
    } finally {
      engine.busy--;
    }
    return this.finished;
  }

  /** The last records: drops, the final stats, 'stopped'. */
  private finish(reason: StopReason): void {
    this.step('forgetting worker threads', () => releaseShared(this.id));
    this.step('reporting drops', () => this.reportDrops());
    if (aggregating(this.hooks.matchers)) this.step('reporting stats', () => this.queue.push(this.statsRecord(true), 0, true));
    this.queue.push(stoppedRecord(this.id, reason, this.options, this.stats, reason === 'overload' ? this.overloadDetail : undefined, this.threads.ends()), 0, true);
  }

  /** The session's table: this thread's calls and every worker's (thread-accounts.ts ThreadStats). */
  private statsRecord(final: boolean): SessionRecord {
    const own = this.aggregator.snapshot();
    if (this.threadStats.size === 0) return statsRecord(this.id, final, own);
    const threads = [{ thread: 0, functions: own }, ...this.threadStats.byThread()].filter((t) => t.functions.length > 0);
    return statsRecord(this.id, final, this.threadStats.merged(own), threads);
  }

  private step(doing: string, work: () => void): void {
    try {
      work();
    } catch (error) {
      this.internalError(error, doing);
    }
  }

  /** Queued records, without waiting. The first is 'started', the last 'stopped'. */
  take(max = Infinity): SessionRecord[] {
    return this.queue.take(max);
  }

  /** Resolves when `take()` has something, or the session is over and drained. */
  readable(): Promise<void> {
    return this.queue.readable(this.running || this.finishing);
  }

  /** `for await` over the records (reader.ts); leaving the loop early ends the session. */
  [Symbol.asyncIterator](): AsyncGenerator<SessionRecord, void, undefined> {
    return readRecords(this);
  }

  // -------------------------------------------------------------------------------------
  // Hot path (called from hooks)

  admit(hook: SessionHook, matcher: Matcher, bindings: Bindings, self: unknown, args: unknown[]): Token | undefined {
    if (!this.running) return undefined;
    this.tally.calls++;
    const aggregate = matcher.actions.count || matcher.actions.hist;
    // Limits are taken here unless a post-guard decides after the call (complete()).
    if (matcher.post === undefined && !aggregate && !this.takeSlot()) return undefined;
    return this.snapshot(hook, matcher, bindings, self, args, aggregate);
  }

  /** The capture half of `admit`, kept apart so the drop path above stays small enough to inline. */
  private snapshot(hook: SessionHook, matcher: Matcher, bindings: Bindings, self: unknown, args: unknown[], aggregate: boolean): Token | undefined {
    engine.busy++;
    try {
      // An untimed entry skips the deadline check too: the exit makes it, before reporting.
      let t0: number | undefined;
      if (--this.untimedEntries < 0 || !lightEntry(matcher, this.options.stack, aggregate, args)) {
        if (this.untimedEntries < 0) this.untimedEntries = TIMED_EVERY - 1;
        t0 = clock();
        if (this.schedule.past(t0)) {
          this.expire();
          return undefined;
        }
      }
      // A call that is only counted or timed is reported in no call record: it has no use for a parent.
      const parent = this.options.parents && !aggregate ? enclosing(this) : -1;
      const token = entryToken(this.capturer, this.options, hook, matcher, bindings, self, args, parent, parent === -1 ? 0 : enclosingDepth(), aggregate);
      // The entry's own time ends at the call's start, which the site reads next (ownTime); undefined: untimed.
      if (t0 !== undefined) token.enteredAt = t0;
      return this.running ? token : undefined;
    } catch (error) {
      this.internalError(error, 'capturing a call');
      return undefined;
    } finally {
      engine.busy--;
    }
  }

  exit(token: Token, threw: boolean, pending: boolean, value: unknown, start: number, end: number): void {
    if (!this.running) return;
    if (pending) {
      token.start = start;
      token.end = end;
      return;
    }
    this.complete(token, threw ? 'throw' : 'return', value, end - start, undefined, start, end);
  }

  /** A call a worker thread's session reported (threads/relay.ts), queued as this session's. */
  relayed(event: CallEvent, bytes: number): void {
    if (!this.running) return;
    if (this.queue.push(event, bytes, false)) this.tally.reported++;
    else this.tally.dropped.queue++;
    if (this.tally.reported >= this.options.max) void this.stop('max');
  }

  /** A worker thread's figures for this session (threads/relay.ts), counted in; its own end is told in a note (thread-accounts.ts). */
  relayedAccount(thread: number, account: ThreadAccount): void {
    if (!this.running && !this.finishing) return;
    const note = this.threads.apply(this.tally, thread, account);
    if (note !== undefined && this.running) this.queue.push(noteRecord(this.id, 'thread-stopped', note), 0, true);
  }

  /** A worker thread's `count`/`hist` figures for this session (threads/relay.ts), merged into its stats records. */
  relayedStats(thread: number, functions: FunctionStats[], final: boolean): void {
    if (this.running || this.finishing) this.threadStats.apply(thread, functions, final);
  }

  /** A worker thread is exiting (threads/relay.ts): its final figures are not awaited. */
  threadGone(thread: number): void {
    this.threadStats.exited(thread);
  }

  charge(ns: number): void {
    if (this.running) this.breaker.add(ns);
  }

  /**
   * The limiter, as the gate of a site whose one hook is this session's with the one
   * pattern `matcher` taking every call: a call it drops is one `admit` would drop over
   * the rate (counted as matched and dropped). Not with `trip` (a drop stops the session
   * instead), nor for a pattern that aggregates or has a post-guard (those pass the rate
   * later or never). Once the queue is full or `max` reached, a call the gate drops is
   * counted as over the rate rather than as a queue drop or not at all.
   */
  gate(matcher: Matcher): RateLimiter | undefined {
    if (!this.running || this.options.trip || matcher.post !== undefined || matcher.actions.count || matcher.actions.hist) return undefined;
    return this.limiter;
  }

  settle(token: Token, rejected: boolean, value: unknown, at: number): void {
    const start = token.start;
    const end = token.end;
    if (!this.running || end === undefined) return;
    this.complete(token, rejected ? 'reject' : 'resolve', value, end - start, at - start, start, at);
  }

  /** `now`: the site's clock reading at the call's end (or settle), just taken: it starts this part's own time too, without a read of its own. */
  private complete(token: Token, outcome: CallOutcome, value: unknown, durationNs: number, settleNs: number | undefined, start: number, now: number): void {
    engine.busy++;
    const t0 = now;
    let accounted = false;
    try {
      if (this.schedule.past(t0)) {
        this.expire();
        return;
      }
      const failed = outcome === 'throw' || outcome === 'reject';
      const post = token.matcher.post;
      if (post !== undefined) {
        const ms = (settleNs ?? durationNs) / 1e6;
        const ok = post(token.bindings, { ret: failed ? undefined : value, err: failed ? value : undefined, threw: failed, ms });
        if (!ok) return;
        if (!token.aggregate && !this.takeSlot()) return;
      }
      if (token.aggregate) {
        this.aggregator.record(token.hook.fn, settleNs ?? durationNs, failed, token.matcher.actions.hist);
        this.tally.reported++;
        // Counting into a sketch is light: timed in its turn, like any light exit.
        accounted = true;
        this.ownTime(token, start, t0, false);
        return;
      }
      const capturer = this.capturer;
      capturer.begin();
      const captured = capturer.value(value);
      const cut = capturer.truncated;
      const bytes = capturer.bytes;
      const event = callEvent(this.id, token, outcome, captured, cut, durationNs, settleNs, start);
      // A call whose capture alone passed the ceiling is not queued: the session is over.
      accounted = true;
      const heavy = token.truncated || cut || token.stack !== undefined || token.bytes + bytes > TIMED_BYTES;
      if (this.ownTime(token, start, t0, heavy) !== 0 && this.queue.push(event, RECORD_OVERHEAD_BYTES + token.bytes + bytes, false)) this.tally.reported++;
      else if (this.running) this.tally.dropped.queue++;
      if (this.tally.reported >= this.options.max) void this.stop('max');
    } catch (error) {
      this.internalError(error, 'reporting a call');
    } finally {
      if (!accounted && this.running) this.ownTime(token, start, t0, true);
      engine.busy--;
    }
  }

  /**
   * Accounts a reported call's own time at its exit. The entry's part is measured on
   * every call, without a clock read of its own: from the reading before its capture
   * (`token.enteredAt`) to the site's reading of the call's `start`. The exit's part, from
   * the call's end (`t0`, the site's reading) to now, is measured on one call in
   * TIMED_EVERY and on every `heavy` one (a stack, a cut or large capture: the captures
   * that can take long); the others are charged the measured exits' running mean.
   * Stops the session with 'overload' when the call passed the hard ceiling. Returns the
   * exit's part (at least 1), or 0 once stopped, so that a caller can test it.
   */
  private ownTime(token: Token, start: number, t0: number, heavy: boolean): number {
    const enteredAt = token.enteredAt;
    let entryNs = this.meanEntryNs;
    if (enteredAt !== undefined) {
      entryNs = start - enteredAt;
      // Only a light entry is a sample of what the untimed (light) ones cost; a long one is
      // a thread that waited for a core, charged once (as exits below).
      const light = token.aggregate || (!token.truncated && token.stack === undefined && token.bytes <= TIMED_BYTES);
      if (light && entryNs < MEAN_SAMPLE_MAX_NS) this.meanEntryNs += (entryNs - this.meanEntryNs) / (this.measuredEntries++ === 0 ? 1 : 8);
    }
    let exitNs = this.meanExitNs;
    const timed = --this.untimed < 0;
    if (timed || heavy) {
      exitNs = clock() - t0;
      if (timed) {
        this.untimed = TIMED_EVERY - 1;
        // A span this long is a thread that waited for a core, not an exit's work (long
        // captures are `heavy`, timed every time): charged once, never folded into the mean
        // that the next untimed exits are charged, or it would count TIMED_EVERY times over.
        if (exitNs < MEAN_SAMPLE_MAX_NS) this.meanExitNs += (exitNs - this.meanExitNs) / (this.measuredExits++ === 0 ? 1 : 8);
      }
    }
    // Both parts in one charge. The second's budget is checked by tick(): a cold first call
    // (source maps read for a stack, code compiled for a capture) may cost tens of ms once.
    const ns = entryNs + exitNs;
    this.breaker.add(ns);
    if (ns > HARD_CEILING_NS) {
      const overload = this.breaker.pastCeiling(ns);
      if (overload !== undefined) {
        this.overloadDetail = overload;
        void this.stop('overload');
        return 0;
      }
    }
    return exitNs > 0 ? exitNs : 1;
  }

  /** The deadline passed: the timer's job, also done by the hot path when the timer could not run. */
  private expire(): void {
    try {
      void this.stop('time');
    } catch (error) {
      this.internalError(error, 'ending a session on time');
    }
  }

  /** Max, room in the queue and rate, for a call about to be reported. */
  private takeSlot(): boolean {
    if (this.admitted >= this.options.max) return false;
    if (this.queue.full) {
      // Nobody drains the queue fast enough: drop before capturing (the breaker then
      // measures livetrace's work, not captures of calls the queue would refuse).
      this.tally.dropped.queue++;
      return false;
    }
    if (!this.limiter.take()) {
      if (this.options.trip) void this.stop('rate');
      else this.tally.dropped.rate++;
      return false;
    }
    this.admitted++;
    return true;
  }

  private tick(): void {
    try {
      const overload = this.breaker.overBudget();
      if (log.enabled) log.debug({ session: this.id, ownMs: this.breaker.lastSecondNs / 1e6, reported: this.tally.reported }, 'overload breaker: a second');
      if (overload !== undefined) {
        this.overloadDetail = overload;
        void this.stop('overload');
        return;
      }
      this.reportDrops();
      if (aggregating(this.hooks.matchers)) this.queue.push(this.statsRecord(false), 0, true);
    } catch (error) {
      this.internalError(error, 'periodic work');
    }
  }

  /** Calls the sites' wrappers dropped over the rate themselves (the limiter as their gate): matched, and dropped. */
  private takeGateDrops(): void {
    const dropped = this.limiter.dropped;
    if (dropped === 0) return;
    this.limiter.dropped = 0;
    this.tally.calls += dropped;
    this.tally.dropped.rate += dropped;
  }

  private reportDrops(): void {
    this.takeGateDrops();
    this.tally.reportDrops(this.id, (record) => this.queue.push(record, 0, true));
  }

  private internalError(error: unknown, doing: string): void {
    this.tally.internalErrors++;
    log.debug({ err: error, session: this.id }, `internal error while ${doing}`);
  }

  private modulesLoaded(files: string[]): void {
    if (!this.running) return;
    try {
      const hooked = this.hooks.loaded(files);
      if (hooked.matched.length === 0 && hooked.unpatchable.length === 0) return;
      this.asyncParents.update(this.running, this.hooks.matched.length, reportsCalls(this.hooks.matchers));
      this.queue.push(addedRecord(this.id, [], hooked), 0, true);
      this.reach.check();
    } catch (error) {
      this.internalError(toLivetraceError(error), 'hooking a module that loaded');
    }
  }
}
