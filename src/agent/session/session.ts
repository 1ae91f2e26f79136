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
 * - The engine's own time is measured for every call it reports (capture at entry, post
 *   guard and capture at exit; the exit part starts at the site's own end-of-call clock
 *   read): a session that spent more than its budget in a second stops with reason
 *   'overload' at the next tick, and a single call whose own cost passes HARD_CEILING_MS
 *   stops it at once. The spans are wall-clock, which on a loaded machine holds time the
 *   thread waited for a core: the second's total is scaled by the share of it the process
 *   ran (CPU time over wall time, read once a tick), and a call past the ceiling counts
 *   only if the process ran that much CPU since the last tick. Calls dropped before
 *   capture (pre-test, max, a full queue, rate) are not timed: they cost a compare or a
 *   decrement, and matching runs in bounded time (linear regexes only).
 * - Expiry and every other timer run inside the process and are unref'd: a session ends
 *   on time even if nobody reads it, and never keeps the process alive. A timer cannot
 *   fire while the application runs synchronous code, so the deadline is also checked
 *   whenever a call is about to be reported: past it, the session stops with 'time'
 *   then and there, and the call is not reported.
 * Stopping removes every hook (restoring originals) before `stop()` resolves; calls
 * still in flight then finish untraced.
 */
import type { Value } from '../../protocol/value.js';
import type {
  AddedRecord,
  CallEvent,
  CallOutcome,
  DropReason,
  MatchedFunction,
  SessionRecord,
  SessionStats,
  StopReason,
  UnpatchableFunction,
} from '../../protocol/events.js';
import { LivetraceError, toLivetraceError } from '../../protocol/errors.js';
import { resolveOptions, type ResolvedOptions, type TraceOptions } from '../../protocol/options.js';
import type { Bindings, Matcher } from '../../pattern/match/matcher.js';
import { Aggregator } from './aggregate.js';
import { Capturer } from '../capture/capturer.js';
import { clock, wallTime } from '../clock.js';
import { parentOf, releaseAsyncContext, retainAsyncContext } from '../patcher/context.js';
import { RateLimiter } from './limiter.js';
import { log } from '../log.js';
import { IN_LOADER_THREAD } from '../thread.js';
import { onModulesLoaded } from '../catalog/module-watch.js';
import type { Ending } from '../patcher/dispatch.js';
import { captureStack } from '../capture/stack.js';
import { SessionHooks, type HookOwner, type SessionHook, type Token } from './hooks.js';
import { SessionReach } from './reach.js';
import { RecordQueue } from './queue.js';
import { addedRecord, droppedRecord, RECORD_PID, RECORD_VERSION, startedRecord, statsRecord, stoppedRecord } from './records.js';
import { engine, sessionStarted, sessionStopped } from './registry.js';
import type { TraceSession } from './trace-session.js';
import { ArrayPrototypePush } from '../../safe/intrinsics.js';

export type { TraceOptions } from '../../protocol/options.js';
export type { TraceSession } from './trace-session.js';
export { activeSessions, engine } from './registry.js';

/** livetrace's own work for one call beyond this ends the session with 'overload' at once. */
export const HARD_CEILING_MS = 100;
const HARD_CEILING_NS = HARD_CEILING_MS * 1e6;
/** Approximate fixed size of a call record besides its captured values. */
const RECORD_OVERHEAD_BYTES = 160;

// Read once a second per session, bound at load: an application's replacement never runs for it.
const cpuUsage = process.cpuUsage.bind(process);
/** CPU time (user and system) the process has used, in ns. */
function cpuNs(): number {
  const usage = cpuUsage();
  return (usage.user + usage.system) * 1000;
}

let nextSessionNumber = 1;
let nextCallId = 1;

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
  private readonly timers: NodeJS.Timeout[] = [];
  private readonly unwatchModules: () => void;

  private running = true;
  private stopReasonValue: StopReason | null = null;
  private admitted = 0;
  private calls = 0;
  private reported = 0;
  private internalErrors = 0;
  private readonly dropped = { rate: 0, queue: 0, overload: 0 };
  private readonly droppedReported = { rate: 0, queue: 0, overload: 0 };
  /** livetrace's own ns spent for this session since the last tick. */
  private engineNs = 0;
  /** The process's CPU ns at the last tick (cpuNs). */
  private cpuAtTick = cpuNs();
  /** clock() at the last tick. */
  private clockAtTick = clock();
  /** engineNs over this stops the session (the per-second budget). */
  private readonly budgetNs: number;
  /** clock() past which nothing is reported. */
  private readonly deadline: number;
  /** Hooks of the exports engine whose reach is still to be checked (flushed after their record). */
  private readonly reach: SessionReach;
  /** This session holds the async call-tree context (see needsAsyncParents). */
  private asyncParents = false;

  constructor(patterns: string[], options: TraceOptions) {
    this.options = resolveOptions(options);
    this.id = `${RECORD_PID}-${nextSessionNumber++}`;
    this.capturer = new Capturer(this.options.capture);
    this.queue = new RecordQueue(this.options.queueEvents, this.options.queueBytes);
    this.budgetNs = this.options.overloadMsPerSec * 1e6;
    this.deadline = this.startedAt + this.options.forMs * 1e6;
    this.reach = new SessionReach({
      id: this.id,
      running: () => this.running,
      hooks: () => this.hooks,
      push: (record) => this.queue.push(record, 0, true),
      internalError: (error, doing) => this.internalError(error, doing),
    });
    this.hooks = new SessionHooks(this, this.options, this.capturer.redactor, (hooks) => this.reach.hooked(hooks));
    if (IN_LOADER_THREAD) {
      // Inert (thread.ts): the patterns were checked, nothing is patched, and the session
      // is over before it began, saying why; the loader goes on untouched.
      this.limiter = new RateLimiter(this.options.rate.count, this.options.rate.perMs);
      this.limiter.close();
      this.unwatchModules = () => {};
      this.running = false;
      this.stopReasonValue = 'error';
      const why = new LivetraceError('LT_LOADER_THREAD', "trace() in Node's module loader thread: nothing is traced there", { input: patterns.join(' ') });
      log.debug({ code: why.code }, why.message);
      this.queue.push(startedRecord(this.id, wallTime(this.startedAt), this.hooks, { matched: [], unpatchable: [] }, this.options), 0, true);
      this.queue.push(stoppedRecord(this.id, 'error', this.options, this.stats, `${why.code}: ${why.message}`), 0, true);
      return;
    }
    const { matched, unpatchable } = this.hooks.attach(patterns, true);
    this.limiter = new RateLimiter(this.options.rate.count, this.options.rate.perMs);
    this.updateAsyncParents();
    sessionStarted(this);
    this.unwatchModules = onModulesLoaded((files) => this.modulesLoaded(files.map((f) => f.filename)));
    const expiry = setTimeout(() => this.expire(), this.options.forMs);
    const tick = setInterval(() => this.tick(), 1000);
    expiry.unref();
    tick.unref();
    ArrayPrototypePush(this.timers, expiry, tick);
    this.queue.push(startedRecord(this.id, wallTime(this.startedAt), this.hooks, { matched, unpatchable }, this.options), 0, true);
    this.reach.check();
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
    return !this.running && this.queue.empty;
  }

  get stats(): SessionStats {
    return {
      calls: this.calls,
      reported: this.reported,
      dropped: { ...this.dropped },
      guardErrors: this.guardErrors(),
      internalErrors: this.internalErrors,
      stopReason: this.stopReasonValue,
      elapsedMs: Math.round((clock() - this.startedAt) / 1e6),
    };
  }

  /** Adds patterns to the running session ("one level deeper"). */
  add(patterns: string | string[]): AddedRecord {
    if (!this.running) {
      throw new LivetraceError('LT_SESSION_STOPPED', `session ${this.id} has stopped (${this.stopReasonValue})`, { input: this.id });
    }
    const list = Array.isArray(patterns) ? patterns : [patterns];
    const record = addedRecord(this.id, list, this.hooks.attach(list, false));
    this.updateAsyncParents();
    this.queue.push(record, 0, true);
    this.reach.check();
    return record;
  }

  /** Ends the session; its patches are gone when this resolves. Idempotent. */
  stop(reason: StopReason = 'user'): Promise<void> {
    if (!this.running) return Promise.resolve();
    this.running = false;
    this.stopReasonValue = reason;
    engine.busy++;
    try {
      // Each step on its own: one that fails (a bug, a built-in the application replaced)
      // must not leave hooks installed, timers running or the 'stopped' record unsent.
      this.step('removing a hook', () => this.hooks.removeAll((error) => this.internalError(error, 'removing a hook')));
      for (let i = 0; i < this.timers.length; i++) clearTimeout(this.timers[i]);
      this.step('closing the rate limiter', () => this.limiter.close());
      this.step('unwatching modules', () => this.unwatchModules());
      if (this.asyncParents) {
        this.asyncParents = false;
        this.step('releasing the call context', () => releaseAsyncContext());
      }
      this.step('unregistering', () => sessionStopped(this));
      this.step('reporting drops', () => this.reportDrops());
      if (this.aggregating()) this.step('reporting stats', () => this.queue.push(statsRecord(this.id, true, this.aggregator.snapshot()), 0, true));
      this.queue.push(stoppedRecord(this.id, reason, this.options, this.stats), 0, true);
    } finally {
      engine.busy--;
    }
    return Promise.resolve();
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
    return this.queue.readable(this.running);
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<SessionRecord, void, undefined> {
    try {
      for (;;) {
        const batch = this.take();
        if (batch.length > 0) {
          yield* batch;
          continue;
        }
        if (this.ended) return;
        await this.readable();
      }
    } finally {
      // Leaving the loop early (break, throw) ends the session.
      await this.stop('user');
    }
  }

  // -------------------------------------------------------------------------------------
  // Hot path (called from hooks)

  admit(hook: SessionHook, matcher: Matcher, bindings: Bindings, self: unknown, args: unknown[]): Token | undefined {
    if (!this.running) return undefined;
    this.calls++;
    const aggregate = matcher.actions.count || matcher.actions.hist;
    const admitted = matcher.post === undefined;
    if (admitted && !aggregate && !this.takeSlot()) return undefined;
    return this.snapshot(hook, matcher, bindings, self, args, admitted, aggregate);
  }

  /** The capture half of `admit`, kept apart so the drop path above stays small enough to inline. */
  private snapshot(
    hook: SessionHook,
    matcher: Matcher,
    bindings: Bindings,
    self: unknown,
    args: unknown[],
    admitted: boolean,
    aggregate: boolean,
  ): Token | undefined {
    engine.busy++;
    const t0 = clock();
    try {
      if (t0 > this.deadline) {
        this.expire();
        return undefined;
      }
      const parent = this.options.parents ? parentOf(this) : undefined;
      let args$: Value[] | undefined;
      let self$: Value | undefined;
      let stack: CallEvent['stack'];
      let truncated = false;
      let bytes = 0;
      if (!aggregate) {
        const capturer = this.capturer;
        capturer.begin();
        args$ = capturer.values(args, hook.redaction);
        if (matcher.actions.this) self$ = capturer.value(self);
        const result = capturer.end();
        truncated = result.truncated;
        bytes = result.bytes;
        if (matcher.actions.stack || this.options.stack) stack = captureStack();
      }
      const token: Token = {
        id: nextCallId++,
        hook,
        matcher,
        bindings,
        parent: parent?.id ?? null,
        depth: parent?.depth ?? 0,
        admitted,
        aggregate,
        args: args$,
        self: self$,
        stack,
        truncated,
        bytes,
        entryNs: 0,
        ending: undefined,
      };
      token.entryNs = this.spent(clock() - t0);
      return this.running ? token : undefined;
    } catch (error) {
      this.internalError(error, 'capturing a call');
      return undefined;
    } finally {
      engine.busy--;
    }
  }

  exit(token: Token, ending: Ending): void {
    if (!this.running) return;
    if (ending.pending) {
      token.ending = ending;
      return;
    }
    this.complete(token, ending.threw ? 'throw' : 'return', ending.value, ending.end - ending.start, undefined, ending.start, ending.end);
  }

  settle(token: Token, rejected: boolean, value: unknown, at: number): void {
    const ending = token.ending;
    if (!this.running || ending === undefined) return;
    this.complete(token, rejected ? 'reject' : 'resolve', value, ending.end - ending.start, at - ending.start, ending.start, at);
  }

  /** `now`: the site's clock reading at the call's end (or settle), just taken: it starts this part's own time too, without a read of its own. */
  private complete(token: Token, outcome: CallOutcome, value: unknown, durationNs: number, settleNs: number | undefined, start: number, now: number): void {
    engine.busy++;
    const t0 = now;
    let accounted = false;
    try {
      if (t0 > this.deadline) {
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
        this.reported++;
        return;
      }
      const capturer = this.capturer;
      capturer.begin();
      const captured = capturer.value(value);
      const result = capturer.end();
      const event: CallEvent = {
        v: RECORD_VERSION,
        type: 'call',
        session: this.id,
        id: token.id,
        parent: token.parent,
        depth: token.depth,
        fn: token.hook.fn,
        module: token.hook.module,
        engine: token.hook.engine,
        pid: RECORD_PID,
        ts: wallTime(start),
        args: token.args ?? [],
        outcome,
        durationNs: Math.round(durationNs),
        truncated: token.truncated || result.truncated,
      };
      if (token.self !== undefined) event.this = token.self;
      if (failed) event.error = captured;
      else event.value = captured;
      if (settleNs !== undefined) event.settleNs = Math.round(settleNs);
      if (token.stack !== undefined) event.stack = token.stack;
      // A call whose capture alone passed the ceiling is not queued: the session is over.
      accounted = true;
      if (this.spent(clock() - t0, token.entryNs) !== 0 && this.queue.push(event, RECORD_OVERHEAD_BYTES + token.bytes + result.bytes, false)) this.reported++;
      else if (this.running) this.dropped.queue++;
      if (this.reported >= this.options.max) void this.stop('max');
    } catch (error) {
      this.internalError(error, 'reporting a call');
    } finally {
      if (!accounted && this.running) this.spent(clock() - t0);
      engine.busy--;
    }
  }

  /**
   * Accounts livetrace's own ns for a call (`earlier`: what its entry already cost);
   * stops the session with 'overload' when one call passed the hard ceiling. Returns the ns of this part, or 0 once stopped (so a
   * caller can test it); the entry's part is returned as at least 1 while running.
   */
  private spent(ns: number, earlier = 0): number {
    this.engineNs += ns;
    // The second's budget is checked by tick(), as before: a cold first call (source maps
    // read for a stack, code compiled for a capture) may cost tens of ms once.
    // A wall-clock span past the ceiling counts only if the process has run that much
    // CPU since the last tick: a thread descheduled for 100 ms (a loaded machine) did
    // not spend it. The CPU read happens only here, on the rare call past the ceiling.
    if (ns + earlier > HARD_CEILING_NS && cpuNs() - this.cpuAtTick >= HARD_CEILING_NS) {
      void this.stop('overload');
      return 0;
    }
    return ns > 0 ? ns : 1;
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
      this.dropped.queue++;
      return false;
    }
    if (!this.limiter.take()) {
      if (this.options.trip) void this.stop('rate');
      else this.dropped.rate++;
      return false;
    }
    this.admitted++;
    return true;
  }

  private tick(): void {
    try {
      // The spans are wall-clock: on a loaded machine they also hold time the thread was
      // not running at all. Scaled by the share of the second the process really ran
      // (its CPU time over the wall time), they estimate livetrace's own CPU time.
      const cpu = cpuNs();
      const now = clock();
      const ran = cpu - this.cpuAtTick;
      const share = now > this.clockAtTick ? Math.min(1, ran / (now - this.clockAtTick)) : 1;
      this.cpuAtTick = cpu;
      this.clockAtTick = now;
      if (this.engineNs * share > this.budgetNs) {
        void this.stop('overload');
        return;
      }
      this.engineNs = 0;
      this.reportDrops();
      if (this.aggregating()) this.queue.push(statsRecord(this.id, false, this.aggregator.snapshot()), 0, true);
    } catch (error) {
      this.internalError(error, 'periodic work');
    }
  }

  private reportDrops(): void {
    for (const reason of ['rate', 'queue', 'overload'] as DropReason[]) {
      const count = this.dropped[reason] - this.droppedReported[reason];
      if (count <= 0) continue;
      this.droppedReported[reason] = this.dropped[reason];
      this.queue.push(droppedRecord(this.id, reason, count), 0, true);
    }
  }

  private aggregating(): boolean {
    return this.hooks.matchers.some((m) => m.actions.count || m.actions.hist);
  }

  private guardErrors(): number {
    let n = 0;
    for (const m of this.hooks.matchers) n += m.guardErrors;
    return n;
  }

  private internalError(error: unknown, doing: string): void {
    this.internalErrors++;
    log.debug({ err: error, session: this.id }, `internal error while ${doing}`);
  }

  /**
   * Parents within a synchronous call cost nothing (patcher/context.ts); parents across
   * await and callbacks need an AsyncLocalStorage, which on Node 20 and 22 turns on async
   * hooks (every promise of the process slower while on, a `callbackTrampoline` frame
   * under every native callback for good). A session tracing one function can only nest
   * that function in itself, so it does without: its recursion is seen within a
   * synchronous call, not across await. Once it traces a second function (at start, by
   * `add`, or as modules load) it takes the storage, for calls that begin from then on.
   */
  private updateAsyncParents(): void {
    if (this.asyncParents || !this.options.parents || !this.running) return;
    if (this.hooks.matched.length < 2) return;
    this.asyncParents = true;
    retainAsyncContext();
  }

  private modulesLoaded(files: string[]): void {
    if (!this.running) return;
    try {
      const hooked = this.hooks.loaded(files);
      if (hooked.matched.length === 0 && hooked.unpatchable.length === 0) return;
      this.updateAsyncParents();
      this.queue.push(addedRecord(this.id, [], hooked), 0, true);
      this.reach.check();
    } catch (error) {
      this.internalError(toLivetraceError(error), 'hooking a module that loaded');
    }
  }


}
