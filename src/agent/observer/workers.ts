/**
 * The worker threads of `livetrace info`, with their own event-loop utilization.
 *
 * The main thread has no list of the process's workers (a Worker object is only known to
 * the code that made it), so the list can come from the inspector: the observer's
 * inspector worker enables the NodeWorker domain and asks each worker for
 * `performance.eventLoopUtilization()` (inspector-worker.ts). The readings are cumulative;
 * each connection keeps its previous ones, so from the second info on a worker's figure
 * covers the interval, as the main thread's does.
 *
 * That round trip is most of what a full info costs the process (a message to the
 * inspector worker, its wake-up, a message through the main thread to each worker and
 * back: half a millisecond and more of CPU), and most processes have no worker at all.
 * So the main thread keeps its own list: Node announces every Worker the thread creates
 * (process 'worker', Node >= 16.14) and the worker's 'exit' says when it is gone. A Worker
 * object also reads its thread's loop times from this side (parentElu). What the list
 * lacks is a worker's name (in the inspector's title, and nowhere else) and the workers
 * started before the agent loaded: a short synchronous NodeWorker listing on a session of
 * the main thread's own (listNow) gives both, once per new worker. Only while workers
 * older than the agent run, which have no Worker object we know, is the inspector worker
 * asked; a worker cannot start before the agent again, so once the listing shows none is
 * left, it never is. A count that errs (a program that removes our 'exit' listener) errs
 * towards listing a finished worker while its object lives; it then reads as idle.
 */
import { LivetraceError } from '../../protocol/errors.js';
import type { WorkerThreadInfo } from '../../protocol/observer.js';
import { Session } from 'node:inspector';
import type { Worker } from 'node:worker_threads';
import { EventEmitter } from 'node:events';
import { ArrayPrototypePush, ReflectApply, SafeMap, SafeSet } from '../../safe/intrinsics.js';
import { log } from '../log.js';
import { isOwnWorker } from '../own-worker.js';
import { inspectorLink } from './inspector-link.js';

/** How long one worker may take to answer. */
const WORKER_ANSWER_MS = 500;

export type WorkerMemory = Map<number, { idle: number; active: number }>;

/** The program's workers this thread started since the agent loaded, still running, by thread id. */
const running = new SafeMap<number, Worker>();
/** Their inspector titles and urls, once the inspector has listed them. */
const named = new SafeMap<number, { title: string; url: string }>();
/** Thread ids of livetrace's own workers (left out of the listing). */
const ownIds = new SafeSet<number>();
/** Workers started before the agent loaded may be running (only the inspector sees those). */
let unseenBefore = true;
/** The synchronous listing ran once (it settles unseenBefore for a process without older workers). */
let listedOnce = false;

// Node's own `once`, as the program found it: a Worker (or a replaced EventEmitter method)
// runs none of the program's code when we listen. Pristine collections for the same reason:
// these run in the program's events, where a replaced Set#delete would throw into it.
const emitterOnce = EventEmitter.prototype.once;

process.on('worker', (worker) => {
  try {
    const id = worker.threadId;
    // -1: it ended before Node announced it.
    if (id < 0 || isNodeInternal(worker)) return;
    const own = isOwnWorker(worker);
    if (own) ownIds.add(id);
    else running.set(id, worker);
    ReflectApply(emitterOnce, worker, [
      'exit',
      () => {
        try {
          running.delete(id);
          named.delete(id);
          ownIds.delete(id);
        } catch {
          // As above: nothing of ours reaches the program.
        }
      },
    ]);
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

/**
 * A counted worker's loop utilization read from this thread: Node gives every Worker
 * object `performance.eventLoopUtilization()`, which reads the worker's loop times from
 * its handle (a microsecond, no message to the worker, and an answer even from a loop
 * stuck in Atomics.wait). The same cumulative figures the worker would report itself.
 * Read as an own data property, so no getter of the program's runs.
 */
function parentElu(worker: Worker): { idle: number; active: number } | null {
  try {
    const performance = Object.getOwnPropertyDescriptor(worker, 'performance')?.value as { eventLoopUtilization?: unknown } | undefined;
    const read = typeof performance === 'object' && performance !== null ? Object.getOwnPropertyDescriptor(performance, 'eventLoopUtilization')?.value : undefined;
    if (typeof read !== 'function') return null;
    const elu = ReflectApply(read as () => { idle: number; active: number }, performance, []);
    return typeof elu?.idle === 'number' && typeof elu.active === 'number' ? { idle: elu.idle, active: elu.active } : null;
  } catch {
    return null;
  }
}

/** The program's worker threads as far as the count knows (tests). */
export function countedWorkers(): { running: number; unseenBefore: boolean } {
  return { running: running.size, unseenBefore };
}

interface Reading {
  threadId: number;
  title: string;
  url: string;
  elu: { idle: number; active: number } | null;
}

/**
 * The list: from the count alone when it knows every worker and their names, else from
 * the inspector (which names them, and sees workers older than the agent).
 */
export async function workerThreads(previous: WorkerMemory): Promise<WorkerThreadInfo[] | null> {
  let unnamed = false;
  for (const id of running.keys()) if (!named.has(id)) unnamed = true;
  // While older workers run, the inspector worker's answer names and settles (below).
  if (unseenBefore ? !listedOnce : unnamed) {
    listedOnce = true;
    settle(listNow());
  }
  if (!unseenBefore && running.size === 0) {
    previous.clear();
    return [];
  }
  let readings: Reading[];
  if (unseenBefore) {
    const listed = await inspectorList();
    if (listed === null) return null;
    readings = listed;
    settle(listed);
    // One source per worker across a connection's readings: this thread's, as below.
    for (const reading of listed) {
      const worker = running.get(reading.threadId);
      if (worker !== undefined) reading.elu = parentElu(worker) ?? reading.elu;
    }
  } else {
    readings = [];
    for (const [threadId, worker] of running) {
      // Started since the listing: next time.
      const name = named.get(threadId);
      if (name !== undefined) ArrayPrototypePush(readings, { threadId, title: name.title, url: name.url, elu: parentElu(worker) });
    }
    readings.sort((a, b) => a.threadId - b.threadId);
  }
  const seen = new SafeSet<number>();
  const out: WorkerThreadInfo[] = [];
  for (const reading of readings) {
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
}

/**
 * Names the counted workers from a listing, and ends unseenBefore when it shows no worker
 * the count does not know.
 */
function settle(listed: Array<{ threadId: number; title: string; url: string }> | undefined): void {
  if (listed === undefined) return;
  let older = false;
  for (const worker of listed) {
    if (ownIds.has(worker.threadId)) continue;
    if (running.has(worker.threadId)) named.set(worker.threadId, { title: worker.title, url: worker.url });
    else older = true;
  }
  if (!older) unseenBefore = false;
}

/**
 * The main thread's workers as the inspector knows them, now: on a session of this
 * thread's own, the inspector answers synchronously, and enabling the NodeWorker domain
 * reports every running worker before the call returns (the session attached to each is
 * detached again at once). About a millisecond, paid when a new worker shows up.
 * Undefined when the inspector cannot tell.
 */
function listNow(): Array<{ threadId: number; title: string; url: string }> | undefined {
  const session = new Session();
  const out: Array<{ threadId: number; title: string; url: string }> = [];
  try {
    session.connect();
    session.on('NodeWorker.attachedToWorker', (message: { params: { workerInfo: { title: string; url: string } } }) => {
      const { title, url } = message.params.workerInfo;
      // Node's own threads (the module loader's hooks) are not the program's.
      if (!url.startsWith('node:internal/')) ArrayPrototypePush(out, { threadId: threadOf(title), title, url });
    });
    session.post('NodeWorker.enable', { waitForDebuggerOnStart: false });
    session.post('NodeWorker.disable');
    return out;
  } catch (error) {
    log.debug({ err: error }, 'no worker list from the inspector');
    return undefined;
  } finally {
    try {
      session.disconnect();
    } catch {
      // Not connected.
    }
  }
}

/** Node titles a worker '[worker <threadId>] <name>'. */
function threadOf(title: string): number {
  return Number(/^\[worker (\d+)\]/.exec(title)?.[1] ?? NaN);
}

async function inspectorList(): Promise<Reading[] | null> {
  try {
    const link = await inspectorLink();
    const { reply } = await link.request(
      { op: 'workers', timeoutMs: WORKER_ANSWER_MS },
      { deadlineMs: WORKER_ANSWER_MS + 2000, onDeadline: () => new LivetraceError('LT_INSPECTOR_UNAVAILABLE', 'the worker list did not come in time') },
    );
    return (reply.workers ?? []).map((reading) => ({ ...reading }));
  } catch (error) {
    log.debug({ err: error }, 'worker threads could not be listed');
    return null;
  }
}
