/**
 * Finding the target's inspector: one already open on the expected port (checked to be
 * the target's own before we use it), or the one SIGUSR1 opens, wherever it opens.
 */
import { LivetraceError } from '../protocol/errors.js';
import { pidExpression } from './bootstrap.js';
import { InspectorSession, listTargets, portAccepts, type InspectorEndpoint, type InspectorTarget } from './inspector.js';
import { holderIn, newPortsOf, portBindable, portHolder, type ListenerTable } from './listeners.js';
import { POLL_MS, sleep } from './timing.js';

/** How often the wait for the inspector reads the target's listeners when it has a port to try. */
const LISTENERS_EVERY_MS = 25;

/** An inspector of the target, found on `endpoint`. */
export interface FoundInspector {
  endpoint: InspectorEndpoint;
  target: InspectorTarget;
}

/**
 * Before signalling: a session on the port's inspector when it already serves the target's
 * own (then we use it instead of signalling); throws LT_ATTACH_PORT_TAKEN when another process
 * holds it; undefined when it is free. `remaining` is the time left, and throws at the deadline.
 */
export async function findOpenInspector(
  pid: number,
  address: InspectorEndpoint,
  remaining: () => number,
  /** The target's listener table, if the caller read it already (listeners.ts). */
  table?: Promise<ListenerTable | undefined>,
): Promise<(FoundInspector & { session: InspectorSession }) | undefined> {
  if (table === undefined && (await portBindable(address)) === true) return undefined;
  const read = table === undefined ? undefined : await table;
  const holder = read === undefined ? await portHolder(pid, address.port) : holderIn(read, address.port);
  if (holder === 'other') throw portTaken(address, `another process listens on ${endpointText(address)}`);
  if (holder === 'none') return undefined;
  if (holder === 'unknown' && !(await portAccepts(address, Math.min(500, remaining())))) return undefined;
  let targets: InspectorTarget[];
  try {
    targets = await listTargets(address, Math.min(1000, remaining()));
  } catch {
    const who = holder === 'target' ? `process ${pid} itself listens on ${endpointText(address)}` : `${endpointText(address)} is in use`;
    throw portTaken(address, `${who}, and not with its inspector`);
  }
  const first = targets[0] as InspectorTarget;
  const session = await InspectorSession.connect(first.webSocketUrl, remaining());
  let seen: unknown;
  try {
    seen = await session.evaluate(pidExpression, remaining());
  } catch (error) {
    session.dispose();
    throw error;
  }
  if (seen !== pid) {
    session.dispose();
    throw portTaken(address, `the inspector on ${endpointText(address)} belongs to process ${String(seen)}`);
  }
  return { session, endpoint: address, target: first };
}

/**
 * Polls until `deadline` for the inspector SIGUSR1 opened: on the expected port, or as a
 * new listener of the target (one whose socket is not among `socketsBefore`, its socket inodes before the signal).
 */
export async function waitForInspector(
  pid: number,
  address: InspectorEndpoint,
  deadline: number,
  socketsBefore: Set<string> | undefined,
): Promise<FoundInspector> {
  // With a port to expect, it is tried every POLL_MS and the listeners are read every
  // LISTENERS_EVERY_MS from then on: the inspector opens 1-10 ms after the signal in a
  // target that is not busy, and a read of the listener table (10-15 ms of the kernel's
  // time) between two tries of the port found it that much later (branch attach8). An
  // inspector that opened elsewhere is still found, LISTENERS_EVERY_MS later at most.
  let listenersAt = performance.now() + LISTENERS_EVERY_MS;
  for (;;) {
    const left = deadline - performance.now();
    if (left <= 0) break;
    const tryEndpoint = async (endpoint: InspectorEndpoint): Promise<FoundInspector | undefined> => {
      try {
        const targets = await listTargets(endpoint, Math.max(1, Math.min(250, Math.ceil(left))));
        return { endpoint, target: targets[0] as InspectorTarget };
      } catch {
        return undefined; // not (yet) an inspector
      }
    };
    // The expected port first: a refused connection answers at once, where reading the
    // target's listeners costs the kernel about 10 ms (listeners.ts).
    const expected = address.port === 0 ? undefined : await tryEndpoint(address);
    if (expected !== undefined) return expected;
    if (socketsBefore !== undefined && (address.port === 0 || performance.now() >= listenersAt)) {
      listenersAt = performance.now() + LISTENERS_EVERY_MS;
      const now = await newPortsOf(pid, socketsBefore);
      for (const port of now ?? []) {
        if (port === address.port) continue;
        const found = await tryEndpoint({ host: address.host, port });
        if (found !== undefined) return found;
      }
    }
    await sleep(POLL_MS);
  }
  // The signal may still open the inspector later (a main thread blocked in a system
  // call handles it only when it returns); say so, since we cannot close it then.
  throw new LivetraceError(
    'LT_ATTACH_NO_INSPECTOR',
    `process ${pid} got SIGUSR1 but no inspector opened on ${endpointText(address)} within the timeout`,
    {
      input: pid,
      hint:
        "The process may handle SIGUSR1 itself (process.on('SIGUSR1')), or its main thread may be blocked. If the " +
        `inspector opens later, run 'livetrace attach ${pid}' again: it uses that inspector and closes it.`,
    },
  );
}

/** LT_ATTACH_PORT_TAKEN for the port attach expected the inspector on. */
export function portTaken(address: InspectorEndpoint, message: string): LivetraceError {
  return new LivetraceError('LT_ATTACH_PORT_TAKEN', message, { input: address.port });
}

export function endpointText(endpoint: InspectorEndpoint): string {
  return `${endpoint.host}:${endpoint.port}`;
}
