/**
 * Where agents listen: one Unix socket per process, in a directory private to the user,
 * `<runtime dir>/livetrace-<uid>/<pid>.sock`. The runtime dir is $XDG_RUNTIME_DIR when
 * set, else the OS temp dir. LIVETRACE_SOCKET_DIR replaces the whole directory (tests
 * use it to keep their agents apart; containers to put the socket on a shared volume).
 * Agent and CLI both resolve the path here, so they always agree.
 */
import { tmpdir } from 'node:os';
import { normalize, sep } from 'node:path';

/**
 * `path.join` without its `Array#push` (Node's join pushes onto an array, so it throws in a
 * target whose program replaced `Array.prototype.push` with something that throws).
 */
function joinPath(dir: string, name: string): string {
  return normalize(dir + sep + name);
}

export function socketDir(env: NodeJS.ProcessEnv = process.env): string {
  const override = env.LIVETRACE_SOCKET_DIR;
  if (override) return override;
  const uid = typeof process.getuid === 'function' ? process.getuid() : 0;
  return joinPath(env.XDG_RUNTIME_DIR || tmpdir(), `livetrace-${uid}`);
}

export function socketPath(pid: number, env: NodeJS.ProcessEnv = process.env): string {
  return joinPath(socketDir(env), `${pid}.sock`);
}

/** The pid a socket file name stands for, or undefined for a file that is not ours. */
export function pidOfSocket(fileName: string): number | undefined {
  const match = /^(\d+)\.sock$/.exec(fileName);
  return match ? Number(match[1]) : undefined;
}
