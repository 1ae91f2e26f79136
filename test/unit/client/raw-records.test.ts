/**
 * Call records kept as the agent's text (src/client/raw-records.ts): told by the frame's
 * prefix, and printed by --format json exactly as a parsed record would be.
 */
import { describe, expect, it } from 'vitest';
import { rawCallBytes, rawCallFrame, rawCallRecord, rawCallRecordBytes, rawRecordBytes, rawRecordText } from '../../../src/client/raw-records.js';
import { encodeFrame } from '../../../src/protocol/frame.js';
import { formatJsonRecord } from '../../../src/cli/format/json.js';
import type { SessionRecord } from '../../../src/protocol/events.js';
import { call } from '../cli/format/records.js';

// Strings the agent's JSON text must carry exactly as JSON.stringify writes them: quotes,
// a line separator, a lone surrogate, a brace; -0 and an exponent.
const record = call({ id: 7, args: [{ t: 'string', v: 'é "quoted" \u2028 \ud800 }' } as never, -0, 1e21], durationNs: 1234 });

describe('raw call records', () => {
  it("takes a call record's text out of the agent's frame: the text JSON.stringify gives the parsed record", () => {
    const frame = encodeFrame({ type: 'record', session: record.session, record });
    const raw = rawCallFrame(frame)!;
    expect(raw.session).toBe('4242-1');
    expect(raw.text).toBe(JSON.stringify(JSON.parse(frame).record));
    const stub = rawCallRecord(raw.session, 4242, raw.text);
    expect(stub).toMatchObject({ v: 1, type: 'call', session: '4242-1', pid: 4242 });
    expect(rawRecordText(stub)).toBe(raw.text);
    expect(formatJsonRecord(stub)).toBe(formatJsonRecord(JSON.parse(frame).record as SessionRecord));
  });

  it("finds a call record's bytes in the frame's bytes, as rawCallFrame finds its text", () => {
    const frame = encodeFrame({ type: 'record', session: record.session, record });
    const line = Buffer.from(frame);
    const raw = rawCallBytes(line)!;
    expect(raw.session).toBe('4242-1');
    const bytes = line.subarray(raw.start, raw.end);
    expect(bytes.toString('utf8')).toBe(rawCallFrame(frame)!.text);
    const stub = rawCallRecordBytes(raw.session, 4242, bytes);
    expect(stub).toMatchObject({ v: 1, type: 'call', session: '4242-1', pid: 4242 });
    expect(rawRecordBytes(stub)).toBe(bytes);
    expect(rawRecordText(stub)).toBe(rawCallFrame(frame)!.text);
    expect(formatJsonRecord(stub)).toBe(formatJsonRecord(JSON.parse(frame).record as SessionRecord));
    expect(rawRecordBytes(rawCallRecord('s', 1, '{}'))).toBeUndefined();
    // Every frame rawCallFrame leaves to be parsed, rawCallBytes does too.
    for (const other of [
      encodeFrame({ type: 'record', session: '4242-1', record: { v: 1, type: 'stopped', session: '4242-1', pid: 4242 } }),
      encodeFrame({ id: 1, ok: true, started: record }),
      '{"type":"record","session":"4242-1","record":{"v":1,"type":"call",',
      '{"type":"record","session":"4242-1',
      '{"type":"record","session":"4242-1","record":{"v":1,"type":"call"}',
    ]) {
      expect(rawCallFrame(other), other).toBeUndefined();
      expect(rawCallBytes(Buffer.from(other)), other).toBeUndefined();
    }
  });

  it('leaves every other frame to be parsed', () => {
    const stopped = { v: 1, type: 'stopped', session: '4242-1', pid: 4242 };
    expect(rawCallFrame(encodeFrame({ type: 'record', session: '4242-1', record: stopped }))).toBeUndefined();
    expect(rawCallFrame(encodeFrame({ id: 1, ok: true, started: record }))).toBeUndefined();
    expect(rawCallFrame('{"type":"record","session":"4242-1","record":{"v":1,"type":"call",')).toBeUndefined();
    expect(rawRecordText(record)).toBeUndefined();
  });
});
