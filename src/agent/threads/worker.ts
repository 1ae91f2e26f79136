/**
 * livetrace in a worker thread of the program: it joins the process's thread channel
 * (channel.ts), says hello, and runs every session the main thread shares (relay.ts) as a
 * session of its own, whose call records it posts to the main thread, with its figures
 * (calls, drops, errors) and, once it ended on its own, why (session/thread-accounts.ts). Its sessions wait
 * for modules (a worker loads its code after it starts, and a pattern that matches
 * nothing here is not an error: the function may live in the main thread only). It does
 * nothing in the main thread, in Node's module loader thread, or in livetrace's own
 * workers.
 */
import { isMainThread, threadId, workerData } from 'node:worker_threads';
import type { StatsRecord, StoppedRecord } from '../../protocol/events.js';
import type { TraceOptions } from '../../protocol/options.js';
import { SafeMap } from '../../safe/intrinsics.js';
import { log } from '../log.js';
import type { Session } from '../session/session.js';
import { IN_LOADER_THREAD } from '../thread.js';
import { openChannel, type ThreadAccount, type ThreadMessage } from './channel.js';
import type { BroadcastChannel } from 'node:worker_threads';

/**
 * livetrace's own workers start with a key in their workerData: the probe worker
 * (engines/probes/link.ts) a trampoline key, the observer's inspector worker a hook key.
 */
function isOwnWorker(): boolean {
  if (typeof workerData !== 'object' || workerData === null) return false;
  const data = workerData as { trampolineKey?: unknown; hookKey?: unknown };
  return typeof data.trampolineKey === 'string' || typeof data.hookKey === 'string';
}

/** One thread agent per thread, whichever copy (the preload's ESM or CJS build, or inject.ts) comes first. */
const STARTED = Symbol.for('livetrace.threadAgent');

/** Starts the thread agent in a worker thread; a no-op anywhere else, and the second time. */
export function startThreadAgent(): void {
  if ((globalThis as { [STARTED]?: boolean })[STARTED] === true || isMainThread || IN_LOADER_THREAD || isOwnWorker()) return;
  Object.defineProperty(globalThis, STARTED, { value: true });
  const sessions = new SafeMap<string, Session>();
  let channel: BroadcastChannel;

  // The session's figures here, for the main thread's stats and stop line
  // (session/thread-accounts.ts); `stopped` once it ended, from its 'stopped' record.
  const account = (session: Session, stopped: StoppedRecord | undefined): ThreadAccount => {
    const stats = stopped?.stats ?? session.stats;
    return {
      calls: stats.calls,
      dropped: { ...stats.dropped },
      guardErrors: stats.guardErrors,
      internalErrors: stats.internalErrors,
      ...(stopped === undefined ? {} : { stopped: { reason: stopped.reason, detail: stopped.detail } }),
    };
  };

  const pump = async (id: string, session: Session): Promise<void> => {
    let told = '';
    const tell = (stopped?: StoppedRecord): void => {
      const figures = account(session, stopped);
      const text = JSON.stringify(figures);
      if (text === told) return;
      told = text;
      channel.postMessage({ kind: 'account', session: id, thread: threadId, account: figures } satisfies ThreadMessage);
    };
    while (!session.ended) {
      const records = session.take();
      // Before the calls: a call that makes the main session reach `max` finds this
      // thread's drops up to it counted already.
      tell();
      let stopped: StoppedRecord | undefined;
      let stats: StatsRecord | undefined;
      for (const record of records) {
        if (record.type === 'stopped') stopped = record;
        // The newest only: each is cumulative.
        if (record.type === 'stats') stats = record;
        if (record.type !== 'call') continue;
        const message: ThreadMessage = { kind: 'call', session: id, event: record, bytes: JSON.stringify(record).length };
        channel.postMessage(message);
      }
      if (stopped !== undefined) tell(stopped);
      // After the account: the final figures end the main thread's wait for this worker,
      // which then finds its last drops counted too.
      if (stats !== undefined) channel.postMessage({ kind: 'stats', session: id, thread: threadId, functions: stats.functions, final: stats.final } satisfies ThreadMessage);
      await session.readable();
    }
  };

  const start = (id: string, patterns: string[], options: TraceOptions): void => {
    const running = sessions.get(id);
    if (running !== undefined) {
      const added = patterns.filter((p) => !running.patterns.includes(p));
      if (added.length > 0 && !running.stopped) running.add(added);
      return;
    }
    const session = tracer!(patterns, { ...options, waitForModules: true });
    sessions.set(id, session);
    pump(id, session).catch((error: unknown) => log.debug({ err: error, session: id }, 'thread agent: relaying a session failed'));
  };

  const handle = (message: ThreadMessage): void => {
    try {
      if (message.kind === 'start') start(message.session, message.patterns, message.options);
      else if (message.kind === 'stop') {
        const session = sessions.get(message.session);
        sessions.delete(message.session);
        // The main thread waits for each worker's final figures of a count/hist session:
        // one that never ran it says so at once (its pump sends the final ones otherwise).
        if (session === undefined) channel.postMessage({ kind: 'stats', session: message.session, thread: threadId, functions: [], final: true } satisfies ThreadMessage);
        else void session.stop('user');
      }
    } catch (error) {
      log.debug({ err: error }, 'thread agent: a session could not start in this worker');
    }
  };

  // The session machinery (patterns, patcher, capture: most of livetrace) loads when the
  // first session reaches this worker, not when the worker starts: a worker of a process
  // nobody traces pays for the channel only. Messages that arrive meanwhile wait, in order.
  let tracer: typeof import('../session/session.js').trace | undefined;
  let waiting: ThreadMessage[] | undefined;
  channel = openChannel((message) => {
    if (tracer !== undefined) return handle(message);
    if (message.kind !== 'start' && message.kind !== 'stop') return;
    if (waiting !== undefined) {
      waiting[waiting.length] = message;
      return;
    }
    waiting = [message];
    import('../session/session.js').then(
      (loaded) => {
        tracer = loaded.trace;
        const queued = waiting ?? [];
        waiting = undefined;
        for (let i = 0; i < queued.length; i++) handle(queued[i]!);
      },
      (error: unknown) => {
        waiting = undefined;
        log.debug({ err: error }, 'thread agent: the session machinery could not load in this worker');
      },
    );
  });
  channel.postMessage({ kind: 'hello' } satisfies ThreadMessage);
  // So the main thread stops waiting for this worker's final figures (relay.ts).
  process.once('exit', () => {
    try {
      channel.postMessage({ kind: 'bye', thread: threadId } satisfies ThreadMessage);
    } catch {
      // The channel is already closed: the main thread's wait ends on its own.
    }
  });
}
