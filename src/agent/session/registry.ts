/**
 * Process-wide session state: the sessions that are running (for `hello`'s count and
 * `stats`), and the re-entrancy guard every hook checks first.
 */
import type { TraceSession } from './trace-session.js';

/** The engine never reports calls made by its own work (capture, socket writes) while this is non-zero. */
export const engine = { busy: 0 };

const active = new Set<TraceSession>();

export function activeSessions(): TraceSession[] {
  return [...active];
}

export function sessionStarted(session: TraceSession): void {
  active.add(session);
}

export function sessionStopped(session: TraceSession): void {
  active.delete(session);
}
