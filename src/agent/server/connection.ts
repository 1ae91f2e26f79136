/**
 * One client connection: its frames, its handshake, its sessions.
 *
 * A request is read only while the replies before it drain, so a client that writes
 * without reading is paused rather than buffered. Until hello succeeds any mistake ends
 * the connection; after it, a bad request gets an error reply and the connection serves
 * on, except for malformed frames, which end it. What each op does is in ops/; this
 * module decides only whether and when a request reaches it.
 */
import type { Socket } from 'node:net';
import { LivetraceError, toLivetraceError } from '../../protocol/errors.js';
import type { StopReason } from '../../protocol/events.js';
import { FrameDecoder, FrameWriter, encodeFrame } from '../../protocol/frame.js';
import { errorReply, parseRequest, requestIdOf, type Request, type RequestId } from '../../protocol/messages.js';
import { HELLO_DEADLINE_MS } from '../limits.js';
import { log } from '../log.js';
import type { Session } from '../session/session.js';
import { engineSink, shielded, shieldedError } from './engine-work.js';
import { MapPrototypeDelete, ArrayPrototypePush } from '../../safe/intrinsics.js';
import type { OpContext, OwnedSession } from './ops/context.js';
import { runOp } from './ops/dispatch.js';
import { discardUnread, streamSession } from './stream.js';

/** A connection closed for a protocol error gets this long to read the error before it is cut. */
const LINGER_MS = 1000;

export class Connection implements OpContext {
  private readonly socket: Socket;
  private readonly decoder = new FrameDecoder();
  private readonly writer: FrameWriter;
  private readonly sessions = new Map<string, OwnedSession>();
  private greeted = false;
  private readonly closeCallbacks: (() => void)[] = [];
  /** True while frames wait for the writer to drain. */
  private waiting = false;
  private closing = false;
  private readonly onGone: (connection: Connection) => void;
  /** Closes a peer that stays silent: it would hold one of the host's descriptors for nothing. */
  private helloTimer: NodeJS.Timeout | undefined;

  constructor(socket: Socket, onGone: (connection: Connection) => void) {
    this.socket = socket;
    this.onGone = onGone;
    this.helloTimer = setTimeout(() => {
      this.helloTimer = undefined;
      if (this.greeted) return;
      const late = new LivetraceError('LT_PROTOCOL_HANDSHAKE', `no hello within ${HELLO_DEADLINE_MS} ms`, { input: HELLO_DEADLINE_MS });
      this.refuse(late, null);
    }, HELLO_DEADLINE_MS);
    this.helloTimer.unref();
    this.writer = new FrameWriter(engineSink(socket));
    socket.unref();
    // Every handler runs on the application's event loop: shielded (engine-work.ts).
    socket.on(
      'data',
      shielded('reading a request', (chunk: Buffer) => {
        this.decoder.push(chunk);
        this.pump();
      }),
    );
    socket.on(
      'end',
      shielded('closing a connection', () => {
        if (this.decoder.pendingBytes > 0) log.debug({ bytes: this.decoder.pendingBytes }, 'client left mid-frame');
        return this.teardown('client-gone');
      }),
    );
    socket.on(
      'error',
      shielded('closing a connection', (error: Error) => {
        log.debug({ err: error }, 'client socket error');
        return this.teardown('client-gone');
      }),
    );
    socket.on(
      'close',
      shielded('closing a connection', () => this.teardown('client-gone')),
    );
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
        this.refuse(toLivetraceError(error), null);
        return;
      }
      if (frame === undefined) return;
      this.handle(frame.value);
      if (this.writer.congested) {
        this.waiting = true;
        this.socket.pause();
        void this.writer.whenWritable().then(
          shielded('reading a request', () => {
            this.waiting = false;
            if (this.closing) return;
            this.socket.resume();
            this.pump();
          }),
        );
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
        this.refuse(lt.code === 'LT_PROTOCOL_UNKNOWN_OP' ? handshakeError(lt) : lt, id);
      } else {
        this.reply(errorReply(id, lt));
      }
      return;
    }
    try {
      runOp(this, request);
    } catch (error) {
      const lt = toLivetraceError(error);
      if (lt.code === 'LT_INTERNAL') log.debug({ err: error, op: request.op }, 'request failed');
      this.reply(errorReply(request.id, lt));
    }
  }

  greet(): void {
    this.greeted = true;
    this.clearHelloTimer();
  }

  private clearHelloTimer(): void {
    if (this.helloTimer !== undefined) clearTimeout(this.helloTimer);
    this.helloTimer = undefined;
  }

  adopt(id: RequestId, session: Session): void {
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

  owned(id: string): OwnedSession {
    const owned = this.sessions.get(id);
    if (!owned) throw new LivetraceError('LT_SESSION_UNKNOWN', `no session ${id} on this connection`, { input: id });
    return owned;
  }

  onClose(callback: () => void): void {
    if (this.closing) callback();
    else ArrayPrototypePush(this.closeCallbacks, callback);
  }

  ownedSessions(): OwnedSession[] {
    return [...this.sessions.values()];
  }

  private async stream({ session }: OwnedSession): Promise<void> {
    try {
      await streamSession(session, this.writer, () => this.closing);
    } finally {
      MapPrototypeDelete(this.sessions, session.id);
    }
  }

  write(frame: object): void {
    this.writer.write(frame);
  }

  reply(reply: object): void {
    try {
      this.writer.write(reply);
    } catch (error) {
      const id = requestIdOf(reply) ?? null;
      this.writer.write(errorReply(id, toLivetraceError(error)));
    }
  }

  refuse(error: LivetraceError, id: RequestId | null): void {
    if (this.closing) return;
    log.debug({ code: error.code, message: error.message }, 'closing connection');
    this.reply(errorReply(id, error));
    this.writer.flush();
    this.socket.end();
    setTimeout(
      shielded('closing a connection', () => this.socket.destroy()),
      LINGER_MS,
    ).unref();
    void this.teardown('error');
  }

  private teardownDone: Promise<void> | undefined;

  private teardown(reason: StopReason): Promise<void> {
    // Never rejects: a rejection here would be the application's unhandled rejection.
    this.teardownDone ??= this.stopSessions(reason).catch((error: unknown) => shieldedError('closing a connection', error));
    return this.teardownDone;
  }

  private async stopSessions(reason: StopReason): Promise<void> {
    this.closing = true;
    this.clearHelloTimer();
    for (const callback of this.closeCallbacks.splice(0)) {
      try {
        callback();
      } catch (error) {
        log.debug({ err: error }, 'a close callback failed');
      }
    }
    const owned = [...this.sessions.values()];
    this.sessions.clear();
    await Promise.all(
      owned.map(async ({ session }) => {
        try {
          await session.stop(reason);
          discardUnread(session);
        } catch (error) {
          log.debug({ err: error, session: session.id }, 'stopping a session of a closed connection failed');
        }
      }),
    );
    this.onGone(this);
  }
}

function handshakeError(cause: LivetraceError): LivetraceError {
  return new LivetraceError('LT_PROTOCOL_HANDSHAKE', `the first request must be hello: ${cause.message}`, { cause });
}
