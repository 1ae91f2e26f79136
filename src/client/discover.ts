/**
 * `discover()`: the live agents of this user, for `livetrace ps`. Every `<pid>.sock` in
 * the socket directory is asked hello with a short timeout. A socket whose process is
 * gone is stale (the process was killed by a signal, so its exit handler never ran) and
 * is removed; a socket that does not answer in time is skipped, not removed, since its
 * process may only be busy.
 */
import { readdirSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import type { AgentHello } from '../protocol/messages.js';
import { checkSocketDir } from '../protocol/socket-dir.js';
import { pidOfSocket, socketDir as defaultSocketDir } from '../protocol/socket-path.js';
import { connect } from './connect.js';
import { processState } from './process.js';

export interface DiscoverOptions {
  /** Directory of the agents' sockets; defaults to LIVETRACE_SOCKET_DIR or the per-user runtime dir. */
  socketDir?: string;
  /** How long each agent has to answer, ms (default 1000). */
  timeoutMs?: number;
}

/** Live agents, by pid. Throws LT_SOCKET_DIR_UNSAFE for a directory that fails the trust check. */
export async function discover(options: DiscoverOptions = {}): Promise<AgentHello[]> {
  const dir = options.socketDir ?? defaultSocketDir();
  if (!checkSocketDir(dir)) return [];
  const pids: number[] = [];
  for (const name of readdirSync(dir)) {
    const pid = pidOfSocket(name);
    if (pid === undefined) continue;
    if (processState(pid) === 'gone') {
      try {
        unlinkSync(join(dir, name));
      } catch {
        // Someone else cleaned it up first.
      }
      continue;
    }
    pids.push(pid);
  }
  const answers = await Promise.all(
    pids.map(async (pid) => {
      try {
        const client = await connect(pid, { socketDir: dir, timeoutMs: options.timeoutMs ?? 1000 });
        const hello = client.agent;
        await client.close();
        return hello;
      } catch {
        return undefined;
      }
    }),
  );
  return answers.filter((hello): hello is AgentHello => hello !== undefined).sort((a, b) => a.pid - b.pid);
}
