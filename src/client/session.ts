/**
 * A trace session as the client sees it: the records the agent streams for one session,
 * as an async iterable, plus the requests that act on it (add, stop, stats).
 *
 * Iteration yields the 'started' record first and the 'stopped' record last, then ends.
 * Every session ends with exactly one 'stopped' record, even when the agent cannot send
 * it: if the connection closes first (the target exited, its agent was stopped, or the
 * client closed), the session makes one up from what it saw, with reason 'exit'
 * (connection closed by the other side), 'error' (the agent refused the connection) or
 * 'client-gone' (this client closed it); its stats count the records received, and its
 * `synthetic` flag is set. Callers therefore only ever need to read the last record.
 *
 * There is one consumer per session. Leaving a `for await` loop early (break, return,
 * throw) stops the session in the agent.
 */
import { LivetraceError } from '../protocol/errors.js';
import type { AddedRecord, SessionRecord, SessionStats, StartedRecord, StopReason, StoppedRecord } from '../protocol/events.js';

/** What a session needs from its connection. */
export interface SessionLink {
  add(session: string, patterns: string[]): Promise<AddedRecord>;
  stop(session: string): Promise<SessionStats>;
  stats(session: string): Promise<SessionStats>;
  /** Called as records are consumed, so the connection can resume reading. */
  consumed(): void;
}

/** How a session ended when the agent could not say so itself. */
export interface ConnectionEnd {
  reason: Extract<StopReason, 'exit' | 'error' | 'client-gone'>;
  detail: string;
}

export class ClientSession implements AsyncIterable<SessionRecord> {
  readonly id: string;
  readonly pid: number;
  /** The 'started' record: what matched, by which engine, and the limits in force. */
  readonly started: StartedRecord;
  private readonly link: SessionLink;
  private readonly queue: SessionRecord[] = [];
  private wake: (() => void) | undefined;
  private stoppedRecord: StoppedRecord | undefined;
  private isSynthetic = false;
  private iterated = false;
  /** The iterator was left early: records that still arrive are not kept. */
  private abandoned = false;
  private stopping: Promise<StoppedRecord> | undefined;
  private readonly whenStopped: Promise<StoppedRecord>;
  private resolveStopped!: (record: StoppedRecord) => void;
  /** Received-side counts, for a stopped record the agent could not send. */
  private calls = 0;
  private readonly dropped = { rate: 0, queue: 0, overload: 0 };

  /** Call records come as stubs holding the agent's text (raw-records.ts; AgentClient.trace's `rawCalls`). */
  readonly rawCalls: boolean;

  /** @internal Built by AgentClient.trace(). */
  constructor(link: SessionLink, started: StartedRecord, rawCalls = false) {
    this.rawCalls = rawCalls;
    this.link = link;
    this.id = started.session;
    this.pid = started.pid;
    this.started = started;
    this.whenStopped = new Promise((resolve) => (this.resolveStopped = resolve));
    this.queue.push(started);
  }

  /** The 'stopped' record once it has arrived (or was made up when the connection closed). */
  get stopped(): StoppedRecord | undefined {
    return this.stoppedRecord;
  }

  /** True when the 'stopped' record was made up by the client because the connection closed. */
  get synthetic(): boolean {
    return this.isSynthetic;
  }

  /**
   * Resolves with the 'stopped' record when it arrives. Consume the records (or call
   * stop()) meanwhile: with 10,000 records unconsumed the connection stops reading, and
   * the 'stopped' record waits behind them.
   */
  done(): Promise<StoppedRecord> {
    return this.whenStopped;
  }

  /** Records received but not yet consumed by the iterator. */
  get buffered(): number {
    return this.queue.length;
  }

  /**
   * True from stop() until the 'stopped' record arrives. The connection keeps reading
   * meanwhile, however much is buffered: what is left to come is bounded by the session's
   * queue, and stop() must not wait on records nobody reads.
   */
  get ending(): boolean {
    return this.stopping !== undefined && this.stoppedRecord === undefined;
  }

  /** Adds patterns to the running session; resolves with what they matched. */
  add(patterns: string | string[]): Promise<AddedRecord> {
    if (this.stoppedRecord) return Promise.reject(this.stoppedError());
    return this.link.add(this.id, typeof patterns === 'string' ? [patterns] : patterns);
  }

  /**
   * Stops the session (reason 'user'). Resolves with the 'stopped' record once the agent
   * has removed the session's patches. Idempotent; after the end it resolves at once.
   */
  stop(): Promise<StoppedRecord> {
    if (this.stoppedRecord) return Promise.resolve(this.stoppedRecord);
    this.stopping ??= this.link.stop(this.id).then(
      () => this.whenStopped,
      (error: unknown) => {
        // The session may have ended on its own while the request was on its way.
        if (this.stoppedRecord) return this.stoppedRecord;
        throw error;
      },
    );
    return this.stopping;
  }

  /** The session's counters as the agent has them now. */
  stats(): Promise<SessionStats> {
    if (this.stoppedRecord) return Promise.resolve(this.stoppedRecord.stats);
    return this.link.stats(this.id);
  }

  [Symbol.asyncIterator](): AsyncIterator<SessionRecord> {
    if (this.iterated) throw new LivetraceError('LT_INTERNAL', `session ${this.id} is already being iterated`);
    this.iterated = true;
    return {
      next: async (): Promise<IteratorResult<SessionRecord>> => {
        for (;;) {
          const record = this.queue.shift();
          if (record !== undefined) {
            this.link.consumed();
            return { value: record, done: false };
          }
          if (this.stoppedRecord) return { value: undefined, done: true };
          await new Promise<void>((resolve) => (this.wake = resolve));
        }
      },
      return: async (): Promise<IteratorResult<SessionRecord>> => {
        this.abandoned = true;
        this.queue.length = 0;
        this.link.consumed();
        if (!this.stoppedRecord) await this.stop().catch(() => undefined);
        return { value: undefined, done: true };
      },
    };
  }

  /**
   * @internal Every record received and not yet consumed, at once ([] when none), for a
   * reader that already iterates the session (the CLI's follow): one step of the async
   * iterator and one flow-control check for a whole batch, instead of a promise and a
   * check per record (the CLI's per-event cost when streaming). The iterator goes on
   * after them, and ends once the 'stopped' record was taken either way.
   */
  takeQueued(): SessionRecord[] {
    if (this.queue.length === 0) return [];
    const out = this.queue.splice(0, this.queue.length);
    this.link.consumed();
    return out;
  }

  /** @internal A record streamed by the agent for this session. */
  receive(record: SessionRecord): void {
    if (this.stoppedRecord) return;
    if (record.type === 'call') this.calls++;
    else if (record.type === 'dropped') this.dropped[record.reason] += record.count;
    if (!this.abandoned) this.queue.push(record);
    if (record.type === 'stopped') this.finish(record);
    this.notify();
  }

  /** @internal The connection closed before the agent sent 'stopped': make it up. */
  connectionEnded(end: ConnectionEnd): void {
    if (this.stoppedRecord) return;
    const dropped = this.dropped.rate + this.dropped.queue + this.dropped.overload;
    const now = Date.now();
    const stats: SessionStats = {
      calls: this.calls + dropped,
      reported: this.calls,
      dropped: { ...this.dropped },
      guardErrors: 0,
      internalErrors: 0,
      stopReason: end.reason,
      elapsedMs: Math.max(0, now - this.started.ts),
    };
    const record: StoppedRecord = {
      v: 1,
      type: 'stopped',
      session: this.id,
      pid: this.pid,
      ts: now,
      reason: end.reason,
      detail: end.detail,
      stats,
    };
    this.isSynthetic = true;
    if (!this.abandoned) this.queue.push(record);
    this.finish(record);
    this.notify();
  }

  private finish(record: StoppedRecord): void {
    this.stoppedRecord = record;
    this.resolveStopped(record);
  }

  private notify(): void {
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }

  private stoppedError(): LivetraceError {
    return new LivetraceError('LT_SESSION_STOPPED', `session ${this.id} has stopped (${this.stoppedRecord?.reason})`, {
      input: this.id,
    });
  }
}
