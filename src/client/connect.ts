/** Connecting to an agent: find its socket, open it, shake hands, all within one timeout. */
import { LivetraceError, toLivetraceError } from '../protocol/errors.js';
import type { ClientInfo } from '../protocol/messages.js';
import { checkSocketDir } from '../protocol/socket-dir.js';
import { socketDir as defaultSocketDir, socketPath } from '../protocol/socket-path.js';
import { AgentClient, defaultClientInfo } from './client.js';
import { assertProcess } from './process.js';

/** Default time for connecting and the handshake. */
export const DEFAULT_TIMEOUT_MS = 3000;

export interface ConnectOptions {
  /** Directory of the agents' sockets; defaults to LIVETRACE_SOCKET_DIR or the per-user runtime dir. */
  socketDir?: string;
  /** Limit for connecting and the hello exchange, ms (default 3000). */
  timeoutMs?: number;
  /** How this client introduces itself in hello (default: livetrace, its version and pid). */
  client?: ClientInfo;
}

/**
 * Connects to the agent of process `pid` and performs the handshake.
 * Rejects with LT_PID_NOT_FOUND, LT_PID_OTHER_USER, LT_SOCKET_DIR_UNSAFE, LT_NO_AGENT,
 * LT_AGENT_TIMEOUT or LT_PROTOCOL_VERSION.
 */
export async function connect(pid: number, options: ConnectOptions = {}): Promise<AgentClient> {
  assertProcess(pid);
  const dir = options.socketDir ?? defaultSocketDir();
  const path = socketPath(pid, { ...process.env, LIVETRACE_SOCKET_DIR: dir });
  if (!checkSocketDir(dir)) {
    throw new LivetraceError('LT_NO_AGENT', `process ${pid} has no livetrace agent (no ${dir})`, { input: pid });
  }
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const client = await AgentClient.open(pid, path, timeoutMs);
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      client.hello(options.client ?? defaultClientInfo()),
      new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new LivetraceError('LT_AGENT_TIMEOUT', `process ${pid} did not answer hello within ${timeoutMs} ms`, { input: pid })),
          timeoutMs,
        );
      }),
    ]);
    return client;
  } catch (error) {
    void client.close();
    throw toLivetraceError(error);
  } finally {
    clearTimeout(timer);
  }
}
