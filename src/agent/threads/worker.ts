/**
 * livetrace in a worker thread of the program: it joins the process's thread channel
 * (channel.ts), says hello, and runs every session the main thread shares (relay.ts) as a
 * session of its own, whose call records it posts to the main thread. Its sessions wait
 * for modules (a worker loads its code after it starts, and a pattern that matches
 * nothing here is not an error: the function may live in the main thread only). It does
 * nothing in the main thread, in Node's module loader thread, or in livetrace's own probe
 * worker.
 */
import { isMainThread, workerData } from 'node:worker_threads';
import type { TraceOptions } from '../../protocol/options.js';
import { SafeMap } from '../../safe/intrinsics.js';
import { log } from '../log.js';
import { trace, type Session } from '../session/session.js';
import { IN_LOADER_THREAD } from '../thread.js';
import { openChannel, type ThreadMessage } from './channel.js';
import type { BroadcastChannel } from 'node:worker_threads';

/** livetrace's probe worker (engines/probes/link.ts) starts with a trampoline key in its workerData. */
function isProbeWorker(): boolean {
  return typeof workerData === 'object' && workerData !== null && typeof (workerData as { trampolineKey?: unknown }).trampolineKey === 'string';
}

/** One thread agent per thread, whichever copy (the preload's ESM or CJS build, or inject.ts) comes first. */
const STARTED = Symbol.for('livetrace.threadAgent');

/** Starts the thread agent in a worker thread; a no-op anywhere else, and the second time. */
export function startThreadAgent(): void {
  if ((globalThis as { [STARTED]?: boolean })[STARTED] === true || isMainThread || IN_LOADER_THREAD || isProbeWorker()) return;
  Object.defineProperty(globalThis, STARTED, { value: true });
  const sessions = new SafeMap<string, Session>();
  let channel: BroadcastChannel;

  const pump = async (id: string, session: Session): Promise<void> => {
    while (!session.ended) {
      for (const record of session.take()) {
        if (record.type !== 'call') continue;
        const message: ThreadMessage = { kind: 'call', session: id, event: record, bytes: JSON.stringify(record).length };
        channel.postMessage(message);
      }
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
    const session = trace(patterns, { ...options, waitForModules: true });
    sessions.set(id, session);
    pump(id, session).catch((error: unknown) => log.debug({ err: error, session: id }, 'thread agent: relaying a session failed'));
  };

  channel = openChannel((message) => {
    try {
      if (message.kind === 'start') start(message.session, message.patterns, message.options);
      else if (message.kind === 'stop') {
        const session = sessions.get(message.session);
        sessions.delete(message.session);
        void session?.stop('user');
      }
    } catch (error) {
      log.debug({ err: error }, 'thread agent: a session could not start in this worker');
    }
  });
  channel.postMessage({ kind: 'hello' } satisfies ThreadMessage);
}
