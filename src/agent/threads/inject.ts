/**
 * Worker threads of a program that was not started with the preload (an agent attached
 * later, or a Worker given its own execArgv): the main thread's agent loads the thread
 * agent into each worker itself, through the inspector's NodeWorker domain on an
 * in-process session. Enabling the domain reports every running worker (before the
 * enable call answers); into each, one fixed expression is evaluated that requires
 * threads/worker.js from this installation and starts it (the inspector's command-line
 * API lends `require`). livetrace's own probe worker is skipped, and a worker whose
 * preload already started the thread agent keeps that one (worker.ts: one per thread).
 *
 * Workers the domain reports later, as they start, are left alone: an evaluation that
 * arrives while a worker is still bootstrapping either finds no `require` yet or loads the
 * module system before Node has set it up, which kills the worker with
 * ERR_INTERNAL_ASSERTION (measured on Node 20). So without the preload, a worker started
 * after the first trace began is not traced; with it, every worker is.
 */
import { Session } from 'node:inspector';
import { join } from 'node:path';
import { agentEntry } from '../../protocol/install.js';
import { log } from '../log.js';

let session: Session | undefined;
/** The workers running when the domain was enabled have all been reported. */
let enabled = false;

function injection(): string {
  const file = join(agentEntry().root, 'dist', 'cjs', 'agent', 'threads', 'worker.js');
  return `(() => { const w = require('node:worker_threads'); if (w.workerData && typeof w.workerData.trampolineKey === 'string') return false; require(${JSON.stringify(file)}).startThreadAgent(); return true; })()`;
}

/** From now on, every worker thread of the process runs the thread agent. Once; never throws. */
export function reachWorkerThreads(): void {
  if (session !== undefined) return;
  try {
    const expression = injection();
    session = new Session();
    session.connect();
    session.on('NodeWorker.attachedToWorker', (message) => {
      if (enabled) return;
      const { sessionId } = (message as { params: { sessionId: string } }).params;
      const evaluate = { id: 1, method: 'Runtime.evaluate', params: { expression, includeCommandLineAPI: true } };
      session?.post('NodeWorker.sendMessageToWorker', { sessionId, message: JSON.stringify(evaluate) }, (error) => {
        if (error) log.debug({ err: error }, 'threads: could not load the thread agent into a worker');
      });
    });
    session.post('NodeWorker.enable', { waitForDebuggerOnStart: false }, (error) => {
      enabled = true;
      if (error) log.debug({ err: error }, 'threads: the NodeWorker domain is not available');
    });
  } catch (error) {
    log.debug({ err: error }, 'threads: worker threads are reached only under the preload');
  }
}
