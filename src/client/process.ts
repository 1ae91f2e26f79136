/** What the operating system says about a pid, before any socket is tried. */
import { LivetraceError } from '../protocol/errors.js';

/**
 * What signal 0 says about a pid: 'ours' (we may signal it), 'other-user' (it exists but
 * belongs to someone else), or 'gone'. A zombie not yet reaped still counts as present.
 */
export function processState(pid: number): 'ours' | 'other-user' | 'gone' {
  try {
    process.kill(pid, 0);
    return 'ours';
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM' ? 'other-user' : 'gone';
  }
}

/**
 * Throws LT_PID_NOT_FOUND when there is no process `pid`, LT_PID_OTHER_USER when it
 * belongs to someone we may not signal (and so may not trace).
 */
export function assertProcess(pid: number): void {
  if (!Number.isSafeInteger(pid) || pid <= 0) {
    throw new LivetraceError('LT_PID_NOT_FOUND', `${String(pid)} is not a process id`, { input: pid });
  }
  const state = processState(pid);
  if (state === 'other-user') {
    throw new LivetraceError('LT_PID_OTHER_USER', `process ${pid} belongs to another user`, { input: pid });
  }
  if (state === 'gone') throw new LivetraceError('LT_PID_NOT_FOUND', `no process ${pid}`, { input: pid });
}
