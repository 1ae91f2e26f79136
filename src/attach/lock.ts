/**
 * One attach at a time per target. Two CLIs that attach to the same pid at once would
 * both send SIGUSR1 and race for one inspector: the loser's session is closed under it
 * ("the inspector closed the session") and it reports a failure although the winner has
 * loaded the agent. So an attach first takes a lock file beside the user's sockets,
 * `<socket dir>/<pid>.attach` (created exclusively, in the private 0700 directory); a
 * second attach that finds it waits for the agent to answer instead of signalling again.
 *
 * Attaches to *different* pids share one thing: the inspector port SIGUSR1 opens (9229
 * unless the target says otherwise). Two at once on one machine, and the second finds the
 * first one's target on that port and fails with LT_ATTACH_PORT_TAKEN, although the port
 * is free again a few hundred milliseconds later. So an attach that will signal also takes
 * `port-<port>.attach` in the user's default socket directory for the time its inspector
 * may be open, and a second one waits for it (within its own deadline) instead of failing.
 * The default directory even when LIVETRACE_SOCKET_DIR names another: the port is the
 * machine's, whatever directory each target's socket is in, and two CLIs whose targets use
 * different directories (one per service, or per test) still share port 9229. (The lock
 * once lived in LIVETRACE_SOCKET_DIR; parallel test files, each with its own directory,
 * then failed with LT_ATTACH_PORT_TAKEN when their attaches overlapped.)
 *
 * The locks are only advice between livetrace CLIs of one user. One left behind by a
 * killed CLI is stale after STALE_MS (longer than any attach, which its deadline bounds)
 * and is taken over.
 */
import { closeSync, openSync, statSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { prepareSocketDir } from '../protocol/socket-dir.js';
import { socketDir as defaultSocketDir } from '../protocol/socket-path.js';
import { sleep } from './timing.js';

/** Longer than any attach: its timeout (at most 60 s) plus closing and the late-inspector watch. */
const STALE_MS = 120_000;
const WAIT_POLL_MS = 50;

export interface AttachLock {
  release(): void;
  /** Another holder had it first: this one was taken after a wait. */
  waited?: boolean;
}

/**
 * Takes the attach lock of `pid`, or, while another attach holds it, polls `settled`
 * (does an agent answer now?) until it says yes, the lock is free, or `deadline` passes.
 * Resolves to the lock, or to 'settled' when the other attach brought the agent.
 */
export async function acquireAttachLock(
  pid: number,
  dir: string | undefined,
  deadline: number,
  settled: () => Promise<boolean>,
): Promise<AttachLock | 'settled' | 'timeout'> {
  return acquire(`${pid}.attach`, dir, deadline, settled);
}

/**
 * Takes the lock of inspector port `port` on this machine, waiting while another attach of
 * this user holds it. At `deadline` it gives up waiting and resolves to a lock that holds
 * nothing: the attach then goes on and reports the port as it finds it.
 */
export async function acquirePortLock(port: number, deadline: number, env: NodeJS.ProcessEnv = process.env): Promise<AttachLock> {
  const lock = await acquire(`port-${port}.attach`, portLockDir(env), deadline, async () => false);
  return typeof lock === 'string' ? { release() {}, waited: true } : lock;
}

/** Where port locks live: the user's default socket directory, whatever LIVETRACE_SOCKET_DIR says. */
export function portLockDir(env: NodeJS.ProcessEnv = process.env): string {
  return defaultSocketDir({ ...env, LIVETRACE_SOCKET_DIR: '' });
}

async function acquire(
  name: string,
  dir: string | undefined,
  deadline: number,
  settled: () => Promise<boolean>,
): Promise<AttachLock | 'settled' | 'timeout'> {
  const where = dir ?? defaultSocketDir();
  try {
    prepareSocketDir(where);
  } catch {
    // An unsafe directory is the agent's problem to report; attach goes on unlocked.
    return { release() {} };
  }
  const path = join(where, name);
  for (let tries = 0; ; tries++) {
    const lock = tryCreate(path);
    if (lock !== undefined) return tries === 0 ? lock : Object.assign(lock, { waited: true });
    if (await settled()) return 'settled';
    if (performance.now() >= deadline) return 'timeout';
    await sleep(WAIT_POLL_MS);
  }
}

function tryCreate(path: string): AttachLock | undefined {
  try {
    closeSync(openSync(path, 'wx', 0o600));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') return { release() {} };
    if (!isStale(path)) return undefined;
    try {
      unlinkSync(path);
    } catch {
      // someone else took it over first
    }
    return undefined;
  }
  let released = false;
  return {
    release() {
      if (released) return;
      released = true;
      try {
        unlinkSync(path);
      } catch {
        // already gone
      }
    },
  };
}

function isStale(path: string): boolean {
  try {
    return Date.now() - statSync(path).mtimeMs > STALE_MS;
  } catch {
    return true;
  }
}
