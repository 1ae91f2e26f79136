/**
 * The agent's lifecycle: one control socket per process, however livetrace got in.
 *
 * A process can load livetrace twice: the CommonJS build through `--require
 * livetrace/register` and the ESM build through a later `import { startAgent } from
 * 'livetrace'`, or two copies from different node_modules. They must share one agent, so
 * its state lives on `globalThis[Symbol.for('livetrace.agent')]` rather than in module
 * scope, and holds only plain data and closures (no class another copy would not know).
 *
 * Starting never throws into the host: a refused directory or a failed listen is logged
 * (LIVETRACE_LOG) and reported in the resolved AgentInfo.
 */
import { LivetraceError, toLivetraceError, type ErrorRecord } from '../protocol/errors.js';
import { LIVETRACE_VERSION, type AgentInfo } from '../protocol/messages.js';
import { log } from './log.js';
import { probeEngine } from './engines/probes/engine.js';
import { AgentServer } from './server/server.js';
import { IN_LOADER_THREAD } from './thread.js';

export interface AgentOptions {
  /** Directory of the control socket; defaults to LIVETRACE_SOCKET_DIR or the per-user runtime dir. */
  socketDir?: string;
}

export type { AgentInfo };


/** The process-wide record shared by every copy of livetrace in the process. */
interface AgentState {
  started: Promise<AgentInfo>;
  stop: () => Promise<void>;
  /** The last start could not listen: the next startAgent() tries again. */
  failed?: boolean;
}

const STATE_KEY = Symbol.for('livetrace.agent');

type Holder = { [STATE_KEY]?: AgentState | undefined };

/**
 * Starts the agent if it is not running and resolves to its description. Idempotent:
 * later calls (from any copy of livetrace) resolve to the same agent and ignore their
 * options. Never rejects. A start that could not listen (a socket directory squatted
 * or unsafe, a failed listen) is not final: the next call tries again, so once the
 * directory is fixed the next attach (whose bootstrap calls this) makes the process
 * traceable without a restart.
 */
export function startAgent(options: AgentOptions = {}): Promise<AgentInfo> {
  const holder = globalThis as Holder;
  const existing = holder[STATE_KEY];
  if (existing && !existing.failed) return existing.started;
  if (IN_LOADER_THREAD) {
    // Inert (thread.ts): the main thread's agent owns this process's socket.
    const why = new LivetraceError('LT_LOADER_THREAD', "startAgent() in Node's module loader thread: the agent runs on the main thread only");
    return Promise.resolve({ pid: process.pid, version: LIVETRACE_VERSION, socketPath: null, listening: false, error: why.toRecord() });
  }

  let server: AgentServer | undefined;
  const started = AgentServer.listen(options).then(
    (listening): AgentInfo => {
      server = listening;
      return { pid: process.pid, version: LIVETRACE_VERSION, socketPath: listening.path, listening: true };
    },
    (error: unknown): AgentInfo => {
      state.failed = true;
      const lt = toLivetraceError(error);
      log.warn({ code: lt.code, err: error }, 'agent not listening');
      return { pid: process.pid, version: LIVETRACE_VERSION, socketPath: null, listening: false, error: lt.toRecord() };
    },
  );
  const state: AgentState = {
    started,
    stop: async () => {
      await started;
      await server?.close();
    },
  };
  holder[STATE_KEY] = state;
  return started;
}

/**
 * Stops the agent: closes the socket, stops the sessions its clients started (their
 * patches are removed before this resolves) and removes the socket file. Idempotent;
 * `startAgent()` may start a new one afterwards.
 */
export async function stopAgent(): Promise<void> {
  const holder = globalThis as Holder;
  const state = holder[STATE_KEY];
  if (!state) return;
  holder[STATE_KEY] = undefined;
  try {
    await state.stop();
  } catch (error) {
    log.debug({ err: error }, 'stopping the agent failed');
  }
  // The probe worker that waits for a next session's probes (probes/engine.ts LINGER_MS).
  probeEngine.endIdle();
}
