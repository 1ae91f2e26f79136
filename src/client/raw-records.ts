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
/** Where a stub made from bytes holds them (its text is decoded from them when asked for). */
const BYTES = Symbol('livetrace.rawBytes');

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

/**
 * rawCallFrame on a frame's bytes (FrameDecoder.nextLine), without decoding them: the
 * session id and where the record's bytes are in `line`; undefined for any other frame.
 * Streaming to `--format json`, the CLI then copies those bytes to its output, and no
 * string is made of the frame at all (a string of each line, two slices and their
 * re-encoding for the write were a good part of the CLI's time per event).
 */
export function rawCallBytes(line: Uint8Array): { session: string; start: number; end: number } | undefined {
  const n = line.length;
  if (n < FRAME_PREFIX.length + RECORD_KEY.length + CALL_HEADER.length + 2 || line[n - 1] !== 0x7d /* } */) return undefined;
  if (!bytesAre(line, 0, FRAME_PREFIX)) return undefined;
  let end = FRAME_PREFIX.length;
  while (end < n && line[end] !== 0x22 /* " */) end++;
  if (end === n || !bytesAre(line, end, RECORD_KEY)) return undefined;
  const start = end + RECORD_KEY.length;
  if (!bytesAre(line, start, CALL_HEADER)) return undefined;
  let session = '';
  for (let i = FRAME_PREFIX.length; i < end; i++) session += String.fromCharCode(line[i]!);
  return { session, start, end: n - 1 };
}

/** `line` holds the ASCII text `ascii` at `at`. */
function bytesAre(line: Uint8Array, at: number, ascii: string): boolean {
  if (at + ascii.length > line.length) return false;
  for (let i = 0; i < ascii.length; i++) if (line[at + i] !== ascii.charCodeAt(i)) return false;
  return true;
}

/** The stub of a raw call record received as bytes (a view of the record's JSON, rawCallBytes). */
export function rawCallRecordBytes(session: string, pid: number, bytes: Uint8Array): CallEvent {
  return { v: 1, type: 'call', session, pid, [BYTES]: bytes } as unknown as CallEvent;
}

/** The agent's JSON text of a record received in rawCalls mode, or undefined for a parsed one. */
export function rawRecordText(record: object): string | undefined {
  const raw = record as { [TEXT]?: string; [BYTES]?: Uint8Array };
  const text = raw[TEXT];
  if (text !== undefined) return text;
  const bytes = raw[BYTES];
  return bytes === undefined ? undefined : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString('utf8');
}

/** The agent's JSON bytes (UTF-8) of a record received in rawCalls mode as bytes, else undefined. */
export function rawRecordBytes(record: object): Uint8Array | undefined {
  return (record as { [BYTES]?: Uint8Array })[BYTES];
}
