/**
 * Process-wide session state: the sessions that are running (for `hello`'s count and
 * `stats`), and the re-entrancy guard every hook checks first.
 */
import { ArrayPrototypePush, SetPrototypeAdd, SetPrototypeDelete, SetPrototypeValues, SetIteratorPrototypeNext } from '../../safe/intrinsics.js';
import type { TraceSession } from './trace-session.js';

/** The engine never reports calls made by its own work (capture, socket writes) while this is non-zero (patcher/dispatch.ts). */
export { engine } from '../patcher/guard.js';

const active = new Set<TraceSession>();

export function activeSessions(): TraceSession[] {
  // Not spread or Set#add/#delete: the application may have replaced the iterator or the methods.
  const out: TraceSession[] = [];
  const it = SetPrototypeValues(active);
  for (let step = SetIteratorPrototypeNext(it); !step.done; step = SetIteratorPrototypeNext(it)) ArrayPrototypePush(out, step.value);
  return out;
}

export function sessionStarted(session: TraceSession): void {
  SetPrototypeAdd(active, session);
}

export function sessionStopped(session: TraceSession): void {
  SetPrototypeDelete(active, session);
}
