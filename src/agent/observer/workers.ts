/**
 * The worker threads of `livetrace info`, with their own event-loop utilization.
 *
 * The main thread has no list of the process's workers (a Worker object is only known to
 * the code that made it), so the list comes from the inspector: the observer's inspector
 * worker enables the NodeWorker domain, asks each worker for
 * `performance.eventLoopUtilization()` and disables the domain again (inspector-worker.ts).
 * The readings are cumulative; each connection keeps its previous ones, so from the second
 * info on a worker's figure covers the interval, as the main thread's does.
 *
 * That round trip is most of what a full info costs the process (a message to the
 * inspector worker, its wake-up, the answer back: about half a millisecond of CPU), and
 * most processes have no worker at all. So the main thread keeps its own count: Node
 * announces every Worker the thread creates (process 'worker', Node >= 16.14) and the
 * worker's 'exit' says when it is gone. Only while that count is above zero, or while
 * workers started before the agent loaded may still run, is the inspector asked. The
 * latter is known for sure in two ways: the agent came with the preload (nothing of the
 * program ran before it: workersKnownFromStart), or an inspector answer listed no worker
 * the count does not know (a worker started before the agent cannot start again later).
 * A count that errs (a program that removes our 'exit' listener) errs towards asking.
 */
import { LivetraceError } from '../../protocol/errors.js';
import type { WorkerThreadInfo } from '../../protocol/observer.js';
import { ArrayPrototypePush } from '../../safe/intrinsics.js';
import { log } from '../log.js';
import { isOwnWorker } from '../own-worker.js';
import { inspectorLink } from './inspector-link.js';

/** How long one worker may take to answer. */
const WORKER_ANSWER_MS = 500;

export type WorkerMemory = Map<number, { idle: number; active: number }>;

/** Thread ids of the program's workers this thread started since the agent loaded, still running. */
const running = new Set<number>();
/** Workers started before the agent loaded may be running (only the inspector sees those). */
let unseenBefore = true;

process.on('worker', (worker) => {
  try {
    const id = worker.threadId;
    // -1: it ended before Node announced it.
    if (id < 0 || isOwnWorker(worker) || isNodeInternal(worker)) return;
    running.add(id);
    worker.once('exit', () => running.delete(id));
  } catch {
    // Counting is ours; nothing of it may reach the program.
  }
});

/**
 * Node's own threads (the module loader's hooks thread that module.register starts) are
 * InternalWorker instances, announced like the program's; the inspector list leaves them
 * out by their node:internal/ url, the count by their class, which no program can reach.
 */
function isNodeInternal(worker: object): boolean {
  return (Object.getPrototypeOf(worker) as { constructor?: { name?: unknown } } | null)?.constructor?.name === 'InternalWorker';
}

/** The agent loaded before any code of the program (the preload): no worker escaped the count. */
export function workersKnownFromStart(): void {
  unseenBefore = false;
}

/** The program's worker threads as far as the count knows (tests). */
export function countedWorkers(): { running: number; unseenBefore: boolean } {
  return { running: running.size, unseenBefore };
}

export async function workerThreads(previous: WorkerMemory): Promise<WorkerThreadInfo[] | null> {
  if (!unseenBefore && running.size === 0) {
    previous.clear();
    return [];
  }
  try {
    const link = await inspectorLink();
    const { reply } = await link.request(
      { op: 'workers', timeoutMs: WORKER_ANSWER_MS },
      { deadlineMs: WORKER_ANSWER_MS + 2000, onDeadline: () => new LivetraceError('LT_INSPECTOR_UNAVAILABLE', 'the worker list did not come in time') },
    );
    const seen = new Set<number>();
    const out: WorkerThreadInfo[] = [];
    for (const reading of reply.workers ?? []) {
      seen.add(reading.threadId);
      const before = previous.get(reading.threadId);
      let utilization: number | null = null;
      let sinceStart = true;
      if (reading.elu !== null) {
        const idle = reading.elu.idle - (before?.idle ?? 0);
        const active = reading.elu.active - (before?.active ?? 0);
        utilization = idle + active > 0 ? Math.round((active / (idle + active)) * 10_000) / 10_000 : 0;
        sinceStart = before === undefined;
        previous.set(reading.threadId, reading.elu);
      }
      ArrayPrototypePush(out, { threadId: reading.threadId, title: reading.title, url: reading.url, utilization, sinceStart });
    }
    for (const id of previous.keys()) if (!seen.has(id)) previous.delete(id);
    let unknown = false;
    for (const id of seen) if (!running.has(id)) unknown = true;
    if (!unknown) unseenBefore = false;
    return out;
  } catch (error) {
    log.debug({ err: error }, 'worker threads could not be listed');
    return null;
  }
}
