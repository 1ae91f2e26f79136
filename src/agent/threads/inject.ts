/**
 * Worker threads of a program that was not started with the preload (an agent attached
 * later, or a Worker given its own execArgv): the main thread's agent loads the thread
 * agent into each worker itself, through the inspector's NodeWorker domain on an
 * in-process session. Enabling the domain reports every running worker, and every worker
 * started later as it starts; into each, one fixed expression is evaluated that requires
 * threads/worker.js from this installation and starts it (through
 * process.getBuiltinModule('node:module').createRequire, not the inspector's command-line
 * API: installing that API in a worker Node was tearing down crashed the process with
 * SIGSEGV, see own-worker.ts). livetrace's own workers are never sent anything (told by
 * their inspector title), and a worker whose preload already started the thread agent
 * keeps that one (worker.ts: one per thread).
 *
 * When: a worker is reported as soon as its inspector exists, long before Node has set up
 * its module system. An evaluation that needs `require` then either finds none or loads
 * the CommonJS loader before Node has initialized it, which kills the worker with
 * ERR_INTERNAL_ASSERTION (Node 20, 22 and 24 alike: loading a file into workers the moment
 * they are reported killed 8 to 14 of 40). The safe moment is visible from outside: Node's
 * worker bootstrap (lib/internal/main/worker_thread.js) sets up the module loaders, then
 * puts the script's path (or '[worker eval]') at process.argv[1], then runs the script. So
 * each worker is first asked, with an evaluation that has no side effects
 * (throwOnSideEffect, no command-line API: nothing is loaded, nothing can change), whether
 * process.argv[1] is its script yet; only then is the thread agent loaded (40 of 40 workers
 * loaded, none harmed, on each of Node 20, 22 and 24; test/integration/threads.test.ts).
 * The same check serves workers that were running when the domain was enabled (they
 * answer yes at once) and workers that were still starting then. A worker whose argv[1]
 * never becomes its script (a `type: 'module'` eval worker, or a program that rewrites
 * argv[1] first) is left alone after PROBE_LIMIT_MS, untraced and unharmed.
 */
import { Session } from 'node:inspector';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { agentEntry } from '../../protocol/install.js';
import { SafeMap } from '../../safe/intrinsics.js';
import { log } from '../log.js';
import { isOwnWorkerTitle } from '../own-worker.js';

/** Between two probes of a starting worker, ms. */
const PROBE_EVERY_MS = 10;
/** A worker not started after this long is left alone, ms. */
const PROBE_LIMIT_MS = 60_000;

let session: Session | undefined;
let nextId = 1;
/** Answers awaited from workers, by `${sessionId}:${id}`. */
const pending = new SafeMap<string, (reply: { result?: { result?: { value?: unknown } } } | undefined) => void>();

function injection(): string {
  const file = JSON.stringify(join(agentEntry().root, 'dist', 'cjs', 'agent', 'threads', 'worker.js'));
  // getBuiltinModule is in every Node livetrace supports (20.16+); without it the worker is left alone.
  return `(() => { if (typeof process.getBuiltinModule !== 'function') return false; process.getBuiltinModule('node:module').createRequire(${file})(${file}).startThreadAgent(); return true; })()`;
}

/** True once the worker's bootstrap has put its script at argv[1]: its module loaders are set up. */
function startedProbe(url: string): string {
  let script = '[worker eval]';
  if (url !== '') {
    try {
      script = fileURLToPath(url);
    } catch {
      script = url;
    }
  }
  return `typeof process === 'object' && process !== null && Array.isArray(process.argv) && process.argv[1] === ${JSON.stringify(script)}`;
}

/** One command to a worker's inspector; resolves with its answer, or undefined once the worker is gone. */
function ask(sessionId: string, method: string, params: object): Promise<{ result?: { result?: { value?: unknown } } } | undefined> {
  return new Promise((resolve) => {
    const current = session;
    if (current === undefined) return resolve(undefined);
    const id = nextId++;
    pending.set(`${sessionId}:${id}`, resolve);
    current.post('NodeWorker.sendMessageToWorker', { sessionId, message: JSON.stringify({ id, method, params }) }, (error) => {
      if (error === null || error === undefined) return;
      pending.delete(`${sessionId}:${id}`);
      resolve(undefined);
    });
  });
}

function received(message: unknown): void {
  const { sessionId, message: text } = (message as { params: { sessionId: string; message: string } }).params;
  let reply: { id?: unknown };
  try {
    reply = JSON.parse(text) as { id?: unknown };
  } catch {
    return;
  }
  if (typeof reply.id !== 'number') return;
  const key = `${sessionId}:${reply.id}`;
  const resolve = pending.get(key);
  if (resolve === undefined) return;
  pending.delete(key);
  resolve(reply as { result?: { result?: { value?: unknown } } });
}

/** The worker exited: whatever was asked of it gets no answer. */
function detached(message: unknown): void {
  const { sessionId } = (message as { params: { sessionId: string } }).params;
  for (const [key, resolve] of pending) {
    if (key.startsWith(`${sessionId}:`)) {
      pending.delete(key);
      resolve(undefined);
    }
  }
}

/**
 * Waits until the worker has started (startedProbe), then loads the thread agent into it.
 * Probes go out on a timer (backing off from PROBE_EVERY_MS to a second) without waiting
 * for the previous answer: on Node 24, under many workers starting at once, a worker's
 * answer was once seen to reach the main thread 10 to 15 s late, and only when something
 * else made the main thread process the inspector's queue; the next probe sent does.
 * Not seen again (Node 24.22, 20.20; pools of four started at once, load 10 to 18): each
 * answer came within 2 to 25 ms and a worker was found started 40 to 100 ms after it was
 * reported. What a late worker waits for is CPU: loading the thread agent (0.5 to 1.3 s
 * on that load) and starting its session (threads.perf.test.ts measures the whole).
 */
function reach(sessionId: string, url: string, expression: string): Promise<void> {
  const probe = startedProbe(url);
  const deadline = Date.now() + PROBE_LIMIT_MS;
  return new Promise<void>((done) => {
    let settled = false;
    let every = PROBE_EVERY_MS;
    let timer: NodeJS.Timeout | undefined;
    const finish = (load: boolean): void => {
      if (settled) return;
      settled = true;
      if (timer !== undefined) clearTimeout(timer);
      if (!load) return done();
      ask(sessionId, 'Runtime.evaluate', { expression, silent: true }).then((loaded) => {
        if (loaded?.result?.result?.value === undefined) log.debug({ url, answer: loaded }, 'threads: could not load the thread agent into a worker');
        done();
      }, done);
    };
    const send = (): void => {
      if (settled) return;
      if (Date.now() > deadline) {
        log.debug({ url }, 'threads: a worker never showed its script in argv[1]; left alone');
        return finish(false);
      }
      ask(sessionId, 'Runtime.evaluate', { expression: probe, throwOnSideEffect: true, returnByValue: true, silent: true }).then(
        (answer) => {
          if (answer === undefined) finish(false);
          else if (answer.result?.result?.value === true) finish(true);
        },
        () => finish(false),
      );
      timer = setTimeout(send, every);
      timer.unref();
      every = Math.min(1000, every * 2);
    };
    send();
  });
}

/** From now on, every worker thread of the process runs the thread agent. Once; never throws. */
export function reachWorkerThreads(): void {
  if (session !== undefined) return;
  try {
    const expression = injection();
    session = new Session();
    session.connect();
    session.on('NodeWorker.receivedMessageFromWorker', received);
    session.on('NodeWorker.detachedFromWorker', detached);
    session.on('NodeWorker.attachedToWorker', (message) => {
      const { sessionId, workerInfo } = (message as { params: { sessionId: string; workerInfo: { url?: string; title?: string } } }).params;
      if (isOwnWorkerTitle(workerInfo.title ?? '')) return;
      reach(sessionId, workerInfo.url ?? '', expression).catch((error: unknown) => log.debug({ err: error }, 'threads: reaching a worker failed'));
    });
    session.post('NodeWorker.enable', { waitForDebuggerOnStart: false }, (error) => {
      if (error) log.debug({ err: error }, 'threads: the NodeWorker domain is not available');
    });
  } catch (error) {
    log.debug({ err: error }, 'threads: worker threads are reached only under the preload');
  }
}
