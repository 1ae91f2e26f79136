/**
 * Attach: bring the agent into a Node process that was started without livetrace.
 *
 *   1. Check the pid: it exists, we may signal it, it is Node, and it catches SIGUSR1
 *      (otherwise the signal would kill it: refused, never sent).
 *   2. If an agent already answers on its socket, stop there.
 *   3. Make sure the inspector port is free or already the target's own inspector: a
 *      port held by another process is refused before any signal, and we never talk to
 *      a listener that is not the target's.
 *   4. SIGUSR1 opens the inspector on loopback; find it via /json/list (and, on Linux,
 *      via the listener the target gained), open one WebSocket session, and check that
 *      `process.pid` is the target's before evaluating anything else.
 *   5. Evaluate the one fixed bootstrap expression (bootstrap.ts), which loads the agent
 *      and reports where it listens.
 *   6. Close the inspector from inside the target and check the port refuses
 *      connections; then confirm the agent answers hello on its socket.
 *      Closing runs on every path, success or failure, whenever we opened the
 *      inspector. One we found open is closed too unless the process was started with
 *      --inspect/--inspect-brk/--inspect-wait (then someone wants it open): an inspector
 *      opened by an earlier SIGUSR1 is a debugger port nobody is minding, and security
 *      wins over a DevTools session that may be using it.
 *
 * Every wait is bounded by one deadline (timeoutMs), and closing gets its own budget
 * beyond it, so a failure late in the attach still closes the port.
 *
 * Attaches to one pid are serialized through a lock file (lock.ts): a second CLI waits for
 * the agent the first brings instead of racing it for the inspector.
 *
 * Phases 1 to 3 are checks.ts and agent-presence.ts; attachment.ts runs 4 to 6, finding
 * the inspector with find-inspector.ts.
 */
import { LivetraceError, isLivetraceError } from '../protocol/errors.js';
import { presentAgent } from './agent-presence.js';
import { Attachment, readEarly } from './attachment.js';
import { acquireAttachLock, acquirePortLock } from './lock.js';
import { checkAttachOptions, inspectorAddress, refuseUnsafeSignal } from './checks.js';
import { inspectTarget } from './target.js';
import { PhaseClock } from './timing.js';
import type { AttachOptions, AttachResult, EnsureAgentOptions } from './types.js';

export type { AttachOptions, AttachPhaseName, AttachResult, EnsureAgentOptions } from './types.js';

/**
 * Loads the livetrace agent into the Node process `pid` through its inspector, or
 * finds it already there. Throws a LivetraceError: LT_PID_NOT_FOUND, LT_PID_OTHER_USER,
 * LT_PID_NOT_NODE, LT_ATTACH_SIGUSR1_DISABLED, LT_ATTACH_INSPECTOR_EXPOSED,
 * LT_ATTACH_PORT_TAKEN, LT_ATTACH_NO_INSPECTOR, LT_ATTACH_NODE_TOO_OLD,
 * LT_ATTACH_TIMEOUT, LT_ATTACH_FAILED, or the agent's own code when it cannot listen.
 */
export async function attach(pid: number, options: AttachOptions = {}): Promise<AttachResult> {
  const clock = new PhaseClock();
  const timeoutMs = checkAttachOptions(options);
  const deadline = clock.start + timeoutMs;
  // The reads the attach needs before its signal, started at once: they run while the
  // target is inspected and its agent looked for (docs/benchmarks.md, branch attach8).
  const early = readEarly(pid);
  const target = await inspectTarget(pid);
  const present = await presentAgent(target, options);
  clock.mark('check');
  if (present !== undefined) {
    const ms = clock.elapsed();
    return { pid, alreadyPresent: true, socketPath: present, ms, inspectorLeftOpen: false, phases: clock.phases };
  }
  refuseUnsafeSignal(target);
  const address = inspectorAddress(target, options);
  const already = async (): Promise<AttachResult | undefined> => {
    const socketPath = await presentAgent(target, options).catch(() => undefined);
    return socketPath === undefined ? undefined : { pid, alreadyPresent: true, socketPath, ms: clock.elapsed(), inspectorLeftOpen: false, phases: clock.phases };
  };
  const lock = await acquireAttachLock(pid, options.socketDir, deadline, async () => (await already()) !== undefined);
  if (lock === 'settled') return (await already())!;
  if (lock === 'timeout') {
    throw new LivetraceError('LT_ATTACH_TIMEOUT', `another livetrace is attaching to process ${pid} and its agent did not answer in time`, {
      input: pid,
      hint: 'Try again in a moment; nothing was signalled by this command.',
    });
  }
  try {
    // The lock may have been free because another attach just finished: its agent counts.
    const settled = await already();
    if (settled !== undefined) return settled;
    // Another attach of ours may hold the inspector port for a moment (to another pid):
    // wait for it, at most half the time left, rather than report the port taken.
    // The port is the machine's, not the socket directory's: the lock lives in the user's default directory.
    const port = address.port === 0 ? undefined : await acquirePortLock(address.port, (performance.now() + deadline) / 2);
    try {
      // Reads made before a wait for another attach's lock may be stale (its inspector opened and closed meanwhile): read again.
      const fresh = lock.waited || port?.waited === true ? undefined : early;
      return await new Attachment(target, address, clock, deadline, options, fresh).run();
    } finally {
      port?.release();
    }
  } catch (error) {
    // A failure of the inspector session itself (an attach of another copy of livetrace
    // that overlapped ours closed it) may have loaded the agent all the same: an agent that
    // answers is what the caller asked for. Timeouts keep their own report (late-inspector.ts).
    if (isLivetraceError(error) && error.code === 'LT_ATTACH_FAILED') {
      const found = await already();
      if (found !== undefined) return found;
    }
    throw error;
  } finally {
    lock.release();
  }
}

/**
 * Makes sure an agent answers in `pid` and says where: attaches when none does, unless
 * `attach: false`, which turns an absent agent into LT_NO_AGENT. This is what commands
 * that talk to an agent (trace, ls) call first.
 */
export async function ensureAgent(pid: number, options: EnsureAgentOptions = {}): Promise<AttachResult> {
  if (options.attach !== false) return attach(pid, options);
  const clock = new PhaseClock();
  const target = await inspectTarget(pid);
  const present = await presentAgent(target, options);
  clock.mark('check');
  if (present === undefined) {
    throw new LivetraceError('LT_NO_AGENT', `no livetrace agent answers in process ${pid}`, {
      input: pid,
      hint: `Attach with 'livetrace attach ${pid}' (or leave out --no-attach), or start the process with --import livetrace/register.`,
    });
  }
  const ms = clock.elapsed();
  return { pid, alreadyPresent: true, socketPath: present, ms, inspectorLeftOpen: false, phases: clock.phases };
}
