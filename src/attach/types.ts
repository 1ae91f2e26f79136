/** What attach takes and what it reports (attach.ts). */

export interface AttachOptions {
  /**
   * The inspector port SIGUSR1 opens in the target. Default: the one its command line or
   * NODE_OPTIONS gives (--inspect-port, --inspect, --debug-port), else 9229.
   */
  port?: number;
  /** Bound on the whole attach in ms (default 5000); closing the inspector gets extra time. */
  timeoutMs?: number;
  /**
   * Where to look for an agent already running in the target. Default: LIVETRACE_SOCKET_DIR
   * or the per-user runtime dir, as seen by this process and, when readable, by the target.
   */
  socketDir?: string;
  /**
   * Offer the target the V8 code cache of the agent bundle made for its Node executable,
   * and when it compiled the bundle without any cache, make one in the background for the
   * next attach (attach/agent-cache.ts: a detached run of the target's executable). The
   * CLI sets it; default false, so a library caller's attach starts no process.
   */
  agentCache?: boolean;
}

export interface EnsureAgentOptions extends AttachOptions {
  /** false: never attach; an absent agent is LT_NO_AGENT (`--no-attach`). Default true. */
  attach?: boolean;
}

export type AttachPhaseName = 'check' | 'signal' | 'inspector' | 'connect' | 'verify' | 'bootstrap' | 'close' | 'agent';

export interface AttachResult {
  pid: number;
  /** An agent was already answering; nothing was signalled or evaluated. */
  alreadyPresent: boolean;
  /** The agent's control socket. */
  socketPath: string;
  /** From the call to the agent answering hello (the inspector is closed by then), in ms. */
  ms: number;
  /** The inspector port used; undefined when the agent was already present. */
  inspectorPort?: number;
  /**
   * From sending SIGUSR1 to the inspector port refusing connections, in ms: an upper
   * bound on how long attach kept a debugger port open. Undefined when nothing was signalled.
   */
  inspectorOpenMs?: number;
  /** The target's inspector was open before attach and was left open. */
  inspectorLeftOpen: boolean;
  /**
   * Inspectors the target's cluster workers opened when its own opened (Node's cluster
   * module forwards the debug signal to them), each closed by attach (cluster-workers.ts).
   */
  workerInspectorsClosed?: Array<{ pid: number; port: number }>;
  /**
   * The code cache the target compiled the agent bundle with: the build's, one the CLI
   * made for its executable ('offered'), or none; `rejected` when V8 refused it; `making`
   * when a cache for the next attach is being made in the background.
   */
  agentCache?: { source: 'build' | 'offered' | 'none'; rejected: boolean; making: boolean };
  /** Duration of each phase, in order, in ms. */
  phases: Array<{ name: AttachPhaseName; ms: number }>;
}
