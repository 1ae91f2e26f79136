/**
 * The console of a running trace: it prints the records of one or more sessions in the
 * chosen format, keeps the status line up to date, and knows how a trace ended.
 *
 * Records are taken from a session only as fast as the output accepts them: when stdout
 * is a slow pipe, reading waits for it to drain, the client stops reading the socket,
 * and the agent's bounded queue drops and counts, so the CLI's memory stays bounded too.
 */
import { StatsMerger } from '../client/merge-stats.js';
import { rawRecordBytes } from '../client/raw-records.js';
import type { ClientSession } from '../client/session.js';
import { toLivetraceError } from '../protocol/errors.js';
import type { SessionRecord, StartedRecord, StoppedRecord } from '../protocol/events.js';
import { parsePattern } from '../pattern/text.js';
import type { InputCommand } from './command-input.js';
import { formatMs } from './format/duration.js';
import { formatJsonRecord } from './format/json.js';
import { createPinoWriter, type PinoRecordWriter } from './format/pino.js';
import { PrettyFormatter, describeStop, type Chunk } from './format/pretty.js';
import type { Style } from './format/style.js';
import { formatError } from './report.js';
import type { Screen } from './screen.js';
import type { OutputFormat } from './trace-options.js';

/** How often held call trees are checked and the status line redrawn. */
const TICK_MS = 250;

export interface TraceConsoleOptions {
  format: OutputFormat;
  screen: Screen;
  /** Style of the pretty lines on out. */
  style: Style;
  /** Resolves when out can take more (stdout drained); default: at once. */
  drained?: () => Promise<void>;
  /** Sees every record after it is printed (the demo reads the callers from them). */
  onRecord?: (record: SessionRecord) => void;
  /** Answers `?fn`: what a function calls, as printable text (the agent's `deeper` op). */
  deeper?: (fn: string) => Promise<string>;
  /**
   * A trace of several targets: `count`/`hist` tables are merged across them (one table,
   * about once a second, and a final one), and with `perProcess` each target's own table
   * is printed too.
   */
  merge?: { perProcess: boolean; everyMs?: number };
  /** One target: a count/hist table of a session that ran in worker threads is followed by each thread's own. */
  perThread?: boolean;
}

/** What typed commands act on: one session, or every session of a multi-target trace. */
export type CommandTarget = Pick<ClientSession, 'add' | 'stop'>;

/** How often a merged table is printed at most, ms (agents send stats once a second). */
const MERGED_EVERY_MS = 1000;

interface Followed {
  started: StartedRecord;
  calls: number;
  dropped: number;
  /** A count/hist session: calls come as stats, and --max does not apply. */
  aggregated: boolean;
  stopped?: StoppedRecord;
}

export class TraceConsole {
  private readonly format: OutputFormat;
  private readonly screen: Screen;
  private readonly pretty: PrettyFormatter | undefined;
  private readonly pino: PinoRecordWriter | undefined;
  private readonly drained: () => Promise<void>;
  private readonly onRecord: ((record: SessionRecord) => void) | undefined;
  private readonly deeper: ((fn: string) => Promise<string>) | undefined;
  private readonly sessions = new Map<string, Followed>();
  /** Modules of the functions the sessions trace, in the order seen: where a bare `?name` is looked up. */
  private readonly modules = new Set<string>();
  private readonly startedAt = Date.now();
  private timer: NodeJS.Timeout | undefined;
  private readonly merger: StatsMerger | undefined;
  private readonly perProcess: boolean;
  private mergedAt = 0;
  private readonly mergedEveryMs: number;

  constructor(options: TraceConsoleOptions) {
    this.format = options.format;
    this.screen = options.screen;
    this.drained = options.drained ?? (() => Promise.resolve());
    this.onRecord = options.onRecord;
    this.deeper = options.deeper;
    this.merger = options.merge === undefined ? undefined : new StatsMerger();
    this.perProcess = options.merge?.perProcess === true;
    this.mergedEveryMs = options.merge?.everyMs ?? MERGED_EVERY_MS;
    if (options.format === 'pretty') this.pretty = new PrettyFormatter({ style: options.style, perProcess: this.perProcess, perThread: this.perProcess || options.perThread === true });
    if (options.format === 'pino') this.pino = createPinoWriter({ write: (line: string) => this.screen.raw(line) });
    this.timer = setInterval(() => this.tick(), TICK_MS);
    this.timer.unref();
  }

  /** Prints a session's records until it stops; resolves with its 'stopped' record. */
  /**
   * Prints a session's records as they come; resolves with its 'stopped' record. With
   * `holdMadeUp`, a 'stopped' record the client made up (the connection closed first) is
   * not printed: the caller has the process's own account to print instead (run.ts: the
   * spool file a process that exited leaves), and prints the made-up one only without it.
   */
  async follow(session: ClientSession, options: { holdMadeUp?: boolean } = {}): Promise<StoppedRecord> {
    this.sessions.set(session.id, { started: session.started, calls: 0, dropped: 0, aggregated: false });
    const hold = options.holdMadeUp === true;
    for await (const first of session) {
      // The records already received go out in one batch, and the output is awaited once
      // for it: a step of the iterator and an await per record were a good part of the
      // CLI's time per event when streaming.
      if (!(hold && first.type === 'stopped' && session.synthetic)) this.record(first);
      const rest = session.takeQueued();
      for (let i = 0; i < rest.length; i++) {
        const record = rest[i]!;
        if (hold && record.type === 'stopped' && session.synthetic) continue;
        this.record(record);
      }
      await this.drained();
    }
    return session.done();
  }

  /**
   * Counts a session's records in the status line without follow() (records that come
   * some other way than a ClientSession: a fleet's stream).
   */
  track(started: StartedRecord): void {
    this.sessions.set(started.session, { started, calls: 0, dropped: 0, aggregated: false });
  }

  /**
   * Prints records a session's process left in a spool file as it exited (run.ts):
   * the whole session when nobody could claim it (`started` first), or the rest of one
   * already followed. Returns its 'stopped' record, if the file has one.
   */
  replay(records: SessionRecord[]): StoppedRecord | undefined {
    let stopped: StoppedRecord | undefined;
    for (const record of records) {
      if (record.type === 'started') {
        if (this.sessions.has(record.session)) continue;
        this.sessions.set(record.session, { started: record, calls: 0, dropped: 0, aggregated: false });
      }
      if (record.type === 'stopped') stopped = record;
      this.record(record);
    }
    return stopped;
  }

  /** Prints one record; `source` tells targets apart in the merge when pids may repeat (a fleet's agent id). */
  record(record: SessionRecord, source?: string): void {
    this.count(record);
    if (record.type === 'stats' && this.merger !== undefined) {
      this.merger.push(record, source);
      // Without --per-process, a target's own table is left out; json keeps every record, as data.
      if (!this.perProcess && this.format !== 'json') {
        this.drawStatus();
        return;
      }
    }
    if (record.type === 'started' || record.type === 'added') for (const m of record.matched) this.modules.add(m.module);
    if (this.format === 'json') {
      // A call record received as the agent's bytes is copied to the output as they are.
      const bytes = rawRecordBytes(record);
      if (bytes !== undefined) this.screen.rawBytes(bytes);
      else this.screen.raw(formatJsonRecord(record));
    } else if (this.pino) this.pino.write(record);
    else if (this.pretty) this.chunks(this.pretty.push(record, Date.now()));
    this.onRecord?.(record);
    this.drawStatus();
  }

  /** A note for the person at the terminal (stderr). */
  say(text: string): void {
    this.screen.info(text);
  }

  /** Ends the console: prints what is still held and the final merged table, removes the status line, stops the timer. */
  close(): void {
    if (this.timer !== undefined) {
      clearInterval(this.timer);
      this.timer = undefined;
      if (this.pretty) this.chunks(this.pretty.drain());
      if (this.merger !== undefined && this.merger.targets > 0) this.printMerged(true);
      this.screen.clearStatus();
    }
    // Lines gathered for one write (screen.ts raw) go out before the output closes.
    this.screen.flush();
  }

  /** The table of every target's calls together (a 'stats' record with merged: true and pids). */
  private printMerged(final: boolean): void {
    const record = this.merger!.merged(final);
    this.mergedAt = Date.now();
    if (this.format === 'json') this.screen.raw(formatJsonRecord(record));
    else if (this.pino) this.pino.write(record);
    else if (this.pretty) this.chunks(this.pretty.push(record, Date.now()));
  }

  /**
   * Applies a command typed into the trace. Patterns are checked here first, so a typo
   * is reported at once and the trace goes on; what an added pattern matched arrives as
   * the session's 'added' record.
   */
  async command(command: InputCommand, session: CommandTarget): Promise<void> {
    try {
      switch (command.kind) {
        case 'stop':
          await session.stop();
          return;
        case 'add':
          parsePattern(command.pattern);
          await session.add(command.pattern);
          return;
        case 'deeper':
          if (this.deeper === undefined) this.say(`'?${command.fn}': this trace cannot ask its agent what a function calls`);
          else this.say(await this.lookDeeper(this.deeper, command.fn));
          return;
        case 'help':
          this.say(command.text);
          return;
      }
    } catch (error) {
      this.say(formatError(toLivetraceError(error)));
    }
  }

  /**
   * `?src/users:findUser` asks for that function; `?findUser` (no module) for the
   * functions of that name in the modules the trace has matched, which is what someone
   * watching `src/users.js:findUser(...)` lines means by it.
   */
  private async lookDeeper(deeper: (fn: string) => Promise<string>, fn: string): Promise<string> {
    if (fn.includes(':')) return deeper(fn);
    const modules = [...this.modules];
    const hint = `name it as module:function (?src/users:${fn})`;
    if (modules.length === 0) return `'?${fn}': the trace has matched no module to look in yet; ${hint}`;
    const answers: string[] = [];
    for (const module of modules) {
      try {
        answers.push(await deeper(`${module}:${fn}`));
      } catch (error) {
        if (toLivetraceError(error).code !== 'LT_PATTERN_NO_MATCH') throw error;
      }
    }
    if (answers.length > 0) return answers.join('\n');
    return `'?${fn}': no function of that name in the traced modules (${modules.slice(0, 5).join(', ')}${modules.length > 5 ? ', ...' : ''}); ${hint}`;
  }

  /** The end-of-trace line for a session, on stderr. */
  summarize(stopped: StoppedRecord): void {
    this.screen.info(describeStop(stopped));
  }

  private count(record: SessionRecord): void {
    const followed = this.sessions.get(record.session);
    if (followed === undefined) return;
    if (record.type === 'call') followed.calls++;
    else if (record.type === 'dropped') followed.dropped += record.count;
    else if (record.type === 'stats') {
      followed.aggregated = true;
      followed.calls = record.functions.reduce((sum, f) => sum + f.calls, 0);
    }
    else if (record.type === 'stopped') followed.stopped = record;
  }

  private chunks(chunks: Chunk[]): void {
    for (const chunk of chunks) {
      if (chunk.to === 'out') this.screen.print(chunk.text);
      else if (chunk.to === 'info') this.screen.info(chunk.text);
      else this.screen.table(chunk.text);
    }
  }

  private tick(): void {
    if (this.pretty) this.chunks(this.pretty.expire(Date.now()));
    if (this.merger?.dirty === true && Date.now() - this.mergedAt >= this.mergedEveryMs) this.printMerged(false);
    this.drawStatus();
  }

  private drawStatus(): void {
    if (!this.screen.hasStatus || this.timer === undefined) return;
    const running = [...this.sessions.values()].filter((s) => s.stopped === undefined);
    if (running.length === 0) {
      this.screen.clearStatus();
      return;
    }
    const elapsed = Date.now() - this.startedAt;
    let calls = 0;
    let max = 0;
    let dropped = 0;
    let left = Infinity;
    for (const s of running) {
      calls += s.calls;
      max = s.aggregated || max === Infinity ? Infinity : max + s.started.limits.max;
      dropped += s.dropped;
      left = Math.min(left, s.started.ts + s.started.limits.forMs - Date.now());
    }
    const pids = [...new Set(running.map((s) => s.started.pid))].join(', ');
    this.screen.setStatus(
      `tracing ${pids} · ${formatMs(elapsed)} elapsed, ${formatMs(Math.max(0, left))} left · ${calls}${max === Infinity ? '' : `/${max}`} calls · ${dropped} dropped`,
    );
  }
}

/**
 * Exit status of a trace that ran: 0 when it ended by its limits, its time, the user, or
 * the target exiting (that is an answer, not a failure); 1 when it ended in an error.
 */
export function exitStatusOf(stopped: StoppedRecord): 0 | 1 {
  return stopped.reason === 'error' ? 1 : 0;
}
