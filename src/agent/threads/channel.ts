/**
 * What the main thread's agent and the agents in the process's worker threads say to each
 * other, on one BroadcastChannel (every thread of the process can open it by name, with no
 * port handed from parent to worker, so a worker the program started long ago is reached
 * as well as one it starts later). The channel is unref'd on both sides: it never keeps a
 * thread alive.
 */
import { BroadcastChannel } from 'node:worker_threads';
import type { CallEvent, FunctionStats, StopReason } from '../../protocol/events.js';
import type { TraceOptions } from '../../protocol/options.js';

export type ThreadMessage =
  /** worker -> main: an agent started in a worker; the main thread answers with its sessions. */
  | { kind: 'hello' }
  /** worker -> main: the worker is exiting; no more of its reports will come. */
  | { kind: 'bye'; thread: number }
  /** main -> workers: run this session here too (sent again, with every pattern so far, on `add` and to late workers). */
  | { kind: 'start'; session: string; patterns: string[]; options: TraceOptions }
  /** main -> workers: the session stopped. */
  | { kind: 'stop'; session: string }
  /** worker -> main: a call of the session in this worker, as its record. */
  | { kind: 'call'; session: string; event: CallEvent; bytes: number }
  /** worker -> main: the session's counts in this worker so far (totals), and how it ended there once it has. */
  | { kind: 'account'; session: string; thread: number; account: ThreadAccount }
  /**
   * worker -> main: a `count`/`hist` session's figures in this worker since it started
   * (its 'stats' record: cumulative, so the last one of each thread is all the main thread
   * keeps). `final` once the session ended there; a worker that never ran the session
   * answers its 'stop' with an empty final one, so the main thread waits for nobody.
   */
  | { kind: 'stats'; session: string; thread: number; functions: FunctionStats[]; final: boolean };

/**
 * A worker session's own figures: calls that passed its patterns, its drops, its errors,
 * and, once it stopped, why. Totals, not deltas: a lost or repeated message changes
 * nothing, the main thread keeps the last one of each thread (session/thread-accounts.ts).
 */
export interface ThreadAccount {
  calls: number;
  dropped: { rate: number; queue: number; overload: number };
  guardErrors: number;
  internalErrors: number;
  stopped?: { reason: StopReason; detail: string };
}

const NAME = 'livetrace:threads';

/** Opens the channel, unref'd; `receive` gets every message another thread posts. */
export function openChannel(receive: (message: ThreadMessage) => void): BroadcastChannel {
  const channel = new BroadcastChannel(NAME);
  channel.unref();
  channel.onmessage = (event) => receive((event as { data: ThreadMessage }).data);
  return channel;
}
