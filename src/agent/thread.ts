/**
 * Node runs `--require` preloads (and so a preload that calls `trace()` or `startAgent()`)
 * in every thread it starts, including its own module loader thread (the one that runs
 * `module.register` hooks). No program code runs there: a session would trace nothing,
 * and an agent would take over the main thread's socket path, while patching the
 * loader's own modules could break module loading for the whole process. So the agent
 * stays inert there. Node 22.14+ says so (`isInternalThread`); before it, the loader
 * thread is the one worker without a parent port.
 */
import * as workerThreads from 'node:worker_threads';

const flags = workerThreads as { isMainThread: boolean; isInternalThread?: boolean; parentPort: unknown };

export const IN_LOADER_THREAD: boolean = !flags.isMainThread && (flags.isInternalThread === true || flags.parentPort === null);
