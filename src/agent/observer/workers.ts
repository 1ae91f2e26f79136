/**
 * The worker threads of `livetrace info`, with their own event-loop utilization.
 *
 * The main thread has no list of the process's workers (a Worker object is only known to
 * the code that made it), so the list comes from the inspector: the observer's inspector
 * worker enables the NodeWorker domain, asks each worker for
 * `performance.eventLoopUtilization()` and disables the domain again (inspector-worker.ts).
 * The readings are cumulative; each connection keeps its previous ones, so from the second
 * info on a worker's figure covers the interval, as the main thread's does.
 */
import { LivetraceError } from '../../protocol/errors.js';
import type { WorkerThreadInfo } from '../../protocol/observer.js';
import { ArrayPrototypePush } from '../../safe/intrinsics.js';
import { log } from '../log.js';
import { inspectorLink } from './inspector-link.js';

/** How long one worker may take to answer. */
const WORKER_ANSWER_MS = 500;

export type WorkerMemory = Map<number, { idle: number; active: number }>;

export async function workerThreads(previous: WorkerMemory): Promise<WorkerThreadInfo[] | null> {
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
    return out;
  } catch (error) {
    log.debug({ err: error }, 'worker threads could not be listed');
    return null;
  }
}
