/**
 * The agent's own work (parsing, encoding, socket writes) runs with `engine.busy` set, so
 * a pattern that matches what the agent itself calls (JSON.parse, net, stream internals)
 * does not report, and cannot feed back on, the agent's traffic.
 */
import type { Socket } from 'node:net';
import type { FrameSink } from '../../protocol/frame.js';
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
