/**
 * The main thread's side of tracing worker threads. A session started in the main thread
 * is shared with every worker thread where livetrace's thread agent runs (threads/worker.ts:
 * started by the preload, which Node runs in workers too, or by inject.ts): each
 * runs the same patterns in a session of its own, under its own limits, and posts the
 * records of its calls here, where they join the main session's queue (carrying their
 * `thread`). A worker that starts later says hello and is handed the running sessions, so
 * workers started after the trace began are covered. Workers without the preload get the
 * thread agent from the main thread (inject.ts) when the first session is shared. The main session's `max` counts the
 * calls of every thread, and its stats count every thread's drops (each worker reports its
 * figures and its own end: session/thread-accounts.ts); stopping it stops its sessions in the workers.
 */
import { isMainThread } from 'node:worker_threads';
import type { BroadcastChannel } from 'node:worker_threads';
import type { CallEvent, FunctionStats } from '../../protocol/events.js';
import type { TraceOptions } from '../../protocol/options.js';
import { SafeMap } from '../../safe/intrinsics.js';
import { openChannel, type ThreadAccount, type ThreadMessage } from './channel.js';
import { reachWorkerThreads } from './inject.js';

/** What the relay needs of a main-thread session. */
export interface SharedSession {
  readonly id: string;
  readonly patterns: string[];
  /** Queues a call a worker reported as one of this session's. */
  relayed(event: CallEvent, bytes: number): void;
  /** Counts a worker's calls, drops and end in (session/thread-accounts.ts). */
  relayedAccount(thread: number, account: ThreadAccount): void;
  /** A worker's `count`/`hist` figures so far, merged into the session's (session/thread-accounts.ts). */
  relayedStats(thread: number, functions: FunctionStats[], final: boolean): void;
  /** A worker is exiting: nothing more will come from it. */
  threadGone(thread: number): void;
}

/** `stopping`: told to stop; its workers' last figures are still routed to it until releaseShared. */
const shared = new SafeMap<string, { session: SharedSession; options: TraceOptions; stopping: boolean }>();
let channel: BroadcastChannel | undefined;

function receive(message: ThreadMessage): void {
  if (message.kind === 'hello') {
    for (const { session, options, stopping } of shared.values()) if (!stopping) post(session, options);
  } else if (message.kind === 'call') {
    shared.get(message.session)?.session.relayed(message.event, message.bytes);
  } else if (message.kind === 'account') {
    shared.get(message.session)?.session.relayedAccount(message.thread, message.account);
  } else if (message.kind === 'stats') {
    shared.get(message.session)?.session.relayedStats(message.thread, message.functions, message.final);
  } else if (message.kind === 'bye') {
    for (const { session } of shared.values()) session.threadGone(message.thread);
  }
}

function post(session: SharedSession, options: TraceOptions): void {
  channel ??= openChannel(receive);
  channel.postMessage({ kind: 'start', session: session.id, patterns: session.patterns, options } satisfies ThreadMessage);
}

/** A session started (or gained patterns) in the main thread: workers run it too. */
export function shareWithThreads(session: SharedSession, options: TraceOptions): void {
  if (!isMainThread) return;
  reachWorkerThreads();
  const entry = shared.get(session.id) ?? { session, options, stopping: false };
  shared.set(session.id, entry);
  post(session, entry.options);
}

/**
 * The session stopped: so do its sessions in the workers. What they report from now on
 * (their final figures) still reaches it, until releaseShared.
 */
export function unshareWithThreads(id: string): void {
  const entry = shared.get(id);
  if (entry === undefined || channel === undefined) return;
  entry.stopping = true;
  channel.postMessage({ kind: 'stop', session: id } satisfies ThreadMessage);
}

/** The session has its workers' last word (or gave up waiting): forget it. */
export function releaseShared(id: string): void {
  if (!shared.delete(id) || channel === undefined) return;
  // Closed with the last session: a new one opens it again.
  if (shared.size === 0) {
    channel.close();
    channel = undefined;
  }
}
