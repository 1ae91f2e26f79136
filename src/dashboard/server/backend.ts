/**
 * What the dashboard's server needs from whoever does the work, so one server (HTTP,
 * security, the live channel, the latency windows) serves two very different places:
 *
 * - the `livetrace dashboard` command, whose backend (dashboard/remote) lists the user's
 *   Node processes from /proc and reaches their agents over the control socket, attaching
 *   only when the operator asks;
 * - the handler an app mounts (`livetrace/dashboard`), whose backend (dashboard/local)
 *   shows the one process it runs in, through the library and the observer in-process.
 *
 * The server layer imports neither: the CLI must never load the agent, and the mounted
 * handler must not load attach. Every live resource a backend hands out (an info watch, a
 * session) is owned by one page's live channel and closed with it, which is how sessions
 * end when the page closes.
 */
import type { SessionRecord } from '../../protocol/events.js';
import type { ProcessInfo } from '../../protocol/observer.js';
import type { TraceOptions } from '../../protocol/options.js';

/** One row of the Processes page. */
export interface ProcessRow {
  pid: number;
  /** The script (argv[1]'s base name), or the executable's. */
  name: string;
  /** User plus system CPU since the previous listing, % of one core; null on the first. */
  cpuPercent: number | null;
  rssBytes: number;
  /** 'agent': traceable now; 'attachable': an agent can be loaded on request; 'no': it cannot (reason). */
  reach: 'agent' | 'attachable' | 'no';
  reason?: string;
  /** Sessions running in the process, when its agent said (hello). */
  sessions: number | null;
  uptimeMs: number;
  argv: string[];
}

/** Info sampling for one open Process page: sampling runs from open to close only. */
export interface InfoWatch {
  /** Figures since the previous read (the first read has no interval figures). */
  read(): Promise<ProcessInfo>;
  close(): Promise<void>;
}

/** A running session as the dashboard follows it. */
export interface LiveSession {
  readonly id: string;
  readonly pid: number;
  /** Every record, 'started' first and 'stopped' last. */
  records(): AsyncIterable<SessionRecord>;
  /** Stops the session and releases what it holds (for remote sessions, the connection). Idempotent. */
  stop(): Promise<void>;
}

export interface WatchOptions {
  /** Load an agent when the process has none (the operator asked). */
  attach: boolean;
}

export interface DashboardBackend {
  /** 'remote': any process of the user; 'local': only the process serving the page. */
  readonly kind: 'remote' | 'local';
  processes(): Promise<ProcessRow[]>;
  watchInfo(pid: number, options: WatchOptions): Promise<InfoWatch>;
  /** Starts a session; rejects with the coded error of a bad pattern or option. */
  trace(pid: number, patterns: string[], options: TraceOptions): Promise<LiveSession>;
  /** Releases everything still open (the command is stopping). */
  close(): Promise<void>;
}
