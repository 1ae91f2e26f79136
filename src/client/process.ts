/** What the operating system says about a pid, before any socket is tried. */
import { readFileSync } from 'node:fs';
import { constants } from 'node:os';
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

/** How a process ended, as far as someone other than its parent can tell. */
export interface ProcessEnd {
  /** Its exit code, when it exited. */
  code?: number;
  /** The signal that killed it. */
  signal?: string;
}

/**
 * Waits up to `ms` for process `pid` to be over: gone, or a zombie not yet reaped
 * (which kill(pid, 0) still counts as alive). Resolves with how it ended (from a
 * zombie's /proc stat, on Linux, when it is still there to read), or undefined when it
 * is still running after `ms`.
 */
export async function waitForProcessEnd(pid: number, ms: number): Promise<ProcessEnd | undefined> {
  const until = Date.now() + ms;
  for (;;) {
    const end = endedProcess(pid);
    if (end !== undefined) return end;
    if (Date.now() >= until) return undefined;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** How `pid` ended, if it has; undefined while it runs. */
export function endedProcess(pid: number): ProcessEnd | undefined {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    // No /proc entry (or no /proc): gone if signal 0 says so.
    return processState(pid) === 'gone' ? {} : undefined;
  }
  // "pid (comm) S ...": the command may hold spaces and parentheses; fields follow the last ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).trim().split(' ');
  const state = fields[0];
  if (state !== 'Z' && state !== 'X') return undefined;
  // exit_code is field 52 of stat (Linux 3.5+), the wait status; fields[] starts at field 3.
  const status = Number(fields[49]);
  if (!Number.isInteger(status)) return {};
  const signal = status & 0x7f;
  if (signal !== 0) return { signal: signalName(signal) };
  return { code: (status >> 8) & 0xff };
}

function signalName(number: number): string {
  for (const [name, value] of Object.entries(constants.signals)) if (value === number) return name;
  return `signal ${number}`;
}
