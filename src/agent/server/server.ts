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
 * - Its descriptors and time are bounded too (limits.ts): at most MAX_CONNECTIONS open
 *   connections (one more gets LT_AGENT_BUSY and is closed at once), and a peer that has
 *   not said hello within HELLO_DEADLINE_MS is closed, so idle connections cannot exhaust
 *   the host's file descriptors.
 * - A bad client hurts only its own connection. Malformed JSON, an oversized frame, a
 *   peer that vanishes mid-frame: that connection is closed, the agent serves on.
 * - Sessions belong to the connection that started them: other connections cannot see,
 *   add to or stop them (hello reports only a count). When the connection closes for any
 *   reason, its sessions are stopped at once (reason 'client-gone') and their patches
 *   removed, so a killed CLI leaves nothing behind.
 *
 * This module listens and owns the socket file; connection.ts serves one client (framing,
 * handshake, backpressure), stream.ts moves a session's records to it, ops/ answers each op.
 */
import { chmodSync, lstatSync, unlinkSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { LivetraceError, toLivetraceError } from '../../protocol/errors.js';
import { socketDir as defaultSocketDir, socketPath } from '../../protocol/socket-path.js';
import { prepareSocketDir } from '../../protocol/socket-dir.js';
import { encodeFrame } from '../../protocol/frame.js';
import { errorReply } from '../../protocol/messages.js';
import { MAX_CONNECTIONS } from '../limits.js';
import { log } from '../log.js';
import { SetPrototypeAdd, SetPrototypeDelete } from '../../safe/intrinsics.js';
import { Connection } from './connection.js';
import { shielded } from './engine-work.js';

export interface AgentServerOptions {
  /** Directory of the socket; defaults to socketDir() (LIVETRACE_SOCKET_DIR or the per-user runtime dir). */
  socketDir?: string;
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
    server.on(
      'connection',
      shielded('accepting a connection', (socket: Socket) => agent.accept(socket)),
    );
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
    if (this.connections.size >= MAX_CONNECTIONS) {
      // Each connection holds a descriptor of the host's: past the cap, say why and let go at once.
      socket.unref();
      socket.on('error', () => {});
      const busy = new LivetraceError('LT_AGENT_BUSY', `the agent already serves ${MAX_CONNECTIONS} connections`, { input: MAX_CONNECTIONS });
      // Destroyed as soon as the frame is in the kernel's buffer (the peer still reads it): a
      // burst of refused peers must not pile up descriptors while they linger.
      socket.write(encodeFrame(errorReply(null, busy)) + '\n', () => socket.destroy());
      return;
    }
    SetPrototypeAdd(this.connections, new Connection(socket, (connection) => SetPrototypeDelete(this.connections, connection)));
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
