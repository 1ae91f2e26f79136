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
 * Reading is bounded too: when more records wait in sessions than nobody consumes
 * (HIGH_WATER), the socket is paused; the agent then sees its writes back up and lets
 * the sessions' queues drop and count. Reading resumes while a request waits for its
 * reply and while a stopping session waits for its 'stopped' record, so stop() and add()
 * always get through.
 */
import { connect as netConnect, type Socket } from 'node:net';
import { LivetraceError, toLivetraceError, type ErrorRecord } from '../protocol/errors.js';
import type { AddedRecord, SessionStats } from '../protocol/events.js';
import { FrameDecoder, FrameWriter } from '../protocol/frame.js';
import {
  LIVETRACE_VERSION,
  PROTOCOL_VERSION,
  type AgentFrame,
  type AgentHello,
  type DeeperResult,
  type ClientInfo,
  type ModuleListing,
  type Op,
  type ReplyFor,
  type RequestId,
  type SessionStatsEntry,
  type TraceOptions,
} from '../protocol/messages.js';
import { checkSocketDir } from '../protocol/socket-dir.js';
import { socketDir as defaultSocketDir, socketPath } from '../protocol/socket-path.js';
import { ClientSession, type ConnectionEnd } from './session.js';

/** Default time for connecting and the handshake. */
export const DEFAULT_TIMEOUT_MS = 3000;
/** Records waiting in sessions above which reading pauses. */
const HIGH_WATER = 10_000;

export interface ConnectOptions {
  /** Directory of the agents' sockets; defaults to LIVETRACE_SOCKET_DIR or the per-user runtime dir. */
  socketDir?: string;
  /** Limit for connecting and the hello exchange, ms (default 3000). */
  timeoutMs?: number;
  /** How this client introduces itself in hello (default: livetrace, its version and pid). */
  client?: ClientInfo;
}

interface Pending {
  op: Op;
  resolve: (reply: unknown) => void;
  reject: (error: LivetraceError) => void;
  /** Listing parts received before the final reply. */
  parts?: ModuleListing[];
}

/** An open, handshaken connection to one agent. */
export class AgentClient {
  readonly pid: number;
  readonly socketPath: string;
  private readonly socket: Socket;
  private readonly decoder = new FrameDecoder();
  private readonly writer: FrameWriter;
  private readonly pending = new Map<RequestId, Pending>();
  /** Sessions still streaming, by id. */
  private readonly sessions = new Map<string, ClientSession>();
  /** The session made for each trace/claim reply. */
  private readonly followed = new WeakMap<object, ClientSession>();
  private nextId = 1;
  private helloInfo: AgentHello | undefined;
  private paused = false;
  private closeError: LivetraceError | undefined;
  private closedByUs = false;
  private isClosed = false;
  private readonly whenClosed: Promise<void>;

  private constructor(pid: number, path: string, socket: Socket) {
    this.pid = pid;
    this.socketPath = path;
    this.socket = socket;
    this.writer = new FrameWriter(socket);
    let closed!: () => void;
    this.whenClosed = new Promise((resolve) => (closed = resolve));
    socket.on('data', (chunk: Buffer) => this.receive(chunk));
    socket.on('error', (error: NodeJS.ErrnoException) => {
      this.closeError ??= new LivetraceError('LT_AGENT_GONE', `connection to process ${pid} failed: ${error.message}`, {
        input: pid,
        cause: error,
      });
    });
    socket.on('close', () => {
      this.onClose();
      closed();
    });
  }

  /** @internal Opens the socket; connect() does the checks and the handshake. */
  static open(pid: number, path: string, timeoutMs: number): Promise<AgentClient> {
    return new Promise((resolve, reject) => {
      const socket = netConnect(path);
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new LivetraceError('LT_AGENT_TIMEOUT', `no connection to ${path} within ${timeoutMs} ms`, { input: pid }));
      }, timeoutMs);
      socket.once('error', (error: NodeJS.ErrnoException) => {
        clearTimeout(timer);
        reject(
          new LivetraceError('LT_NO_AGENT', `process ${pid} has no livetrace agent listening (${error.code ?? error.message})`, {
            input: pid,
            cause: error,
          }),
        );
      });
      socket.once('connect', () => {
        clearTimeout(timer);
        socket.removeAllListeners('error');
        resolve(new AgentClient(pid, path, socket));
      });
    });
  }

  /** What the agent said in the handshake (refreshed by every hello()). */
  get agent(): AgentHello {
    if (!this.helloInfo) throw new LivetraceError('LT_INTERNAL', 'no handshake yet');
    return this.helloInfo;
  }

  /** True once the connection is closed. */
  get closed(): boolean {
    return this.isClosed;
  }

  /** Asks the agent about its process again; also the handshake connect() performs. */
  async hello(client: ClientInfo = defaultClientInfo()): Promise<AgentHello> {
    const reply = await this.request('hello', { protocol: PROTOCOL_VERSION, client });
    this.helloInfo = reply.agent;
    return reply.agent;
  }

  /** Loaded modules and their traceable functions, optionally only those a pattern names. */
  async list(pattern?: string): Promise<ModuleListing[]> {
    const reply = await this.request('list', pattern === undefined ? {} : { pattern });
    return reply.modules;
  }

  /**
   * Starts a session. Resolves once the agent has patched what matched; iterate the
   * session for its records. Rejects with the agent's error for a bad pattern or option
   * (LT_PATTERN_*, LT_OPTION_INVALID).
   */
  async trace(patterns: string | string[], options: TraceOptions = {}): Promise<ClientSession> {
    const list = typeof patterns === 'string' ? [patterns] : patterns;
    return this.sessionOf(await this.request('trace', { patterns: list, options }));
  }

  /**
   * Takes over the session `livetrace run` pre-started in the process with this token
   * (src/agent/session/run-session.ts); it streams from its first record. Rejects with
   * LT_SESSION_UNKNOWN when no session waits for the token, or with the error the session
   * failed to start with.
   */
  async claim(token: string): Promise<ClientSession> {
    return this.sessionOf(await this.request('claim', { token }));
  }

  private sessionOf(reply: ReplyFor['trace']): ClientSession {
    // Not looked up by id: a short session may have ended, and been forgotten, already.
    return this.followed.get(reply) ?? this.follow(reply);
  }

  /**
   * Registers the session of a trace or claim reply. dispatch() calls it as the reply
   * arrives, before the frames that follow it in the same chunk (the session's first
   * records) are dispatched, so none of them is lost.
   */
  private follow(reply: ReplyFor['trace']): ClientSession {
    const session = new ClientSession(
      {
        add: (id, more) => this.request('add', { session: id, patterns: more }).then((r): AddedRecord => r.added),
        stop: (id) => this.request('stop', { session: id }).then((r): SessionStats => r.stats),
        stats: (id) => this.stats(id).then((entries) => entries[0]?.stats ?? missingStats(id)),
        consumed: () => this.flowControl(),
      },
      reply.started,
    );
    this.sessions.set(reply.session, session);
    this.followed.set(reply, session);
    return session;
  }

  /** Stats of one session, or of every session this connection started. */
  async stats(session?: string): Promise<SessionStatsEntry[]> {
    const reply = await this.request('stats', session === undefined ? {} : { session });
    return reply.sessions;
  }

  /** What the functions `fn` names call, as patterns ready to trace (`livetrace deeper`). */
  async deeper(fn: string): Promise<DeeperResult[]> {
    const reply = await this.request('deeper', { fn });
    return reply.results;
  }

  /**
   * Closes the connection. The agent stops the sessions it started (reason
   * 'client-gone') and removes their patches; open ClientSessions end with a synthetic
   * 'stopped' record. Resolves when the socket is closed.
   */
  close(): Promise<void> {
    if (!this.isClosed) {
      this.closedByUs = true;
      this.writer.flush();
      this.socket.end();
      // A peer that never finishes the close must not hold the CLI.
      setTimeout(() => this.socket.destroy(), 1000).unref();
    }
    return this.whenClosed;
  }

  private request<O extends Op>(op: O, fields: object): Promise<ReplyFor[O]> {
    if (this.isClosed || this.closedByUs) return Promise.reject(this.goneError());
    const id = this.nextId++;
    return new Promise<ReplyFor[O]>((resolve, reject) => {
      const pending: Pending = { op, resolve: resolve as (reply: unknown) => void, reject };
      if (op === 'list') pending.parts = [];
      this.pending.set(id, pending);
      try {
        this.writer.write({ id, op, ...fields });
      } catch (error) {
        this.pending.delete(id);
        reject(toLivetraceError(error));
        return;
      }
      this.flowControl();
    });
  }

  private receive(chunk: Buffer): void {
    this.decoder.push(chunk);
    for (;;) {
      let frame: { value: unknown } | undefined;
      try {
        frame = this.decoder.next();
      } catch (error) {
        this.closeError ??= toLivetraceError(error);
        this.socket.destroy();
        return;
      }
      if (frame === undefined) break;
      this.dispatch(frame.value as AgentFrame);
    }
    this.flowControl();
  }

  private dispatch(frame: AgentFrame): void {
    if (typeof frame !== 'object' || frame === null) return;
    if ('type' in frame) {
      if (frame.type === 'record') {
        const session = this.sessions.get(frame.session);
        session?.receive(frame.record);
        // Nothing more will come for it: forget it (its consumer still holds it).
        if (session?.stopped) this.sessions.delete(frame.session);
      }
      else if (frame.type === 'part') this.pending.get(frame.id)?.parts?.push(...frame.modules);
      return;
    }
    if (frame.id === null) {
      // The agent refused the connection itself and is about to close it.
      if (!frame.ok) this.closeError = LivetraceError.fromRecord(frame.error);
      return;
    }
    const pending = this.pending.get(frame.id);
    if (!pending) return;
    this.pending.delete(frame.id);
    if (!frame.ok) {
      pending.reject(LivetraceError.fromRecord(frame.error as ErrorRecord));
      return;
    }
    if (pending.parts && 'modules' in frame) frame.modules = [...pending.parts, ...frame.modules];
    if ((pending.op === 'trace' || pending.op === 'claim') && 'started' in frame) this.follow(frame);
    pending.resolve(frame);
  }

  /** Pauses reading while records pile up unconsumed, unless a reply or a session's end is awaited. */
  private flowControl(): void {
    if (this.isClosed) return;
    let buffered = 0;
    let ending = false;
    for (const session of this.sessions.values()) {
      buffered += session.buffered;
      ending ||= session.ending;
    }
    const shouldPause = buffered >= HIGH_WATER && this.pending.size === 0 && !ending;
    if (shouldPause !== this.paused) {
      this.paused = shouldPause;
      if (shouldPause) this.socket.pause();
      else this.socket.resume();
    }
  }

  private goneError(): LivetraceError {
    return (
      this.closeError ??
      new LivetraceError('LT_AGENT_GONE', `the connection to process ${this.pid} is closed`, { input: this.pid })
    );
  }

  private onClose(): void {
    if (this.isClosed) return;
    this.isClosed = true;
    if (this.decoder.pendingBytes > 0 && !this.closeError) {
      this.closeError = new LivetraceError('LT_AGENT_GONE', `process ${this.pid} closed the connection mid-frame`, {
        input: this.pid,
      });
    }
    const error = this.goneError();
    for (const pending of this.pending.values()) pending.reject(error);
    this.pending.clear();
    const end = this.endOfSessions();
    for (const session of this.sessions.values()) session.connectionEnded(end);
  }

  private endOfSessions(): ConnectionEnd {
    if (this.closedByUs) return { reason: 'client-gone', detail: 'the client closed the connection' };
    if (this.closeError && this.closeError.code !== 'LT_AGENT_GONE') {
      return { reason: 'error', detail: `${this.closeError.code}: ${this.closeError.message}` };
    }
    return processState(this.pid) !== 'gone'
      ? { reason: 'exit', detail: `the connection to process ${this.pid} closed (its agent stopped or it is exiting)` }
      : { reason: 'exit', detail: `process ${this.pid} exited` };
  }
}

function defaultClientInfo(): ClientInfo {
  return { name: 'livetrace', version: LIVETRACE_VERSION, pid: process.pid };
}

function missingStats(session: string): never {
  throw new LivetraceError('LT_SESSION_UNKNOWN', `no stats for session ${session}`, { input: session });
}

/**
 * What signal 0 says about a pid: 'ours' (we may signal it), 'other-user' (it exists but
 * belongs to someone else), or 'gone'. A zombie not yet reaped still counts as present.
 */
export function processState(pid: number): 'ours' | 'other-user' | 'gone' {
  try {
    process.kill(pid, 0);
    return 'ours';
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM' ? 'other-user' : 'gone';
  }
}

/**
 * Throws LT_PID_NOT_FOUND when there is no process `pid`, LT_PID_OTHER_USER when it
 * belongs to someone we may not signal (and so may not trace).
 */
export function assertProcess(pid: number): void {
  if (!Number.isSafeInteger(pid) || pid <= 0) {
    throw new LivetraceError('LT_PID_NOT_FOUND', `${String(pid)} is not a process id`, { input: pid });
  }
  const state = processState(pid);
  if (state === 'other-user') {
    throw new LivetraceError('LT_PID_OTHER_USER', `process ${pid} belongs to another user`, { input: pid });
  }
  if (state === 'gone') throw new LivetraceError('LT_PID_NOT_FOUND', `no process ${pid}`, { input: pid });
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
