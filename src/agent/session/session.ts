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
 * - The engine's own time is sampled (one call in 16 is timed), the probe engine charges
 *   every probe hit in full (the breakpoint condition and any pause: the time the
 *   program's thread is held in the Debugger), and a session that spends more than its
 *   budget per second stops with reason 'overload'.
 * - Expiry and every other timer run inside the process and are unref'd: a session ends
 *   on time even if nobody reads it, and never keeps the process alive.
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
import { callContext } from '../patcher/context.js';
import { RateLimiter } from './limiter.js';
import { log } from '../log.js';
import { onModulesLoaded } from '../catalog/module-watch.js';
import type { Ending } from '../patcher/dispatch.js';
import { captureStack } from '../capture/stack.js';
import { SessionHooks, type HookOwner, type SessionHook, type Token } from './hooks.js';
import { RecordQueue } from './queue.js';
import { addedRecord, droppedRecord, RECORD_PID, RECORD_VERSION, startedRecord, statsRecord, stoppedRecord } from './records.js';
import { engine, sessionStarted, sessionStopped } from './registry.js';
import type { TraceSession } from './trace-session.js';

export type { TraceOptions } from '../../protocol/options.js';
export type { TraceSession } from './trace-session.js';
export { activeSessions, engine } from './registry.js';

/** One timed call in this many is measured for the overload breaker. */
const SAMPLE_EVERY = 16;
/** Approximate fixed size of a call record besides its captured values. */
const RECORD_OVERHEAD_BYTES = 160;

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
  private engineNs = 0;
  private sampleCounter = 0;

  constructor(patterns: string[], options: TraceOptions) {
    this.options = resolveOptions(options);
    this.id = `${RECORD_PID}-${nextSessionNumber++}`;
    this.capturer = new Capturer(this.options.capture);
    this.queue = new RecordQueue(this.options.queueEvents, this.options.queueBytes);
    this.hooks = new SessionHooks(this, this.options);
    const { matched, unpatchable } = this.hooks.attach(patterns, true);
    this.limiter = new RateLimiter(this.options.rate.count, this.options.rate.perMs);
    if (this.options.parents) callContext.retain();
    sessionStarted(this);
    this.unwatchModules = onModulesLoaded((files) => this.modulesLoaded(files.map((f) => f.filename)));
    const expiry = setTimeout(() => void this.stop('time'), this.options.forMs);
    const tick = setInterval(() => this.tick(), 1000);
    expiry.unref();
    tick.unref();
    this.timers.push(expiry, tick);
    this.queue.push(startedRecord(this.id, wallTime(this.startedAt), this.patterns, { matched, unpatchable }, this.options), 0, true);
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
    this.queue.push(record, 0, true);
    return record;
  }

  /** Ends the session; its patches are gone when this resolves. Idempotent. */
  stop(reason: StopReason = 'user'): Promise<void> {
    if (!this.running) return Promise.resolve();
    this.running = false;
    this.stopReasonValue = reason;
    this.hooks.removeAll((error) => this.internalError(error, 'removing a hook'));
    for (const timer of this.timers) clearTimeout(timer);
    this.limiter.close();
    this.unwatchModules();
    if (this.options.parents) callContext.release();
    sessionStopped(this);
    this.reportDrops();
    if (this.aggregating()) this.queue.push(statsRecord(this.id, true, this.aggregator.snapshot()), 0, true);
    this.queue.push(stoppedRecord(this.id, reason, this.options, this.stats), 0, true);
    return Promise.resolve();
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
    try {
      const sampled = ++this.sampleCounter % SAMPLE_EVERY === 0;
      const t0 = sampled ? clock() : 0;
      const parent = this.options.parents ? callContext.parentOf(this) : undefined;
      let args$: Value[] | undefined;
      let self$: Value | undefined;
      let stack: CallEvent['stack'];
      let truncated = false;
      let bytes = 0;
      if (!aggregate) {
        const capturer = this.capturer;
        capturer.begin();
        args$ = capturer.values(args);
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
        sampledNs: sampled ? clock() - t0 : 0,
        ending: undefined,
      };
      return token;
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
    this.complete(token, ending.threw ? 'throw' : 'return', ending.value, ending.end - ending.start, undefined, ending.start);
  }

  charge(ns: number): void {
    if (this.running) this.engineNs += ns;
  }

  settle(token: Token, rejected: boolean, value: unknown, at: number): void {
    const ending = token.ending;
    if (!this.running || ending === undefined) return;
    this.complete(token, rejected ? 'reject' : 'resolve', value, ending.end - ending.start, at - ending.start, ending.start);
  }

  private complete(token: Token, outcome: CallOutcome, value: unknown, durationNs: number, settleNs: number | undefined, start: number): void {
    engine.busy++;
    try {
      const failed = outcome === 'throw' || outcome === 'reject';
      const post = token.matcher.post;
      if (post !== undefined) {
        const ms = (settleNs ?? durationNs) / 1e6;
        const ok = post(token.bindings, { ret: failed ? undefined : value, err: failed ? value : undefined, threw: failed, ms });
        if (!ok) return;
        if (!token.aggregate && !this.takeSlot()) return;
      }
      if (token.aggregate) {
        this.aggregator.record(token.hook.fn, settleNs ?? durationNs, failed);
        this.reported++;
        return;
      }
      const t0 = token.sampledNs > 0 ? clock() : 0;
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
      if (this.queue.push(event, RECORD_OVERHEAD_BYTES + token.bytes + result.bytes, false)) this.reported++;
      else this.dropped.queue++;
      if (t0 > 0) this.engineNs += (token.sampledNs + clock() - t0) * SAMPLE_EVERY;
      if (this.reported >= this.options.max) void this.stop('max');
    } catch (error) {
      this.internalError(error, 'reporting a call');
    } finally {
      engine.busy--;
    }
  }

  /** Max and rate, for a call about to be reported. */
  private takeSlot(): boolean {
    if (this.admitted >= this.options.max) return false;
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
      const budgetNs = this.options.overloadMsPerSec * 1e6;
      if (this.engineNs > budgetNs) {
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

  private modulesLoaded(files: string[]): void {
    if (!this.running) return;
    try {
      const hooked = this.hooks.loaded(files);
      if (hooked.matched.length === 0 && hooked.unpatchable.length === 0) return;
      this.queue.push(addedRecord(this.id, [], hooked), 0, true);
    } catch (error) {
      this.internalError(toLivetraceError(error), 'hooking a module that loaded');
    }
  }
}
