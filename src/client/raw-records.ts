/**
 * Call records kept as the agent's JSON text (the client's `rawCalls` mode, for
 * `livetrace trace --format json`).
 *
 * A call record the CLI prints as JSON needs nothing but its text: parsing every one
 * (JSON.parse) and encoding it again (JSON.stringify) was most of the CLI's time when
 * streaming (some 3 us an event of a core here, against the 5 us that 200,000 events a
 * second leave). The agent writes a record frame as `{"type":"record","session":"<id>",
 * "record":<the record>}` with the record's header first (`{"v":1,"type":"call",...`,
 * protocol/events.ts field order), so a call record is told by its frame's prefix, and its
 * text is the frame's without the wrapper: exactly the JSON.stringify of the parsed
 * record, since the agent's text is JSON.stringify's own. What the session gets instead
 * of the parsed record is a stub with the fields a follower counts by (v, type, session,
 * pid), from which rawRecordText() gives the text back.
 */
import type { CallEvent } from '../protocol/events.js';

/** Where a stub holds its text: a symbol-keyed property (a WeakMap entry per event cost more than the rest of the record's way through). */
const TEXT = Symbol('livetrace.rawText');

const FRAME_PREFIX = '{"type":"record","session":"';
const RECORD_KEY = '","record":';
const CALL_HEADER = '{"v":1,"type":"call",';

/** The session id and the record's text of a frame carrying a call record; undefined for any other frame. */
export function rawCallFrame(line: string): { session: string; text: string } | undefined {
  if (!line.startsWith(FRAME_PREFIX) || line.charCodeAt(line.length - 1) !== 0x7d /* } */) return undefined;
  const end = line.indexOf('"', FRAME_PREFIX.length);
  if (end === -1 || !line.startsWith(RECORD_KEY, end)) return undefined;
  const start = end + RECORD_KEY.length;
  if (!line.startsWith(CALL_HEADER, start)) return undefined;
  return { session: line.slice(FRAME_PREFIX.length, end), text: line.slice(start, -1) };
}

/** The stub a raw call record is followed as. */
export function rawCallRecord(session: string, pid: number, text: string): CallEvent {
  return { v: 1, type: 'call', session, pid, [TEXT]: text } as unknown as CallEvent;
}

/** The agent's JSON text of a record received in rawCalls mode, or undefined for a parsed one. */
export function rawRecordText(record: object): string | undefined {
  return (record as { [TEXT]?: string })[TEXT];
}
