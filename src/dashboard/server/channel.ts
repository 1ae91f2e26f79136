/**
 * One open page's live channel (Server-Sent Events) and everything the page holds open:
 * the refresh of the view it shows, the info watch of an open Process page, its trace
 * sessions and its latency runs. Closing the channel (the tab closed, navigated away, or
 * the network dropped) closes all of it, so a target keeps no session and no patch for a
 * page nobody looks at; the sessions' own time limits end them earlier.
 *
 * Records are batched: a traced function called thousands of times a second would
 * otherwise cost one SSE write per call. Calls go out every FLUSH_MS, and a trace shows at
 * most what its `max` limit lets through anyway.
 */
import type { ServerResponse } from 'node:http';
import type { SessionRecord } from '../../protocol/events.js';
import { LivetraceError, toLivetraceError, type ErrorRecord } from '../../protocol/errors.js';
import type { TraceOptions } from '../../protocol/options.js';
import { parsePattern, printPattern } from '../../pattern/index.js';
import type { DashboardBackend, InfoWatch, LiveSession } from './backend.js';
import { LatencyWindow } from './latency.js';

const FLUSH_MS = 100;
const PROCESSES_MS = 2000;
const INFO_MS = 1000;
const LATENCY_TICK_MS = 250;
const KEEPALIVE_MS = 15_000;
/** A latency run's sampling bursts (startLatency says why bursts): how often, how long at most, how many calls at most. */
const SAMPLE_EVERY_MS = 5000;
const SAMPLE_FOR_MS = 1000;
const SAMPLE_CALLS = 25;

export type View = { view: 'processes' } | { view: 'process'; pid: number; attach: boolean } | { view: 'none' };

export function errorRecord(error: unknown): ErrorRecord {
  return toLivetraceError(error).toRecord();
}

/** A pattern as a `hist` pattern: the same functions and guard, only the latency kept. */
export function histPattern(pattern: string): string {
  const ast = parsePattern(pattern);
  return printPattern({ ...ast, actions: ['hist'] });
}

interface Trace {
  id: string;
  sessions: LiveSession[];
  pending: SessionRecord[];
  timer: NodeJS.Timeout | undefined;
  ended: number;
  /** A latency run's sampling bursts now running, and their timer. */
  bursts?: Set<LiveSession>;
  burstTimer?: NodeJS.Timeout | undefined;
}

export class Channel {
  readonly id: string;
  private readonly res: ServerResponse;
  private readonly backend: DashboardBackend;
  private viewTimer: NodeJS.Timeout | undefined;
  private info: { pid: number; watch: InfoWatch } | undefined;
  private viewSerial = 0;
  private readonly traces = new Map<string, Trace>();
  private readonly keepalive: NodeJS.Timeout;
  private nextTrace = 1;
  closed = false;

  constructor(id: string, res: ServerResponse, backend: DashboardBackend, onClose: () => void) {
    this.id = id;
    this.res = res;
    this.backend = backend;
    res.writeHead(200, { 'Content-Type': 'text/event-stream; charset=utf-8', Connection: 'keep-alive' });
    res.write(`retry: 2000\n\n`);
    this.keepalive = setInterval(() => res.write(': keepalive\n\n'), KEEPALIVE_MS);
    this.keepalive.unref();
    const end = (): void => {
      if (this.closed) return;
      void this.close().finally(onClose);
    };
    res.on('close', end);
    res.on('error', end);
  }

  send(event: string, data: unknown): void {
    if (this.closed) return;
    this.res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
  }

  /** Switches what the page shows: only the shown view refreshes, and an info watch lives only while its page is open. */
  async setView(view: View): Promise<void> {
    const serial = ++this.viewSerial;
    clearInterval(this.viewTimer);
    this.viewTimer = undefined;
    if (this.info !== undefined && (view.view !== 'process' || view.pid !== this.info.pid)) {
      const old = this.info;
      this.info = undefined;
      await old.watch.close().catch(() => undefined);
    }
    if (view.view === 'processes') {
      const tick = async (): Promise<void> => {
        try {
          const rows = await this.backend.processes();
          if (serial === this.viewSerial) this.send('processes', { rows });
        } catch (error) {
          this.send('problem', errorRecord(error));
        }
      };
      await tick();
      if (serial === this.viewSerial && !this.closed) this.viewTimer = setInterval(() => void tick(), PROCESSES_MS);
    } else if (view.view === 'process') {
      if (this.info === undefined) {
        const watch = await this.backend.watchInfo(view.pid, { attach: view.attach });
        if (serial !== this.viewSerial || this.closed) {
          await watch.close();
          return;
        }
        this.info = { pid: view.pid, watch };
      }
      const current = this.info;
      const tick = async (): Promise<void> => {
        try {
          const info = await current.watch.read();
          if (this.info === current) this.send('info', { pid: current.pid, info });
        } catch (error) {
          if (this.info === current) this.send('info-error', { pid: current.pid, error: errorRecord(error) });
        }
      };
      await tick();
      if (serial === this.viewSerial && !this.closed) this.viewTimer = setInterval(() => void tick(), INFO_MS);
    }
  }

  /** Starts a trace in each process; its records stream as 'records' events until every session stopped. */
  /**
   * The id a trace or latency run is known by on the channel. The page picks it, so it
   * knows it before the first record, which the channel may send before the POST's reply.
   */
  private runId(kind: 't' | 'l', asked: unknown): string {
    const id = typeof asked === 'string' && /^[\w-]{1,40}$/.test(asked) ? `${kind}-${asked}` : `${kind}${this.nextTrace++}`;
    if (this.traces.has(id)) throw new LivetraceError('LT_OPTION_INVALID', `'${String(asked)}' is already running on this page`, { input: asked });
    return id;
  }

  async startTrace(pids: number[], patterns: string[], options: TraceOptions, asked?: unknown): Promise<{ id: string }> {
    const id = this.runId('t', asked);
    const sessions = await this.startAll(pids, patterns, options);
    const trace: Trace = { id, sessions, pending: [], timer: undefined, ended: 0 };
    this.traces.set(id, trace);
    for (const session of sessions) void this.pump(trace, session, (record) => this.queue(trace, record));
    return { id };
  }

  /**
   * Starts a latency run: a `hist` session in each process for the quantiles, and short
   * sampling bursts for the slowest-calls table.
   *
   * Why bursts and not a second session for the whole run: on a target calling two
   * functions 10,000 times a second, a rate-limited plain session alone added up to 2% of
   * a core (every call still passes its hook and rate limiter), on top of the hist
   * session's own 2-3% (docs/benchmarks.md). A burst every SAMPLE_EVERY_MS, ending after
   * SAMPLE_CALLS calls or SAMPLE_FOR_MS, costs a few milliseconds every few seconds on a
   * busy function, and still sees a fifth of the calls of a rare one.
   */
  async startLatency(pids: number[], patterns: string[], forMs: number, asked?: unknown): Promise<{ id: string }> {
    const id = this.runId('l', asked);
    const hist = patterns.map(histPattern);
    const window = new LatencyWindow();
    const sessions = await this.startAll(pids, hist, { for: forMs });
    const trace: Trace = { id, sessions, pending: [], timer: undefined, ended: 0, bursts: new Set(), burstTimer: undefined };
    this.traces.set(id, trace);
    const tick = setInterval(() => {
      const points = window.due(Date.now());
      if (points.length > 0) this.send('latency', { id, points, total: window.total(), slowest: window.slowest() });
    }, LATENCY_TICK_MS);
    trace.timer = tick;
    const endsAt = Date.now() + forMs;
    const burst = (): void => {
      if (this.closed || !this.traces.has(id) || Date.now() + SAMPLE_FOR_MS > endsAt) return;
      for (const pid of pids) {
        this.backend.trace(pid, patterns, { for: SAMPLE_FOR_MS, max: SAMPLE_CALLS, rate: false }).then(
          (session) => {
            if (!this.traces.has(id) || this.closed) {
              void session.stop().catch(() => undefined);
              return;
            }
            trace.bursts!.add(session);
            void (async () => {
              try {
                for await (const record of session.records()) if (record.type === 'call') window.addCall(record);
              } catch {
                // A burst that fails (the process exited) only loses its samples.
              } finally {
                trace.bursts!.delete(session);
              }
            })();
          },
          () => undefined,
        );
      }
    };
    trace.burstTimer = setInterval(burst, SAMPLE_EVERY_MS);
    setTimeout(burst, 1000).unref();
    for (const session of sessions) {
      void this.pump(trace, session, (record) => {
        if (record.type === 'stats') window.addStats(record);
        else if (record.type === 'started' || record.type === 'stopped') this.send('latency-session', { id, record: { ...record, hist: true } });
      });
    }
    return { id };
  }

  private async startAll(pids: number[], patterns: string[], options: TraceOptions): Promise<LiveSession[]> {
    const results = await Promise.allSettled(pids.map((pid) => this.backend.trace(pid, patterns, options)));
    const sessions = results.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed !== undefined || this.closed) {
      await Promise.all(sessions.map((s) => s.stop().catch(() => undefined)));
      throw failed?.reason ?? new Error('the page closed');
    }
    return sessions;
  }

  private async pump(trace: Trace, session: LiveSession, each: (record: SessionRecord) => void): Promise<void> {
    try {
      for await (const record of session.records()) each(record);
    } catch (error) {
      this.send('problem', errorRecord(error));
    } finally {
      trace.ended++;
      if (trace.ended === trace.sessions.length) this.finish(trace);
    }
  }

  private queue(trace: Trace, record: SessionRecord): void {
    trace.pending.push(record);
    if (record.type !== 'call') this.flush(trace);
    else trace.timer ??= setTimeout(() => this.flush(trace), FLUSH_MS);
  }

  private flush(trace: Trace): void {
    clearTimeout(trace.timer);
    trace.timer = undefined;
    if (trace.pending.length === 0) return;
    const records = trace.pending;
    trace.pending = [];
    this.send('records', { id: trace.id, records });
  }

  private finish(trace: Trace): void {
    if (trace.id.startsWith('t')) this.flush(trace);
    else clearInterval(trace.timer);
    this.stopBursts(trace);
    this.traces.delete(trace.id);
    this.send('ended', { id: trace.id });
  }

  private stopBursts(trace: Trace): Promise<unknown> {
    clearInterval(trace.burstTimer);
    const stops = [...(trace.bursts ?? [])].map((s) => s.stop().catch(() => undefined));
    trace.bursts?.clear();
    return Promise.all(stops);
  }

  async stop(id: string): Promise<boolean> {
    const trace = this.traces.get(id);
    if (trace === undefined) return false;
    await Promise.all([...trace.sessions.map((s) => s.stop().catch(() => undefined)), this.stopBursts(trace)]);
    return true;
  }

  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.viewTimer);
    clearInterval(this.keepalive);
    const info = this.info;
    this.info = undefined;
    const stops = [...this.traces.values()].flatMap((trace) => {
      clearInterval(trace.timer);
      clearTimeout(trace.timer);
      return [...trace.sessions.map((s) => s.stop().catch(() => undefined)), this.stopBursts(trace)];
    });
    await Promise.all([...stops, info?.watch.close().catch(() => undefined)]);
    if (!this.res.writableEnded) this.res.end();
  }
}
