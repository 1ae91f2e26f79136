/**
 * The agent's own worker threads (the probe worker, the observer's inspector worker): a
 * function's source run by `eval`, so it needs no file of its own wherever livetrace is
 * installed, with no execArgv of the program's (no preload, no --inspect), a small heap,
 * and unref'd, so it never keeps the target alive.
 */
import { Worker } from 'node:worker_threads';
import type { MessagePort } from 'node:worker_threads';

/**
 * The agent's own workers, which are not the program's (observer/workers.ts leaves them
 * out). On globalThis: a second copy of livetrace in the process must know them too.
 */
const OWN_KEY = Symbol.for('livetrace.own-workers');
const own: WeakSet<Worker> = ((globalThis as Record<symbol, unknown>)[OWN_KEY] as WeakSet<Worker> | undefined) ??
  ((globalThis as Record<symbol, unknown>)[OWN_KEY] = new WeakSet<Worker>());

export function isOwnWorker(worker: Worker): boolean {
  return own.has(worker);
}

/**
 * The name every own worker is given. The inspector shows it in the worker's title
 * (`[worker <threadId>] livetrace`), which is what a NodeWorker session sees before it
 * could ask the worker anything: inject.ts and the observer's inspector worker leave such
 * workers alone without sending them a message. That matters: a command that reaches a
 * worker while Node is tearing it down is run inside FreeEnvironment, and an evaluation
 * there (seen with the command-line API) crashed the whole process with SIGSEGV (Node 20).
 * The probe worker ends with every session, so it was the worker most often caught.
 */
export const OWN_WORKER_NAME = 'livetrace';

/** The inspector's title of an own worker. */
export function isOwnWorkerTitle(title: string): boolean {
  return title.endsWith(`] ${OWN_WORKER_NAME}`);
}

export function startOwnWorker(main: () => void, workerData: object, port: MessagePort): Worker {
  const worker = new Worker(`(${main.toString()})()`, {
    eval: true,
    name: OWN_WORKER_NAME,
    workerData,
    transferList: [port],
    execArgv: [],
    resourceLimits: { maxOldGenerationSizeMb: 64, maxYoungGenerationSizeMb: 16 },
  });
  // Before Node announces it (process 'worker' is emitted on the next tick).
  own.add(worker);
  worker.unref();
  return worker;
}
