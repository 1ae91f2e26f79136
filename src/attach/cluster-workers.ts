/**
 * The inspectors a cluster primary's workers open when the primary's opens.
 *
 * When a Node process opens its inspector (SIGUSR1 included), Node emits
 * `internalMessage { cmd: 'NODE_DEBUG_ENABLED' }` in it, and the cluster module of a
 * primary answers by sending SIGUSR1 to every online worker (`process._debugProcess`).
 * Each worker then opens its own inspector on its own debug port: the primary's port
 * plus the worker's number when the primary was started with an `--inspect-port`, else
 * 9229, the port the primary holds (so they fail and print `Starting inspector on
 * 127.0.0.1:9229 failed: address already in use` into the shared stderr). Where a
 * worker's port is free, it opened a debugger that nobody minds and that stays open, and
 * attaching to the primary must close it as it closes the primary's.
 *
 * Nothing can stop the forwarding from outside: it runs inside the primary, synchronously,
 * before any code of ours could. So attach lists the primary's workers before the signal
 * (children whose environment holds NODE_UNIQUE_ID, Linux only), notes their listening
 * ports, and afterwards closes any inspector a worker gained, each checked to be that
 * worker's (its `process.pid`) before the close expression is evaluated. A worker opens
 * at once when its thread is free; one blocked in synchronous code opens when it yields,
 * which attach does not wait for (docs/security.md).
 */
import { readFile } from 'node:fs/promises';
import type { InspectorEndpoint } from './inspector.js';
import { closeLate } from './late-inspector.js';
import { portsOf } from './listeners.js';
import { sleep } from './timing.js';

export interface ClusterWorkers {
  /** Each worker's listening ports before the signal. */
  readonly before: Map<number, Set<number>>;
}

/** Child pids of `pid` (Linux), or [] when they cannot be read. */
async function childrenOf(pid: number): Promise<number[]> {
  try {
    const text = await readFile(`/proc/${pid}/task/${pid}/children`, 'utf8');
    return text
      .split(' ')
      .filter((s) => s.trim() !== '')
      .map(Number)
      .filter((n) => Number.isInteger(n) && n > 0);
  } catch {
    return [];
  }
}

async function isClusterWorker(pid: number): Promise<boolean> {
  try {
    const environ = await readFile(`/proc/${pid}/environ`, 'latin1');
    return environ.split('\0').some((entry) => entry.startsWith('NODE_UNIQUE_ID='));
  } catch {
    return false;
  }
}

/** The primary's cluster workers with their listening ports now; undefined when it has none (or off Linux). */
export async function clusterWorkersOf(pid: number): Promise<ClusterWorkers | undefined> {
  if (process.platform !== 'linux') return undefined;
  const before = new Map<number, Set<number>>();
  for (const child of await childrenOf(pid)) {
    if (!(await isClusterWorker(child))) continue;
    const ports = await portsOf(child);
    if (ports !== undefined) before.set(child, ports);
  }
  return before.size === 0 ? undefined : { before };
}

export interface WorkerInspector {
  pid: number;
  endpoint: InspectorEndpoint;
  /** Always true: only inspectors that were closed are reported. */
  closed: boolean;
}

/**
 * Closes the inspectors the workers gained since `workers` was taken. Looks for
 * `settleMs` (the workers answer the forwarded signal at once when free) and returns the
 * ones it closed.
 */
export async function closeWorkerInspectors(workers: ClusterWorkers, host: string, settleMs: number, budgetMs: number): Promise<WorkerInspector[]> {
  const found: WorkerInspector[] = [];
  const settleBy = performance.now() + settleMs;
  const by = performance.now() + budgetMs;
  for (;;) {
    for (const [pid, before] of workers.before) {
      const now = await portsOf(pid);
      if (now === undefined) continue;
      for (const port of now) {
        if (before.has(port) || found.some((f) => f.pid === pid && f.endpoint.port === port && f.closed)) continue;
        // A port that is not (yet) an inspector of this worker is left alone and looked at again.
        const endpoint = { host, port };
        if (await closeLate(pid, endpoint, Math.max(1, by - performance.now())).catch(() => false)) found.push({ pid, endpoint, closed: true });
      }
    }
    if (performance.now() >= settleBy || performance.now() >= by) return found;
    await sleep(50);
  }
}
