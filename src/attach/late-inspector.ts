/**
 * After a failed attach: what the target may still do with our signal, watched until it
 * is settled, so a failure never leaves a debugger port open behind it.
 *
 * A SIGUSR1 cannot be taken back. Node handles it on a helper thread, which asks the main
 * thread to open the inspector; a main thread busy in a synchronous loop, or blocked in a
 * system call, opens it only when it gets control, which may be long after our timeout.
 * Likewise an evaluation we sent (the bootstrap) may finish only when the loop yields, so
 * the agent can load after attach reported failure. Node offers no way to cancel either,
 * and nothing outside the target can tell how long it stays blocked, so the CLI watches:
 *
 * - an inspector of the target that opens late (on the expected port, or as a listener
 *   it gained since the signal) is verified to be the target's and closed with the same
 *   fixed expression as always (bootstrap.ts), which also closes whatever the signal's
 *   pending request reopens once the loop turns;
 * - when the bootstrap was sent, the agent answering hello proves the loop has turned:
 *   the watch then ends once no inspector of the target listens;
 * - the target exiting ends it too.
 *
 * The watch is bounded (LATE_WATCH_MS). We chose to keep the CLI waiting rather than hand
 * off to a detached watcher process: the CLI can then say in its error what happened (the
 * inspector opened late and was closed; the agent loaded after all), nothing is left
 * running behind the user's back with no owner to report to, and a library caller of
 * attach() gets the same guarantee without us spawning processes. Past the bound the
 * error says plainly that the signal is still pending and what to run.
 */
import type { AttachOptions } from './types.js';
import { presentAgent } from './agent-presence.js';
import { closeInspectorExpression, pidExpression } from './bootstrap.js';
import { endpointText } from './find-inspector.js';
import { InspectorSession, listTargets, portAccepts, type InspectorEndpoint, type InspectorTarget } from './inspector.js';
import { newPortsOf, portHolder } from './listeners.js';
import type { TargetProcess } from './target.js';
import { sleep } from './timing.js';

/** How long after a failed attach the CLI keeps watching for a late inspector, in ms. */
export const LATE_WATCH_MS = 30_000;
const WATCH_POLL_MS = 50;

export interface LateWatch {
  target: TargetProcess;
  address: InspectorEndpoint;
  /** The target's socket inodes before the signal (undefined without /proc). */
  socketsBefore: Set<string> | undefined;
  /** The bootstrap was sent and did not answer: the agent may still load. */
  bootstrapPending: boolean;
  options: AttachOptions;
}

export interface LateOutcome {
  /** The target exited during the watch. */
  exited: boolean;
  /** Inspectors of the target the watch found open and closed. */
  closed: InspectorEndpoint[];
  /** An inspector of the target still listens at the end (could not be closed). */
  stillOpen: InspectorEndpoint | undefined;
  /** The watch ended at its bound without seeing the signal settle. */
  unsettled: boolean;
  /** The socket of an agent that answered after the failure. */
  agent: string | undefined;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Inspector endpoints of the target listening now: new listeners since the signal, and the expected port when it is the target's. */
async function openEndpoints(watch: LateWatch): Promise<InspectorEndpoint[]> {
  const { pid } = watch.target;
  const out: InspectorEndpoint[] = [];
  const now = watch.socketsBefore === undefined ? undefined : await newPortsOf(pid, watch.socketsBefore);
  if (now !== undefined) {
    for (const port of now) out.push({ host: watch.address.host, port });
    return out;
  }
  // Without /proc: the expected port, when something answers there (checked to be the target's before use).
  if (watch.address.port !== 0) {
    const holder = await portHolder(pid, watch.address.port);
    if (holder === 'target' || (holder === 'unknown' && (await portAccepts(watch.address, 250)))) out.push(watch.address);
  }
  return out;
}

/** Verifies that `endpoint` is the target's inspector and closes it; true when its port then refuses. */
export async function closeLate(pid: number, endpoint: InspectorEndpoint, budgetMs: number): Promise<boolean> {
  const by = performance.now() + budgetMs;
  const left = (): number => Math.max(1, Math.ceil(by - performance.now()));
  let targets: InspectorTarget[];
  try {
    targets = await listTargets(endpoint, Math.min(1000, left()));
  } catch {
    return false; // not an inspector (yet)
  }
  const session = await InspectorSession.connect((targets[0] as InspectorTarget).webSocketUrl, left());
  try {
    if ((await session.evaluate(pidExpression, left())) !== pid) return false;
    await session.evaluateClosing(closeInspectorExpression, left());
  } finally {
    session.dispose();
  }
  while (performance.now() < by) {
    if (!(await portAccepts(endpoint, Math.min(250, left())))) return true;
    await sleep(WATCH_POLL_MS);
  }
  return false;
}

/** Watches the target after a failed attach until the signal has settled, it exits, or budgetMs passes. */
export async function watchLateInspector(watch: LateWatch, budgetMs = LATE_WATCH_MS): Promise<LateOutcome> {
  const { pid } = watch.target;
  const outcome: LateOutcome = { exited: false, closed: [], stillOpen: undefined, unsettled: false, agent: undefined };
  const by = performance.now() + budgetMs;
  for (;;) {
    if (!alive(pid)) {
      outcome.exited = true;
      outcome.stillOpen = undefined;
      return outcome;
    }
    const open = await openEndpoints(watch).catch(() => []);
    outcome.stillOpen = undefined;
    for (const endpoint of open) {
      const closed = await closeLate(pid, endpoint, Math.max(1, by - performance.now())).catch(() => false);
      if (closed) {
        if (!outcome.closed.some((e) => e.port === endpoint.port)) outcome.closed.push(endpoint);
      } else {
        outcome.stillOpen = endpoint;
      }
    }
    // Settled: the loop has turned since our request (the agent answers, or an inspector
    // opened late and was closed with the expression that also outlasts the pending
    // request), and no inspector of the target listens now.
    if (watch.bootstrapPending && outcome.agent === undefined) {
      outcome.agent = await presentAgent(watch.target, watch.options).catch(() => undefined);
    }
    const turned = watch.bootstrapPending ? outcome.agent !== undefined : outcome.closed.length > 0;
    if (turned && open.length === 0) return outcome;
    if (performance.now() >= by) {
      outcome.unsettled = !turned;
      return outcome;
    }
    await sleep(Math.min(WATCH_POLL_MS, Math.max(1, by - performance.now())));
  }
}

/** What the watch found, as a clause for the error message. */
export function describeLate(outcome: LateOutcome, watch: LateWatch, closedDuringAttach: InspectorEndpoint | undefined): string {
  const { pid } = watch.target;
  const parts: string[] = [];
  if (closedDuringAttach) parts.push(`the inspector on ${endpointText(closedDuringAttach)} was closed`);
  for (const endpoint of outcome.closed) {
    if (closedDuringAttach?.port === endpoint.port) parts.push(`it reopened late at ${endpointText(endpoint)} and was closed`);
    else parts.push(`the inspector opened late at ${endpointText(endpoint)} and was closed`);
  }
  if (outcome.exited) parts.push(`process ${pid} exited`);
  if (outcome.agent !== undefined) parts.push(`the agent loaded after the timeout and answers on ${outcome.agent}`);
  if (outcome.stillOpen) {
    parts.push(`the inspector of process ${pid} on ${endpointText(outcome.stillOpen)} is STILL OPEN: close it with 'livetrace attach ${pid}' or restart the process`);
  } else if (outcome.unsettled) {
    parts.push(
      `process ${pid} has not handled the signal after ${Math.round(LATE_WATCH_MS / 1000)} s more: its inspector may still open on ` +
        `${endpointText(watch.address)} when its main thread yields; run 'livetrace attach ${pid}' then (it closes it)`,
    );
  } else if (!outcome.exited) {
    parts.push(`no inspector of process ${pid} is open`);
  }
  return parts.join('; ');
}
