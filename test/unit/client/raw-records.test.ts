/**
 * Call records kept as the agent's text (src/client/raw-records.ts): told by the frame's
 * prefix, and printed by --format json exactly as a parsed record would be.
 */
import { describe, expect, it } from 'vitest';
import { rawCallFrame, rawCallRecord, rawRecordText } from '../../../src/client/raw-records.js';
import { encodeFrame } from '../../../src/protocol/frame.js';
import { formatJsonRecord } from '../../../src/cli/format/json.js';
import type { CallEvent, SessionRecord } from '../../../src/protocol/events.js';

const call: CallEvent = {
  v: 1,
  type: 'call',
  session: '4242-1',
  id: 7,
  parent: null,
  depth: 0,
  fn: 'src/users.js:findUser',
  module: 'src/users.js',
  engine: 'exports',
  pid: 4242,
  thread: 0,
  ts: 1764155322345,
  args: [{ t: 'string', v: 'é "quoted" \u2028 \ud800 }' } as never, -0, 1e21],
  outcome: 'return',
  durationNs: 1234,
  truncated: false,
  value: null as never,
};

describe('raw call records', () => {
  it("takes a call record's text out of the agent's frame: the text JSON.stringify gives the parsed record", () => {
    const frame = encodeFrame({ type: 'record', session: call.session, record: call });
    const raw = rawCallFrame(frame)!;
    expect(raw.session).toBe('4242-1');
    expect(raw.text).toBe(JSON.stringify(JSON.parse(frame).record));
    const stub = rawCallRecord(raw.session, 4242, raw.text);
    expect(stub).toMatchObject({ v: 1, type: 'call', session: '4242-1', pid: 4242 });
    expect(rawRecordText(stub)).toBe(raw.text);
    expect(formatJsonRecord(stub)).toBe(formatJsonRecord(JSON.parse(frame).record as SessionRecord));
  });

  it('leaves every other frame to be parsed', () => {
    const stopped = { v: 1, type: 'stopped', session: '4242-1', pid: 4242 };
    expect(rawCallFrame(encodeFrame({ type: 'record', session: '4242-1', record: stopped }))).toBeUndefined();
    expect(rawCallFrame(encodeFrame({ id: 1, ok: true, started: call }))).toBeUndefined();
    expect(rawCallFrame('{"type":"record","session":"4242-1","record":{"v":1,"type":"call",')).toBeUndefined();
    expect(rawRecordText(call)).toBeUndefined();
  });
});
