/**
 * How commands reach the agent of a pid: connect to its socket, and when nothing answers
 * there, attach (load the agent through the inspector, src/attach) and connect again.
 * `--no-attach` turns the second step off: an absent agent is then LT_NO_AGENT (exit 2).
 */
import { dirname } from 'node:path';
import { ensureAgent } from '../attach/attach.js';
import type { AgentClient } from '../client/client.js';
import { connect } from '../client/connect.js';
import { LivetraceError, isLivetraceError } from '../protocol/errors.js';

export interface OpenAgentOptions {
  /** Attach when no agent answers (default true). */
  attach: boolean;
  /** Where to tell the user that livetrace attached. */
  say: (text: string) => void;
}

export async function openAgent(pid: number, options: OpenAgentOptions): Promise<AgentClient> {
  try {
    return await connect(pid);
  } catch (error) {
    if (!isLivetraceError(error) || error.code !== 'LT_NO_AGENT') throw error;
  }
  // Also finds an agent that listens where the target's environment (not ours) puts it.
  const agent = await ensureAgent(pid, { attach: options.attach, agentCache: true });
  if (!agent.alreadyPresent) options.say(`attached to process ${pid} in ${Math.round(agent.ms)} ms`);
  return connect(pid, { socketDir: dirname(agent.socketPath) });
}

/** A pid argument: a positive whole number. */
export function parsePid(value: string): number {
  const pid = /^\d+$/.test(value.trim()) ? Number(value) : NaN;
  if (!Number.isSafeInteger(pid) || pid < 1 || pid > 2 ** 31 - 1) {
    throw new LivetraceError('LT_PID_NOT_FOUND', `'${value}' is not a process id`, { input: value });
  }
  return pid;
}
