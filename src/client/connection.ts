/**
 * The socket under an AgentClient (client.ts): frames out and in, requests matched to
 * their replies, records routed to their sessions, and what happens when it closes.
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
import type { AgentFrame, ModuleListing, Op, ReplyFor, RequestId } from '../protocol/messages.js';
import { processState } from './process.js';
import { ClientSession, type ConnectionEnd } from './session.js';
import { rawCallBytes, rawCallRecordBytes } from './raw-records.js';

/** Records waiting in sessions above which reading pauses. */
const HIGH_WATER = 10_000;

interface Pending {
  op: Op;
  resolve: (reply: unknown) => void;
  reject: (error: LivetraceError) => void;
  /** Listing parts received before the final reply. */
  parts?: ModuleListing[];
  /** A trace or claim whose session keeps call records as text. */
  rawCalls: boolean;
}

export class AgentConnection {
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
  private paused = false;
  /** Sessions followed in rawCalls mode, ever (a check per frame is skipped while none). */
  private rawSessions = 0;
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

  /** Lets the process exit while this connection is open (a client living inside the target: the fleet member). */
  unref(): void {
    this.socket.unref();
  }

  /** Opens the socket; connect() does the checks and the handshake. */
  static open(pid: number, path: string, timeoutMs: number): Promise<AgentConnection> {
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
        resolve(new AgentConnection(pid, path, socket));
      });
    });
  }

  /** True once the connection is closed. */
  get closed(): boolean {
    return this.isClosed;
  }

  /** The ClientSession of a trace or claim reply. */
  sessionOf(reply: ReplyFor['trace']): ClientSession {
    // Not looked up by id: a short session may have ended, and been forgotten, already.
    return this.followed.get(reply) ?? this.follow(reply);
  }

  /**
   * Registers the session of a trace or claim reply. dispatch() calls it as the reply
   * arrives, before the frames that follow it in the same chunk (the session's first
   * records) are dispatched, so none of them is lost.
   */
  private follow(reply: ReplyFor['trace'], rawCalls = false): ClientSession {
    const session = new ClientSession(
      {
        add: (id, more) => this.request('add', { session: id, patterns: more }).then((r): AddedRecord => r.added),
        stop: (id) => this.request('stop', { session: id }).then((r): SessionStats => r.stats),
        stats: (id) => this.request('stats', { session: id }).then((r) => r.sessions[0]?.stats ?? missingStats(id)),
        consumed: () => this.flowControl(),
      },
      reply.started,
      rawCalls,
    );
    if (rawCalls) this.rawSessions++;
    this.sessions.set(reply.session, session);
    this.followed.set(reply, session);
    return session;
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

  /**
   * Sends a request; resolves with its reply, rejects with the agent's error or LT_AGENT_GONE.
   * `rawCalls` (trace and claim): the session's call records are kept as the agent's text (raw-records.ts).
   */
  request<O extends Op>(op: O, fields: object, rawCalls = false): Promise<ReplyFor[O]> {
    if (this.isClosed || this.closedByUs) return Promise.reject(this.goneError());
    const id = this.nextId++;
    return new Promise<ReplyFor[O]>((resolve, reject) => {
      const pending: Pending = { op, resolve: resolve as (reply: unknown) => void, reject, rawCalls };
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
      let value: unknown;
      try {
        const line = this.decoder.nextLine();
        if (line === undefined) break;
        // A call record of a session followed in rawCalls mode is kept as bytes (raw-records.ts).
        if (this.rawSessions > 0 && this.receiveRaw(line)) continue;
        value = this.decoder.parse(line.toString('utf8'));
      } catch (error) {
        this.closeError ??= toLivetraceError(error);
        this.socket.destroy();
        return;
      }
      this.dispatch(value as AgentFrame);
    }
    this.flowControl();
  }

  /** A call record for a rawCalls session, kept as its bytes (a view of the chunk); false for any other frame. */
  private receiveRaw(line: Buffer): boolean {
    const raw = rawCallBytes(line);
    if (raw === undefined) return false;
    const session = this.sessions.get(raw.session);
    if (session === undefined || !session.rawCalls) return false;
    session.receive(rawCallRecordBytes(raw.session, session.pid, line.subarray(raw.start, raw.end)));
    return true;
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
    if (pending.parts && 'modules' in frame) frame.modules = joinPieces([...pending.parts, ...frame.modules]);
    if ((pending.op === 'trace' || pending.op === 'claim') && 'started' in frame) this.follow(frame, pending.rawCalls);
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

function missingStats(session: string): never {
  throw new LivetraceError('LT_SESSION_UNKNOWN', `no stats for session ${session}`, { input: session });
}

/**
 * The agent cuts a module too large for one frame into consecutive pieces with its name:
 * join them. Copies of one module (one package installed twice) also come one after the
 * other with one name, but each with its own file: those stay apart.
 */
function joinPieces(modules: ModuleListing[]): ModuleListing[] {
  const out: ModuleListing[] = [];
  for (const listing of modules) {
    const last = out.at(-1);
    if (last !== undefined && last.module === listing.module && last.kind === listing.kind && last.file === listing.file) {
      out[out.length - 1] = { ...last, functions: [...last.functions, ...listing.functions] };
    } else {
      out.push(listing);
    }
  }
  return out;
}
