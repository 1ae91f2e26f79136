/**
 * Whether an agent answers on a control socket. A socket file alone proves nothing (a
 * process that died keeps its file until someone removes it), so only a completed hello
 * handshake counts, made by the same client the commands use (which also refuses an
 * unsafe socket directory).
 */
import { basename, dirname, join } from 'node:path';
import { connect } from '../client/connect.js';
import { isLivetraceError } from '../protocol/errors.js';
import { socketPath as defaultSocketPath } from '../protocol/socket-path.js';
import type { TargetProcess } from './target.js';
import type { AttachOptions } from './types.js';

/** An agent that is there answers hello on a local socket at once. */
export const PRESENCE_TIMEOUT_MS = 1000;

/**
 * True when the agent of `pid` answers hello on the socket at `path`; false when nothing
 * listens there. Other failures (an unsafe directory, a socket that accepts but does not
 * answer, a different protocol version) are thrown: attaching would not fix them.
 */
export async function agentAnswers(pid: number, path: string, timeoutMs: number): Promise<boolean> {
  if (basename(path) !== `${pid}.sock`) throw new Error(`not the socket of process ${pid}: ${path}`);
  try {
    const client = await connect(pid, { socketDir: dirname(path), timeoutMs });
    // The answer is in; the goodbye need not be waited for (1-7 ms of the attach).
    client.close().catch(() => {});
    return true;
  } catch (error) {
    if (isLivetraceError(error) && error.code === 'LT_NO_AGENT') return false;
    throw error;
  }
}

/** The socket of an agent already answering in the target, if any. */
export async function presentAgent(target: TargetProcess, options: AttachOptions): Promise<string | undefined> {
  const candidates = new Set<string>();
  if (options.socketDir !== undefined) {
    candidates.add(join(options.socketDir, `${target.pid}.sock`));
  } else {
    candidates.add(defaultSocketPath(target.pid));
    // The agent resolves its directory in its own environment, which may differ from ours.
    if (target.env) candidates.add(defaultSocketPath(target.pid, { ...target.env }));
  }
  for (const path of candidates) {
    if (await agentAnswers(target.pid, path, PRESENCE_TIMEOUT_MS)) return path;
  }
  return undefined;
}
