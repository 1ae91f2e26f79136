/**
 * The agent as an attach loads it: the main thread's part (register-main.ts, started
 * once, when this module first loads, as register.ts starts it, but without the preload
 * engine: an attach installs no load hooks) and startAgent(),
 * whose promise the bootstrap awaits for the agent's description (attach/bootstrap.ts).
 *
 * The build bundles this module and everything it loads, the eager part of its
 * dependencies (acorn, micromatch, source-map-support) included, into one file,
 * dist/cjs/agent.bundle.js (scripts/build.mjs): an attached process then reads and
 * compiles one file instead of about 175 CommonJS modules, each resolved, read and
 * wrapped by Node's loader on the program's thread, about 40 ms of the agent's 110-130 ms
 * load (docs/benchmarks.md, branch attach5). Packages the agent loads only on some paths
 * (pino for LIVETRACE_LOG, ioredis for a fleet, es-module-lexer for the preload) stay
 * outside it and load from node_modules as before, when and if they are needed.
 *
 * The bundle is one more copy of livetrace in the process, as the ES module build is when
 * a program imports livetrace and is attached to later: what must be one per process
 * (the agent, sessions, patches, the body-site registry) lives on global symbols. It is
 * loaded only when no copy of the CommonJS preload is (the bootstrap checks), so a
 * preloaded process whose agent was stopped and is attached again reuses its own copy.
 * Worker threads never load it: the thread agent (threads/inject.ts) and livetrace's own
 * workers (own-worker.ts, from source text) load as before.
 */
import { isMainThread } from 'node:worker_threads';
import { startMain } from './register-main.js';

export { startAgent, stopAgent } from './agent/agent.js';
export { useDynamicImport } from './agent/observer/modules.js';

try {
  if (isMainThread) startMain(true);
} catch {
  // As register.ts: nothing thrown into the target; startAgent() reports what failed.
}
