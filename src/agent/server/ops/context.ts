/**
 * What an op handler may do to the connection it serves. The connection (connection.ts)
 * owns the socket, the handshake state and the sessions; handlers see only this, so a
 * handler cannot reach another connection's sessions or bypass the writer's limits.
 */
import type { LivetraceError } from '../../../protocol/errors.js';
import type { RequestId } from '../../../protocol/messages.js';
import type { Session } from '../../session/session.js';

/** A session a connection started, with the patterns it was given (start and add). */
export interface OwnedSession {
  session: Session;
  patterns: string[];
}

export interface OpContext {
  /** Sends a reply; one that cannot be encoded goes out as an error reply for its id. */
  reply(reply: object): void;
  /** Sends a frame ahead of the reply (a listing's parts); throws when it cannot be encoded. */
  write(frame: object): void;
  /** The handshake succeeded: the connection serves every op from now on. */
  greet(): void;
  /** Sends a last error and closes the connection: the peer broke the protocol. */
  refuse(error: LivetraceError, id: RequestId | null): void;
  /** Makes a new session this connection's: replies with its started record, then streams it. */
  adopt(id: RequestId, session: Session): void;
  /** A session this connection started; LT_SESSION_UNKNOWN for any other id. */
  owned(id: string): OwnedSession;
  /** Runs `callback` once when the connection closes (observer sampling stops then). */
  onClose(callback: () => void): void;
  /** Every session this connection started and still streams. */
  ownedSessions(): OwnedSession[];
}
