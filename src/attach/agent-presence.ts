/**
 * Whether an agent answers on a control socket. A socket file alone proves nothing (a
 * process that died keeps its file until someone removes it), so only an accepted
 * connection counts.
 */
import { connect } from 'node:net';

/** True when something accepts a connection on the Unix socket at `path` within `timeoutMs`. */
export function agentAnswers(path: string, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ path });
    const done = (answered: boolean): void => {
      clearTimeout(timer);
      socket.destroy();
      resolve(answered);
    };
    const timer = setTimeout(() => done(false), timeoutMs);
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}
