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

export function startOwnWorker(main: () => void, workerData: object, port: MessagePort): Worker {
  const worker = new Worker(`(${main.toString()})()`, {
    eval: true,
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
