/**
 * Preload entry point: `node --import livetrace/register app.mjs`, `node --require
 * livetrace/register app.cjs`, or either form in NODE_OPTIONS. It starts the agent and
 * nothing else that a user could notice: no output, no handle that keeps the process
 * alive, no error thrown into startup (startAgent never rejects; problems go to
 * LIVETRACE_LOG).
 *
 * Node also runs preloads in every worker thread and (for --require) in its module loader
 * thread. The agent with its server, sessions and preload engine belongs to the main
 * thread only: a worker gets the thread agent (agent/threads/worker.ts), which loads the
 * session machinery only when a session reaches it; the loader thread gets nothing. With
 * static imports every thread would load the whole agent first: about 100 modules and
 * 0.1-0.2 s of CPU per worker (a pool of eight paid over a second at start-up). So this
 * module imports nothing of livetrace's but where it is installed, and loads the one part
 * a thread needs synchronously, from dist/cjs, in both builds: a `--require` preload must
 * have the preload engine installed before the program's first module loads, which an
 * `import()` (a promise, in the CommonJS build) would not. Both preload forms therefore
 * run the same CommonJS copy of the agent.
 */
import { createRequire } from 'node:module';
import { isMainThread } from 'node:worker_threads';
import { agentEntry } from './protocol/install.js';

try {
  const load = createRequire(agentEntry().register);
  if (isMainThread) (load('./register-main.js') as typeof import('./register-main.js')).startMain();
  else (load('./agent/threads/worker.js') as typeof import('./agent/threads/worker.js')).startThreadAgent();
} catch {
  // An installation without its build (agentEntry says which file) starts nothing: the
  // program runs as if livetrace were not there.
}
