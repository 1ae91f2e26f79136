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
 * - The engine's own time is sampled (one call in 16 is timed) and a session that
 *   spends more than its budget per second stops with reason 'overload'.
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
  Engine,
  MatchedFunction,
  SessionRecord,
  SessionStats,
  StartedRecord,
  StopReason,
  UnpatchableFunction,
} from '../../protocol/events.js';
import { LivetraceError, toLivetraceError } from '../../protocol/errors.js';
import { compilePatterns } from '../../pattern/index.js';
import type { Bindings, Matcher } from '../../pattern/match/matcher.js';
import { Aggregator } from './aggregate.js';
import { Capturer } from '../capture/capture.js';
import { argumentRedaction, type ArgumentRedaction } from '../capture/argument-redaction.js';
import { clock, wallTime } from '../clock.js';
import { callContext } from '../patcher/context.js';
import { RateLimiter } from './limiter.js';
import { log } from '../log.js';
import { onModulesLoaded } from '../catalog/module-watch.js';
import { resolveOptions, type ResolvedOptions, type TraceOptions } from '../../protocol/options.js';
import { addHook, removeHook, siteFor, type Ending, type Hook, type Site } from '../patcher/patcher.js';
// Registers '~name' (internal functions, reached by probes) with the registry.
import '../engines/probes/internal-source.js';
import { modulesForFiles, nearMisses, resolve, type Candidate } from '../catalog/registry.js';
import { captureStack } from '../capture/stack.js';

export type { TraceOptions } from '../../protocol/options.js';

/** The engine never reports calls made by its own work (capture, socket writes). */
export const engine = { busy: 0 };

/** One timed call in this many is measured for the overload breaker. */
const SAMPLE_EVERY = 16;
/** Approximate fixed size of a call record besides its captured values. */
const RECORD_OVERHEAD_BYTES = 160;

const pid = process.pid;
let nextSessionNumber = 1;
let nextCallId = 1;
const active = new Set<Session>();

export function activeSessions(): Session[] {
  return [...active];
}

/** Starts a session. Throws LivetraceError for a bad pattern or option, or a pattern that matches nothing. */
export function trace(patterns: string | string[], options: TraceOptions = {}): Session {
  return new Session(Array.isArray(patterns) ? patterns : [patterns], options);
}

interface Token {
  readonly id: number;
  readonly hook: SessionHook;
  readonly matcher: Matcher;
  readonly bindings: Bindings;
  readonly parent: number | null;
  readonly depth: number;
  /** True when limits were taken at entry (no post-guard). */
  readonly admitted: boolean;
  readonly aggregate: boolean;
  readonly args: Value[] | undefined;
  readonly self: Value | undefined;
  readonly stack: CallEvent['stack'];
  truncated: boolean;
  bytes: number;
  sampledNs: number;
  /** Set while a returned promise is pending. */
  ending: Ending | undefined;
}

/** One session's presence on one site. */
class SessionHook implements Hook {
  readonly sessionKey: Session;
  readonly site: Site;
  readonly fn: string;
  readonly module: string;
  readonly engine: Engine;
  /** What the function's parameter names hide (capture/argument-redaction.ts). */
  readonly redaction: ArgumentRedaction | undefined;
  matchers: Matcher[];

  constructor(session: Session, site: Site, candidate: Candidate, redaction: ArgumentRedaction | undefined) {
    this.redaction = redaction;
    this.sessionKey = session;
    this.site = site;
    this.fn = candidate.fn;
    this.module = candidate.module.ref.id;
    this.engine = site.target.engine;
    this.matchers = candidate.matchers;
  }

  enter(self: unknown, args: unknown[]): object | undefined {
    if (engine.busy !== 0) return undefined;
    const matchers = this.matchers;
    for (let i = 0; i < matchers.length; i++) {
      const matcher = matchers[i]!;
      const bindings = matcher.pre(self, args);
      if (bindings !== undefined) return this.sessionKey.admit(this, matcher, bindings, self, args);
    }
    return undefined;
  }

  exit(token: object, ending: Ending): void {
    this.sessionKey.exit(token as Token, ending);
  }

  settle(token: object, rejected: boolean, value: unknown, at: number): void {
    this.sessionKey.settle(token as Token, rejected, value, at);
  }
}

export class Session implements AsyncIterable<SessionRecord> {
  readonly id: string;
  readonly patterns: string[] = [];
  private readonly options: ResolvedOptions;
  private readonly matchers: Matcher[] = [];
  private readonly hooks = new Map<Site, SessionHook>();
  private readonly matchedList: MatchedFunction[] = [];
  private readonly unpatchableList: UnpatchableFunction[] = [];
  private readonly capturer: Capturer;
  private readonly limiter: RateLimiter;
  private readonly aggregator = new Aggregator();
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

  private readonly queue: SessionRecord[] = [];
  /** Estimated bytes of each queued record, index for index. */
  private readonly queueSizes: number[] = [];
  private queueHead = 0;
  private queueBytes = 0;
  /** Call events in the queue (control records don't count against the bound). */
  private queuedCalls = 0;
  private wake: (() => void) | undefined;

  constructor(patterns: string[], options: TraceOptions) {
    this.options = resolveOptions(options);
    this.id = `${pid}-${nextSessionNumber++}`;
    this.capturer = new Capturer(this.options.capture);
    const { matched, unpatchable } = this.attach(patterns, true);
    this.limiter = new RateLimiter(this.options.rate.count, this.options.rate.perMs);
    if (this.options.parents) callContext.retain();
    active.add(this);
    this.unwatchModules = onModulesLoaded((files) => this.modulesLoaded(files.map((f) => f.filename)));
    const expiry = setTimeout(() => void this.stop('time'), this.options.forMs);
    const tick = setInterval(() => this.tick(), 1000);
    expiry.unref();
    tick.unref();
    this.timers.push(expiry, tick);
    const started: StartedRecord = {
      v: 1,
      type: 'started',
      session: this.id,
      pid,
      ts: wallTime(this.startedAt),
      patterns: [...this.patterns],
      matched,
      unpatchable,
      limits: {
        max: this.options.max,
        forMs: this.options.forMs,
        rate: { ...this.options.rate },
        trip: this.options.trip,
        queueEvents: this.options.queueEvents,
        queueBytes: this.options.queueBytes,
        overloadMsPerSec: this.options.overloadMsPerSec,
      },
    };
    if (this.matchers.length > 0 && this.matchers.every((m) => m.actions.count || m.actions.hist)) started.aggregate = true;
    this.enqueue(started, 0, true);
  }

  get matched(): MatchedFunction[] {
    return [...this.matchedList];
  }

  get unpatchable(): UnpatchableFunction[] {
    return [...this.unpatchableList];
  }

  get stopped(): boolean {
    return !this.running;
  }

  /** Stopped, and every record taken. */
  get ended(): boolean {
    return !this.running && this.queueHead >= this.queue.length;
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
    const { matched, unpatchable } = this.attach(list, false);
    const record: AddedRecord = { v: 1, type: 'added', session: this.id, pid, ts: Date.now(), patterns: list, matched, unpatchable };
    this.enqueue(record, 0, true);
    return record;
  }

  /** Ends the session; its patches are gone when this resolves. Idempotent. */
  stop(reason: StopReason = 'user'): Promise<void> {
    if (!this.running) return Promise.resolve();
    this.running = false;
    this.stopReasonValue = reason;
    for (const [site, hook] of this.hooks) {
      try {
        removeHook(site, hook);
      } catch (error) {
        this.internalError(error, 'removing a hook');
      }
    }
    this.hooks.clear();
    for (const timer of this.timers) clearTimeout(timer);
    this.limiter.close();
    this.unwatchModules();
    if (this.options.parents) callContext.release();
    active.delete(this);
    this.reportDrops();
    if (this.aggregating()) this.enqueue(this.statsRecord(true), 0, true);
    this.enqueue(
      {
        v: 1,
        type: 'stopped',
        session: this.id,
        pid,
        ts: Date.now(),
        reason,
        detail: this.stopDetail(reason),
        stats: this.stats,
      },
      0,
      true,
    );
    return Promise.resolve();
  }

  /** Queued records, without waiting. The first is 'started', the last 'stopped'. */
  take(max = Infinity): SessionRecord[] {
    const end = Math.min(this.queue.length, this.queueHead + max);
    const out = this.queue.slice(this.queueHead, end);
    for (let i = this.queueHead; i < end; i++) {
      this.queueBytes -= this.queueSizes[i]!;
      if (this.queue[i]!.type === 'call') this.queuedCalls--;
    }
    this.queueHead = end;
    if (this.queueHead > 1024 && this.queueHead * 2 > this.queue.length) {
      this.queue.splice(0, this.queueHead);
      this.queueSizes.splice(0, this.queueHead);
      this.queueHead = 0;
    }
    return out;
  }

  /** Resolves when `take()` has something, or the session is over and drained. */
  readable(): Promise<void> {
    if (this.queueHead < this.queue.length || !this.running) return Promise.resolve();
    return new Promise((resolve) => {
      const previous = this.wake;
      this.wake = () => {
        previous?.();
        resolve();
      };
    });
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
        this.aggregator.record(token.hook.fn, settleNs ?? durationNs, failed, token.matcher.actions.hist);
        this.reported++;
        return;
      }
      const t0 = token.sampledNs > 0 ? clock() : 0;
      const capturer = this.capturer;
      capturer.begin();
      const captured = capturer.value(value);
      const result = capturer.end();
      const event: CallEvent = {
        v: 1,
        type: 'call',
        session: this.id,
        id: token.id,
        parent: token.parent,
        depth: token.depth,
        fn: token.hook.fn,
        module: token.hook.module,
        engine: token.hook.engine,
        pid,
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
      if (this.enqueue(event, RECORD_OVERHEAD_BYTES + token.bytes + result.bytes, false)) this.reported++;
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

  // -------------------------------------------------------------------------------------
  // Queue

  /** Queues a record; false when a call event was dropped for the queue bounds. */
  private enqueue(record: SessionRecord, bytes: number, control: boolean): boolean {
    if (!control) {
      if (this.queuedCalls >= this.options.queueEvents || this.queueBytes + bytes > this.options.queueBytes) {
        this.dropped.queue++;
        return false;
      }
      this.queuedCalls++;
    }
    this.queue.push(record);
    this.queueSizes.push(bytes);
    this.queueBytes += bytes;
    const wake = this.wake;
    if (wake !== undefined) {
      this.wake = undefined;
      wake();
    }
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
      if (this.aggregating()) this.enqueue(this.statsRecord(false), 0, true);
    } catch (error) {
      this.internalError(error, 'periodic work');
    }
  }

  private reportDrops(): void {
    for (const reason of ['rate', 'queue', 'overload'] as DropReason[]) {
      const count = this.dropped[reason] - this.droppedReported[reason];
      if (count <= 0) continue;
      this.droppedReported[reason] = this.dropped[reason];
      this.enqueue({ v: 1, type: 'dropped', session: this.id, pid, ts: Date.now(), reason, count }, 0, true);
    }
  }

  private aggregating(): boolean {
    return this.matchers.some((m) => m.actions.count || m.actions.hist);
  }

  private statsRecord(final: boolean): SessionRecord {
    return { v: 1, type: 'stats', session: this.id, pid, ts: Date.now(), final, functions: this.aggregator.snapshot() };
  }

  private stopDetail(reason: StopReason): string {
    const o = this.options;
    switch (reason) {
      case 'max':
        return `max ${o.max} calls`;
      case 'time':
        return `time limit ${formatMs(o.forMs)}`;
      case 'rate':
        return `rate over ${o.rate.count}/${formatMs(o.rate.perMs)} (--trip)`;
      case 'overload':
        return `livetrace spent over ${o.overloadMsPerSec}ms per second in the target`;
      case 'client-gone':
        return 'the client disconnected';
      case 'exit':
        return 'the process is exiting';
      case 'error':
        return 'an internal error';
      case 'user':
        return 'stopped by the user';
    }
  }

  private guardErrors(): number {
    let n = 0;
    for (const m of this.matchers) n += m.guardErrors;
    return n;
  }

  private internalError(error: unknown, doing: string): void {
    this.internalErrors++;
    log.debug({ err: error, session: this.id }, `internal error while ${doing}`);
  }

  // -------------------------------------------------------------------------------------
  // Patterns to hooks

  private attach(patterns: string[], initial: boolean): { matched: MatchedFunction[]; unpatchable: UnpatchableFunction[] } {
    const matchers = compilePatterns(patterns);
    if (!this.options.force) {
      const broad = matchers.find((m) => m.tooBroad);
      if (broad !== undefined) {
        throw new LivetraceError('LT_PATTERN_TOO_BROAD', `'${broad.source}' would trace every function in the process`, { input: broad.source });
      }
    }
    const candidates = resolve(matchers, matchers.map((m) => m.moduleGlob));
    const patchable = candidates.filter((c) => c.entry.target !== undefined);
    if (!this.options.force && this.hooks.size + patchable.length > this.options.maxFunctions) {
      throw new LivetraceError(
        'LT_PATTERN_TOO_BROAD',
        `the pattern matches ${patchable.length} functions, over the limit of ${this.options.maxFunctions}`,
        { input: patterns.join(' '), hint: 'Narrow the pattern, or raise --max-functions (and pass --force).' },
      );
    }
    if (candidates.length === 0 && !(initial && this.options.waitForModules)) {
      const near = matchers.flatMap((m) => nearMisses(m.moduleGlob, m.functionGlob));
      throw new LivetraceError('LT_PATTERN_NO_MATCH', `no loaded function matches ${patterns.map((p) => `'${p}'`).join(', ')}`, {
        input: patterns.join(' '),
        ...(near.length > 0 ? { hint: `Did you mean: ${[...new Set(near)].slice(0, 5).join(', ')}? ('livetrace ls <pid>' lists all)` } : {}),
      });
    }
    this.matchers.push(...matchers);
    this.patterns.push(...patterns);
    return this.hookCandidates(candidates);
  }

  private hookCandidates(candidates: Candidate[]): { matched: MatchedFunction[]; unpatchable: UnpatchableFunction[] } {
    const matched: MatchedFunction[] = [];
    const unpatchable: UnpatchableFunction[] = [];
    for (const candidate of candidates) {
      const where = { fn: candidate.fn, module: candidate.module.ref.id };
      if (candidate.entry.target === undefined) {
        unpatchable.push({ ...where, reason: candidate.entry.unpatchable ?? 'not patchable' });
        continue;
      }
      const site = siteFor(candidate.entry.target);
      if (typeof site === 'string') {
        unpatchable.push({ ...where, reason: site });
        continue;
      }
      const existing = this.hooks.get(site);
      if (existing !== undefined) {
        // Another pattern of this session reaches the same function: one hook, more matchers.
        for (const m of candidate.matchers) if (!existing.matchers.includes(m)) existing.matchers = [...existing.matchers, m];
        continue;
      }
      const hook = new SessionHook(this, site, candidate, argumentRedaction(site.original, this.capturer.redactor));
      if (!addHook(site, hook)) {
        unpatchable.push({ ...where, reason: site.target.failure?.() ?? 'the property could not be written' });
        continue;
      }
      this.hooks.set(site, hook);
      const entry: MatchedFunction = { ...where, engine: site.target.engine };
      matched.push(entry);
      this.matchedList.push(entry);
    }
    this.unpatchableList.push(...unpatchable);
    return { matched, unpatchable };
  }

  private modulesLoaded(files: string[]): void {
    if (!this.running) return;
    try {
      const candidates = resolve(this.matchers, [], modulesForFiles(files));
      if (candidates.length === 0) return;
      const { matched, unpatchable } = this.hookCandidates(candidates);
      if (matched.length === 0 && unpatchable.length === 0) return;
      this.enqueue({ v: 1, type: 'added', session: this.id, pid, ts: Date.now(), patterns: [], matched, unpatchable }, 0, true);
    } catch (error) {
      this.internalError(toLivetraceError(error), 'hooking a module that loaded');
    }
  }
}

function formatMs(ms: number): string {
  if (ms % 3_600_000 === 0) return `${ms / 3_600_000}h`;
  if (ms % 60_000 === 0) return `${ms / 60_000}m`;
  if (ms % 1000 === 0) return `${ms / 1000}s`;
  return `${ms}ms`;
}
