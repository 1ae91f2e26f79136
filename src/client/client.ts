/**
 * The client side of the control socket: `connect(pid)` finds the agent of a process,
 * shakes hands, and returns an AgentClient whose methods are the protocol's ops.
 *
 * Errors are LivetraceErrors the CLI can print as they are: LT_PID_NOT_FOUND (no such
 * process), LT_PID_OTHER_USER, LT_NO_AGENT (the process runs but nothing listens on its
 * socket), LT_SOCKET_DIR_UNSAFE, LT_AGENT_TIMEOUT (a socket that accepts but does not
 * answer hello), LT_PROTOCOL_VERSION, and LT_AGENT_GONE for requests outstanding when
 * the connection closes. Errors the agent returns (bad pattern, bad option, ...) are
 * rethrown with their code, input and hint.
 *
 * connect.ts makes the connection and shakes hands, connection.ts carries the frames,
 * process.ts tells a gone process from a foreign one.
 */
import { LivetraceError } from '../protocol/errors.js';
import type { FleetJoined } from '../protocol/fleet-join.js';
import {
  LIVETRACE_VERSION,
  PROTOCOL_VERSION,
  type AgentHello,
  type ClientInfo,
  type Completion,
  type DeeperResult,
  type EvalResult,
  type GetResult,
  type ModuleListing,
  type ProcessInfo,
  type SessionStatsEntry,
  type TraceOptions,
} from '../protocol/messages.js';
import { AgentConnection } from './connection.js';
import type { ClientSession } from './session.js';

/** An open, handshaken connection to one agent. */
/**
 * How a session's records are handed over. @internal: for the CLI.
 * `rawCalls`: call records arrive as stubs (v, type, session, pid) holding the agent's JSON
 * text, read with rawRecordText() (raw-records.ts), instead of parsed: for a consumer that
 * prints them as JSON and reads nothing else of them.
 */
export interface FollowOptions {
  rawCalls?: boolean;
}

export class AgentClient {
  readonly pid: number;
  readonly socketPath: string;
  private readonly connection: AgentConnection;
  private helloInfo: AgentHello | undefined;

  private constructor(connection: AgentConnection) {
    this.pid = connection.pid;
    this.socketPath = connection.socketPath;
    this.connection = connection;
  }

  /** @internal Opens the socket; connect() does the checks and the handshake. */
  static async open(pid: number, path: string, timeoutMs: number): Promise<AgentClient> {
    return new AgentClient(await AgentConnection.open(pid, path, timeoutMs));
  }

  /** What the agent said in the handshake (refreshed by every hello()). */
  get agent(): AgentHello {
    if (!this.helloInfo) throw new LivetraceError('LT_INTERNAL', 'no handshake yet');
    return this.helloInfo;
  }

  /** Lets the process exit while this connection is open (for a client that runs inside the target). */
  unref(): void {
    this.connection.unref();
  }

  /** True once the connection is closed. */
  get closed(): boolean {
    return this.connection.closed;
  }

  /** Asks the agent about its process again; also the handshake connect() performs. */
  async hello(client: ClientInfo = defaultClientInfo()): Promise<AgentHello> {
    const reply = await this.connection.request('hello', { protocol: PROTOCOL_VERSION, client });
    this.helloInfo = reply.agent;
    return reply.agent;
  }

  /** Loaded modules and their traceable functions, optionally only those a pattern names. */
  async list(pattern?: string): Promise<ModuleListing[]> {
    const reply = await this.connection.request('list', pattern === undefined ? {} : { pattern });
    return reply.modules;
  }

  /**
   * Starts a session. Resolves once the agent has patched what matched; iterate the
   * session for its records. Rejects with the agent's error for a bad pattern or option
   * (LT_PATTERN_*, LT_OPTION_INVALID).
   */
  async trace(patterns: string | string[], options: TraceOptions = {}, follow: FollowOptions = {}): Promise<ClientSession> {
    const list = typeof patterns === 'string' ? [patterns] : patterns;
    return this.connection.sessionOf(await this.connection.request('trace', { patterns: list, options }, follow.rawCalls === true));
  }

  /**
   * Takes over the session `livetrace run` pre-started in the process with this token
   * (src/agent/session/run-session.ts); it streams from its first record. Rejects with
   * LT_SESSION_UNKNOWN when no session waits for the token, or with the error the session
   * failed to start with.
   */
  async claim(token: string): Promise<ClientSession> {
    return this.connection.sessionOf(await this.connection.request('claim', { token }));
  }

  /** Stats of one session, or of every session this connection started. */
  async stats(session?: string): Promise<SessionStatsEntry[]> {
    const reply = await this.connection.request('stats', session === undefined ? {} : { session });
    return reply.sessions;
  }

  /** What the functions `fn` names call, as patterns ready to trace (`livetrace deeper`). */
  async deeper(fn: string): Promise<DeeperResult[]> {
    const reply = await this.connection.request('deeper', { fn });
    return reply.results;
  }

  /**
   * What the process is doing (`livetrace info`). The first call on a connection starts the
   * agent's sampling and has no interval figures (null); each later call covers the time
   * since the previous one. `light` leaves out heap spaces, resources and modules.
   */
  async info(options: { light?: boolean } = {}): Promise<ProcessInfo> {
    const reply = await this.connection.request('info', options.light === true ? { light: true } : {});
    return reply.info;
  }

  /** The live value at an export path ('src/cache:store.entries'), captured with the trace bounds. */
  async get(path: string, options: { instances?: boolean } = {}): Promise<GetResult> {
    const reply = await this.connection.request('get', options.instances === true ? { path, instances: true } : { path });
    return reply.result;
  }

  /**
   * Evaluates one expression in the target (`livetrace shell`): REPL semantics (top-level
   * await, lets kept between calls), `$('src/users')` for a module. `safe` refuses side
   * effects; `timeoutMs` (default 5000) interrupts a runaway evaluation (LT_EVAL_TIMEOUT).
   */
  async evaluate(expression: string, options: { safe?: boolean; timeoutMs?: number } = {}): Promise<EvalResult> {
    const reply = await this.connection.request('eval', {
      expression,
      ...(options.safe === true ? { safe: true } : {}),
      ...(options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs }),
    });
    return reply.result;
  }

  /**
   * The names that can follow `line` in the shell (tab completion): globals, the properties
   * of the object path before the last dot (evaluated with V8's side-effect check, so
   * nothing in the target changes), module names inside `$('`.
   */
  async complete(line: string): Promise<Completion> {
    const reply = await this.connection.request('complete', { line });
    return reply.completion;
  }

  /**
   * Makes the process join a fleet (docs/fleet.md): its agent connects outward to that Redis
   * under `service` (default: the target's LIVETRACE_SERVICE, else its package name), with
   * the target's own policy. Rejects with LT_FLEET_URL, LT_FLEET_AUTH, LT_FLEET_DENIED,
   * LT_FLEET_UNREACHABLE, or LT_FLEET_MEMBER when the process is in another fleet already.
   */
  async joinFleet(fleet: string, options: { service?: string } = {}): Promise<FleetJoined> {
    const reply = await this.connection.request('join', options.service === undefined ? { fleet } : { fleet, service: options.service });
    return reply.joined;
  }

  /**
   * Closes the connection. The agent stops the sessions it started (reason
   * 'client-gone') and removes their patches; open ClientSessions end with a synthetic
   * 'stopped' record. Resolves when the socket is closed.
   */
  close(): Promise<void> {
    return this.connection.close();
  }
}

/** How this client introduces itself in hello unless told otherwise. */
export function defaultClientInfo(): ClientInfo {
  return { name: 'livetrace', version: LIVETRACE_VERSION, pid: process.pid };
}
