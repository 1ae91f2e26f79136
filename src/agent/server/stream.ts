/**
 * Records leave a session only while the socket drains: a slow reader makes the
 * session's own bounded queue drop and count instead of the agent growing. Each turn
 * takes at most TAKE_PER_TURN records, so one busy session cannot starve the others.
 */
import type { FrameWriter } from '../../protocol/frame.js';
import { recordText } from '../../protocol/record-text.js';
import type { SessionRecord } from '../../protocol/events.js';
import { log } from '../log.js';
import type { Session } from '../session/session.js';
import { asEngine } from './engine-work.js';

/** Records taken from a session per turn, so one busy session cannot starve the others. */
const TAKE_PER_TURN = 256;

/**
 * Streams a session's records while the socket drains, until its 'stopped' record is sent
 * or `closing()` says the connection is going. A failure stops the session (reason 'error').
 */
export async function streamSession(session: Session, writer: FrameWriter, closing: () => boolean): Promise<void> {
  try {
    for (;;) {
      await writer.whenWritable();
      if (closing()) return;
      const records = asEngine(() => send(session, writer));
      if (session.ended) return;
      if (records.length === 0) await session.readable();
    }
  } catch (error) {
    log.debug({ err: error, session: session.id }, 'session stream failed');
    await session.stop('error').catch(() => {});
  }
}

/** Moves one turn's worth of records from the session to the writer. */
function send(session: Session, writer: FrameWriter): SessionRecord[] {
  const records = session.take(TAKE_PER_TURN);
  // The frame is `{"type":"record","session":<id>,"record":<record>}`, JSON.stringify's text
  // of that object, with the record's text written by hand (record-text.ts: encoding was
  // the largest part of a streaming target's CPU).
  const prefix = '{"type":"record","session":' + JSON.stringify(session.id) + ',"record":';
  for (const record of records) {
    try {
      writer.writeText(prefix + recordText(record) + '}');
    } catch (error) {
      // Only a record past the frame limit lands here; eventBytes is capped so calls never do.
      log.debug({ err: error, session: session.id, type: record.type }, 'record not sent');
    }
  }
  return records;
}

/** Nobody will read the rest of a stopped session: let it finish so the engine can forget it. */
export function discardUnread(session: Session): void {
  while (!session.ended && session.take(TAKE_PER_TURN).length > 0);
}
