/**
 * Preload entry point: `node --import livetrace/register app.mjs`, `node --require
 * livetrace/register app.cjs`, or either form in NODE_OPTIONS. It starts the agent and
 * nothing else that a user could notice: no output, no handle that keeps the process
 * alive, no error thrown into startup (startAgent never rejects; problems go to
 * LIVETRACE_LOG).
 */
import { isMainThread } from 'node:worker_threads';
import { startAgent } from './agent/agent.js';
import { startRunSession } from './agent/session/run-session.js';
import { installPreload } from './agent/engines/preload/preload.js';
import { startThreadAgent } from './agent/threads/worker.js';

// Node also runs preloads in worker threads and (for --require) in its module loader
// thread: an agent there would take over the process's socket path. A worker gets the
// thread agent instead, which runs the main thread's sessions there (agent/threads/);
// the loader thread gets nothing (startThreadAgent knows it).
if (isMainThread) {
  installPreload();
  const agent = startAgent();
  // Under `livetrace run`, the session starts now, before the program's main module loads.
  startRunSession(agent.then((info) => info.listening));
  // A fleet (docs/fleet.md) only when asked: without LIVETRACE_FLEET neither the member nor
  // ioredis is loaded. joinFleet never rejects; the catch covers a failed load.
  if (process.env.LIVETRACE_FLEET !== undefined && process.env.LIVETRACE_FLEET !== '') {
    import('./fleet/member.js').then((fleet) => fleet.joinFleet(agent), () => undefined).catch(() => undefined);
  }
} else {
  startThreadAgent();
}
