/**
 * The agent's control socket: a Unix socket server inside the traced process that
 * speaks the protocol of docs/protocol.md to livetrace clients.
 *
 * It lives in someone else's process, so it is built to be harmless there:
 * - It never keeps the process alive: the server and every accepted socket are unref'd.
 *   The socket file is removed on close and from a process 'exit' listener; no signal
 *   handlers are installed, so exit behaviour is exactly the host's.
 * - It trusts only its own user: the directory must be private (socket-dir.ts) and the
 *   socket is chmod 0600. An unsafe directory is refused and logged, never thrown.
 * - Its memory is bounded whatever a client does. Frames are capped at 1 MiB
 *   (frame.ts); a request is read only while the replies before it drain, so a client
 *   that writes without reading is paused rather than buffered; records are taken from
 *   a session only while the socket drains, so a slow reader makes the session's own
 *   bounded queue drop and count instead of the agent growing.
 * - A bad client hurts only its own connection. Malformed JSON, an oversized frame, a
 *   peer that vanishes mid-frame: that connection is closed, the agent serves on.
 * - Sessions belong to the connection that started them: other connections cannot see,
 *   add to or stop them (hello reports only a count). When the connection closes for any
 *   reason, its sessions are stopped at once (reason 'client-gone') and their patches
 *   removed, so a killed CLI leaves nothing behind.
 */
import { chmodSync, lstatSync, unlinkSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { LivetraceError, toLivetraceError } from '../protocol/errors.js';
import type { SessionRecord, StopReason } from '../protocol/events.js';
import { FrameDecoder, FrameWriter, encodeFrame, type FrameSink } from '../protocol/frame.js';
import {
  LIVETRACE_VERSION,
  PROTOCOL_VERSION,
  errorReply,
  parseRequest,
  requestIdOf,
  type AddRequest,
  type AgentHello,
  type ClaimRequest,
  type DeeperRequest,
  type HelloRequest,
  type ListRequest,
  type ModuleListing,
  type Request,
  type RequestId,
  type SessionStatsEntry,
  type StatsRequest,
  type StopRequest,
  type TraceRequest,
} from '../protocol/messages.js';
import { socketDir as defaultSocketDir, socketPath } from '../protocol/socket-path.js';
import { prepareSocketDir } from '../protocol/socket-dir.js';
import { log } from './log.js';
import { compilePatterns } from '../pattern/index.js';
import type { ModuleRef } from '../pattern/match/matcher.js';
import { deeper } from './deeper/deeper.js';
import { listFunctions } from './catalog/registry.js';
import { claimRunSession } from './session/run-session.js';
import { activeSessions, engine, trace, type Session } from './session/session.js';

/** Records taken from a session per turn, so one busy session cannot starve the others. */
const TAKE_PER_TURN = 256;
/** Target size of one `part` frame of a listing. */
const PART_BYTES = 256 * 1024;
/** A connection closed for a protocol error gets this long to read the error before it is cut. */
const LINGER_MS = 1000;

export interface AgentServerOptions {
  /** Directory of the socket; defaults to socketDir() (LIVETRACE_SOCKET_DIR or the per-user runtime dir). */
  socketDir?: string;
}

/** This process as hello describes it. */
export function describeAgent(): AgentHello {
  return {
    version: LIVETRACE_VERSION,
    pid: process.pid,
    node: process.version,
    argv: [...process.argv],
    cwd: process.cwd(),
    uptimeMs: Math.round(process.uptime() * 1000),
    sessions: activeSessions().length,
  };
}

interface OwnedSession {
  session: Session;
  patterns: string[];
}

/** One client connection: its decoder, writer and sessions. */
class Connection {
  private readonly socket: Socket;
  private readonly decoder = new FrameDecoder();
  private readonly writer: FrameWriter;
  private readonly sessions = new Map<string, OwnedSession>();
  private greeted = false;
  /** True while frames wait for the writer to drain. */
  private waiting = false;
  private closing = false;
  private readonly onGone: (connection: Connection) => void;

  constructor(socket: Socket, onGone: (connection: Connection) => void) {
    this.socket = socket;
    this.onGone = onGone;
    this.writer = new FrameWriter(engineSink(socket));
    socket.unref();
    socket.on('data', (chunk: Buffer) =>
      asEngine(() => {
        this.decoder.push(chunk);
        this.pump();
      }),
    );
    socket.on('end', () => {
      if (this.decoder.pendingBytes > 0) log.debug({ bytes: this.decoder.pendingBytes }, 'client left mid-frame');
      this.teardown('client-gone');
    });
    socket.on('error', (error) => {
      log.debug({ err: error }, 'client socket error');
      this.teardown('client-gone');
    });
    socket.on('close', () => this.teardown('client-gone'));
  }

  /** Stops this connection's sessions and closes it; resolves when their patches are gone. */
  async close(reason: StopReason): Promise<void> {
    this.socket.destroy();
    await this.teardown(reason);
  }

  /** Handles buffered frames, one at a time, while replies drain. */
  private pump(): void {
    if (this.waiting) return;
    for (;;) {
      if (this.closing) return;
      let frame: { value: unknown } | undefined;
      try {
        frame = this.decoder.next();
      } catch (error) {
        this.refuseConnection(toLivetraceError(error), null);
        return;
      }
      if (frame === undefined) return;
      this.handle(frame.value);
      if (this.writer.congested) {
        this.waiting = true;
        this.socket.pause();
        void this.writer.whenWritable().then(() => {
          this.waiting = false;
          if (this.closing) return;
          this.socket.resume();
          this.pump();
        });
        return;
      }
    }
  }

  private handle(frame: unknown): void {
    let request: Request;
    try {
      request = parseRequest(frame);
      if (!this.greeted && request.op !== 'hello') {
        throw new LivetraceError('LT_PROTOCOL_HANDSHAKE', `the first request must be hello, not ${request.op}`);
      }
    } catch (error) {
      const lt = toLivetraceError(error);
      const id = requestIdOf(frame) ?? null;
      // Before the handshake nothing is known about the peer: any mistake ends the connection.
      if (lt.code === 'LT_PROTOCOL_MALFORMED' || !this.greeted) {
        this.refuseConnection(lt.code === 'LT_PROTOCOL_UNKNOWN_OP' ? handshakeError(lt) : lt, id);
      } else {
        this.reply(errorReply(id, lt));
      }
      return;
    }
    try {
      switch (request.op) {
        case 'hello':
          return this.hello(request);
        case 'list':
          return this.list(request);
        case 'trace':
          return this.trace(request);
        case 'add':
          return this.add(request);
        case 'stop':
          return void this.stop(request);
        case 'stats':
          return this.stats(request);
        case 'claim':
          return this.claim(request);
        case 'deeper':
          return this.deeper(request);
      }
    } catch (error) {
      const lt = toLivetraceError(error);
      if (lt.code === 'LT_INTERNAL') log.debug({ err: error, op: request.op }, 'request failed');
      this.reply(errorReply(request.id, lt));
    }
  }

  private hello(request: HelloRequest): void {
    if (request.protocol !== PROTOCOL_VERSION) {
      const error = new LivetraceError(
        'LT_PROTOCOL_VERSION',
        `the agent speaks protocol ${PROTOCOL_VERSION}, the client ${request.protocol}`,
        { input: request.protocol },
      );
      this.refuseConnection(error, request.id);
      return;
    }
    this.greeted = true;
    if (request.client) log.debug({ client: request.client }, 'client connected');
    this.reply({ id: request.id, ok: true, protocol: PROTOCOL_VERSION, agent: describeAgent() });
  }

  /** Long listings go out as `part` frames of about PART_BYTES, then the reply with the rest. */
  private list(request: ListRequest): void {
    const modules = listFunctions(request.pattern === undefined ? undefined : listingFilter(request.pattern));
    let part: ModuleListing[] = [];
    let partBytes = 0;
    for (const listing of modules) {
      const bytes = JSON.stringify(listing).length;
      if (part.length > 0 && partBytes + bytes > PART_BYTES) {
        this.writer.write({ type: 'part', id: request.id, modules: part });
        part = [];
        partBytes = 0;
      }
      part.push(listing);
      partBytes += bytes;
    }
    this.reply({ id: request.id, ok: true, modules: part });
  }

  private trace(request: TraceRequest): void {
    // Options are checked once, by the session (protocol/options.ts); the table bounds eventBytes to half a frame.
    this.adopt(request.id, trace(request.patterns, request.options));
  }

  /** `livetrace run`: the session the preload started waits for its CLI (run-session.ts). */
  private claim(request: ClaimRequest): void {
    this.adopt(request.id, claimRunSession(request.token));
  }

  private deeper(request: DeeperRequest): void {
    this.reply({ id: request.id, ok: true, results: deeper(request.fn) });
  }

  /** Makes a new session this connection's: replies with its started record, then streams it. */
  private adopt(id: RequestId, session: Session): void {
    const [started] = session.take(1);
    if (started?.type !== 'started') {
      void session.stop('error');
      throw new LivetraceError('LT_INTERNAL', `session ${session.id} did not begin with a started record`);
    }
    const owned: OwnedSession = { session, patterns: [...session.patterns] };
    try {
      encodeFrame({ id, ok: true, session: session.id, started });
    } catch (error) {
      // Only a huge `matched` list can do this (--force on a broad pattern): refuse the session.
      void session.stop('error');
      throw error;
    }
    this.sessions.set(session.id, owned);
    this.reply({ id, ok: true, session: session.id, started });
    void this.stream(owned);
  }

  private add(request: AddRequest): void {
    const owned = this.owned(request.session);
    const added = owned.session.add(request.patterns);
    owned.patterns.push(...request.patterns);
    this.reply({ id: request.id, ok: true, added });
  }

  private async stop(request: StopRequest): Promise<void> {
    try {
      const { session } = this.owned(request.session);
      await session.stop('user');
      this.reply({ id: request.id, ok: true, stats: session.stats });
    } catch (error) {
      this.reply(errorReply(request.id, toLivetraceError(error)));
    }
  }

  private stats(request: StatsRequest): void {
    const owned = request.session === undefined ? [...this.sessions.values()] : [this.owned(request.session)];
    const sessions: SessionStatsEntry[] = owned.map(({ session, patterns }) => ({
      session: session.id,
      patterns: [...patterns],
      stopped: session.stopped,
      stats: session.stats,
    }));
    this.reply({ id: request.id, ok: true, sessions });
  }

  private owned(id: string): OwnedSession {
    const owned = this.sessions.get(id);
    if (!owned) throw new LivetraceError('LT_SESSION_UNKNOWN', `no session ${id} on this connection`, { input: id });
    return owned;
  }

  /** Streams a session's records while the socket drains, until its 'stopped' record is sent. */
  private async stream(owned: OwnedSession): Promise<void> {
    const { session } = owned;
    try {
      for (;;) {
        await this.writer.whenWritable();
        if (this.closing) return;
        const records = asEngine(() => this.send(session));
        if (session.ended) return;
        if (records.length === 0) await session.readable();
      }
    } catch (error) {
      log.debug({ err: error, session: session.id }, 'session stream failed');
      await session.stop('error').catch(() => {});
    } finally {
      this.sessions.delete(session.id);
    }
  }

  /** Moves one turn's worth of records from the session to the writer. */
  private send(session: Session): SessionRecord[] {
    const records = session.take(TAKE_PER_TURN);
    for (const record of records) {
      try {
        this.writer.write({ type: 'record', session: session.id, record });
      } catch (error) {
        // Only a record past the frame limit lands here; eventBytes is capped so calls never do.
        log.debug({ err: error, session: session.id, type: record.type }, 'record not sent');
      }
    }
    return records;
  }

  private reply(reply: object): void {
    try {
      this.writer.write(reply);
    } catch (error) {
      const id = requestIdOf(reply) ?? null;
      this.writer.write(errorReply(id, toLivetraceError(error)));
    }
  }

  /** Sends a last error and closes: the peer broke the protocol. */
  private refuseConnection(error: LivetraceError, id: RequestId | null): void {
    if (this.closing) return;
    log.debug({ code: error.code, message: error.message }, 'closing connection');
    this.reply(errorReply(id, error));
    this.writer.flush();
    this.socket.end();
    setTimeout(() => this.socket.destroy(), LINGER_MS).unref();
    void this.teardown('error');
  }

  private teardownDone: Promise<void> | undefined;

  private teardown(reason: StopReason): Promise<void> {
    this.teardownDone ??= this.stopSessions(reason);
    return this.teardownDone;
  }

  private async stopSessions(reason: StopReason): Promise<void> {
    this.closing = true;
    const owned = [...this.sessions.values()];
    this.sessions.clear();
    await Promise.all(
      owned.map(async ({ session }) => {
        try {
          await session.stop(reason);
          // Nobody will read the rest: let the session finish so the engine can forget it.
          while (!session.ended && session.take(TAKE_PER_TURN).length > 0);
        } catch (error) {
          log.debug({ err: error, session: session.id }, 'stopping a session of a closed connection failed');
        }
      }),
    );
    this.onGone(this);
  }
}

/**
 * The agent's own work (parsing, encoding, socket writes) runs with `engine.busy` set, so
 * a pattern that matches what the agent itself calls (JSON.parse, net, stream internals)
 * does not report, and cannot feed back on, the agent's traffic.
 */
function asEngine<T>(work: () => T): T {
  engine.busy++;
  try {
    return work();
  } finally {
    engine.busy--;
  }
}

function engineSink(socket: Socket): FrameSink {
  return {
    write: (chunk, encoding) => asEngine(() => socket.write(chunk, encoding)),
    once: (event, listener) => socket.once(event, listener),
    removeListener: (event, listener) => socket.removeListener(event, listener),
    get destroyed() {
      return socket.destroyed;
    },
  };
}

/**
 * `ls` takes a pattern as `trace` does, or just a module glob ('src/users', 'node:fs'),
 * which lists all of that module's functions.
 */
function listingFilter(pattern: string): (ref: ModuleRef, path: string) => boolean {
  const full = /^(node:)?[^:]*$/.test(pattern.trim()) ? `${pattern.trim()}:*` : pattern;
  const [matcher] = compilePatterns([full]);
  if (!matcher) return () => false;
  return (ref, path) => matcher.matchModule(ref) && matcher.matchFunction(path);
}

function handshakeError(cause: LivetraceError): LivetraceError {
  return new LivetraceError('LT_PROTOCOL_HANDSHAKE', `the first request must be hello: ${cause.message}`, { cause });
}

/** The listening control socket of this process. */
export class AgentServer {
  readonly path: string;
  private readonly server: Server;
  private readonly connections = new Set<Connection>();
  /** Identity of the socket file we created, so we never remove someone else's. */
  private inode: number | undefined;
  private closed: Promise<void> | undefined;

  private constructor(path: string, server: Server) {
    this.path = path;
    this.server = server;
  }

  /**
   * Prepares the directory and listens. Rejects with LT_SOCKET_DIR_UNSAFE or
   * LT_SOCKET_LISTEN_FAILED; the caller logs, the host never sees it.
   */
  static listen(options: AgentServerOptions = {}): Promise<AgentServer> {
    const dir = options.socketDir ?? defaultSocketDir();
    const path = socketPath(process.pid, { ...process.env, LIVETRACE_SOCKET_DIR: dir });
    try {
      prepareSocketDir(dir);
      removeStale(path);
    } catch (error) {
      return Promise.reject(toLivetraceError(error));
    }
    const server = createServer();
    const agent = new AgentServer(path, server);
    server.unref();
    server.on('connection', (socket) => agent.accept(socket));
    return new Promise((resolve, reject) => {
      const failed = (error: Error): void => {
        reject(
          new LivetraceError('LT_SOCKET_LISTEN_FAILED', `cannot listen on ${path}: ${error.message}`, {
            input: path,
            cause: error,
          }),
        );
      };
      server.once('error', failed);
      server.listen(path, () => {
        server.removeListener('error', failed);
        server.on('error', (error) => log.debug({ err: error }, 'control socket error'));
        try {
          chmodSync(path, 0o600);
          agent.inode = lstatSync(path).ino;
        } catch (error) {
          server.close();
          failed(error as Error);
          return;
        }
        process.on('exit', agent.removeSocketFile);
        log.debug({ path }, 'agent listening');
        resolve(agent);
      });
    });
  }

  /** Open client connections. */
  get connectionCount(): number {
    return this.connections.size;
  }

  /** Stops listening, closes every connection (stopping its sessions) and removes the socket file. */
  close(): Promise<void> {
    this.closed ??= (async () => {
      this.server.close();
      this.removeSocketFile();
      process.removeListener('exit', this.removeSocketFile);
      await Promise.all([...this.connections].map((connection) => connection.close('user')));
    })();
    return this.closed;
  }

  private accept(socket: Socket): void {
    if (this.closed) {
      socket.destroy();
      return;
    }
    this.connections.add(new Connection(socket, (connection) => this.connections.delete(connection)));
  }

  private readonly removeSocketFile = (): void => {
    try {
      if (this.inode !== undefined && lstatSync(this.path).ino === this.inode) unlinkSync(this.path);
    } catch {
      // Already gone.
    }
    this.inode = undefined;
  };
}

/** A file at our own pid's path can only be left over from an earlier process with this pid. */
function removeStale(path: string): void {
  let isDirectory: boolean;
  try {
    isDirectory = lstatSync(path).isDirectory();
  } catch {
    return;
  }
  if (isDirectory) {
    throw new LivetraceError('LT_SOCKET_LISTEN_FAILED', `${path} is a directory`, { input: path });
  }
  try {
    unlinkSync(path);
    log.debug({ path }, 'removed stale socket');
  } catch (error) {
    throw new LivetraceError('LT_SOCKET_LISTEN_FAILED', `cannot remove stale ${path}: ${(error as Error).message}`, {
      input: path,
      cause: error,
    });
  }
}
