/**
 * Whether an agent answers on a control socket. A socket file alone proves nothing (a
 * process that died keeps its file until someone removes it), so only a completed hello
 * handshake counts, made by the same client the commands use (which also refuses an
 * unsafe socket directory).
 */
import { basename, dirname } from 'node:path';
import { connect } from '../client/client.js';
import { isLivetraceError } from '../protocol/errors.js';

/**
 * True when the agent of `pid` answers hello on the socket at `path`; false when nothing
 * listens there. Other failures (an unsafe directory, a socket that accepts but does not
 * answer, a different protocol version) are thrown: attaching would not fix them.
 */
export async function agentAnswers(pid: number, path: string, timeoutMs: number): Promise<boolean> {
  if (basename(path) !== `${pid}.sock`) throw new Error(`not the socket of process ${pid}: ${path}`);
  try {
    const client = await connect(pid, { socketDir: dirname(path), timeoutMs });
    await client.close();
    return true;
  } catch (error) {
    if (isLivetraceError(error) && error.code === 'LT_NO_AGENT') return false;
    throw error;
  }
}
