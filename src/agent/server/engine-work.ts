/**
 * The agent's own work (parsing, encoding, socket writes) runs with `engine.busy` set, so
 * a pattern that matches what the agent itself calls (JSON.parse, net, stream internals)
 * does not report, and cannot feed back on, the agent's traffic.
 */
import type { Socket } from 'node:net';
import type { FrameSink } from '../../protocol/frame.js';
import { ReflectApply } from '../../safe/intrinsics.js';
import { log } from '../log.js';
import { shieldedErrors } from '../patcher/guard.js';
import { engine } from '../session/session.js';

export function asEngine<T>(work: () => T): T {
  engine.busy++;
  try {
    return work();
  } finally {
    engine.busy--;
  }
}

/** The socket as a frame writer's sink whose writes run as the agent's own work. */
export function engineSink(socket: Socket): FrameSink {
  return {
    write: (chunk, encoding) => asEngine(() => socket.write(chunk, encoding)),
    once: (event, listener) => socket.once(event, listener),
    removeListener: (event, listener) => socket.removeListener(event, listener),
    get destroyed() {
      return socket.destroyed;
    },
  };
}

/**
 * An event handler of the agent's (socket events, timers) that runs on the application's
 * event loop: it is the agent's own work, and nothing it throws reaches the application,
 * whose `uncaughtException` would otherwise hear of livetrace's bug (or of a built-in the
 * application replaced). What it throws is counted and logged.
 */
export function shielded<A extends unknown[]>(doing: string, handler: (...args: A) => unknown): (...args: A) => void {
  return (...args: A): void => {
    engine.busy++;
    try {
      const result = ReflectApply(handler, undefined, args);
      // An async handler's rejection is the agent's too.
      if (result instanceof Promise) result.catch((error: unknown) => shieldedError(doing, error));
    } catch (error) {
      shieldedError(doing, error);
    } finally {
      engine.busy--;
    }
  };
}

export function shieldedError(doing: string, error: unknown): void {
  shieldedErrors.count++;
  try {
    log.debug({ err: error }, `internal error while ${doing}`);
  } catch {
    // Logging itself failed: counted is all that can be done.
  }
}
